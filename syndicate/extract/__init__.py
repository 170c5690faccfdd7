"""Extraction: raw bytes -> :class:`~syndicate.models.Article`.

``extract(item, settings)`` dispatches on the item's media type to the plain-text reader
(the seed format) or the HTML reader (lxml). Both raise :class:`ItemError` with a reason
and a fix for anything they cannot read.
"""

from __future__ import annotations

from syndicate.config import ExtractSettings
from syndicate.errors import ItemError
from syndicate.extract.html import extract_html
from syndicate.extract.text import decode_text, extract_text
from syndicate.models import Article, RawItem


def extract(item: RawItem, settings: ExtractSettings) -> Article:
    """Extract one article; raise :class:`ItemError` when it cannot be read."""
    if not item.data.strip():
        raise ItemError("the file is empty", source=item.source, item=item.key, hint="remove it or write the article into it")
    if b"\0" in item.data[:8192] and not item.data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ItemError(
            "binary data, not an article (it contains NUL bytes)",
            source=item.source,
            item=item.key,
            hint="only .txt articles and .html pages belong in the folder",
        )
    if item.media_type == "text/html":
        article = extract_html(item, settings)
    else:
        article = extract_text(item, decode_text(item), settings)
    if not article.paragraphs:
        raise ItemError(
            "the article has no body paragraphs",
            source=item.source,
            item=item.key,
            hint="check that the body is separated from the title by a blank line",
        )
    return article


__all__ = ["extract"]
