"""Clients that never finish their request head, or send an endless one, cannot take the
server from anyone else (issue 21, cases 2 and 3): a real ``syndicate serve`` on
127.0.0.1, bounded in connections and time."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from syndicate.serve import protocol
from tests.serve.conftest import Server, Site, start_server


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_an_endless_request_head_is_refused_with_431_and_memory_stays_flat(server: Server) -> None:
    before = _rss_mb(server.process.pid)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        answer = b""
        try:
            for _ in range(2000):  # up to 128 MB, at 64 KB a write
                sock.sendall(b"a" * 65536)
        except OSError:
            pass  # the server closed the connection: what it should do
        try:
            answer = sock.recv(4096)
        except OSError:
            pass
    assert answer.startswith(b"HTTP/1.1 431 ") or answer == b""
    assert _rss_mb(server.process.pid) - before < 30  # it did not read the header into memory
    assert httpx.get(server.url("/healthz"), timeout=5).status_code == 200


def test_idle_and_trickling_connections_never_starve_a_normal_client(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_TEST_HEAD_TIMEOUT", "2")
    server = start_server(site.config)
    held: list[socket.socket] = []
    try:
        for i in range(4200):  # more than the 4,096 requests in flight uvicorn allows; a third trickle
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            if i % 3 == 0:
                sock.sendall(b"GET /news/feeds/es/atom.xml HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        started = time.monotonic()
        answer = httpx.get(server.url("/news/feeds/es/atom.xml"), timeout=5)
        elapsed = time.monotonic() - started
        assert answer.status_code == 200 and elapsed < 0.5, (answer.status_code, elapsed)
        # The head timeout closes them: a read sees the 408 (or the close).
        time.sleep(2.5)
        closed = 0
        for sock in held[:50]:
            sock.settimeout(2)
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            closed += data == b"" or data.startswith(b"HTTP/1.1 408 ")
        assert closed == 50
    finally:
        for sock in held:
            sock.close()
        assert server.stop() == 0


def test_the_bounds_are_what_the_readme_says() -> None:
    assert protocol.MAX_HEAD == 32 * 1024 and protocol.HEAD_TIMEOUT == 10.0


def test_a_large_file_is_streamed_not_read_whole_per_request(site: Site) -> None:
    """A 300 MB file and 4 gzip GETs took the server to 2.4 GB (issue 21, case 7): a file
    past STREAM_ABOVE is sent from disk a chunk at a time, uncompressed."""
    import threading

    from syndicate.serve.files import STREAM_ABOVE

    big = site.feeds / "es" / "export.xml"
    size = STREAM_ABOVE * 6  # 48 MB
    with big.open("wb") as out:
        block = b"<entry>" + b"x" * 65529 + b"\n"
        for _ in range(size // len(block)):
            out.write(block)
    size = big.stat().st_size
    server = start_server(site.config)
    try:
        before = _rss_mb(server.process.pid)
        lengths: list[int] = []
        encodings: list[str | None] = []

        def fetch() -> None:
            with httpx.stream(
                "GET", server.url("/news/feeds/es/export.xml"), headers={"Accept-Encoding": "gzip, br"}, timeout=30
            ) as response:
                encodings.append(response.headers.get("content-encoding"))
                total = 0
                for chunk in response.iter_raw():
                    total += len(chunk)
                lengths.append(total)

        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for thread in threads:
            thread.start()
        peak = before
        while any(t.is_alive() for t in threads):
            peak = max(peak, _rss_mb(server.process.pid))
            time.sleep(0.05)
        assert lengths == [size] * 4 and encodings == [None] * 4
        assert peak - before < 60, (before, peak)
        head = httpx.head(server.url("/news/feeds/es/export.xml"), timeout=5)
        assert head.status_code == 200 and int(head.headers["content-length"]) == size
        again = httpx.get(
            server.url("/news/feeds/es/export.xml"), headers={"If-None-Match": head.headers["etag"]}, timeout=5
        )
        assert again.status_code == 304
    finally:
        big.unlink()
        assert server.stop() == 0
