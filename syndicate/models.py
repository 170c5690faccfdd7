"""The records that flow between stages. All frozen; all datetimes are aware UTC."""

from __future__ import annotations

import hashlib
import html as html_module
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from functools import cached_property
from typing import Any, NewType
from urllib.parse import urlsplit, urlunsplit

from syndicate.errors import Problem

#: A BCP 47 language tag as syndicate keeps it: primary subtag lower case, region upper
#: case, script title case, ``_`` read as ``-`` ("en", "pt-BR", "zh-Hant-TW").
Lang = NewType("Lang", str)

_SUBTAG = re.compile(r"^[A-Za-z0-9]{1,8}$")
_PRIMARY = re.compile(r"^[A-Za-z]{2,3}$")


def public_url(url: str) -> str:
    """``url`` without the ``user:password@`` it may carry: what may be published, logged
    or shown. (The credentials are for requests only.)"""
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host + (f":{parts.port}" if parts.port is not None else "")
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:  # a bad port or bracket: drop whatever stands before "@"
        return re.sub(r"(?<=://)[^/@]*@", "", url)


def normalize_lang(code: str | None) -> Lang | None:
    """The one language-tag normaliser: a tidy BCP 47 tag, or None for junk.

    ``en_US`` -> ``en-US``, ``EN-gb`` -> ``en-GB``, ``zh-hant-tw`` -> ``zh-Hant-TW``,
    ``de-AT`` stays; values like ``lang="de-DE"`` (quotes left in by broken markup),
    ``"x"``, ``"english"`` or ``"12"`` are rejected (None): a wrong tag is worse than none.
    """
    if not code:
        return None
    text = str(code).strip().strip("\"'").strip()
    if "=" in text:  # lang="lang="de-DE"": keep what follows the last '='
        text = text.rsplit("=", 1)[1].strip().strip("\"'")
    parts = text.replace("_", "-").split("-")
    if not parts or not _PRIMARY.match(parts[0]) or not all(_SUBTAG.match(p) for p in parts[1:]):
        return None
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 2 and part.isalpha():
            out.append(part.upper())  # region
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())  # script
        else:
            out.append(part.lower())
    return Lang("-".join(out))


def primary(code: str) -> Lang:
    """The primary subtag ("en-US" -> "en"): what engines and feeds match on."""
    return Lang(code.split("-")[0].lower())


def lang(code: str) -> Lang:
    """Normalise a language tag; unreadable input falls back to a lower-cased cleanup."""
    return normalize_lang(code) or Lang(code.strip().replace("_", "-").lower())


# -- the article body: typed blocks ----------------------------------------------------------
#
# Text-bearing fields hold HTML fragments with inline markup only (``a``, ``em``,
# ``strong``, ...), sanitised the same way a paragraph always was; plain-text fields
# (``alt``, titles) hold text. Every block is frozen; containers hold tuples.


@dataclass(frozen=True)
class Paragraph:
    """A paragraph: inline HTML."""

    html: str


@dataclass(frozen=True)
class Heading:
    """A heading inside the body, level 2-6 (the article's title is its ``h1``)."""

    level: int
    html: str


@dataclass(frozen=True)
class ListItem:
    """One list item: its inline HTML and the blocks nested in it (usually a sub-list)."""

    html: str
    children: tuple[Block, ...] = ()


@dataclass(frozen=True)
class ListBlock:
    """An ordered or unordered list."""

    items: tuple[ListItem, ...]
    ordered: bool = False


@dataclass(frozen=True)
class Quote:
    """A block quotation holding blocks; ``cite`` is the quoted source's URL, if given."""

    blocks: tuple[Block, ...]
    cite: str | None = None


@dataclass(frozen=True)
class Image:
    """An image: absolute http(s) ``src`` (the best ``srcset`` candidate), size, ``alt``."""

    src: str
    alt: str = ""
    width: int | None = None
    height: int | None = None
    title: str = ""


@dataclass(frozen=True)
class Figure:
    """A figure: an image and its caption (inline HTML)."""

    image: Image | None
    caption: str = ""


@dataclass(frozen=True)
class Cell:
    """A table cell: inline HTML, header or data, and its spans."""

    html: str
    header: bool = False
    colspan: int = 1
    rowspan: int = 1


@dataclass(frozen=True)
class Row:
    """A table row; ``head`` rows are rendered in ``<thead>``."""

    cells: tuple[Cell, ...]
    head: bool = False


@dataclass(frozen=True)
class Table:
    """A table with an optional caption (inline HTML)."""

    rows: tuple[Row, ...]
    caption: str = ""


@dataclass(frozen=True)
class Preformatted:
    """Preformatted text or code, kept verbatim (never translated)."""

    text: str
    code: bool = False


@dataclass(frozen=True)
class Rule:
    """A thematic break (``<hr>``)."""


@dataclass(frozen=True)
class Embed:
    """A video, audio or framed document of the source, published as a link to it."""

    url: str
    kind: str = "iframe"  # "video", "audio" or "iframe"
    title: str = ""


Block = Paragraph | Heading | ListBlock | Quote | Figure | Table | Preformatted | Rule | Embed

#: Block type name in the stored JSON -> class.
BLOCK_TYPES: dict[str, type] = {
    "p": Paragraph,
    "h": Heading,
    "list": ListBlock,
    "quote": Quote,
    "figure": Figure,
    "table": Table,
    "pre": Preformatted,
    "hr": Rule,
    "embed": Embed,
}
_TYPE_NAMES = {cls: name for name, cls in BLOCK_TYPES.items()}


def paragraphs(*fragments: str) -> tuple[Block, ...]:
    """Blocks made of paragraphs only (handy for plain bodies and tests)."""
    return tuple(Paragraph(f) for f in fragments)


def map_text(blocks: Sequence[Block], fn: Callable[[str, bool], str]) -> tuple[Block, ...]:
    """Rebuild ``blocks`` with every human-readable text passed through ``fn``.

    ``fn(value, plain)`` gets inline HTML (``plain`` False) or plain text (``plain``
    True: ``alt``, titles). The order of calls is the reading order and is the same on
    every call, so collecting the values and mapping them back line up. Preformatted
    text, URLs and table cells with nothing to translate (numbers, dates, codes) are
    left alone.
    """

    def image(img: Image | None) -> Image | None:
        if img is None:
            return None
        return replace(
            img,
            alt=fn(img.alt, True) if img.alt.strip() else img.alt,
            title=fn(img.title, True) if img.title.strip() else img.title,
        )

    def block(b: Block) -> Block:
        if isinstance(b, Paragraph):
            return Paragraph(fn(b.html, False))
        if isinstance(b, Heading):
            return Heading(b.level, fn(b.html, False))
        if isinstance(b, ListBlock):
            return ListBlock(
                tuple(
                    ListItem(fn(i.html, False) if i.html.strip() else i.html, tuple(block(c) for c in i.children))
                    for i in b.items
                ),
                b.ordered,
            )
        if isinstance(b, Quote):
            return Quote(tuple(block(c) for c in b.blocks), b.cite)
        if isinstance(b, Figure):
            return Figure(image(b.image), fn(b.caption, False) if b.caption.strip() else b.caption)
        if isinstance(b, Table):
            return Table(
                tuple(
                    Row(tuple(replace(c, html=fn(c.html, False)) if has_words(c.html) else c for c in r.cells), r.head)
                    for r in b.rows
                ),
                fn(b.caption, False) if b.caption.strip() else b.caption,
            )
        if isinstance(b, Embed):
            return replace(b, title=fn(b.title, True)) if b.title.strip() else b
        return b  # Preformatted, Rule

    return tuple(block(b) for b in blocks)


def texts(blocks: Sequence[Block]) -> list[tuple[str, bool]]:
    """Every human-readable text of ``blocks`` in reading order, as :func:`map_text` sees it."""
    out: list[tuple[str, bool]] = []

    def grab(value: str, plain: bool) -> str:
        out.append((value, plain))
        return value

    map_text(blocks, grab)
    return out


_LETTERS = re.compile(r"[^\W\d_]{2,}")
_TAG = re.compile(r"<[^>]*>")


def has_words(fragment: str) -> bool:
    """Whether an HTML fragment holds words (not just numbers, dates, codes or symbols)."""
    text = html_module.unescape(_TAG.sub(" ", fragment))
    return any(not w.isupper() or len(w) > 5 for w in _LETTERS.findall(text))


def block_to_json(b: Block) -> dict[str, Any]:
    """A block as plain JSON data (the store's format)."""
    out: dict[str, Any] = {"type": _TYPE_NAMES[type(b)]}
    for f in fields(b):
        value = getattr(b, f.name)
        if isinstance(b, ListBlock) and f.name == "items":
            value = [{"html": i.html, "children": [block_to_json(c) for c in i.children]} for i in value]
        elif isinstance(b, Quote) and f.name == "blocks":
            value = [block_to_json(c) for c in value]
        elif isinstance(b, Table) and f.name == "rows":
            value = [{"head": r.head, "cells": [asdict(c) for c in r.cells]} for r in value]
        elif isinstance(value, Image):
            value = asdict(value)
        out[f.name] = value
    return out


def block_from_json(data: Mapping[str, Any]) -> Block:
    """The inverse of :func:`block_to_json`."""
    kind = data["type"]
    args = {k: v for k, v in data.items() if k != "type"}
    if kind == "list":
        args["items"] = tuple(
            ListItem(i["html"], tuple(block_from_json(c) for c in i.get("children", ()))) for i in args["items"]
        )
    elif kind == "quote":
        args["blocks"] = tuple(block_from_json(c) for c in args["blocks"])
    elif kind == "table":
        args["rows"] = tuple(Row(tuple(Cell(**c) for c in r["cells"]), bool(r.get("head"))) for r in args["rows"])
    elif kind == "figure":
        args["image"] = Image(**args["image"]) if args.get("image") else None
    return BLOCK_TYPES[kind](**args)  # type: ignore[no-any-return]


# -- metadata -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    """An author: a name (never translated) and optionally a URL."""

    name: str
    url: str | None = None


@dataclass(frozen=True)
class Enclosure:
    """A file the article carries (podcast audio, video, document), passed through as is."""

    url: str
    type: str = ""
    length: int | None = None


@dataclass(frozen=True)
class Meta:
    """What is known about an article besides its text.

    ``tags`` are the source's own terms (categories, keywords, sections): their identity
    never changes; translations carry translated labels beside them.
    """

    authors: tuple[Author, ...] = ()
    tags: tuple[str, ...] = ()
    image: Image | None = None  # the lead image
    summary: str = ""  # plain text
    modified: datetime | None = None
    enclosures: tuple[Enclosure, ...] = ()
    site_name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "authors": [asdict(a) for a in self.authors],
            "tags": list(self.tags),
            "image": asdict(self.image) if self.image else None,
            "summary": self.summary,
            "modified": self.modified.isoformat() if self.modified else None,
            "enclosures": [asdict(e) for e in self.enclosures],
            "site_name": self.site_name,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Meta:
        if not data:
            return cls()
        modified = datetime.fromisoformat(data["modified"]) if data.get("modified") else None
        return cls(
            authors=tuple(Author(**a) for a in data.get("authors", ())),
            tags=tuple(data.get("tags", ())),
            image=Image(**data["image"]) if data.get("image") else None,
            summary=data.get("summary", ""),
            modified=modified,
            enclosures=tuple(Enclosure(**e) for e in data.get("enclosures", ())),
            site_name=data.get("site_name", ""),
        )


@dataclass(frozen=True)
class Attribution:
    """An attribution line such as ``[Source attribution: Rossiyskaya Gazeta]``.

    ``label`` is translated, ``source`` (the name) is kept verbatim, ``paragraph`` is the
    index of the body block the line belongs to (it is rendered at the end of that
    block when it is a paragraph, else right after it).
    """

    label: str
    source: str
    paragraph: int


@dataclass(frozen=True)
class Ref:
    """A reference to a neighbouring article, by link, by title, or both."""

    url: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Known:
    """What a source already knows about an item, handed to extraction as data.

    A feed entry knows its title, authors, tags, enclosures and images; when its content
    is in the feed, the item's bytes are that content (an HTML fragment: ``fragment``
    True), not a page. ``summary`` (HTML) is the body of last resort.
    """

    title: str | None = None
    meta: Meta = field(default_factory=Meta)
    fragment: bool = False
    summary: str = ""


@dataclass(frozen=True)
class RawItem:
    """What a source hands to extraction: bytes plus where they came from."""

    source: str
    key: str  # stable identity within the source (relative path, guid, url)
    data: bytes
    media_type: str  # "text/plain" or "text/html"
    url: str | None = None  # the original article's address, if it has one
    base_url: str | None = None  # for resolving relative links in HTML
    language: str | None = None
    published: datetime | None = None
    known: Known | None = None
    charset: str | None = None  # the HTTP Content-Type's charset, if any


@dataclass(frozen=True)
class Article:
    """An extracted source article: its title, body blocks, attribution lines and metadata."""

    source: str
    key: str
    title: str
    blocks: tuple[Block, ...]
    attributions: tuple[Attribution, ...] = ()
    url: str | None = None
    prev: Ref | None = None
    next: Ref | None = None
    language: str | None = None
    published: datetime | None = None
    meta: Meta = field(default_factory=Meta)

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The inline HTML of the top-level paragraphs (other blocks left out)."""
        return tuple(b.html for b in self.blocks if isinstance(b, Paragraph))

    @cached_property
    def content_hash(self) -> str:
        """Hash of everything that is translated; a change means re-translation.

        A body of paragraphs only, with no tags or summary, hashes exactly as releases
        before typed blocks did, so an upgraded store re-translates nothing. Computed once
        per record (it is frozen): the store, language detection and every target
        language's check ask for it.
        """
        attributions = [(a.label, a.source, a.paragraph) for a in self.attributions]
        plain = all(isinstance(b, Paragraph) for b in self.blocks)
        if plain and not self.meta.tags and not self.meta.summary and not (self.meta.image and self.meta.image.alt):
            payload: list[Any] = [self.title, list(self.paragraphs), attributions]
        else:
            payload = [
                self.title,
                [block_to_json(b) for b in self.blocks],
                attributions,
                list(self.meta.tags),
                self.meta.summary,
                self.meta.image.alt if self.meta.image else "",
            ]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()[:32]


#: The revision of what extraction makes of the same bytes. Bump it with any change to
#: extraction: sources are then read again in full on their next poll, so stored
#: articles get the new reading (otherwise only new or changed items would).
READER_REVISION = 1


def source_key(article: Article, source_language: str) -> str:
    """What a translation was made from: the content and the language it was read as.

    Stored as :attr:`Translation.source_hash`; when either changes (an edit, or an
    operator correcting a source's ``language``) the translation is redone.
    """
    return content_key(article.content_hash, source_language)


def content_key(content_hash: str, source_language: str) -> str:
    """:func:`source_key` from an article's stored content hash (no article needed)."""
    return f"{content_hash}:{source_language}"


@dataclass(frozen=True)
class StoredArticle:
    """An article as the store keeps it: with its id, slug and timestamps."""

    id: int
    slug: str
    article: Article
    first_seen: datetime
    updated: datetime


@dataclass(frozen=True)
class SegmentRecord:
    """One source segment of a translated article and what stands for it, in reading
    order: what an editor reviews and corrects.

    ``origin`` is "machine" (an engine's, finished and checked) or "human" (an editor's
    correction); ``flags`` what the checks found ("numbers", "glued", ...); ``previous`` the
    correction an editor made for this place when its source text was different (the
    source changed upstream: machine translated again, needs review); ``slot`` says what
    the text is ("title", "text", "label", "tag", "summary", "alt")."""

    source: str
    target: str
    origin: str = "machine"
    confidence: float | None = None
    flags: tuple[str, ...] = ()
    slot: str = "text"
    previous: str | None = None
    previous_source: str | None = None

    @property
    def needs_review(self) -> bool:
        return self.previous is not None


@dataclass(frozen=True)
class Translation:
    """One article in one target language."""

    article_id: int
    language: Lang
    engine: str  # "argos", "apertium", "source" (published as is)
    title: str
    blocks: tuple[Block, ...]
    #: The attribution lines as translated: label in the target language, source name
    #: verbatim, block index. Kept with the translation so a published version stays
    #: consistent even after its article changed.
    attributions: tuple[Attribution, ...]
    source_hash: str
    updated: datetime
    model: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Translated labels of the article's tags, in the same order (the terms stay).
    tag_labels: tuple[str, ...] = ()
    summary: str = ""  # translated summary (plain text)
    image_alt: str = ""  # translated alt text of the lead image
    #: Segments no engine could translate, published in the original language.
    untranslated: int = 0
    #: Only the title is translated (``[[sources]] title_only``): ``blocks``, the labels,
    #: summary and alt text are the original's, published marked as in its language.
    title_only: bool = False
    #: How far the translation can be trusted, 0 to 1: the engines' own confidence per
    #: segment, lowered where a check found a problem, weighted by length (None when no
    #: engine can say, or the article was published as is).
    confidence: float | None = None
    #: What the checks counted: ("segments", n), ("unknown_words", n), ("numbers", n) ...
    quality: tuple[tuple[str, int], ...] = ()
    #: A digest of what the translation depended on besides its text: protected terms,
    #: the revisions of the code around the engines, the models (a change redoes it).
    rules: str = ""
    #: Every segment and its translation, in reading order (see :class:`SegmentRecord`).
    segments: tuple[SegmentRecord, ...] = ()
    #: Segments an editor's correction made; segments whose correction no longer fits.
    corrected: int = 0
    needs_review: int = 0
    #: The last approval (read from the store; a put never changes it): who, when, and
    #: the source_hash it was given for (approval holds while the source is the same).
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    reviewed_hash: str | None = None

    @property
    def approved(self) -> bool:
        """An editor approved this version of the source (or it is published as is)."""
        return self.engine == "source" or (self.reviewed_hash is not None and self.reviewed_hash == self.source_hash)

    @property
    def quality_counts(self) -> dict[str, int]:
        return dict(self.quality)

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The inline HTML of the top-level paragraphs (other blocks left out)."""
        return tuple(b.html for b in self.blocks if isinstance(b, Paragraph))

    @property
    def attribution_labels(self) -> tuple[str, ...]:
        return tuple(a.label for a in self.attributions)


@dataclass(frozen=True)
class RunReport:
    """What one pass did: counts and the problems it met (never raised)."""

    items_seen: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_relinked: int = 0  # only previous/next links or the URL changed
    segments_translated: int = 0
    memory_hits: int = 0
    guard_failures: int = 0
    translations_written: int = 0
    files_written: int = 0
    #: Items, sources, articles and outputs that failed, as records.
    problems: tuple[Problem, ...] = ()
    #: Language pairs no engine serves (their articles wait), as records.
    unserved: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unserved

    @property
    def failures(self) -> tuple[str, ...]:
        """The problems as the lines a person reads (for display; count :attr:`problems`)."""
        return tuple(str(p) for p in self.problems)

    @property
    def unserved_languages(self) -> tuple[str, ...]:
        return tuple(str(p) for p in self.unserved)

    def failed_in(self, source: str) -> tuple[Problem, ...]:
        """The problems of one source."""
        return tuple(p for p in self.problems if p.source == source)

    def __add__(self, other: RunReport) -> RunReport:
        """Two reports' counts added, each problem listed once."""
        # By value, not by annotation: an annotation is a string or a class depending on
        # `from __future__ import annotations`, and the counts must add either way.
        counts = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if type(getattr(self, f.name)) is int
        }
        return RunReport(
            **counts,
            problems=tuple(dict.fromkeys(self.problems + other.problems)),
            unserved=tuple(dict.fromkeys(self.unserved + other.unserved)),
        )
