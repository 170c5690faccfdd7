"""Feed history (RFC 5005 archived feeds): which document each published entry lives in.

Per language, every entry gets a sequence number the first time it is published, and
leaves the subscription feed (oldest sequence first) once more than ``feed_size``
entries are waiting there. It then joins the newest archive page for good: membership is
stored, so an article that turns up late (backfill) or a change of order never moves an
entry between pages. A page holds ``capacity`` entries (the ``feed_size`` in force when
it was opened); the moment it is full the next, still empty, page is opened, so a full
page's ``next-archive`` link is final. The documents of a full page are rendered once
and stored here, zlib-compressed (:meth:`FeedHistory.freeze`): from then on they are
byte-for-byte what the publisher writes, whatever later changes to translations,
siblings or config.

Every method runs in one transaction that first takes a per-language lock (an UPDATE of
the language's ``feed_state`` row: SQLite's write lock, a row lock on PostgreSQL), so two
publishers of one language never interleave.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
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

#: zlib's level for frozen documents: a tenth or less of an XML or JSON feed page, at
#: about a millisecond a document (level 9 gains under 1% for twice the time).
COMPRESSION_LEVEL = 6


def _packed(body: bytes) -> dict[str, object]:
    """A document as its row stores it: compressed, with its own size."""
    return {"body": zlib.compress(body, COMPRESSION_LEVEL), "size": len(body)}


def _unpacked(body: bytes, size: int | None) -> bytes:
    """A stored document: decompressed, or as it is (stored before revision 0016)."""
    return bytes(body) if size is None else zlib.decompress(body)


def _stored(conn: Connection, language: Lang, page: int, formats: Collection[str] | None = None) -> dict[str, bytes]:
    """A page's stored documents ({format: bytes}), of ``formats`` only if given."""
    d = archive_documents.c
    query = select(d.format, d.body, d.size).where(d.language == language, d.page == page)
    if formats is not None:
        query = query.where(d.format.in_(list(formats)))
    return {row.format: _unpacked(row.body, row.size) for row in conn.execute(query)}


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
    """Where a language's published entries live: the subscription feed or a page.

    From :meth:`FeedHistory.place`, every page; from :meth:`FeedHistory.advance`, only
    the pages a change can reach (always the newest two), in order, numbers as stored.
    """

    current: tuple[int, ...]  # article ids in the subscription feed
    pages: tuple[ArchivePage, ...]  # oldest first; the last one is open (not full)
    #: Each listed entry's sequence number (its order of first publication): of every
    #: entry placed, or of those :meth:`FeedHistory.advance` was asked about and read.
    seqs: Mapping[int, int] = field(default_factory=dict)


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
            self._log_new(conn, language, [i for i in reversed(newest_first) if i not in log], next_seq, log)
            capacity = self._capacities(conn, language)
            members: dict[int, list[tuple[int, int]]] = {n: [] for n in capacity}
            waiting: list[tuple[int, int]] = []
            for article_id, (seq, page) in log.items():
                if page is None:
                    if article_id in present:
                        waiting.append((seq, article_id))
                else:
                    members.setdefault(page, []).append((seq, article_id))
            self._overflow(conn, language, waiting, feed_size, capacity, members)
        seqs = {aid: seq for aid, (seq, _) in log.items() if aid in present}
        return self._layout(capacity, capacity, members, waiting, seqs)

    def advance(
        self,
        language: Lang,
        new_oldest_first: Sequence[int],
        feed_size: int,
        touched: Collection[int],
        since_page: int = 0,
    ) -> FeedLayout:
        """:meth:`place` for a change alone, when no entry left the edition since the last
        publish (:mod:`syndicate.publish.delta`): log ``new_oldest_first`` (those not yet
        logged), move the overflow as :meth:`place` does, and return the layout of the
        pages that can differ from the last publish's: the newest two, those from
        ``since_page`` on (the newest when it last published: every page that filled
        since, even in a publish that failed before its end), and those holding an entry
        of ``touched``. Reads what the change reaches, not the log."""
        if feed_size < 1:
            raise ValueError("feed_size must be at least 1")
        self._ensure_state(language)
        asked = sorted({*new_oldest_first, *touched})
        with self.store.transaction() as conn:
            next_seq = self._lock(conn, language)
            log: dict[int, tuple[int, int | None]] = {}
            for start in range(0, len(asked), 500):
                for article_id, seq, page in plain_rows(
                    conn,
                    select(feed_log.c.article_id, feed_log.c.seq, feed_log.c.page).where(
                        feed_log.c.language == language, feed_log.c.article_id.in_(asked[start : start + 500])
                    ),
                ):
                    log[article_id] = (seq, page)
            self._log_new(conn, language, [i for i in new_oldest_first if i not in log], next_seq, log)
            capacity = self._capacities(conn, language)
            waiting = sorted(
                (seq, article_id)
                for article_id, seq in plain_rows(
                    conn,
                    select(feed_log.c.article_id, feed_log.c.seq).where(
                        feed_log.c.language == language, feed_log.c.page.is_(None)
                    ),
                )
            )
            newest = max(capacity, default=0)
            wanted = {n for n in (newest - 1, newest, *range(max(since_page, 1), newest + 1)) if n in capacity}
            wanted.update(page for _, page in log.values() if page is not None)
            members = self._members(conn, language, wanted)
            moved = self._overflow(conn, language, waiting, feed_size, capacity, members)
            wanted.update(moved)
        seqs = {aid: seq for aid, (seq, _) in log.items()}
        seqs.update((aid, seq) for n in wanted for seq, aid in members[n])
        seqs.update((aid, seq) for seq, aid in waiting)
        return self._layout(wanted, capacity, members, waiting, seqs)

    def newest_page(self, language: Lang) -> int:
        """The number of ``language``'s newest archive page (0: none yet)."""
        with self.store.engine.connect() as conn:
            found = conn.execute(
                select(func.max(archive_pages.c.page)).where(archive_pages.c.language == language)
            ).scalar()
        return int(found or 0)

    def last_seq(self, language: Lang) -> int:
        """The sequence number of ``language``'s newest logged entry (0: none yet)."""
        with self.store.engine.connect() as conn:
            found = conn.execute(select(feed_state.c.next_seq).where(feed_state.c.language == language)).scalar()
        return int(found) - 1 if found is not None else 0

    def by_seq(self, language: Lang, first: int, last: int) -> list[tuple[int, int]]:
        """(seq, article id) of ``language``'s logged entries numbered ``first`` to ``last``."""
        c = feed_log.c
        with self.store.engine.connect() as conn:
            return sorted(
                plain_rows(
                    conn,
                    select(c.seq, c.article_id).where(c.language == language, c.seq >= first, c.seq <= last),
                )
            )

    @staticmethod
    def _layout(
        numbers: Collection[int],
        capacity: Mapping[int, int],
        members: Mapping[int, list[tuple[int, int]]],
        waiting: Sequence[tuple[int, int]],
        seqs: Mapping[int, int],
    ) -> FeedLayout:
        """The layout of the archive pages ``numbers`` and of the entries ``waiting`` in the
        subscription feed, members by sequence number."""
        pages = tuple(
            ArchivePage(number=n, article_ids=tuple(aid for _, aid in sorted(members[n])), capacity=capacity[n])
            for n in sorted(numbers)
        )
        return FeedLayout(current=tuple(aid for _, aid in waiting), pages=pages, seqs=seqs)

    @staticmethod
    def _log_new(
        conn: Connection,
        language: Lang,
        oldest_first: Sequence[int],
        next_seq: int,
        log: dict[int, tuple[int, int | None]],
    ) -> None:
        """Give ``oldest_first`` (none logged yet) the next sequence numbers, in that order."""
        for article_id in oldest_first:
            conn.execute(feed_log.insert().values(language=language, article_id=article_id, seq=next_seq, page=None))
            log[article_id] = (next_seq, None)
            next_seq += 1
        conn.execute(feed_state.update().where(feed_state.c.language == language).values(next_seq=next_seq))

    @staticmethod
    def _capacities(conn: Connection, language: Lang) -> dict[int, int]:
        """{page number: capacity} of every archive page of ``language`` (a row per page)."""
        return {
            int(row.page): int(row.capacity)
            for row in conn.execute(
                select(archive_pages.c.page, archive_pages.c.capacity)
                .where(archive_pages.c.language == language)
                .order_by(archive_pages.c.page)
            )
        }

    @staticmethod
    def _members(conn: Connection, language: Lang, numbers: Collection[int]) -> dict[int, list[tuple[int, int]]]:
        """{page: [(seq, article id)]} of the archive pages ``numbers``."""
        members: dict[int, list[tuple[int, int]]] = {n: [] for n in numbers}
        if numbers:
            for article_id, seq, page in plain_rows(
                conn,
                select(feed_log.c.article_id, feed_log.c.seq, feed_log.c.page).where(
                    feed_log.c.language == language, feed_log.c.page.in_(sorted(numbers))
                ),
            ):
                members[page].append((seq, article_id))
        return members

    @staticmethod
    def _overflow(
        conn: Connection,
        language: Lang,
        waiting: list[tuple[int, int]],
        feed_size: int,
        capacity: dict[int, int],
        members: dict[int, list[tuple[int, int]]],
    ) -> set[int]:
        """Move the entries waiting beyond ``feed_size`` (``waiting`` sorted, oldest
        first, and left with the rest) into the open page, opening the next page the
        moment one is full; return the numbers of the pages that changed."""
        waiting.sort()
        changed: set[int] = set()

        def open_page(number: int) -> None:
            conn.execute(archive_pages.insert().values(language=language, page=number, capacity=feed_size))
            capacity[number] = feed_size
            members[number] = []
            changed.add(number)

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
            members.setdefault(newest, []).append((seq, article_id))
            changed.add(newest)
            if len(members[newest]) >= capacity[newest]:
                # Open the next page now, so the full one's next-archive link is final.
                open_page(newest + 1)
        return changed

    def frozen(self, language: Lang, page: int, formats: Collection[str] | None = None) -> dict[str, bytes]:
        """The stored documents of a full page ({format: bytes}), of ``formats`` only if
        given; empty if none yet."""
        with self.store.engine.connect() as conn:
            return _stored(conn, language, page, formats)

    def frozen_sizes(self, language: Lang) -> dict[tuple[int, str], int]:
        """{(page, format): size in bytes} of every stored document, without loading them."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(
                    archive_documents.c.page,
                    archive_documents.c.format,
                    func.coalesce(archive_documents.c.size, func.length(archive_documents.c.body)),
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
            stored = _stored(conn, language, page)
            for fmt, body in documents.items():
                if fmt not in stored:
                    conn.execute(
                        archive_documents.insert().values(language=language, page=page, format=fmt, **_packed(body))
                    )
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
                conn.execute(
                    archive_documents.insert().values(language=language, page=page, format=fmt, **_packed(body))
                )
        logger.debug("archive page %s/%d frozen again (%s)", language, page, ", ".join(sorted(documents)))
        return dict(documents)


__all__ = ["ArchivePage", "FeedHistory", "FeedLayout"]
