"""WebSub state: our subscriptions to upstream hubs, and how pinging our own hubs went.

- ``websub_subscription``: one row per source subscribed (or being subscribed) to its
  feed's hub: the topic and hub, the per-subscription secret deliveries are signed with,
  the mode we asked the hub to verify (``pending``), the lease and the last delivery.
  The callback answers a verification only for the topic and mode a row asks for.
- ``websub_hub``: one row per hub of ``[publish] websub_hubs``: the last ping's outcome.

Both are read by the status page, so a ``syndicate serve`` beside a separate daemon
shows them too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.engine import Connection

from syndicate.store.rows import insert
from syndicate.store.schema import websub_hub, websub_subscription

if TYPE_CHECKING:
    from syndicate.store.base import Store

#: What a subscription can be: being verified, verified, refused by the hub, failed to ask.
STATES = ("subscribing", "active", "unsubscribing", "denied", "failed")


def _upsert(conn: Connection, table: Table, key: str, values: dict[str, Any]) -> Any:
    """``INSERT ... ON CONFLICT (key) DO UPDATE``, on SQLite and PostgreSQL alike."""
    stmt = insert(conn, table).values(**values)
    return stmt.on_conflict_do_update(index_elements=[key], set_={k: v for k, v in values.items() if k != key})


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Subscription:
    """One source's subscription to its feed's hub."""

    source: str
    hub: str
    topic: str
    secret: str
    state: str
    pending: str | None = None
    requested: datetime | None = None
    lease_seconds: int | None = None
    expires: datetime | None = None
    last_delivery: datetime | None = None
    deliveries: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class HubPing:
    """How pinging one of our hubs went, last time and in total."""

    hub: str
    last_ping: datetime | None = None
    last_success: datetime | None = None
    outcome: str | None = None
    last_error: str | None = None
    pings_ok: int = 0
    pings_failed: int = 0


def _subscription(row: Any) -> Subscription:
    return Subscription(
        source=row["source"],
        hub=row["hub"],
        topic=row["topic"],
        secret=row["secret"],
        state=row["state"],
        pending=row["pending"],
        requested=_utc(row["requested"]),
        lease_seconds=row["lease_seconds"],
        expires=_utc(row["expires"]),
        last_delivery=_utc(row["last_delivery"]),
        deliveries=row["deliveries"] or 0,
        last_error=row["last_error"],
    )


class WebSubStore:
    """Reads and writes the WebSub tables through a :class:`Store`'s engine."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- subscriptions ---------------------------------------------------------------

    def get(self, source: str) -> Subscription | None:
        with self.store.engine.connect() as conn:
            row = (
                conn.execute(select(websub_subscription).where(websub_subscription.c.source == source))
                .mappings()
                .first()
            )
        return _subscription(row) if row else None

    def all(self) -> dict[str, Subscription]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(websub_subscription).order_by(websub_subscription.c.source)).mappings().all()
        return {row["source"]: _subscription(row) for row in rows}

    def put(self, sub: Subscription) -> Subscription:
        """Insert or replace a source's subscription row."""
        values = {
            "source": sub.source,
            "hub": sub.hub,
            "topic": sub.topic,
            "secret": sub.secret,
            "state": sub.state,
            "pending": sub.pending,
            "requested": sub.requested,
            "lease_seconds": sub.lease_seconds,
            "expires": sub.expires,
            "last_delivery": sub.last_delivery,
            "deliveries": sub.deliveries,
            "last_error": sub.last_error,
        }
        with self.store.transaction() as conn:
            conn.execute(_upsert(conn, websub_subscription, "source", values))
        return sub

    def update(self, source: str, **changes: Any) -> Subscription | None:
        """Change some fields of a source's row; None when it has none."""
        current = self.get(source)
        if current is None:
            return None
        return self.put(replace(current, **changes))

    def remove(self, source: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(delete(websub_subscription).where(websub_subscription.c.source == source))

    # -- our hubs ----------------------------------------------------------------------

    def record_ping(self, hub: str, *, ok: bool, when: datetime, error: str | None = None) -> None:
        """One ping to ``hub`` (after its retries) succeeded or failed."""
        with self.store.transaction() as conn:
            stmt = insert(conn, websub_hub).values(
                hub=hub,
                last_ping=when,
                outcome="ok" if ok else "failed",
                last_success=when if ok else None,
                last_error=None if ok else error,
                pings_ok=1 if ok else 0,
                pings_failed=0 if ok else 1,
            )
            new = stmt.excluded
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["hub"],
                    set_={
                        "last_ping": new.last_ping,
                        "outcome": new.outcome,
                        "last_error": new.last_error,
                        "last_success": func.coalesce(new.last_success, websub_hub.c.last_success),
                        "pings_ok": websub_hub.c.pings_ok + new.pings_ok,
                        "pings_failed": websub_hub.c.pings_failed + new.pings_failed,
                    },
                )
            )

    def hubs(self) -> dict[str, HubPing]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(websub_hub).order_by(websub_hub.c.hub)).mappings().all()
        return {
            row["hub"]: HubPing(
                hub=row["hub"],
                last_ping=_utc(row["last_ping"]),
                last_success=_utc(row["last_success"]),
                outcome=row["outcome"],
                last_error=row["last_error"],
                pings_ok=row["pings_ok"] or 0,
                pings_failed=row["pings_failed"] or 0,
            )
            for row in rows
        }


__all__ = ["STATES", "HubPing", "Subscription", "WebSubStore"]
