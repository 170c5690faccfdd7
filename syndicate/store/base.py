"""The store: one SQLAlchemy engine and the small repositories that read and write it.

``Store.open(state_dir)`` opens ``<state_dir>/syndicate.db`` (SQLite); ``Store.from_url``
takes any SQLAlchemy URL, e.g. ``postgresql+psycopg://user@host/db``. Opening brings the
schema to the newest revision (see :mod:`syndicate.store.migrations`); a store that is
already there costs one query.

Each table has one repository (``store.articles``, ``store.translations``, ...); they
share the engine and write through :meth:`Store.transaction`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from syndicate.errors import StoreError
from syndicate.store.archive import FeedHistory
from syndicate.store.articles import ArticleRepository
from syndicate.store.filters import FilterRepository
from syndicate.store.memory import MemoryRepository
from syndicate.store.migrations import HEAD
from syndicate.store.review import ReviewRepository
from syndicate.store.sources_state import ReportedProblems, SourceStateStore
from syndicate.store.stats import StatsRepository
from syndicate.store.translations import TranslationRepository
from syndicate.store.websub import WebSubStore

if TYPE_CHECKING:
    from syndicate.config import Settings

logger = logging.getLogger(__name__)

#: Any constant: the PostgreSQL advisory lock two processes opening one store migrate under.
_MIGRATION_LOCK = 0x5EED_0010


class Store:
    """The state store and its repositories. Long-lived: open once per process, close at exit."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self.engine = engine
        #: Opened for reading only (:meth:`for_reading` on a read-only file system):
        #: never migrated, and every write fails as a StoreError.
        self.read_only = read_only
        self.articles = ArticleRepository(self)
        self.filters = FilterRepository(self)
        self.translations = TranslationRepository(self)
        self.memory = MemoryRepository(self)
        self.stats = StatsRepository(self)
        self.sources = SourceStateStore(self)
        self.problems = ReportedProblems(self)
        self.history = FeedHistory(self)
        self.websub = WebSubStore(self)
        self.review = ReviewRepository(self)
        try:
            if read_only:
                self._check_current()
            else:
                self._migrate()
        except BaseException:
            engine.dispose()
            raise

    @classmethod
    def open(cls, state_dir: Path) -> Store:
        """The SQLite store in ``state_dir`` (created if missing)."""
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the state directory {state_dir}: {exc.strerror or exc}") from None
        return cls.from_url(f"sqlite:///{state_dir / 'syndicate.db'}")

    @classmethod
    def for_settings(cls, settings: Settings) -> Store:
        """The store a configuration names: ``[cluster] store_url`` when set (a cluster's
        PostgreSQL), else the SQLite file in ``state_dir``."""
        url = settings.cluster.store_url
        return cls.from_url(url) if url else cls.open(settings.state_dir)

    @classmethod
    def for_reading(cls, settings: Settings) -> Store:
        """:meth:`for_settings` for commands that only read (``status``, ``stats``, a
        ``serve`` beside no daemon): a SQLite store that cannot be opened for writing
        (a read-only file system or folder, say for a copy of the state being inspected)
        is opened read-only instead of refused. Its schema must be current."""
        try:
            return cls.for_settings(settings)
        except StoreError as exc:
            path = settings.state_dir / "syndicate.db"
            if settings.cluster.store_url or not path.is_file():
                raise
            first = exc
        for options in ("mode=ro", "mode=ro&immutable=1"):  # immutable: no -shm to map on a read-only disk
            engine = create_engine(f"sqlite:///file:{path}?{options}&uri=true")
            _sqlite_read_only(engine)
            try:
                store = cls(engine, read_only=True)
            except StoreError as exc:
                if "revision" in exc.message:
                    raise  # readable, but older than this syndicate: say that, not "unable to open"
                continue
            logger.warning("the store %s cannot be written (%s); it is read as it is, read-only", path, first.message)
            return store
        raise first

    @classmethod
    def from_url(cls, url: str) -> Store:
        """The store at a SQLAlchemy URL (``sqlite:///...``, ``postgresql+psycopg://...``)."""
        try:
            options: dict[str, Any] = {}
            if make_url(url).get_backend_name() == "postgresql":
                # A long-lived daemon outlives server restarts (pre-ping), and an
                # unreachable host fails in seconds, not at the OS's TCP timeout.
                options = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
            engine = create_engine(url, **options)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open the store at {_safe(url)}: {exc}") from None
        if engine.dialect.name == "sqlite":
            _sqlite_transactions(engine)
        return cls(engine)

    # -- connections ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction, committed at the end of the block.

        On SQLite it takes the write lock at its start (``BEGIN IMMEDIATE``), so two
        writers queue instead of one failing when it first writes after reading.
        """
        try:
            with self.engine.connect() as conn:
                conn.execution_options(syndicate_write=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"store write failed: {exc}") from exc

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read-only connection (one consistent snapshot)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"store read failed: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- migrations -------------------------------------------------------------------

    def revision(self) -> str | None:
        """The schema revision the store is at (None: new, or older than the migrations)."""
        try:
            for attempt in range(50):
                try:
                    with self.engine.connect() as conn:
                        if not self.engine.dialect.has_table(conn, "alembic_version"):
                            return None
                        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                    break
                except OperationalError as exc:
                    # SQLite answers "locked" at once, busy timeout or not, to a reader
                    # arriving while another process turns a new store to WAL mode.
                    if "locked" not in str(exc) or attempt == 49:
                        raise
                    time.sleep(0.1)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the store at {_safe(self.engine.url)}"
                f"{f' (host {self.engine.url.host})' if self.engine.url.host else ''}: {_reason(exc)}"
            ) from None
        return str(found) if found is not None else None

    def _check_current(self) -> None:
        found = self.revision()
        if found != HEAD:
            where = (self.engine.url.database or "").removeprefix("file:")
            raise StoreError(
                f"the store {where} is at revision {found or 'none'} and cannot be upgraded to {HEAD}: it is read-only",
                hint="make the state directory writable and run the command again",
            )

    def _migrate(self) -> None:
        if self.revision() == HEAD:
            return  # the usual case: no Alembic import, no schema inspection
        from syndicate.store import migrations

        try:
            with self.engine.connect() as conn:
                sqlite = conn.dialect.name == "sqlite"
                if sqlite:
                    # A migration may rebuild a table (SQLite's only way to alter a
                    # constraint): dropping the old one must not cascade. Only outside a
                    # transaction does this pragma take effect.
                    conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
                try:
                    conn.execution_options(syndicate_write=True)
                    with conn.begin():
                        if conn.dialect.name == "postgresql":
                            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                        # Under the lock: another process may have migrated since we looked.
                        version = (
                            conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                            if conn.dialect.has_table(conn, "alembic_version")
                            else None
                        )
                        if version != HEAD:
                            logger.info("upgrading the store from revision %s to %s", version or "none", HEAD)
                            migrations.upgrade(conn)
                finally:
                    if sqlite:
                        conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
        except StoreError as exc:
            raise StoreError(
                f"cannot upgrade the store at {_safe(self.engine.url)}: {exc.message}", hint=exc.hint
            ) from None
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot upgrade the store at {_safe(self.engine.url)}: {_reason(exc)}") from None
        except Exception as exc:  # a failed migration (rolled back) is a store problem, not a crash
            logger.debug("the store's migration failed", exc_info=True)
            raise StoreError(
                f"cannot upgrade the store at {_safe(self.engine.url)}: {type(exc).__name__}: {exc}",
                hint="nothing was changed (the upgrade runs in one transaction); please report this with the log",
            ) from exc


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions: savepoints then work, and writes
    begin IMMEDIATE (see SQLAlchemy's "Serializable isolation / Savepoints" notes on pysqlite)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # pysqlite's own BEGIN/COMMIT off
        cur = dbapi_conn.cursor()
        # First: the pragmas below, and a new store's switch to WAL, wait for a writer
        # (another process opening the same new store) instead of failing at once.
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        # In WAL mode NORMAL never corrupts and survives any process kill; only a power
        # loss can undo the last commits, which the next poll writes again (idempotent).
        # FULL would fsync every commit: a poll of a thousand new articles, a thousand fsyncs.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("syndicate_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _sqlite_read_only(engine: Engine) -> None:
    """A SQLite engine that only reads: no WAL switch, no write lock, no writes at all."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")


def _safe(url: Any) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not even a URL: say so without echoing secrets
        return "<unparseable store URL>"


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().splitlines()[0] if str(orig or exc).strip() else type(exc).__name__
