"""What a publish needs to publish the next change alone (issue 23, part 2):
``publish_state.plan`` (JSON: the languages published together, whether the history had
any chain links) and ``published_file.lastmod`` (a sitemap file's newest entry, for the
sitemap index without reading the file's entries).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "plan" not in {c["name"] for c in inspector.get_columns("publish_state")}:
        op.add_column("publish_state", sa.Column("plan", sa.Text(), nullable=True))
    if "lastmod" not in {c["name"] for c in inspector.get_columns("published_file")}:
        op.add_column("published_file", sa.Column("lastmod", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("published_file") as batch:
        batch.drop_column("lastmod")
    with op.batch_alter_table("publish_state") as batch:
        batch.drop_column("plan")
