"""The state store: articles, translations, the translation memory, running stats,
per-source fetch state, feed history (RFC 5005 archive pages), WebSub state.

:class:`Store` holds one SQLAlchemy engine (SQLite by default, ``<state_dir>/syndicate.db``;
PostgreSQL by URL) and one small repository per table group (``store.articles``,
``store.translations``, ``store.memory``, ``store.stats``, ``store.sources``,
``store.problems``, ``store.history``, ``store.websub``). Every table is declared in
:mod:`syndicate.store.schema`; migrations are versioned under
:mod:`syndicate.store.migrations`; uniqueness constraints (source + key, article +
language, memory key) and ``INSERT ... ON CONFLICT`` make every stage's write idempotent.
"""

from syndicate.store.archive import FeedHistory
from syndicate.store.base import Store

__all__ = ["FeedHistory", "Store"]
