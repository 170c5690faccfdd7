"""Property-based hostile inputs (issue 9): whatever comes in, every output parses.

Extraction (HTML pages, feed entries through feedparser and the feed source, plain
text) either returns an article free of controls, noncharacters, surrogates and bidi
overrides, or refuses the item with an :class:`ItemError`; nothing else escapes.
Publishing arbitrary Unicode (controls, lone surrogates, bidi, ``]]>``, huge and empty
fields) yields Atom that validates (tests/publish/feedcheck.py), RSS and JSON Feed that
parse, and pages lxml reads. Example counts are bounded so the suite takes well under a
minute; ``derandomize`` keeps it reproducible.
"""

from __future__ import annotations

import html
import json
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.config import ExtractSettings, FeedSourceSettings, load_settings
from syndicate.errors import ItemError
from syndicate.extract import extract
from syndicate.models import Article, Author, Known, Meta, RawItem
from syndicate.sources.base import Events, FetchResult, FetchState
from syndicate.sources.feed import FeedSource
from syndicate.sources.http import Fetched
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine
from tests.publish import feedcheck

#: What must never reach an article: C0/C1 controls (but tab/newline/CR), DEL,
#: noncharacters, surrogates, bidi embedding/override/isolate controls.
NOT_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]"
)

HOSTILE = [
    "]]>",
    "<![CDATA[",
    "<!DOCTYPE",
    "&#1;",
    "&#x1b;",
    "&#xfffe;",
    "&#xd800;",
    "&nbsp;",
    "\u202e",
    "\u2066",
    "\x00",
    "\x1b",
    "\ud800",
    "\udfff",
    "\ufffe",
    "<script>",
    "</p>",
    "&",
    "<",
    "\r\n",
    "\u2028",
    "\ufeff",
]

#: Every code point, surrogates and controls included, biased towards the hostile ones.
characters = st.characters(codec=None, categories=None)
hostile_text = st.lists(st.one_of(st.text(characters, max_size=12), st.sampled_from(HOSTILE)), max_size=12).map("".join)
EXAMPLES = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def clean_article(article: Article) -> None:
    texts = [article.title, *(b.html for b in article.blocks if hasattr(b, "html")), article.url or ""]
    for text in texts:
        assert not NOT_TEXT.search(text), repr(text)
    for block in article.blocks:
        if hasattr(block, "html"):
            lxml.html.fragment_fromstring(f"<div>{block.html}</div>")  # the stored markup parses


def read(item: RawItem) -> Article | None:
    try:
        article = extract(item, ExtractSettings())
    except ItemError:
        return None
    clean_article(article)
    return article


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate as the bytes a broken CMS writes


# -- extraction --------------------------------------------------------------------------


@EXAMPLES
@given(title=hostile_text, body=hostile_text, raw=st.binary(max_size=200))
def test_html_pages_are_read_or_refused(title: str, body: str, raw: bytes) -> None:
    page = (
        encode(
            f"<!DOCTYPE html><html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{body}</p><p>{html.escape(body)} and a sentence that makes it a paragraph.</p>"
        )
        + raw
    )
    read(RawItem(source="s", key="k.html", data=page, media_type="text/html"))
    read(RawItem(source="s", key="k.html", data=raw, media_type="text/html"))


@EXAMPLES
@given(text=hostile_text, raw=st.binary(max_size=200), utf16=st.booleans())
def test_plain_text_is_read_or_refused(text: str, raw: bytes, utf16: bool) -> None:
    data = b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass") if utf16 else encode(text) + raw
    read(RawItem(source="s", key="k.txt", data=data, media_type="text/plain"))


class FakeFetcher:
    """Serves one feed document; every other URL is a small article page."""

    def __init__(self, document: bytes) -> None:
        self.document = document

    def get(self, url: str, **_kwargs: Any) -> Fetched:
        if url.endswith("/feed.xml"):
            return Fetched(url=url, status=200, content=self.document, headers={"content-type": "application/rss+xml"})
        page = (
            b"<html><body><article><h1>Linked</h1><p>A linked page with a body paragraph.</p></article></body></html>"
        )
        return Fetched(url=url, status=200, content=page, headers={"content-type": "text/html"})

    def close(self) -> None:
        pass


def xml_text(text: str) -> str:
    return html.escape(text, quote=True)


@EXAMPLES
@given(
    entries=st.lists(st.tuples(hostile_text, hostile_text, hostile_text, st.booleans()), min_size=1, max_size=4),
    wrapper=st.sampled_from(["cdata", "escaped", "raw"]),
)
def test_feed_entries_are_read_or_refused_one_by_one(entries: list[tuple[str, str, str, bool]], wrapper: str) -> None:
    items = []
    for n, (title, content, link, with_link) in enumerate(entries):
        body = {"cdata": f"<![CDATA[{content}]]>", "escaped": xml_text(content), "raw": content}[wrapper]
        link_xml = f"<link>http://example.org/{xml_text(link)}</link>" if with_link else ""
        items.append(
            f"<item><title>{xml_text(title) if n % 2 else title}</title><guid>g{n}</guid>{link_xml}"
            f"<content:encoded>{body}</content:encoded></item>"
        )
    document = encode(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
        f"{''.join(items)}</channel></rss>"
    )
    config = FeedSourceSettings(name="f", type="feed", url="http://example.org/feed.xml")
    source = FeedSource(config, Path("."), fetcher=FakeFetcher(document))  # type: ignore[arg-type]
    from syndicate.errors import SourceError

    try:
        results = list(source.fetch(FetchState()))
    except SourceError:
        # Only a document feedparser itself got no entries out of (or crashed on) may fail the poll.
        try:
            parsed = feedparser.parse(document)
        except Exception:  # noqa: BLE001 - feedparser may refuse a hostile document in any way
            return
        assert not any(e.get("title") or e.get("content") or e.get("link") for e in parsed.entries)
        return
    for result in results:
        if isinstance(result, RawItem):
            read(result)
        else:
            assert isinstance(result, ItemError)


# -- publishing --------------------------------------------------------------------------


class FakeSource:
    """A source that hands the pipeline the given items (what a hostile upstream sends)."""

    name = "sample"

    def __init__(self, items: list[RawItem]) -> None:
        self.items = items

    def fetch(self, state: FetchState) -> Events:
        for item in self.items:  # noqa: UP028 - the poll send()s replies, which a list's iterator cannot take
            yield item
        return FetchResult(state)


def hostile_item(n: int, title: str, body: str, tag: str, author: str, path: str, huge: bool) -> RawItem:
    paragraphs = [body, body * (2000 // max(len(body), 1)) if huge else "", f"{body}]]>{title}"]
    markup = "".join(f"<p>{html.escape(p, quote=False)} and some words.</p>" for p in paragraphs)
    markup += f'<p><a href="https://example.org/{html.escape(path)}">{html.escape(title)}</a></p>'
    meta = Meta(
        authors=(Author(author, f"https://example.org/{path}"),) if author else (),
        tags=(tag,) if tag else (),
        summary=body[:200],
    )
    return RawItem(
        source="sample",
        key=f"hostile-{n}",
        data=encode(markup),
        media_type="text/html",
        url=f"https://example.org/{path}" if path else None,
        base_url="https://example.org/",
        language="en",
        published=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n),
        known=Known(title=title or f"Untitled {n}", meta=meta, fragment=True, summary=body),
    )


def check_outputs(root: Path) -> int:
    checked = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        data = path.read_bytes()
        if path.suffix == ".json":
            json.loads(data)
            if path.name == "feed.json":
                assert feedcheck.json_feed_problems(data) == [], path
        elif path.suffix == ".xml":
            root = etree.fromstring(data)
            if root.tag in ("rss", f"{{{feedcheck.ATOM}}}feed"):
                parsed = feedparser.parse(data)
                assert not parsed.bozo, (path, parsed.get("bozo_exception"))
                assert feedcheck.feed_problems(path) == [], path
        elif path.suffix == ".html":
            lxml.html.document_fromstring(data)
            assert not NOT_TEXT.search(data.decode("utf-8")), path
        else:
            continue
        checked += 1
    return checked


def _reversed(text: str) -> str:
    """``text`` backwards, the fake engine's placeholders for protected terms left whole."""
    parts = re.split(r"(QZ\d+QZ)", text)
    return "".join(part if i % 2 else part[::-1] for i, part in reversed(list(enumerate(parts))))


def publish_items(directory: Path, items: list[RawItem], noise: str) -> None:
    (directory / "empty").mkdir()
    settings = load_settings(write_config(directory, languages=("es", "en"), articles=directory / "empty"))
    store = Store.open(settings.state_dir)
    # An engine whose output is as hostile as the input: controls, surrogates, "]]>" (it
    # keeps the protected names it is given, as every real engine does: tests/fakes.py).
    engine = FakeEngine("apertium", {("en", "es")}, lambda s, _a, _b: f"{_reversed(s)}{noise}")
    try:
        report = once(
            settings,
            store,
            engines=Engines(settings, {"apertium": lambda _s: engine}),
            clock=Clock(),
            source_factory=lambda _s, _root: FakeSource(items),
        )
        assert report.items_seen == len(items)
    finally:
        store.close()
    published = check_outputs(directory / "feeds")
    if report.articles_new:
        assert published >= 6  # atom, rss and json for both languages at least
    check_outputs(directory / "translations")


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    fields=st.lists(
        st.tuples(hostile_text, hostile_text, hostile_text, hostile_text, hostile_text, st.booleans()),
        min_size=1,
        max_size=3,
    ),
    noise=hostile_text,
)
def test_published_outputs_parse_and_validate(fields: list[tuple[str, str, str, str, str, bool]], noise: str) -> None:
    with tempfile.TemporaryDirectory() as name:
        publish_items(Path(name), [hostile_item(n, *f) for n, f in enumerate(fields)], noise)


def test_empty_and_huge_fields_publish(tmp_path: Path) -> None:
    items = [
        hostile_item(0, "", "", "", "", "", False),
        hostile_item(1, "T" * 20000, "word " * 40000, "x" * 5000, "A" * 5000, "p" * 5000, True),
        hostile_item(2, "\ud800\u202e]]>\x1b", "\x00\ufffe\u2066]]>&#1;", "\u202e", "\x1b", "%00]]>\u202e", False),
    ]
    publish_items(tmp_path, items, "\x00\ud800]]>\u202e")
