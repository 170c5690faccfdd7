"""The worker role on its own: SIGTERM finishes the task in hand (warm shutdown)."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

from tests.cluster.harness import ClusterHarness, cluster_config, log_has

pytestmark = [
    pytest.mark.apertium,
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed (make setup installs it)"),
]


def test_sigterm_lets_the_batch_in_hand_finish(tmp_path: Path, fresh_redis_url: str, fresh_postgres_url: str) -> None:
    from celery import Celery
    from sqlalchemy import create_engine

    from syndicate.cluster.ledger import DeliveryLedger
    from syndicate.config import load_settings
    from syndicate.store import Store
    from syndicate.translate.engines import Engines
    from syndicate.work import Work

    config = cluster_config(tmp_path, broker_url=fresh_redis_url, store_url=fresh_postgres_url, generated=200)
    settings = load_settings(config)
    with Store.from_url(fresh_postgres_url) as store, Engines(settings) as engines:
        ids = sorted(Work(settings, store, engines).poll("generated").article_ids)
    cluster = ClusterHarness(config, fresh_redis_url)
    try:
        worker = cluster.worker("w1", "--queues", "translate.es")
        app = Celery("test", broker=fresh_redis_url, set_as_current=False)
        try:
            app.send_task("syndicate.translate", args=(ids, "es", None), queue="translate.es")
        finally:
            app.close()
        cluster.wait_for("the batch started", lambda: log_has(worker, r"translating \d+ segment"), 60, interval=0.05)
        # Engines start in the child, after the fork: the main process's only children
        # are its pool's; Apertium runs under the child, sized by cluster.worker_threads.
        [child] = worker.children()
        assert "python" in _cmdline(child)
        stages = [p for p in _descendants(child) if "apertium" in _cmdline(p) or "lt-proc" in _cmdline(p)]
        assert stages
        # (A forked child's /proc environ is its parent's at exec: read a stage's, exec'd since.)
        assert b"OMP_NUM_THREADS=1\0" in Path(f"/proc/{stages[0]}/environ").read_bytes()
        worker.proc.send_signal(signal.SIGTERM)
        assert worker.proc.wait(timeout=60) == 0, cluster.logs()
        assert log_has(worker, r"Task syndicate.translate\[.*\] succeeded"), cluster.logs()
        # Acknowledged (nothing running or queued for translation); its publishes asked for.
        assert cluster.busy() == {
            "publish": 2,
            "syndicate:publish-pending:es": 1,
            "syndicate:publish-pending:ca": 1,
        }
    finally:
        cluster.close()
    with Store.from_url(fresh_postgres_url) as store:
        assert store.articles.pending_translation("es") == []
    engine = create_engine(fresh_postgres_url)
    try:
        assert DeliveryLedger(engine).records() == []
    finally:
        engine.dispose()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):  # children of every thread, not only the main one
        try:
            children += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    for child in children:
        out += [child, *_descendants(child)]
    return out
