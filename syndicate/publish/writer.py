"""Atomic file output: the only place publish/ touches the filesystem."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.errors import OutputClaimedError, PublishError

if TYPE_CHECKING:
    from syndicate.config import Settings

#: In each output folder: the state directory whose configuration publishes there.
OWNER_MARKER = ".syndicate-owner"

#: A temporary file this old was left by a process that died (kill -9) mid-write; a
#: live writer renames its file away within seconds.
STALE_TEMP_SECONDS = 3600


class FileWriter:
    """Writes files atomically (temp file + fsync + rename) and skips identical content.

    Skipping identical content keeps mtimes (and so HTTP validators) stable when a run
    produces nothing new. Two publishers racing on one file each rename a complete file
    into place, so a reader never sees a half-written feed.
    """

    def __init__(self) -> None:
        self.written: list[Path] = []

    def has(self, path: Path, size: int) -> bool:
        """Whether ``path`` exists with ``size`` bytes: a cheap check for files that never
        change once written (full archive pages), so they need not be read back each run."""
        try:
            return path.stat().st_size == size
        except OSError:
            return False

    def size(self, path: Path | str) -> int | None:
        """The size of ``path`` in bytes, None when it is not there (a stat, never a read):
        how a publish with nothing new notices a deleted output file."""
        try:
            return os.stat(path).st_size
        except OSError:
            return None  # gone, or unreachable: the next write says why, as a PublishError

    def remove(self, path: Path) -> bool:
        """Delete ``path``; False when it was not there. Any other failure is a
        :class:`PublishError` naming the path and the fix."""
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise publish_error(path, exc) from None
        return True

    def write(self, path: Path, data: bytes) -> bool:
        """Write ``data`` to ``path``; return False when the file already held it.

        Every file-system failure (a full disk, a read-only folder, a file where a folder
        should be) is a :class:`PublishError` naming the path and the fix; the old file,
        if any, stays as it was.
        """
        try:
            if path.read_bytes() == data:
                return False
        except OSError:
            pass
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as exc:
            raise publish_error(path, exc) from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise publish_error(path, exc) from None
            raise
        self.written.append(path)
        return True

    def claim(self, folder: Path, owner: Path | str, *, formerly: Collection[str] = ()) -> None:
        """Make ``folder`` an output of the configuration whose state is ``owner`` (a
        state folder, or a name such as :func:`output_owner` gives).

        The first claim writes ``folder/.syndicate-owner`` naming ``owner``; a folder whose
        marker names another state raises :class:`OutputClaimedError`, so two
        configurations never overwrite each other's feeds (or reuse each other's ids).
        A marker naming one of ``formerly`` (what the same owner was called before) is
        rewritten to ``owner``.
        """
        marker = folder / OWNER_MARKER
        me = owner if isinstance(owner, str) else str(owner.resolve())
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{OWNER_MARKER}.", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(f"{me}\n".encode())
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o644)
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, marker)  # never replaces a marker: two first claims cannot both win
            finally:
                Path(tmp).unlink(missing_ok=True)
            with marker.open("rb") as fh:
                recorded = fh.read(4096).decode("utf-8", "replace").strip()
            if recorded != me and recorded in formerly:
                self.write(marker, f"{me}\n".encode())  # the same owner, named as it is now
                recorded = me
        except OSError as exc:
            raise publish_error(marker, exc) from None
        if recorded != me:
            raise OutputClaimedError(folder, owner=recorded or "<empty marker>", claimant=me, marker=marker)

    def sweep(self, *roots: Path, now: float | None = None, recursive: bool = True) -> int:
        """Remove temporary files a killed writer left behind; return how many.

        ``recursive=False`` looks in the folders themselves only (what one language's
        publish writes to), so the cost does not grow with the whole output tree.
        A file a concurrent sweep removed first is no problem; any other failure is a
        :class:`PublishError` naming the path.
        """
        now = time.time() if now is None else now
        removed = 0
        for root in roots:
            try:
                if not root.is_dir():
                    continue
                if recursive:
                    found = list(root.rglob(".*.tmp"))
                else:  # a language's pages folder holds a file per article: names only, no Path each
                    with os.scandir(root) as listing:
                        found = [
                            root / e.name
                            for e in listing
                            if len(e.name) > 4 and e.name[0] == "." and e.name.endswith(".tmp")
                        ]
            except OSError as exc:
                raise publish_error(root / ".tmp", exc) from None
            for tmp in found:
                try:
                    if now - tmp.stat().st_mtime > STALE_TEMP_SECONDS:
                        tmp.unlink()
                        removed += 1
                except FileNotFoundError:
                    continue  # renamed into place or removed by another publisher meanwhile
                except OSError as exc:
                    raise publish_error(tmp, exc) from None
        return removed


def publish_error(path: Path, exc: OSError) -> PublishError:
    """``exc``, met while writing ``path``, as a PublishError that says what to do."""
    folder = path.parent
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        hint = f"the disk holding {folder} is full: free space there, or move the output folder to another disk"
    elif code == errno.EROFS:
        hint = f"{folder} is on a read-only file system: remount it read-write, or choose another output folder"
    elif code in (errno.EACCES, errno.EPERM):
        hint = f"give the user running syndicate write access to {folder}, or choose another output folder"
    elif code in (errno.ENOTDIR, errno.EEXIST):
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), folder)
        hint = f"{blocker} is a file where an output folder is expected: remove or rename it"
    elif code == errno.EISDIR:
        hint = f"{path} is a folder where an output file is expected: remove or rename it"
    else:
        hint = f"check {folder} and the disk it is on"
    return PublishError(f"cannot write {path}: {exc.strerror or exc}", path=path, hint=hint)


def output_owner(settings: Settings) -> tuple[str, tuple[str, ...]]:
    """Who publishes to a configuration's output folders, as their markers name it, and
    the names the same owner had before (accepted, and replaced).

    One machine: its state folder. A cluster (``[cluster] store_url``): its store, the
    same for every worker, scheduler and ``once`` on any machine, so none of them is
    refused and a configuration with another store is (workers publish without a state
    folder of their own; before, only ``once``/``run`` marked the folders, by their state).
    """
    state = str(settings.state_dir.resolve())
    url = settings.cluster.store_url
    if not url:
        return state, ()
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        shown = url.split("@", 1)[-1]
    return f"store {shown}", (state,)


def claim_outputs(settings: Settings) -> None:
    """Mark a configuration's output folders as its own, or raise
    :class:`OutputClaimedError` when another configuration publishes there.

    Any other failure (a read-only or full disk) is left for the publish that follows,
    which reports it with the summary of what was done.
    """
    import logging

    owner, formerly = output_owner(settings)
    writer = FileWriter()
    for folder in (settings.feeds_dir, settings.translations_dir):
        try:
            writer.claim(folder, owner, formerly=formerly)
        except OutputClaimedError:
            raise
        except PublishError as exc:
            logging.getLogger(__name__).debug("cannot mark the output folder: %s", exc)
