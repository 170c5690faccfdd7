"""WebSub, subscribing side, against flask-websub's hub on 127.0.0.1: discovery, the
subscription and its intent verification, signed deliveries (and forged, unsigned,
oversized, unknown and too frequent ones), lease renewal, unsubscribing a removed source,
and the callbacks' answers under plain ``syndicate serve``."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from hypothesis import strategies as st

from syndicate import metrics
from syndicate.config import Settings, load_settings
from syndicate.serve.app import create_app
from syndicate.sources.feed import parse_feed, websub_links
from syndicate.sources.http import Fetched
from syndicate.sources.websub import WebSubSubscriber, check_signature, link_header_rels
from syndicate.store import Store
from syndicate.store.sources_state import PollRecord
from tests.sources.site import Route, TestSite, daemon_config, rss, story
from tests.websub_hub import free_port, local_hub


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def serving(app: object, port: int) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _settings(root: Path, port: int, upstream: str, *, sources: str | None = None, extra: str = "") -> Settings:
    tables = sources if sources is not None else f'[[sources]]\nname = "harbour"\ntype = "feed"\nurl = "{upstream}"\n'
    config = daemon_config(root, tables)
    text = config.read_text(encoding="utf-8").replace(
        'base_url = "https://watch.example.org/"', f'base_url = "http://127.0.0.1:{port}/"'
    )
    text += f'\n[websub]\ncallback_url = "http://127.0.0.1:{port}/websub/"\nlease = "1h"\n{extra}\n'
    config.write_text(text, encoding="utf-8")
    return load_settings(config)


def _discovered(store: Store, source: str, hub: str, topic: str) -> None:
    """What a poll of the feed records (see test_discovery for the feed source's part)."""
    store.sources.record_poll(
        source,
        PollRecord(
            started=datetime(2026, 3, 1, tzinfo=UTC),
            duration=0.1,
            outcome="ok",
            cursor={"url": topic, "websub": {"hub": hub, "self": topic}},
        ),
    )


def _sign(secret: str, body: bytes, method: str = "sha256") -> str:
    return f"{method}=" + hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()


def test_discovery_prefers_link_headers_then_feed_links() -> None:
    assert link_header_rels('<https://hub.example/>; rel="hub", <https://x.example/feed>; rel="self"') == {
        "hub": ["https://hub.example/"],
        "self": ["https://x.example/feed"],
    }
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>x</id>'
        b'<updated>2026-01-01T00:00:00Z</updated><link rel="hub" href="https://hub.example/in-feed"/>'
        b'<link rel="self" href="/atom.xml"/></feed>'
    )
    fetched = Fetched("https://up.example/atom.xml", 200, body, {"content-type": "application/atom+xml"})
    assert websub_links(parse_feed(fetched, source="s"), fetched) == {
        "hub": "https://hub.example/in-feed",
        "self": "https://up.example/atom.xml",
    }
    headers = {
        "content-type": "application/atom+xml",
        "link": '<https://hub.example/h>; rel="hub", <https://up.example/t>; rel="self"',
    }
    fetched = Fetched("https://up.example/atom.xml", 200, body, headers)
    assert websub_links(parse_feed(fetched, source="s"), fetched) == {
        "hub": "https://hub.example/h",
        "self": "https://up.example/t",
    }
    plain = Fetched(
        "https://up.example/rss",
        200,
        rss([story(1)], "https://up.example").encode(),
        {"content-type": "application/rss+xml"},
    )
    assert websub_links(parse_feed(plain, source="s"), plain) is None


def test_signature_methods() -> None:
    body = b"<feed/>"
    for method in ("sha1", "sha256", "sha384", "sha512"):
        assert check_signature(_sign("k", body, method), "k", body) == "ok"
    assert check_signature(_sign("other", body), "k", body) == "bad-signature"
    assert check_signature(_sign("k", body + b" "), "k", body) == "bad-signature"
    assert check_signature("md5=abc", "k", body) == "bad-signature"
    assert check_signature(None, "k", body) == "unsigned"


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_subscribe_verify_deliver_forge_renew_unsubscribe(tmp_path: Path, algorithm: str) -> None:
    port = free_port()
    with TestSite() as upstream, local_hub(tmp_path, algorithm=algorithm) as hub:
        topic = upstream.url("/feed.xml")
        feed = rss([story(1)], upstream.base).encode()
        upstream.route(
            "/feed.xml",
            Route(
                feed,
                content_type="application/rss+xml",
                headers={"Link": f'<{hub.url}>; rel="hub", <{topic}>; rel="self"'},
            ),
        )
        settings = _settings(tmp_path, port, topic, extra="deliveries_per_minute = 3")
        store = Store.open(settings.state_dir)
        clock, delivered, pushed = Clock(), [], []
        delivered_event = threading.Event()

        def on_delivery(name: str) -> None:
            delivered.append(name)
            delivered_event.set()

        subscriber = WebSubSubscriber(
            settings,
            store,
            on_delivery=on_delivery,
            on_push_change=lambda name, on: pushed.append((name, on)),
            clock=clock,
        )
        records = store.websub
        try:
            with serving(create_app(settings, store=store, runs_daemon=True, websub=subscriber), port) as base:
                callback = f"{base}/websub/harbour"
                subscriber.maintain()
                assert records.get("harbour") is None  # no poll has found a hub yet: nothing asked

                _discovered(store, "harbour", hub.url, topic)
                subscriber.maintain()  # flask-websub verifies before it answers the request
                sub = records.get("harbour")
                assert sub is not None and sub.state == "active" and sub.pending is None, sub
                assert sub.lease_seconds == 3600 and sub.expires == clock.now + timedelta(hours=1)
                assert len(sub.secret) == 64 and pushed == [("harbour", True)]

                # Verification is only for what we asked: the wrong topic, mode or source is 404.
                for query in (
                    {
                        "hub.mode": "subscribe",
                        "hub.topic": topic + "?x",
                        "hub.challenge": "CHALLENGE-42",
                        "hub.lease_seconds": "60",
                    },
                    {"hub.mode": "unsubscribe", "hub.topic": topic, "hub.challenge": "CHALLENGE-42"},
                    {"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "CHALLENGE-42"},  # already verified
                    {"hub.mode": "publish", "hub.topic": topic, "hub.challenge": "CHALLENGE-42"},
                ):
                    answer = httpx.get(callback, params=query, timeout=5)
                    assert answer.status_code == 404 and "CHALLENGE-42" not in answer.text, query
                assert (
                    httpx.get(
                        f"{base}/websub/nobody",
                        params={"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "CHALLENGE-42"},
                        timeout=5,
                    ).status_code
                    == 404
                )

                # The upstream publishes: the hub fetches the topic and delivers it, signed.
                accepted = metrics.WEBSUB_DELIVERIES.labels("harbour", "accepted")._value.get()
                assert (
                    httpx.post(hub.url, data={"hub.mode": "publish", "hub.topic": topic}, timeout=10).status_code == 202
                )
                assert delivered_event.wait(10), "the hub's delivery did not reach the subscriber"
                assert delivered == ["harbour"]
                assert metrics.WEBSUB_DELIVERIES.labels("harbour", "accepted")._value.get() == accepted + 1
                sub = records.get("harbour")
                assert sub is not None and sub.deliveries == 1 and sub.last_delivery == clock.now

                # Forged, unsigned: acknowledged (7.1) but ignored; nothing polls.
                forged = metrics.WEBSUB_DELIVERIES.labels("harbour", "bad-signature")._value.get()
                for signature in (_sign("guess", feed), _sign(sub.secret, feed + b"<!-- tampered -->"), "sha256=zz"):
                    answer = httpx.post(callback, content=feed, headers={"X-Hub-Signature": signature}, timeout=5)
                    assert answer.status_code == 202
                answer = httpx.post(callback, content=feed, timeout=5)
                assert answer.status_code == 202
                assert delivered == ["harbour"]
                assert metrics.WEBSUB_DELIVERIES.labels("harbour", "bad-signature")._value.get() == forged + 3
                assert records.get("harbour").deliveries == 1  # type: ignore[union-attr]

                # Bounded: too large (declared or streamed) is 413 unread; unknown source 410; other methods 405.
                big = b"x" * (settings.websub.max_delivery_bytes + 1)
                assert (
                    httpx.post(
                        callback, content=big, headers={"X-Hub-Signature": _sign(sub.secret, big)}, timeout=5
                    ).status_code
                    == 413
                )

                def chunks() -> Iterator[bytes]:
                    for _ in range(2):
                        yield b"y" * (settings.websub.max_delivery_bytes // 2 + 10)

                assert httpx.post(callback, content=chunks(), timeout=5).status_code == 413
                assert (
                    httpx.post(
                        f"{base}/websub/nobody",
                        content=feed,
                        headers={"X-Hub-Signature": _sign(sub.secret, feed)},
                        timeout=5,
                    ).status_code
                    == 410
                )
                assert httpx.put(callback, content=feed, timeout=5).status_code == 405

                # Rate: 3 a minute; the hub's delivery used one.
                statuses = [
                    httpx.post(
                        callback, content=feed, headers={"X-Hub-Signature": _sign(sub.secret, feed)}, timeout=5
                    ).status_code
                    for _ in range(3)
                ]
                assert statuses == [202, 202, 429]

                # Renewal: before the lease runs out, the same secret, re-verified by the hub.
                clock.now += timedelta(minutes=30)
                subscriber.maintain()
                assert records.get("harbour").expires == sub.expires  # type: ignore[union-attr]  # not yet
                clock.now += timedelta(minutes=25)  # 5 minutes left: inside the renewal margin
                subscriber.maintain()
                renewed = records.get("harbour")
                assert renewed is not None and renewed.state == "active" and renewed.pending is None
                assert renewed.expires == clock.now + timedelta(hours=1) and renewed.secret == sub.secret

                # The source leaves the config: unsubscribed (the hub verifies), its row gone,
                # and a delivery for it is Gone.
                other = _settings(
                    tmp_path, port, topic, sources=('[[sources]]\nname = "local"\ntype = "folder"\npath = "articles"\n')
                )
                (tmp_path / "articles").mkdir(exist_ok=True)
                leaving = WebSubSubscriber(other, store, clock=clock)  # the daemon restarted with the new config
                leaving.maintain()
                assert records.all() == {}
                assert (
                    httpx.post(
                        callback, content=feed, headers={"X-Hub-Signature": _sign(sub.secret, feed)}, timeout=5
                    ).status_code
                    == 410
                )
        finally:
            subscriber.close()
            store.close()


def test_a_denied_subscription_is_recorded(tmp_path: Path) -> None:
    port = free_port()
    settings = _settings(tmp_path, port, "http://127.0.0.1:9/feed.xml")
    store = Store.open(settings.state_dir)
    try:
        subscriber = WebSubSubscriber(settings, store)
        # A hub that refuses outright (nothing listens there) -> failed, with the reason.
        _discovered(store, "harbour", f"http://127.0.0.1:{free_port()}/hub", "http://127.0.0.1:9/feed.xml")
        subscriber.maintain()
        sub = store.websub.get("harbour")
        assert sub is not None and sub.state == "failed" and "ConnectError" in (sub.last_error or "")
        store.websub.update("harbour", state="subscribing", pending="subscribe")
        with serving(create_app(settings, store=store, runs_daemon=True, websub=subscriber), port) as base:
            answer = httpx.get(
                f"{base}/websub/harbour",
                params={
                    "hub.mode": "denied",
                    "hub.topic": "http://127.0.0.1:9/feed.xml",
                    "hub.reason": "not allowed here",
                },
                timeout=5,
            )
            assert answer.status_code == 200
        sub = store.websub.get("harbour")
        assert sub is not None and sub.state == "denied" and "not allowed here" in (sub.last_error or "")
    finally:
        store.close()


def test_plain_serve_has_no_callbacks(tmp_path: Path) -> None:
    port = free_port()
    settings = _settings(tmp_path, port, "http://127.0.0.1:9/feed.xml")
    store = Store.open(settings.state_dir)
    try:
        with serving(create_app(settings, store=store), port) as base:
            answer = httpx.get(
                f"{base}/websub/harbour", params={"hub.mode": "subscribe", "hub.challenge": "CHALLENGE-42"}, timeout=5
            )
            assert answer.status_code == 503 and "run --serve" in answer.text
            assert httpx.post(f"{base}/websub/harbour", content=b"x", timeout=5).status_code == 503
    finally:
        store.close()


def test_an_unasked_denial_cannot_switch_push_off(tmp_path: Path) -> None:
    """Anyone can GET the callback with hub.mode=denied and the public topic (issue 21,
    case 6): for a subscription the hub verified, that only makes us ask the hub again;
    the subscription stays active and signed deliveries are still taken meanwhile."""
    port = free_port()
    topic = "http://127.0.0.1:9/feed.xml"
    settings = _settings(tmp_path, port, topic)
    store = Store.open(settings.state_dir)
    clock = Clock()
    try:
        subscriber = WebSubSubscriber(settings, store, clock=clock)
        _discovered(store, "harbour", f"http://127.0.0.1:{free_port()}/hub", topic)
        subscriber.maintain()
        store.websub.update(
            "harbour",
            state="active",
            pending=None,
            lease_seconds=3600,
            expires=clock.now + timedelta(hours=1),
            last_error=None,
        )
        with serving(create_app(settings, store=store, runs_daemon=True, websub=subscriber), port) as base:
            answer = httpx.get(
                f"{base}/websub/harbour",
                params={"hub.mode": "denied", "hub.topic": topic, "hub.reason": "spoofed"},
                timeout=5,
            )
            assert answer.status_code == 200
            sub = store.websub.get("harbour")
            assert sub is not None and sub.state == "active" and "spoofed" not in (sub.last_error or "")
            feed = b"<rss/>"
            delivered = httpx.post(
                f"{base}/websub/harbour", content=feed, headers={"X-Hub-Signature": _sign(sub.secret, feed)}, timeout=5
            )
            assert delivered.status_code == 202  # not 410: the hub keeps the subscription
        # The next upkeep asks the hub again (here it cannot be reached: failed, retried later).
        assert sub.expires is not None and sub.expires <= clock.now
        subscriber.maintain()
        again = store.websub.get("harbour")
        assert again is not None and again.requested == clock.now
    finally:
        store.close()


def test_a_denial_of_our_request_is_asked_again_within_minutes(tmp_path: Path) -> None:
    from syndicate.sources.websub import RETRY_DENIED

    port = free_port()
    topic = "http://127.0.0.1:9/feed.xml"
    settings = _settings(tmp_path, port, topic)
    store = Store.open(settings.state_dir)
    clock = Clock()
    try:
        subscriber = WebSubSubscriber(settings, store, clock=clock)
        _discovered(store, "harbour", f"http://127.0.0.1:{free_port()}/hub", topic)
        subscriber.maintain()
        store.websub.update("harbour", state="subscribing", pending="subscribe", requested=clock.now)
        with serving(create_app(settings, store=store, runs_daemon=True, websub=subscriber), port) as base:
            assert (
                httpx.get(
                    f"{base}/websub/harbour", params={"hub.mode": "denied", "hub.topic": topic}, timeout=5
                ).status_code
                == 200
            )
        assert store.websub.get("harbour").state == "denied"  # type: ignore[union-attr]
        assert timedelta(minutes=15) >= RETRY_DENIED
        clock.now += RETRY_DENIED
        subscriber.maintain()
        assert store.websub.get("harbour").requested == clock.now  # type: ignore[union-attr]
    finally:
        store.close()


def test_a_flood_of_forged_deliveries_is_one_warning_a_minute(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """1,500 bad-signature POSTs gave 1,505 WARNING lines (issue 21, case 7): now the log
    says it once a minute with the count, and the metric counts every one."""
    topic = "http://127.0.0.1:9/feed.xml"
    settings = _settings(tmp_path, free_port(), topic)
    store = Store.open(settings.state_dir)
    try:
        subscriber = WebSubSubscriber(settings, store, clock=Clock())
        _discovered(store, "harbour", f"http://127.0.0.1:{free_port()}/hub", topic)
        subscriber.maintain()
        store.websub.update("harbour", state="active", pending=None)
        before = metrics.WEBSUB_DELIVERIES.labels("harbour", "bad-signature")._value.get()
        with caplog.at_level("WARNING", logger="syndicate.sources.websub"):
            for i in range(1500):
                answer = subscriber.deliver("harbour", f"sha256={i:064x}", b"<rss/>")
                assert answer.status == 202
        forged = [r for r in caplog.records if "wrong signature" in r.getMessage()]
        assert len(forged) == 1
        assert metrics.WEBSUB_DELIVERIES.labels("harbour", "bad-signature")._value.get() == before + 1500
        subscriber._forged["harbour"] = (time.monotonic() - 61, subscriber._forged["harbour"][1])
        with caplog.at_level("WARNING", logger="syndicate.sources.websub"):
            subscriber.deliver("harbour", None, b"<rss/>")
        assert "1499 more since the last warning" in caplog.records[-1].getMessage()
    finally:
        store.close()


def _post_head(port: int, length: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        b"POST /websub/harbour HTTP/1.1\r\nHost: x\r\nContent-Type: application/rss+xml\r\n"
        b"Content-Length: %d\r\n\r\n" % length
    )
    return sock


def test_delivery_bodies_held_open_are_bounded_in_time_and_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 connections each holding a 999,999-byte body took the server from 141 to 437 MB
    (issue 21, case 7): a body must arrive within a deadline (408), and the bodies being
    received share a budget (503, the hub retries)."""
    from syndicate.serve import app as app_module

    monkeypatch.setattr(app_module, "DELIVERY_SECONDS", 1.0)
    monkeypatch.setattr(app_module, "DELIVERY_BUDGET", 1_500_000)
    port = free_port()
    topic = "http://127.0.0.1:9/feed.xml"
    settings = _settings(tmp_path, port, topic)
    store = Store.open(settings.state_dir)
    try:
        subscriber = WebSubSubscriber(settings, store, clock=Clock())
        _discovered(store, "harbour", f"http://127.0.0.1:{free_port()}/hub", topic)
        subscriber.maintain()
        store.websub.update("harbour", state="active", pending=None)
        with serving(create_app(settings, store=store, runs_daemon=True, websub=subscriber), port):
            # One holds 900 KB of its body open; a second's 900 KB would pass the budget.
            first = _post_head(port, 999_999)
            first.sendall(b"x" * 900_000)
            time.sleep(0.2)
            second = _post_head(port, 999_999)
            second.sendall(b"y" * 900_000)
            second.settimeout(5)
            assert second.recv(200).startswith(b"HTTP/1.1 503 ")
            second.close()
            # The first never finishes: the deadline answers it.
            first.settimeout(5)
            started = time.monotonic()
            assert first.recv(200).startswith(b"HTTP/1.1 408 ")
            assert time.monotonic() - started < 3
            first.close()
            # The budget is free again: a whole, signed delivery is taken.
            sub = store.websub.get("harbour")
            assert sub is not None
            feed = b"<rss/>"
            answer = httpx.post(
                f"http://127.0.0.1:{port}/websub/harbour",
                content=feed,
                headers={"X-Hub-Signature": _sign(sub.secret, feed)},
                timeout=5,
            )
            assert answer.status_code == 202
    finally:
        store.close()


@contextmanager
def silent_hub() -> Iterator[tuple[str, list[bytes]]]:
    """A hub that accepts every request (202) and never comes to verify it: what a real,
    asynchronous hub looks like when our callback URL does not reach us."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hub", bodies
    finally:
        server.shutdown()
        thread.join(10)


def test_a_hub_that_never_verifies_is_shown_and_asked_again(tmp_path: Path) -> None:
    """A callback_url the hub cannot reach left the source "subscribing" forever with
    nothing said (issue 21, case 9): after VERIFY_WAIT the request is sent again, and the
    status, the attention list and the metrics say what to check."""
    from syndicate.serve.status import health
    from syndicate.sources.websub import VERIFY_WAIT

    port = free_port()  # nothing listens there: the callback reaches no one
    topic = "http://127.0.0.1:9/feed.xml"
    settings = _settings(tmp_path, port, topic)
    store = Store.open(settings.state_dir)
    clock = Clock()
    try:
        with silent_hub() as (hub, bodies):
            subscriber = WebSubSubscriber(settings, store, clock=clock)
            _discovered(store, "harbour", hub, topic)
            subscriber.maintain()
            sub = store.websub.get("harbour")
            assert sub is not None and (sub.state, sub.pending, sub.last_error) == ("subscribing", "subscribe", None)
            assert health(settings, store)["push_off"] == {"harbour": 0}  # waiting for the hub is normal at first
            clock.now += VERIFY_WAIT - timedelta(seconds=1)
            subscriber.maintain()
            assert len(bodies) == 1  # not yet
            clock.now += timedelta(seconds=1)
            subscriber.maintain()
            assert len(bodies) == 2  # asked again
        sub = store.websub.get("harbour")
        assert sub is not None and sub.state == "subscribing" and sub.requested == clock.now
        assert "never verified" in (sub.last_error or "") and f"http://127.0.0.1:{port}/websub/harbour" in (
            sub.last_error or ""
        )
        assert "[websub] callback_url" in (sub.last_error or "")
        data = create_app(settings, store=store).service.snapshot()
        assert data is not None
        line = next(line for line in data["attention"] if line.startswith("source harbour"))
        assert "never verified" in line and "next attempt 2026-03-01T12:20:00Z" in line
        assert health(settings, store)["push_off"] == {"harbour": 1}
    finally:
        store.close()


_MODES = st.sampled_from(["subscribe", "unsubscribe", "denied", "publish", "", "SUBSCRIBE", "denied\x00", "x" * 300])


@st.composite
def _callback_requests(draw: st.DrawFn, topic: str) -> tuple[str, dict[str, str], bytes, dict[str, str]]:
    """A GET (a verification or a denial) or a POST (a delivery) to the callback from
    someone who does not hold the secret: the public topic, forged signatures."""
    if draw(st.booleans()):
        query = {
            "hub.mode": draw(_MODES),
            "hub.topic": draw(st.sampled_from([topic, topic + "?", "http://elsewhere/feed", ""])),
            "hub.challenge": draw(st.sampled_from(["c", "", "\u202e" * 10, "x" * 5000])),
            "hub.lease_seconds": draw(st.sampled_from(["1", "-5", "99999999999999999999", "abc", ""])),
            "hub.reason": draw(st.sampled_from(["spoofed", "", "\x00" * 10])),
        }
        return "GET", query, b"", {}
    body = draw(st.sampled_from([b"", b"<rss/>", b"\x00" * 100, b"<rss>" + b"a" * 20000 + b"</rss>"]))
    signature = draw(
        st.sampled_from(
            [
                "",
                "sha256=" + "0" * 64,
                "sha1=",
                "md5=abc",
                "sha512=" + "f" * 128,
                "sha256=" + hashlib.sha256(body).hexdigest(),
                "nonsense",
            ]
        )
    )
    return "POST", {}, body, ({"X-Hub-Signature": signature} if signature else {})


def test_no_unauthenticated_request_changes_a_subscription(tmp_path: Path) -> None:
    """Property (issue 21): whatever a client without the secret sends to the callback,
    the subscription keeps its state, secret, lease and topic, push is never switched off,
    nothing forged is delivered, and no answer is a server error."""
    from hypothesis import HealthCheck, given, settings
    from starlette.testclient import TestClient

    port = free_port()
    topic = "http://127.0.0.1:9/feed.xml"
    settings_ = _settings(tmp_path, port, topic)
    store = Store.open(settings_.state_dir)
    clock = Clock()
    changes: list[tuple[str, bool]] = []
    delivered: list[str] = []
    try:
        subscriber = WebSubSubscriber(
            settings_,
            store,
            clock=clock,
            on_delivery=delivered.append,
            on_push_change=lambda name, on: changes.append((name, on)),
        )
        _discovered(store, "harbour", f"http://127.0.0.1:{free_port()}/hub", topic)
        subscriber.maintain()
        store.websub.update(
            "harbour",
            state="active",
            pending=None,
            lease_seconds=3600,
            expires=clock.now + timedelta(hours=1),
            last_error=None,
        )
        kept = ("state", "pending", "secret", "topic", "hub", "lease_seconds")
        before = {name: getattr(store.websub.get("harbour"), name) for name in kept}
        client = TestClient(create_app(settings_, store=store, runs_daemon=True, websub=subscriber))

        @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        @given(request=_callback_requests(topic))
        def check(request: tuple[str, dict[str, str], bytes, dict[str, str]]) -> None:
            method, query, body, headers = request
            answer = client.request(method, "/websub/harbour", params=query, content=body, headers=headers)
            assert answer.status_code < 500, (request, answer.status_code, answer.text[:200])
            sub = store.websub.get("harbour")
            assert sub is not None and {name: getattr(sub, name) for name in kept} == before, (request, sub)
            assert not changes and not delivered, request

        check()
    finally:
        store.close()
