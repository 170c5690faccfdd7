"""The command line. The only module that parses argv, prints for humans and exits.

Imports are deferred into the commands so ``syndicate --help`` stays instant and never
loads argostranslate, ctranslate2 or torch.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndicate.config import Settings
    from syndicate.errors import SyndicateError
    from syndicate.models import RunReport

logger = logging.getLogger("syndicate")

EXIT_OK = 0
EXIT_PARTIAL = 1  # the run finished, but some items, sources or languages failed
EXIT_CONFIG = 2  # bad configuration or usage: nothing was done
EXIT_ERROR = 3  # a fatal error (the store cannot be opened, a model cannot be installed)

#: Read when no --config is given (relative to the working directory).
DEFAULT_CONFIG = Path("config.toml")


def _common_options(*, defaults: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name.

    Only the top-level parser sets defaults: a subcommand's own default would overwrite
    what was given before it (``syndicate --config X once`` would read ./config.toml).
    """
    default = argparse.SUPPRESS
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        "-c",
        type=Path,
        default=None if defaults else default,
        metavar="PATH",
        help=f"configuration file (default: ./{DEFAULT_CONFIG})",
    )
    common.add_argument(
        "--verbose", "-v", action="count", default=0 if defaults else default, help="more log output (-vv for debug)"
    )
    common.add_argument(
        "--quiet", "-q", action="store_true", default=False if defaults else default, help="only warnings and errors"
    )
    return common


def _parser() -> argparse.ArgumentParser:
    top = _common_options(defaults=True)
    common = _common_options(defaults=False)

    parser = argparse.ArgumentParser(
        prog="syndicate",
        description="Pull articles, translate them offline (Argos Translate, Apertium) and publish "
        "per-language RSS 2.0 and Atom feeds and translated pages.",
        parents=[top],
        epilog="Exit status: 0 all went well; 1 the run finished but some items or languages failed; "
        "2 bad configuration or usage; 3 fatal error.",
    )
    from syndicate import __version__

    parser.add_argument(
        "--version", action="version", version=f"syndicate {__version__}", help="print the version and exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    once = sub.add_parser(
        "once",
        parents=[common],
        help="one pass: pull, extract, translate, publish",
        description="Pull every source once, translate what is new into every configured language, "
        "and rewrite the feeds and pages (files whose content did not change are left untouched).",
    )
    once.add_argument(
        "--reinitialise",
        action="store_true",
        help="publish although the store has no record of the history on disk (it was emptied or "
        "replaced): the feeds start over",
    )
    once.set_defaults(func=cmd_once)

    run = sub.add_parser(
        "run",
        parents=[common],
        help="poll every source on its schedule until stopped",
        description="Start the scheduler in the foreground: each source is polled on its own interval "
        "or cron schedule, and feeds and pages are republished after a poll that changed something. "
        "SIGTERM or Ctrl-C finishes the item in hand, records the state and exits 0. "
        "One `syndicate run` per state directory.",
    )
    run.add_argument(
        "--serve",
        action="store_true",
        help="also serve the feeds, pages, /status and /metrics over HTTP in this process ([serve] in the config)",
    )
    _serve_options(run)
    run.add_argument(
        "--role",
        choices=("all", "scheduler", "worker"),
        default="all",
        help="all (default): this one process polls, translates and publishes; scheduler: enqueue each "
        "source's polls on the [cluster] broker (RedBeat); worker: run the poll, translate and publish tasks",
    )
    run.add_argument(
        "--languages",
        metavar="LANGS",
        help="--role worker: serve the translate.<lang> queues of these languages, comma-separated "
        "(default: every configured one)",
    )
    run.add_argument(
        "--queues",
        metavar="QUEUES",
        help="--role worker: consume these queues, comma-separated: poll, publish, translate (the "
        "--languages' queues) or translate.<lang> (default: poll, the --languages' queues, publish)",
    )
    run.add_argument(
        "--reinitialise",
        action="store_true",
        help="start although the store has no record of the history on disk (see once --reinitialise)",
    )
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="serve the published feeds and pages over HTTP, with /status and /metrics",
        description="Serve feeds/ and translations/ at the paths site.base_url gives them, with validators, "
        "compression and cache headers; /status, /status.json and /metrics for operators (loopback, or "
        "[serve] status_token); /healthz and /readyz. Runs until SIGTERM or Ctrl-C.",
    )
    _serve_options(serve)
    serve.set_defaults(func=cmd_serve)

    status = sub.add_parser(
        "status",
        parents=[common],
        help="show each source's last poll, outcome and next poll",
        description="Per source: last poll, outcome, items new/updated/failed, next poll and last error, "
        "and whether a `syndicate run` holds the state directory. Exit status 1 when a source's last poll failed.",
    )
    status.set_defaults(func=cmd_status)

    stats = sub.add_parser(
        "stats",
        parents=[common],
        help="translation totals per language and engine",
        description="Segments translated, translation-memory hits, quality-guard failures, unknown words "
        "and what the checks found, per target language and engine over every run so far; then per "
        "language the stored machine translations' mean confidence and how many are under the threshold.",
    )
    stats.set_defaults(func=cmd_stats)

    retranslate = sub.add_parser(
        "retranslate",
        parents=[common],
        help="translate stored articles again with today's engines and rules",
        description="Translate the chosen articles again, engines included (what the translation memory "
        "holds for their sentences is replaced), and republish them: pages and feeds whose text changes get "
        "a new `updated` date; full archive pages stay as they are. Changes of the glossary, keep_verbatim, "
        "name protection or an engine's version are found and redone by every run on their own; this is for "
        "the rest (a dictionary edited in place, a doubt). Refused beside a running `syndicate run`.",
        epilog="Examples: syndicate retranslate --language es ; syndicate retranslate --source wire --since 2026-11-01",
    )
    retranslate.add_argument(
        "--language",
        action="append",
        metavar="LANG",
        help="only this target language (repeatable; default: every configured one)",
    )
    retranslate.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="only articles of this source (repeatable; default: every source)",
    )
    retranslate.add_argument(
        "--since", metavar="DATE", help="only articles first seen or changed on or after this day (YYYY-MM-DD, UTC)"
    )
    retranslate.set_defaults(func=cmd_retranslate)

    reload = sub.add_parser("reload", parents=[common], help="make the running daemon read its config again (SIGHUP)")
    reload.set_defaults(func=cmd_reload)

    models = sub.add_parser("models", parents=[common], help="list or install translation models")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION")
    msub.required = True
    mlist = msub.add_parser("list", parents=[common], help="show the language pairs every engine can translate")
    mlist.set_defaults(func=cmd_models_list)
    packages = msub.add_parser(
        "packages",
        parents=[common],
        help="the Debian packages the config's Apertium pairs need",
        description="Print, on one line, the Debian packages that give Apertium every language pair "
        "the configuration translates (what `make run` installs); a pair no package gives is named on stderr.",
    )
    packages.set_defaults(func=cmd_models_packages)
    install = msub.add_parser(
        "install",
        parents=[common],
        help="install an Argos Translate package",
        description="Install an Argos package from a local .argosmodel file (offline) or, given a "
        "language pair, from the Argos package index (needs network).",
        epilog="Examples: syndicate models install --file translate-en_es-1_9.argosmodel ; "
        "syndicate models install en es",
    )
    install.add_argument("pair", nargs="*", metavar="LANG", help="source and target language, e.g. `en es`")
    install.add_argument("--file", type=Path, metavar="FILE", help="a local .argosmodel package file")
    install.set_defaults(func=cmd_models_install)

    review = sub.add_parser(
        "review",
        parents=[common],
        help="review, correct and approve translations (editors)",
        description="An editor's correction is stored as a human translation of one sentence and used "
        "wherever that sentence occurs in the language; `syndicate once` (or the daemon, at once) publishes it.",
    )
    rsub = review.add_subparsers(dest="review_command", metavar="ACTION")
    rsub.required = True
    editor = argparse.ArgumentParser(add_help=False)
    editor.add_argument(
        "--editor", metavar="NAME", default=None, help="who makes the change, for the audit log (default: $USER)"
    )
    rlist = rsub.add_parser("list", parents=[common], help="entries to review in a language, most in need first")
    rlist.add_argument("language")
    rlist.add_argument("--all", action="store_true", help="every entry, not only those waiting for review")
    rlist.add_argument("--limit", type=int, default=50, metavar="N")
    rlist.set_defaults(func=cmd_review_list)
    rshow = rsub.add_parser("show", parents=[common], help="an entry's segments, source beside translation")
    rshow.add_argument("language")
    rshow.add_argument("article", type=int)
    rshow.set_defaults(func=cmd_review_show)
    rcorrect = rsub.add_parser(
        "correct",
        parents=[common, editor],
        help="correct one segment of an entry",
        epilog="Example: syndicate review correct es 12 3 'El texto corregido.'",
    )
    rcorrect.add_argument("language")
    rcorrect.add_argument("article", type=int)
    rcorrect.add_argument("segment", type=int, help="the segment's number, as `review show` lists it")
    rcorrect.add_argument("text", nargs="?", help="the corrected translation (- reads it from standard input)")
    rcorrect.add_argument("--withdraw", action="store_true", help="remove the correction instead (TEXT is ignored)")
    rcorrect.set_defaults(func=cmd_review_correct)
    rapprove = rsub.add_parser("approve", parents=[common, editor], help="approve an entry's current version")
    rapprove.add_argument("language")
    rapprove.add_argument("article", type=int)
    rapprove.add_argument("--reopen", action="store_true", help="take the approval back")
    rapprove.set_defaults(func=cmd_review_approve)
    rhistory = rsub.add_parser("history", parents=[common], help="the audit log: who changed what, when")
    rhistory.add_argument("language", nargs="?")
    rhistory.add_argument("--article", type=int)
    rhistory.add_argument("--limit", type=int, default=100, metavar="N")
    rhistory.set_defaults(func=cmd_review_history)
    rexport = rsub.add_parser("export", parents=[common], help="write entries as XLIFF 2.0 for a CAT tool")
    rexport.add_argument("language")
    rexport.add_argument("--output", "-o", type=Path, required=True, metavar="FILE")
    rexport.add_argument("--article", type=int, action="append", metavar="ID", help="this entry (repeatable)")
    rexport.add_argument("--since", metavar="DATE", help="entries published on or after DATE (YYYY-MM-DD)")
    rexport.add_argument("--until", metavar="DATE", help="entries published before DATE")
    rexport.add_argument("--waiting", action="store_true", help="only entries waiting for review")
    rexport.set_defaults(func=cmd_review_export)
    rimport = rsub.add_parser("import", parents=[common, editor], help="read an XLIFF file back as corrections")
    rimport.add_argument("file", type=Path)
    rimport.set_defaults(func=cmd_review_import)
    rtmx = rsub.add_parser("tmx", parents=[common], help="write a language's corrections as a TMX memory")
    rtmx.add_argument("language")
    rtmx.add_argument("--output", "-o", type=Path, required=True, metavar="FILE")
    rtmx.set_defaults(func=cmd_review_tmx)
    rtoken = rsub.add_parser("token", parents=[common], help="make an editor's token and print its config line")
    rtoken.add_argument("name")
    rtoken.set_defaults(func=cmd_review_token)
    return parser


def _serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", metavar="HOST", help="address to listen on (default: [serve] host, 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, metavar="PORT", help="port to listen on, 1-65535 (default: [serve] port, 8080)"
    )


def _port(value: str) -> int:
    """--port: a TCP port, 1-65535 (0, a negative or a larger number is a mistake, not a default)."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose >= 2 else logging.INFO
    handler: logging.Handler
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, markup=False)
        fmt = "%(message)s"
    else:
        handler = logging.StreamHandler()
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    if sys.stderr.isatty() and not quiet:
        from syndicate.progress import RichReporter, set_reporter

        set_reporter(RichReporter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if verbose < 2:
        logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)


def _settings(path: Path | None) -> Settings:
    """The validated config given by --config, else ./config.toml (a ConfigError when missing)."""
    from syndicate.config import load_settings

    return load_settings(path or DEFAULT_CONFIG)


def _once(
    settings: Settings, *, reinitialise: bool = False, should_stop: Callable[[], bool] | None = None
) -> tuple[RunReport, SyndicateError | None]:
    """One poll of every source, then translate and publish every language: what was
    done, and the error that stopped it (a full or read-only disk, a broken store), if
    one did."""
    from syndicate.errors import RunAborted, SyndicateError
    from syndicate.sources.base import never_stop
    from syndicate.store import Store
    from syndicate.work import once

    store = Store.for_settings(settings)
    try:
        return once(settings, store, reinitialise=reinitialise, should_stop=should_stop or never_stop), None
    except RunAborted as exc:  # what was stored stays stored: still say what was done
        cause = exc.cause if isinstance(exc.cause, SyndicateError) else exc
        return exc.done, cause
    finally:
        store.close()


def _claim_outputs(settings: Settings) -> None:
    """Mark the output folders as this configuration's (see :func:`claim_outputs`)."""
    from syndicate.publish.writer import claim_outputs

    claim_outputs(settings)


def cmd_once(args: argparse.Namespace) -> int:
    import signal
    import threading

    from syndicate.store.lock import StateLock

    settings = _settings(args.config)
    # SIGTERM or Ctrl-C: the poll in hand stops after its item, what was fetched is stored,
    # translated (for a few seconds) and published, each source's place is recorded, and
    # the summary says what was done. A second one stops at once.
    stop = threading.Event()
    signals: list[int] = []

    def stopping(signum: int, _frame: object) -> None:
        signals.append(signum)
        for each in (signal.SIGTERM, signal.SIGINT):
            signal.signal(each, signal.SIG_DFL if each == signal.SIGTERM else signal.default_int_handler)
        threading.Thread(target=stop.set, name="stop").start()
        logger.warning("stopping: finishing the item in hand, then storing and publishing what was read")

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopping)
    with StateLock(settings.state_dir, command="once"):  # never beside a daemon or another pass on the same state
        _claim_outputs(settings)
        report, fatal = _once(settings, reinitialise=args.reinitialise, should_stop=stop.is_set)
    print(
        f"{report.items_seen} item(s) read: {report.articles_new} new, {report.articles_updated} updated; "
        f"{report.segments_translated} segment(s) translated, {report.memory_hits} from memory, "
        f"{report.guard_failures} rejected by quality guards; "
        f"{report.translations_written} translation(s) stored; {report.files_written} file(s) written"
    )
    for problem in report.unserved:
        print(f"language not served: {problem}", file=sys.stderr)
    if report.problems:
        print(f"{len(report.problems)} item(s) failed:", file=sys.stderr)
        for failure in report.problems[:SUMMARY_PROBLEMS]:
            print(f"  {failure}", file=sys.stderr)
        if len(report.problems) > SUMMARY_PROBLEMS:
            print(
                f"  ... and {len(report.problems) - SUMMARY_PROBLEMS} more (`syndicate status` and the log, with -v, "
                "name each)",
                file=sys.stderr,
            )
    if fatal is not None:
        print(f"error: {fatal}", file=sys.stderr)
        return EXIT_ERROR
    if signals:
        print("interrupted: what was read is stored and published; the next run goes on from there", file=sys.stderr)
        return 128 + signals[0]
    return EXIT_OK if report.ok else EXIT_PARTIAL


#: Failed items the summary of `once` lists; the rest are counted.
SUMMARY_PROBLEMS = 20


def cmd_retranslate(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from syndicate.models import lang
    from syndicate.store import Store
    from syndicate.store.lock import StateLock
    from syndicate.translate.engines import Engines
    from syndicate.work import Work, retranslate

    settings = _settings(args.config)
    languages = [lang(code) for code in (args.language or [])]
    unknown = [code for code in languages if code not in settings.translate.languages]
    sources = list(args.source or [])
    missing = [name for name in sources if name not in {s.name for s in settings.sources}]
    since = None
    problems = []
    if unknown:
        problems.append(
            f"--language {', '.join(unknown)}: not in [translate] languages ({', '.join(settings.translate.languages)})"
        )
    if missing:
        problems.append(f"--source {', '.join(missing)}: no such source in the config")
    if args.since:
        try:
            since = datetime.strptime(args.since, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            problems.append(f"--since {args.since!r}: not a day such as 2026-11-30")
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    with StateLock(settings.state_dir, command="retranslate"):
        _claim_outputs(settings)
        store = Store.for_settings(settings)
        try:
            with Engines(settings) as engines:
                report, chosen = retranslate(
                    Work(settings, store, engines), languages=languages or None, sources=sources or None, since=since
                )
        finally:
            store.close()
    print(
        f"{chosen} article(s) chosen; {report.segments_translated} segment(s) translated; "
        f"{report.translations_written} translation(s) changed; {report.files_written} file(s) written"
    )
    for problem in report.unserved:
        print(f"language not served: {problem}", file=sys.stderr)
    for failure in report.problems:
        print(f"  {failure}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_PARTIAL


def cmd_run(args: argparse.Namespace) -> int:
    if args.role != "all" or args.languages or args.queues:
        return _run_cluster_role(args)
    import signal
    import threading

    from syndicate.scheduler import Daemon
    from syndicate.store import Store
    from syndicate.store.lock import StateLock
    from syndicate.translate.engines import Engines

    settings = _settings(args.config)
    if args.verbose < 2:  # APScheduler's per-job lines would double the one line per poll
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    with StateLock(settings.state_dir, command="run"):
        _claim_outputs(settings)
        store = Store.for_settings(settings)
        engines = Engines(settings)  # the process's: opened on first use, closed at exit
        try:
            if not args.reinitialise:
                from syndicate.publish import check_history

                check_history(settings, store)  # an emptied or replaced store never starts the feeds over
            daemon = Daemon(settings, store, engines=engines)
            for signum in (signal.SIGTERM, signal.SIGINT):
                # Not daemon.stop() in the handler itself: it sets threading.Events, whose
                # lock the interrupted main thread may be holding at that very moment.
                signal.signal(signum, lambda _signum, _frame: threading.Thread(target=daemon.stop, name="stop").start())
            server = None
            reloading = threading.Lock()

            def reload_config() -> None:
                with reloading:  # two SIGHUPs in a row: one reload after the other
                    _reload(args.config, daemon, server)

            signal.signal(
                signal.SIGHUP, lambda _signum, _frame: threading.Thread(target=reload_config, name="reload").start()
            )
            logger.info("syndicate run: %d source(s), state in %s", len(settings.sources), settings.state_dir)
            if getattr(args, "serve", False):
                from syndicate.serve.runner import ServerThread, deprioritize_batch_work

                # Its own thread and event loop: polls and translations run in the
                # scheduler's threads, at a lower CPU priority, so serving stays
                # responsive during a translation batch.
                server = ServerThread(
                    settings, store, args.host, args.port, websub=daemon.websub, on_review=daemon.republish_soon
                )
                server.start()
                deprioritize_batch_work()
            try:
                daemon.run()
            finally:
                if server is not None:
                    server.stop()
        finally:
            engines.close()
            store.close()
    logger.info("stopped")
    return EXIT_OK


def _reload(path: Path | None, daemon: Any, server: Any) -> None:
    """SIGHUP: read the config again; a valid one runs from the next poll and publish (what
    needs a restart is named and kept as it is), an invalid one is refused with the same
    messages as at start and the running configuration carries on."""
    from syndicate.config import reloadable
    from syndicate.errors import ConfigError

    try:
        new = _settings(path)
    except ConfigError as exc:
        logger.error("reload refused; the running configuration stays: %s", exc)
        return
    new, later = reloadable(daemon.settings, new)
    if later:
        logger.warning("reload: %s take(s) effect only at a restart; running with the old value(s)", ", ".join(later))
    try:
        daemon.reload(new)
        if server is not None:
            server.reconfigure(new)
    except Exception:  # our bug: logged with its traceback, the daemon goes on as it was
        logger.exception("reload failed")
        return
    logger.info(
        "reloaded %s: %d source(s), languages %s",
        path or DEFAULT_CONFIG,
        len(new.sources),
        ", ".join(new.translate.languages),
    )


def cmd_reload(args: argparse.Namespace) -> int:
    """``syndicate reload``: send SIGHUP to the daemon holding this config's state."""
    import signal

    from syndicate.store.lock import lock_holder_command

    settings = _settings(args.config)
    held = lock_holder_command(settings.state_dir)
    if held is None or held[0] is None or held[0] <= 0 or held[1] != "run":
        print(
            f"error: no `syndicate run` holds {settings.state_dir} (fix: start it, or check --config)", file=sys.stderr
        )
        return EXIT_CONFIG
    try:
        os.kill(held[0], signal.SIGHUP)
    except OSError as exc:
        print(f"error: cannot signal PID {held[0]}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR
    print(f"asked the daemon (PID {held[0]}) to reload {args.config or DEFAULT_CONFIG}; its log says how it went")
    return EXIT_OK


def _run_cluster_role(args: argparse.Namespace) -> int:
    """``run --role scheduler|worker``: a role of the cluster (syndicate/cluster/)."""
    if args.role == "all" or (args.role == "scheduler" and (args.languages or args.queues)):
        print("--languages and --queues go with --role worker", file=sys.stderr)
        return EXIT_CONFIG
    if getattr(args, "serve", False):
        print("--serve goes with --role all (or run `syndicate serve` beside a worker that publishes)", file=sys.stderr)
        return EXIT_CONFIG
    from syndicate.cluster.queues import parse_queues
    from syndicate.cluster.roles import ClusterError, run_scheduler, run_worker

    settings = _settings(args.config)
    try:
        if args.role == "scheduler":
            return run_scheduler(settings)
        languages = [x.strip() for x in (args.languages or "").split(",") if x.strip()]
        try:
            queues = parse_queues(args.queues, languages or settings.translate.languages) if args.queues else None
        except ValueError as exc:
            print(f"--queues: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        return run_worker(settings, languages=languages or None, queues=queues)
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        # Not configured (or a language not configured) is a usage problem; unreachable is not.
        return EXIT_CONFIG if exc.host is None else EXIT_ERROR


def cmd_serve(args: argparse.Namespace) -> int:
    from syndicate.serve.runner import serve

    settings = _settings(args.config)
    serve(settings, args.host, args.port)
    logger.info("stopped")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from syndicate.errors import StoreError
    from syndicate.store.lock import lock_holder_command

    settings = _settings(args.config)
    held = lock_holder_command(settings.state_dir)
    holder, holder_command = held if held is not None else (None, None)
    statuses = {}
    problems: list[str] = []
    retired: list[dict[str, Any]] = []
    selections: dict[str, dict[str, Any]] = {}
    store_down: StoreError | None = None
    if settings.cluster.store_url or (settings.state_dir / "syndicate.db").exists():
        from syndicate.serve.status import attention, hub_pings, retired_languages, source_selections
        from syndicate.store import Store
        from syndicate.store.publication import PublicationRepository

        # A cluster's workers record their polls in the shared store.
        try:
            store = Store.for_reading(settings)
        except StoreError as exc:
            if not settings.cluster.enabled:
                raise
            store_down = exc  # the broker's side is still worth showing: said below, then exit 3
        else:
            try:
                statuses = store.sources.all()
                problems = attention(
                    settings,
                    statuses,
                    store.websub.all(),
                    PublicationRepository(store).outcomes(),
                    hub_pings(settings, store.websub.hubs()),
                )
                retired = retired_languages(settings, store)
                selections = source_selections(settings, store)
            finally:
                store.close()

    def when(value: object) -> str:
        return f"{value:%Y-%m-%d %H:%M:%SZ}" if value is not None else "-"

    header = ("source", "type", "last poll", "outcome", "new", "updated", "failed", "next poll", "last error")
    rows: list[tuple[str, ...]] = []
    for source in settings.sources:
        st = statuses.get(source.name)
        if st is None or st.last_poll is None:
            rows.append(
                (source.name, source.type, "never", "-", "-", "-", "-", when(st.next_poll if st else None), "-")
            )
            continue
        rows.append(
            (
                source.name,
                source.type,
                when(st.last_poll),
                st.outcome or "-",
                str(st.items_new),
                str(st.items_updated),
                str(st.items_failed),
                when(st.next_poll),
                st.last_error or "-",
            )
        )
    pid = f"PID {holder}" if holder and holder > 0 else "PID unknown"
    if holder is None:
        daemon = "not running"
    elif holder_command == "once":  # a one-off pass holds the state, not a daemon
        daemon = f"not running (a `syndicate once`, {pid}, holds the state)"
    else:
        daemon = f"running ({pid})" if holder > 0 else "running"
    print(f"daemon: {daemon}; state: {settings.state_dir}")
    if settings.cluster.enabled:
        from syndicate.cluster.status import cluster_status, describe

        cluster = cluster_status(settings, visibility=settings.cluster.visibility_timeout.total_seconds())
        for line in describe(cluster):
            print(line)
        # The broker or the ledger unreachable, a lost worker, a task given up: someone must look.
        problems = [*problems, *cluster.attention]
    if store_down is not None:
        print(f"error: {store_down.message}" + (f" (fix: {store_down.hint})" if store_down.hint else ""))
        print("needs attention:")
        for line in problems:
            print(f"  - {line}")
        return EXIT_ERROR
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*header)
        for row in rows:
            table.add_row(*row, style="red" if row[3] == "failed" else None)
        Console().print(table)
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header[:-1])]
        for row in [header, *rows]:
            cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
            print("  ".join([*cells, row[-1]]))
    for source in settings.sources:
        chosen = selections.get(source.name)
        if chosen is not None:
            terms = "; ".join(
                f"{kind} {', '.join(map(repr, chosen[kind]))}" for kind in ("include", "exclude") if chosen[kind]
            )
            print(
                f"filters of {source.name}: {chosen['published']} published, {chosen['held_back']} held back ({terms})"
            )
        if source.title_only:
            print(f"titles only: {source.name} (its text is published untranslated, marked as such)")
    for language in retired:
        print(
            f"retired: {language['language']} ({language['name']}) since {language['retired']}, "
            f"{language['files_removed']} file(s) removed; configure it again to publish it again"
        )
    if problems:
        print("needs attention:")
        for line in problems:
            print(f"  - {line}")
    return EXIT_PARTIAL if problems or any(r[3] == "failed" for r in rows) else EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from syndicate.store import Store
    from syndicate.store.overview import StoreOverview

    settings = _settings(args.config)
    store = Store.for_reading(settings)
    try:
        totals = store.stats.all()
        rules = {code: settings.translate.quality.of(code) for code in settings.translate.languages}
        quality = StoreOverview(store).quality({code: rule.threshold for code, rule in rules.items()})
    finally:
        store.close()
    columns = (
        "translated",
        "memory_hits",
        "guard_failures",
        "engine_errors",
        "untranslated",
        "unknown_words",
        "numbers",
        "glued",
    )
    header = (
        "language",
        "engine",
        "segments translated",
        "memory hits",
        "guard failures",
        "engine errors",
        "untranslated",
        "unknown words",
        "numbers differing",
        "glued repaired",
    )
    rows = [
        (language, engine, *(str(counts.get(c, 0)) for c in columns))
        for (language, engine), counts in sorted(totals.items())
    ]
    if not rows:
        print("no translations yet: run `syndicate once` first")
        return EXIT_OK
    _table(header, rows)
    print()
    quality_header = ("language", "machine translations", "mean confidence", "threshold", "under threshold", "action")
    quality_rows = [
        (
            code,
            str(q.translations),
            f"{q.mean:.1%}" if q.mean is not None else "-",
            f"{rules[code].threshold:.0%}" if rules[code].threshold else "-",
            str(q.low),
            ("held back" if rules[code].action == "hold" else "published marked") if rules[code].threshold else "-",
        )
        for code, q in quality.items()
    ]
    _table(quality_header, quality_rows)
    return EXIT_OK


# -- syndicate review -------------------------------------------------------------------


def _desk(args: argparse.Namespace) -> tuple[Any, Any]:
    """(the review desk, its store) for the configured store; the caller closes the store."""
    from syndicate.review.service import ReviewDesk
    from syndicate.store import Store
    from syndicate.work import utc_now

    settings = _settings(args.config)
    store = Store.for_settings(settings)
    return ReviewDesk(settings, store, clock=utc_now), store


def _editor(args: argparse.Namespace) -> str:
    import getpass

    name = args.editor or os.environ.get("USER") or getpass.getuser()
    return f"{name} (cli)"


def cmd_review_list(args: argparse.Namespace) -> int:
    desk, store = _desk(args)
    try:
        lines = desk.queue(args.language, waiting_only=not args.all, limit=args.limit)
    finally:
        store.close()
    if not lines:
        print(f"nothing {'is translated' if args.all else 'waits for review'} in {args.language}")
        return EXIT_OK
    rows = [
        (
            str(line.article_id),
            f"{line.confidence:.0%}" if line.confidence is not None else "-",
            f"needs review ({line.needs_review})"
            if line.needs_review
            else f"approved by {line.reviewed_by}"
            if line.approved
            else "not reviewed",
            str(line.corrected),
            line.title[:70],
        )
        for line in lines
    ]
    _table(("article", "confidence", "state", "corrected", "title"), rows)
    return EXIT_OK


def cmd_review_show(args: argparse.Namespace) -> int:
    desk, store = _desk(args)
    try:
        entry = desk.entry(args.language, args.article)
    finally:
        store.close()
    t = entry.translation
    state = f"approved by {t.reviewed_by}" if t.approved else "not approved"
    print(
        f"{entry.article_id}: {t.title}\n  {entry.source_language}->{entry.language}, {t.engine}, "
        f"confidence {t.confidence if t.confidence is not None else '-'}, {state}, review {entry.mode} publishing"
    )
    for view in entry.segments:
        r = view.record
        marks = [r.slot, r.origin]
        if view.low:
            marks.append("LOW")
        if r.flags:
            marks.append("checks: " + ",".join(r.flags))
        print(
            f"\n[{view.index}] ({'; '.join(marks)})\n  {entry.source_language}: {r.source}\n"
            f"  {entry.language}: {r.target}"
        )
        if r.needs_review:
            print(f"  NEEDS REVIEW: the source changed; the earlier correction was: {r.previous}")
    return EXIT_OK


def cmd_review_correct(args: argparse.Namespace) -> int:
    desk, store = _desk(args)
    try:
        if args.withdraw:
            affected = desk.withdraw(args.language, args.article, editor=_editor(args), via="cli", segment=args.segment)
            print(
                f"withdrawn; {len(affected)} entr{'y' if len(affected) == 1 else 'ies'} to republish"
                if affected
                else "that segment had no correction"
            )
        else:
            if args.text is None:
                from syndicate.errors import ReviewError

                raise ReviewError(
                    "give the corrected text (or - to read it from standard input)",
                    hint="or --withdraw to go back to the engines' translation",
                )
            text = sys.stdin.read() if args.text == "-" else args.text
            affected = desk.correct(
                args.language, args.article, text=text, editor=_editor(args), via="cli", segment=args.segment
            )
            print(
                f"saved; used in {len(affected)} entr{'y' if len(affected) == 1 else 'ies'}, published by the "
                "next run (`syndicate once`, or at once by a running daemon's next pass)"
            )
    finally:
        store.close()
    return EXIT_OK


def cmd_review_approve(args: argparse.Namespace) -> int:
    desk, store = _desk(args)
    try:
        desk.approve(args.language, args.article, editor=_editor(args), via="cli", approved=not args.reopen)
    finally:
        store.close()
    print("reopened" if args.reopen else "approved")
    return EXIT_OK


def cmd_review_history(args: argparse.Namespace) -> int:
    desk, store = _desk(args)
    try:
        entries = desk.history(language=args.language, article_id=args.article, limit=args.limit)
    finally:
        store.close()
    if not entries:
        print("no change by an editor yet")
        return EXIT_OK
    rows = [
        (
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            e.editor,
            f"{e.action} ({e.via})",
            e.language,
            str(e.article_id or "-"),
            (e.old_text or "")[:40],
            (e.new_text or "")[:40],
        )
        for e in entries
    ]
    _table(("when (UTC)", "editor", "action", "language", "article", "old", "new"), rows)
    return EXIT_OK


def cmd_review_export(args: argparse.Namespace) -> int:
    from syndicate.review.service import parse_date

    desk, store = _desk(args)
    try:
        data = desk.export_xliff(
            args.language,
            article_ids=args.article,
            since=parse_date(args.since, "--since"),
            until=parse_date(args.until, "--until"),
            waiting_only=args.waiting,
        )
    finally:
        store.close()
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes, XLIFF 2.0)")
    return EXIT_OK


def cmd_review_import(args: argparse.Namespace) -> int:
    from syndicate.errors import ReviewError

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise ReviewError(f"cannot read {args.file}: {exc.strerror}", item=str(args.file)) from None
    desk, store = _desk(args)
    try:
        report = desk.import_xliff(data, editor=_editor(args), name=str(args.file))
    finally:
        store.close()
    print(
        f"{report.corrected} correction(s) in {len(report.articles)} "
        f"entr{'y' if len(report.articles) == 1 else 'ies'}, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped"
    )
    for line in report.skipped[:50]:
        print(f"  skipped {line}")
    return EXIT_OK


def cmd_review_tmx(args: argparse.Namespace) -> int:
    desk, store = _desk(args)
    try:
        data = desk.export_tmx(args.language)
    finally:
        store.close()
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes, TMX 1.4b)")
    return EXIT_OK


def cmd_review_token(args: argparse.Namespace) -> int:
    import secrets

    from syndicate.serve.review import token_digest

    if not re.fullmatch(r"[\w.@-]{1,100}", args.name):
        print("an editor's name is letters, digits, '.', '@', '-' and '_'", file=sys.stderr)
        return EXIT_CONFIG
    token = secrets.token_urlsafe(24)
    print(
        f"token for {args.name} (give it to them; it is not stored anywhere):\n  {token}\n"
        f'add to config.toml:\n  [review.editors]\n  {args.name} = "{token_digest(token)}"'
    )
    return EXIT_OK


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Rows as a table on a terminal, aligned plain text otherwise."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*header)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _argos_dir(settings: Settings | None) -> Path:
    from syndicate.translate.argos_packages import default_packages_dir

    if settings is not None and settings.translate.argos_packages_dir:
        return settings.resolve(settings.translate.argos_packages_dir)
    return default_packages_dir()


def _optional_settings(path: Path | None) -> Settings | None:
    """Model commands work without a config file (then Argos's default directory is used),
    but a --config that was given must be readable."""
    if path is None and not DEFAULT_CONFIG.exists():
        return None
    return _settings(path)


def cmd_models_list(args: argparse.Namespace) -> int:
    from syndicate.config import ENGINE_TYPES, load_implementation
    from syndicate.errors import SyndicateError
    from syndicate.translate import make_engine

    settings = _optional_settings(args.config)
    rows: list[tuple[str, str, str]] = []
    for name, kind in ENGINE_TYPES.items():
        # Without a config file, each engine as its defaults make it (Argos's own folder).
        try:
            engine_settings = settings.translate.engine(name) if settings is not None else kind(engine=name)
        except ValueError as exc:  # pydantic's ValidationError: an engine with required options
            print(f"{name}: needs its [translate.{name}] table ({str(exc).splitlines()[0]}); give --config")
            continue
        try:
            if settings is not None:
                engine = make_engine(name, settings)
            else:
                engine = load_implementation(kind.implementation)(**engine_settings.options(lambda path: path))
            pairs = sorted(engine.pairs())
        except (ImportError, OSError, SyndicateError) as exc:
            print(f"{name}: cannot start ({exc}); run `make setup`")
            continue
        where = engine_settings.describe(engine)
        print(f"{name} ({kind.label or name}): {where}" if where else f"{name} ({kind.label or name})")
        if not pairs:
            print(f"  {name}: none installed: {engine_settings.install_hint('SRC', 'TGT')}")
        rows += [(name, f"{source}->{target}", engine.model_id(source, target)) for source, target in pairs]
    width = max((len(r[1]) for r in rows), default=0)
    for engine_name, pair, detail in rows:
        print(f"  {engine_name:<9} {pair:<{width}}  {detail}")
    if settings is not None:
        served = {(s, t) for e, p, _ in rows for s, t in [p.split("->")]}
        for target in settings.translate.languages:
            if (settings.site.source_language, target) not in served:
                print(f"  missing: {settings.site.source_language}->{target} (no engine has it)")
    return EXIT_OK


def cmd_models_packages(args: argparse.Namespace) -> int:
    """The system packages the configured engines need for the configured pairs."""
    from syndicate.config import load_implementation

    settings = _settings(args.config)
    sources = {settings.site.source_language} | {s.language for s in settings.sources if s.language}
    pairs = sorted({(src, tgt) for src in sources for tgt in settings.translate.languages if src != tgt})
    found: list[str] = []
    for name in settings.translate.engines:
        kind = type(settings.translate.engine(name))
        if not kind.system_packages:
            continue
        try:
            packages, missing = load_implementation(kind.system_packages)(pairs, settings.translate.pivot_language)
        except OSError as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        found += [package for package in packages if package not in found]
        for pair in missing:
            print(
                f"warning: no package gives {kind.label or name} {pair}; another engine must translate it",
                file=sys.stderr,
            )
    print(" ".join(found))
    return EXIT_OK


def cmd_models_install(args: argparse.Namespace) -> int:
    from syndicate.translate.argos_packages import install_from_file, install_from_index

    settings = _optional_settings(args.config)
    packages_dir = _argos_dir(settings)
    if args.file and args.pair:
        print("give either --file FILE or a language pair, not both", file=sys.stderr)
        return EXIT_CONFIG
    if args.file:
        info = install_from_file(args.file, packages_dir)
    elif len(args.pair) == 2:
        info = install_from_index(args.pair[0], args.pair[1], packages_dir)
    else:
        print(
            "usage: syndicate models install --file FILE.argosmodel | syndicate models install SRC TGT", file=sys.stderr
        )
        return EXIT_CONFIG
    print(f"installed argos {info.from_code}->{info.to_code} {info.package_version} into {info.path}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    from syndicate.errors import (
        ConfigError,
        HistoryLostError,
        OutputClaimedError,
        ReviewError,
        ServeError,
        SyndicateError,
    )

    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except (
        OutputClaimedError,
        HistoryLostError,
        ReviewError,
        ServeError,
    ) as exc:  # a setup or usage problem: nothing was done
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except SyndicateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # the last resort: a message, never a traceback
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def entry() -> int:
    """The process's entry point (the ``syndicate`` script, ``python -m syndicate``):
    :func:`main`, then the heap frozen (``gc.freeze``) for the exit, whose collections
    would otherwise walk every object a large run left (a tenth of a second of a
    no-change run at 10,000 articles). Everything is still closed and flushed as
    before; only the cyclic collector's last passes are skipped, and the operating
    system takes back what they would have freed."""
    import gc

    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(entry())
