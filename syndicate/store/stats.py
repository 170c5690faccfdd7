"""Running counters per (language, engine, name): segments translated, memory hits, guard failures.

A bump is ``INSERT ... ON CONFLICT DO UPDATE SET value = value + excluded.value``: two
workers adding to one counter at once both count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy import select

from syndicate.store.rows import insert
from syndicate.store.schema import stats

if TYPE_CHECKING:
    from syndicate.store.base import Store


class StatsRepository:
    """The ``stats`` table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def bump(self, counts: Mapping[tuple[str, str, str], int]) -> None:
        """Add ``counts`` ((language, engine, name) -> n) to the running totals."""
        rows = [
            {"language": language, "engine": engine, "name": name, "value": n}
            for (language, engine, name), n in counts.items()
            if n
        ]
        if not rows:
            return
        with self.store.transaction() as conn:
            stmt = insert(conn, stats)
            stmt = stmt.on_conflict_do_update(
                index_elements=["language", "engine", "name"], set_={"value": stats.c.value + stmt.excluded.value}
            )
            conn.execute(stmt, rows)

    def all(self) -> dict[tuple[str, str], dict[str, int]]:
        """(language, engine) -> {counter: total}."""
        out: dict[tuple[str, str], dict[str, int]] = {}
        with self.store.connect() as conn:
            for language, engine, name, value in conn.execute(
                select(stats).order_by(stats.c.language, stats.c.engine, stats.c.name)
            ):
                out.setdefault((language, engine), {})[name] = value
        return out
