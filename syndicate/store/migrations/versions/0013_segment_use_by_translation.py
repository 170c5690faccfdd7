"""``segment_use`` indexed by (article_id, language): storing a translation replaces its
article's rows in one language, and with an index on ``article_id`` alone SQLite's
planner took the primary key's ``language`` prefix instead, reading every row of the
language (all its history's segments) for each translation stored. Replaces
``ix_segment_use_article`` with ``ix_segment_use_article_language``, which serves the
article's cascade as well.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    names = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("segment_use")}
    if "ix_segment_use_article_language" not in names:
        op.create_index("ix_segment_use_article_language", "segment_use", ["article_id", "language"])
    if "ix_segment_use_article" in names:
        op.drop_index("ix_segment_use_article", table_name="segment_use")


def downgrade() -> None:
    op.create_index("ix_segment_use_article", "segment_use", ["article_id"])
    op.drop_index("ix_segment_use_article_language", table_name="segment_use")
