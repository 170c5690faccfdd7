"""Articles: one row per source + key, each with a page name (slug) unique in the store.

Writes are safe for two writers at once (two pollers of one source, or two sources with
articles of the same title, on SQLite or PostgreSQL): a new article is inserted with
``ON CONFLICT (source, key) DO NOTHING``, and a slug taken by a concurrent writer between
our look-up and our insert is retried with the next free one inside a savepoint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slugify import slugify
from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from syndicate.errors import StoreError
from syndicate.models import Article, Lang, StoredArticle
from syndicate.store import counts
from syndicate.store.rows import article_body, differs, insert, stored_article
from syndicate.store.schema import (
    article_counts,
    article_filter,
    articles,
    current_counts,
    next_change,
    translations,
)

if TYPE_CHECKING:
    from syndicate.store.base import Store

logger = logging.getLogger(__name__)

#: Page names publishing uses for itself ("index" is each language's article list).
RESERVED_SLUGS = frozenset({"index"})

#: One article by source + key (built once: this runs for every item of every poll).
_BY_KEY = select(articles).where(articles.c.source == bindparam("source"), articles.c.key == bindparam("key"))

#: How many slugs a new article tries when concurrent writers keep taking them.
_SLUG_ATTEMPTS = 20


def _waiting(t: Any) -> ColumnElement[bool]:
    """An article (outer-joined to its translation ``t`` into one language) waits for a
    pass: no translation, segments left untranslated, or changed since what was translated."""
    made_from = func.substr(t.c.source_hash, 1, func.length(articles.c.content_hash))
    return or_(
        t.c.article_id.is_(None),
        t.c.untranslated > 0,
        and_(articles.c.seq > t.c.seq, made_from != articles.c.content_hash),
    )


class ArticleRepository:
    """The ``articles`` table: upserts by source + key, reads by id."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def upsert(self, article: Article, now: datetime) -> tuple[StoredArticle, str]:
        """Insert or update an article; return it and "new", "updated", "relinked" or "unchanged".

        ``updated`` moves only when the translated content changes; a change of links
        alone ("relinked") is stored without touching it. Every write stamps ``seq``.
        """
        values = _values(article)
        key = {"source": article.source, "key": article.key}
        with self.store.connect() as conn:
            row = conn.execute(_BY_KEY, key).mappings().first()
        if row is not None and not _changes(row, values):
            return stored_article(row), "unchanged"  # the common case: a poll re-reads what it has

        with self.store.transaction() as conn:
            status = "new" if row is None else ""
            if row is None and not self._insert(conn, article, values, now):
                status = ""  # a concurrent writer inserted it first: update it as ours
            if not status:
                row = conn.execute(_BY_KEY.with_for_update(), key).mappings().one()
                changed = _changes(row, values)
                if not changed:
                    status = "unchanged"
                else:
                    status = "updated" if "content_hash" in changed else "relinked"
                    if status == "updated":
                        changed["updated"] = now
                    changed["seq"] = next_change(conn)
                    before = counts.state_of(conn, [row["id"]])
                    conn.execute(articles.update().where(articles.c.id == row["id"]).values(**changed))
                    counts.moved(conn, before, counts.state_of(conn, [row["id"]]))
            stored = conn.execute(_BY_KEY, key).mappings().one()
        return stored_article(stored), status

    def _insert(self, conn: Connection, article: Article, values: dict[str, Any], now: datetime) -> bool:
        """Insert a new article under a free slug; False if the source + key exists already."""
        seq = next_change(conn)
        base = slugify(article.title, max_length=80, word_boundary=True) or "article"
        slug = _free_slug(conn, base, 1)
        for _ in range(_SLUG_ATTEMPTS):
            savepoint = conn.begin_nested()
            try:
                inserted = (
                    conn.execute(
                        insert(conn, articles)
                        .values(
                            source=article.source,
                            key=article.key,
                            slug=slug,
                            first_seen=now,
                            updated=now,
                            seq=seq,
                            **values,
                        )
                        .on_conflict_do_nothing(index_elements=["source", "key"])
                        .returning(articles.c.id)  # (rowcount is -1 under PostgreSQL's implicit RETURNING)
                    ).first()
                    is not None
                )
            except IntegrityError:
                # Another writer took this slug since we looked (a different article of
                # the same title): try the next one.
                savepoint.rollback()
                logger.debug("slug %s taken concurrently, trying the next one", slug)
                slug = _free_slug(conn, base, _number(base, slug) + 1)
                continue
            savepoint.commit()
            if inserted:
                counts.add_article(conn, article.source)
            return inserted
        raise StoreError(f"no free page name for {article.title!r} after {_SLUG_ATTEMPTS} attempts")

    def get(self, article_id: int) -> StoredArticle | None:
        with self.store.connect() as conn:
            row = conn.execute(select(articles).where(articles.c.id == article_id)).mappings().first()
        return stored_article(row) if row else None

    def many(self, ids: Iterable[int]) -> list[StoredArticle]:
        """The articles with these ids (missing ones left out), in id order."""
        wanted = sorted(set(ids))
        out: list[StoredArticle] = []
        with self.store.connect() as conn:
            for chunk in _chunks(wanted, 500):
                rows = conn.execute(select(articles).where(articles.c.id.in_(chunk)).order_by(articles.c.id)).mappings()
                out.extend(stored_article(r) for r in rows)
        return out

    def all(self) -> list[StoredArticle]:
        with self.store.connect() as conn:
            rows = conn.execute(select(articles).order_by(articles.c.id)).mappings().all()
        return [stored_article(r) for r in rows]

    def ids(self) -> list[int]:
        with self.store.connect() as conn:
            return [int(i) for i in conn.execute(select(articles.c.id).order_by(articles.c.id)).scalars()]

    def chosen(self, *, sources: Iterable[str] | None = None, since: datetime | None = None) -> list[int]:
        """Ids of the articles of ``sources`` (all when None) first seen or changed on or
        after ``since`` (all when None), in id order."""
        query = select(articles.c.id).order_by(articles.c.id)
        if sources is not None:
            query = query.where(articles.c.source.in_(list(sources)))
        if since is not None:
            query = query.where(or_(articles.c.first_seen >= since, articles.c.updated >= since))
        with self.store.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def detected_language(self, source: str, key: str, content_hash: str) -> str | None:
        """The language stored for an article whose content has not changed, if any."""
        with self.store.connect() as conn:
            found = conn.execute(
                select(articles.c.language).where(
                    articles.c.source == source, articles.c.key == key, articles.c.content_hash == content_hash
                )
            ).scalar_one_or_none()
        return str(found) if found else None

    def pending_translation(self, language: Lang, sources: Iterable[str] | None = None) -> list[int]:
        """Ids of the articles ``language`` may have to (re)translate, in id order.

        An article is pending when it has no translation in ``language``, its translation
        left segments untranslated, or it changed (its ``seq`` is greater) in what is
        translated: the translation's ``source_hash`` starts with the content hash it was
        made from. An article only relinked (a new neighbour) changes its ``seq`` but not
        its content, and is not pending: otherwise every article that ever got a
        successor would be loaded again on every pass, a cost growing with the history.
        A change of the language an article is read as is the caller's to detect (it is
        configuration, not stored content).
        """
        query = self._pending(language, sources, select(articles.c.id)).order_by(articles.c.id)
        with self.store.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def newest_pending(self, language: Lang, sources: Iterable[str] | None, count: int) -> list[int]:
        """:meth:`pending_translation` when the counts say ``count`` articles wait
        (:meth:`waiting_count`): read newest first and stopped at the ``count``-th, so a
        pass over a new article reads the newest rows, not the history. In id order."""
        if count <= 0:
            return []
        query = self._pending(language, sources, select(articles.c.id)).order_by(articles.c.id.desc()).limit(count)
        with self.store.connect() as conn:
            return sorted(int(i) for i in conn.execute(query).scalars())

    def waiting_count(self, language: Lang, sources: Iterable[str] | None = None) -> int:
        """How many articles of ``sources`` (all when None) :meth:`pending_translation`
        gives for ``language``, held back or not: from the counts kept as the work
        happens (:mod:`syndicate.store.counts`), their articles less their current
        translations."""
        with self.store.connect() as conn:
            return self._waiting_total(conn, language, None if sources is None else list(sources))

    @staticmethod
    def _waiting_total(conn: Connection, language: Lang, chosen: list[str] | None) -> int:
        total = select(func.coalesce(func.sum(article_counts.c.articles), 0))
        current = select(func.coalesce(func.sum(current_counts.c.translations), 0)).where(
            current_counts.c.language == language
        )
        if chosen is not None:
            total = total.where(article_counts.c.source.in_(chosen))
            current = current.where(current_counts.c.source.in_(chosen))
        return int(conn.execute(total).scalar_one()) - int(conn.execute(current).scalar_one())

    def pending_count(self, language: Lang, sources: Iterable[str] | None = None, also: Iterable[int] = ()) -> int:
        """How many articles :meth:`pending_translation` gives, and of ``also`` (articles a
        settings change listed), less those the sources' filters hold back: what the next
        pass into ``language`` takes. From the counts kept as the work happens
        (:mod:`syndicate.store.counts`): the articles of the sources less their current
        translations; only the held-back and listed articles are looked at one by one."""
        chosen = None if sources is None else list(sources)
        held = select(article_filter.c.article_id).where(article_filter.c.kept == false())
        with self.store.connect() as conn:
            pending = self._waiting_total(conn, language, chosen)
            # Held back and waiting: read from the filters' decisions (one row per article of a
            # filtered source), never from the whole history.
            f, t = article_filter.c, translations.alias("t")
            held_pending = (
                select(func.count())
                .select_from(
                    article_filter.join(articles, articles.c.id == f.article_id).outerjoin(
                        t, and_(t.c.article_id == articles.c.id, t.c.language == language)
                    )
                )
                .where(f.kept == false(), _waiting(t))
            )
            if chosen is not None:
                held_pending = held_pending.where(articles.c.source.in_(chosen))
            pending -= int(conn.execute(held_pending).scalar_one())
            listed = sorted(set(also))
            for start in range(0, len(listed), 500):  # listed and current: taken again all the same
                query = (
                    select(func.count())
                    .select_from(articles.join(translations, translations.c.article_id == articles.c.id))
                    .where(
                        translations.c.language == language,
                        articles.c.id.in_(listed[start : start + 500]),
                        articles.c.id.not_in(held),
                        counts.current_rule(),
                    )
                )
                if chosen is not None:
                    query = query.where(articles.c.source.in_(chosen))
                pending += int(conn.execute(query).scalar_one())
        return pending

    def _pending(self, language: Lang, sources: Iterable[str] | None, query: Select[Any]) -> Select[Any]:
        t = translations.alias("t")
        query = query.select_from(
            articles.outerjoin(t, and_(t.c.article_id == articles.c.id, t.c.language == language))
        ).where(_waiting(t))
        if sources is not None:  # only the sources whose articles go into the language
            query = query.where(articles.c.source.in_(list(sources)))
        return query

    def translation_sources(
        self, language: Lang, ids: Iterable[int] | None = None
    ) -> list[tuple[int, str, str | None, str, str]]:
        """(id, source, language, content_hash, translation's source_hash) of every article
        translated into ``language`` (of ``ids``, if given): light columns, enough to tell
        whether a translation was made from what the settings now say."""
        query = (
            select(
                articles.c.id,
                articles.c.source,
                articles.c.language,
                articles.c.content_hash,
                translations.c.source_hash,
            )
            .select_from(articles.join(translations, translations.c.article_id == articles.c.id))
            .where(translations.c.language == language)
        )
        with self.store.connect() as conn:
            if ids is None:
                return [tuple(row) for row in conn.execute(query)]
            wanted = sorted(set(ids))
            out: list[tuple[int, str, str | None, str, str]] = []
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                out += [tuple(row) for row in conn.execute(query.where(articles.c.id.in_(chunk)))]
            return out


def _values(article: Article) -> dict[str, Any]:
    return {
        "url": article.url,
        "title": article.title,
        "body": article_body(article),
        "prev_url": article.prev.url if article.prev else None,
        "prev_title": article.prev.title if article.prev else None,
        "next_url": article.next.url if article.next else None,
        "next_title": article.next.title if article.next else None,
        "language": article.language,
        "published": article.published,
        "content_hash": article.content_hash,
    }


def _changes(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if differs(row[k], v)}


def _number(base: str, slug: str) -> int:
    """1 for ``base``, n for ``base-n``."""
    suffix = slug[len(base) + 1 :]
    return int(suffix) if slug != base and suffix.isdigit() else 1


def _free_slug(conn: Connection, base: str, start: int) -> str:
    """The first of ``base``, ``base-2``, ... (from the ``start``-th) no article has."""
    n = start
    while True:
        slug = base if n == 1 else f"{base}-{n}"
        if (
            slug not in RESERVED_SLUGS
            and not conn.execute(select(articles.c.id).where(articles.c.slug == slug)).first()
        ):
            return slug
        n += 1


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
