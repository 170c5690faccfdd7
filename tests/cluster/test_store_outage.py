"""PostgreSQL stopped for a while mid-translate and again mid-publish (issue 24, part 1):
the tasks in flight wait for it within their delivery and do their work again, nothing
is acked as failed or lost, no person acts, and the outputs are byte for byte those of a
single-machine run over the same articles."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.cluster.harness import (
    ClusterHarness,
    Role,
    assert_complete,
    cluster_config,
    log_has,
    outputs,
    polled,
)
from tests.services import PostgresServer, postgres_bindir

pytestmark = [
    pytest.mark.apertium,
    pytest.mark.timeout(300),
    pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed (make setup installs it)"),
    pytest.mark.skipif(postgres_bindir() is None, reason="PostgreSQL is not installed (make test installs it)"),
]

#: Seconds PostgreSQL stays stopped after a task has found it down, each time: longer than
#: the first pause of the task's wait for the store (1 s), so the task sees it still down
#: and waits on, within its delivery, until it is back.
DOWN = 2.0


def test_postgresql_stopped_mid_translate_and_mid_publish_loses_nothing(
    tmp_path: Path, fresh_redis_url: str, expected_40: dict[str, bytes]
) -> None:
    expected = expected_40  # the single-machine run over the same articles (40 generated and the sample)
    base = tmp_path / "cluster"
    base.mkdir()
    with PostgresServer() as postgres:
        store = postgres.create_database()
        config = cluster_config(
            base,
            broker_url=fresh_redis_url,
            store_url=store,
            generated=40,
            visibility_timeout="90s",
            task_time_limit="60s",
        )
        cluster = ClusterHarness(config, fresh_redis_url)
        try:
            worker = cluster.worker("w1", "--queues", "poll,translate,publish")
            cluster.scheduler()
            cluster.wait_for(
                "a translation batch running", lambda: log_has(worker, r"translating \d+ segment"), 90, interval=0.05
            )
            outage(postgres, cluster, worker)
            cluster.wait_for(
                "a publish", lambda: log_has(worker, r"syndicate\.publish\[[^\]]+\] received"), 120, interval=0.05
            )
            outage(postgres, cluster, worker)
            cluster.wait_idle(180, check=lambda: polled(store, "sample", "generated"))
            assert worker.alive(), cluster.logs()
            log = worker.tail(100_000)
        finally:
            cluster.close()
    assert_complete(base, articles=47)
    got = outputs(base)
    assert sorted(got) == sorted(expected)
    different = [name for name in expected if got[name] != expected[name]]
    assert not different, f"{len(different)} file(s) differ, e.g. {different[:5]}"
    assert log.count("the store does not answer") >= 2 and log.count("the store answers again") >= 2
    assert "given up" not in log


def outage(postgres: PostgresServer, cluster: ClusterHarness, worker: Role) -> None:
    """Stop PostgreSQL until a task of ``worker`` has found it down, and ``DOWN`` s more."""
    before = worker.tail(100_000).count("the store does not answer")
    postgres.stop()
    cluster.wait_for(
        "a task finding the store down",
        lambda: worker.tail(100_000).count("the store does not answer") > before,
        60,
        interval=0.05,
    )
    time.sleep(DOWN)
    postgres.start()
