"""Editors' review: corrections, the audit log, where each segment is used, review state.

- ``corrections``: an editor's translation of a source segment into a language; it wins
  over every engine and the memory wherever the segment occurs;
- ``review_log``: every change an editor made (who, when, old and new text), never rewritten;
- ``translation_segments``: each translation's segments in reading order (what an editor
  reviews), apart from ``translations`` so publishing's scans of light columns stay light;
- ``segment_use``: which translated articles hold a segment, so a correction reaches
  exactly those (filled as translations are written; articles translated before fill it
  when next translated, and a correction also looks at their stored bodies);
- ``translations.reviewed_by/at/hash``, ``corrected``, ``needs_review``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    have = _columns("translations")
    for name, column in (
        ("reviewed_by", sa.Column("reviewed_by", sa.String(200), nullable=True)),
        ("reviewed_at", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True)),
        ("reviewed_hash", sa.Column("reviewed_hash", sa.String(64), nullable=True)),
        ("corrected", sa.Column("corrected", sa.Integer(), nullable=False, server_default="0")),
        ("needs_review", sa.Column("needs_review", sa.Integer(), nullable=False, server_default="0")),
    ):
        if name not in have:
            op.add_column("translations", column)
    tables = _tables()
    if "corrections" not in tables:
        op.create_table(
            "corrections",
            sa.Column("key", sa.String(64), nullable=False),
            sa.Column("source_language", sa.String(35), nullable=False),
            sa.Column("target_language", sa.String(35), nullable=False),
            sa.Column("source_text", sa.Text(), nullable=False),
            sa.Column("target_text", sa.Text(), nullable=False),
            sa.Column("editor", sa.String(200), nullable=False),
            sa.Column("created", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
            sa.Column("article_id", sa.Integer(), nullable=True),
            sa.PrimaryKeyConstraint("key", name="pk_corrections"),
        )
    if "review_log" not in tables:
        op.create_table(
            "review_log",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("editor", sa.String(200), nullable=False),
            sa.Column("action", sa.String(20), nullable=False),
            sa.Column("language", sa.String(35), nullable=False),
            sa.Column("article_id", sa.Integer(), nullable=True),
            sa.Column("source_text", sa.Text(), nullable=True),
            sa.Column("old_text", sa.Text(), nullable=True),
            sa.Column("new_text", sa.Text(), nullable=True),
            sa.Column("via", sa.String(20), nullable=False, server_default=""),
            sa.PrimaryKeyConstraint("id", name="pk_review_log"),
        )
        op.create_index("ix_review_log_language", "review_log", ["language", "article_id"])
    if "translation_segments" not in tables:
        op.create_table(
            "translation_segments",
            sa.Column("article_id", sa.Integer(), nullable=False),
            sa.Column("language", sa.String(35), nullable=False),
            sa.Column("segments", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(["article_id"], ["articles.id"],
                                    name="fk_translation_segments_article_id_articles", ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("article_id", "language", name="pk_translation_segments"),
        )
    if "segment_use" not in tables:
        op.create_table(
            "segment_use",
            sa.Column("language", sa.String(35), nullable=False),
            sa.Column("digest", sa.String(32), nullable=False),
            sa.Column("article_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name="fk_segment_use_article_id_articles",
                                    ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("language", "digest", "article_id", name="pk_segment_use"),
        )
        op.create_index("ix_segment_use_article", "segment_use", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_segment_use_article", table_name="segment_use")
    op.drop_table("segment_use")
    op.drop_table("translation_segments")
    op.drop_index("ix_review_log_language", table_name="review_log")
    op.drop_table("review_log")
    op.drop_table("corrections")
    with op.batch_alter_table("translations") as batch:
        for name in ("needs_review", "corrected", "reviewed_hash", "reviewed_at", "reviewed_by"):
            batch.drop_column(name)
