"""The store's schema as release 2c050c3 left it, frozen: revision 0001 creates it.

A store older than the migrations (tables, no ``alembic_version``) is brought to this
schema by :func:`bring_to_baseline` (the releases before added columns in place, and the
oldest stores lack some), then stamped 0001 and upgraded like any other. Never edit this
module: a change to the schema is a new revision under ``versions/``.
"""

from __future__ import annotations

import logging

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    literal,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from syndicate.errors import StoreError

logger = logging.getLogger(__name__)

#: The same constraint names as :data:`syndicate.store.schema.metadata` gives.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("key", String(1000), nullable=False),
    Column("slug", String(120), nullable=False, unique=True),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("prev_url", Text),
    Column("prev_title", Text),
    Column("next_url", Text),
    Column("next_title", Text),
    Column("language", String(35)),
    Column("published", DateTime(timezone=True)),
    Column("content_hash", String(64), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source", "key", name="uq_article_source_key"),
)
Table(
    "translations",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("language", String(35), primary_key=True),
    Column("engine", String(40), nullable=False),
    Column("model", Text, nullable=False, default=""),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("source_hash", String(64), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)
Table(
    "memory",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("engine", String(40), nullable=False),
    Column("model", Text, nullable=False),
    Column("source_language", String(35), nullable=False),
    Column("target_language", String(35), nullable=False),
    Column("source_text", Text, nullable=False),
    Column("target_text", Text, nullable=False),
    Column("rejected", String(200), nullable=False, default=""),
    Column("created", DateTime(timezone=True), nullable=False),
)
Table(
    "stats",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("engine", String(40), primary_key=True),
    Column("name", String(40), primary_key=True),
    Column("value", Integer, nullable=False, default=0),
)
Table(
    "source_state",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("cursor", Text, nullable=False, default="{}"),
    Column("last_poll", DateTime(timezone=True)),
    Column("last_success", DateTime(timezone=True)),
    Column("duration", Float),
    Column("outcome", String(20)),
    Column("items_new", Integer, nullable=False, default=0),
    Column("items_updated", Integer, nullable=False, default=0),
    Column("items_failed", Integer, nullable=False, default=0),
    Column("next_poll", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("failures_in_row", Integer, nullable=False, default=0),
    Column("polls", Integer, nullable=False, default=0),
)
Table(
    "reported_problem",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("subject", String(500), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)
Table(
    "feed_state",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("next_seq", Integer, nullable=False),
)
Table(
    "feed_log",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("page", Integer),
    UniqueConstraint("language", "seq", name="uq_feed_log_language_seq"),
)
Table(
    "archive_pages",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("page", Integer, primary_key=True),
    Column("capacity", Integer, nullable=False),
)
Table(
    "archive_documents",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("page", Integer, primary_key=True),
    Column("format", String(16), primary_key=True),
    Column("body", LargeBinary, nullable=False),
)
Table(
    "websub_subscription",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("hub", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("secret", String(200), nullable=False),
    Column("state", String(20), nullable=False),
    Column("pending", String(20)),
    Column("requested", DateTime(timezone=True)),
    Column("lease_seconds", Integer),
    Column("expires", DateTime(timezone=True)),
    Column("last_delivery", DateTime(timezone=True)),
    Column("deliveries", Integer, nullable=False, default=0),
    Column("last_error", Text),
)
Table(
    "websub_hub",
    metadata,
    Column("hub", String(1000), primary_key=True),
    Column("last_ping", DateTime(timezone=True)),
    Column("last_success", DateTime(timezone=True)),
    Column("outcome", String(20)),
    Column("last_error", Text),
    Column("pings_ok", Integer, nullable=False, default=0),
    Column("pings_failed", Integer, nullable=False, default=0),
)


def bring_to_baseline(conn: Connection) -> None:
    """Make a store older than the migrations hold release 2c050c3's schema.

    Releases before it created missing tables and added missing columns (all with
    defaults) on every start; that is done once more here, for the last time.
    """
    metadata.create_all(conn, checkfirst=True)
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            default = column.default.arg if isinstance(column.default, ScalarElementColumnDefault) else None
            if default is None and not column.nullable:
                raise StoreError(f"cannot upgrade the store: {table.name}.{column.name} has no default")
            kind = column.type.compile(dialect=conn.dialect)
            clause = ""
            if default is not None:
                value = literal(default, column.type).compile(
                    dialect=conn.dialect, compile_kwargs={"literal_binds": True}
                )
                clause = f" NOT NULL DEFAULT {value}"
            logger.info("upgrading the store: adding %s.%s", table.name, column.name)
            conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{clause}'))
