"""What one language's outputs are made of: built from the store, no I/O, no library types."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import NamedTuple
from urllib.parse import urljoin

from syndicate.config import Settings
from syndicate.models import (
    Author,
    Block,
    Enclosure,
    Image,
    Lang,
    StoredArticle,
    Translation,
)
from syndicate.publish.formats import FORMATS
from syndicate.publish.render import body_html

LANGUAGE_NAMES = {
    "en": "English",
    "es": "Español",
    "ca": "Català",
    "gl": "Galego",
    "eo": "Esperanto",
    "fr": "Français",
    "de": "Deutsch",
    "it": "Italiano",
    "pt": "Português",
    "ru": "Русский",
    "uk": "Українська",
    "ar": "العربية",
    "zh": "中文",
    "ja": "日本語",
    "nl": "Nederlands",
    "oc": "Occitan",
    "eu": "Euskara",
    "el": "Ελληνικά",
    "bg": "Български",
    "sr": "Српски",
}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


@dataclass(frozen=True)
class AttributionLine:
    label: str  # translated
    source: str  # verbatim


@dataclass(frozen=True)
class Neighbour:
    title: str
    url: str


@dataclass(frozen=True)
class EntryLink:
    """A typed link from an entry (Atom ``link``, RSS ``atom:link``, HTML ``link``)."""

    rel: str
    href: str
    type: str | None = None
    hreflang: str | None = None
    title: str | None = None
    length: int | None = None


@dataclass(frozen=True)
class FeedEntry:
    """One translated article as the feeds and pages show it."""

    id: str  # stable, unique per language
    article_id: int
    language: Lang
    slug: str
    title: str
    page_url: str
    original_url: str | None
    original_title: str
    original_language: str
    blocks: tuple[Block, ...]  # translated
    attributions: tuple[tuple[AttributionLine, ...], ...]  # per block
    published: datetime
    updated: datetime
    engine: str
    translation_notes: tuple[str, ...]  # e.g. "pivot:en", "engines:apertium,argos"
    previous: Neighbour | None
    next: Neighbour | None
    siblings: tuple[tuple[Lang, str], ...]  # (language, page url) of the other languages
    #: The original's authors (never translated); the feeds fall back to the site's.
    authors: tuple[Author, ...] = ()
    #: (term, label): the source's term is the identity, the label is translated.
    tags: tuple[tuple[str, str], ...] = ()
    image: Image | None = None  # the lead image, its alt translated
    summary: str = ""  # translated, plain text
    enclosures: tuple[Enclosure, ...] = ()
    #: The original blocks, for a bilingual edition (None otherwise).
    originals: tuple[Block, ...] | None = None
    untranslated: int = 0
    #: Only the title is translated ([[sources]] title_only): the body is the original's.
    title_only: bool = False
    #: The models that made the translation ("apertium:eng-spa@apertium-eng-spa=0.8.1-2").
    model: str = ""
    #: How far the translation can be trusted, 0-1 (None: no engine said).
    confidence: float | None = None
    #: Under the language's threshold, published marked ([translate.quality] action "mark").
    low_confidence: bool = False
    #: Sentences an editor corrected; whether an editor approved this version.
    corrected: int = 0
    reviewed: bool = False

    @property
    def machine(self) -> bool:
        """A machine translation (not an article published in its own language)."""
        return self.engine != "source"

    @cached_property
    def alternates(self) -> tuple[EntryLink, ...]:
        """``rel="alternate"`` links: this page, each other language's page, the original.

        At most one per language (Atom allows one alternate per type and hreflang): the
        original is left out when one of our pages already is in its language.
        """
        links = [EntryLink("alternate", self.page_url, "text/html", self.language, self.title)]
        links += [EntryLink("alternate", url, "text/html", other, language_name(other)) for other, url in self.siblings]
        taken = {self.language, *(other for other, _ in self.siblings)}
        if self.original_url and self.original_language not in taken:
            links.append(
                EntryLink("alternate", self.original_url, "text/html", self.original_language, self.original_title)
            )
        return tuple(links)

    @cached_property
    def links(self) -> tuple[EntryLink, ...]:
        """Every link the feeds carry: alternates, ``via`` (the original), ``previous``/``next``."""
        links = list(self.alternates)
        if self.original_url:
            links.append(EntryLink("via", self.original_url, "text/html", self.original_language, self.original_title))
        if self.previous:
            links.append(EntryLink("previous", self.previous.url, "text/html", self.language, self.previous.title))
        if self.next:
            links.append(EntryLink("next", self.next.url, "text/html", self.language, self.next.title))
        return tuple(links)

    @property
    def attribution_sources(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for lines in self.attributions:
            for line in lines:
                seen.setdefault(line.source)
        return tuple(seen)

    @cached_property
    def content_html(self) -> str:
        """The body as semantic HTML, attribution lines at the end of their paragraphs.

        Rendered and sanitised once per entry: Atom, RSS, JSON Feed and the page all ask.
        """
        tails = [
            "".join(
                f' <span class="attribution" data-source="{html.escape(line.source)}">'
                f"[{html.escape(line.label)}: {html.escape(line.source)}]</span>"
                for line in lines
            )
            for lines in self.attributions
        ]
        return body_html(
            self.blocks,
            tails,
            originals=self.originals,
            original_language=self.original_language,
            untranslated=self.title_only,
        )


class ListedEntry(NamedTuple):
    """An entry's place in its edition, from the store's light columns (no body).

    Enough to order, link and list it (language index, neighbours, archive membership)
    and to tell whether what it is rendered from changed: ``digest`` covers every input
    of its page and of its feed entry. A named tuple: one is built per entry per publish.
    """

    article_id: int
    slug: str
    title: str  # translated
    page_url: str
    published: datetime
    updated: datetime
    previous: Neighbour | None
    next: Neighbour | None
    siblings: tuple[tuple[Lang, str], ...]  # (language, page url) of the other languages
    digest: str
    #: ``published`` as the language index's ``datetime`` attribute says it (isoformat).
    published_iso: str

    @property
    def published_day(self) -> str:
        """``published`` as the language index shows it."""
        return self.published.strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Edition:
    """One language's published content: its feeds' and pages' identity and its entries,
    newest first, as light :class:`ListedEntry` records (bodies are loaded per document)."""

    language: Lang
    title: str
    feeds_url: str  # the language's feed folder: feeds/<lang>/
    page_index_url: str  # the language's page index: translations/<lang>/
    siblings: tuple[Lang, ...] = ()  # other languages that publish feeds
    listing: tuple[ListedEntry, ...] = ()  # every entry, newest first (may be left empty)
    size: int = 0  # how many entries it publishes (the site index shows it)

    @property
    def updated(self) -> datetime | None:
        return max((e.updated for e in self.listing), default=None)

    def feed_url(self, fmt: str, language: str | None = None) -> str:
        """The subscription feed of format ``fmt`` ("atom", "rss", "json")."""
        url = self.feeds_url if language is None else urljoin(self.feeds_url, f"../{language}/")
        return urljoin(url, FORMATS[fmt].file)

    @property
    def feed_url_atom(self) -> str:
        return self.feed_url("atom")

    @property
    def feed_url_rss(self) -> str:
        return self.feed_url("rss")

    @property
    def feed_url_json(self) -> str:
        return self.feed_url("json")

    def sibling_index_url(self, language: str) -> str:
        return urljoin(self.page_index_url, f"../{language}/")


def _labels(terms: Sequence[str], labels: Sequence[str]) -> tuple[str, ...]:
    """Translated labels for ``terms``; a translation made before tags existed has none."""
    return tuple(labels) if len(labels) == len(terms) else tuple(terms)


def page_url(settings: Settings, language: str, slug: str) -> str:
    return f"{settings.translations_url}{language}/{slug}.html"


def feed_url(settings: Settings, language: str, name: str) -> str:
    return f"{settings.feeds_url}{language}/{name}"


def original_language(settings: Settings, sa: StoredArticle) -> str:
    """The language the original article is written in (see Settings.article_language)."""
    return settings.article_language(sa.article.source, sa.article.language)


def _second(value: datetime) -> datetime:
    """UTC to the second: what every feed format can say, so the bytes stay stable."""
    return value.astimezone(UTC).replace(microsecond=0)


def entry_id(settings: Settings, language: str, article: StoredArticle) -> str:
    """A tag URI (RFC 4151): stable forever, unique per language, never the source's id."""
    host = settings.site.base_url.split("://", 1)[1].split("/", 1)[0].split(":")[0]
    return f"tag:{host},{article.first_seen:%Y-%m-%d}:{language}/{article.id}"


def edition_title(settings: Settings, language: Lang) -> str:
    return f"{settings.site.title} ({language_name(language)})"


def edition_header(
    settings: Settings,
    language: Lang,
    siblings: Sequence[Lang] = (),
    listing: Sequence[ListedEntry] = (),
    size: int | None = None,
) -> Edition:
    """A language's edition; ``siblings`` are the languages that publish feeds (itself left out)."""
    return Edition(
        language=language,
        title=edition_title(settings, language),
        feeds_url=feed_url(settings, language, ""),
        page_index_url=f"{settings.translations_url}{language}/",
        siblings=tuple(other for other in siblings if other != language),
        listing=tuple(listing),
        size=len(listing) if size is None else size,
    )


def published_at(sa_published: datetime | None, first_seen: datetime) -> datetime:
    """An entry's ``published``: the source's date, else when we first saw it."""
    return _second(sa_published or first_seen)


def updated_at(translated: datetime, first_seen: datetime) -> datetime:
    """An entry's ``updated``: its translation's last change (never before first seen)."""
    return _second(max(translated, first_seen))


def _low(settings: Settings, language: Lang, t: Translation) -> bool:
    """Under the language's threshold, and no editor approved it."""
    rule = settings.translate.quality.of(language)
    return t.engine != "source" and not t.approved and t.confidence is not None and t.confidence < rule.threshold


def feed_entry(settings: Settings, language: Lang, listed: ListedEntry, sa: StoredArticle, t: Translation) -> FeedEntry:
    """The whole entry of ``listed`` from its article and translation (the bodies).

    Neighbours and siblings come from the listing, so an entry and the pages around it
    agree on them.
    """
    meta = sa.article.meta
    bilingual = language in settings.translate.bilingual
    # Sized by the translation, not the article: after an edit whose re-translation
    # failed, the previous translation stays published and may have fewer blocks.
    per_paragraph: list[list[AttributionLine]] = [[] for _ in t.blocks]
    for attribution in t.attributions:
        index = max(0, min(attribution.paragraph, len(per_paragraph) - 1))
        if per_paragraph:
            per_paragraph[index].append(AttributionLine(label=attribution.label, source=attribution.source))
    return FeedEntry(
        id=entry_id(settings, language, sa),
        article_id=sa.id,
        language=language,
        slug=sa.slug,
        title=t.title,
        page_url=page_url(settings, language, sa.slug),
        original_url=sa.article.url,
        original_title=sa.article.title,
        original_language=original_language(settings, sa),
        blocks=t.blocks,
        attributions=tuple(tuple(lines) for lines in per_paragraph),
        authors=meta.authors,
        tags=tuple(zip(meta.tags, _labels(meta.tags, t.tag_labels), strict=True)),
        image=replace(meta.image, alt=t.image_alt or meta.image.alt) if meta.image else None,
        summary=t.summary,
        enclosures=meta.enclosures,
        originals=sa.article.blocks
        if bilingual and t.engine != "source" and not t.title_only and len(sa.article.blocks) == len(t.blocks)
        else None,
        untranslated=t.untranslated,
        title_only=t.title_only,
        published=published_at(sa.article.published, sa.first_seen),
        updated=updated_at(t.updated, sa.first_seen),
        engine=t.engine,
        translation_notes=t.notes,
        model=t.model,
        confidence=t.confidence,
        low_confidence=_low(settings, language, t),
        corrected=t.corrected,
        reviewed=t.engine != "source" and t.approved,
        previous=listed.previous,
        next=listed.next,
        siblings=listed.siblings,
    )
