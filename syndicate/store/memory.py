"""The translation memory: one row per (engine, model, language pair, segment).

A segment's first translation wins (``INSERT ... ON CONFLICT DO NOTHING``), so two
translators of the same segment at once both succeed and the memory keeps one row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from syndicate.store.rows import insert
from syndicate.store.schema import memory

if TYPE_CHECKING:
    from syndicate.store.base import Store

#: Rows per statement: SQLite's bound-parameter limit is far above this, and so is PostgreSQL's.
_BATCH = 500


def memory_key(engine: str, model: str, source: str, target: str, segment: str) -> str:
    return hashlib.sha256(f"{engine}\x1f{model}\x1f{source}\x1f{target}\x1f{segment}".encode()).hexdigest()


class MemoryRepository:
    """The ``memory`` table: the segment cache :class:`~syndicate.translate.memory.TranslationMemory` reads."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(
        self, engine: str, model: str, source: str, target: str, segments: Iterable[str]
    ) -> tuple[dict[str, str], set[str]]:
        """Look segments up: ({segment: translation} for hits, {segments this engine failed})."""
        keys = {memory_key(engine, model, source, target, s): s for s in set(segments)}
        found: dict[str, str] = {}
        rejected: set[str] = set()
        batch = list(keys)
        with self.store.connect() as conn:
            for i in range(0, len(batch), _BATCH):
                for key, target_text, reason in conn.execute(
                    select(memory.c.key, memory.c.target_text, memory.c.rejected).where(
                        memory.c.key.in_(batch[i : i + _BATCH])
                    )
                ):
                    if reason:
                        rejected.add(keys[key])
                    else:
                        found[keys[key]] = target_text
        return found, rejected

    def put(
        self,
        engine: str,
        model: str,
        source: str,
        target: str,
        pairs: Sequence[tuple[str, str]],
        now: datetime,
        *,
        rejected: Mapping[str, str] | None = None,
    ) -> None:
        """Remember translations; ``rejected`` maps segment -> guard that refused it."""
        rejected = rejected or {}
        rows = [
            {
                "key": memory_key(engine, model, source, target, segment),
                "engine": engine,
                "model": model,
                "source_language": source,
                "target_language": target,
                "source_text": segment,
                "target_text": translated,
                "rejected": rejected.get(segment, ""),
                "created": now,
            }
            for segment, translated in dict(pairs).items()
        ]
        if not rows:
            return
        with self.store.transaction() as conn:
            stmt = insert(conn, memory).on_conflict_do_nothing(index_elements=["key"])
            for i in range(0, len(rows), _BATCH):
                conn.execute(stmt, rows[i : i + _BATCH])
