"""End to end, WebSub both ways, on 127.0.0.1 only: an upstream feed (tests/sources/site.py)
that names a local hub (flask-websub's), a real ``syndicate run --serve`` subscribed to
it, and a partner subscribed at the same hub to our Spanish Atom feed.

A new upstream entry, pushed through the hub, must appear translated (Apertium, en->es)
in our Atom feed, and our ping must bring it to the partner, within 10 seconds of the
upstream publish and with no scheduled poll in between (the poll interval is an hour).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sources.site import Route, TestSite, rss, story
from tests.websub_hub import PartnerSubscriber, free_port, local_hub

pytestmark = pytest.mark.apertium

BUDGET = 10.0  # seconds from the upstream publish to both arrivals


def _config(root: Path, port: int, upstream: str, hub: str) -> Path:
    text = f"""
[site]
title = "Harbour Watch"
base_url = "http://127.0.0.1:{port}/"
source_language = "en"

[output]
feeds_dir = "feeds"
translations_dir = "translations"
state_dir = "state"

[translate]
languages = ["es"]
engines = ["apertium"]

[publish]
websub_hubs = ["{hub}"]

[websub]
callback_url = "http://127.0.0.1:{port}/websub/"
lease = "1h"

[serve]
host = "127.0.0.1"
port = {port}

[[sources]]
name = "harbour"
type = "feed"
url = "{upstream}"
interval = "1h"
"""
    path = root / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _status(base: str) -> dict[str, Any]:
    return dict(httpx.get(f"{base}/status.json", timeout=5).json())


def _wait(predicate: Any, timeout: float, what: str, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (httpx.HTTPError, ValueError, KeyError):
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout}s:\n{log.read_text(errors='replace')[-6000:]}")


def test_a_pushed_upstream_entry_reaches_our_feed_and_the_partner_within_seconds(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ours = f"{base}/feeds/es/atom.xml"
    with TestSite() as upstream, local_hub(tmp_path) as hub, PartnerSubscriber() as partner:
        topic = upstream.url("/feed.xml")
        links = {"Link": f'<{hub.url}>; rel="hub", <{topic}>; rel="self"'}

        def publish_upstream(stories: list[Any]) -> None:
            upstream.route(
                "/feed.xml",
                Route(rss(stories, upstream.base).encode(), content_type="application/rss+xml", headers=links),
            )

        publish_upstream([story(1), story(2)])
        config = _config(tmp_path, port, topic, hub.url)
        log = tmp_path / "run.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "syndicate", "-v", "run", "--serve", "--config", str(config)],
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        try:
            # The first poll publishes the two stories and finds the hub; we subscribe.
            def subscribed() -> dict[str, Any] | None:
                status = _status(base)
                source = status["sources"][0]
                ready = (
                    source["websub"] and source["websub"]["state"] == "active" and status["languages"][0]["publishable"]
                )
                return status if ready else None

            status = _wait(subscribed, 120, "the daemon did not publish and subscribe", log)
            assert status["sources"][0]["websub"]["hub"] == hub.url
            assert "story-2" in httpx.get(ours, timeout=5).text
            partner.subscribe(hub.url, ours)
            polls_before = status["sources"][0]["polls"]

            def our_polls() -> int:
                return sum(
                    1
                    for r in upstream.requests
                    if r.path == "/feed.xml" and "syndicate/" in r.headers.get("user-agent", "")
                )

            fetched_before = our_polls()
            seen = len(partner.deliveries)

            # The upstream publishes a third story and pings its hub.
            publish_upstream([story(1), story(2), story(3)])
            t0 = time.monotonic()
            assert httpx.post(hub.url, data={"hub.mode": "publish", "hub.topic": topic}, timeout=10).status_code == 202

            feed_text = _wait(
                lambda: (t := httpx.get(ours, timeout=5).text) and "story-3" in t and t,
                BUDGET,
                "the pushed story did not reach our Atom feed",
                log,
            )
            in_feed = time.monotonic() - t0

            def partner_has_it() -> bool:
                return any(d.valid and b"story-3" in d.body for d in partner.deliveries[seen:])

            _wait(partner_has_it, max(0.1, BUDGET - (time.monotonic() - t0)), "our ping did not reach the partner", log)
            at_partner = time.monotonic() - t0
            print(
                f"\nWebSub latency: upstream publish -> our Atom feed {in_feed:.2f}s, -> partner's subscriber {at_partner:.2f}s"
            )
            assert in_feed < BUDGET and at_partner < BUDGET

            # Translated by Apertium: the English title is not in our entry, its engine is named.
            import feedparser

            entry = next(
                e
                for e in feedparser.parse(feed_text.encode()).entries
                if any("story-3" in (link.get("href") or "") for link in e.links)
            )
            assert entry.title != story(3).title and "3" in entry.title, entry.title
            from lxml import etree

            atom = etree.fromstring(feed_text.encode())
            pushed = next(
                e
                for e in atom.iter("{http://www.w3.org/2005/Atom}entry")
                if any("story-3" in (link.get("href") or "") for link in e.iter("{http://www.w3.org/2005/Atom}link"))
            )
            said = pushed.find("{urn:syndicate:translation}translation")
            assert said is not None and said.get("engine") == "apertium" and said.get("status") == "machine"
            assert 'rel="hub"' in feed_text

            # No scheduled poll in between: exactly one more fetch of the upstream feed, the pushed one.
            assert our_polls() == fetched_before + 1
            final = _wait(
                lambda: (s := _status(base)) and s["sources"][0]["polls"] == polls_before + 1 and s,
                5,
                "the pushed poll was not recorded",
                log,
            )
            websub = final["sources"][0]["websub"]
            assert websub["deliveries"] >= 1 and websub["last_delivery"]
            assert final["websub_hubs"][0]["outcome"] == "ok"
            metrics = httpx.get(f"{base}/metrics", timeout=5).text
            assert 'syndicate_websub_deliveries_total{outcome="accepted",source="harbour"}' in metrics
            assert f'syndicate_websub_notifications_total{{hub="{hub.url}",outcome="ok"}}' in metrics
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        assert process.returncode == 0, log.read_text(errors="replace")[-4000:]
