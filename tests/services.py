"""Real Redis and PostgreSQL servers for the tests, on 127.0.0.1, in throwaway folders.

``RedisServer`` and ``PostgresServer`` start Debian's ``redis-server`` and PostgreSQL
binaries (``/usr/lib/postgresql/<version>/bin``) on free ports with data folders made for
the occasion, wait (bounded) until they answer, and remove everything when stopped. The
Makefile installs both packages (``make setup``); the pytest fixtures below skip only when
the binaries are truly absent, and fail loudly when they are present but do not start.

Fixtures (import them into a conftest):

* ``redis_server`` / ``redis_url`` (session): one Redis for the whole run, ``redis://127.0.0.1:<port>/0``;
* ``postgres_server`` / ``postgres_url`` (session): one PostgreSQL cluster with a database
  ``syndicate``, ``postgresql+psycopg://syndicate@127.0.0.1:<port>/syndicate``;
* ``fresh_postgres_url`` / ``fresh_redis_url`` (function): a new, empty database / Redis
  logical database for one test, so tests do not see each other's rows or queues.

For a manual session: ``python -m tests.services`` starts both, prints their URLs and
waits for Ctrl-C.

PostgreSQL refuses to run as root; under root the server runs as the ``postgres`` system
user the Debian package creates (or ``nobody``), which owns the throwaway folder.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

#: How long a server may take to answer after start (seconds). Both take well under two
#: seconds here; the bound is for a loaded CI machine.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


class ServiceError(RuntimeError):
    """A server binary exists but did not start or answer in time; carries its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stop_process(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- Redis


def redis_binary() -> str | None:
    """The ``redis-server`` executable, or None when Redis is not installed."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None
    )


class RedisServer:
    """A ``redis-server`` on 127.0.0.1:<free port> with its own data folder.

    The append-only file is on (fsync always), so ``restart()`` (stop, start again on the
    same port and folder) keeps every queued message, as a production Redis with AOF does.
    ``kill()`` stops it with SIGKILL, for fault tests.
    """

    def __init__(self, *, port: int | None = None, appendonly: bool = True) -> None:
        binary = redis_binary()
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (Debian package redis-server)")
        self.binary = binary
        self.port = port or free_port()
        self.appendonly = appendonly
        self.dir = Path(tempfile.mkdtemp(prefix="syndicate-redis-"))
        self.log = self.dir / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> Self:
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--protected-mode", "yes",
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "always",
            "--daemonize", "no",
            "--logfile", str(self.log),
            "--databases", "64",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServiceError(f"redis-server exited with {self.proc.returncode}:\n{_tail(self.log)}")
            if self._ping():
                return
            time.sleep(0.05)
        raise ServiceError(
            f"redis-server on 127.0.0.1:{self.port} did not answer in {START_TIMEOUT:.0f} s:\n{_tail(self.log)}"
        )

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *words: str, expect: int = 1) -> bytes:
        """Send an inline command (no client library needed); return the raw replies.

        ``expect`` is how many single-line replies to wait for (several commands may be
        sent at once, separated by CRLF).
        """
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall((" ".join(words) + "\r\n").encode())
            reply = b""
            while reply.count(b"\r\n") < expect:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
            return reply

    def stop(self) -> None:
        _stop_process(self.proc)
        self.proc = None

    def kill(self) -> None:
        _stop_process(self.proc, signal.SIGKILL)
        self.proc = None

    def restart(self, *, down_for: float = 0.0) -> None:
        """Stop (SIGTERM, which flushes the AOF), stay down ``down_for`` s, start on the same port."""
        self.stop()
        time.sleep(down_for)
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- PostgreSQL


def postgres_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with initdb and postgres, or None."""
    candidates = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            try:
                candidates.append((int(bindir.parent.name), bindir))
            except ValueError:
                continue
    if candidates:
        return max(candidates)[1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("postgres") else None


def _service_user() -> pwd.struct_passwd | None:
    """The user PostgreSQL runs as when we are root (it refuses root); None: run as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServiceError("running as root and neither a 'postgres' nor a 'nobody' user exists")


class PostgresServer:
    """A PostgreSQL cluster (initdb in a temporary folder) on 127.0.0.1:<free port>.

    Trust authentication for 127.0.0.1 only, superuser ``syndicate``, database ``syndicate``
    created at start. Durability settings are off (fsync, synchronous_commit): the data is
    thrown away, and the tests are about concurrency, not about surviving power loss.
    """

    superuser = "syndicate"
    database = "syndicate"

    def __init__(self, *, port: int | None = None) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise FileNotFoundError("PostgreSQL is not installed (Debian package postgresql)")
        self.bindir = bindir
        self.port = port or free_port()
        self.user = _service_user()
        self.dir = Path(tempfile.mkdtemp(prefix="syndicate-pg-"))
        self.data = self.dir / "data"
        self.sockets = self.dir / "sockets"
        self.log = self.dir / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self.sockets.mkdir()
        if self.user is not None:
            for path in (self.dir, self.sockets):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://{self.superuser}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of the ``syndicate`` database."""
        return self.url_for(self.database)

    def _run(self, *args: str, timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            args,
            check=False,
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=self._env(),
            **self._as_user(),
        )

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8", HOME=str(self.dir))
        return env

    def _as_user(self) -> dict[str, object]:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def start(self) -> Self:
        if not (self.data / "PG_VERSION").exists():
            done = self._run(
                str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.superuser,
                "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
            if done.returncode != 0:
                raise ServiceError(
                    f"initdb failed ({done.returncode}):\n{done.stdout.decode(errors='replace')}{done.stderr.decode(errors='replace')}"
                )
            fresh = True
        else:
            fresh = False
        log = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        if self.user is not None:
            os.chown(self.log, self.user.pw_uid, self.user.pw_gid)
        try:
            self.proc = subprocess.Popen(
                [
                    str(self.bindir / "postgres"), "-D", str(self.data),
                    "-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.sockets),
                    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                    "-c", "max_connections=200", "-c", "shared_buffers=32MB",
                    "-c", "listen_addresses=127.0.0.1",
                ],
                cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=self._env(), **self._as_user(),  # type: ignore[arg-type]
            )  # fmt: skip
        finally:
            log.close()
        self._wait_ready()
        if fresh:
            self.create_database(self.database)
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        isready = str(self.bindir / "pg_isready")
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServiceError(f"postgres exited with {self.proc.returncode}:\n{_tail(self.log)}")
            if _port_open(self.port):
                done = self._run(
                    isready, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.superuser, "-d", "postgres", "-t", "2"
                )
                if done.returncode == 0:
                    return
            time.sleep(0.1)
        raise ServiceError(
            f"postgres on 127.0.0.1:{self.port} did not answer in {START_TIMEOUT:.0f} s:\n{_tail(self.log)}"
        )

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run ``sql`` through psql (no Python driver needed); return its unaligned output."""
        done = self._run(
            str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.superuser,
            "-d", database, "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t", "-c", sql,
        )  # fmt: skip
        if done.returncode != 0:
            raise ServiceError(f"psql failed: {sql!r}\n{done.stderr.decode(errors='replace')}")
        return done.stdout.decode()

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a fresh name unless given); return its SQLAlchemy URL."""
        name = name or f"test_{os.getpid()}_{next(self._names)}"
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, exit cleanly.
        _stop_process(self.proc, signal.SIGINT)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --------------------------------------------------------------------------- pytest fixtures


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real Redis for the session (skipped only when redis-server is not installed)."""
    if redis_binary() is None:
        pytest.skip("redis-server is not installed: `make setup` installs Debian's redis-server")
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


_redis_dbs = itertools.count(1)


@pytest.fixture
def fresh_redis_url(redis_server: RedisServer) -> str:
    """An empty logical database of the session's Redis, one per test (1..63)."""
    db = next(_redis_dbs) % 63 + 1
    redis_server.command(f"SELECT {db}\r\nFLUSHDB", expect=2)
    return redis_server.url_for(db)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL cluster for the session (skipped only when it is not installed)."""
    if postgres_bindir() is None:
        pytest.skip("PostgreSQL is not installed: `make setup` installs Debian's postgresql")
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.url


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> str:
    """A new, empty database in the session's cluster, for one test."""
    return postgres_server.create_database()


def main() -> None:
    """``python -m tests.services``: start both servers, print their URLs, wait for Ctrl-C."""
    with RedisServer() as redis, PostgresServer() as postgres:
        print(f"redis:    {redis.url}")
        print(f"postgres: {postgres.url}")
        print("Ctrl-C stops both and removes their data.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
