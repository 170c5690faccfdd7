"""/status and /status.json show WebSub: each source's subscription and each hub's pings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html

from syndicate.config import load_settings
from syndicate.serve.app import create_app
from syndicate.store import Store
from syndicate.store.sources_state import PollRecord
from syndicate.store.websub import Subscription
from tests.sources.site import daemon_config


def test_status_shows_subscriptions_and_hub_pings(tmp_path: Path) -> None:
    config = daemon_config(
        tmp_path, '[[sources]]\nname = "harbour"\ntype = "feed"\nurl = "https://up.example/feed.xml"\n'
    )
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[publish]\nwebsub_hubs = ["https://hub.example.net/", "https://down.example.net/"]\n'
        + '\n[websub]\ncallback_url = "https://watch.example.org/websub/"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    store = Store.open(settings.state_dir)
    try:
        when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        records = store.websub
        records.put(
            Subscription(
                source="harbour",
                hub="https://hub.up.example/",
                topic="https://up.example/feed.xml",
                secret="s" * 64,
                state="active",
                lease_seconds=3600,
                expires=when + timedelta(hours=1),
                last_delivery=when,
                deliveries=4,
            )
        )
        records.record_ping("https://hub.example.net/", ok=True, when=when)
        records.record_ping("https://down.example.net/", ok=False, when=when, error="ConnectError: refused")
        app = create_app(settings, store=store)
        data = app.service.snapshot()
        assert data is not None
        websub = data["sources"][0]["websub"]
        assert websub == {
            "state": "active",
            "problem": None,
            "next_attempt": "2026-03-01T12:54:00Z",
            "pending": None,
            "hub": "https://hub.up.example/",
            "topic": "https://up.example/feed.xml",
            "lease_seconds": 3600,
            "lease_expires": "2026-03-01T13:00:00Z",
            "last_delivery": "2026-03-01T12:00:00Z",
            "deliveries": 4,
            "last_error": None,
        }
        assert "secret" not in websub and "s" * 64 not in str(data)  # the secret stays in the store
        hubs = {h["hub"]: h for h in data["websub_hubs"]}
        assert hubs["https://hub.example.net/"]["outcome"] == "ok" and hubs["https://hub.example.net/"]["pings_ok"] == 1
        assert hubs["https://down.example.net/"]["outcome"] == "failed"
        assert hubs["https://down.example.net/"]["last_error"] == "ConnectError: refused"
        assert data["attention"] == ["hub https://down.example.net/: the last ping failed: ConnectError: refused"]

        html = app.templates.get_template("status.html").render(
            s=data, refresh=30, css_url="/s.css", json_url="/j", metrics_url="/m"
        )
        page = lxml.html.fromstring(html)
        card = page.get_element_by_id("source-harbour").text_content()
        assert "active at https://hub.up.example/" in card and "2026-03-01T13:00:00Z" in card and "4 in all" in card
        down = next(c for c in page.find_class("card") if "down.example.net" in c.text_content())
        assert "bad" in down.get("class") and "ConnectError: refused" in down.text_content()
    finally:
        store.close()


def test_a_denied_subscription_is_not_shown_green_and_says_when_it_is_asked_again(tmp_path: Path) -> None:
    # issue 21, case 6: the card was green "ok" beside "WebSub error: denied", with a lease
    # that was gone and no retry time.
    config = daemon_config(
        tmp_path, '[[sources]]\nname = "harbour"\ntype = "feed"\nurl = "https://up.example/feed.xml"\n'
    )
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[websub]\ncallback_url = "https://watch.example.org/websub/"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    store = Store.open(settings.state_dir)
    try:
        asked = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        store.sources.record_poll("harbour", PollRecord(started=asked, duration=0.1, outcome="ok"))
        store.websub.put(
            Subscription(
                source="harbour",
                hub="https://hub.up.example/",
                topic="https://up.example/feed.xml",
                secret="s" * 64,
                state="denied",
                requested=asked,
                lease_seconds=3600,
                expires=asked - timedelta(minutes=5),
                last_error="denied by the hub: topic not allowed",
            )
        )
        app = create_app(settings, store=store)
        data = app.service.snapshot()
        assert data is not None
        websub = data["sources"][0]["websub"]
        assert websub["problem"] == "denied by the hub: topic not allowed"
        assert websub["next_attempt"] == "2026-03-01T12:10:00Z"  # RETRY_DENIED: within minutes
        assert data["attention"] == [
            "source harbour: WebSub push is denied: denied by the hub: topic not allowed; "
            "next attempt 2026-03-01T12:10:00Z"
        ]
        html = app.templates.get_template("status.html").render(
            s=data, refresh=30, css_url="/s.css", json_url="/j", metrics_url="/m"
        )
        page = lxml.html.fromstring(html)
        card = page.get_element_by_id("source-harbour")
        assert "warn" in card.get("class").split() and "ok" not in card.get("class").split()
        text = card.text_content()
        assert "ok; push off" in text and "Lease until-" in text and "Next attempt2026-03-01T12:10:00Z" in text
        assert "topic not allowed" in page.get_element_by_id("attention").text_content()
        assert app.service.health()["push_off"] == {"harbour": 1}
    finally:
        store.close()
