"""Start a cluster role as the tests' subprocess: ``python -m tests.cluster.launch worker|scheduler ...``.

The same entry points as ``syndicate run --role worker|scheduler``
(:func:`syndicate.cluster.roles.run_worker` / ``run_scheduler``), plus what only tests
need: a fixed clock (``--now``), so two runs at different times give the same bytes,
and the scheduler's loop interval and lock timeout in seconds.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster.launch")
    parser.add_argument("role", choices=("worker", "scheduler"))
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--now", help="fixed clock, ISO 8601 with offset")
    parser.add_argument("--languages", default="")
    parser.add_argument("--queues", default="")
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--hostname")
    parser.add_argument("--max-interval", type=float, default=0.5)
    parser.add_argument("--lock-timeout", type=float, default=3.0)
    parser.add_argument(
        "--crash-translating",
        metavar="LANG",
        help="the worker child kills itself (SIGKILL) whenever it starts translating LANG",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
    )
    from syndicate.cluster.queues import parse_queues
    from syndicate.cluster.roles import run_scheduler, run_worker
    from syndicate.config import load_settings

    settings = load_settings(args.config)
    if args.role == "scheduler":
        return run_scheduler(settings, max_interval=args.max_interval, lock_timeout=args.lock_timeout)
    languages = [x for x in args.languages.split(",") if x] or list(settings.translate.languages)
    kwargs = {}
    if args.now:
        fixed = datetime.fromisoformat(args.now)
        kwargs["clock"] = lambda: fixed
    if args.crash_translating:
        kwargs["work_factory"] = _crashing_work(args.crash_translating)
    return run_worker(
        settings,
        languages=languages,
        queues=parse_queues(args.queues, languages) if args.queues else None,
        concurrency=args.concurrency,
        hostname=args.hostname,
        **kwargs,
    )


def _crashing_work(language: str):  # type: ignore[no-untyped-def]
    """A Work whose translate() into ``language`` dies like a segfaulting model would."""
    import os
    import signal

    from syndicate.work import Work

    class CrashingWork(Work):
        def translate(self, target, article_ids=None):  # type: ignore[no-untyped-def]
            if target == language:
                os.kill(os.getpid(), signal.SIGKILL)
            return super().translate(target, article_ids)

    return CrashingWork


if __name__ == "__main__":
    sys.exit(main())
