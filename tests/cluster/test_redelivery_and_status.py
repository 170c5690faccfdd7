"""A task that kills its worker every time is given up after ``max_redeliveries`` and
recorded; the status shows queue depths, workers seen, a lost worker and the failure."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.cluster.harness import (
    ClusterHarness,
    cluster_config,
    feed_entry_ids,
    log_has,
    polled,
)

pytestmark = [
    pytest.mark.apertium,
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed (make setup installs it)"),
]


def test_a_task_that_kills_its_worker_is_given_up_and_shown(
    tmp_path: Path, fresh_redis_url: str, fresh_postgres_url: str
) -> None:
    from syndicate.cluster.status import cluster_status, describe
    from syndicate.config import load_settings

    config = cluster_config(
        tmp_path, broker_url=fresh_redis_url, store_url=fresh_postgres_url, generated=0, max_redeliveries=3
    )
    settings = load_settings(config)
    cluster = ClusterHarness(config, fresh_redis_url)
    try:
        crashing = cluster.worker("crashing", "--crash-translating", "ca")
        cluster.scheduler()
        cluster.wait_idle(90, check=lambda: polled(fresh_postgres_url, "sample"))
        status = cluster_status(settings, timeout=1.0)
        assert not status.errors, status.errors
        assert [q.queue for q in status.queues] == ["poll", "translate.es", "translate.ca", "publish"]
        assert all(q.waiting == 0 and q.running == 0 for q in status.queues)
        assert [(w.name, w.answering) for w in status.workers] == [("crashing@test", True)]
        # Delivered three times (each killed its child), given up on the fourth.
        [failed] = status.given_up
        assert (failed.task, failed.deliveries, failed.state) == ("syndicate.translate", 4, "failed")
        assert "given up after 3 deliveries" in (failed.last_error or "")
        assert log_has(crashing, "WorkerLostError")
        text = "\n".join(describe(status))
        assert "translate.ca 0/0" in text and "crashing@test: ok" in text
        assert "given up: syndicate.translate" in text and "given up after 3 deliveries" in text
        # The other language did not wait for the one given up.
        assert len([i for i in feed_entry_ids(tmp_path, "es") if ":es/" in i]) == 7
        assert not (tmp_path / "feeds" / "ca").exists()
        # A worker killed with its children is shown as lost, not silently forgotten.
        cluster.kill(crashing)
        status = cluster_status(settings, timeout=1.0)
        assert [(w.name, w.answering) for w in status.workers] == [("crashing@test", False)]
        assert [w.name for w in status.lost_workers] == ["crashing@test"]
        assert "crashing@test: LOST" in "\n".join(describe(status))
        # The status page, its JSON and /metrics say the same.
        from syndicate import metrics
        from syndicate.serve.app import StatusService
        from syndicate.serve.status import ProcessInfo

        service = StatusService(settings, ProcessInfo(pid=os.getpid(), started=time.time(), runs_daemon=False))
        try:
            data = service.snapshot()
            # A scrape reads the cluster again itself, not what the last /status saw.
            metrics.CLUSTER_WORKERS.labels("lost").set(0)
            service._cluster_read = 0.0
            service.refresh_cluster()
            assert 'syndicate_cluster_workers{state="lost"} 1.0' in metrics.render().decode()
        finally:
            service.close()
        assert data is not None and data["cluster"] is not None
        assert "cluster worker crashing@test is lost" in data["attention"]
        shown = data["cluster"]
        assert [(q["queue"], q["waiting"], q["running"]) for q in shown["queues"]] == [
            ("poll", 0, 0),
            ("translate.es", 0, 0),
            ("translate.ca", 0, 0),
            ("publish", 0, 0),
        ]
        assert [(w["name"], w["answering"]) for w in shown["workers"]] == [("crashing@test", False)]
        assert [t["task"] for t in shown["given_up"]] == ["syndicate.translate"]
        exposed = metrics.render().decode()
        assert 'syndicate_cluster_workers{state="lost"} 1.0' in exposed
        assert 'syndicate_cluster_tasks{queue="translate.ca",state="waiting"} 0.0' in exposed
        assert "syndicate_cluster_tasks_given_up 1.0" in exposed
        # A healthy worker and a sweep do the work given up: Catalan is published, and the
        # given-up record is closed (status stops listing it).
        from celery import Celery

        cluster.worker("healthy")
        app = Celery("test", broker=fresh_redis_url, set_as_current=False)
        try:
            app.send_task("syndicate.sweep", queue="poll")
        finally:
            app.close()
        cluster.wait_idle(120, check=lambda: (tmp_path / "feeds" / "ca" / "atom.xml").exists())
        assert len([i for i in feed_entry_ids(tmp_path, "ca") if ":ca/" in i]) == 7
        assert cluster_status(settings, timeout=1.0).given_up == ()
    finally:
        cluster.close()


def test_the_sweep_translates_and_publishes_what_no_task_carries(
    tmp_path: Path, fresh_redis_url: str, fresh_postgres_url: str
) -> None:
    from celery import Celery

    from syndicate.config import load_settings
    from syndicate.store import Store
    from syndicate.translate.engines import Engines
    from syndicate.work import Work

    config = cluster_config(tmp_path, broker_url=fresh_redis_url, store_url=fresh_postgres_url, generated=0)
    settings = load_settings(config)
    # Articles stored, their translation tasks lost (as with a Redis without its AOF).
    with Store.from_url(fresh_postgres_url) as store, Engines(settings) as engines:
        assert len(Work(settings, store, engines).poll("sample").article_ids) == 7
    cluster = ClusterHarness(config, fresh_redis_url)
    try:
        cluster.worker("w1")
        app = Celery("test", broker=fresh_redis_url, set_as_current=False)
        try:
            app.send_task("syndicate.sweep", queue="poll")
        finally:
            app.close()
        cluster.wait_idle(90, check=lambda: (tmp_path / "feeds" / "ca" / "atom.xml").exists())
    finally:
        cluster.close()
    for language in ("es", "ca"):
        assert len([i for i in feed_entry_ids(tmp_path, language) if f":{language}/" in i]) == 7
