"""Alembic's entry point: runs on the connection :func:`syndicate.store.migrations.upgrade` hands it."""

from __future__ import annotations

from alembic import context

from syndicate.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    raise RuntimeError("syndicate's migrations run from Store; there is no alembic.ini to read a URL from")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
