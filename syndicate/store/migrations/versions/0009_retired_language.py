"""``retired_language``: languages no longer configured whose outputs were removed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "retired_language" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "retired_language",
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("retired", sa.DateTime(timezone=True), nullable=False),
        sa.Column("files_removed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("language", name="pk_retired_language"),
    )


def downgrade() -> None:
    op.drop_table("retired_language")
