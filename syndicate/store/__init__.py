"""The state store: articles, translations, the translation memory.

SQLAlchemy Core over SQLite by default (``<state_dir>/syndicate.db``); any SQLAlchemy URL
works, so PostgreSQL is a URL away. Uniqueness constraints (source + key, article +
language, memory key) make every stage's write idempotent.
"""

from syndicate.store.sqlite import SqliteStore

__all__ = ["SqliteStore"]
