"""A real cluster: a scheduler and two workers (subprocesses) on Redis and PostgreSQL.

Over the bundled sample and a generated 200-article folder source, in Spanish and
Catalan with Apertium, the cluster's feeds and pages are compared byte for byte with a
single-machine ``once`` on SQLite at the same (fixed) clock; then faults: a worker child
killed mid-translation, a whole worker killed mid-batch (Redis restarted mid-run is in
test_cluster_faults.py).
Afterwards every article is published once in every language and no entry id repeats.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from tests.cluster.harness import (
    BIG_BATCH,
    ClusterHarness,
    assert_complete,
    cluster_config,
    log_has,
    outputs,
    polled,
)

pytestmark = [pytest.mark.apertium, pytest.mark.timeout(240)]

if shutil.which("apertium") is None:
    pytest.skip("Apertium is not installed (make setup installs it)", allow_module_level=True)


def test_scheduler_and_two_workers_match_single_machine(
    tmp_path: Path, fresh_redis_url: str, fresh_postgres_url: str, expected: dict[str, bytes]
) -> None:
    base = tmp_path / "cluster"
    base.mkdir()
    config = cluster_config(base, broker_url=fresh_redis_url, store_url=fresh_postgres_url)
    cluster = ClusterHarness(config, fresh_redis_url)
    try:
        # One worker polls (so the sources are read one after the other, in config order,
        # as `once` reads them); both translate and publish.
        cluster.worker("w1", "--queues", "poll,translate,publish")
        cluster.worker("w2", "--queues", "translate,publish")
        cluster.scheduler()
        cluster.wait_idle(150, check=lambda: polled(fresh_postgres_url, "sample", "generated"))
    finally:
        cluster.close()
    got = outputs(base)
    assert sorted(got) == sorted(expected)
    different = [name for name in expected if got[name] != expected[name]]
    assert not different, f"{len(different)} file(s) differ, e.g. {different[:5]}"
    assert_complete(base)
    both = {r.name: r.tail(400) for r in cluster.roles}
    assert "syndicate.translate" in both["w1"] + both["w2"]


def test_killed_child_and_killed_worker_lose_nothing_and_duplicate_nothing(
    tmp_path: Path, fresh_redis_url: str, fresh_postgres_url: str, expected: dict[str, bytes]
) -> None:
    base = tmp_path / "cluster"
    base.mkdir()
    # Redis hands a dead worker's task to another one after the visibility timeout.
    config = cluster_config(
        base, broker_url=fresh_redis_url, store_url=fresh_postgres_url, visibility_timeout="22s", task_time_limit="20s"
    )
    cluster = ClusterHarness(config, fresh_redis_url)
    try:
        w1 = cluster.worker("w1", "--queues", "poll,translate,publish")
        cluster.scheduler()
        # 1. kill -9 the worker's child in the middle of a translation batch: the main
        # process sees it die and requeues the task (task_reject_on_worker_lost).
        cluster.wait_for("w1 translating a big batch", lambda: log_has(w1, BIG_BATCH), 90, interval=0.05)
        children = cluster.wait_for("w1's child", w1.children, 10)
        os.kill(children[0], signal.SIGKILL)
        cluster.wait_for("the batch redelivered", lambda: log_has(w1, r"delivery 2 of at most"), 60)
        # 2. a second worker takes the other language's batch; kill it whole (main
        # process and child, as a lost machine) in the middle of it, and start it again.
        w2 = cluster.worker("w2", "--queues", "translate,publish")
        cluster.wait_for("w2 translating a big batch", lambda: log_has(w2, BIG_BATCH), 90, interval=0.05)
        cluster.kill(w2)
        w2b = cluster.worker("w2b", "--queues", "translate,publish")
        cluster.wait_idle(150, check=lambda: polled(fresh_postgres_url, "sample", "generated"))
    finally:
        cluster.close()
    logs = "".join(r.tail(100_000) for r in (w1, w2b))
    assert len(re.findall(r"delivery 2 of at most", logs)) >= 2, "both killed batches were delivered again"
    assert_complete(base)
    got = outputs(base)
    different = [name for name in expected if got.get(name) != expected[name]]
    assert not different, f"{len(different)} file(s) differ from the single-machine run, e.g. {different[:5]}"
    from sqlalchemy import create_engine

    from syndicate.cluster.ledger import DeliveryLedger

    engine = create_engine(fresh_postgres_url)
    try:
        assert DeliveryLedger(engine).records() == []  # nothing in flight, nothing given up
    finally:
        engine.dispose()
