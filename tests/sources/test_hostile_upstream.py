"""Property-based upstream faults (issue 21): whatever an upstream does on the wire, a
fetch ends within its timeout (plus a margin) with a response or a SourceError that names
the source; never a hang, never another exception.

Hypothesis draws the upstream's behaviour: what it sends (a valid response, a truncated
one, a lying Content-Length, chunked framing that breaks, gzip that is not gzip, garbage,
nothing), in what pieces, how slowly, and how it ends (close, reset, silence). Real
sockets on 127.0.0.1; examples bounded so the test takes well under a minute.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.errors import SourceError
from syndicate.sources.http import Fetched, HttpFetcher

TIMEOUT = 0.8
MARGIN = 1.5

FEED = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
    b"<item><title>One</title><guid>1</guid></item></channel></rss>"
)

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
        # Wake the accept() now (on Linux a shut-down listening socket fails it at once)
        # instead of at its next 0.1 s timeout, once per example.
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)
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


# -- hubs: named by feeds, so anyone's ------------------------------------------------------

HUB_TRICKLE = Behaviour(payload="valid", cut=1.0, piece=1, pause=0.3, ending="close")


class EndlessError:
    """A hub that answers 500 and then sends body for ever (a 1 GB error page)."""

    def __call__(self, conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 1000000000\r\n\r\n")
        block = b"x" * 65536
        while not stop.is_set():
            conn.sendall(block)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_ping_to_a_trickling_or_endless_hub_ends_in_time_and_reads_little(tmp_path: Path) -> None:
    """Outgoing WebSub pings had no total deadline or body bound (a trickling hub held the
    ping thread for ever; an 800 MB error page took the daemon past 1 GB)."""
    from syndicate.publish.websub import HubNotifier, PingError, PingRefused

    for behaviour in (HUB_TRICKLE, EndlessError()):
        with upstream(behaviour) as (url, _stop):  # type: ignore[arg-type]
            notifier = HubNotifier([url], attempts=1, timeout=TIMEOUT)
            before = _rss_mb()
            started = time.monotonic()
            try:
                notifier._post(url, "https://news.example.org/feeds/es/atom.xml")
                raised = None
            except (PingError, PingRefused) as exc:
                raised = exc
            elapsed = time.monotonic() - started
            assert raised is not None and elapsed < TIMEOUT + MARGIN, (behaviour, elapsed, raised)
            assert _rss_mb() - before < 50


def test_subscribing_at_a_trickling_or_endless_hub_ends_in_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed names its hub: our subscription request there is bounded too (it ran inside
    the poll job, so a trickling hub stopped the source's polls and SIGTERM)."""
    import syndicate.sources.websub as websub
    from syndicate.config import load_settings
    from syndicate.store import Store
    from syndicate.store.websub import Subscription
    from tests.sources.site import daemon_config

    monkeypatch.setattr(websub, "TIMEOUT", TIMEOUT)
    config = daemon_config(
        tmp_path, '[[sources]]\nname = "harbour"\ntype = "feed"\nurl = "http://127.0.0.1:9/feed.xml"\n'
    )
    config.write_text(config.read_text() + '\n[websub]\ncallback_url = "http://127.0.0.1:9/websub/"\n')
    settings = load_settings(config)
    with Store.open(settings.state_dir) as store:
        subscriber = websub.WebSubSubscriber(settings, store)
        for behaviour in (HUB_TRICKLE, EndlessError()):
            with upstream(behaviour) as (url, _stop):  # type: ignore[arg-type]
                sub = Subscription(
                    source="harbour",
                    hub=url,
                    topic="http://127.0.0.1:9/feed.xml",
                    secret="s" * 64,
                    state="subscribing",
                    pending="subscribe",
                )
                before = _rss_mb()
                started = time.monotonic()
                error = subscriber._request(sub, "subscribe")
                elapsed = time.monotonic() - started
                assert error is not None and elapsed < TIMEOUT + MARGIN, (behaviour, elapsed, error)
                assert _rss_mb() - before < 50
        subscriber.close()
