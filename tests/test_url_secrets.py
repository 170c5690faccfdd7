"""Credentials in configured URLs are for requests only (issue 21, second trial): a feed's
`user:password@` is sent as HTTP Basic auth to its host and never appears in what is
stored as an article, published, logged or shown; a hub's never reaches a feed or a Link
header; a config problem never repeats it."""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from syndicate.config import load_settings
from syndicate.errors import ConfigError
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged

SECRET = "S3cretPassw0rd"
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Private wire</title>
<link>/</link>
<item><title>Dock workers return after the strike</title><link>/stories/dock.html</link><guid>dock</guid>
<content:encoded><![CDATA[<p>Dock workers returned to the container terminal on Monday morning.</p>
<figure><img src="/img/dock.jpg" alt="The terminal"></figure>]]></content:encoded></item>
</channel></rss>"""


@contextmanager
def private_upstream() -> Iterator[tuple[int, list[str]]]:
    """A feed behind Basic auth (user:S3cret...); records what each request sent."""
    seen: list[str] = []
    wanted = "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            seen.append(f"{self.path} {self.headers.get('Authorization')}")
            if self.headers.get("Authorization") != wanted:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="wire"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, body = (200, FEED.encode()) if self.path == "/feed.xml" else (404, b"")
            self.send_response(status)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 - a hub that refuses the ping at once (no retries)
            seen.append(f"POST {self.path} {self.headers.get('Authorization')}")
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        thread.join(10)


def test_a_feeds_credentials_are_sent_as_auth_and_never_published_or_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with private_upstream() as (port, seen):
        extra = (
            f'\n[publish]\nwebsub_hubs = ["http://hubuser:{SECRET}@127.0.0.1:{port}/hub"]\n'
            f'\n[[sources]]\nname = "wire"\ntype = "feed"\nurl = "http://user:{SECRET}@127.0.0.1:{port}/feed.xml"\n'
            "allow_private_addresses = true\nretries = 0\n"
            f'\n[[sources]]\nname = "gone"\ntype = "feed"\nurl = "http://user:{SECRET}@127.0.0.1:{port}/none.xml"\n'
            "retries = 0\n"
        )
        settings = load_settings(write_config(tmp_path, extra=extra))
        engine = FakeEngine("apertium", {("en", "es")}, tagged)
        with caplog.at_level(logging.DEBUG), Store.open(settings.state_dir) as store:
            report = once(
                settings, store, engines=Engines(settings, factories={"apertium": lambda _s: engine}), clock=Clock()
            )
            stored = [a for a in store.articles.all() if a.article.source == "wire"]
    assert [a.article.title for a in stored] == ["Dock workers return after the strike"]
    assert stored[0].article.url == f"http://127.0.0.1:{port}/stories/dock.html"  # resolved, without the password
    assert any(line.startswith("/feed.xml Basic ") for line in seen)  # sent as auth, to its host
    assert any(p.source == "gone" and "404" in p.message for p in report.problems)
    leaks = [
        p
        for folder in (settings.feeds_dir, settings.translations_dir)
        for p in folder.rglob("*")
        if p.is_file() and SECRET in p.read_text(errors="replace")
    ]
    assert not leaks, leaks
    assert SECRET not in caplog.text and not any(SECRET in p.message for p in report.problems)
    atom = (settings.feeds_dir / "es" / "atom.xml").read_text()
    assert f'href="http://127.0.0.1:{port}/hub" rel="hub"' in atom  # the hub, named without its password


def test_a_config_problem_never_repeats_a_password(tmp_path: Path) -> None:
    extra = (
        f'\n[publish]\nwebsub_hubs = ["ftp://hubuser:{SECRET}@hub.example/"]\n'
        f'\n[websub]\ncallback_url = "ftp://cb:{SECRET}@watch.example/websub"\n'
        f'\n[[sources]]\nname = "wire"\ntype = "feed"\nurl = "ftp://user:{SECRET}@wire.example/feed.xml"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_settings(write_config(tmp_path, extra=extra))
    message = str(info.value)
    assert "sources[" in message and "publish.websub_hubs" in message and "websub.callback_url" in message, message
    assert SECRET not in message and "***" in message
