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
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
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
)
from syndicate.publish.edition import _second as _to_second
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


def templates_digest(settings: Settings) -> str:
    """The operator's template folder (``[publish] templates_dir``) by its files' names
    and bytes: editing a template there re-renders what it renders."""
    folder = settings.publish.templates_dir
    if folder is None:
        return ""
    h = hashlib.sha256()
    root = settings.resolve(folder)
    try:
        paths = sorted(p for p in root.rglob("*") if p.is_file())
    except OSError as exc:
        return f"unreadable: {exc.errno}"
    for path in paths:
        h.update(str(path.relative_to(root)).encode("utf-8", "surrogatepass"))
        try:
            h.update(path.read_bytes())
        except OSError as exc:
            h.update(f"unreadable: {exc.errno}".encode())
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
        # Low-confidence entries are marked or held back ([translate.quality]).
        "quality": settings.translate.quality.model_dump(mode="json"),
        # Entries of a "before" language wait for an editor's approval.
        "review": dict(settings.translate.review.items()),
        # The operator's templates, by content.
        "templates": templates_digest(settings),
    }
    # [[sources]] languages: which sources' entries each language shows (only when set,
    # so configurations without it keep the fingerprint they had).
    chosen = {s.name: list(s.languages) for s in settings.sources if s.languages is not None}
    if chosen:
        shown["sources_into"] = chosen
    return _digest(json.dumps(shown, sort_keys=True, ensure_ascii=False))


def scope_fingerprint(fingerprint: str, scope: str) -> str:
    """The fingerprint one language's publish (or the site-wide files', scope "") is made with."""
    return _digest(fingerprint, scope)


def _second(value: datetime) -> datetime:
    """:func:`~syndicate.publish.edition._second` without its calls for the usual value,
    already UTC to the second."""
    return value if value.tzinfo is UTC and not value.microsecond else _to_second(value)


@lru_cache(maxsize=4)
def _order(published: tuple[ArticleLine, ...]) -> list[tuple[Placed[ArticleLine], datetime, str]]:
    """publication_order, once per distinct set of light rows, with each article's
    ``published`` and its isoformat: languages translated for the same articles (the
    usual case) share one ordering, and so do successive publishes of a process while no
    article changed. A line is frozen and carries its change number, so equal tuples mean
    equal inputs."""
    iso: dict[datetime, str] = {}
    out = []
    for p in publication_order(published):
        a = p.article
        when = _second(a.published or a.first_seen)
        text = iso.get(when)
        if text is None:
            text = iso[when] = when.isoformat()
        out.append((p, when, text))
    return out


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
    slug_of = {p.article.id: p.article.slug for p, _, _ in placed}
    others = [(other, ids) for other, ids in translated.items() if other != language]
    pages = settings.translations_url  # page_url's base, computed once for the whole listing
    base = f"{pages}{language}/"
    neighbours: dict[int, tuple[Neighbour, str]] = {}

    def neighbour(aid: int | None) -> tuple[Neighbour | None, str]:
        """The neighbour and its part of a digest (each article is one twice)."""
        if aid is None or aid not in slug_of:
            return None, ""
        found = neighbours.get(aid)
        if found is None:
            title, url = mine[aid].title, f"{base}{slug_of[aid]}.html"
            found = neighbours[aid] = (Neighbour(title=title, url=url), f"{title}\x1e{url}")
        return found

    listing: list[ListedEntry] = []
    append = listing.append
    for p, published, published_iso in placed:
        a = p.article
        siblings = tuple([(other, f"{pages}{other}/{a.slug}.html") for other, ids in others if a.id in ids])
        append(
            listed_entry(
                a,
                mine[a.id],
                base,
                siblings,
                neighbour(p.previous),
                neighbour(p.next),
                fingerprint,
                (published, published_iso),
            )
        )
    return edition_header(settings, language, publishing, listing)


_NO_NEIGHBOUR: tuple[Neighbour | None, str] = (None, "")


def listed_entry(
    a: ArticleLine,
    t: TranslationLine,
    base: str,
    siblings: tuple[tuple[Lang, str], ...],
    previous: tuple[Neighbour | None, str] = _NO_NEIGHBOUR,
    following: tuple[Neighbour | None, str] = _NO_NEIGHBOUR,
    fingerprint: str = "",
    published: tuple[datetime, str] | None = None,
) -> ListedEntry:
    """One entry of a listing and its input digest: its article and translation (their
    change numbers), its neighbours (each with its part of the digest), the other
    languages' versions (``siblings``), the language's fingerprint. ``base`` is the
    language's pages URL; ``published`` the entry's date and its text, if known."""
    if published is None:
        when = _second(a.published or a.first_seen)
        published = (when, when.isoformat())
    names = ",".join([other for other, _ in siblings])
    digest = hashlib.sha256(
        f"{fingerprint}\x1f{a.id}\x1f{a.seq}\x1f{t.seq}\x1f{previous[1]}\x1f{following[1]}\x1f{names}".encode(
            "utf-8", "surrogatepass"
        )
    ).hexdigest()
    updated = t.updated if t.updated >= a.first_seen else a.first_seen
    return ListedEntry(
        a.id,
        a.slug,
        t.title,
        f"{base}{a.slug}.html",  # edition.page_url, spelt out for speed
        published[0],
        _second(updated),
        previous[0],
        following[0],
        siblings,
        digest,
        published[1],
    )


def feed_digest(fingerprint: str, page: FeedPage) -> str:
    """A feed document's inputs: its members, its links in the archive chain, its date,
    the other languages' feeds it names."""
    return _digest(
        fingerprint,
        "feed",
        page.number,
        page.prev_archive,
        page.next_archive,
        page.full,
        page.updated.isoformat(),
        ",".join(page.edition.siblings),
        *(m.digest for m in page.members),
    )


def language_index_digest(fingerprint: str, page: FeedPage) -> str:
    """A page of ``translations/<lang>/``'s index (the front page or an open archive page)
    lists its members' titles, links and dates, links its older and newer pages and the
    other languages; the front page also counts the language's entries."""
    edition = page.edition
    listed = "\x1e".join([f"{e.page_url}\x1f{e.title}\x1f{e.published_iso}" for e in page.members])
    total = edition.size if page.number is None else ""
    head = _digest(
        fingerprint, "index", page.number, page.prev_archive, page.next_archive, total, ",".join(edition.siblings)
    )
    return hashlib.sha256(f"{head}\x1d{listed}".encode("utf-8", "surrogatepass")).hexdigest()


def site_editions(settings: Settings, sizes: Mapping[Lang, int], publishing: Sequence[Lang]) -> list[Edition]:
    """What the site index and OPML list: each publishing language and its size."""
    return [edition_header(settings, language, publishing, size=sizes[language]) for language in publishing]


def site_digest(fingerprint: str, editions: Sequence[Edition]) -> str:
    return _digest(fingerprint, "site", *(f"{e.language}:{e.size}" for e in editions))


def sitemap_digest(fingerprint: str, kind: str, parts: Iterable[str]) -> str:
    """A sitemap file's inputs: its kind ("sitemap", "news", "sitemap-index") and the
    digests of what it lists (entries, or the files of the index)."""
    return _digest(fingerprint, kind, *parts)


__all__ = [
    "code_digest",
    "feed_digest",
    "language_index_digest",
    "listed_entry",
    "plan_edition",
    "scope_fingerprint",
    "settings_fingerprint",
    "site_digest",
    "site_editions",
    "sitemap_digest",
]
