"""The translation memory: one row per (engine, model, language pair, segment, rules).

A segment's *rules* are what its translation depended on besides its text: the
protected terms it had (its names, glossary entries, numbers' target forms) and how
engines are given them (:func:`syndicate.translate.service.rules_digest`). A change to any
of them makes a new key, so a changed glossary or name list never gets the old wording
back from the memory, and segments it does not touch keep theirs.

A segment's first translation wins (``INSERT ... ON CONFLICT DO NOTHING``), so two
translators of the same segment at once both succeed and the memory keeps one row;
``replace=True`` (``syndicate retranslate``) overwrites instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from syndicate.store.rows import insert
from syndicate.store.schema import memory

if TYPE_CHECKING:
    from syndicate.store.base import Store
    from syndicate.translate.service import MemoryEntry

#: Rows per statement: SQLite's bound-parameter limit is far above this, and so is PostgreSQL's.
_BATCH = 500
_SEP = "\x1f"


def memory_key(engine: str, model: str, source: str, target: str, segment: str, rules: str = "") -> str:
    """The row key; without ``rules`` the key rows had before rules counted."""
    parts = [engine, model, source, target, segment, *([rules] if rules else [])]
    return hashlib.sha256(_SEP.join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class MemoryRepository:
    """The ``memory`` table: the segment cache translation reads."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(
        self, engine: str, model: str, source: str, target: str, items: Sequence[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], MemoryEntry], set[tuple[str, str]]]:
        """Look (segment, rules) items up: ({item: entry} for hits, {items this engine failed})."""
        from syndicate.translate.service import MemoryEntry

        keys = {memory_key(engine, model, source, target, s, r): (s, r) for s, r in set(items)}
        found: dict[tuple[str, str], MemoryEntry] = {}
        rejected: set[tuple[str, str]] = set()
        batch = list(keys)
        columns = (memory.c.key, memory.c.target_text, memory.c.rejected, memory.c.confidence, memory.c.unknown)
        with self.store.connect() as conn:
            for i in range(0, len(batch), _BATCH):
                for key, target_text, reason, confidence, unknown in conn.execute(
                    select(*columns).where(memory.c.key.in_(batch[i : i + _BATCH]))
                ):
                    if reason:
                        rejected.add(keys[key])
                    else:
                        words = tuple(w for w in (unknown or "").split(_SEP) if w)
                        found[keys[key]] = MemoryEntry(target_text, confidence, words)
        return found, rejected

    def put(
        self,
        engine: str,
        model: str,
        source: str,
        target: str,
        rows: Sequence[tuple[tuple[str, str], MemoryEntry, str]],
        now: datetime,
        *,
        replace: bool = False,
    ) -> None:
        """Remember ((segment, rules), entry, rejected reason or "") rows; ``replace``
        overwrites what is there (a translation made again on purpose)."""
        values = {
            memory_key(engine, model, source, target, segment, rules): {
                "key": memory_key(engine, model, source, target, segment, rules),
                "engine": engine,
                "model": model,
                "source_language": source,
                "target_language": target,
                "source_text": segment,
                "target_text": entry.text,
                "rejected": reason,
                "created": now,
                "rules": rules,
                "confidence": entry.confidence,
                "unknown": _SEP.join(entry.unknown),
            }
            for (segment, rules), entry, reason in rows
        }
        if not values:
            return
        batch = list(values.values())
        with self.store.transaction() as conn:
            stmt = insert(conn, memory)
            if replace:
                stmt = stmt.on_conflict_do_update(
                    index_elements=["key"],
                    set_={c: stmt.excluded[c] for c in ("target_text", "rejected", "created", "confidence", "unknown")},
                )
            else:
                stmt = stmt.on_conflict_do_nothing(index_elements=["key"])
            for i in range(0, len(batch), _BATCH):
                conn.execute(stmt, batch[i : i + _BATCH])
