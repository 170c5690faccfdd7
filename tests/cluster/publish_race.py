"""One contender of the publish race: ``python -m tests.cluster.publish_race CONFIG OUT START LANG...``.

Waits until the wall clock reaches START (so two contenders start together), then runs
the ``syndicate.publish`` task of each language in this process (as a worker child would,
lock and ledger included) and writes to OUT when, inside the lock, each publish began and
ended.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

from tests.cluster.harness import NOW


def main(argv: list[str]) -> int:
    config, out, start, *languages = argv
    from syndicate.cluster.app import configure
    from syndicate.cluster.runtime import Runtime, install
    from syndicate.config import load_settings

    settings = load_settings(Path(config))
    configure(settings)
    fixed = datetime.fromisoformat(NOW)
    runtime = Runtime(settings, clock=lambda: fixed)
    install(runtime)
    work = runtime.work
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

    while time.time() < float(start):
        time.sleep(0.005)
    results = [publish_task.apply(args=(language,)).get(propagate=True) for language in languages]
    Path(out).write_text(json.dumps({"spans": spans, "results": results}), encoding="utf-8")
    runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
