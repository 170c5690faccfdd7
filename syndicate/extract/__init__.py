"""Extraction: raw bytes (and what a source already knows) -> :class:`~syndicate.models.Article`.

``extract(item, settings, selectors)`` dispatches on the item's media type to the
plain-text reader (the seed format) or the HTML reader (pages and feed-entry content).
Both raise :class:`ItemError` with a reason and a fix for anything they cannot read.
The operator's ``[extract]`` settings apply to every source type; site selectors come
from the source's settings.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from syndicate.config import ExtractSettings, PageSelectors
from syndicate.errors import ItemError
from syndicate.extract.blocks import blocks_text
from syndicate.extract.decode import clean
from syndicate.extract.html import extract_html, title_from_body
from syndicate.extract.text import decode_text, extract_text
from syndicate.models import Article, Attribution, RawItem

logger = logging.getLogger(__name__)

#: A larger body is refused: no real article is this long, and every stage after this
#: one is proportional to it.
MAX_BLOCKS = 5000


def extract(item: RawItem, settings: ExtractSettings, selectors: PageSelectors | None = None) -> Article:
    """Extract one article; raise :class:`ItemError` when it cannot be read."""
    fragment = item.known is not None and item.known.fragment
    if not item.data.strip() and not (fragment and item.known and item.known.summary):
        what = "the entry has no content" if fragment else "the file is empty"
        raise ItemError(what, source=item.source, item=item.key, hint="remove it or write the article into it")
    if b"\0" in item.data[:8192] and not item.data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ItemError(
            "binary data, not an article (it contains NUL bytes)",
            source=item.source,
            item=item.key,
            hint="only .txt articles and .html pages belong in the folder",
        )
    if item.media_type == "text/html":
        article = extract_html(item, settings, selectors)
        if fragment:
            hint = "the feed entry's content and summary hold no readable text; check the entry in the upstream feed"
        else:
            hint = "the page has no readable article text; if it has one, set [sources.selectors] body for this source"
    else:
        article = extract_text(item, decode_text(item), settings)
        hint = "check that the body is separated from the title by a blank line"
    if not article.blocks:
        raise ItemError("the article has no body text", source=item.source, item=item.key, hint=hint)
    if not clean(article.title).strip():
        article = _titled(article, item)
    if len(article.blocks) > MAX_BLOCKS:
        raise ItemError(
            f"the article has {len(article.blocks)} blocks (more than {MAX_BLOCKS})",
            source=item.source,
            item=item.key,
            hint="this is not an article page; check the source",
        )
    return article


_WARM_UP_PAGE = (
    b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Warm-up</title></head><body><main><article>"
    b"<h1>Warm-up</h1><p>A short paragraph that loads the page reader and its second opinion.</p>"
    b"<p>Another paragraph, so that the reader has something to compare.</p></article></main></body></html>"
)


def _titled(article: Article, item: RawItem) -> Article:
    """An article without a title (a page with no <h1>, <title> or headline, a feed entry
    without one, as RSS allows) is titled by its body: the heading that opens it (taken
    out of the body), else its first sentence or words. The one place a title is checked:
    refused only when the body has no text either (pictures only)."""
    title, blocks = title_from_body(list(article.blocks))
    if not title or not blocks:
        raise ItemError(
            "the article has no title, and no text to title it by",
            source=item.source,
            item=item.key,
            hint="give the article a title (a feed entry's <title>, a page's <h1> or <title>, a file's first line); "
            "for a site whose pages hide it, set [sources.selectors] title",
        )
    logger.info("[%s] %s: no title; titled by its first words: %r", item.source, item.key, title)
    taken = len(article.blocks) - len(blocks)  # the opening heading, when it became the title
    attributions = tuple(Attribution(a.label, a.source, max(a.paragraph - taken, 0)) for a in article.attributions)
    return replace(article, title=title, blocks=tuple(blocks), attributions=attributions)


def warm_up() -> None:
    """Load the HTML reader's heavy parts (trafilatura) now, not in the first poll.

    The daemon calls this before it schedules anything: the first page read otherwise
    pays about a second of imports and initialisation while its source waits.
    """
    from syndicate.config import ExtractSettings

    extract(RawItem(source="warm-up", key="warm-up", data=_WARM_UP_PAGE, media_type="text/html"), ExtractSettings())


def body_text(article: Article) -> str:
    """The plain text of an article's body, one block per line, attribution lines included."""
    text = blocks_text(article.blocks)
    lines = [f"[{a.label}: {a.source}]" for a in article.attributions]
    return "\n".join([text, *lines]) if lines else text


__all__ = ["body_text", "extract", "warm_up"]
