"""Versioned migrations of the store (Alembic), run by :class:`~syndicate.store.Store` itself.

Operators never run Alembic: opening a store brings it to :data:`HEAD`. Opening a store
that is already there reads one row and imports nothing from here but this constant, so
a ``syndicate once`` with nothing to do stays fast. To change the schema: edit
``schema.py``, add a revision under ``versions/`` (``down_revision`` = the old head), set
:data:`HEAD` to it; ``tests/store/test_migrations.py`` checks that the two agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: The newest revision under versions/; a store stamped with it needs no migration.
HEAD = "0017"

#: The revision a store older than the migrations is stamped with (release 2c050c3's schema).
BASELINE = "0001"

FOLDER = Path(__file__).parent


def config(conn: Connection | None = None) -> object:
    """An Alembic ``Config`` for this folder (no alembic.ini), bound to ``conn`` if given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(FOLDER))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(conn: Connection) -> None:
    """Bring the store behind ``conn`` to HEAD, inside the caller's transaction.

    - no tables at all: a new store, created from ``schema.py`` and stamped HEAD;
    - tables but no ``alembic_version``: a store older than the migrations, brought to the
      baseline by the old add-missing-columns logic, stamped BASELINE, then upgraded;
    - otherwise: upgraded from its revision.
    """
    from alembic import command
    from sqlalchemy import inspect

    from syndicate.store import schema
    from syndicate.store.migrations import baseline

    cfg = config(conn)
    tables = set(inspect(conn).get_table_names())
    if not tables - {"alembic_version"}:
        schema.metadata.create_all(conn)
        conn.execute(schema.changes.insert().values(name="store", value=0))
        command.stamp(cfg, HEAD)  # type: ignore[arg-type]
        return
    if "alembic_version" not in tables:
        baseline.bring_to_baseline(conn)
        command.stamp(cfg, BASELINE)  # type: ignore[arg-type]
    else:
        from alembic.script import ScriptDirectory
        from sqlalchemy import text

        from syndicate.errors import StoreError

        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        known = {r.revision for r in ScriptDirectory(str(FOLDER)).walk_revisions()}
        if version is not None and version not in known:
            raise StoreError(
                f"the store is at schema revision {version}, which this version of syndicate does not know"
                f" (it knows up to {HEAD}): it was upgraded by a newer syndicate",
                hint="run the newer syndicate, or restore the copy of the state folder kept before upgrading",
            )
    command.upgrade(cfg, "head")  # type: ignore[arg-type]
