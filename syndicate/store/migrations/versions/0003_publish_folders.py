"""What a publish saw of its output folders: ``publish_state.folders``.

A publish with nothing new compares the folders' modification times with these instead
of checking every file it wrote (tens of thousands at a large history).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("publish_state")}
    if "folders" not in columns:
        op.add_column("publish_state", sa.Column("folders", sa.Text(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("publish_state") as batch:
        batch.drop_column("folders")
