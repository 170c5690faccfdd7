"""The hostile world at once (issue 21): thousands of idle and trickling connections and a
flood of forged WebSub deliveries against a real ``syndicate run --serve`` that holds a
real subscription, while a normal reader fetches its feed. Everything on 127.0.0.1,
bounded in connections (4,000), requests (3,000 forged) and time."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sources.site import Route, TestSite, rss, story
from tests.test_websub_e2e import _config, _status, _wait
from tests.websub_hub import free_port, local_hub

pytestmark = pytest.mark.apertium

IDLE = 4000
FORGED = 3000
#: What the issue asks of a normal client's feed fetch under all of it.
BUDGET = 0.100


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _forge(port: int, count: int, answers: list[int]) -> None:
    """``count`` deliveries with a wrong signature, on keep-alive connections."""
    body = b"<rss><channel><item><title>forged</title></item></channel></rss>"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        for _ in range(count):
            try:
                answers.append(
                    client.post(
                        "/websub/harbour", content=body, headers={"X-Hub-Signature": "sha256=" + "0" * 64}
                    ).status_code
                )
            except httpx.HTTPError:
                answers.append(0)


def test_a_reader_gets_the_feed_fast_under_idle_connections_and_a_forged_flood(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with TestSite() as upstream, local_hub(tmp_path) as hub:
        topic = upstream.url("/feed.xml")
        upstream.route(
            "/feed.xml",
            Route(
                rss([story(1), story(2)], upstream.base).encode(),
                content_type="application/rss+xml",
                headers={"Link": f'<{hub.url}>; rel="hub", <{topic}>; rel="self"'},
            ),
        )
        config = _config(tmp_path, port, topic, hub.url)
        log = tmp_path / "run.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "syndicate", "run", "--serve", "--config", str(config)],
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        held: list[socket.socket] = []
        try:

            def subscribed() -> dict[str, Any] | None:
                status = _status(base)
                source = status["sources"][0]
                ready = (
                    source["websub"] and source["websub"]["state"] == "active" and status["languages"][0]["publishable"]
                )
                return status if ready else None

            _wait(subscribed, 120, "the daemon did not publish and subscribe", log)
            feed = f"{base}/feeds/es/atom.xml"
            # A reader: a new connection per fetch (what the idle sockets crowd), but one
            # client, so its own set-up (an SSL context per httpx.get) is not counted.
            reader = httpx.Client(timeout=5, limits=httpx.Limits(max_keepalive_connections=0))
            quiet = []
            for _ in range(10):
                started = time.monotonic()
                assert reader.get(feed).status_code == 200
                quiet.append(time.monotonic() - started)
            before = _rss_mb(process.pid)

            for i in range(IDLE):  # a third send part of a head and stop (trickling), the rest nothing
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                if i % 3 == 0:
                    sock.sendall(b"GET /feeds/es/atom.xml HTTP/1.1\r\nHost: x\r\n")
                held.append(sock)
            time.sleep(1)  # let the server accept them all: the reader comes while they are held
            answers: list[int] = []
            flood = [threading.Thread(target=_forge, args=(port, FORGED // 3, answers)) for _ in range(3)]
            for thread in flood:
                thread.start()
            loaded = []
            peak = before
            while any(thread.is_alive() for thread in flood) or len(loaded) < 20:
                started = time.monotonic()
                answer = reader.get(feed)
                loaded.append(time.monotonic() - started)
                assert answer.status_code == 200 and b"story-2" in answer.content
                peak = max(peak, _rss_mb(process.pid))
                time.sleep(0.05)
            for thread in flood:
                thread.join(60)
            median, worst = statistics.median(loaded), max(loaded)
            p95 = sorted(loaded)[int(0.95 * (len(loaded) - 1))]
            print(
                f"\nfeed fetch, quiet: median {statistics.median(quiet) * 1000:.1f} ms; under {IDLE} idle connections "
                f"and {len(answers)} forged deliveries: median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
                f"worst {worst * 1000:.1f} ms "
                f"over {len(loaded)} fetches; server RSS {before:.0f} -> peak {peak:.0f} MB"
            )
            # 2xx, as the Recommendation says a subscriber acknowledges a bad signature, and ignored.
            assert len(answers) == FORGED and set(answers) == {202}, sorted(set(answers))
            assert b"forged" not in httpx.get(feed, timeout=5).content
            # Every fetch came well under the budget in trials here (worst 51 ms over 5 runs);
            # one outlier is allowed for a machine busy with the rest of the suite.
            assert p95 < BUDGET and worst < 3 * BUDGET, sorted(loaded)
            assert peak - before < 150, (before, peak)
            text = log.read_text(errors="replace")
            assert text.count("forged") + text.count("signature") < 10  # one warning a minute, not 3,000
            assert "Traceback" not in text
            status = _status(base)["sources"][0]["websub"]
            assert status["state"] == "active" and status["problem"] is None  # push stays on
        finally:
            for sock in held:
                sock.close()
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
