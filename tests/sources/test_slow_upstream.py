"""An upstream that trickles or says nothing cannot hold a poll past its timeout
(issue 21, case 1): the source's ``timeout`` bounds the whole request, headers included.

Real sockets on 127.0.0.1: a server that sends its status line and headers a byte at a
time (each read gets a byte, so no per-read timeout ever fires), one that sends headers
and then the body a byte at a time, and one that accepts and says nothing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syndicate.config import load_settings
from syndicate.errors import SourceError
from syndicate.sources.http import HttpFetcher
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\n"


def _trickle_headers(conn: socket.socket) -> None:
    for byte in HEADERS + b"X-Padding: " + b"a" * 5000:
        conn.send(bytes([byte]))
        time.sleep(0.1)


def _trickle_body(conn: socket.socket) -> None:
    conn.sendall(HEADERS + b"\r\n<?xml version='1.0'?><rss version='2.0'><channel>")
    for _ in range(5000):
        conn.send(b" ")
        time.sleep(0.1)


def _silent(conn: socket.socket) -> None:
    time.sleep(30)


@pytest.fixture
def upstream(request: pytest.FixtureRequest) -> Iterator[str]:
    behaviour: Callable[[socket.socket], None] = request.param
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue

            def run(c: socket.socket = conn) -> None:
                with c:
                    try:
                        c.recv(65536)
                        behaviour(c)
                    except OSError:
                        pass  # the client hung up: what it should do

            threading.Thread(target=run, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/feed.xml"
    stop.set()
    server.close()


SLOW = [_trickle_headers, _trickle_body, _silent]


@pytest.mark.parametrize("upstream", SLOW, indirect=True, ids=["headers-trickle", "body-trickle", "silent"])
def test_the_timeout_bounds_the_whole_request(upstream: str) -> None:
    started = time.monotonic()
    with (
        HttpFetcher(source="wire", user_agent="test", timeout=1.5, retries=0) as fetcher,
        pytest.raises(SourceError, match=r"timed out after 1.5s"),
    ):
        fetcher.get(upstream)
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("upstream", [_trickle_headers], indirect=True, ids=["headers-trickle"])
def test_once_with_a_trickling_feed_ends_in_time(upstream: str, tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        extra=f'''
[[sources]]
name = "wire"
type = "feed"
url = "{upstream}"
timeout = "2s"
retries = 0
''',
    )
    settings = load_settings(config)
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    started = time.monotonic()
    with Store.open(settings.state_dir) as store:
        report = once(
            settings, store, engines=Engines(settings, factories={"apertium": lambda s: engine}), clock=Clock()
        )
    assert time.monotonic() - started < 20
    wire = [p for p in report.problems if p.source == "wire"]
    assert wire and "timed out after 2s" in wire[0].message
    assert report.articles_new == 7  # the sample source was read and published all the same
