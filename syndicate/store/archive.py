"""Feed history (RFC 5005 archived feeds): which document each published entry lives in.

Per language, every entry gets a sequence number the first time it is published, and
leaves the subscription feed (oldest sequence first) once more than ``feed_size``
entries are waiting there. It then joins the newest archive page for good: membership is
stored, so an article that turns up late (backfill) or a change of order never moves an
entry between pages. A page holds ``capacity`` entries (the ``feed_size`` in force when
it was opened); the moment it is full the next, still empty, page is opened, so a full
page's ``next-archive`` link is final. The documents of a full page are rendered once
and stored here (:meth:`FeedHistory.freeze`): from then on they are byte-for-byte what
the publisher writes, whatever later changes to translations, siblings or config.

Every method runs in one transaction that first takes a per-language lock (an UPDATE of
the language's ``feed_state`` row: SQLite's write lock, a row lock on PostgreSQL), so two
publishers of one language never interleave.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.engine import Connection

from syndicate.models import Lang
from syndicate.store.rows import insert, plain_rows
from syndicate.store.schema import (
    archive_documents,
    archive_pages,
    feed_log,
    feed_state,
)

if TYPE_CHECKING:
    from syndicate.store.base import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArchivePage:
    """One archive page: its number (1 = oldest), entries and capacity."""

    number: int
    article_ids: tuple[int, ...]
    capacity: int

    @property
    def full(self) -> bool:
        """A full page never gains or loses an entry again."""
        return len(self.article_ids) >= self.capacity


@dataclass(frozen=True)
class FeedLayout:
    """Where a language's published entries live: the subscription feed or a page."""

    current: tuple[int, ...]  # article ids in the subscription feed
    pages: tuple[ArchivePage, ...]  # oldest first; the last one is open (not full)


class FeedHistory:
    """Archive membership and frozen archive documents, per language, in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _lock(self, conn: Connection, language: Lang) -> int:
        """Take the language's lock; return its next sequence number."""
        conn.execute(
            feed_state.update().where(feed_state.c.language == language).values(next_seq=feed_state.c.next_seq)
        )
        return int(conn.execute(select(feed_state.c.next_seq).where(feed_state.c.language == language)).scalar_one())

    def _ensure_state(self, language: Lang) -> None:
        with self.store.engine.connect() as conn:
            if conn.execute(select(feed_state.c.language).where(feed_state.c.language == language)).first():
                return
        with self.store.transaction() as conn:
            # A concurrent publisher of the language may create it first: then keep theirs.
            conn.execute(
                insert(conn, feed_state)
                .values(language=language, next_seq=1)
                .on_conflict_do_nothing(index_elements=["language"])
            )

    def place(self, language: Lang, newest_first: Sequence[int], feed_size: int) -> FeedLayout:
        """Record newly published entries and move the overflow into archive pages.

        ``newest_first`` are the ids of the entries published now, in publication order.
        New ones get sequence numbers oldest first, so a first run archives the oldest.
        Entries waiting in the subscription feed beyond ``feed_size`` move, oldest
        sequence first, into the open page.
        """
        if feed_size < 1:
            raise ValueError("feed_size must be at least 1")
        self._ensure_state(language)
        present = set(newest_first)
        with self.store.transaction() as conn:
            next_seq = self._lock(conn, language)
            # Plain tuples (unpacked, not Row attributes): a language logs an entry per article.
            log = {
                article_id: (seq, page)
                for article_id, seq, page in plain_rows(
                    conn,
                    select(feed_log.c.article_id, feed_log.c.seq, feed_log.c.page).where(
                        feed_log.c.language == language
                    ),
                )
            }
            for article_id in reversed(newest_first):
                if article_id in log:
                    continue
                conn.execute(
                    feed_log.insert().values(language=language, article_id=article_id, seq=next_seq, page=None)
                )
                log[article_id] = (next_seq, None)
                next_seq += 1
            conn.execute(feed_state.update().where(feed_state.c.language == language).values(next_seq=next_seq))

            capacity = {
                row.page: row.capacity
                for row in conn.execute(
                    select(archive_pages.c.page, archive_pages.c.capacity)
                    .where(archive_pages.c.language == language)
                    .order_by(archive_pages.c.page)
                )
            }
            members: dict[int, list[tuple[int, int]]] = {n: [] for n in capacity}
            waiting: list[tuple[int, int]] = []
            for article_id, (seq, page) in log.items():
                if page is None:
                    if article_id in present:
                        waiting.append((seq, article_id))
                else:
                    members.setdefault(page, []).append((seq, article_id))
            waiting.sort()

            def open_page(number: int) -> None:
                conn.execute(archive_pages.insert().values(language=language, page=number, capacity=feed_size))
                capacity[number] = feed_size
                members[number] = []

            while len(waiting) > feed_size:
                if not capacity:
                    open_page(1)
                newest = max(capacity)
                seq, article_id = waiting.pop(0)
                conn.execute(
                    feed_log.update()
                    .where(feed_log.c.language == language, feed_log.c.article_id == article_id)
                    .values(page=newest)
                )
                members[newest].append((seq, article_id))
                if len(members[newest]) >= capacity[newest]:
                    # Open the next page now, so the full one's next-archive link is final.
                    open_page(newest + 1)
        pages = tuple(
            ArchivePage(number=n, article_ids=tuple(aid for _, aid in sorted(members[n])), capacity=capacity[n])
            for n in sorted(capacity)
        )
        return FeedLayout(current=tuple(aid for _, aid in waiting), pages=pages)

    def frozen(self, language: Lang, page: int, formats: Collection[str] | None = None) -> dict[str, bytes]:
        """The stored documents of a full page ({format: bytes}), of ``formats`` only if
        given; empty if none yet."""
        query = select(archive_documents.c.format, archive_documents.c.body).where(
            archive_documents.c.language == language, archive_documents.c.page == page
        )
        if formats is not None:
            query = query.where(archive_documents.c.format.in_(list(formats)))
        with self.store.engine.connect() as conn:
            return {row.format: bytes(row.body) for row in conn.execute(query)}

    def frozen_sizes(self, language: Lang) -> dict[tuple[int, str], int]:
        """{(page, format): size in bytes} of every stored document, without loading them."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(
                    archive_documents.c.page, archive_documents.c.format, func.length(archive_documents.c.body)
                ).where(archive_documents.c.language == language)
            )
            return {(int(page), str(fmt)): int(size) for page, fmt, size in rows}

    def freeze(self, language: Lang, page: int, documents: Mapping[str, bytes]) -> dict[str, bytes]:
        """Store a full page's documents once; return what is stored (the first writer's).

        A format that is already stored keeps its bytes; a new format is added.
        """
        self._ensure_state(language)
        with self.store.transaction() as conn:
            self._lock(conn, language)
            stored = {
                row.format: bytes(row.body)
                for row in conn.execute(
                    select(archive_documents.c.format, archive_documents.c.body).where(
                        archive_documents.c.language == language, archive_documents.c.page == page
                    )
                )
            }
            for fmt, body in documents.items():
                if fmt not in stored:
                    conn.execute(archive_documents.insert().values(language=language, page=page, format=fmt, body=body))
                    stored[fmt] = body
        logger.debug("archive page %s/%d frozen (%s)", language, page, ", ".join(sorted(stored)))
        return stored

    def refreeze(self, language: Lang, page: int, documents: Mapping[str, bytes]) -> dict[str, bytes]:
        """Replace a full page's stored documents of the formats given (a language it
        links to first exists: the one change a frozen page takes); return them. Its
        other formats (the feeds' when the page index's page is frozen again, and the
        other way round) are left as they are."""
        self._ensure_state(language)
        with self.store.transaction() as conn:
            self._lock(conn, language)
            conn.execute(
                archive_documents.delete().where(
                    archive_documents.c.language == language,
                    archive_documents.c.page == page,
                    archive_documents.c.format.in_(list(documents)),
                )
            )
            for fmt, body in documents.items():
                conn.execute(archive_documents.insert().values(language=language, page=page, format=fmt, body=body))
        logger.debug("archive page %s/%d frozen again (%s)", language, page, ", ".join(sorted(documents)))
        return dict(documents)


__all__ = ["ArchivePage", "FeedHistory", "FeedLayout"]
