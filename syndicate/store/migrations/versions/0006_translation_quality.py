"""Translation quality and the rules a translation was made under.

- ``translations.confidence`` and ``translations.rules``: how far a translation can be
  trusted, and a digest of what it depended on (protected terms, code revisions, models),
  so a changed glossary, name list or engine redoes exactly the translations it affects.
- ``memory.rules``, ``memory.confidence``, ``memory.unknown``: a segment's memory entry is
  now keyed by its protected terms too, and keeps the engine's confidence in it.

Rows written before keep ``rules`` empty: no current translation matches it, so each
is redone once (from the engines: the memory entries they were made from did not know
which names were protected).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    have = _columns("translations")
    if "confidence" not in have:
        op.add_column("translations", sa.Column("confidence", sa.Float(), nullable=True))
    if "rules" not in have:
        op.add_column("translations", sa.Column("rules", sa.String(64), nullable=False, server_default=""))
    have = _columns("memory")
    if "rules" not in have:
        op.add_column("memory", sa.Column("rules", sa.String(64), nullable=False, server_default=""))
    if "confidence" not in have:
        op.add_column("memory", sa.Column("confidence", sa.Float(), nullable=True))
    if "unknown" not in have:
        op.add_column("memory", sa.Column("unknown", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("memory") as batch:
        batch.drop_column("unknown")
        batch.drop_column("confidence")
        batch.drop_column("rules")
    with op.batch_alter_table("translations") as batch:
        batch.drop_column("rules")
        batch.drop_column("confidence")
