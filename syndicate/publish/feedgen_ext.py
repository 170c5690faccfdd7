"""feedgen extensions for what feedgen 1.0.0 cannot say. Imported by publish/feeds.py only.

feedgen loses rel, type, hreflang and title of every entry link in Atom, keeps only the
``self`` atom:link in RSS, and formats RFC 822 dates with a process-wide
``locale.setlocale``. These extensions, registered with feedgen's own
``register_extension``, add the missing elements to the trees feedgen builds:

- :class:`FeedExtension`: feed-level links of any rel (``prev-archive``,
  ``next-archive``, ``current``, other languages' feeds), RFC 5005's ``fh:archive``
  marker, and in RSS the ``lastBuildDate``;
- :class:`EntryExtension`: typed entry links (``alternate`` + ``hreflang``, ``via``,
  ``previous``/``next``), and in RSS the item's ``pubDate``, ``dc:source`` (the original
  article) and ``dc:creator``.

RSS dates are formatted with :func:`email.utils.format_datetime`, which does not depend on
the locale; feeds.py never hands feedgen an RSS date, so feedgen never calls setlocale.

:class:`EntryCache` keeps the entries feedgen rendered (an Atom ``<entry>``, an RSS
``<item>``) by what they were made from: a daemon's next publish of a language re-renders
its subscription feed and open archive page, where all but the new entry are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.publish.edition import EntryLink
from syndicate.publish.kept import RenderCache

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"  # Media RSS
ITS_NS = "http://www.w3.org/2005/11/its"  # W3C ITS 2.0: its:annotatorsRef, its:mtConfidence
#: syndicate's own elements: ``<syn:translation>``, how an entry was translated.
SYN_NS = "urn:syndicate:translation"

#: The name the extensions are registered under (``fg.syndicate``, ``fe.syndicate``).
NAME = "syndicate"


def rfc822(value: datetime) -> str:
    """An RFC 822 (RFC 5322) date in UTC, whatever the process locale."""
    return format_datetime(value.astimezone(UTC), usegmt=True)


def _link(parent: etree._Element, tag: str, link: EntryLink) -> None:
    element = etree.SubElement(parent, tag, href=link.href, rel=link.rel)
    if link.type:
        element.set("type", link.type)
    if link.hreflang:
        element.set("hreflang", link.hreflang)
    if link.title:
        element.set("title", link.title)
    if link.length is not None:
        element.set("length", str(link.length))


def _media(parent: etree._Element, media: Sequence[Media]) -> None:
    for item in media:
        if item.thumbnail:
            element = etree.SubElement(parent, f"{{{MEDIA_NS}}}thumbnail", url=item.url)
        else:
            element = etree.SubElement(parent, f"{{{MEDIA_NS}}}content", url=item.url)
            if item.type:
                element.set("type", item.type)
            if item.length is not None:
                element.set("fileSize", str(item.length))
            if item.medium:
                element.set("medium", item.medium)
        if item.width:
            element.set("width", str(item.width))
        if item.height:
            element.set("height", str(item.height))
        if item.description:
            etree.SubElement(element, f"{{{MEDIA_NS}}}description").text = item.description


@dataclass(frozen=True)
class Media:
    """A Media RSS ``media:content`` (or ``media:thumbnail``) element."""

    url: str
    type: str = ""
    length: int | None = None
    medium: str = ""
    width: int | None = None
    height: int | None = None
    description: str = ""
    thumbnail: bool = False


@dataclass(frozen=True)
class TranslationInfo:
    """How an entry was translated, for a partner's program: ``<syn:translation>`` and the
    ITS 2.0 MT Confidence attributes on the entry."""

    engine: str
    model: str
    source_language: str
    iri: str  # names the model in its:annotatorsRef
    confidence: float | None = None
    low_confidence: bool = False
    pivot: str | None = None
    engines: str | None = None  # several engines made parts of it: "apertium,argos"
    untranslated: int = 0  # segments no engine could translate, left in the original
    corrected: int = 0  # sentences an editor corrected (human translations)
    reviewed: bool = False  # an editor approved this version
    title_only: bool = False  # only the title is translated; the text is the original's

    @property
    def status(self) -> str:
        """machine, machine-low-confidence, machine-corrected (some sentences by an
        editor) or human-reviewed (an editor approved it)."""
        if self.reviewed:
            return "human-reviewed"
        if self.corrected:
            return "machine-corrected"
        return "machine-low-confidence" if self.low_confidence else "machine"

    def attributes(self) -> dict[str, str]:
        out = {"engine": self.engine, "model": self.model, "source-language": self.source_language}
        if self.confidence is not None:
            out["confidence"] = f"{self.confidence:.4f}"
        out["status"] = self.status
        if self.corrected:
            out["corrected"] = str(self.corrected)
        if self.pivot:
            out["pivot"] = self.pivot
        if self.engines:
            out["engines"] = self.engines
        if self.untranslated:
            out["untranslated"] = str(self.untranslated)
        if self.title_only:
            out["scope"] = "title"
        return out


def _translation(element: etree._Element, info: TranslationInfo | None) -> None:
    """The ITS 2.0 attributes on an entry or item, and its ``<syn:translation>``."""
    if info is None:
        return
    element.set(f"{{{ITS_NS}}}annotatorsRef", f"mt-confidence|{info.iri}")
    if info.confidence is not None:
        element.set(f"{{{ITS_NS}}}mtConfidence", f"{info.confidence:.4f}")
    if info.reviewed or info.corrected:
        # ITS 2.0 Provenance: a person revised the translation (the site's desk, not a name).
        element.set(f"{{{ITS_NS}}}revOrg", "editors")
    etree.SubElement(element, f"{{{SYN_NS}}}translation", info.attributes())


@dataclass(frozen=True)
class RssEnclosure:
    url: str
    type: str
    length: int


class FeedExtension(BaseExtension):  # type: ignore[misc]
    """Feed-level additions; set its attributes before rendering."""

    def __init__(self) -> None:
        self.links: Sequence[EntryLink] = ()
        self.archive = False  # an RFC 5005 archive document
        self.last_build: datetime | None = None  # RSS lastBuildDate
        self.namespaces: dict[str, str] = {}
        #: Entries carry ITS 2.0 annotations: the document declares ``its:version``.
        self.its = False

    def extend_ns(self) -> dict[str, str]:
        namespaces = dict(self.namespaces)
        if self.archive:
            namespaces["fh"] = FH_NS
        if self.its:
            namespaces["its"] = ITS_NS
            namespaces["syn"] = SYN_NS
        return namespaces

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        # feedgen builds the Atom tree with unqualified names under a default namespace.
        if self.its:
            feed.set(f"{{{ITS_NS}}}version", "2.0")
        for link in self.links:
            _link(feed, "link", link)
        if self.archive:
            etree.SubElement(feed, f"{{{FH_NS}}}archive")
        return feed

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        if self.its:
            rss.set(f"{{{ITS_NS}}}version", "2.0")
        channel = rss.find("channel")
        assert channel is not None
        if self.last_build is not None:
            etree.SubElement(channel, "lastBuildDate").text = rfc822(self.last_build)
        for link in self.links:
            _link(channel, f"{{{ATOM_NS}}}link", link)
        if self.archive:
            etree.SubElement(channel, f"{{{FH_NS}}}archive")
        return rss


class EntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Entry-level additions; set its attributes before rendering."""

    def __init__(self) -> None:
        self.links: Sequence[EntryLink] = ()
        self.published: datetime | None = None  # RSS pubDate
        self.source: str | None = None  # RSS dc:source: the original article
        self.creators: Sequence[str] = ()  # RSS dc:creator, one per author
        self.enclosure: RssEnclosure | None = None  # RSS allows one per item
        self.media: Sequence[Media] = ()  # Media RSS: the lead image, the other enclosures
        self.translation: TranslationInfo | None = None  # a machine translation's provenance

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for link in self.links:
            _link(entry, "link", link)
        _media(entry, self.media)
        _translation(entry, self.translation)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.enclosure is not None:
            etree.SubElement(
                item, "enclosure", url=self.enclosure.url, length=str(self.enclosure.length), type=self.enclosure.type
            )
        if self.published is not None:
            etree.SubElement(item, "pubDate").text = rfc822(self.published)
        for link in self.links:
            _link(item, f"{{{ATOM_NS}}}link", link)
        if self.source:
            etree.SubElement(item, f"{{{DC_NS}}}source").text = self.source
        for creator in self.creators:
            etree.SubElement(item, f"{{{DC_NS}}}creator").text = creator
        _media(item, self.media)
        _translation(item, self.translation)
        return item


class QuietFeedGenerator(FeedGenerator):  # type: ignore[misc]
    """A FeedGenerator that stamps no "now" into RSS and has our extensions registered.

    feedgen sets the RSS ``lastBuildDate`` to the current time on creation and has no
    public way to unset it (any value it holds goes through its setlocale-calling date
    formatter); :class:`FeedExtension` writes ``lastBuildDate`` instead.
    """

    def __init__(self, *, atom: bool, rss: bool) -> None:
        super().__init__()
        self._FeedGenerator__rss_lastBuildDate = None
        self.register_extension(NAME, FeedExtension, EntryExtension, atom=atom, rss=rss)


#: The XML parser for entries kept by :class:`EntryCache` (our own output: no entities to
#: resolve; a long article's content may pass libxml2's default text limit).
_ENTRY_PARSER = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)


class RenderedEntry(FeedEntry):  # type: ignore[misc]
    """An entry rendered before: feedgen appends a new copy of it, as it was serialised."""

    def __init__(self, xml: bytes) -> None:
        super().__init__()
        self._xml = xml

    def atom_entry(self, extensions: bool = True) -> etree._Element:
        return etree.fromstring(self._xml, _ENTRY_PARSER)

    rss_entry = atom_entry  # an <item> is kept and parsed as an <entry> is


class RecordingEntry(FeedEntry):  # type: ignore[misc]
    """A feedgen entry that hands what it renders to ``keep`` (serialised) as well."""

    def __init__(self, keep: Callable[[bytes], None]) -> None:
        super().__init__()
        self._keep = keep

    def atom_entry(self, extensions: bool = True) -> etree._Element:
        element: etree._Element = super().atom_entry(extensions)
        self._keep(etree.tostring(element))
        return element

    def rss_entry(self, extensions: bool = True) -> etree._Element:
        element: etree._Element = super().rss_entry(extensions)
        self._keep(etree.tostring(element))
        return element


class EntryCache(RenderCache):
    """Atom entries and RSS items by key (a format and everything the entry was rendered
    from): kept as the bytes lxml serialised them to and parsed again when used, the same
    element for 11 us against the 172 us feedgen takes to build a 4 KB entry with twenty
    alternates. JSON Feed items are kept as their dicts (:meth:`get`, :meth:`put`)."""

    def entry(self, key: Hashable, render: Callable[[FeedEntry], Any], fg: FeedGenerator) -> None:
        """Append to ``fg`` the Atom entry or RSS item kept under ``key``, or a new one
        ``render`` fills (and whose rendering is then kept under ``key``)."""
        xml = self.get(key)
        if xml is not None:
            fg.add_entry(RenderedEntry(xml), order="append")
        elif self.max_bytes:
            render(fg.add_entry(RecordingEntry(lambda made: self.put(key, made, len(made))), order="append"))
        else:
            render(fg.add_entry(order="append"))
