"""Translated article pages and the feed index, rendered with Jinja2 (autoescaped)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from syndicate.config import Settings
from syndicate.publish.edition import Edition, FeedEntry, language_name


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("syndicate.publish", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals["language_name"] = language_name
    return env


def page_bytes(settings: Settings, edition: Edition, entry: FeedEntry) -> bytes:
    """One translated article page."""
    return (
        _env()
        .get_template("page.html")
        .render(
            entry=entry,
            language=edition.language,
            site_title=settings.site.title,
            edition_title=edition.title,
            feed_atom=edition.feed_url_atom,
            feed_rss=edition.feed_url_rss,
            source_language=settings.site.source_language,
        )
        .encode("utf-8")
    )


def index_bytes(settings: Settings, editions: Sequence[Edition]) -> bytes:
    """``feeds/index.html``: every language's feeds."""
    return (
        _env()
        .get_template("index.html")
        .render(editions=editions, site_title=settings.site.title, source_language=settings.site.source_language)
        .encode("utf-8")
    )
