"""WebSub, publishing side: hub and self links in every subscription feed, pings to the
hubs for exactly the feeds a publish changed, a hub that is down never failing a publish,
and the whole loop through a real hub (flask-websub's) to a partner's subscriber."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import httpx
from lxml import etree

from syndicate import metrics
from syndicate.config import load_settings
from syndicate.publish import FeedPublisher
from syndicate.publish.websub import HubNotifier
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock
from tests.publish.helpers import script_engine, write_feed_config
from tests.websub_hub import PartnerSubscriber, free_port, local_hub

HUBS = ("https://hub.example.net/", "https://pubsubhubbub.example.com/hub")
ATOM = "{http://www.w3.org/2005/Atom}"


def _config(root: Path, hubs: Sequence[str], *, base_url: str | None = None, feed_size: int = 3) -> Path:
    config = write_feed_config(root, languages=("es",), feed_size=feed_size)
    text = config.read_text(encoding="utf-8")
    listed = ", ".join(f'"{hub}"' for hub in hubs)
    text = text.replace("\n[[sources]]", f"\n[publish]\nwebsub_hubs = [{listed}]\n\n[[sources]]", 1)
    if base_url:
        text = text.replace('base_url = "https://news.example.org/"', f'base_url = "{base_url}"')
    config.write_text(text, encoding="utf-8")
    return config


class Recorder:
    """A fake notifier: the URL lists it was told, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, urls: Sequence[str]) -> None:
        self.calls.append(tuple(urls))


def _run(config: Path, clock: Clock, notify: Any = None) -> None:
    settings = load_settings(config)
    store = Store.open(settings.state_dir)
    try:
        engine = script_engine("es")
        pool = Engines(settings, factories={name: (lambda _s: engine) for name in settings.translate.engines})
        publisher = FeedPublisher(settings, store, notify=notify)
        report = once(settings, store, clock=clock, engines=pool, publisher=publisher)
        assert report.ok, report.failures
    finally:
        store.close()


def _add_article(root: Path, title: str) -> None:
    (root / "articles" / f"900_{abs(hash(title)):x}.txt").write_text(
        f"{title}\n\nA new story arrived today about the river and the town beside it.\n", encoding="utf-8"
    )


def test_subscription_feeds_name_every_hub_and_themselves(tmp_path: Path) -> None:
    config = _config(tmp_path, HUBS)
    _run(config, Clock(), Recorder())
    lang = tmp_path / "feeds" / "es"
    base = "https://news.example.org/feeds/es/"

    atom = etree.parse(str(lang / "atom.xml")).getroot()
    links = [(link.get("rel"), link.get("href")) for link in atom.findall(f"{ATOM}link")]
    assert [href for rel, href in links if rel == "hub"] == list(HUBS)
    assert [href for rel, href in links if rel == "self"] == [base + "atom.xml"]

    rss = etree.parse(str(lang / "rss.xml")).getroot().find("channel")
    assert rss is not None
    links = [(link.get("rel"), link.get("href")) for link in rss.findall(f"{ATOM}link")]
    assert [href for rel, href in links if rel == "hub"] == list(HUBS)
    assert [href for rel, href in links if rel == "self"] == [base + "rss.xml"]

    doc = json.loads((lang / "feed.json").read_text(encoding="utf-8"))
    assert doc["hubs"] == [{"type": "WebSub", "url": hub} for hub in HUBS]
    assert doc["feed_url"] == base + "feed.json"

    # What a subscriber's discovery sees (feedparser, as syndicate's own feed source reads).
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((lang / name).read_bytes())
        assert [link["href"] for link in parsed.feed.links if link.get("rel") == "hub"] == list(HUBS)
        assert [link["href"] for link in parsed.feed.links if link.get("rel") == "self"] == [base + name]

    # Archive pages are not subscribed to: no hub there.
    archives = sorted((lang / "archive").iterdir())
    assert archives
    for page in archives:
        assert b'rel="hub"' not in page.read_bytes() and b'"hubs"' not in page.read_bytes(), page


def test_no_hubs_no_links(tmp_path: Path) -> None:
    config = write_feed_config(tmp_path, languages=("es",))
    _run(config, Clock())
    lang = tmp_path / "feeds" / "es"
    assert b'rel="hub"' not in (lang / "atom.xml").read_bytes()
    assert "hubs" not in json.loads((lang / "feed.json").read_text(encoding="utf-8"))


def test_hubs_are_told_exactly_the_subscription_feeds_that_changed(tmp_path: Path) -> None:
    config = _config(tmp_path, HUBS)
    clock, recorder = Clock(), Recorder()
    base = "https://news.example.org/feeds/es/"
    feeds = (base + "atom.xml", base + "rss.xml", base + "feed.json")

    _run(config, clock, recorder)
    assert recorder.calls == [feeds]  # the first publish wrote them (archive pages are never told)

    _run(config, clock, recorder)
    assert recorder.calls == [feeds]  # nothing changed: no ping

    clock.advance(hours=1)
    _add_article(tmp_path, "Floods reach the old town")
    _run(config, clock, recorder)
    assert recorder.calls == [feeds, feeds]


def test_a_hub_that_is_down_is_recorded_and_never_blocks(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state")
    try:
        down = f"http://127.0.0.1:{free_port()}/hub"  # nothing listens there
        notifier = HubNotifier([down], store, attempts=3, backoff=0.01)
        before = metrics.WEBSUB_NOTIFICATIONS.labels(down, "failed")._value.get()
        started = time.monotonic()
        notifier(["https://news.example.org/feeds/es/atom.xml"])
        assert time.monotonic() - started < 0.5  # queued, not sent in the caller
        assert notifier.wait_idle(20)
        ping = store.websub.hubs()[down]
        assert ping.outcome == "failed" and ping.pings_failed == 1 and ping.pings_ok == 0
        assert ping.last_error and "ConnectError" in ping.last_error
        assert metrics.WEBSUB_NOTIFICATIONS.labels(down, "failed")._value.get() == before + 1
    finally:
        store.close()


class _FlakyHub:
    """A hub that answers 503 to the first ``failures`` pings, then 204."""

    def __init__(self, failures: int, status_after: int = 204) -> None:
        self.hits: list[bytes] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                hub.hits.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(503 if len(hub.hits) <= failures else status_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_pings_are_retried_with_backoff_and_a_refusal_is_not(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state")
    flaky, refusing = _FlakyHub(failures=2), _FlakyHub(failures=0, status_after=400)
    try:
        notifier = HubNotifier([flaky.url, refusing.url], store, attempts=4, backoff=0.01)
        notifier(["https://news.example.org/feeds/es/atom.xml"])
        assert notifier.wait_idle(20)
        assert len(flaky.hits) == 3  # two 503s, then accepted
        body = flaky.hits[-1].decode()
        assert "hub.mode=publish" in body and "hub.topic=https%3A%2F%2Fnews.example.org%2Ffeeds%2Fes%2Fatom.xml" in body
        assert "hub.url=" in body  # PubSubHubbub 0.4 hubs read hub.url
        assert len(refusing.hits) == 1  # a 4xx is final
        pings = store.websub.hubs()
        assert pings[flaky.url].outcome == "ok" and pings[refusing.url].outcome == "failed"
        assert "HTTP 400" in (pings[refusing.url].last_error or "")
    finally:
        flaky.server.shutdown()
        refusing.server.shutdown()
        store.close()


def test_publish_ping_reaches_a_real_hub_which_delivers_to_a_subscriber(tmp_path: Path) -> None:
    """Our publish -> flask-websub's hub (which fetches our feed from `syndicate serve`'s
    app, Link headers and all) -> a partner's subscriber, signed with its secret."""
    from syndicate.serve.runner import ServerThread

    port = free_port()
    with local_hub(tmp_path) as hub, PartnerSubscriber() as partner:
        config = _config(tmp_path, [hub.url], base_url=f"http://127.0.0.1:{port}/")
        settings = load_settings(config)
        clock = Clock()
        _run(config, clock)  # the first publish: nobody subscribed yet
        store = Store.open(settings.state_dir)
        server = ServerThread(settings, store, "127.0.0.1", port)
        server.start()
        try:
            notifier = HubNotifier.shared(settings.publish.websub_hubs, store)
            assert notifier.wait_idle(30)
            topic = f"http://127.0.0.1:{port}/feeds/es/atom.xml"
            link = httpx.get(topic, timeout=10).headers["link"]  # discovery without parsing the feed
            assert link == f'<{hub.url}>; rel="hub", <{topic}>; rel="self"'
            partner.subscribe(hub.url, topic)
            seen = len(partner.deliveries)

            clock.advance(hours=1)
            _add_article(tmp_path, "Bridges close along the river")
            _run(config, clock)  # the default notifier: the configured hubs
            delivery = partner.wait_delivery(20, after=seen)
            assert delivery is not None, "the hub delivered nothing to the partner"
            parsed = feedparser.parse(delivery.body)
            assert parsed.feed.links and any(link.get("rel") == "hub" for link in parsed.feed.links)
            titles = [entry.title for entry in parsed.entries]
            assert any("Bridges" in t or "Brídgés" in t for t in titles), titles
            assert delivery.signature and delivery.signature.startswith("sha512=")
            assert notifier.wait_idle(30)
            assert store.websub.hubs()[hub.url].outcome == "ok"
        finally:
            server.stop()
            store.close()


def test_a_hub_that_never_answers_is_said_and_recorded_at_exit(tmp_path: Path, caplog: Any) -> None:
    """A hub that accepts the connection and says nothing: `once` used to wait 15.8 s at
    exit and say nothing (issue 21, case 9). Now the wait is bounded, the log says which
    hub and what was left undone, and the store records the failure for /status."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    hub = f"http://127.0.0.1:{silent.getsockname()[1]}/hub"
    store = Store.open(tmp_path / "state")
    try:
        notifier = HubNotifier([hub], store, attempts=1, timeout=30)
        notifier(["https://news.example.org/feeds/es/atom.xml"])
        started = time.monotonic()
        with caplog.at_level("WARNING", logger="syndicate.publish.websub"):
            assert notifier.finish(1.0) is False
        assert time.monotonic() - started < 3
        assert "still unanswered after 1 s at exit" in caplog.text and hub in caplog.text
        recorded = store.websub.hubs()[hub]
        assert recorded.outcome == "failed" and "did not answer within 1 s" in (recorded.last_error or "")
    finally:
        silent.close()
        store.close()
