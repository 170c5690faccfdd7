#!/usr/bin/env python3
"""Scale: what a poll costs as the history grows (issue 10, "Measure").

For each N in ``--sizes`` this builds, in a temporary directory, a folder source of N
short, distinct, news-like English articles (the plain-text format of
``examples/articles/*.txt``: a title line, a blank line, 2-3 short paragraphs; the text
comes from a seeded generator, no network) and a ``config.toml`` translating into
``es`` and ``ca`` with Apertium only, or, with ``--languages N`` above 2, into N
languages with ``benchmarks/bench_engine.py``'s fast deterministic engine (the store and
publishing code are the real ones: issue 23). Then it runs whole ``syndicate once``
processes (``<python> -m syndicate --config <cfg> -q once``) and measures:

  fill      the first ``once`` over all N articles (reported, not a target); with
            ``--fill store`` (the bench engine only), 200 articles through a real
            ``once``, the rest stored through the store's API (``history_fill.py``),
            then a real ``once`` that publishes them all;
  no-change a ``once`` with nothing new (median of 5);
  one-new   a ``once`` after one fresh article was dropped into the folder (median of
            5, a different article each time; its translation is included);
  peak RSS  the largest maximum resident set size of the ``syndicate`` process over
            the no-change and one-new runs (``os.wait4`` rusage of that very child;
            Apertium's own processes are separate and much smaller). The fill's
            peak is printed separately;
  written   the bytes a one-new run writes (median): the output files it adds or
            replaces (their sizes) and what the store's files grew by.

Prints a table, the issue's targets beside it (issue 10's in two languages, issue 23's in
more: the largest N against the smallest), then one JSON object as the last line.

    python benchmarks/scale_bench.py [--sizes 200,2000,10000] [--languages N] [--fill once|store]
                                     [--python PY] [--keep DIR]

``--keep DIR`` leaves each history in ``DIR/N<size>``; run again with the same ``DIR``,
it measures those histories without filling them (each run adds its five new articles).

The fill at 10,000 translates about 60,000 segments and can take a long time; it is
built only when ``--sizes`` asks for it, and progress is printed while it runs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

try:
    from benchmarks.languages import MANY_LANGUAGES
except ImportError:  # run as a script: this folder is sys.path[0]
    from languages import MANY_LANGUAGES  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent

# Targets from issue 10 ("Measure"), at 10,000 articles of history.
TARGET_NO_CHANGE_S = 1.0
TARGET_ONE_NEW_S = 3.0
TARGET_RSS_MB = 400.0
TARGET_GROWTH = 1.5  # one-new at 10,000 / one-new at 200

LANGUAGES = ("es", "ca")
BENCH_ENGINE = ROOT / "benchmarks" / "bench_engine.py"
HISTORY_FILL = ROOT / "benchmarks" / "history_fill.py"
#: Articles ``--fill store`` translates through the real translate stage; the others
#: share their paragraphs.
TEMPLATES = 200
REPEATS = 5
#: A fixed pure-Python loop, timed in a fresh process before and after: this machine's
#: speed drifts by a quarter between hours, and the times it prints mean little without it.
CALIBRATION = "import time; t = time.perf_counter(); sum(range(30_000_000)); print(time.perf_counter() - t)"

# --------------------------------------------------------------------------- text

WHO = [
    "City council",
    "Central bank",
    "Regional government",
    "Prime minister",
    "Union leaders",
    "Farmers",
    "Police",
    "Scientists",
    "Hospital staff",
    "Teachers",
    "The mayor",
    "Local residents",
    "Rail operator",
    "Energy regulator",
    "Opposition",
    "Court",
    "Airline",
    "Football club",
]
DOES = [
    "approves",
    "rejects",
    "delays",
    "announces",
    "questions",
    "backs",
    "plans",
    "opens",
    "cancels",
    "defends",
    "reviews",
    "promises",
]
WHAT = [
    "new bridge",
    "budget for next year",
    "higher taxes",
    "railway line",
    "plan for the old harbour",
    "school reform",
    "cheaper bus tickets",
    "a new hospital",
    "talks with the unions",
    "water prices",
    "the election date",
    "more police officers",
    "a ban on cars in the centre",
    "the museum project",
]
WHERE = [
    "Northfield",
    "Lakeside",
    "Port Alden",
    "Greenvale",
    "Eastbrook",
    "Millford",
    "Redcliff",
    "Stonebridge",
    "Westmoor",
    "Ashby",
    "Oakridge",
    "Clearwater",
    "Hillcrest",
    "Brookhaven",
    "Fairport",
    "Kingsley",
    "Marlow",
    "Riverton",
    "Sandhurst",
    "Thornbury",
]
SENTENCES = [
    "The decision was announced on {day} evening.",
    "More than {n} people attended the meeting.",
    "Prices rose by {p} percent last month.",
    "The work should take about {n} weeks.",
    "Officials said the cost would reach {n} million euros.",
    "The vote is expected before the end of {month}.",
    "Critics say the plan does not go far enough.",
    "Schools will stay closed until {day}.",
    "The new line will open in {month}.",
    "Residents were asked to save water.",
    "A spokesman said about {n} families would be affected.",
    "The project has been discussed for {p} years.",
    "Local shops reported {p} percent fewer customers in {month}.",
    "The next meeting is planned for {day}, {month} {d}.",
]
ATTRIBUTIONS = ["City Desk Weekly", "Regional Press Agency", "Council press office", "Morning Herald"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = ["January", "March", "April", "June", "September", "October", "November"]
COMBOS = len(WHO) * len(DOES) * len(WHAT) * len(WHERE)


#: What sets apart the titles of each further round of the combos (a year of news says
#: the same things again).
ROUNDS = ("", ", again", ", once more")
TITLES = COMBOS * len(ROUNDS)


def _title(index: int) -> str:
    """A distinct title for every index below TITLES (a fixed permutation of the combos,
    round after round)."""
    rounds, index = divmod(index, COMBOS)
    k = (index * 7919 + 13) % COMBOS  # 7919 is prime and does not divide COMBOS: a bijection
    k, a = divmod(k, len(WHO))
    k, b = divmod(k, len(DOES))
    k, c = divmod(k, len(WHAT))
    d = k % len(WHERE)
    return f"{WHO[a]} in {WHERE[d]} {DOES[b]} {WHAT[c]}{ROUNDS[rounds]}"


def _sentence(rng: random.Random) -> str:
    return rng.choice(SENTENCES).format(
        day=rng.choice(DAYS),
        n=rng.randint(2, 900),
        p=rng.randint(2, 40),
        month=rng.choice(MONTHS),
        d=rng.randint(1, 28),
    )


def article_text(index: int, seed: int = 10, *, body: int | None = None) -> str:
    """Article ``index``: title, blank line, 2-3 paragraphs of 1-2 sentences, an
    attribution; the paragraphs those of article ``body`` when given."""
    rng = random.Random(seed * 1_000_003 + (index if body is None else body))
    paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(1, 2))) for _ in range(rng.randint(2, 3))]
    paragraphs[-1] += f" [Source attribution: {rng.choice(ATTRIBUTIONS)}]"
    return _title(index) + "\n\n" + "\n\n".join(paragraphs) + "\n"


def write_article(folder: Path, index: int, templates: int = 0) -> Path:
    """Article ``index`` as a file; with ``templates``, its paragraphs are those of article
    ``index % templates`` (see ``history_fill.py``)."""
    path = folder / f"{index:06d}.txt"
    tmp = folder / f".{index:06d}.tmp"
    tmp.write_text(article_text(index, body=index % templates if templates else None), encoding="utf-8")
    tmp.replace(path)  # never half a file in the folder
    return path


def write_config(base: Path, languages: tuple[str, ...] = LANGUAGES) -> Path:
    engine = "apertium" if languages == LANGUAGES else "bench"
    cfg = base / "config.toml"
    cfg.write_text(
        f"""# written by benchmarks/scale_bench.py
[site]
title = "Scale Bench News"
base_url = "https://bench.example.org/"
source_language = "en"

[output]
feeds_dir = "{base / "out" / "feeds"}"
translations_dir = "{base / "out" / "translations"}"
state_dir = "{base / "state"}"

[translate]
languages = {json.dumps(list(languages))}
engines = ["{engine}"]

# A desk's drop folder: each file leaves it once stored (a folder that keeps 100,000
# files costs half a second a poll to check them; docs/sources.md).
[[sources]]
name = "bench"
type = "folder"
path = "{base / "articles"}"
move_to = "imported"
""",
        encoding="utf-8",
    )
    return cfg


# --------------------------------------------------------------------------- runs


@dataclass
class Run:
    seconds: float
    rss_mb: float
    status: int


def _db_counts(state: Path) -> str:
    """Articles and translations stored so far (read-only peek, for progress only)."""
    db = state / "syndicate.db"
    if not db.exists():
        return "no store yet"
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5)
        try:
            names = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
            parts = []
            for table in ("articles", "translations"):
                if table in names:
                    parts.append(f"{table} {con.execute(f'select count(*) from {table}').fetchone()[0]}")
            return ", ".join(parts) or "store empty"
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"store busy ({exc})"


def run_once(
    python: str,
    cfg: Path,
    *,
    progress_every: float = 0.0,
    state: Path | None = None,
    label: str = "",
    extra: list[str] | None = None,
) -> Run:
    """One whole ``syndicate once`` process: wall time, its own peak RSS, exit status."""
    program = [str(BENCH_ENGINE)] if 'engines = ["bench"]' in cfg.read_text() else ["-m", "syndicate"]
    cmd = [python, *(extra or []), *program, "--config", str(cfg), "-q", "once"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=cfg.parent, stdout=log, stderr=subprocess.STDOUT, env=env)
        stop = threading.Event()
        if progress_every and state is not None:

            def report() -> None:
                while not stop.wait(progress_every):
                    print(f"    {label} {time.perf_counter() - started:7.0f} s: {_db_counts(state)}", flush=True)

            threading.Thread(target=report, daemon=True).start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        stop.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    code = proc.returncode
    if code not in (0,):
        tail = "\n".join(output.strip().splitlines()[-15:])
        print(f"    {label}: exit status {code}\n{tail}", file=sys.stderr, flush=True)
        if code not in (1,):
            raise SystemExit(f"syndicate once failed ({code}): {' '.join(cmd)}")
    # ru_maxrss is in KiB on Linux.
    return Run(seconds=elapsed, rss_mb=usage.ru_maxrss / 1024, status=code)


@dataclass
class Result:
    n: int
    fill_s: float
    fill_rss_mb: float
    no_change_s: float
    one_new_s: float
    peak_rss_mb: float
    written_bytes: int = 0  # median bytes a one-new run writes
    written_files: int = 0
    no_change_runs: list[float] = field(default_factory=list)
    one_new_runs: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


def calibrate(python: str) -> float:
    """Seconds of :data:`CALIBRATION` (the best of 3), in a process of ``python``."""
    runs = [
        float(subprocess.run([python, "-c", CALIBRATION], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    return round(min(runs), 3)


def _files(*roots: Path) -> dict[str, tuple[int, int]]:
    """{path: (size, mtime_ns)} of every file under ``roots``."""
    out: dict[str, tuple[int, int]] = {}
    stack = [str(root) for root in roots if root.exists()]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    out[entry.path] = (st.st_size, st.st_mtime_ns)
    return out


#: The listing a walker process took before a run (see :func:`_snapshot`).
_BEFORE: dict[str, tuple[int, int]] = {}


def _snapshot(roots: tuple[Path, ...]) -> None:
    """In the walker process: list every file under ``roots`` before a run.

    The bench's own process never holds a listing: Linux hands a child the parent's peak
    RSS with its ``ru_maxrss`` (the image it replaces at exec counts), so a bench that held
    the 324,000 paths of a 100,000-article history reported every run after as using 220 MB
    where it used 114."""
    _BEFORE.clear()
    _BEFORE.update(_files(*roots))


def _written_since(roots: tuple[Path, ...], state: str) -> tuple[int, int]:
    """In the walker process: :func:`_written` since the last :func:`_snapshot`."""
    return _written(_BEFORE, _files(*roots), state)


def _written(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], state: str) -> tuple[int, int]:
    """(bytes, files) a run wrote: output files added or replaced, whole; the store's
    files by what they grew (SQLite writes pages in place: growth is a lower bound)."""
    total = files = 0
    for path, (size, mtime) in after.items():
        old = before.get(path)
        if path.startswith(state):
            total += max(0, size - (old[0] if old else 0))
        elif old is None or old[1] != mtime:
            total += size
            files += 1
    return total, files


def fill_through_store(n: int, python: str, cfg: Path, articles: Path) -> Run:
    """``--fill store``: the first :data:`TEMPLATES` articles through a real ``once``, the
    rest stored by ``history_fill.py`` (the real poll, and the templates' translations
    retitled, through the store's API), then a real ``once`` that publishes them all."""
    templates = min(n, TEMPLATES)
    state = cfg.parent / "state"
    for i in range(templates):
        write_article(articles, i)
    print(f"N={n}: fill: {templates} template article(s) through a real `once`...", flush=True)
    first = run_once(python, cfg, progress_every=30.0, state=state, label=f"templates N={n}")
    for i in range(templates, n):
        write_article(articles, i, templates)
    started = time.perf_counter()
    if n > templates:
        subprocess.run(
            [python, str(HISTORY_FILL), "--config", str(cfg), "--templates", str(templates)], check=True, cwd=cfg.parent
        )
    stored = time.perf_counter() - started
    print(f"N={n}: fill: {n - templates} article(s) stored through the store's API in {stored:.0f} s", flush=True)
    publish = run_once(python, cfg, progress_every=60.0, state=state, label=f"publish fill N={n}")
    print(f"N={n}: fill: the `once` that publishes them took {publish.seconds:.0f} s", flush=True)
    return Run(first.seconds + stored + publish.seconds, max(first.rss_mb, publish.rss_mb), publish.status)


def bench_size(
    n: int, python: str, base: Path, languages: tuple[str, ...] = LANGUAGES, fill_mode: str = "once"
) -> Result:
    articles = base / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    cfg = write_config(base, languages)
    filled = base / "filled.json"
    if filled.exists():  # --keep DIR again: measure the history built before
        fill = Run(**json.loads(filled.read_text()))
        print(f"N={n}: reusing the history in {base}", flush=True)
    elif fill_mode == "store":
        fill = fill_through_store(n, python, cfg, articles)
    else:
        for i in range(n):
            write_article(articles, i)
        print(f"N={n}: {n} articles in {articles}; fill (one `once` over all of them)...", flush=True)
        fill = run_once(python, cfg, progress_every=30.0, state=base / "state", label=f"fill N={n}")
    filled.write_text(json.dumps(asdict(fill)))
    print(f"N={n}: fill {fill.seconds:.1f} s, peak RSS {fill.rss_mb:.0f} MB ({_db_counts(base / 'state')})", flush=True)
    fresh = n + sum(  # the next new article: the runs before added theirs (most are moved to imported/)
        1
        for folder in (articles, articles / "imported")
        if folder.is_dir()
        for name in os.listdir(folder)
        if name.endswith(".txt") and int(name.split(".", 1)[0]) >= n
    )

    # One settling run: anything the fill left for a second pass (retries, feed history)
    # should not count as "nothing new".
    settle = run_once(python, cfg, label=f"settle N={n}")
    print(f"N={n}: settle run {settle.seconds:.2f} s", flush=True)

    no_change = []
    for k in range(REPEATS):
        r = run_once(python, cfg, label=f"no-change N={n} #{k + 1}")
        no_change.append(r)
        print(f"N={n}: no-change #{k + 1} {r.seconds:.2f} s, RSS {r.rss_mb:.0f} MB", flush=True)

    one_new = []
    written: list[tuple[int, int]] = []
    roots = (base / "out", base / "state")
    # The listings are taken by a process of their own (see _snapshot).
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as walker:
        for k in range(REPEATS):
            write_article(articles, fresh + k)  # distinct, never seen by the store
            walker.submit(_snapshot, roots).result()
            r = run_once(python, cfg, label=f"one-new N={n} #{k + 1}")
            written.append(walker.submit(_written_since, roots, str(base / "state")).result())
            one_new.append(r)
            print(
                f"N={n}: one-new #{k + 1} {r.seconds:.2f} s, RSS {r.rss_mb:.0f} MB, "
                f"{written[-1][0] / 1024:.0f} KiB in {written[-1][1]} file(s)",
                flush=True,
            )

    runs = no_change + one_new
    return Result(
        n=n,
        fill_s=round(fill.seconds, 2),
        fill_rss_mb=round(fill.rss_mb, 1),
        no_change_s=round(statistics.median(r.seconds for r in no_change), 3),
        one_new_s=round(statistics.median(r.seconds for r in one_new), 3),
        peak_rss_mb=round(max(r.rss_mb for r in runs), 1),
        written_bytes=int(statistics.median(b for b, _ in written)),
        written_files=int(statistics.median(f for _, f in written)),
        no_change_runs=[round(r.seconds, 3) for r in no_change],
        one_new_runs=[round(r.seconds, 3) for r in one_new],
        statuses=[fill.status, settle.status, *(r.status for r in runs)],
    )


# --------------------------------------------------------------------------- report


def _mark(ok: bool | None) -> str:
    return "" if ok is None else ("  ok" if ok else "  MISSED")


def _report_many(results: list[Result], languages: tuple[str, ...]) -> float | None:
    """Issue 23's targets: a year of news in many languages, against the smallest N."""
    by_n = {r.n: r for r in results}
    ns = sorted(by_n)
    small, big = by_n[ns[0]], by_n[ns[-1]]
    print()
    print(f"targets (issue 23, {len(languages)} languages, {big.n:,} articles against {small.n:,}):")
    worst = max(r.no_change_s for r in results)
    print(
        f"  no-change < {TARGET_NO_CHANGE_S:g} s at every N    worst {worst:.2f} s" + _mark(worst < TARGET_NO_CHANGE_S)
    )
    peak = max(r.peak_rss_mb for r in results)
    print(f"  peak RSS < {TARGET_RSS_MB:g} MB    measured {peak:.0f} MB" + _mark(peak < TARGET_RSS_MB))
    if big is small:
        return None
    growth = round(big.one_new_s / small.one_new_s, 2)
    print(
        f"  one-new {big.n:,} / {small.n:,} <= {TARGET_GROWTH:g}x    measured {growth:.2f}x"
        + _mark(growth <= TARGET_GROWTH)
    )
    written = big.written_bytes / max(small.written_bytes, 1)
    print(
        f"  bytes written per new article, {big.n:,} / {small.n:,}: {written:.2f}x"
        f" ({big.written_bytes / 1024:.0f} KiB against {small.written_bytes / 1024:.0f} KiB; should not grow)"
    )
    return growth


def report(results: list[Result], calibration: tuple[float, float], languages: tuple[str, ...] = LANGUAGES) -> dict:
    print()
    print(
        f"{'N':>7} {'fill s':>9} {'no-change s':>12} {'one-new s':>10} {'peak RSS MB':>12} {'written KiB':>12}"
        f" {'files':>6}  (fill RSS MB)"
    )
    for r in results:
        print(
            f"{r.n:>7} {r.fill_s:>9.1f} {r.no_change_s:>12.2f} {r.one_new_s:>10.2f} {r.peak_rss_mb:>12.0f} "
            f"{r.written_bytes / 1024:>12.0f} {r.written_files:>6}  ({r.fill_rss_mb:.0f})"
        )
    growth: float | None = None
    if len(languages) > len(LANGUAGES):
        growth = _report_many(results, languages)
    else:
        by_n = {r.n: r for r in results}
        big = by_n.get(10_000)
        small = by_n.get(200)
        growth = round(big.one_new_s / small.one_new_s, 2) if big and small else None
        print()
        print("targets (issue 10, with 10,000 articles of history, 2-core machine):")
        print(
            f"  no-change poll < {TARGET_NO_CHANGE_S:g} s"
            + (
                f"    measured {big.no_change_s:.2f} s" + _mark(big.no_change_s < TARGET_NO_CHANGE_S)
                if big
                else "    (N=10000 not measured)"
            )
        )
        print(
            f"  one-new poll   < {TARGET_ONE_NEW_S:g} s"
            + (
                f"    measured {big.one_new_s:.2f} s" + _mark(big.one_new_s < TARGET_ONE_NEW_S)
                if big
                else "    (N=10000 not measured)"
            )
        )
        print(
            f"  peak RSS       < {TARGET_RSS_MB:g} MB"
            + (
                f"  measured {big.peak_rss_mb:.0f} MB" + _mark(big.peak_rss_mb < TARGET_RSS_MB)
                if big
                else "  (N=10000 not measured)"
            )
        )
        if growth is not None:
            print(
                f"  one-new 10,000 / 200 <= {TARGET_GROWTH:g}x   measured {growth:.2f}x"
                + _mark(growth <= TARGET_GROWTH)
            )
        else:
            ns = sorted(by_n)
            if len(ns) >= 2:
                lo, hi = by_n[ns[0]], by_n[ns[-1]]
                print(
                    f"  one-new 10,000 / 200 <= {TARGET_GROWTH:g}x   "
                    f"(not measured; {hi.n}/{lo.n}: {hi.one_new_s / lo.one_new_s:.2f}x)"
                )
    load = os.getloadavg()
    print(f"load average now: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cpus: {os.cpu_count()}")
    print(f"machine speed: sum(range(3e7)) took {calibration[0]:.3f} s before, {calibration[1]:.3f} s after")
    summary = {
        "bench": "scale",
        "languages": list(languages),
        "engines": ["apertium" if languages == LANGUAGES else "bench"],
        "repeats": REPEATS,
        "results": [asdict(r) for r in results],
        # Issue 10's (two languages): 10,000 over 200; issue 23's (more): the largest N over the smallest.
        "one_new_growth": growth,
        "targets": {
            "no_change_s": TARGET_NO_CHANGE_S,
            "one_new_s": TARGET_ONE_NEW_S,
            "peak_rss_mb": TARGET_RSS_MB,
            "one_new_growth": TARGET_GROWTH,
        },
        "loadavg": [round(x, 2) for x in load],
        "calibration_s": list(calibration),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="200,2000", help="comma-separated N (default 200,2000; add 10000 for the target)"
    )
    parser.add_argument(
        "--languages",
        type=int,
        default=len(LANGUAGES),
        help=f"target languages (default {len(LANGUAGES)}, Apertium's es and ca; up to {len(MANY_LANGUAGES)} "
        "with the fast bench engine)",
    )
    parser.add_argument(
        "--fill",
        choices=("once", "store"),
        default="once",
        help="how the history is built: one real `once` over every article (default), or, with the bench engine, "
        f"{TEMPLATES} articles through a real `once` and the rest through the store's API (history_fill.py), "
        "then a real `once` that publishes them all",
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs syndicate (default: this one)")
    parser.add_argument(
        "--keep",
        type=Path,
        help="build in DIR/N<size> and leave it there, or measure the history a run with the same DIR built "
        "(default: a temporary directory, removed)",
    )
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes comma-separated integers, e.g. 200,2000")
    if not sizes or any(n < 1 for n in sizes):
        parser.error("--sizes needs at least one positive N")
    if max(sizes) + 10 * REPEATS > TITLES:
        parser.error(f"at most {TITLES - 10 * REPEATS} articles (distinct titles)")
    if not 1 <= args.languages <= len(MANY_LANGUAGES):
        parser.error(f"--languages takes 1 to {len(MANY_LANGUAGES)}")
    languages = LANGUAGES if args.languages == len(LANGUAGES) else MANY_LANGUAGES[: args.languages]
    if args.fill == "store" and languages == LANGUAGES:
        parser.error("--fill store needs the bench engine: --languages other than 2")
    if languages == LANGUAGES and shutil.which("apertium") is None:
        raise SystemExit("apertium is not installed (apt-get install apertium apertium-eng-spa apertium-eng-cat)")

    # Byte-compiled, as pip leaves an installed package: an editable checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module in every process.
    subprocess.run(
        [args.python, "-m", "compileall", "-q", str(ROOT / "syndicate")], check=True, stdout=subprocess.DEVNULL
    )
    before = calibrate(args.python)
    load = os.getloadavg()
    print(
        f"scale bench: sizes {sizes}, python {args.python}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )
    results = []
    for n in sizes:
        if args.keep:
            base = args.keep.resolve() / f"N{n}"
            if base.exists() and not (base / "filled.json").exists():
                raise SystemExit(f"{base} exists but its history was never completed; remove it")
            base.mkdir(parents=True, exist_ok=True)
            results.append(bench_size(n, args.python, base, languages, args.fill))
        else:
            with tempfile.TemporaryDirectory(prefix=f"scale-bench-{n}-") as tmp:
                results.append(bench_size(n, args.python, Path(tmp), languages, args.fill))
    report(results, (before, calibrate(args.python)), languages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
