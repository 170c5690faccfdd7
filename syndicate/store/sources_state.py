"""Per-source fetch state: HTTP validators, the walk's resume point and the last poll's outcome.

Beside it, :class:`ReportedProblems` remembers which problems were already reported (a
failing entry, languages no engine serves), so a problem that recurs on every poll is
logged once per change, not once per poll.

One row per source, written once at the end of each poll (in one transaction, so a kill
at any moment leaves the previous poll's row or this one, never a mix). The scheduler
writes it; ``syndicate status`` reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TYPE_CHECKING

from sqlalchemy import select

from syndicate.store.schema import reported_problem, source_state

if TYPE_CHECKING:
    from syndicate.store.base import Store

#: What a poll can end as.
OUTCOMES = ("ok", "not-modified", "partial", "failed", "interrupted")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class SourceStatus:
    """A source's row: what it remembers and how its last poll went."""

    source: str
    etag: str | None = None
    last_modified: str | None = None
    cursor: Mapping[str, Any] = field(default_factory=dict)
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
        """Store one poll's outcome and the source's new fetch state, atomically."""
        if record.outcome not in OUTCOMES:
            raise ValueError(f"unknown poll outcome {record.outcome!r}")
        succeeded = record.outcome in ("ok", "not-modified", "partial")
        with self.store.transaction() as conn:
            row = conn.execute(select(source_state).where(source_state.c.source == source)).mappings().first()
            old = _status(row) if row else SourceStatus(source=source)
            new = replace(
                old,
                etag=record.etag,
                last_modified=record.last_modified,
                cursor=dict(record.cursor),
                last_poll=record.started,
                last_success=record.started if succeeded else old.last_success,
                duration=round(record.duration, 3),
                outcome=record.outcome,
                items_new=record.items_new,
                items_updated=record.items_updated,
                items_failed=record.items_failed,
                next_poll=record.next_poll or old.next_poll,
                last_error=record.error,
                failures_in_row=0 if record.outcome != "failed" else old.failures_in_row + 1,
                polls=old.polls + 1,
            )
            values = _values(new)
            if row is None:
                conn.execute(source_state.insert().values(source=source, **values))
            else:
                conn.execute(source_state.update().where(source_state.c.source == source).values(**values))
        return new

    def set_next_poll(self, source: str, when: datetime | None) -> None:
        with self.store.transaction() as conn:
            updated = conn.execute(
                source_state.update().where(source_state.c.source == source).values(next_poll=when)
            ).rowcount
            if not updated:
                conn.execute(source_state.insert().values(source=source, next_poll=when, cursor="{}"))


class ReportedProblems:
    """Which problems were reported, so that a recurring one is logged once per change.

    The rows are read once per instance (one per pass); a problem seen again unchanged,
    or a success with nothing to forget, writes nothing.
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
        where = (reported_problem.c.scope == key[0]) & (reported_problem.c.subject == key[1])
        with self.store.transaction() as conn:
            if old is None:
                conn.execute(reported_problem.insert().values(scope=key[0], subject=key[1], fingerprint=fingerprint))
            else:
                conn.execute(reported_problem.update().where(where).values(fingerprint=fingerprint))
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
                conn.execute(reported_problem.delete().where(
                    (reported_problem.c.scope == scope[:200]) & reported_problem.c.subject.in_(gone[start:start + 500])
                ))
        for subject in gone:
            known.pop((scope[:200], subject), None)


def _values(status: SourceStatus) -> dict[str, Any]:
    return {
        "etag": status.etag,
        "last_modified": status.last_modified,
        "cursor": json.dumps(dict(status.cursor), sort_keys=True, ensure_ascii=False),
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
        last_poll=_utc(row["last_poll"]),
        last_success=_utc(row["last_success"]),
        duration=row["duration"],
        outcome=row["outcome"],
        items_new=row["items_new"] or 0,
        items_updated=row["items_updated"] or 0,
        items_failed=row["items_failed"] or 0,
        next_poll=_utc(row["next_poll"]),
        last_error=row["last_error"],
        failures_in_row=row["failures_in_row"] or 0,
        polls=row["polls"] or 0,
    )
