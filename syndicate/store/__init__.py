"""The state store: articles, translations, the translation memory, per-source fetch state,
feed history (RFC 5005 archive pages).

SQLAlchemy Core over SQLite by default (``<state_dir>/syndicate.db``); any SQLAlchemy URL
works, so PostgreSQL is a URL away. Every table is declared in :mod:`syndicate.store.schema`;
uniqueness constraints (source + key, article + language, memory key) make every stage's
write idempotent.
"""

from syndicate.store.archive import FeedHistory
from syndicate.store.sqlite import SqliteStore

__all__ = ["FeedHistory", "SqliteStore"]
