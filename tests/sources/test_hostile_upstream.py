"""Property-based upstream faults (issue 21): whatever an upstream does on the wire, a
fetch ends within its timeout (plus a margin) with a response or a SourceError that names
the source; never a hang, never another exception.

Hypothesis draws the upstream's behaviour: what it sends (a valid response, a truncated
one, a lying Content-Length, chunked framing that breaks, gzip that is not gzip, garbage,
nothing), in what pieces, how slowly, and how it ends (close, reset, silence). Real
sockets on 127.0.0.1; examples bounded so the test takes well under a minute.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.errors import SourceError
from syndicate.sources.http import Fetched, HttpFetcher

TIMEOUT = 0.8
MARGIN = 1.5

FEED = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
        b"<item><title>One</title><guid>1</guid></item></channel></rss>")

PAYLOADS = {
    "valid": b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n\r\n" % len(FEED) + FEED,
    "short-body": b"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n" + FEED,
    "long-body": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + FEED,
    "bad-chunks": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + FEED,
    "endless-chunks": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1\r\na\r\n" * 3000,
    "fake-gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n" + b"\x1f\x8b" + b"x" * 18,
    "garbage": b"\x00\xff\x13garbage that is not HTTP\r\n\r\n",
    "no-status": b"\r\n\r\n\r\n",
    "bad-status": b"HTTP/1.1 999999 Huh\r\n\r\n",
    "redirect-loop": b"HTTP/1.1 302 Found\r\nLocation: /feed.xml\r\nContent-Length: 0\r\n\r\n",
    "huge-header": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    "many-headers": b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 5000 + b"\r\n",
    "server-error": b"HTTP/1.1 503 Busy\r\nRetry-After: 99999999\r\nContent-Length: 0\r\n\r\n",
    "nothing": b"",
}


@dataclass(frozen=True)
class Behaviour:
    payload: str
    cut: float  # share of the payload sent before the ending
    piece: int  # bytes per send
    pause: float  # seconds between sends
    ending: str  # close | reset | silence

    def __call__(self, conn: socket.socket, stop: threading.Event) -> None:
        data = PAYLOADS[self.payload]
        data = data[: max(0, int(len(data) * self.cut))] if self.cut < 1 else data
        for start in range(0, len(data), self.piece):
            if stop.is_set():
                return
            conn.sendall(data[start : start + self.piece])
            if self.pause:
                time.sleep(self.pause)
        if self.ending == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif self.ending == "silence":
            stop.wait(TIMEOUT + MARGIN + 1)


behaviours = st.builds(
    Behaviour,
    payload=st.sampled_from(sorted(PAYLOADS)),
    cut=st.sampled_from([0.0, 0.3, 0.9, 1.0, 1.0]),
    piece=st.sampled_from([1, 7, 512, 65536]),
    pause=st.sampled_from([0.0, 0.0, 0.01, 0.3]),
    ending=st.sampled_from(["close", "reset", "silence"]),
)


@contextmanager
def upstream(behaviour: Behaviour) -> Iterator[tuple[str, threading.Event]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue

            def run(c: socket.socket = conn) -> None:
                with c:
                    try:
                        c.settimeout(5)
                        c.recv(65536)
                        behaviour(c, stop)
                    except OSError:
                        pass  # the client hung up, as it should past its deadline

            threading.Thread(target=run, daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/feed.xml", stop
    finally:
        stop.set()
        thread.join(5)
        server.close()


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(behaviour=behaviours)
def test_every_upstream_behaviour_ends_in_time_with_a_response_or_a_source_error(behaviour: Behaviour) -> None:
    with upstream(behaviour) as (url, _stop):
        started = time.monotonic()
        with HttpFetcher(source="wire", user_agent="test", timeout=TIMEOUT, retries=0) as fetcher:
            try:
                result = fetcher.get(url)
            except SourceError as exc:
                assert exc.source == "wire" and str(exc).startswith("[wire]"), str(exc)
                result = None
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + MARGIN, (behaviour, elapsed)
    if isinstance(result, Fetched):
        # Only a complete, well-framed response is taken as one.
        assert behaviour.payload in ("valid", "long-body") and result.status == 200, (behaviour, result.status)
