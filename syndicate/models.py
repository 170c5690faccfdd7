"""The records that flow between stages. All frozen; all datetimes are aware UTC."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

#: A BCP 47 language tag, normalised to lower case primary subtag ("en", "es", "pt-br").
Lang = NewType("Lang", str)


def lang(code: str) -> Lang:
    """Normalise a language tag: lower case, ``_`` -> ``-``."""
    return Lang(code.strip().replace("_", "-").lower())


@dataclass(frozen=True)
class Attribution:
    """An attribution line such as ``[Source attribution: Rossiyskaya Gazeta]``.

    ``label`` is translated, ``source`` (the name) is kept verbatim, ``paragraph`` is the
    index of the body paragraph the line belongs to (it is rendered at its end).
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


@dataclass(frozen=True)
class Article:
    """An extracted source article."""

    source: str
    key: str
    title: str
    paragraphs: tuple[str, ...]  # HTML fragments with inline markup only
    attributions: tuple[Attribution, ...] = ()
    url: str | None = None
    prev: Ref | None = None
    next: Ref | None = None
    language: str | None = None
    published: datetime | None = None

    @property
    def content_hash(self) -> str:
        """Hash of everything that is translated; a change means re-translation."""
        payload = json.dumps(
            [self.title, list(self.paragraphs), [(a.label, a.source, a.paragraph) for a in self.attributions]],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


def source_key(article: Article, source_language: str) -> str:
    """What a translation was made from: the content and the language it was read as.

    Stored as :attr:`Translation.source_hash`; when either changes (an edit, or an
    operator correcting a source's ``language``) the translation is redone.
    """
    return f"{article.content_hash}:{source_language}"


@dataclass(frozen=True)
class StoredArticle:
    """An article as the store keeps it: with its id, slug and timestamps."""

    id: int
    slug: str
    article: Article
    first_seen: datetime
    updated: datetime


@dataclass(frozen=True)
class Translation:
    """One article in one target language."""

    article_id: int
    language: Lang
    engine: str  # "argos", "apertium", "source" (published as is)
    title: str
    paragraphs: tuple[str, ...]
    #: The attribution lines as translated: label in the target language, source name
    #: verbatim, paragraph index. Kept with the translation so a published version stays
    #: consistent even after its article changed.
    attributions: tuple[Attribution, ...]
    source_hash: str
    updated: datetime
    model: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

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
    failures: tuple[str, ...] = ()
    unserved_languages: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures and not self.unserved_languages
