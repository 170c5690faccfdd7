"""One daemon per state directory: an exclusive ``flock`` on ``<state_dir>/daemon.lock``.

The lock file holds the PID of the process that holds it and the command it runs
(``1234 once``), so a second ``syndicate run`` or ``once`` can say which process to
stop. The kernel drops the lock when the holder exits in any way (``kill -9`` included),
so a stale file never blocks a restart.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from syndicate.errors import StoreError

LOCK_NAME = "daemon.lock"


class StateLockedError(StoreError):
    """Another process holds the state directory."""

    def __init__(self, path: Path, pid: int | None, command: str | None = None) -> None:
        holder = f"process {pid}" if pid else "another process"
        running = f"a running `syndicate {command}`" if command else "another syndicate process"
        super().__init__(
            f"the state directory {path.parent} is in use by {holder} ({running})",
            hint=f"wait for it to finish or stop it (kill {pid})"
            if pid
            else f"stop the other syndicate using {path.parent}",
        )
        self.path = path
        self.pid = pid
        #: The subcommand holding the lock (``run``, ``once``), when the holder recorded it.
        self.command = command


def _read_holder(fd: int) -> tuple[int | None, str | None]:
    """The holder's PID and command from the lock file ("1234 once"; older files: "1234")."""
    os.lseek(fd, 0, os.SEEK_SET)
    words = os.read(fd, 128).decode("ascii", "replace").split()
    pid = int(words[0]) if words and words[0].isdigit() else None
    command = words[1] if len(words) > 1 and words[1].isalnum() else None
    return pid, command


class StateLock:
    """Holds ``<state_dir>/daemon.lock`` exclusively while in use (a context manager).

    ``command`` (``"run"``, ``"once"``) is written next to the PID, so whoever is refused
    is told what holds the state.
    """

    def __init__(self, state_dir: Path, *, command: str | None = None) -> None:
        self.path = state_dir / LOCK_NAME
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, command = _read_holder(fd)
            os.close(fd)
            raise StateLockedError(self.path, pid, command) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {self.command or ''}".rstrip().encode("ascii") + b"\n")
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        # The file stays: unlinking it could let two processes lock two different files.
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.release()


def lock_holder(state_dir: Path) -> int | None:
    """The PID of the daemon holding ``state_dir``, or None when no daemon runs."""
    held = lock_holder_command(state_dir)
    return None if held is None else held[0]


def lock_holder_command(state_dir: Path) -> tuple[int, str | None] | None:
    """(PID or -1 when unreadable, command such as "run" or "once") of the process
    holding ``state_dir``, or None when nothing holds it."""
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, command = _read_holder(fd)
            return (pid or -1, command)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
