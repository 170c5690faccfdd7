"""``ix_articles_linked``: the articles that name a previous or next one. Each publish asks
whether any does (a change is published alone only when none does), and when none did,
the answer read every article: 30 ms at 100,000. A partial index holds only those that
do, so the answer is one lookup however long the history.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

LINKED = "prev_url IS NOT NULL OR prev_title IS NOT NULL OR next_url IS NOT NULL OR next_title IS NOT NULL"


def upgrade() -> None:
    with warnings.catch_warnings():  # ix_articles_rank is on an expression, which reflection skips (and says so)
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        names = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("articles")}
    if "ix_articles_linked" in names:
        return
    op.create_index(
        "ix_articles_linked", "articles", ["id"], sqlite_where=sa.text(LINKED), postgresql_where=sa.text(LINKED)
    )


def downgrade() -> None:
    op.drop_index("ix_articles_linked", table_name="articles")
