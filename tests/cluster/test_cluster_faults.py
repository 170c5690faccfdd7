"""Faults around the broker: Redis restarted mid-run; two schedulers at once, one killed."""

from __future__ import annotations

import ast
import json
import shutil
import signal
import time
from collections import Counter
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
from tests.services import RedisServer

pytestmark = [pytest.mark.timeout(180)]


@pytest.mark.apertium
@pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed (make setup installs it)")
def test_redis_restarted_mid_run_the_work_resumes(
    tmp_path: Path, fresh_postgres_url: str, expected_40: dict[str, bytes]
) -> None:
    expected = expected_40  # the single-machine run over the same articles (40 generated and the sample)
    base = tmp_path / "cluster"
    base.mkdir()
    with RedisServer() as redis_server:
        config = cluster_config(
            base,
            broker_url=redis_server.url,
            store_url=fresh_postgres_url,
            generated=40,
            visibility_timeout="12s",
            task_time_limit="10s",
        )
        cluster = ClusterHarness(config, redis_server.url)
        try:
            worker = cluster.worker("w1", "--queues", "poll,translate,publish")
            scheduler = cluster.scheduler()
            cluster.wait_for(
                "a translation batch running", lambda: log_has(worker, r"translating \d+ segment"), 90, interval=0.05
            )
            # SIGTERM: Redis writes its append-only file first. Down until the scheduler's
            # tick has met the refused connection (RedBeat's exited, before SteadyScheduler)
            # and the worker has lost its connection, and past the beat lock's expiry.
            broker_outage(redis_server, cluster, scheduler, worker)
            cluster.wait_for(
                "a publish", lambda: log_has(worker, r"syndicate\.publish\[[^\]]+\] received"), 120, interval=0.05
            )
            broker_outage(redis_server, cluster, scheduler, worker)  # and again while publishing
            cluster.wait_idle(120, check=lambda: polled(fresh_postgres_url, "sample", "generated"))
            assert worker.alive(), cluster.logs()
            assert scheduler.alive(), scheduler.tail()
            said = scheduler.tail(100_000)
            assert said.count("Redis does not answer") >= 2 and said.count("Redis answers again") >= 2, said
            assert said.count("the beat lock was lost while Redis was away") >= 2, said
        finally:
            cluster.close()
    assert_complete(base, articles=47)
    got = outputs(base)
    assert sorted(got) == sorted(expected)
    different = [name for name in expected if got[name] != expected[name]]
    assert not different, f"{len(different)} file(s) differ, e.g. {different[:5]}"


#: Seconds Redis stays down, each time, at least: past the scheduler's 3 s beat lock
#: (``--lock-timeout`` in tests/cluster/launch.py), so the lock expires while Redis is away
#: and the scheduler must take it again, as after a longer outage.
DOWN = 4.0


def broker_outage(redis_server: RedisServer, cluster: ClusterHarness, scheduler: Role, worker: Role) -> None:
    """Stop Redis until both the scheduler and the worker have found it gone, and ``DOWN`` s
    have passed; then start it again on the same port and data."""
    refused = scheduler.tail(100_000).count("Redis does not answer")
    lost = worker.tail(100_000).count("Connection to broker lost")
    redis_server.stop()
    stopped = time.monotonic()
    cluster.wait_for(
        "the scheduler and the worker finding Redis gone",
        lambda: (
            scheduler.tail(100_000).count("Redis does not answer") > refused
            and worker.tail(100_000).count("Connection to broker lost") > lost
        ),
        30,
        interval=0.05,
    )
    time.sleep(max(0.0, DOWN - (time.monotonic() - stopped)))
    redis_server.start()


def _polls_enqueued(cluster: ClusterHarness) -> Counter[str]:
    """Poll messages waiting in the ``poll`` queue (no worker consumes them), per source."""
    client = cluster.redis
    try:
        messages = client.lrange("poll", 0, -1)
    finally:
        client.close()
    return Counter(ast.literal_eval(json.loads(m)["headers"]["argsrepr"])[0] for m in messages)


def test_two_schedulers_enqueue_each_poll_once_and_one_takes_over(tmp_path: Path, fresh_redis_url: str) -> None:
    config = cluster_config(tmp_path, broker_url=fresh_redis_url, store_url=None, generated=1, interval="2s")
    cluster = ClusterHarness(config, fresh_redis_url)
    try:
        first = cluster.scheduler("s1")
        cluster.wait_for("s1 holding the lock", lambda: log_has(first, "Acquired lock"), 30)
        second = cluster.scheduler("s2")
        started = time.monotonic()
        time.sleep(7.2)
        counts = _polls_enqueued(cluster)
        elapsed = time.monotonic() - started
        # One scheduler: a poll at start, then one every 2 s. Two would enqueue twice that.
        expected = 1 + int(elapsed / 2) + 1
        assert set(counts) == {"sample", "generated"}, counts
        assert all(n <= expected for n in counts.values()), (counts, expected, cluster.logs())
        assert not log_has(second, "Acquired lock"), "the second scheduler must wait for the lock"
        # The holder dies without releasing the lock: the other takes over when it expires.
        cluster.kill(first, signal.SIGKILL)
        cluster.wait_for("s2 taking over", lambda: log_has(second, "Acquired lock"), 20)
        before = _polls_enqueued(cluster)
        time.sleep(4.5)
        after = _polls_enqueued(cluster)
        gained = {name: after[name] - before[name] for name in after}
        assert all(1 <= n <= 3 for n in gained.values()), (before, after, cluster.logs())
    finally:
        cluster.close()
