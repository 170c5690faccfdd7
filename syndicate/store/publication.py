"""What publishing reads and remembers: light listings, change numbers, published files.

A publish of a language asks, in this order:

1. :meth:`PublicationRepository.watermark` and :meth:`~PublicationRepository.state`: the
   store's newest change number against the one its last publish saw (two indexed
   ``max()`` queries and one primary-key read). Equal, with the same settings
   fingerprint, means nothing it is made from changed.
2. Otherwise :meth:`~PublicationRepository.article_lines` and
   :meth:`~PublicationRepository.translation_lines`: every article's and translation's
   light columns (ids, titles, links, dates, change numbers), never a body, enough to
   order a language and to compute each output file's input digest.
3. :meth:`~PublicationRepository.files`: the digest and size each output file was last
   written from, so only files whose digest moved (or that vanished) are rendered, and
   :meth:`~PublicationRepository.bodies` for exactly those entries.

SQLAlchemy Core over :mod:`syndicate.store.schema`, upserts with the dialect's
``INSERT ... ON CONFLICT``: the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import String, case, delete, func, or_, select, type_coerce
from sqlalchemy.engine import Connection

from syndicate.models import Lang, Ref, StoredArticle, Translation
from syndicate.store.rows import insert, plain_rows
from syndicate.store.rows import utc as _utc
from syndicate.store.schema import (
    LINKED,
    articles,
    publish_outcome,
    publish_state,
    published_file,
    retired_language,
    translation_counts,
    translations,
)

if TYPE_CHECKING:
    from syndicate.store.base import Store

#: Rows per statement (``IN (...)`` lists, batched upserts): well under SQLite's limits.
CHUNK = 500
#: More target languages than a site publishes in (changed_since's bound on rows read).
_LANGUAGES_AT_MOST = 64


class ArticleLine(NamedTuple):
    """An article's light columns: what ordering, links and digests need, no body.

    A named tuple: 10,000s are built, hashed and compared per publish, at C speed.
    """

    id: int
    slug: str
    source: str
    url: str | None
    title: str
    prev: Ref | None
    next: Ref | None
    language: str | None  # as extracted or declared (see Settings.article_language)
    published: datetime | None
    first_seen: datetime
    seq: int


class TranslationLine(NamedTuple):
    """A translation's light columns."""

    article_id: int
    language: Lang
    title: str
    updated: datetime
    seq: int
    confidence: float | None = None  # Translation.confidence: decides holding back
    approved: bool = False  # an editor approved this version ([translate.review] "before")


@dataclass(frozen=True)
class PublishState:
    """What the last publish of a language saw: the store's change number, the
    fingerprint of the settings and languages it published with, and the modification
    times (ns) of the output folders it wrote, taken right after."""

    seq: int
    fingerprint: str
    folders: Mapping[str, int] = field(default_factory=dict, compare=False)
    #: What the next publish must find unchanged to publish the change alone
    #: (:mod:`syndicate.publish.delta`); "" when unknown (it plans the whole history).
    plan: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class PublishedFile:
    """One output file as the last publish left it."""

    path: str  # relative to the output root, e.g. "feeds/es/atom.xml"
    digest: str  # of the inputs it was rendered from
    size: int  # bytes on disk
    article_id: int | None = None  # the entry a page shows
    lastmod: str | None = None  # a sitemap file's newest entry (what the sitemap index says of it)


def _when(conn: Connection) -> Callable[[Any], Any]:
    """How to select a datetime column: SQLite's stored text as is (parsed by
    :func:`_datetime`, many times faster than the generic processor on 10,000s of rows),
    other databases' own datetimes."""
    if conn.dialect.name == "sqlite":
        return lambda column: type_coerce(column, String)
    return lambda column: column


def _datetime(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    return _utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def _seen(value: str | datetime) -> datetime:
    found = _datetime(value)
    assert found is not None
    return found


@dataclass(frozen=True)
class PublishRecord:
    """The failed publishes of one language (see ``publish_outcome`` in the schema)."""

    language: str
    failures_in_row: int = 0
    failures: int = 0
    last_failure: datetime | None = None
    last_error: str | None = None
    recovered: datetime | None = None


class _Times(dict[Any, Any]):
    """Stored datetimes (SQLite's text, another database's datetimes) -> aware UTC
    datetimes, each distinct value parsed once: a poll stamps its whole batch with one
    time, so 10,000s of rows hold far fewer distinct values."""

    def __missing__(self, value: str | datetime) -> datetime:
        found = self[value] = _seen(value)
        return found


class PublicationRepository:
    """Publishing's queries over the store's tables (see the module's docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- has anything changed? --------------------------------------------------------

    def watermark(self) -> int:
        """The newest change number of any article or translation (0 in an empty store).

        Writers take numbers from one counter inside their transaction and commit in
        that order, so every change with a smaller number is visible once this one is.
        """
        with self.store.connect() as conn:
            newest_article = conn.execute(select(func.max(articles.c.seq))).scalar_one_or_none()
            newest_translation = conn.execute(select(func.max(translations.c.seq))).scalar_one_or_none()
        return max(int(newest_article or 0), int(newest_translation or 0))

    def state(self, language: str) -> PublishState | None:
        with self.store.connect() as conn:
            row = conn.execute(
                select(
                    publish_state.c.seq, publish_state.c.fingerprint, publish_state.c.folders, publish_state.c.plan
                ).where(publish_state.c.language == language)
            ).first()
        if row is None:
            return None
        try:
            folders = {str(k): int(v) for k, v in json.loads(row.folders or "{}").items()}
        except (ValueError, TypeError, AttributeError):
            folders = {}  # unreadable: every file is checked instead
        return PublishState(int(row.seq), str(row.fingerprint), folders, str(row.plan or ""))

    def save_state(self, language: str, state: PublishState) -> None:
        with self.store.transaction() as conn:
            folders = json.dumps(dict(sorted(state.folders.items())))
            stmt = insert(conn, publish_state).values(
                language=language,
                seq=state.seq,
                fingerprint=state.fingerprint,
                folders=folders,
                plan=state.plan or None,
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[publish_state.c.language],
                    set_={
                        "seq": stmt.excluded.seq,
                        "fingerprint": stmt.excluded.fingerprint,
                        "folders": stmt.excluded.folders,
                        "plan": stmt.excluded.plan,
                    },
                )
            )

    # -- failed publishes -------------------------------------------------------------

    def outcomes(self) -> dict[str, PublishRecord]:
        """Every language that ever failed to publish: its record."""
        with self.store.connect() as conn:
            rows = conn.execute(select(publish_outcome)).mappings().all()
        return {
            row["language"]: PublishRecord(
                language=row["language"],
                failures_in_row=int(row["failures_in_row"] or 0),
                failures=int(row["failures"] or 0),
                last_failure=_datetime(row["last_failure"]),
                last_error=row["last_error"],
                recovered=_datetime(row["recovered"]),
            )
            for row in rows
        }

    def record_failure(self, languages: Iterable[str], error: str, when: datetime) -> None:
        """Each of ``languages`` failed to publish at ``when`` with ``error``."""
        with self.store.transaction() as conn:
            for language in languages:
                stmt = insert(conn, publish_outcome).values(
                    language=language,
                    failures_in_row=1,
                    failures=1,
                    last_failure=when,
                    last_error=error[:2000],
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[publish_outcome.c.language],
                        set_={
                            "failures_in_row": publish_outcome.c.failures_in_row + 1,
                            "failures": publish_outcome.c.failures + 1,
                            "last_failure": stmt.excluded.last_failure,
                            "last_error": stmt.excluded.last_error,
                        },
                    )
                )

    def record_success(self, languages: Iterable[str], when: datetime) -> None:
        """Each of ``languages`` published at ``when``: those that were failing recovered.
        One read, and a write only when one was failing."""
        wanted = list(languages)
        with self.store.connect() as conn:
            failing = [
                row[0]
                for row in conn.execute(
                    select(publish_outcome.c.language).where(
                        publish_outcome.c.language.in_(wanted), publish_outcome.c.failures_in_row > 0
                    )
                )
            ]
        if not failing:
            return
        with self.store.transaction() as conn:
            conn.execute(
                publish_outcome.update()
                .where(publish_outcome.c.language.in_(failing))
                .values(failures_in_row=0, recovered=when)
            )

    # -- light listings ---------------------------------------------------------------

    def article_lines(self, ids: Iterable[int] | None = None) -> list[ArticleLine]:
        """Every article's light columns (of ``ids`` only, if given), by id."""
        if ids is not None:
            wanted = sorted(set(ids))
            return [
                line
                for start in range(0, len(wanted), CHUNK)
                for line in self._article_lines(wanted[start : start + CHUNK])
            ]
        return self._article_lines(None)

    def _article_lines(self, ids: list[int] | None) -> list[ArticleLine]:
        a = articles.c
        with self.store.connect() as conn:
            when = _when(conn)
            query = select(
                a.id,
                a.slug,
                a.source,
                a.url,
                a.title,
                a.prev_url,
                a.prev_title,
                a.next_url,
                a.next_title,
                a.language,
                when(a.published),
                when(a.first_seen),
                a.seq,
            ).order_by(a.id)
            if ids is not None:
                query = query.where(a.id.in_(ids))
            rows = plain_rows(conn, query)
        times = _Times()
        times[None] = None
        line = ArticleLine
        return [
            line(
                aid,
                slug,
                source,
                url,
                title,
                Ref(prev_url, prev_title) if prev_url or prev_title else None,  # _ref, inline: 10,000s of rows
                Ref(next_url, next_title) if next_url or next_title else None,
                language,
                times[published],
                times[first_seen],
                seq,
            )
            for (
                aid,
                slug,
                source,
                url,
                title,
                prev_url,
                prev_title,
                next_url,
                next_title,
                language,
                published,
                first_seen,
                seq,
            ) in rows
        ]

    def translation_lines(
        self, languages: Iterable[Lang], ids: Iterable[int] | None = None
    ) -> dict[Lang, dict[int, TranslationLine]]:
        """{language: {article id: light translation}} for ``languages`` (each present, maybe
        empty), of the articles ``ids`` only if given."""
        wanted = list(dict.fromkeys(languages))
        out: dict[Lang, dict[int, TranslationLine]] = {language: {} for language in wanted}
        if not wanted:
            return out
        t = translations.c
        chosen = None if ids is None else sorted(set(ids))
        rows: list[tuple[Any, ...]] = []
        with self.store.connect() as conn:
            approved = case((or_(t.engine == "source", t.reviewed_hash == t.source_hash), 1), else_=0)
            query = select(
                t.article_id, t.language, t.title, _when(conn)(t.updated), t.seq, t.confidence, approved
            ).where(t.language.in_(wanted))
            if chosen is None:
                rows = plain_rows(conn, query)
            else:
                for start in range(0, len(chosen), CHUNK):
                    rows.extend(plain_rows(conn, query.where(t.article_id.in_(chosen[start : start + CHUNK]))))
        times = _Times()
        line = TranslationLine
        for article_id, language, title, updated, seq, confidence, ok in rows:
            out[language][article_id] = line(
                article_id, Lang(language), title, times[updated], int(seq), confidence, bool(ok)
            )
        return out

    # -- bodies, only for what is rendered ---------------------------------------------

    def bodies(self, language: Lang, ids: Sequence[int]) -> dict[int, tuple[StoredArticle, Translation]]:
        """The whole article and its ``language`` translation for each of ``ids`` that has both."""
        translated = self.store.translations.for_language(language, ids)
        return {sa.id: (sa, translated[sa.id]) for sa in self.store.articles.many(translated)}

    # -- published files ---------------------------------------------------------------

    def files(self, language: str, paths: Iterable[str] | None = None) -> dict[str, tuple[str, int]]:
        """{path: (digest, size)} of everything the last publishes of ``language`` wrote
        ("" = site-wide), of ``paths`` only if given. Plain tuples: a language has a row per page."""
        f = published_file.c
        query = select(f.path, f.digest, f.size).where(f.language == language)
        with self.store.connect() as conn:
            if paths is None:
                rows = plain_rows(conn, query)
            else:
                wanted = sorted(set(paths))
                rows = []
                for start in range(0, len(wanted), CHUNK):
                    rows.extend(plain_rows(conn, query.where(f.path.in_(wanted[start : start + CHUNK]))))
        return {path: (digest, int(size)) for path, digest, size in rows}

    def sitemap_files(self, language: str, prefix: str) -> dict[str, tuple[str, str | None]]:
        """{path: (digest, lastmod)} of ``language``'s recorded files under ``prefix``
        (its sitemap files: a few hundred at most, whatever the history)."""
        f = published_file.c
        query = select(f.path, f.digest, f.lastmod).where(f.language == language, f.path.startswith(prefix))
        with self.store.connect() as conn:
            if conn.dialect.name == "sqlite":
                # SQLite's LIKE (what startswith makes) is case-insensitive, so it read every
                # file of the language; a range of the primary key (language, path) in its
                # binary collation, where no path holds U+10FFFF, reads only these.
                query = query.where(f.path >= prefix, f.path < prefix + "\U0010ffff")
            return {str(path): (str(digest), lastmod) for path, digest, lastmod in conn.execute(query)}

    # -- what changed since a publish (syndicate.publish.delta) --------------------------

    def changed_since(self, seq: int, limit: int) -> set[int] | None:
        """The articles whose row or any translation changed after change number ``seq``
        (both are stamped with the change number of every write), read by the change
        numbers' indexes; None when there are more than ``limit``."""
        with self.store.connect() as conn:
            found = {
                int(i)
                for i in conn.execute(select(articles.c.id).where(articles.c.seq > seq).limit(limit + 1)).scalars()
            }
            if len(found) <= limit:
                # Read through ix_translations_seq, the distinct ids counted here: with
                # DISTINCT, SQLite walked the primary key, every translation of the history.
                # At most a row per language of limit + 1 articles is read (a client that
                # buffers the whole result, as psycopg does, never holds the history):
                # that many rows for no more than ``limit`` articles is "too many" too.
                cap = (limit + 1) * _LANGUAGES_AT_MOST
                rows = 0
                for i in conn.execute(
                    select(translations.c.article_id).where(translations.c.seq > seq).limit(cap)
                ).scalars():
                    rows += 1
                    found.add(int(i))
                    if len(found) > limit:
                        break
                if rows == cap:
                    return None
        return found if len(found) <= limit else None

    def newest(self, offset: int, limit: int) -> list[int]:
        """Article ids newest first, as :func:`~syndicate.publish.ordering.rank` orders
        articles no chain relates (publication date or else first seen, then first seen,
        then id, each descending): ``limit`` of them from ``offset``. The database sorts."""
        a = articles.c
        query = (
            select(a.id)
            .order_by(func.coalesce(a.published, a.first_seen).desc(), a.first_seen.desc(), a.id.desc())
            .offset(offset)
            .limit(limit)
        )
        with self.store.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def any_links(self) -> bool:
        """Whether any article names a previous or next one (the source's chain)."""
        query = select(articles.c.id).where(LINKED)  # the condition of ix_articles_linked, to the letter
        with self.store.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def translated_counts(self) -> dict[str, int]:
        """{language: translations stored}, from the counts kept as they are written."""
        c = translation_counts.c
        with self.store.connect() as conn:
            rows = conn.execute(select(c.language, func.sum(c.translations)).group_by(c.language))
            return {str(language): int(n or 0) for language, n in rows}

    def articles_of(self, language: str, paths: Sequence[str]) -> dict[str, int | None]:
        """{path: the article whose page it is (None: a feed or an index)} of ``paths``."""
        f = published_file.c
        out: dict[str, int | None] = {}
        with self.store.connect() as conn:
            for start in range(0, len(paths), CHUNK):
                for path, article_id in conn.execute(
                    select(f.path, f.article_id).where(
                        f.language == language, f.path.in_(list(paths[start : start + CHUNK]))
                    )
                ):
                    out[str(path)] = int(article_id) if article_id is not None else None
        return out

    def sizes(self, language: str) -> list[tuple[str, int]]:
        """(path, size) of every file recorded for ``language``: what a stat checks."""
        f = published_file.c
        with self.store.connect() as conn:
            return [
                (str(path), int(size))
                for path, size in conn.execute(select(f.path, f.size).where(f.language == language))
            ]

    def record_files(self, language: str, files: Iterable[PublishedFile]) -> None:
        """Remember files just written (or found in place), replacing what was known."""
        rows = [
            {
                "language": language,
                "path": f.path,
                "digest": f.digest,
                "size": f.size,
                "article_id": f.article_id,
                "lastmod": f.lastmod,
            }
            for f in files
        ]
        if not rows:
            return
        with self.store.transaction() as conn:
            for start in range(0, len(rows), CHUNK):
                stmt = insert(conn, published_file)
                stmt = stmt.on_conflict_do_update(
                    index_elements=[published_file.c.language, published_file.c.path],
                    set_={
                        "digest": stmt.excluded.digest,
                        "size": stmt.excluded.size,
                        "article_id": stmt.excluded.article_id,
                        "lastmod": stmt.excluded.lastmod,
                    },
                )
                conn.execute(stmt, rows[start : start + CHUNK])

    def forget_files(self, language: str, paths: Iterable[str]) -> None:
        """Drop the records of files no publish produces any more."""
        gone = list(paths)
        if not gone:
            return
        with self.store.transaction() as conn:
            for start in range(0, len(gone), CHUNK):
                conn.execute(
                    delete(published_file).where(
                        published_file.c.language == language, published_file.c.path.in_(gone[start : start + CHUNK])
                    )
                )

    # -- retired languages --------------------------------------------------------------

    def published_languages(self) -> set[str]:
        """Every language a publish has written and not retired (one small read)."""
        with self.store.connect() as conn:
            return {str(row[0]) for row in conn.execute(select(publish_state.c.language)) if row[0]}

    def retire(self, language: str, when: datetime, files_removed: int) -> None:
        """``language``'s outputs are gone: forget what was published (a publish of it
        configured again renders everything) and record the retirement. Translations,
        memory and feed history stay."""
        with self.store.transaction() as conn:
            conn.execute(delete(published_file).where(published_file.c.language == language))
            conn.execute(delete(publish_state).where(publish_state.c.language == language))
            conn.execute(delete(publish_outcome).where(publish_outcome.c.language == language))
            stmt = insert(conn, retired_language).values(language=language, retired=when, files_removed=files_removed)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[retired_language.c.language],
                    set_={"retired": stmt.excluded.retired, "files_removed": stmt.excluded.files_removed},
                )
            )

    def retired(self) -> dict[str, tuple[datetime, int]]:
        """{language: (when it was retired, files removed)}."""
        with self.store.connect() as conn:
            rows = conn.execute(select(retired_language)).mappings().all()
        return {row["language"]: (_seen(row["retired"]), int(row["files_removed"])) for row in rows}

    def unretire(self, languages: Iterable[str]) -> None:
        """Languages configured again are no longer retired."""
        with self.store.transaction() as conn:
            conn.execute(delete(retired_language).where(retired_language.c.language.in_(list(languages))))


__all__ = ["ArticleLine", "PublicationRepository", "PublishState", "PublishedFile", "TranslationLine"]
