"""``type = "feed"``: an upstream RSS or Atom feed, fetched politely and parsed by feedparser.

The feed is fetched by :class:`~syndicate.sources.http.HttpFetcher` (conditional GET with
the validators of the last poll, limits, retries) and its bytes are handed to feedparser
as a stream, never as a URL or a string (feedparser would fetch a URL itself, and open a
string that happens to name a file). feedparser's dicts stay in this module: entries
leave it as :class:`RawItem` pages.

An entry that carries its full content (Atom ``<content>``, RSS ``<content:encoded>``)
becomes a minimal HTML page with that content; an entry with only a summary is completed
from its linked page (see :mod:`syndicate.sources.page`). Linked pages already read are
not fetched again while the entry stays the same.
"""

from __future__ import annotations

import hashlib
import html
import io
import logging
import re
import xml.sax
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import lxml.html
from lxml import etree

from syndicate.config import FeedSourceSettings
from syndicate.errors import ItemError, SourceError
from syndicate.models import RawItem
from syndicate.sources.base import FetchState
from syndicate.sources.http import (
    FEED_ACCEPT,
    Fetched,
    FetchError,
    HttpFetcher,
    HttpSource,
)
from syndicate.sources.page import minimal_page, paragraphs_html, read_page

logger = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")


class FeedSource(HttpSource):
    """Polls one RSS/Atom feed; see the module docstring."""

    settings: FeedSourceSettings

    def fetch(self) -> Iterator[RawItem | ItemError]:
        url = self.settings.url
        state = self.state
        if state.cursor.get("url") != url:  # first poll, or the feed moved: no validators
            state = FetchState()
        http = self._http()
        try:
            fetched = http.get(url, etag=state.etag, last_modified=state.last_modified, accept=FEED_ACCEPT)
            if fetched.not_modified:
                self.not_modified = True
                return
            feed = parse_feed(fetched, source=self.name)
            read_before: Mapping[str, str] = state.cursor.get("pages", {})
            read_now: dict[str, str] = {}
            failed = False
            # Oldest first: articles the links do not order are ordered by arrival.
            for entry in reversed(feed.get("entries", [])):
                if self.should_stop():
                    return  # the state stays as it was: the next poll reads the feed again
                result = self._entry(entry, feed, fetched, http, read_before, read_now)
                if result is None:
                    continue
                failed = failed or isinstance(result, ItemError)
                yield result
            # Every entry is stored: remember what the next poll can skip. Keep the old
            # validators after a failure, so the next poll reads the feed again.
            done = state if failed else FetchState(etag=fetched.etag, last_modified=fetched.last_modified)
            self.state = FetchState(
                etag=done.etag, last_modified=done.last_modified, cursor={"url": url, "pages": read_now}
            )
        finally:
            if self._fetcher is None:
                http.close()

    def _entry(
        self,
        entry: Any,
        feed: Any,
        fetched: Fetched,
        http: HttpFetcher,
        read_before: Mapping[str, str],
        read_now: dict[str, str],
    ) -> RawItem | ItemError | None:
        link = entry.get("link") or None
        key = entry.get("id") or link or _digest(entry.get("title", ""), entry.get("published", ""))
        title = _plain_title(entry)
        # dict.get: feedparser's own get() maps "updated" to "published" with a warning
        published = _when(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed"))
        content = _full_content(entry)
        language = self.settings.language or _language(entry, feed)
        if content is not None:
            if not title:
                return ItemError("the entry has no title", source=self.name, item=key, hint="the feed must give each entry a <title>")
            data = minimal_page(title=title, body_html=content, url=link, language=language, published=published)
            return RawItem(
                source=self.name, key=key, data=data, media_type="text/html", url=link,
                base_url=link or fetched.url, language=language, published=published,
            )
        if not link:
            return ItemError(
                "the entry has neither full content nor a link to the article", source=self.name, item=key,
                hint="the feed must carry <content> or link each entry to its page",
            )
        fingerprint = _digest(link, title, dict.get(entry, "updated", ""), entry.get("published", ""), entry.get("summary", ""))
        if read_before.get(key) == fingerprint:
            read_now[key] = fingerprint  # read on an earlier poll and unchanged since
            return None
        try:
            page = http.get(link)
            read = read_page(page, source=self.name, key=key, url=link, title=title or None, language=language, published=published)
        except FetchError as exc:
            # The URL came from the feed entry, not from config.toml (whose hint exc carries).
            hint = (
                "the feed entry links to a page that is gone; the feed's publisher must fix the link "
                "(it is tried again on the next poll)"
                if exc.status in (404, 410) else exc.hint
            )
            return ItemError(f"cannot fetch the linked page: {exc.message}", source=self.name, item=link, hint=hint)
        except ItemError as exc:
            return exc
        read_now[key] = fingerprint
        return read.item


def parse_feed(fetched: Fetched, *, source: str) -> Any:
    """feedparser's result for a fetched feed; raise SourceError when it is not a feed."""
    import feedparser

    parsed = feedparser.parse(
        io.BytesIO(fetched.content),  # a stream: feedparser never fetches or opens anything itself
        response_headers={"content-type": fetched.content_type or "application/xml", "content-location": fetched.url},
    )
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.get("version"):
        content_type = fetched.content_type.split(";")[0].strip() or "no content type"
        alternate = _alternate_feed(fetched)
        hint = f"the page names its feed: url = {alternate!r}" if alternate else "check that the URL is the feed's, not a web page's"
        what = "an HTML page" if b"<html" in fetched.content[:4096].lower() else "not RSS or Atom"
        raise SourceError(f"{fetched.url} is {what} ({content_type}), not a feed", source=source, hint=hint)
    if isinstance(problem, xml.sax.SAXException):
        line = getattr(problem, "getLineNumber", lambda: "?")()
        message = getattr(problem, "getMessage", lambda: str(problem))()
        raise SourceError(
            f"{fetched.url} is not well-formed XML (line {line}: {message})",
            source=source,
            hint="the upstream feed is broken; it is read again on the next poll",
        )
    return parsed


def _alternate_feed(fetched: Fetched) -> str | None:
    """An HTML page's ``<link rel="alternate" type="application/rss+xml">``, if any."""
    try:
        doc = lxml.html.document_fromstring(fetched.content)
    except (ValueError, etree.ParserError):
        return None
    doc.make_links_absolute(fetched.url, handle_failures="ignore")
    for href in doc.xpath(
        '//link[contains(@rel, "alternate")][@type="application/rss+xml" or @type="application/atom+xml"]/@href'
    ):
        return str(href)
    return None


def _full_content(entry: Any) -> str | None:
    """The entry's full content as HTML paragraphs, or None when it has only a summary."""
    for content in entry.get("content", []):
        value = (content.get("value") or "").strip()
        if not value:
            continue
        if content.get("type") in _HTML_TYPES:
            doc = lxml.html.fragment_fromstring(value, create_parent="div")
            if doc.xpath(".//p"):
                return value
            return paragraphs_html(html.escape(p.strip(), quote=False) for p in re.split(r"\n\s*\n", doc.text_content()))
        return paragraphs_html(html.escape(p.strip(), quote=False) for p in re.split(r"\n\s*\n", value))
    return None


def _plain_title(entry: Any) -> str:
    title = entry.get("title", "") or ""
    if entry.get("title_detail", {}).get("type") in _HTML_TYPES and "<" in title:
        title = lxml.html.fragment_fromstring(title, create_parent="div").text_content()
    return re.sub(r"\s+", " ", html.unescape(title)).strip()


def _language(entry: Any, feed: Any) -> str | None:
    """The entry's (else the feed's) language as a primary subtag ("en-US" -> "en"), as
    extraction does for HTML pages."""
    code = next((c["language"] for c in entry.get("content", []) if c.get("language")), None)
    code = code or feed.get("feed", {}).get("language") or None
    return code.split("-")[0].split("_")[0].lower() if code else None


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in value[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
