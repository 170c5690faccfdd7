"""HTTP semantics of ``syndicate serve`` through real clients against a real server."""

from __future__ import annotations

import gzip
import json
import os
import socket
from email.utils import formatdate, parsedate_to_datetime

import brotli
import httpx
import pytest
from lxml import etree

from syndicate.serve.headers import IMMUTABLE
from tests.serve.conftest import SECRET, Server, Site

pytestmark = pytest.mark.apertium

FEEDS = "/news/feeds"
PAGES = "/news/translations"


def raw(server: Server, request: bytes, timeout: float = 5) -> bytes:
    """Send bytes exactly as given (httpx would normalize the path) and read the reply."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


def raw_get(server: Server, target: bytes, method: bytes = b"GET") -> bytes:
    return raw(server, method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0


# -- content types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        (f"{FEEDS}/es/atom.xml", "application/atom+xml"),
        (f"{FEEDS}/es/rss.xml", "application/rss+xml"),
        (f"{FEEDS}/es/feed.json", "application/feed+json"),
        (f"{FEEDS}/es/archive/1.xml", "application/atom+xml"),
        (f"{FEEDS}/es/archive/1.rss", "application/rss+xml"),
        (f"{FEEDS}/es/archive/1.json", "application/feed+json"),
        (f"{FEEDS}/opml.xml", "text/x-opml"),
        (f"{FEEDS}/index.html", "text/html"),
        (f"{PAGES}/es/index.html", "text/html"),
        (f"{PAGES}/es/city-library-reopens-after-two-year-renovation.html", "text/html"),
    ],
)
def test_content_types_with_charset(client: httpx.Client, site: Site, path: str, media_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    relative = path.removeprefix("/news/")
    assert response.content == (site.root / relative).read_bytes()
    if media_type == "application/feed+json":
        assert json.loads(response.content)["version"].startswith("https://jsonfeed.org/version/1")
    elif "xml" in media_type or "opml" in media_type:
        etree.fromstring(response.content)  # well-formed, served byte for byte


def test_folder_urls_serve_index_pages_and_redirect(client: httpx.Client) -> None:
    assert client.get(f"{FEEDS}/").content == client.get(f"{FEEDS}/index.html").content
    moved = client.get(f"{PAGES}/es")
    assert moved.status_code == 301 and moved.headers["location"] == f"{PAGES}/es/"
    home = client.get("/news/")
    assert home.status_code == 302 and home.headers["location"] == f"{FEEDS}/"
    assert client.get("/").status_code == 302


# -- validators and 304 -------------------------------------------------------------------


def test_strong_etag_and_last_modified(client: httpx.Client, site: Site) -> None:
    response = client.get(f"{FEEDS}/es/atom.xml", headers={"Accept-Encoding": "identity"})
    etag = response.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    modified = parsedate_to_datetime(response.headers["last-modified"])
    assert int(modified.timestamp()) == int((site.feeds / "es" / "atom.xml").stat().st_mtime)
    assert client.get(f"{FEEDS}/es/atom.xml", headers={"Accept-Encoding": "identity"}).headers["etag"] == etag


def test_if_none_match_gives_304(client: httpx.Client) -> None:
    first = client.get(f"{FEEDS}/es/atom.xml", headers={"Accept-Encoding": "gzip"})
    again = client.get(
        f"{FEEDS}/es/atom.xml", headers={"If-None-Match": first.headers["etag"], "Accept-Encoding": "gzip"}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    for name in ("cache-control", "vary", "access-control-allow-origin", "last-modified"):
        assert again.headers[name] == first.headers[name]
    # Any representation's tag names the same content; a list and W/ are understood too.
    plain = client.get(f"{FEEDS}/es/atom.xml", headers={"Accept-Encoding": "identity"}).headers["etag"]
    listed = f'"nope", W/{plain}'
    assert client.get(f"{FEEDS}/es/atom.xml", headers={"If-None-Match": listed}).status_code == 304
    assert client.get(f"{FEEDS}/es/atom.xml", headers={"If-None-Match": "*"}).status_code == 304
    assert client.get(f"{FEEDS}/es/atom.xml", headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_modified_since_gives_304(client: httpx.Client, site: Site) -> None:
    mtime = (site.feeds / "es" / "rss.xml").stat().st_mtime
    same = client.get(f"{FEEDS}/es/rss.xml", headers={"If-Modified-Since": formatdate(mtime, usegmt=True)})
    assert same.status_code == 304
    later = client.get(f"{FEEDS}/es/rss.xml", headers={"If-Modified-Since": formatdate(mtime + 3600, usegmt=True)})
    assert later.status_code == 304
    older = client.get(f"{FEEDS}/es/rss.xml", headers={"If-Modified-Since": formatdate(mtime - 3600, usegmt=True)})
    assert older.status_code == 200 and older.content
    assert client.get(f"{FEEDS}/es/rss.xml", headers={"If-Modified-Since": "yesterday"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    both = client.get(
        f"{FEEDS}/es/rss.xml", headers={"If-None-Match": '"other"', "If-Modified-Since": formatdate(mtime, usegmt=True)}
    )
    assert both.status_code == 200


def test_a_changed_file_gets_new_validators(client: httpx.Client, site: Site) -> None:
    path = site.pages / "es" / "changing.html"
    path.write_bytes(b"<!doctype html><title>one</title>")
    first = client.get(f"{PAGES}/es/changing.html")
    assert first.content == b"<!doctype html><title>one</title>"
    tmp = path.with_name(".changing.html.x.tmp")
    tmp.write_bytes(b"<!doctype html><title>two!</title>")
    os.replace(tmp, path)  # as the publisher writes: a new file renamed into place
    second = client.get(f"{PAGES}/es/changing.html", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.content == b"<!doctype html><title>two!</title>"
    assert second.headers["etag"] != first.headers["etag"]
    path.unlink()
    assert client.get(f"{PAGES}/es/changing.html").status_code == 404


# -- compression and HEAD -------------------------------------------------------------------


def test_gzip(client: httpx.Client, site: Site) -> None:
    with httpx.stream("GET", client.base_url.join(f"{FEEDS}/es/atom.xml"), headers={"Accept-Encoding": "gzip"}) as r:
        body = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["vary"] == "Accept-Encoding"
        assert int(r.headers["content-length"]) == len(body)
        assert r.headers["etag"].endswith('-gzip"')
    assert gzip.decompress(body) == (site.feeds / "es" / "atom.xml").read_bytes()


def test_brotli(client: httpx.Client, site: Site) -> None:
    with httpx.stream(
        "GET", client.base_url.join(f"{PAGES}/es/index.html"), headers={"Accept-Encoding": "gzip, br"}
    ) as r:
        body = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "br"
        assert r.headers["vary"] == "Accept-Encoding"
    assert brotli.decompress(body) == (site.pages / "es" / "index.html").read_bytes()
    refused = client.get(f"{PAGES}/es/index.html", headers={"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "content-encoding" not in refused.headers


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip;q=1.0, br;q=0.5", "gzip"),  # the client prefers gzip: it gets gzip (issue 20)
        ("br;q=0.4, gzip;q=0.8", "gzip"),
        ("gzip;q=0.5, br;q=0.9", "br"),
        ("gzip, br", "br"),  # a tie: the smaller
        ("*;q=0.3, gzip;q=0.2", "br"),  # br only through the wildcard, and preferred
        ("identity", None),
        ("gzip;q=0", None),
    ],
)
def test_accept_encoding_q_values_decide(client: httpx.Client, accept: str, coding: str | None) -> None:
    answer = client.get(f"{FEEDS}/es/atom.xml", headers={"Accept-Encoding": accept})
    assert answer.headers.get("content-encoding") == coding


def test_head_has_the_headers_and_no_body(server: Server, client: httpx.Client) -> None:
    get = client.get(f"{FEEDS}/es/feed.json", headers={"Accept-Encoding": "identity"})
    head = client.head(f"{FEEDS}/es/feed.json", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
        assert head.headers[name] == get.headers[name]
    reply = raw_get(server, f"{FEEDS}/es/feed.json".encode(), b"HEAD")
    assert reply.endswith(b"\r\n\r\n")  # nothing after the headers


# -- cache headers, CORS, CSP -------------------------------------------------------------


def test_cache_control_per_kind(client: httpx.Client, site: Site) -> None:
    short = "public, max-age=120"  # [serve] max_age = "2m"
    assert client.get(f"{FEEDS}/es/atom.xml").headers["cache-control"] == short
    assert client.get(f"{FEEDS}/opml.xml").headers["cache-control"] == short
    assert client.get(f"{PAGES}/es/index.html").headers["cache-control"] == short
    archive = sorted(int(p.stem) for p in (site.feeds / "es" / "archive").glob("*.xml"))
    assert archive == [1, 2, 3]  # 7 entries, 2 per document: two full pages and an open one
    for number in (1, 2):
        for suffix in (".xml", ".rss", ".json"):
            assert client.get(f"{FEEDS}/es/archive/{number}{suffix}").headers["cache-control"] == IMMUTABLE
    for suffix in (".xml", ".rss", ".json"):
        assert client.get(f"{FEEDS}/es/archive/3{suffix}").headers["cache-control"] == short
    # The page index is paginated with the feed: its full pages never change either.
    for number in (1, 2):
        assert client.get(f"{PAGES}/es/archive/{number}.html").headers["cache-control"] == IMMUTABLE
    assert client.get(f"{PAGES}/es/archive/3.html").headers["cache-control"] == short


def test_cors_on_feeds_only(client: httpx.Client) -> None:
    for path in (f"{FEEDS}/es/atom.xml", f"{FEEDS}/es/archive/1.json", f"{FEEDS}/opml.xml"):
        assert client.get(path).headers["access-control-allow-origin"] == "*"
        # A browser script may read the validator and the WebSub Link header (issue 20).
        assert {h.strip().lower() for h in client.get(path).headers["access-control-expose-headers"].split(",")} >= {
            "etag",
            "link",
        }
    assert "access-control-allow-origin" not in client.get(f"{PAGES}/es/index.html").headers
    preflight = client.options(
        f"{FEEDS}/es/atom.xml",
        headers={
            "Origin": "https://partner.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "If-None-Match" in preflight.headers["access-control-allow-headers"]
    page = client.options(f"{PAGES}/es/index.html")
    assert page.status_code == 204 and "access-control-allow-origin" not in page.headers
    assert "content-length" not in page.headers


def test_pages_have_a_strict_csp_and_nosniff(client: httpx.Client) -> None:
    for path in (
        f"{PAGES}/es/index.html",
        f"{PAGES}/es/city-library-reopens-after-two-year-renovation.html",
        f"{FEEDS}/index.html",
    ):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
    assert client.get(f"{FEEDS}/es/atom.xml").headers["x-content-type-options"] == "nosniff"


def test_methods(client: httpx.Client) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = client.request(method, f"{FEEDS}/es/atom.xml")
        assert response.status_code == 405, method
        assert "GET" in response.headers["allow"]
    assert client.post("/status").status_code == 405
    assert client.get(f"{FEEDS}/es/nothing.xml").status_code == 404
    assert client.get("/elsewhere/atom.xml").status_code == 404


# -- traversal and malformed requests -----------------------------------------------------

ATTEMPTS: list[bytes] = [
    b"/news/feeds/../secret.txt",
    b"/news/feeds/es/../../secret.txt",
    b"/news/feeds/%2e%2e/secret.txt",
    b"/news/feeds/%2E%2E/secret.txt",
    b"/news/feeds/.%2e/secret.txt",
    b"/news/feeds/%252e%252e/secret.txt",  # double encoding
    b"/news/feeds/..%2fsecret.txt",
    b"/news/feeds/..%252fsecret.txt",
    b"/news/feeds/..%5csecret.txt",
    b"/news/feeds/..\\secret.txt",
    b"/news/feeds/%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 dots
    b"/news/feeds/es/atom.xml%00.html",
    b"/news/feeds/es/%00",
    b"/news/feeds//etc/passwd",
    b"/news/feeds/%2fetc%2fpasswd",
    b"//etc/passwd",
    b"/etc/passwd",
    b"/news/feeds/es/leak.txt",  # a symlink to a file outside
    b"/news/feeds/out/secret.txt",  # a symlinked folder outside
    b"/news/translations/es/passwd.html",  # a symlink to /etc/passwd
    b"/news/feeds/es/.atom.xml.abc123.tmp",  # a writer's temporary file
    b"/news/feeds/es/",  # a folder without an index: no listing
    b"/news/feeds/es/archive/",
    b"/news/feeds/./es/../../secret.txt",
    b"/news/feeds/es/atom.xml/../../../secret.txt",
    b"/news/feeds/es/atom.xml;/../../secret.txt",
    b"/news/feeds/C:%5cWindows%5cwin.ini",
    b"http://127.0.0.1/news/feeds/../secret.txt",  # absolute-form target
    b"/news/feeds/" + b"a/" * 3000 + b"secret.txt",
    b"/news/../secret.txt",
    b"/news/%2e%2e/%2e%2e/etc/passwd",
]


@pytest.mark.parametrize("target", ATTEMPTS, ids=[a[:60].decode("latin-1") for a in ATTEMPTS])
def test_traversal_attempts_fail_safely(server: Server, target: bytes) -> None:
    reply = raw_get(server, target)
    status = status_of(reply)
    assert status in (400, 404, 414), reply[:200]
    assert SECRET.encode() not in reply and b"root:" not in reply


MALFORMED: list[bytes] = [
    b"GET /news/feeds/es/atom.xml HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /news/feeds/%2e%2e/secret.txt\r\n\r\n",  # HTTP/0.9 style
    b"GARBAGE\r\n\r\n",
    b"GET /news/feeds/es/atom.xml HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"GET /news/feeds/es/atom.xml HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET /news/feeds/\x00/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello on the plain port
]


@pytest.mark.parametrize("request_bytes", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_requests_fail_safely(server: Server, request_bytes: bytes) -> None:
    reply = raw(server, request_bytes, timeout=3)
    assert reply == b"" or status_of(reply) in (400, 404, 505), reply[:200]
    assert SECRET.encode() not in reply
    assert httpx.get(server.url("/healthz"), timeout=5).status_code == 200  # still serving


def test_a_symlink_inside_the_folder_is_followed(client: httpx.Client, site: Site) -> None:
    alias = site.feeds / "es" / "alias.xml"
    alias.symlink_to(site.feeds / "es" / "atom.xml")
    try:
        assert client.get(f"{FEEDS}/es/alias.xml").content == (site.feeds / "es" / "atom.xml").read_bytes()
    finally:
        alias.unlink()
