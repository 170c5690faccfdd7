"""``ix_feed_log_page`` on ``feed_log`` (language, page): each publish reads a language's
open page (``page IS NULL``) and the archive pages it touches (``page IN ...``), and with
only the (language, ...) keys SQLite read every entry of the language to find them (20 ms
a read at 100,000 articles, a few reads a language a publish).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "ix_feed_log_page" not in {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("feed_log")}:
        op.create_index("ix_feed_log_page", "feed_log", ["language", "page"])


def downgrade() -> None:
    op.drop_index("ix_feed_log_page", table_name="feed_log")
