from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from syndicate.store import SqliteStore


def test_store_from_an_older_version_gains_new_columns(tmp_path: Path) -> None:
    """A memory table without the `rejected` column (the first release's) is upgraded in place."""
    db = tmp_path / "syndicate.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE memory (key VARCHAR(64) PRIMARY KEY, engine VARCHAR(40) NOT NULL, model TEXT NOT NULL,"
            " source_language VARCHAR(35) NOT NULL, target_language VARCHAR(35) NOT NULL, source_text TEXT NOT NULL,"
            " target_text TEXT NOT NULL, created DATETIME NOT NULL)"
        )
    store = SqliteStore.open(tmp_path)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    store.memory_put("apertium", "m", "en", "es", [("Hello.", "Hola.")], now)
    assert store.memory_get("apertium", "m", "en", "es", ["Hello."]) == ({"Hello.": "Hola."}, set())
    store.close()
    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(memory)")]
    assert "rejected" in columns
