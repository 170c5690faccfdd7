"""One publisher per language at a time, across every worker machine.

On PostgreSQL, ``publish(lang)`` holds the session advisory lock
``pg_advisory_lock(hashtext('publish:' || lang))`` on a connection of its own for the
whole publish: a second publish of the same language waits for the first and then
publishes what the first did not see (a publish that finds nothing changed writes
nothing). If the holder dies, PostgreSQL drops its connection and with it the lock.

On a SQLite store (a cluster on one machine) the same is an ``flock`` on a file beside
the database. Other languages never wait for each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)


def publish_lock_key(language: str) -> str:
    return f"publish:{language}"


@contextlib.contextmanager
def publish_lock(engine: Engine, language: str) -> Iterator[None]:
    """Hold the publish lock of ``language`` for the block (waits while another holds it)."""
    key = publish_lock_key(language)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(hashtext(:key))"), {"key": key})
            conn.commit()  # end the implicit transaction; the session lock stays
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": key})
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield  # one process, one store: nobody to exclude
        return
    path = Path(f"{database}.{key.replace(':', '-')}.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock
