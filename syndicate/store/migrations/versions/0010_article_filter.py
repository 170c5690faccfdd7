"""``article_filter``: which articles of a source its keyword filters publish.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "article_filter" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "article_filter",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("rules", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name="fk_article_filter_article_id_articles",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", name="pk_article_filter"),
    )


def downgrade() -> None:
    op.drop_table("article_filter")
