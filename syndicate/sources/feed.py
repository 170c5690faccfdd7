"""``type = "feed"``: an upstream RSS or Atom feed, fetched politely and parsed by feedparser.

The feed is fetched by :class:`~syndicate.sources.http.HttpFetcher` (conditional GET with
the validators of the last poll, limits, retries) and its bytes are handed to feedparser
as a stream, never as a URL or a string (feedparser would fetch a URL itself, and open a
string that happens to name a file). feedparser's dicts stay in this module: entries
leave it as :class:`RawItem` pages.

An entry leaves as typed data for extraction (:class:`~syndicate.models.Known`): its
title, authors (``dc:creator``, ``author``, Atom ``author``), tags (``category``), lead
image (``media:content``/``media:thumbnail``, an image enclosure), enclosures (URL,
type, length, passed through unchanged), summary and dates. An entry that carries its
full content (Atom ``<content>``, RSS ``<content:encoded>``) hands that content over as
the item's bytes; an entry with only a summary is completed from its linked page (see
:mod:`syndicate.sources.page`), or, with no link, read from its summary. Linked pages
already read are not fetched again while the entry stays the same. Each entry is
isolated: whatever one entry raises, the others are read.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import io
import logging
import re
import xml.sax
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from syndicate import metrics
from syndicate.config import FeedSourceSettings
from syndicate.errors import ItemError, SourceError, SyndicateError
from syndicate.extract.blocks import safe_url
from syndicate.extract.common import squash
from syndicate.extract.decode import clean, not_really_utf8
from syndicate.models import (
    Author,
    Enclosure,
    Image,
    Known,
    Meta,
    RawItem,
    normalize_lang,
)
from syndicate.sources.base import Events, FetchResult, FetchState
from syndicate.sources.http import (
    FEED_ACCEPT,
    Fetched,
    FetchError,
    HttpFetcher,
    HttpSource,
)
from syndicate.sources.page import read_page

logger = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Linked pages of one host that may fail (time out, 5xx) in a poll before the rest of
#: that host's are left for the next poll.
MAX_HOST_FAILURES = 3
#: What an entry keeps of its credits, categories and attachments.
MAX_AUTHORS = 20
MAX_TAGS = 20
MAX_ENCLOSURES = 10


class FeedSource(HttpSource):
    """Polls one RSS/Atom feed; see the module docstring."""

    settings: FeedSourceSettings

    def fetch(self, state: FetchState) -> Events:
        url = self.settings.url
        #: Per host, linked pages that failed in this poll (network, timeout, 5xx).
        self._host_failures: dict[str, int] = {}
        if state.cursor.get("url") != url:  # first poll, or the feed moved: no validators
            state = FetchState()
        http = self._http()
        try:
            fetched = http.get(url, etag=state.etag, last_modified=state.last_modified, accept=FEED_ACCEPT)
            if fetched.not_modified:
                return FetchResult(state, not_modified=True)
            feed = parse_feed(fetched, source=self.name)
            xml_problem = feed.get("syndicate_xml_problem")
            if xml_problem and xml_problem != state.cursor.get("xml_problem"):  # once per change, not per poll
                logger.warning(
                    "[%s] %s; reading the %d entries feedparser recovered",
                    self.name,
                    xml_problem,
                    len(feed.get("entries", [])),
                )
            charset_problem = feed.get("syndicate_charset_problem")
            if charset_problem and charset_problem != state.cursor.get("charset_problem"):
                logger.warning("[%s] %s", self.name, charset_problem)
            read_before: Mapping[str, str] = state.cursor.get("pages", {})
            read_now: dict[str, str] = {}
            failed = False
            # Oldest first: articles the links do not order are ordered by arrival.
            for entry in reversed(feed.get("entries", [])):
                if self.should_stop():
                    return FetchResult(state)  # the state stays as it was: the next poll reads the feed again
                fingerprint: str | None = None
                try:
                    result, fingerprint = self._entry(entry, feed, fetched, http, read_before)
                except ItemError as exc:  # the entry's own problem, in its words
                    result = exc
                except SyndicateError as exc:  # ours (a configured pattern, the store): never the upstream's
                    result = ItemError(
                        exc.message,
                        source=self.name,
                        item=_entry_name(entry),
                        hint=f"{exc.hint}; the feed's other entries were read"
                        if exc.hint
                        else "the feed's other entries were read",
                    )
                except Exception as exc:  # nothing expected this: our bug, not a malformed entry
                    logger.exception(
                        "[%s] reading entry %s failed with an unexpected %s (a bug: please report it "
                        "with this traceback)",
                        self.name,
                        _entry_name(entry),
                        type(exc).__name__,
                    )
                    metrics.record_bug("source")
                    result = ItemError(
                        f"syndicate failed on this entry ({type(exc).__name__}: {exc})",
                        source=self.name,
                        item=_entry_name(entry),
                        hint="this is a bug in syndicate, not a fault of the upstream: please report it with the "
                        "traceback in the log; the feed's other entries were read",
                    )
                if result is None:  # read on an earlier poll and unchanged since
                    if fingerprint is not None:
                        read_now[str(_entry_key(entry))] = fingerprint
                    continue
                if isinstance(result, ItemError):
                    failed = True
                    yield result
                    continue
                stored = yield result
                if stored is False:
                    failed = True
                elif fingerprint is not None:
                    read_now[result.key] = fingerprint
            # Every entry is stored: remember what the next poll can skip. Keep the old
            # validators after a failure, so the next poll reads the feed again.
            done = state if failed else FetchState(etag=fetched.etag, last_modified=fetched.last_modified)
            cursor: dict[str, Any] = {"url": url, "pages": read_now}
            if xml_problem:
                cursor["xml_problem"] = xml_problem
            if charset_problem:
                cursor["charset_problem"] = charset_problem
            if hub := websub_links(feed, fetched):
                cursor["websub"] = hub  # the hub it names: sources/websub.py subscribes to it
            return FetchResult(FetchState(etag=done.etag, last_modified=done.last_modified, cursor=cursor))
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
    ) -> tuple[RawItem | ItemError | None, str | None]:
        """The entry's item (None: unchanged since it was stored) and its fingerprint."""
        link = clean(str(entry.get("link") or "")).strip() or None
        key = _entry_key(entry)
        title = _plain_title(entry)
        # dict.get: feedparser's own get() maps "updated" to "published" with a warning
        published = _when(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed"))
        content = _full_content(entry)
        language = self.settings.language or _language(entry, feed)
        base = link or fetched.url
        meta = entry_meta(entry, base)
        summary = _summary(entry)
        if content is not None or not link:
            if content is None and not summary:
                return ItemError(
                    "the entry has neither content nor a summary nor a link to the article",
                    source=self.name,
                    item=key,
                    hint="the feed must carry <content>, a summary or a link for each entry",
                ), None
            item = RawItem(
                source=self.name,
                key=key,
                data=(content or "").encode("utf-8"),
                media_type="text/html",
                url=link,
                base_url=base,
                language=language,
                published=published,
                known=Known(title=title, meta=meta, fragment=True, summary=summary),
            )
            # An entry carrying its content is read again only when any of it changed.
            fingerprint = _digest(repr(item))
            return (None if read_before.get(key) == fingerprint else item), fingerprint
        fingerprint = _digest(
            link, title, dict.get(entry, "updated", ""), entry.get("published", ""), entry.get("summary", "")
        )
        if read_before.get(key) == fingerprint:
            return None, fingerprint  # read on an earlier poll and unchanged since
        host = (urlsplit(link).hostname or "").lower()
        if self._host_failures.get(host, 0) >= MAX_HOST_FAILURES:
            # A host that timed out or failed again and again this poll is left for the next
            # one: otherwise a poll could take entries x attempts x timeout.
            return ItemError(
                f"not fetched: {host} failed {MAX_HOST_FAILURES} times in this poll",
                source=self.name,
                item=link,
                hint="it is tried again on the next poll",
            ), None
        try:
            page = http.get(link)
            read = read_page(
                page,
                source=self.name,
                key=key,
                url=link,
                title=title or None,
                language=language,
                published=published,
                meta=meta,
                summary=summary,
            )
        except FetchError as exc:
            if exc.status is None or exc.status >= 500 or exc.status == 429:  # the host, not the page
                self._host_failures[host] = self._host_failures.get(host, 0) + 1
            # The URL came from the feed entry, not from config.toml (whose hint exc carries).
            hint = (
                "the feed entry links to a page that is gone; the feed's publisher must fix the link "
                "(it is tried again on the next poll)"
                if exc.status in (404, 410)
                else exc.hint
            )
            return ItemError(
                f"cannot fetch the linked page: {exc.message}", source=self.name, item=link, hint=hint
            ), None
        return read.item, fingerprint


def _entry_name(entry: Mapping[str, Any]) -> str:
    """How a problem names an entry: its id, link or title."""
    return str(entry.get("id") or entry.get("link") or entry.get("title") or "?")[:200]


def _entry_key(entry: Any) -> str:
    """The entry's identity: its id, else its link, else a digest of title and date."""
    link = clean(str(entry.get("link") or "")).strip() or None
    return str(entry.get("id") or link or _digest(entry.get("title", ""), entry.get("published", "")))


def parse_feed(fetched: Fetched, *, source: str) -> Any:
    """feedparser's result for a fetched feed; raise SourceError when it is not a feed."""
    import feedparser

    try:
        parsed = feedparser.parse(
            # A stream: feedparser never fetches or opens anything itself. References to
            # what is never text go first: they are fatal XML, and crash the loose parser.
            io.BytesIO(_few_categories(_without_bad_references(fetched.content))),
            response_headers={
                "content-type": fetched.content_type or "application/xml",
                "content-location": fetched.url,
            },
            # Our own reader keeps only what blocks can hold and nh3 cleans every output;
            # feedparser's sanitizer would also drop what we need (srcset, <figure> sizes,
            # <iframe>/<video> sources that become embed links).
            sanitize_html=False,
        )
    except Exception as exc:  # noqa: BLE001 - feedparser failing on these bytes: the upstream's feed is broken
        raise SourceError(
            f"{fetched.url} could not be parsed ({type(exc).__name__}: {exc})",
            source=source,
            hint="the upstream feed is broken; it is read again on the next poll",
        ) from None
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    declared = re.search(r"declared as (\S+?),", str(problem)) if problem else None
    if (
        isinstance(problem, feedparser.CharacterEncodingOverride)
        and declared
        and (relabelled := _relabelled(fetched, declared.group(1)))
    ):
        data, detected = relabelled
        parsed = feedparser.parse(
            io.BytesIO(_without_bad_references(data)),
            sanitize_html=False,
            response_headers={"content-type": "application/xml; charset=utf-8", "content-location": fetched.url},
        )
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        parsed["syndicate_charset_problem"] = (
            f"{fetched.url} says it is {declared.group(1)} but is not; read as {detected} "
            "(the upstream should declare its real charset)"
        )
    if not parsed.get("version"):
        content_type = fetched.content_type.split(";")[0].strip() or "no content type"
        alternate = _alternate_feed(fetched)
        hint = (
            f"the page names its feed: url = {alternate!r}"
            if alternate
            else "check that the URL is the feed's, not a web page's"
        )
        what = "an HTML page" if b"<html" in fetched.content[:4096].lower() else "not RSS or Atom"
        raise SourceError(f"{fetched.url} is {what} ({content_type}), not a feed", source=source, hint=hint)
    if isinstance(problem, xml.sax.SAXException):
        line = getattr(problem, "getLineNumber", lambda: "?")()
        message = getattr(problem, "getMessage", lambda: str(problem))()
        broken = f"{fetched.url} is not well-formed XML (line {line}: {message})"
        # feedparser's loose parser read on past the error: keep what it read, as any
        # feed reader would. Only a document it got nothing out of fails the poll.
        if not any(_readable(entry) for entry in parsed.get("entries", [])):
            raise SourceError(
                broken, source=source, hint="the upstream feed is broken; it is read again on the next poll"
            )
        parsed["syndicate_xml_problem"] = broken
    return parsed


_XML_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']""")


def _relabelled(fetched: Fetched, declared: str) -> tuple[bytes, str] | None:
    """A feed whose bytes are not the charset it declares, as UTF-8, with what it was read as.

    feedparser falls back to windows-1252 for a document that is not what it says: a
    cp1251 feed becomes mojibake, and so does a UTF-8 feed with one stray byte. A UTF-8
    declaration that most non-ASCII bytes contradict is replaced by what charset-normalizer
    detects; one that a few stray bytes break stays UTF-8 (the strays become U+FFFD).
    """
    try:
        if codecs.lookup(declared).name != "utf-8":
            return None
    except LookupError:  # a label Python does not know: feedparser's own reading stands
        return None
    if not_really_utf8(fetched.content):
        from charset_normalizer import from_bytes

        best = from_bytes(fetched.content).best()
        if best is None or best.encoding in ("ascii", "utf_8"):
            return None
        text, read_as = str(best), best.encoding.replace("_", "-")
    else:
        text, read_as = fetched.content.decode("utf-8", errors="replace"), "utf-8 (stray bytes replaced)"
    return _XML_ENCODING.sub(rb'\1"utf-8"', text.encode("utf-8"), count=1), read_as


#: Categories an entry may bring to feedparser, whose duplicate check is quadratic
#: (20,000 on one entry took 9 s, 100,000 four minutes); an entry keeps MAX_TAGS anyway.
MAX_CATEGORIES = 100
_ENTRY = re.compile(rb"<(item|entry)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_CATEGORY = re.compile(rb"<(category|dc:subject)\b[^>]*?(?:/>|>.*?</\1\s*>)", re.DOTALL | re.IGNORECASE)


def _few_categories(data: bytes) -> bytes:
    """``data`` with each entry's categories past :data:`MAX_CATEGORIES` removed (a cheap
    count first: an ordinary feed is returned as it is)."""
    if data.count(b"<category") + data.count(b"<dc:subject") <= 20 * MAX_CATEGORIES:
        return data

    def trim(entry: re.Match[bytes]) -> bytes:
        kept = 0

        def one(category: re.Match[bytes]) -> bytes:
            nonlocal kept
            kept += 1
            return category.group(0) if kept <= MAX_CATEGORIES else b""

        return _CATEGORY.sub(one, entry.group(0))

    return _ENTRY.sub(trim, data)


_BAD_REFERENCE = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}));?")


def _without_bad_references(data: bytes) -> bytes:
    """Drop character references to what is never text (``&#1;``, ``&#xd800;``, ``&#xfffe;``).

    XML forbids them, so one would make the document fatal, and feedparser's loose parser
    raises on a surrogate reference; the text around them is the content.
    """
    if b"&#" not in data:
        return data

    def replace(match: re.Match[bytes]) -> bytes:
        hex_digits, decimal = match.groups()
        value = int(hex_digits, 16) if hex_digits else int(decimal)
        if value in (0x9, 0xA, 0xD):
            return match.group(0)
        if value > 0x10FFFF or clean(chr(value)) == "":
            return b""
        return match.group(0)

    return _BAD_REFERENCE.sub(replace, data)


def _readable(entry: Any) -> bool:
    """True when a loosely parsed entry has anything to read (not an empty shell)."""
    return any(entry.get(name) for name in ("title", "link", "id", "summary", "content"))


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
    """The entry's full content as HTML, or None when it has only a summary."""
    for content in entry.get("content", []):
        value = (content.get("value") or "").strip()
        if not value:
            continue
        if content.get("type") in _HTML_TYPES:
            return str(value)
        return _text_paragraphs(value)
    return None


def _text_paragraphs(value: str) -> str:
    return "\n".join(f"<p>{html.escape(p.strip(), quote=False)}</p>" for p in re.split(r"\n\s*\n", value) if p.strip())


def _summary(entry: Any) -> str:
    """The entry's summary/description as HTML ("" when it has none)."""
    detail = entry.get("summary_detail") or {}
    value = (entry.get("summary") or "").strip()
    if not value:
        return ""
    return value if detail.get("type", "text/html") in _HTML_TYPES else _text_paragraphs(value)


def _int(value: Any) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if 0 <= n < 2**53 else None


def entry_meta(entry: Any, base: str | None) -> Meta:
    """Authors, tags, lead image, enclosures and modification date of a feedparser entry."""
    # Each list is read only as far as its cap: an entry with 100,000 tags or authors is
    # hostile or broken, and every one kept is repeated in every feed and page.
    authors: list[Author] = []
    for detail in (entry.get("authors") or ([entry["author_detail"]] if entry.get("author_detail") else []))[:200]:
        name = squash(str(detail.get("name") or ""))[:200]
        if not name and detail.get("email"):
            continue  # an e-mail address alone is not a name to credit
        if name:
            authors.append(Author(name, safe_url(detail.get("href"), base, http_only=True)))
            if len(authors) == MAX_AUTHORS:
                break
    if not authors and entry.get("author"):
        authors = [Author(squash(str(entry["author"]))[:200])]
    tags: list[str] = []
    folded: set[str] = set()
    for tag in (entry.get("tags") or [])[:1000]:
        term = squash(str(tag.get("label") or tag.get("term") or ""))
        if term and len(term) <= 80 and term.casefold() not in folded:
            tags.append(term)
            folded.add(term.casefold())
            if len(tags) == MAX_TAGS:
                break
    enclosures: list[Enclosure] = []
    urls: set[str] = set()
    for enc in (entry.get("enclosures") or [])[:200]:
        url = safe_url(enc.get("href") or enc.get("url"), base, http_only=True)
        if url and url not in urls:
            enclosures.append(Enclosure(url=url, type=str(enc.get("type") or ""), length=_int(enc.get("length"))))
            urls.add(url)
            if len(enclosures) == MAX_ENCLOSURES:
                break
    image: Image | None = None
    for media in entry.get("media_content") or []:
        url = safe_url(media.get("url"), base, http_only=True)
        if url and (
            media.get("medium") == "image"
            or str(media.get("type", "")).startswith("image/")
            or (not media.get("type") and not media.get("medium"))
        ):
            image = Image(url, width=_int(media.get("width")), height=_int(media.get("height")))
            break
    if image is None:
        for thumb in entry.get("media_thumbnail") or []:
            url = safe_url(thumb.get("url"), base, http_only=True)
            if url:
                image = Image(url, width=_int(thumb.get("width")), height=_int(thumb.get("height")))
                break
    if image is None:
        first = next((e for e in enclosures if e.type.startswith("image/")), None)
        image = Image(first.url) if first else None
    if image is None and isinstance(entry.get("image"), Mapping):
        # A podcast episode's artwork: <itunes:image href>.
        url = safe_url(entry["image"].get("href"), base, http_only=True)
        image = Image(url) if url else None
    if image is not None:
        alt = (entry.get("media_description") or "") if isinstance(entry.get("media_description"), str) else ""
        if alt:
            image = Image(image.src, alt=squash(alt), width=image.width, height=image.height)
    modified = _when(dict.get(entry, "updated_parsed")) if dict.get(entry, "published_parsed") else None
    return Meta(authors=tuple(authors), tags=tuple(tags), image=image, modified=modified, enclosures=tuple(enclosures))


def _plain_title(entry: Any) -> str:
    """The entry's title as plain text, without controls or bidi overrides (see decode.clean)."""
    title = clean(str(entry.get("title", "") or ""))
    if entry.get("title_detail", {}).get("type") in _HTML_TYPES and "<" in title:
        try:
            title = lxml.html.fragment_fromstring(title, create_parent="div").text_content()
        except (etree.ParserError, ValueError, AssertionError):  # "<!DOCTYPE", "<html></html>": no text
            title = re.sub(r"<[^>]*>?", " ", title)
    return squash(clean(html.unescape(title)))


def _language(entry: Any, feed: Any) -> str | None:
    """The entry's (else the feed's) language, normalised ("en_US" -> "en-US")."""
    code = next((c["language"] for c in entry.get("content", []) if c.get("language")), None)
    return normalize_lang(code) or normalize_lang(feed.get("feed", {}).get("language"))


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


def websub_links(feed: Any, fetched: Fetched) -> dict[str, str] | None:
    """The WebSub hub and topic a feed names, ``{"hub": ..., "self": ...}``: from its
    HTTP Link headers first (the Recommendation prefers them), else from the feed's own
    links (Atom ``link``, RSS ``atom:link``); None unless both are there."""
    from syndicate.sources.websub import link_header_rels

    rels = link_header_rels(fetched.headers.get("link", ""))
    hubs, selves = rels.get("hub", []), rels.get("self", [])
    if not (hubs and selves):
        links = [link for link in feed.get("feed", {}).get("links", []) if isinstance(link, Mapping)]
        hubs = [str(link["href"]) for link in links if link.get("rel") == "hub" and link.get("href")]
        selves = [str(link["href"]) for link in links if link.get("rel") == "self" and link.get("href")]
    hub = safe_url(hubs[0], fetched.url, http_only=True) if hubs else None
    topic = safe_url(selves[0], fetched.url, http_only=True) if selves else None
    return {"hub": hub, "self": topic} if hub and topic else None
