"""Per-source fetch state: HTTP validators, the walk's resume point and the last poll's outcome.

Beside it, :class:`ReportedProblems` remembers which problems were already reported (a
failing entry, languages no engine serves), so a problem that recurs on every poll is
logged once per change, not once per poll.

The cursor is the source's own; beside it, ``reader`` says how it was read (the
settings and extractor revision), so that a poll reading another way starts afresh.

One row per source, written once at the end of each poll (in one transaction, so a kill
at any moment leaves the previous poll's row or this one, never a mix). The scheduler
writes it; ``syndicate status`` reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from syndicate.store.rows import insert, utc
from syndicate.store.schema import reported_problem, source_state

if TYPE_CHECKING:
    from syndicate.store.base import Store

#: What a poll can end as.
OUTCOMES = ("ok", "not-modified", "partial", "failed", "interrupted")


@dataclass(frozen=True)
class SourceStatus:
    """A source's row: what it remembers and how its last poll went."""

    source: str
    etag: str | None = None
    last_modified: str | None = None
    cursor: Mapping[str, Any] = field(default_factory=dict)
    #: The fingerprint of how the validators and cursor were read (None: never polled).
    reader: str | None = None
    last_poll: datetime | None = None
    last_success: datetime | None = None
    duration: float | None = None
    outcome: str | None = None
    items_new: int = 0
    items_updated: int = 0
    items_failed: int = 0
    next_poll: datetime | None = None
    last_error: str | None = None
    failures_in_row: int = 0
    polls: int = 0


@dataclass(frozen=True)
class PollRecord:
    """What one poll did, as the scheduler records it."""

    started: datetime
    duration: float
    outcome: str
    items_new: int = 0
    items_updated: int = 0
    items_failed: int = 0
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    cursor: Mapping[str, Any] = field(default_factory=dict)
    #: How the source was read: a later poll reading it another way starts afresh.
    reader: str | None = None
    next_poll: datetime | None = None


class SourceStateStore:
    """Reads and writes ``source_state`` through a :class:`Store`'s engine."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, source: str) -> SourceStatus:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(source_state).where(source_state.c.source == source)).mappings().first()
        return _status(row) if row else SourceStatus(source=source)

    def all(self) -> dict[str, SourceStatus]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(source_state).order_by(source_state.c.source)).mappings().all()
        return {row["source"]: _status(row) for row in rows}

    def record_poll(self, source: str, record: PollRecord) -> SourceStatus:
        """Store one poll's outcome and the source's new fetch state, atomically.

        One ``INSERT ... ON CONFLICT DO UPDATE``: the running fields (polls, failures in a
        row, last success, next poll) are computed from the row as it is when the write
        lands, so two pollers of one source never fail on the primary key or lose a count.
        """
        if record.outcome not in OUTCOMES:
            raise ValueError(f"unknown poll outcome {record.outcome!r}")
        succeeded = record.outcome in ("ok", "not-modified", "partial")
        failed = record.outcome == "failed"
        first = replace(
            SourceStatus(source=source),
            etag=record.etag,
            last_modified=record.last_modified,
            cursor=dict(record.cursor),
            reader=record.reader,
            last_poll=record.started,
            last_success=record.started if succeeded else None,
            duration=round(record.duration, 3),
            outcome=record.outcome,
            items_new=record.items_new,
            items_updated=record.items_updated,
            items_failed=record.items_failed,
            next_poll=record.next_poll,
            last_error=record.error,
            failures_in_row=1 if failed else 0,
            polls=1,
        )
        values = _values(first)  # the cursor encoded once: a folder's lists 10,000s of files
        with self.store.transaction() as conn:
            stmt = insert(conn, source_state).values(source=source, **values)
            new = stmt.excluded
            kept = {k: new[k] for k in values if k not in _RUNNING}
            stmt = stmt.on_conflict_do_update(
                index_elements=["source"],
                set_={
                    **kept,
                    "last_success": func.coalesce(new.last_success, source_state.c.last_success),
                    "next_poll": func.coalesce(new.next_poll, source_state.c.next_poll),
                    "failures_in_row": source_state.c.failures_in_row + 1 if failed else 0,
                    "polls": source_state.c.polls + 1,
                },
            ).returning(*(source_state.c[k] for k in sorted(_RUNNING)))
            row = conn.execute(stmt).mappings().one()
        # The rest is what was just written: not read back (nor its cursor decoded again).
        return replace(
            first,
            last_success=utc(row["last_success"]),
            next_poll=utc(row["next_poll"]),
            failures_in_row=row["failures_in_row"] or 0,
            polls=row["polls"] or 0,
        )

    def set_next_poll(self, source: str, when: datetime | None) -> None:
        with self.store.transaction() as conn:
            stmt = insert(conn, source_state).values(source=source, next_poll=when, cursor="{}")
            conn.execute(
                stmt.on_conflict_do_update(index_elements=["source"], set_={"next_poll": stmt.excluded.next_poll})
            )


#: Fields a poll's write derives from the row already there.
_RUNNING = frozenset({"last_success", "next_poll", "failures_in_row", "polls"})


class ReportedProblems:
    """Which problems were reported, so that a recurring one is logged once per change.

    The rows are read once per instance (``store.problems`` lives as long as the store);
    a problem seen again unchanged, or a success with nothing to forget, writes nothing.
    Another process reporting the same problem meanwhile costs one more log line at most:
    the write is an upsert, never a unique-constraint failure.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._known: dict[tuple[str, str], str] | None = None

    def _rows(self) -> dict[tuple[str, str], str]:
        if self._known is None:
            with self.store.engine.connect() as conn:
                rows = conn.execute(select(reported_problem)).mappings().all()
            self._known = {(row["scope"], row["subject"]): row["fingerprint"] for row in rows}
        return self._known

    def is_new(self, scope: str, subject: str, *parts: str) -> bool:
        """Remember the problem; True unless the same one (same inputs) was reported before."""
        fingerprint = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
        key = (scope[:200], subject[:500])
        known = self._rows()
        old = known.get(key)
        if old == fingerprint:
            return False
        with self.store.transaction() as conn:
            # Another process may have reported it since this one read the rows.
            stmt = insert(conn, reported_problem).values(scope=key[0], subject=key[1], fingerprint=fingerprint)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["scope", "subject"], set_={"fingerprint": stmt.excluded.fingerprint}
                )
            )
        known[key] = fingerprint
        return True

    def forget(self, scope: str, subjects: Iterable[str]) -> None:
        """These problems are gone (the items were read, the pair is served): report them if they return."""
        known = self._rows()
        gone = [subject[:500] for subject in subjects if (scope[:200], subject[:500]) in known]
        if not gone:
            return
        with self.store.transaction() as conn:
            for start in range(0, len(gone), 500):
                conn.execute(
                    reported_problem.delete().where(
                        (reported_problem.c.scope == scope[:200])
                        & reported_problem.c.subject.in_(gone[start : start + 500])
                    )
                )
        for subject in gone:
            known.pop((scope[:200], subject), None)


def _values(status: SourceStatus) -> dict[str, Any]:
    return {
        "etag": status.etag,
        "last_modified": status.last_modified,
        "cursor": json.dumps(dict(status.cursor), sort_keys=True, ensure_ascii=False),
        "reader": status.reader,
        "last_poll": status.last_poll,
        "last_success": status.last_success,
        "duration": status.duration,
        "outcome": status.outcome,
        "items_new": status.items_new,
        "items_updated": status.items_updated,
        "items_failed": status.items_failed,
        "next_poll": status.next_poll,
        "last_error": status.last_error,
        "failures_in_row": status.failures_in_row,
        "polls": status.polls,
    }


def _status(row: Any) -> SourceStatus:
    return SourceStatus(
        source=row["source"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        cursor=json.loads(row["cursor"] or "{}"),
        reader=row["reader"],
        last_poll=utc(row["last_poll"]),
        last_success=utc(row["last_success"]),
        duration=row["duration"],
        outcome=row["outcome"],
        items_new=row["items_new"] or 0,
        items_updated=row["items_updated"] or 0,
        items_failed=row["items_failed"] or 0,
        next_poll=utc(row["next_poll"]),
        last_error=row["last_error"],
        failures_in_row=row["failures_in_row"] or 0,
        polls=row["polls"] or 0,
    )
