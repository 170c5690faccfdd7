"""The cluster's delivery ledger: ``cluster_tasks``.

Clusters that ran before this revision created the table themselves (same columns):
it is created only where it is missing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "cluster_tasks" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "cluster_tasks",
        sa.Column("task_id", sa.String(64), nullable=False),
        sa.Column("task", sa.String(64), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("first_started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name="pk_cluster_tasks"),
    )


def downgrade() -> None:
    op.drop_table("cluster_tasks")
