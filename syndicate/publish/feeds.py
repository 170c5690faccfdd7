"""RSS 2.0 and Atom 1.0 documents, made with feedgen. The only module importing feedgen.

Returns bytes; writing is the writer's job. Every date comes from the edition (never
"now"), entries are appended in publication order (feedgen prepends by default), so the
same content always gives the same bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from syndicate.config import Settings
from syndicate.publish.edition import Edition

#: The date a feed with no entries says it was updated (a constant keeps it byte-stable).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _generator(settings: Settings, edition: Edition) -> FeedGenerator:
    fg = FeedGenerator()
    updated = edition.updated or EPOCH
    fg.id(edition.feed_url_atom)
    fg.title(edition.title)
    fg.subtitle(settings.site.description or edition.title)
    fg.language(edition.language)
    fg.link(href=edition.page_index_url, rel="alternate", type="text/html", hreflang=edition.language)
    fg.author({"name": settings.site.author or settings.site.title})
    if settings.site.rights:
        fg.rights(settings.site.rights)
    fg.generator("syndicate", uri="https://news.example.org/syndicate")
    fg.updated(updated)
    fg.lastBuildDate(updated)
    for entry in edition.entries:
        fe = fg.add_entry(order="append")
        fe.id(entry.id)
        fe.guid(entry.id, permalink=False)
        fe.title(entry.title)
        fe.link(href=entry.page_url, rel="alternate", type="text/html", hreflang=edition.language)
        fe.published(entry.published)
        fe.updated(entry.updated)
        fe.author({"name": settings.site.author or settings.site.title})
        fe.content(entry.content_html, type="html")
        for source in entry.attribution_sources:
            fe.category(term=source, label=source, scheme="urn:syndicate:attribution")
    return fg


def atom_bytes(settings: Settings, edition: Edition) -> bytes:
    """The Atom 1.0 document for a language."""
    fg = _generator(settings, edition)
    fg.link(href=edition.feed_url_atom, rel="self", type="application/atom+xml")
    return bytes(fg.atom_str(pretty=True))


def rss_bytes(settings: Settings, edition: Edition) -> bytes:
    """The RSS 2.0 document for a language."""
    fg = _generator(settings, edition)
    fg.link(href=edition.feed_url_rss, rel="self", type="application/rss+xml")
    return bytes(fg.rss_str(pretty=True))
