"""Bookkeeping out of the places it was kept in: ``source_state.reader`` and ``translate_state``.

- How a source was read (the reader fingerprint a poll compares to decide whether to
  read the source in full) was kept under the key ``_reader`` inside the source's own
  cursor; it moves to the column ``source_state.reader``, and the cursor keeps only
  what the source wrote.
- The settings a language's translations were last checked under were kept as
  ``reported_problem`` rows of scope ``translate-settings``; they move to the new table
  ``translate_state`` (one row per language), which also lists the articles such a check
  found translated from another source language, until they are redone (none for the rows
  carried over: the pass that recorded them went over every article).

Both values are carried over as they were (``translate_state.fingerprint`` holds the same
digest the problem row did), so the first run after the upgrade neither reads a source
again nor checks every article again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Where revision 0004 kept the two values.
READER_KEY = "_reader"
SETTINGS_SCOPE = "translate-settings"

source_state = sa.table("source_state", sa.column("source"), sa.column("cursor"), sa.column("reader"))
reported_problem = sa.table("reported_problem", sa.column("scope"), sa.column("subject"), sa.column("fingerprint"))
translate_state = sa.table("translate_state", sa.column("language"), sa.column("fingerprint"))


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if "reader" not in {c["name"] for c in inspector.get_columns("source_state")}:
        op.add_column("source_state", sa.Column("reader", sa.String(64)))
    for source, cursor in bind.execute(sa.select(source_state.c.source, source_state.c.cursor)).all():
        state = json.loads(cursor or "{}")
        if not isinstance(state, dict) or READER_KEY not in state:
            continue
        reader = state.pop(READER_KEY)
        bind.execute(
            source_state.update()
            .where(source_state.c.source == source)
            .values(
                cursor=json.dumps(state, sort_keys=True, ensure_ascii=False),  # as the store writes it
                reader=str(reader)[:64] if reader is not None else None,
            )
        )

    if "translate_state" not in inspector.get_table_names():
        op.create_table(
            "translate_state",
            sa.Column("language", sa.String(35), nullable=False),
            sa.Column("fingerprint", sa.String(64), nullable=False),
            sa.Column("recheck", sa.Text(), nullable=False, server_default="[]"),
            sa.PrimaryKeyConstraint("language", name="pk_translate_state"),
        )
    moved = bind.execute(
        sa.select(reported_problem.c.subject, reported_problem.c.fingerprint).where(
            reported_problem.c.scope == SETTINGS_SCOPE
        )
    ).all()
    known = set(bind.execute(sa.select(translate_state.c.language)).scalars())
    # A subject longer than a language code never named one: dropped, not carried.
    rows = [{"language": s, "fingerprint": f} for s, f in moved if len(s) <= 35 and s not in known]
    if rows:
        bind.execute(translate_state.insert(), rows)
    bind.execute(reported_problem.delete().where(reported_problem.c.scope == SETTINGS_SCOPE))


def downgrade() -> None:
    bind = op.get_bind()
    for source, cursor, reader in bind.execute(
        sa.select(source_state.c.source, source_state.c.cursor, source_state.c.reader)
    ).all():
        if reader is None:
            continue
        state = {**json.loads(cursor or "{}"), READER_KEY: reader}
        bind.execute(
            source_state.update()
            .where(source_state.c.source == source)
            .values(cursor=json.dumps(state, sort_keys=True, ensure_ascii=False))
        )
    with op.batch_alter_table("source_state") as batch:
        batch.drop_column("reader")

    rows = [
        {"scope": SETTINGS_SCOPE, "subject": language, "fingerprint": fingerprint}
        for language, fingerprint in bind.execute(sa.select(translate_state.c.language, translate_state.c.fingerprint))
    ]
    bind.execute(reported_problem.delete().where(reported_problem.c.scope == SETTINGS_SCOPE))
    if rows:
        bind.execute(reported_problem.insert(), rows)
    op.drop_table("translate_state")
