"""An editor's correction on a cluster: saved through ``syndicate serve`` beside a worker
and a scheduler (Redis, PostgreSQL), it goes through the store and a translate task to
the publish task, and reaches the served Atom feed within seconds; the audit log in
PostgreSQL holds it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest

from tests.cluster.harness import ClusterHarness, cluster_config, polled
from tests.serve.conftest import start_server

pytestmark = [pytest.mark.apertium, pytest.mark.timeout(240)]

if shutil.which("apertium") is None:
    pytest.skip("Apertium is not installed (make setup installs it)", allow_module_level=True)

TOKEN = "cluster-desk-token-0123456789"


def test_a_correction_through_serve_reaches_the_cluster_feed(
    tmp_path: Path, fresh_redis_url: str, fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "cluster"
    base.mkdir()
    config = cluster_config(
        base, broker_url=fresh_redis_url, store_url=fresh_postgres_url, languages=("es",), generated=0
    )
    cluster = ClusterHarness(config, fresh_redis_url)
    server = None
    try:
        cluster.worker("w1", "--queues", "poll,translate,publish")
        cluster.scheduler()
        cluster.wait_idle(
            150, check=lambda: polled(fresh_postgres_url, "sample") and (base / "feeds" / "es" / "atom.xml").exists()
        )
        monkeypatch.setenv("SYNDICATE_EDITORS", f"rosa:{TOKEN}")
        server = start_server(config, "serve")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=server.base, timeout=10) as client:
            queue = client.get("/review/api/languages/es/entries", headers=auth).json()["entries"]
            article = queue[0]["article"]
            fixed = "Frase corregida en el clúster."
            started = time.monotonic()
            answer = client.post(
                f"/review/api/languages/es/entries/{article}/corrections",
                headers=auth,
                json={"segment": 1, "text": fixed},
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["published"] == "now"
            elapsed = None
            while time.monotonic() - started < 60:
                if fixed in client.get("/feeds/es/atom.xml").text:
                    elapsed = time.monotonic() - started
                    break
                time.sleep(0.05)
            print(f"\ncluster: correction saved -> in the served Atom feed after {elapsed} s")
            assert elapsed is not None, cluster.logs() + server.log.read_text(errors="replace")
            assert elapsed < 2.0  # a translate task, then a publish task, through Redis
            history = client.get("/review/api/history", headers=auth).json()["history"]
            assert history[0]["editor"] == "rosa" and history[0]["new"] == fixed
    finally:
        if server is not None:
            server.stop()
        cluster.close()
