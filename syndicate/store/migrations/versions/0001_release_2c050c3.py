"""The schema of release 2c050c3: articles, translations, memory, stats, source state, feed history, WebSub.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

from syndicate.store.migrations import baseline

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    baseline.metadata.create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    baseline.metadata.drop_all(op.get_bind())
