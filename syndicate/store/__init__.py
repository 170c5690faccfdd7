"""The state store: articles, translations, the translation memory, per-source fetch state,
feed history (RFC 5005 archive pages).

SQLAlchemy Core over SQLite by default (``<state_dir>/syndicate.db``); any SQLAlchemy URL
works, so PostgreSQL is a URL away. Uniqueness constraints (source + key, article +
language, memory key) make every stage's write idempotent.
"""

from syndicate.store.sqlite import SqliteStore
from syndicate.store import sources_state  # noqa: F401  (registers its tables with the metadata before create_all)
from syndicate.store.archive import FeedHistory  # also registers its tables before create_all
from syndicate.store import websub  # noqa: F401  (its tables too)

__all__ = ["FeedHistory", "SqliteStore"]
