"""A real HTTP server on 127.0.0.1 for the source and daemon tests, and the pages it serves.

``TestSite`` serves a mutable table of routes. Each route says how to misbehave: slow
headers, a status, a redirect, a body cut short, a body larger than it should be. It
honours conditional requests (ETag / Last-Modified -> 304) and logs every request, so
tests can check what a source sent and how often.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Route:
    """How one path answers."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds before the headers
    location: str | None = None  # for redirects
    truncate_to: int | None = None  # announce len(body), send only this many bytes, close
    stream: bool = False  # no Content-Length: stream the body in chunks until done
    fail_first: int = 0  # answer 503 this many times, then normally
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


class TestSite:
    """``with TestSite() as site: site.route("/feed.xml", Route(...)); site.url("/feed.xml")``."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.active: dict[str, int] = {}  # requests being answered right now, per path
        self.max_active: dict[str, int] = {}  # the most answered at once, per path
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                site._serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, route: Route) -> Route:
        with self.lock:
            self.routes[path] = route
        return route

    def page(self, path: str, body: bytes | str, **kwargs: Any) -> Route:
        data = body.encode("utf-8") if isinstance(body, str) else body
        kwargs.setdefault("etag", f'"{abs(hash(data))}"')
        return self.route(path, Route(body=data, **kwargs))

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.path == path)

    def __enter__(self) -> TestSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- serving ----------------------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        with self.lock:
            self.requests.append(Request(path, {k.lower(): v for k, v in h.headers.items()}))
            route = self.routes.get(path)
            if route is not None:
                route.hits += 1
            self.active[path] = self.active.get(path, 0) + 1
            self.max_active[path] = max(self.max_active.get(path, 0), self.active[path])
        try:
            self._answer(h, route)
        finally:
            with self.lock:
                self.active[path] -= 1

    def _answer(self, h: BaseHTTPRequestHandler, route: Route | None) -> None:
        try:
            if route is None:
                self._send(h, 404, b"<h1>Not found</h1>", "text/html")
                return
            if route.delay:
                time.sleep(route.delay)
            if route.fail_first and route.hits <= route.fail_first:
                self._send(h, 503, b"busy", "text/plain", {"Retry-After": "0"})
                return
            if route.location is not None:
                self._send(
                    h,
                    route.status if route.status in (301, 302, 303, 307, 308) else 302,
                    b"",
                    "text/plain",
                    {"Location": route.location},
                )
                return
            if route.status != 200:
                self._send(h, route.status, f"<h1>{route.status}</h1>".encode(), "text/html", route.headers)
                return
            validators = {}
            if route.etag:
                validators["ETag"] = route.etag
            if route.last_modified:
                validators["Last-Modified"] = route.last_modified
            inm = h.headers.get("If-None-Match")
            ims = h.headers.get("If-Modified-Since")
            if (route.etag and inm == route.etag) or (
                not route.etag and route.last_modified and ims == route.last_modified
            ):
                self._send(h, 304, b"", None, validators)
                return
            if route.truncate_to is not None:
                h.send_response(200)
                h.send_header("Content-Type", route.content_type)
                h.send_header("Content-Length", str(len(route.body)))
                h.end_headers()
                h.wfile.write(route.body[: route.truncate_to])
                h.wfile.flush()
                h.close_connection = True
                return
            if route.stream:
                h.send_response(200)
                h.send_header("Content-Type", route.content_type)
                h.end_headers()
                for i in range(0, len(route.body), 65536):
                    h.wfile.write(route.body[i : i + 65536])
                return
            self._send(h, 200, route.body, route.content_type, {**validators, **route.headers})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout, size cap): that is the point of the test

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        h.send_response(status)
        if content_type:
            h.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if status != 304:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if status != 304:
            h.wfile.write(body)


@contextmanager
def serving() -> Iterator[TestSite]:
    with TestSite() as site:
        yield site


# -- content ---------------------------------------------------------------------------


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


@dataclass(frozen=True)
class Story:
    """An upstream article."""

    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime

    @property
    def path(self) -> str:
        return f"/news/{self.slug}.html"


def story(n: int, *, words: str = "") -> Story:
    return Story(
        slug=f"story-{n}",
        title=f"Harbour report number {n}",  # (sentence case: capitals inside would read as a name)
        paragraphs=(
            f"The harbour opened a new quay for ferries on day {n}. {words}".strip(),
            f"Officials said the work took {n + 2} months and cost less than planned.",
        ),
        published=datetime(2026, 2, n, 9, 0, tzinfo=UTC),
    )


def article_page(
    s: Story, base: str, *, prev: Story | None = None, next: Story | None = None, semantic: bool = True
) -> str:  # noqa: A002
    """An article page; ``semantic=False`` gives div soup (for the trafilatura path)."""
    esc = html.escape
    nav = ""
    if prev:
        nav += f'<div class="nav">Previous Article <a href="{base}{prev.path}">{esc(prev.title)}</a></div>'
    if next:
        nav += f'<div class="nav">Next Article <a href="{base}{next.path}">{esc(next.title)}</a></div>'
    paras = "".join(f"<p>{esc(p)}</p>" for p in s.paragraphs)
    if semantic:
        body = (
            f'<header><nav><a href="/">Home</a></nav></header><main><article><h1>{esc(s.title)}</h1>'
            f'<time datetime="{s.published.isoformat()}">{s.published:%d %B}</time>{paras}'
            f"<p>[Source attribution: Harbour Gazette]</p></article>{nav}</main>"
        )
    else:
        body = (
            '<div class="top"><a href="/">Home</a> | <a href="/sport">Sport</a> | <a href="/weather">Weather</a></div>'
            f'<div class="wrap"><div class="headline"><h1>{esc(s.title)}</h1></div><div class="story-text">{paras}'
            "<p>A longer closing paragraph says that the ferries will run every hour from spring, "
            "and that the old quay will become a small park with benches and trees.</p></div>"
            f'<div class="share">Share this article</div>{nav}</div>'
            '<div class="sidebar"><ul><li><a href="/a">Most read one</a></li><li><a href="/b">Most read two</a></li></ul></div>'
        )
    return f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(s.title)} | Harbour Gazette</title></head><body>{body}</body></html>'


def rss(stories: Sequence[Story], base: str, *, full_content: bool = True, language: str = "en-US") -> str:
    esc = html.escape
    items = []
    for s in reversed(stories):  # newest first, as feeds list them
        content = "".join(f"<p>{esc(p)}</p>" for p in s.paragraphs)
        body = (
            f"<content:encoded><![CDATA[{content}<p>[Source attribution: Harbour Gazette]</p>]]></content:encoded>"
            if full_content
            else f"<description>{esc(s.paragraphs[0][:60])}</description>"
        )
        items.append(
            f"<item><title>{esc(s.title)}</title><link>{base}{s.path}</link>"
            f'<guid isPermaLink="false">urn:harbour:{s.slug}</guid>'
            f"<pubDate>{http_date(s.published)}</pubDate>{body}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Harbour Gazette</title><link>{base}/</link><description>News</description>"
        f"<language>{language}</language>{''.join(items)}</channel></rss>"
    )


def atom(stories: Sequence[Story], base: str) -> str:
    esc = html.escape
    entries = []
    for s in reversed(stories):
        content = esc("".join(f"<p>{esc(p)}</p>" for p in s.paragraphs))
        entries.append(
            f"<entry><title>{esc(s.title)}</title><id>tag:harbour,2026:{s.slug}</id>"
            f'<link href="{base}{s.path}"/><updated>{s.published.isoformat()}</updated>'
            f'<content type="html">{content}</content></entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        f"<title>Harbour Gazette</title><id>{base}/atom</id><updated>2026-02-28T00:00:00Z</updated>"
        f"{''.join(entries)}</feed>"
    )


HTML_NOT_FEED = (
    "<!DOCTYPE html><html><head><title>Harbour Gazette</title>"
    '<link rel="alternate" type="application/rss+xml" href="/real-feed.xml"></head>'
    "<body><h1>Welcome</h1><p>Our news.</p></body></html>"
)

MALFORMED_XML = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>'
    "<item><title>Half an item</titl></item><item><title>Unclosed"
)


def daemon_config(directory: Path, sources: str, *, languages: Sequence[str] = ("es",)) -> Path:
    """A config.toml in ``directory`` with Apertium only and the given ``[[sources]]`` tables."""
    quoted = ", ".join(f'"{code}"' for code in languages)
    text = f"""
[site]
title = "Harbour Watch"
base_url = "https://watch.example.org/"
source_language = "en"
author = "Test desk"

[output]
feeds_dir = "feeds"
translations_dir = "translations"
state_dir = "state"

[translate]
languages = [{quoted}]
engines = ["apertium"]

{sources}
"""
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
