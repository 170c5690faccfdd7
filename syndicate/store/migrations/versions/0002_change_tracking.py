"""Change tracking and publication state: seq columns, the change counter, what each publish made.

Also ``translations.untranslated``, filled from each body's JSON, so the articles a
language still has to translate are one query.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

#: schema.py's naming convention as of this revision.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    # A store opened by the unreleased code between 2c050c3 and this revision may have
    # some of these already (it added missing columns on its own): add what is missing.
    for table, column in (("articles", "seq"), ("translations", "seq"), ("translations", "untranslated")):
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=False, server_default="0"))
    for table in ("articles", "translations"):
        if f"ix_{table}_seq" not in {i["name"] for i in inspector.get_indexes(table)}:
            op.create_index(f"ix_{table}_seq", table, ["seq"])
    _name_the_slug_constraint(bind)
    tables = set(inspector.get_table_names())
    if "changes" not in tables:
        op.create_table(
            "changes",
            sa.Column("name", sa.String(40), nullable=False),
            sa.Column("value", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("name", name="pk_changes"),
        )
    if "publish_state" not in tables:
        op.create_table(
            "publish_state",
            sa.Column("language", sa.String(35), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("fingerprint", sa.String(64), nullable=False),
            sa.PrimaryKeyConstraint("language", name="pk_publish_state"),
        )
    if "published_file" not in tables:
        op.create_table(
            "published_file",
            sa.Column("language", sa.String(35), nullable=False),
            sa.Column("path", sa.String(1000), nullable=False),
            sa.Column("article_id", sa.Integer()),
            sa.Column("digest", sa.String(64), nullable=False),
            sa.Column("size", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("language", "path", name="pk_published_file"),
        )

    translations = sa.table(
        "translations", sa.column("article_id"), sa.column("language"), sa.column("body"), sa.column("untranslated")
    )
    for article_id, language, body in bind.execute(
        sa.select(translations.c.article_id, translations.c.language, translations.c.body)
    ):
        count = int(json.loads(body).get("untranslated", 0) or 0)
        if count:
            bind.execute(
                translations.update()
                .where(translations.c.article_id == article_id, translations.c.language == language)
                .values(untranslated=count)
            )

    # The change counter starts past every number already handed out.
    latest = bind.execute(
        sa.text("SELECT max(v) FROM (SELECT max(seq) AS v FROM articles UNION ALL SELECT max(seq) FROM translations) AS s")
    ).scalar()
    if bind.execute(sa.text("SELECT 1 FROM changes WHERE name = 'store'")).first() is None:
        bind.execute(sa.text("INSERT INTO changes (name, value) VALUES ('store', :v)"), {"v": int(latest or 0)})


def _name_the_slug_constraint(bind: sa.engine.Connection) -> None:
    """Releases created ``UNIQUE (slug)`` without a name; give it the schema's name.

    PostgreSQL renames it in place. SQLite cannot, so the table is rebuilt (Alembic's
    batch mode: copy, drop, rename), the reflected unnamed constraint taking its name from
    the naming convention; the store runs migrations with foreign keys off, or dropping
    the old table would cascade into every translation.
    """
    found = next(
        (u for u in sa.inspect(bind).get_unique_constraints("articles") if u["column_names"] == ["slug"]), None
    )
    if found is None or found["name"] == "uq_articles_slug":
        return
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("articles", recreate="always", naming_convention=NAMING):
            pass
    else:
        op.execute(sa.text(f'ALTER TABLE articles RENAME CONSTRAINT "{found["name"]}" TO uq_articles_slug'))


def downgrade() -> None:
    op.drop_table("published_file")
    op.drop_table("publish_state")
    op.drop_table("changes")
    for table in ("articles", "translations"):
        op.drop_index(f"ix_{table}_seq", table_name=table)
    with op.batch_alter_table("translations") as batch:
        batch.drop_column("untranslated")
        batch.drop_column("seq")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("seq")
