"""Counts kept as the work happens, so the status page reads a few rows instead of every
article and translation (see ``syndicate.store.counts``): ``translation_counts`` (stored
translations per language, engine and model), ``article_counts`` (articles per source),
``current_counts`` (current translations per language and source). Counted once here from
what a store already holds.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "current_counts" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "translation_counts",
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("engine", sa.String(40), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("translations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("language", "engine", "model", name="pk_translation_counts"),
    )
    op.execute(
        "INSERT INTO translation_counts (language, engine, model, translations) "
        "SELECT language, engine, model, COUNT(*) FROM translations GROUP BY language, engine, model"
    )
    op.create_table(
        "article_counts",
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_article_counts"),
    )
    op.execute("INSERT INTO article_counts (source, articles) SELECT source, COUNT(*) FROM articles GROUP BY source")
    op.create_table(
        "current_counts",
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("translations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("language", "source", name="pk_current_counts"),
    )
    # The rule of syndicate.store.counts.current_rule, in SQL both databases read.
    op.execute(
        "INSERT INTO current_counts (language, source, translations) "
        "SELECT t.language, a.source, COUNT(*) FROM translations t JOIN articles a ON a.id = t.article_id "
        "WHERE t.untranslated = 0 AND NOT (a.seq > t.seq "
        "AND substr(t.source_hash, 1, length(a.content_hash)) <> a.content_hash) "
        "GROUP BY t.language, a.source"
    )


def downgrade() -> None:
    op.drop_table("current_counts")
    op.drop_table("article_counts")
    op.drop_table("translation_counts")
