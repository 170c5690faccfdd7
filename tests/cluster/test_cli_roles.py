"""``syndicate run --role scheduler|worker`` and ``syndicate status`` on a cluster, as an
operator runs them; and the messages for what is missing or unreachable."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.harness import (
    ClusterHarness,
    Role,
    cluster_config,
    feed_entry_ids,
    polled,
)
from tests.conftest import ROOT
from tests.services import free_port

SYNDICATE = [sys.executable, "-m", "syndicate"]


def syndicate(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SYNDICATE, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def test_worker_without_a_broker_names_the_key(tmp_path: Path) -> None:
    config = cluster_config(tmp_path, broker_url=None, store_url=None, generated=0)
    done = syndicate("--config", str(config), "run", "--role", "worker")
    assert done.returncode == 2, done.stderr
    assert "cluster.broker_url" in done.stderr and "Traceback" not in done.stderr


def test_unreachable_broker_names_the_key_and_host(tmp_path: Path) -> None:
    port = free_port()
    config = cluster_config(tmp_path, broker_url=f"redis://127.0.0.1:{port}/0", store_url=None, generated=0)
    for role in ("worker", "scheduler"):
        done = syndicate("--config", str(config), "run", "--role", role)
        assert done.returncode == 3, done.stderr
        assert f"cluster.broker_url: cannot reach Redis at 127.0.0.1:{port}" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_unreachable_store_names_the_host(tmp_path: Path, fresh_redis_url: str) -> None:
    port = free_port()
    store = f"postgresql://syndicate@127.0.0.1:{port}/syndicate"
    config = cluster_config(tmp_path, broker_url=fresh_redis_url, store_url=store, generated=0)
    done = syndicate("--config", str(config), "run", "--role", "worker")
    assert done.returncode == 3, done.stderr
    assert "127.0.0.1" in done.stderr and "Traceback" not in done.stderr


def test_role_options_are_checked(tmp_path: Path, fresh_redis_url: str) -> None:
    config = cluster_config(tmp_path, broker_url=fresh_redis_url, store_url=None, generated=0)
    done = syndicate("--config", str(config), "run", "--languages", "es")
    assert done.returncode == 2 and "--role worker" in done.stderr, done.stderr
    done = syndicate("--config", str(config), "run", "--role", "worker", "--languages", "fr")
    assert done.returncode == 2 and "translate.languages" in done.stderr, done.stderr
    done = syndicate("--config", str(config), "run", "--role", "worker", "--queues", "pol")
    assert done.returncode == 2 and "unknown queue 'pol'" in done.stderr, done.stderr


@pytest.mark.apertium
@pytest.mark.timeout(180)
@pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed (make setup installs it)")
def test_the_three_commands(tmp_path: Path, fresh_redis_url: str, fresh_postgres_url: str) -> None:
    config = cluster_config(tmp_path, broker_url=fresh_redis_url, store_url=fresh_postgres_url, generated=0)
    cluster = ClusterHarness(config, fresh_redis_url)

    def start(name: str, *args: str) -> Role:
        log = tmp_path / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [*SYNDICATE, "--config", str(config), "run", *args],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        role = Role(name, proc, log)
        cluster.roles.append(role)
        return role

    try:
        scheduler = start("scheduler", "--role", "scheduler")
        worker = start("worker", "--role", "worker")
        translator = start("translator", "--role", "worker", "--languages", "ca", "--queues", "translate")
        cluster.wait_idle(
            120,
            check=lambda: polled(fresh_postgres_url, "sample") and (tmp_path / "feeds" / "ca" / "atom.xml").exists(),
        )
        status = syndicate("--config", str(config), "status")
        assert "translate.es 0/0" in status.stdout and "workers: 2 answering" in status.stdout, status.stdout
        for role in (scheduler, worker, translator):
            role.proc.send_signal(signal.SIGTERM)
        for role in (scheduler, worker, translator):
            assert role.proc.wait(timeout=60) == 0, cluster.logs()
    finally:
        cluster.close()
    for language in ("es", "ca"):
        assert len([i for i in feed_entry_ids(tmp_path, language) if f":{language}/" in i]) == 7
    # `stats` and `once` with the cluster's config use the cluster's store: no SQLite file
    # of their own, nothing translated or written again.
    from syndicate.config import load_settings

    settings = load_settings(config)
    files = {
        p: p.stat().st_mtime_ns
        for d in (settings.feeds_dir, settings.translations_dir)
        for p in d.rglob("*")
        if p.is_file()
    }
    stats = syndicate("--config", str(config), "stats")
    assert stats.returncode == 0, stats.stderr
    once = syndicate("--config", str(config), "once", timeout=300)
    assert once.returncode == 0, once.stderr[-3000:]
    assert not (settings.state_dir / "syndicate.db").exists()
    after = {
        p: p.stat().st_mtime_ns
        for d in (settings.feeds_dir, settings.translations_dir)
        for p in d.rglob("*")
        if p.is_file()
    }
    assert after == files
