"""Atom 1.0, RSS 2.0 and JSON Feed 1.1 documents. The only module importing feedgen.

Returns bytes; writing is the writer's job. Every date comes from the entries (never
"now"), entries are appended in publication order (feedgen prepends by default), and
what feedgen cannot say is added through its extension mechanism (publish/feedgen_ext.py),
so the same content always gives the same bytes.

What each entry carries, in every format:

- a stable id (a tag URI, unique per language), title, content with its attribution
  lines, published and updated dates (RFC 3339 in Atom and JSON, RFC 822 in RSS);
- ``alternate`` links with ``hreflang`` to its translated page, each other language's
  page and the original, ``via`` -> the original, ``previous``/``next`` -> its
  neighbours' translated pages (RSS: ``atom:link``; JSON: the ``_syndicate`` extension);
- the attribution source names as categories in the ``urn:syndicate:attribution`` scheme
  (RSS: ``domain``; JSON: ``_syndicate.attribution_sources``);
- how it was translated: W3C ITS 2.0 ``its:annotatorsRef``/``its:mtConfidence`` on the
  Atom entry and RSS item, and ``<syn:translation engine model source-language confidence
  status/>`` (namespace ``urn:syndicate:translation``); JSON: ``_syndicate.translation``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from functools import partial
from typing import Any

import orjson

from syndicate.config import Settings
from syndicate.models import Enclosure
from syndicate.publish.edition import EntryLink, FeedEntry
from syndicate.publish.feedgen_ext import (
    DC_NS,
    MEDIA_NS,
    NAME,
    EntryCache,
    Media,
    QuietFeedGenerator,
    RssEnclosure,
    TranslationInfo,
)
from syndicate.publish.formats import FORMATS, renderers
from syndicate.publish.history import FeedPage
from syndicate.publish.i18n import engine_iri

#: The category scheme of attribution source names.
ATTRIBUTION_SCHEME = "urn:syndicate:attribution"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "syndicate"
#: The Atom entries, RSS items and JSON Feed items this process rendered (see
#: :class:`EntryCache`). Off
#: unless a daemon turns it on (:data:`DAEMON_ENTRY_BYTES`): a ``once`` renders each
#: document once and would only hold the memory.
ENTRIES = EntryCache()
#: A daemon's publish re-renders each changed language's subscription feed and open
#: archive page, where every entry but the new one is as it was: 32 MiB of XML holds a few
#: thousand news entries, every language's open documents in both formats at 20 languages.
DAEMON_ENTRY_BYTES = 32 * 1024 * 1024


def _author(settings: Settings) -> str:
    return settings.site.author or settings.site.title


def _feed_links(page: FeedPage, fmt: str, hubs: Sequence[str] = ()) -> list[EntryLink]:
    """Feed-level links besides self and the home page: archives, other languages and,
    in a subscription document, its WebSub ``hubs`` (the topic is its ``self`` link)."""
    media_type = FORMATS[fmt].media_type
    links: list[EntryLink] = [EntryLink("hub", hub) for hub in hubs] if not page.is_archive else []
    if page.is_archive:
        links.append(EntryLink("current", page.current_url(fmt), media_type))
    if page.prev_archive is not None:
        links.append(EntryLink("prev-archive", page.archive_url(page.prev_archive, fmt), media_type))
    if page.next_archive is not None:
        links.append(EntryLink("next-archive", page.archive_url(page.next_archive, fmt), media_type))
    if not page.is_archive:
        # Another language's feed is an alternate of this one (different hreflang).
        links += [
            EntryLink("alternate", page.edition.feed_url(fmt, other), media_type, other)
            for other in page.edition.siblings
        ]
    return links


def _generator(settings: Settings, page: FeedPage, fmt: str) -> QuietFeedGenerator:
    edition = page.edition
    fg = QuietFeedGenerator(atom=fmt == "atom", rss=fmt == "rss")
    fg.id(edition.feed_url_atom)  # one logical feed: the archive pages share its id
    title = edition.title if not page.is_archive else f"{edition.title} · {page.number}"
    fg.title(title)
    fg.description(settings.site.description or edition.title)
    fg.language(edition.language)
    # feedgen takes the RSS channel <link> from the last link given: self first.
    fg.link(href=page.url(fmt), rel="self", type=FORMATS[fmt].media_type)
    fg.link(href=edition.page_index_url, rel="alternate", type="text/html", hreflang=edition.language)
    fg.author({"name": _author(settings)})
    if settings.site.rights:
        fg.rights(settings.site.rights)
    fg.generator(GENERATOR)
    ext = getattr(fg, NAME)
    ext.links = _feed_links(page, fmt, settings.publish.public_hubs)
    ext.archive = page.is_archive
    ext.its = any(e.machine for e in page.entries)
    namespaces = {"media": MEDIA_NS} if any(_media(e, rss=fmt == "rss") for e in page.entries) else {}
    if fmt == "atom":
        fg.updated(page.updated)
    else:
        ext.last_build = page.updated
        namespaces["dc"] = DC_NS
    ext.namespaces = namespaces
    author, site = _author(settings), settings.site.base_url
    for entry in page.entries:
        # Everything an entry's element is made of: its format, the two settings it reads
        # and the entry itself (a frozen dataclass: equal entries render equal elements).
        ENTRIES.entry((fmt, author, site, entry), partial(_fill_entry, settings, entry, fmt), fg)
    return fg


def _authors(settings: Settings, entry: FeedEntry) -> list[dict[str, str]]:
    """The original's authors; the site's author only when the source names none."""
    if entry.authors:
        return [{"name": a.name, **({"uri": a.url} if a.url else {})} for a in entry.authors]
    return [{"name": _author(settings)}]


def _medium(enclosure: Enclosure) -> str:
    kind = enclosure.type.split("/")[0]
    return kind if kind in ("image", "audio", "video") else "document"


def _rss_enclosure(entry: FeedEntry) -> Enclosure | None:
    """RSS allows one enclosure per item: the first (the rest go to Media RSS)."""
    return entry.enclosures[0] if entry.enclosures else None


def _media(entry: FeedEntry, *, rss: bool = False) -> list[Media]:
    """Media RSS elements: the lead image (content and thumbnail), and in RSS the
    enclosures beyond the first."""
    out: list[Media] = []
    if entry.image is not None:
        image = entry.image
        out.append(Media(image.src, medium="image", width=image.width, height=image.height, description=image.alt))
        out.append(Media(image.src, width=image.width, height=image.height, thumbnail=True))
    if rss:
        for enclosure in entry.enclosures[1:]:
            out.append(Media(enclosure.url, type=enclosure.type, length=enclosure.length, medium=_medium(enclosure)))
    return out


def _fill_entry(settings: Settings, entry: FeedEntry, fmt: str, fe: Any) -> None:
    """Give feedgen's entry ``fe`` what ``entry`` says in ``fmt``."""
    fe.id(entry.id)  # also the RSS guid, isPermaLink="false"
    fe.title(entry.title)
    fe.content(entry.content_html, type="html")  # RSS: <description>
    fe.updated(entry.updated)
    for term, label in entry.tags:
        if fmt == "atom":
            fe.category(term=term, label=label)
        else:
            fe.category(term=label)  # RSS shows the category's text: the translated label
    for source in entry.attribution_sources:
        fe.category(term=source, label=source, scheme=ATTRIBUTION_SCHEME)
    ext = getattr(fe, NAME)
    ext.translation = translation_info(settings, entry)
    enclosure_links = [EntryLink("enclosure", e.url, e.type or None, length=e.length) for e in entry.enclosures]
    if fmt == "atom":
        ext.links = (*entry.links, *enclosure_links)
        ext.media = _media(entry)
        fe.published(entry.published)  # feedgen formats Atom dates itself (RFC 3339)
        for author in _authors(settings, entry):
            fe.author(author)
        if entry.summary:
            fe.summary(entry.summary)
    else:
        ext.links = entry.links
        fe.link(href=entry.page_url, rel="alternate")  # the item's <link>
        ext.published = entry.published
        ext.source = entry.original_url
        ext.creators = [a["name"] for a in _authors(settings, entry)]
        first = _rss_enclosure(entry)
        if first is not None:
            ext.enclosure = RssEnclosure(first.url, first.type or "application/octet-stream", first.length or 0)
        ext.media = _media(entry, rss=True)


def translation_info(settings: Settings, entry: FeedEntry) -> TranslationInfo | None:
    """How ``entry`` was translated (None: published in its own language)."""
    if not entry.machine:
        return None
    notes = dict(note.split(":", 1) for note in entry.translation_notes if ":" in note)
    host = settings.site.base_url.split("://", 1)[1].split("/", 1)[0].split(":")[0]
    return TranslationInfo(
        engine=entry.engine,
        model=entry.model,
        source_language=entry.original_language,
        iri=engine_iri(host, entry.model or entry.engine),
        confidence=entry.confidence,
        low_confidence=entry.low_confidence,
        pivot=notes.get("pivot"),
        engines=notes.get("engines"),
        untranslated=entry.untranslated,
        corrected=entry.corrected,
        reviewed=entry.reviewed,
        title_only=entry.title_only,
    )


def atom_bytes(settings: Settings, page: FeedPage) -> bytes:
    """The Atom 1.0 document of a feed page."""
    return bytes(_generator(settings, page, "atom").atom_str(pretty=True))


def rss_bytes(settings: Settings, page: FeedPage) -> bytes:
    """The RSS 2.0 document of a feed page."""
    return bytes(_generator(settings, page, "rss").rss_str(pretty=True))


def _rfc3339(value: datetime) -> str:
    return value.isoformat()


#: EntryLink's fields, in their order (what the JSON Feed item lists of each link).
_LINK_FIELDS = tuple(f.name for f in fields(EntryLink))


def _link_json(link: EntryLink) -> dict[str, Any]:
    return {k: v for k in _LINK_FIELDS if (v := getattr(link, k)) is not None}


def _pretty_json(doc: dict[str, Any]) -> bytes:
    """``doc`` indented by two spaces, as ``json.dumps(doc, ensure_ascii=False, indent=2)``
    writes it (but for the exponent of tiny floats: ``1e-7``, not ``1e-07``), by orjson:
    the standard library's encoder is pure Python as soon as it indents. A string orjson
    refuses (a lone surrogate, which UTF-8 cannot hold) is written by the standard
    library, the surrogate as "?"."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    except TypeError:  # orjson.JSONEncodeError
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8", "replace")


def _json_item(settings: Settings, entry: FeedEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.page_url,
    }
    if entry.original_url:
        item["external_url"] = entry.original_url
    extra: dict[str, Any] = {}
    if entry.summary:
        extra["summary"] = entry.summary
    if entry.image is not None:
        extra["image"] = entry.image.src
        if entry.image.width and entry.image.height and entry.image.width >= 1.5 * entry.image.height:
            extra["banner_image"] = entry.image.src  # wide enough to head the item
    if entry.tags:
        extra["tags"] = [label for _, label in entry.tags]
    if entry.enclosures:
        extra["attachments"] = [
            {
                "url": e.url,
                "mime_type": e.type or "application/octet-stream",
                **({"size_in_bytes": e.length} if e.length else {}),
            }
            for e in entry.enclosures
        ]
    item.update(
        {
            "title": entry.title,
            "content_html": entry.content_html,
            "date_published": _rfc3339(entry.published),
            "date_modified": _rfc3339(entry.updated),
            "authors": [
                {"name": a["name"], **({"url": a["uri"]} if "uri" in a else {})} for a in _authors(settings, entry)
            ],
            "language": entry.language,
            **extra,
            "_syndicate": {
                "links": [_link_json(link) for link in entry.links],
                "attribution_sources": list(entry.attribution_sources),
                **({"tags": [term for term, _ in entry.tags]} if entry.tags else {}),
                **({"translation": _json_translation(settings, entry)} if entry.machine else {}),
                "original": {
                    k: v
                    for k, v in (
                        ("url", entry.original_url),
                        ("title", entry.original_title),
                        ("language", entry.original_language),
                    )
                    if v
                },
            },
        }
    )
    return item


def _json_translation(settings: Settings, entry: FeedEntry) -> dict[str, Any]:
    info = translation_info(settings, entry)
    assert info is not None
    out: dict[str, Any] = {
        "machine": True,
        "engine": info.engine,
        "model": info.model,
        "source_language": info.source_language,
        "confidence": info.confidence,
        "low_confidence": info.low_confidence,
        "annotator": info.iri,
    }
    if info.pivot:
        out["pivot"] = info.pivot
    if info.engines:
        out["engines"] = info.engines.split(",")
    if info.untranslated:
        out["untranslated_segments"] = info.untranslated
    out["status"] = info.status
    if info.corrected:
        out["corrected_segments"] = info.corrected
    if info.title_only:
        out["scope"] = "title"
    return out


def json_bytes(settings: Settings, page: FeedPage) -> bytes:
    """The JSON Feed 1.1 document of a feed page.

    Archive pages chain through ``next_url`` (JSON Feed's pagination: the subscription
    feed -> the newest archive page -> ... -> page 1); a full page says ``expired``.
    """
    edition = page.edition
    doc: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": edition.title if not page.is_archive else f"{edition.title} · {page.number}",
        "home_page_url": edition.page_index_url,
        "feed_url": page.url("json"),
        "description": settings.site.description or edition.title,
    }
    if page.prev_archive is not None:
        doc["next_url"] = page.archive_url(page.prev_archive, "json")
    doc.update({"authors": [{"name": _author(settings)}], "language": edition.language})
    if page.full:
        doc["expired"] = True
    if not page.is_archive and settings.publish.websub_hubs:
        doc["hubs"] = [{"type": "WebSub", "url": hub} for hub in settings.publish.public_hubs]
    extension: dict[str, Any] = {"updated": _rfc3339(page.updated)}
    if settings.site.rights:
        extension["rights"] = settings.site.rights
    extension["links"] = [_link_json(link) for link in _feed_links(page, "json")]
    doc["_syndicate"] = extension
    author, site = _author(settings), settings.site.base_url
    doc["items"] = [_kept_json_item(settings, entry, author, site) for entry in page.entries]
    return _pretty_json(doc)


def _kept_json_item(settings: Settings, entry: FeedEntry, author: str, site: str) -> dict[str, Any]:
    """An entry's JSON Feed item, as kept by :data:`ENTRIES` or made now (and kept)."""
    return ENTRIES.kept(("json", author, site, entry), lambda: _json_item(settings, entry), _json_size)


def _json_size(item: dict[str, Any]) -> int | None:
    """An item's size as JSON; None when orjson refuses it (a lone surrogate): not kept,
    made again next time."""
    try:
        return len(orjson.dumps(item))
    except TypeError:  # orjson.JSONEncodeError
        return None


def documents(settings: Settings, page: FeedPage) -> dict[str, bytes]:
    """A feed page in every format: {format: bytes}."""
    return {fmt: render(settings, page) for fmt, render in renderers().items()}
