"""What each output file is made of, from the store's light columns. Pure, no I/O.

Every output file gets a digest of its inputs: an entry's page of its article's and
translation's change numbers, its neighbours' titles and links, the languages it is
also published in, and the settings fingerprint; a feed document of its members'
digests, its place in the archive chain and its date; an index of what it lists. A
publish renders a file only when its digest differs from the one it was last written
from (or the file is gone), so the cost follows the change, not the history.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from syndicate import __version__
from syndicate.config import Settings
from syndicate.models import Lang
from syndicate.publish.edition import (
    Edition,
    ListedEntry,
    Neighbour,
    edition_header,
    published_at,
    updated_at,
)
from syndicate.publish.history import FeedPage
from syndicate.publish.ordering import Placed, publication_order
from syndicate.store.publication import ArticleLine, TranslationLine

#: Bump when output changes in a way the code digest below cannot see.
FORMAT_VERSION = "1"

#: The libraries whose versions can change our bytes.
_RENDERING_LIBRARIES = ("feedgen", "jinja2", "lxml", "nh3", "bleach")


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The publishing code, templates and rendering libraries, once per process: an
    upgrade that changes how a page looks re-renders every page once."""
    package = Path(__file__).resolve().parent
    sources = sorted([*package.glob("*.py"), *(package / "templates").glob("*"), package.parent / "sanitize.py"])
    h = hashlib.sha256(f"{FORMAT_VERSION}\x1f{__version__}".encode())
    for path in sources:
        h.update(path.name.encode())
        try:
            h.update(path.read_bytes())
        except OSError as exc:  # an unreadable install still publishes; its digest says so
            h.update(f"unreadable: {exc.errno}".encode())
    for name in _RENDERING_LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            continue
    return h.hexdigest()


def settings_fingerprint(settings: Settings, languages: Sequence[Lang]) -> str:
    """Everything in ``settings`` that shows in an output, plus the languages published
    together (their order is the order of alternates): a change re-renders everything."""
    shown = {
        "code": code_digest(),
        "site": settings.site.model_dump(mode="json"),
        "feeds": [str(settings.feeds_dir), settings.feeds_url],
        "pages": [str(settings.translations_dir), settings.translations_url],
        "feed_size": settings.output.feed_size,
        "bilingual": list(settings.translate.bilingual),
        "languages": list(languages),
        "hubs": list(settings.publish.websub_hubs),
        # Settings.article_language: a source's configured language is an entry's original language.
        "source_languages": {s.name: s.language for s in settings.sources if s.language},
    }
    return _digest(json.dumps(shown, sort_keys=True, ensure_ascii=False))


def scope_fingerprint(fingerprint: str, scope: str) -> str:
    """The fingerprint one language's publish (or the site-wide files', scope "") is made with."""
    return _digest(fingerprint, scope)


def _neighbour_key(neighbour: Neighbour | None) -> str:
    return "" if neighbour is None else f"{neighbour.title}\x1e{neighbour.url}"


@lru_cache(maxsize=4)
def _order(published: tuple[ArticleLine, ...]) -> list[Placed[ArticleLine]]:
    """publication_order, once per distinct set of light rows: languages translated for
    the same articles (the usual case) share one ordering, and so do successive
    publishes of a process while no article changed. A line is frozen and carries its
    change number, so equal tuples mean equal inputs."""
    return publication_order(published)


def plan_edition(
    settings: Settings,
    language: Lang,
    lines: Sequence[ArticleLine],
    translated: Mapping[Lang, Mapping[int, TranslationLine]],
    publishing: Sequence[Lang],
    fingerprint: str,
) -> Edition:
    """``language``'s edition, newest first, each entry with its input digest.

    ``translated`` holds every configured language's light translations, in configured
    order (the order of siblings); ``publishing`` are the languages that publish feeds;
    ``fingerprint`` is the language's :func:`scope_fingerprint`.
    """
    mine = translated.get(language, {})
    placed = _order(tuple(line for line in lines if line.id in mine))
    slug_of = {p.article.id: p.article.slug for p in placed}
    others = [(other, ids) for other, ids in translated.items() if other != language]
    pages = settings.translations_url  # page_url's base, computed once for the whole listing

    def neighbour(aid: int | None) -> Neighbour | None:
        if aid is None or aid not in slug_of:
            return None
        return Neighbour(title=mine[aid].title, url=f"{pages}{language}/{slug_of[aid]}.html")

    listing = []
    for p in placed:
        a, t = p.article, mine[p.article.id]
        previous, following = neighbour(p.previous), neighbour(p.next)
        siblings = tuple((other, f"{pages}{other}/{a.slug}.html") for other, ids in others if a.id in ids)
        digest = _digest(
            fingerprint, a.id, a.seq, t.seq, _neighbour_key(previous), _neighbour_key(following),
            ",".join(other for other, _ in siblings),
        )
        listing.append(
            ListedEntry(
                article_id=a.id,
                slug=a.slug,
                title=t.title,
                page_url=f"{pages}{language}/{a.slug}.html",  # edition.page_url, spelt out for speed
                published=published_at(a.published, a.first_seen),
                updated=updated_at(t.updated, a.first_seen),
                previous=previous,
                next=following,
                siblings=siblings,
                digest=digest,
            )
        )
    return edition_header(settings, language, publishing, listing)


def feed_digest(fingerprint: str, page: FeedPage) -> str:
    """A feed document's inputs: its members, its links in the archive chain, its date,
    the other languages' feeds it names."""
    return _digest(
        fingerprint, "feed", page.number, page.prev_archive, page.next_archive, page.full, page.updated.isoformat(),
        ",".join(page.edition.siblings), *(m.digest for m in page.members),
    )


def language_index_digest(fingerprint: str, edition: Edition) -> str:
    """``translations/<lang>/index.html`` lists every entry's title, link and date."""
    h = hashlib.sha256(_digest(fingerprint, "index", ",".join(edition.siblings)).encode())
    for entry in edition.listing:
        h.update(f"{entry.page_url}\x1f{entry.title}\x1f{entry.published.isoformat()}\x1e".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def site_editions(
    settings: Settings, translated: Mapping[Lang, Mapping[int, TranslationLine]], publishing: Sequence[Lang]
) -> list[Edition]:
    """What the site index and OPML list: each publishing language and its size."""
    return [edition_header(settings, language, publishing, size=len(translated[language])) for language in publishing]


def site_digest(fingerprint: str, editions: Sequence[Edition]) -> str:
    return _digest(fingerprint, "site", *(f"{e.language}:{e.size}" for e in editions))


__all__ = [
    "code_digest",
    "feed_digest",
    "language_index_digest",
    "plan_edition",
    "scope_fingerprint",
    "settings_fingerprint",
    "site_digest",
    "site_editions",
]
