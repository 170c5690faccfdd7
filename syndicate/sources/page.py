"""``type = "pages"``: article pages on a site, walked by their previous/next links.

Reading one page (also used by the feed source for entries without full content):

- with ``[sources.selectors]``: title, body, attribution lines and previous/next links
  come from the configured CSS selectors (lxml's cssselect) or ``xpath:`` expressions;
  what a selector does not cover falls back to the defaults below;
- without: a page with semantic markup (``<article>``/``<main>``) is read by
  :mod:`syndicate.extract.html`, which keeps inline markup and attribution lines; any
  other page goes through trafilatura for its main content;
- previous/next links always come from :mod:`syndicate.extract.html` (``rel="prev"``/
  ``rel="next"`` or "Previous/Next Article" labels) unless a selector says otherwise.

The page handed to extraction is the page itself when it needs no help, else a minimal
page (``<h1>`` title, ``<article>`` body, labelled previous/next links) built from the
parts found, so extraction and ordering work the same for every source.

Walking: the first poll reads ``start_url``, follows next links to the newest article,
then previous links to backfill up to ``backfill`` older ones. Later polls re-check the
newest page (a conditional GET), follow any new next links, and carry on an unfinished
backfill. Where the walk stands is the source's cursor, persisted by the scheduler.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from syndicate.config import ExtractSettings, PageSelectors, PagesSourceSettings
from syndicate.errors import ItemError, SourceError
from syndicate.extract.html import extract_html
from syndicate.models import Article, RawItem, Ref
from syndicate.sources.base import FetchState
from syndicate.sources.http import (
    Fetched,
    FetchError,
    HttpFetcher,
    HttpSource,
    strip_fragment,
)

logger = logging.getLogger(__name__)

#: Next links followed in one poll, at most (a runaway chain is finished next poll).
MAX_NEWER_PER_POLL = 100
_META_CHARSET = re.compile(rb"<meta[^>]+charset", re.IGNORECASE)

Selector = Callable[[Any], list[Any]]


def compile_selector(selector: str) -> Selector:
    """A CSS selector (lxml cssselect), or XPath when it starts with ``xpath:``."""
    selector = selector.strip()
    if selector.startswith("xpath:"):
        expression = selector.removeprefix("xpath:").strip()
        try:
            xpath: Selector = etree.XPath(expression)
            return xpath
        except etree.XPathError as exc:
            raise ValueError(f"not a valid XPath expression: {exc}") from None
    from cssselect import SelectorError
    from lxml.cssselect import CSSSelector

    try:
        return CSSSelector(selector, translator="html")  # type: ignore[no-any-return]
    except SelectorError as exc:
        raise ValueError(f"not a valid CSS selector ({exc}); prefix XPath with 'xpath:'") from None


@dataclass(frozen=True)
class PageRead:
    """One page, read: the item for extraction and the links to walk on."""

    key: str
    item: RawItem
    title: str
    prev: str | None
    next: str | None


def minimal_page(
    *,
    title: str,
    body_html: str,
    url: str | None,
    language: str | None,
    published: datetime | None,
    prev: Ref | None = None,
    next: Ref | None = None,  # noqa: A002 - the HTML rel name
) -> bytes:
    """A page :func:`syndicate.extract.html.extract_html` reads back exactly."""
    esc = html.escape
    head = ['<meta charset="utf-8">', f"<title>{esc(title)}</title>"]
    if url:
        head.append(f'<link rel="canonical" href="{esc(url)}">')
    if published:
        head.append(f'<meta property="article:published_time" content="{published.isoformat()}">')
    nav = []
    for label, rel, ref in (("Previous Article", "prev", prev), ("Next Article", "next", next)):
        if ref is not None and ref.url:
            nav.append(f'<p>{label} <a rel="{rel}" href="{esc(ref.url)}">{esc(ref.title or "")}</a></p>')
    lang_attr = f' lang="{esc(language)}"' if language else ""
    return (
        f"<!DOCTYPE html>\n<html{lang_attr}><head>{''.join(head)}</head><body>"
        f"<article><h1>{esc(title)}</h1>\n{body_html}\n</article>{''.join(nav)}</body></html>\n"
    ).encode()


def paragraphs_html(fragments: Iterable[str]) -> str:
    return "\n".join(f"<p>{f}</p>" for f in fragments if f.strip())


def with_charset(data: bytes, content_type: str) -> bytes:
    """Carry an HTTP-declared charset into a page that does not declare its own."""
    match = re.search(r"charset=([\w.:-]+)", content_type, re.IGNORECASE)
    if not match or _META_CHARSET.search(data[:4096]):
        return data
    return f'<meta charset="{match.group(1)}">'.encode("ascii") + data


def read_page(
    fetched: Fetched,
    *,
    source: str,
    selectors: PageSelectors | None = None,
    key: str | None = None,
    url: str | None = None,
    title: str | None = None,
    language: str | None = None,
    published: datetime | None = None,
) -> PageRead:
    """Read a fetched article page; raise :class:`ItemError` when it is not one.

    ``key``, ``url``, ``title`` and ``published`` override what the page says (a feed
    entry knows them better).
    """
    page_url = strip_fragment(fetched.url)
    data = with_charset(fetched.content, fetched.content_type)
    original = RawItem(source=source, key=key or page_url, data=data, media_type="text/html", url=page_url, base_url=page_url, language=language)
    try:
        doc = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError) as exc:
        raise ItemError(f"not a readable HTML page: {exc}", source=source, item=page_url) from None
    try:
        meta: Article | None = extract_html(original, ExtractSettings())
    except ItemError:
        meta = None
    prev = meta.prev if meta else None
    nxt = meta.next if meta else None
    found_title = title or (meta.title if meta else "")
    body: str | None = None
    attributions: list[str] = []
    if selectors is not None:
        found_title = title or _first_text(doc, selectors.title) or found_title
        if selectors.body:
            body = paragraphs_html(_body_fragments(doc, selectors.body))
        if selectors.attribution:
            attributions = [_attribution_line(t) for t in _texts(doc, selectors.attribution)]
        prev = _link(doc, selectors.prev, page_url) or prev
        nxt = _link(doc, selectors.next, page_url) or nxt
    if not found_title:
        raise ItemError("no title: the page has no <h1> and no <title>", source=source, item=page_url, hint="set selectors.title for this source")
    semantic = bool(doc.xpath("//article | //main | //*[@role='main']"))
    article_url = url or (meta.url if meta and meta.url else page_url)
    # The page's own address identifies it: some sites point every canonical link at
    # their home page, which would fold all articles into one.
    item_key = key or page_url
    if selectors is None and title is None and semantic:
        item_data = data  # the page as it is: extraction reads it best
    else:
        if body is None:
            body = _default_body(data, page_url, meta, semantic)
        body += "".join(f"\n<p>{html.escape(line, quote=False)}</p>" for line in attributions)
        item_data = minimal_page(
            title=found_title,
            body_html=body,
            url=article_url,
            language=language or (meta.language if meta else None),
            published=published or (meta.published if meta else None),
            prev=prev,
            next=nxt,
        )
    item = RawItem(
        source=source,
        key=item_key,
        data=item_data,
        media_type="text/html",
        url=article_url,
        base_url=page_url,
        language=language,
        published=published,
    )
    return PageRead(key=item_key, item=item, title=found_title, prev=prev.url if prev else None, next=nxt.url if nxt else None)


def _default_body(data: bytes, url: str, meta: Article | None, semantic: bool) -> str:
    """Body paragraphs without selectors: semantic markup first, else trafilatura."""
    if not semantic:
        fragments = _trafilatura_paragraphs(data, url)
        if fragments:
            return paragraphs_html(fragments)
    if meta is None:
        return ""
    paragraphs = list(meta.paragraphs)
    for a in meta.attributions:  # put attribution lines back where extraction found them
        if a.paragraph < len(paragraphs):
            paragraphs[a.paragraph] += f" [{html.escape(a.label, quote=False)}: {html.escape(a.source, quote=False)}]"
    return paragraphs_html(paragraphs)


def _trafilatura_paragraphs(data: bytes, url: str) -> list[str]:
    import trafilatura  # heavy: only for pages without semantic markup

    found = trafilatura.extract(
        data, url=url, output_format="html", include_links=True, include_formatting=True,
        include_comments=False, include_tables=False, include_images=False,
    )
    if not found:
        return []
    doc = lxml.html.document_fromstring(found)
    return [_inner_html(p) for p in doc.xpath("//body//p")]


def _inner_html(el: Any) -> str:
    return html.escape(el.text or "", quote=False) + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in el
    )


def _matches(doc: Any, selector: str | None) -> list[Any]:
    if not selector:
        return []
    found = compile_selector(selector)(doc)
    return list(found) if isinstance(found, list) else [found]


def _texts(doc: Any, selector: str | None) -> list[str]:
    out = []
    for match in _matches(doc, selector):
        text = match.text_content() if hasattr(match, "text_content") else str(match)
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            out.append(text)
    return out


def _first_text(doc: Any, selector: str | None) -> str | None:
    texts = _texts(doc, selector)
    return texts[0] if texts else None


def _body_fragments(doc: Any, selector: str) -> list[str]:
    """Each matched ``<p>`` is a paragraph; another element gives its ``<p>``s, or itself."""
    out: list[str] = []
    for match in _matches(doc, selector):
        if not hasattr(match, "tag"):
            out.append(html.escape(str(match), quote=False))
        elif match.tag == "p":
            out.append(_inner_html(match))
        else:
            inner = match.xpath(".//p")
            if inner:
                out.extend(_inner_html(p) for p in inner)
            else:
                out.append(_inner_html(match))
    return out


def _link(doc: Any, selector: str | None, base: str) -> Ref | None:
    for match in _matches(doc, selector):
        if not hasattr(match, "tag"):
            return Ref(url=urljoin(base, str(match).strip()))
        anchor = match if match.tag == "a" and match.get("href") else next(iter(match.xpath(".//a[@href]")), None)
        if anchor is not None:
            text = re.sub(r"\s+", " ", anchor.text_content()).strip()
            return Ref(url=urljoin(base, anchor.get("href").strip()), title=text or None)
    return None


def _attribution_line(text: str) -> str:
    """``[Source attribution: X]`` as is; ``Source: X`` bracketed; a bare name as ``[Source: X]``."""
    if text.startswith("[") and text.endswith("]"):
        return text
    if re.match(r"^[^:]{1,40}:\s*\S", text):
        return f"[{text}]"
    return f"[Source: {text}]"


class PageSource(HttpSource):
    """Article pages walked by previous/next links; see the module docstring."""

    settings: PagesSourceSettings

    def _read(self, fetched: Fetched) -> PageRead:
        return read_page(fetched, source=self.name, selectors=self.settings.selectors, language=self.settings.language)

    def fetch(self) -> Iterator[RawItem | ItemError]:
        start = self.settings.start_url
        cursor: dict[str, Any] = dict(self.state.cursor)
        if cursor.get("start_url") != start:  # new source, or start_url changed: start over
            cursor = {}
            self.state = FetchState()
        http = self._http()
        try:
            yield from self._walk(http, cursor)
        finally:
            if self._fetcher is None:
                http.close()

    def _commit(self, cursor: dict[str, Any], fetched: Fetched | None = None) -> None:
        """Publish the walk's progress (called only once the items before it are stored)."""
        if fetched is not None:
            self.state = FetchState(etag=fetched.etag, last_modified=fetched.last_modified, cursor=dict(cursor))
        else:
            self.state = FetchState(etag=self.state.etag, last_modified=self.state.last_modified, cursor=dict(cursor))

    def _walk(self, http: HttpFetcher, cursor: dict[str, Any]) -> Iterator[RawItem | ItemError]:
        seen: set[str] = set()
        changed = False
        if not cursor:
            fetched = http.get(self.settings.start_url)  # FetchError: the whole source failed
            page = self._page_or_fail(fetched)
            seen.update({page.key, strip_fragment(fetched.url), self.settings.start_url})
            yield page.item
            cursor = {
                "start_url": self.settings.start_url,
                "newest": page.key, "newest_url": strip_fragment(fetched.url), "newest_next": page.next,
                "oldest": page.key, "oldest_prev": page.prev, "backfilled": 0,
            }
            self._commit(cursor, fetched)
            changed = True
        else:
            newest_url = cursor["newest_url"]
            fetched = http.get(newest_url, etag=self.state.etag, last_modified=self.state.last_modified)
            seen.update({cursor["newest"], newest_url})
            if not fetched.not_modified:
                page = self._page_or_fail(fetched)
                yield page.item
                cursor["newest_next"] = page.next
                self._commit(cursor, fetched)
                changed = True

        # Newer articles: follow next links from the newest one we hold.
        walked = 0
        while cursor.get("newest_next") and walked < MAX_NEWER_PER_POLL and not self.should_stop():
            url = strip_fragment(cursor["newest_next"])
            if url in seen:
                logger.warning("[%s] next links loop back to %s; stopping there", self.name, url)
                cursor["newest_next"] = None
                break
            result = self._get_page(http, url)
            if isinstance(result, ItemError):
                yield result  # retried from here on the next poll
                break
            fetched, page = result
            seen.update({url, page.key})
            yield page.item
            cursor.update(newest=page.key, newest_url=strip_fragment(fetched.url), newest_next=page.next)
            self._commit(cursor, fetched)
            walked += 1
            changed = True

        # Older articles: follow previous links until `backfill` are held.
        while cursor.get("oldest_prev") and cursor["backfilled"] < self.settings.backfill and not self.should_stop():
            url = strip_fragment(cursor["oldest_prev"])
            if url in seen:
                logger.warning("[%s] previous links loop back to %s; backfill ends there", self.name, url)
                cursor["oldest_prev"] = None
                break
            result = self._get_page(http, url)
            if isinstance(result, ItemError):
                yield result
                break
            fetched, page = result
            seen.update({url, page.key})
            yield page.item
            cursor.update(oldest=page.key, oldest_prev=page.prev, backfilled=cursor["backfilled"] + 1)
            self._commit(cursor)
            changed = True
        self._commit(cursor)
        self.not_modified = not changed

    def _page_or_fail(self, fetched: Fetched) -> PageRead:
        try:
            return self._read(fetched)
        except ItemError as exc:
            raise SourceError(f"{fetched.url} is not an article page: {exc.message}", source=self.name, hint=exc.hint) from None

    def _get_page(self, http: HttpFetcher, url: str) -> tuple[Fetched, PageRead] | ItemError:
        try:
            fetched = http.get(url)
            return fetched, self._read(fetched)
        except FetchError as exc:
            return ItemError(f"{exc.message}", source=self.name, item=url, hint=exc.hint)
        except ItemError as exc:
            return exc
