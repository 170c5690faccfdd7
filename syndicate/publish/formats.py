"""The feed formats: one registry entry each, read by everything that publishes, lists
or serves a feed.

An entry says what a format is called, where its subscription document and archive
pages live, its media type and the function that renders it; the publisher, the
archive pages, the pages' ``<link rel="alternate">`` tags and format lists, and
``serve`` all read :data:`FORMATS`. Adding a format is its renderer and one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syndicate.config import Settings
    from syndicate.publish.history import FeedPage


@dataclass(frozen=True)
class FeedFormat:
    """One feed format."""

    #: Its name in the store (frozen archive documents), in URLs' ``fmt`` and in the code.
    name: str
    #: What pages call it in their list of feeds.
    label: str
    #: The subscription document in ``feeds/<lang>/``.
    file: str
    #: An archive page's suffix: ``feeds/<lang>/archive/<n><suffix>``.
    suffix: str
    #: What it is served as.
    media_type: str
    #: ``"module:function"``: ``(settings, feed page) -> bytes``.
    renderer: str

    def render(self) -> Callable[[Settings, FeedPage], bytes]:
        """The renderer, imported now (feedgen is heavy: only publishing loads it)."""
        module, _, name = self.renderer.partition(":")
        function: Callable[[Settings, FeedPage], bytes] = getattr(importlib.import_module(module), name)
        return function


#: Every feed format, in the order pages list them. The only list of them.
FORMATS: dict[str, FeedFormat] = {
    fmt.name: fmt
    for fmt in (
        FeedFormat("atom", "Atom", "atom.xml", ".xml", "application/atom+xml", "syndicate.publish.feeds:atom_bytes"),
        FeedFormat("rss", "RSS", "rss.xml", ".rss", "application/rss+xml", "syndicate.publish.feeds:rss_bytes"),
        FeedFormat(
            "json", "JSON Feed", "feed.json", ".json", "application/feed+json", "syndicate.publish.feeds:json_bytes"
        ),
    )
}

#: The format OPML subscribes a reader to (one subscription per language; the index and
#: every page's ``<link rel="alternate">`` tags offer the others).
OPML_FORMAT = "atom"


def renderers() -> dict[str, Callable[[Settings, FeedPage], bytes]]:
    """Format name -> renderer, for every format."""
    return {name: fmt.render() for name, fmt in FORMATS.items()}


__all__ = ["FORMATS", "OPML_FORMAT", "FeedFormat", "renderers"]
