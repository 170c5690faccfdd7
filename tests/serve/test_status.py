"""/status, /status.json, /metrics, /healthz and /readyz after a real run; who may see them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.serve.conftest import Server, Site, site_config, start_server

pytestmark = pytest.mark.apertium

TOKEN = "s3cret-status-token-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_status_json_after_a_run(client: httpx.Client, server: Server) -> None:
    data = client.get("/status.json").json()
    assert data["site"]["base_url"] == "https://news.example.org/news/"
    assert data["daemon"]["running"] is False and data["daemon"]["pid"] is None
    assert data["server"]["pid"] == server.process.pid
    (source,) = data["sources"]
    assert source["name"] == "sample" and source["type"] == "folder"
    assert source["outcome"] == "ok" and source["items_new"] == 7 and source["items_failed"] == 0
    assert source["last_poll"].endswith("Z") and source["last_error"] is None
    (es,) = data["languages"]
    assert es["language"] == "es" and es["publishable"] is True
    assert es["entries_published"] == 7 and es["translations_stored"] == 7 and es["pending_translations"] == 0
    assert es["segments_translated"] > 0 and es["memory_hit_rate"] == 0.0 and es["guard_failures"] == 0
    assert [e["engine"] for e in es["engines"]] == ["apertium"]
    assert es["engines"][0]["model"].startswith("apertium:") and es["engines"][0]["translations"] == 7
    assert es["last_publish"].endswith("Z")
    assert es["feed_url"] == "https://news.example.org/news/feeds/es/atom.xml"
    # The quality of what readers read: Apertium's confidence, summed over the stored translations.
    quality = es["quality"]
    assert quality["machine_translations"] == 7 and 0.5 < quality["mean_confidence"] <= 1.0
    assert quality["threshold"] == 0.0 and quality["low_confidence"] == 0 and quality["action"] == "mark"
    assert quality["histogram"][-1] == {"le": 1.0, "count": 7}
    assert es["unknown_words"] > 0  # Apertium marks some words of the sample as unknown


def test_status_page_is_html_without_script(client: httpx.Client) -> None:
    response = client.get("/status")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert '<meta http-equiv="refresh"' in html and 'name="viewport"' in html
    assert "<script" not in html.lower()
    assert "sample" in html and "Español" in html and "Daemon not running" in html
    assert client.get("/status.css").headers["content-type"] == "text/css; charset=utf-8"


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").text == "ok\n"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "store": True, "publishable_languages": ["es"]}


def test_metrics_count_requests_by_route_and_status(client: httpx.Client) -> None:
    etag = client.get("/news/feeds/es/atom.xml").headers["etag"]
    client.get("/news/feeds/es/atom.xml", headers={"If-None-Match": etag})
    client.get("/news/feeds/es/missing.xml")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert found[("syndicate_http_requests_total", (("route", "feed"), ("status", "200")))] >= 1
    assert found[("syndicate_http_requests_total", (("route", "feed"), ("status", "304")))] >= 1
    assert found[("syndicate_http_requests_total", (("route", "missing"), ("status", "404")))] >= 1
    assert any(name == "process_resident_memory_bytes" for name, _ in found)
    # A histogram of the stored translations' confidence per language, read from the store.
    es = (("language", "es"),)
    assert found[("syndicate_translation_confidence_count", es)] == 7
    assert 3.5 < found[("syndicate_translation_confidence_sum", es)] <= 7
    assert found[("syndicate_translation_confidence_bucket", (("language", "es"), ("le", "+Inf")))] == 7
    assert found[("syndicate_translation_confidence_bucket", (("language", "es"), ("le", "0.1")))] == 0
    assert found[("syndicate_translations_low_confidence", es)] == 0


def test_operator_pages_are_for_loopback_clients(client: httpx.Client) -> None:
    # uvicorn believes X-Forwarded-For from a proxy on this machine: a client behind it is
    # not a loopback client. (Only a header: nothing is sent to that address.)
    remote = {"X-Forwarded-For": "203.0.113.9"}
    for path in ("/status", "/status.json", "/metrics"):
        assert client.get(path, headers=remote).status_code == 403, path
    assert client.get("/healthz", headers=remote).status_code == 200
    assert client.get("/news/feeds/es/atom.xml", headers=remote).status_code == 200  # feeds stay public


def test_a_status_token_is_required_when_configured(tmp_path: Path, site: Site) -> None:
    shutil.copytree(site.root / "state", tmp_path / "state")
    shutil.copytree(site.feeds, tmp_path / "feeds", symlinks=True)
    config = site_config(tmp_path, serve=f'status_token = "{TOKEN}"')
    server = start_server(config)
    try:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            for path in ("/status", "/status.json", "/metrics"):
                denied = client.get(path)
                assert denied.status_code == 401 and denied.headers["www-authenticate"].startswith("Bearer")
                assert client.get(path, headers={"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 401
                allowed = client.get(
                    path, headers={"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "203.0.113.9"}
                )
                assert allowed.status_code == 200, path
            assert client.get("/news/feeds/es/atom.xml").status_code == 200
            assert client.get("/readyz").status_code == 200
    finally:
        assert server.stop() == 0


def test_run_serve_gives_a_live_site_and_stays_responsive(tmp_path: Path) -> None:
    """``syndicate run --serve``: the server answers while the first poll translates."""
    config = site_config(tmp_path)
    server = start_server(config, "run", "--serve")
    latencies: list[float] = []
    try:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                ready = client.get("/readyz").status_code == 200
                latencies.append(time.monotonic() - t0)
                if ready:
                    break
                time.sleep(0.02)
            assert ready, server.log.read_text(errors="replace")
            assert client.get("/news/feeds/es/atom.xml").status_code == 200
            data = client.get("/status.json").json()
            deadline = time.monotonic() + 30
            while data["sources"][0]["outcome"] == "never polled" and time.monotonic() < deadline:
                time.sleep(0.2)
                data = client.get("/status.json").json()
            assert data["daemon"] | {"uptime_seconds": None} == {
                "running": True,
                "pid": server.process.pid,
                "in_this_process": True,
                "uptime_seconds": None,
                "lock": str(tmp_path / "state" / "daemon.lock"),
                "lock_holder": server.process.pid,
            }
            assert data["sources"][0]["outcome"] == "ok" and data["sources"][0]["next_poll"] is not None
            found = samples(client.get("/metrics").text)
            assert found[("syndicate_polls_total", (("outcome", "ok"), ("source", "sample")))] == 1
            assert found[("syndicate_items_total", (("result", "new"), ("source", "sample")))] == 7
            assert found[("syndicate_segments_translated_total", (("engine", "apertium"), ("language", "es")))] > 0
            assert found[("syndicate_publish_files_written_total", ())] > 0
    finally:
        code = server.stop()
    assert code == 0, server.log.read_text(errors="replace")
    assert len(latencies) > 1
    assert max(latencies) < 1.0, latencies


def test_serve_exits_cleanly_on_sigint(site: Site) -> None:
    server = start_server(site.config)
    server.process.send_signal(signal.SIGINT)
    try:
        assert server.process.wait(20) == 0
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise
    assert os.path.exists(server.log)
