"""One contender of the publish race: ``python -m tests.cluster.publish_race CONFIG OUT BARRIER N LANG...``.

Opens everything, then waits at a barrier (a file per contender in the folder BARRIER,
until there are N) so that all contenders ask at the same moment; then runs the
``syndicate.publish`` task of each language in this process (as a worker child would,
lock and ledger included) and writes to OUT, per language, when it asked, and when,
inside the lock, its publish began and ended.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from tests.cluster.harness import NOW


def main(argv: list[str]) -> int:
    config, out, barrier, contenders, *languages = argv
    from syndicate.cluster.app import configure
    from syndicate.cluster.runtime import Runtime, install
    from syndicate.config import load_settings

    settings = load_settings(Path(config))
    configure(settings)
    fixed = datetime.fromisoformat(NOW)
    runtime = Runtime(settings, clock=lambda: fixed)
    install(runtime)
    work = runtime.work
    runtime.store  # noqa: B018 - connected before the race
    spans: list[dict[str, object]] = []
    publish = work.publish

    def timed(language: str):  # type: ignore[no-untyped-def]
        began = time.time()
        try:
            return publish(language)
        finally:
            spans.append({"language": language, "began": began, "ended": time.time()})

    work.publish = timed  # type: ignore[method-assign]
    from syndicate.cluster.tasks import publish as publish_task

    Path(barrier, f"{os.getpid()}.ready").touch()
    deadline = time.monotonic() + 60
    while len(list(Path(barrier).glob("*.ready"))) < int(contenders):
        if time.monotonic() > deadline:
            raise SystemExit("the other contender never came")
        time.sleep(0.002)
    results = []
    for language in languages:
        asked = time.time()
        results.append(publish_task.apply(args=(language,)).get(propagate=True))
        spans[-1]["asked"] = asked
    Path(out).write_text(json.dumps({"spans": spans, "results": results}), encoding="utf-8")
    runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
