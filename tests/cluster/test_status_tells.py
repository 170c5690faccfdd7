"""`syndicate status` tells the operator what is wrong with a cluster (issue 24, part 5):
the broker or the store down (exit codes and both sides shown), workers that are
starting rather than lost, when a lost worker's tasks come back, and long argument
lists summarised."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syndicate.cluster.ledger import TaskRecord
from syndicate.cluster.status import (
    STARTING_GRACE,
    WORKERS_KEY,
    ClusterStatus,
    QueueDepth,
    WorkerSeen,
    describe,
    workers_seen,
)
from tests.cluster.harness import cluster_config
from tests.conftest import ROOT
from tests.services import free_port


def syndicate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_broker_that_does_not_answer_is_an_exit_1_naming_it(tmp_path: Path) -> None:
    port = free_port()
    config = cluster_config(tmp_path, broker_url=f"redis://127.0.0.1:{port}/0", store_url=None, generated=0)
    done = syndicate("--config", str(config), "status")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "needs attention:" in done.stdout
    assert f"cluster.broker_url: cannot reach Redis at 127.0.0.1:{port}" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_store_that_does_not_answer_still_shows_the_broker_side_and_exits_3(tmp_path: Path) -> None:
    redis_port, pg_port = free_port(), free_port()
    config = cluster_config(
        tmp_path,
        broker_url=f"redis://127.0.0.1:{redis_port}/0",
        store_url=f"postgresql://syndicate@127.0.0.1:{pg_port}/syndicate",
        generated=0,
    )
    done = syndicate("--config", str(config), "status")
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "cluster queues" in done.stdout  # the broker's side is there, unknown as it is
    assert f"127.0.0.1:{redis_port}" in done.stdout and f"127.0.0.1:{pg_port}" in done.stdout
    assert "Traceback" not in done.stderr


class FakeRedis:
    """The three hash calls workers_seen makes, on a dict."""

    def __init__(self, workers: dict[str, dict[str, Any]]) -> None:
        self.hash = {name: json.dumps(info) for name, info in workers.items()}

    def hgetall(self, _key: str) -> dict[bytes, str]:
        return {name.encode(): value for name, value in self.hash.items()}

    def hset(self, key: str, name: str, value: str) -> None:
        assert key == WORKERS_KEY
        self.hash[name] = value

    def hdel(self, _key: str, name: str) -> None:
        self.hash.pop(name, None)


def test_a_worker_that_just_registered_is_starting_not_lost() -> None:
    now = time.time()
    client = FakeRedis(
        {
            "new@a": {"queues": ["translate.es"], "started": now - 5, "last_seen": None},
            "old@b": {"queues": ["translate.es"], "started": now - STARTING_GRACE - 60, "last_seen": None},
            "dead@c": {"queues": ["publish"], "started": now - 7200, "last_seen": now - 3600},
            "ok@d": {"queues": ["poll"], "started": now - 7200, "last_seen": now - 30},
        }
    )
    seen = {w.name: w for w in workers_seen(client, {"ok@d": {"ok": "pong"}})}  # type: ignore[arg-type]
    assert seen["new@a"].starting and not seen["new@a"].answering
    assert not seen["old@b"].starting and not seen["dead@c"].starting and seen["ok@d"].answering
    status = ClusterStatus(queues=(), workers=tuple(seen.values()))
    assert {w.name for w in status.lost_workers} == {"old@b", "dead@c"}
    assert json.loads(client.hash["ok@d"])["last_seen"] >= now  # answering: seen now


def test_the_description_says_when_a_lost_workers_tasks_come_back_and_cuts_long_lists() -> None:
    taken = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    status = ClusterStatus(
        queues=(QueueDepth("translate.es", "es", 0, 1), QueueDepth("publish", None, 2, 0)),
        workers=(
            WorkerSeen("w1@a", False, ("translate.es",), taken, taken),
            WorkerSeen("w2@b", False, ("translate.es",), taken, None, starting=True),
        ),
        given_up=(
            TaskRecord(
                task_id="t-1",
                task="syndicate.translate",
                args=(list(range(1, 308)), "es"),
                deliveries=21,
                state="failed",
                last_error="killed",
                first_started=taken,
                updated=taken,
            ),
        ),
        oldest_running=taken,
        visibility=7200.0,
    )
    lines = describe(status)
    text = "\n".join(lines)
    assert "workers: 0 answering, 1 starting, 1 lost" in text
    assert "w2@b: starting" in text and "w1@a: LOST" in text
    assert "the oldest at 2026-12-06 12:00:00Z" in text
    given = next(line for line in lines if line.startswith("given up:"))
    assert "[1, 2, 3, 4, 5, ... 307 in all], 'es'" in given and "306" not in given
