"""``publish_outcome``: the publishes of each language that failed, and the recovery.

A publish that fails (a full or read-only output disk, a folder another state owns) was
only in the log of the process that met it; ``/status``, ``syndicate status`` and
``/metrics`` read this table instead.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "publish_outcome" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "publish_outcome",
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("failures_in_row", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("recovered", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("language", name="pk_publish_outcome"),
    )


def downgrade() -> None:
    op.drop_table("publish_outcome")
