"""A local drop folder of article files: ``*.txt`` (seed format) and ``*.html`` pages.

A poll reads only the files that are new or changed since the last one: the state keeps
each stored file's size and modification time (``cursor["files"]``), so a folder of
thousands of articles with nothing new costs one directory listing and a ``stat`` per
file. A file that failed is read again on the next poll.

With ``move_to``, each file is moved there once its article is stored (and the files an
earlier poll stored, when ``move_to`` is first set), so the folder holds only what waits
and a poll's cost does not grow with the articles it ever took. A file that cannot be
moved stays, is remembered like any stored file, and is moved by a later poll.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from syndicate.config import FolderSourceSettings
from syndicate.errors import ItemError, SourceError
from syndicate.models import RawItem
from syndicate.sources.base import (
    Checkpoint,
    Events,
    FetchResult,
    FetchState,
    StopCheck,
    never_stop,
)

logger = logging.getLogger(__name__)

MEDIA_TYPES = {".txt": "text/plain", ".text": "text/plain", ".html": "text/html", ".htm": "text/html"}
#: Files larger than this are not articles (a runaway export, a video); they are skipped.
MAX_BYTES = 5 * 1024 * 1024
#: Files stored between two checkpoints (where an interrupted poll resumes).
CHECKPOINT_EVERY = 200


class FolderSource:
    """Reads every article file in a folder (not recursive; hidden files ignored)."""

    def __init__(self, settings: FolderSourceSettings, root: Path, *, should_stop: StopCheck = never_stop) -> None:
        self.name = settings.name
        self.path = settings.path if settings.path.is_absolute() else root / settings.path
        self.language = settings.language
        self.base_url = settings.base_url
        self.should_stop = should_stop
        move_to = settings.move_to
        self.move_to = None if move_to is None else (move_to if move_to.is_absolute() else self.path / move_to)

    def fetch(self, state: FetchState) -> Events:
        if not self.path.is_dir():
            raise SourceError(
                f"folder {self.path} does not exist or is not a directory",
                source=self.name,
                hint=f"create it or fix sources.path for source {self.name!r} in config.toml",
            )
        self._ready_to_move()
        before: dict[str, Any] = dict(state.cursor.get("files", {}))
        kept: dict[str, str] = {}  # name -> fingerprint of a file that is stored
        changed: list[tuple[str, str, os.stat_result, str]] = []  # new or changed article files
        skipped: list[str] = []
        outside: list[str] = []  # links that lead out of the folder
        real = {}  # name -> the file a link inside the folder leads to
        folder = os.path.realpath(self.path)
        read = 0
        try:
            # One scandir and a stat per article file; names as strings, and only what is
            # new or changed sorted: with 10,000 articles and nothing new, Path objects,
            # splitext and a sort of the whole listing would cost more than the stats.
            with os.scandir(self.path) as listing:
                for entry in listing:
                    name = entry.name
                    if name.startswith("."):
                        continue
                    dot = name.rfind(".")
                    suffix = name[dot:].lower() if dot > 0 else ""
                    media_type = MEDIA_TYPES.get(suffix)
                    try:
                        if entry.is_symlink():
                            # A drop folder's link must not publish /etc/shadow or another
                            # config's secrets: only links to files inside the folder count.
                            target = os.path.realpath(entry.path)
                            if not target.startswith(folder + os.sep):
                                if media_type is not None:
                                    outside.append(name)
                                continue
                            real[name] = target
                        if not entry.is_file():
                            continue
                        if media_type is None:
                            if suffix not in (".md", ".json", ".partial", ".tmp"):
                                skipped.append(name)
                            continue
                        info = entry.stat()
                    except OSError:
                        continue  # gone since the listing
                    fingerprint = f"{info.st_size}:{info.st_mtime_ns}"
                    if before.get(name) == fingerprint:
                        kept[name] = fingerprint  # stored by an earlier poll, unchanged since
                    else:
                        changed.append((name, media_type, info, fingerprint))
        except OSError as exc:
            raise SourceError(
                f"cannot list folder {self.path}: {exc.strerror or exc}", source=self.name, hint="check its permissions"
            ) from None
        for name in sorted(kept):  # stored before move_to was set, or not movable then
            if self._moved(name):
                del kept[name]
        for name in sorted(skipped):
            logger.info("[%s] skipping %s: not a .txt or .html article", self.name, name)
        for name in sorted(outside):
            yield ItemError(
                "a link to a file outside the folder: never read",
                source=self.name,
                item=name,
                hint=f"copy the file into {self.path} instead of linking to it",
            )
        changed.sort(key=lambda found: found[0])
        for name, media_type, info, fingerprint in changed:
            path = self.path / name
            try:
                size = info.st_size
                if size > MAX_BYTES:
                    raise ItemError(
                        f"too large to be an article ({size / 1e6:.1f} MB > {MAX_BYTES / 1e6:.0f} MB)",
                        source=self.name,
                        item=path.name,
                        hint="split it or remove it from the folder",
                    )
                data = _read_no_follow(real.get(name, str(path)))
            except ItemError as exc:
                yield exc
                continue
            except OSError as exc:
                yield ItemError(
                    f"cannot read: {exc.strerror or exc}",
                    source=self.name,
                    item=path.name,
                    hint="check its permissions",
                )
                continue
            stored = yield RawItem(
                source=self.name,
                key=path.name,
                data=data,
                media_type=media_type,
                url=urljoin(self.base_url, path.name) if self.base_url else None,
                base_url=self.base_url,
                language=self.language,
            )
            if stored is not False:
                if not self._moved(path.name):
                    kept[path.name] = fingerprint
                read += 1
                if read % CHECKPOINT_EVERY == 0:
                    yield Checkpoint(FetchState(cursor={"files": {**before, **kept}}))
            if self.should_stop():
                break
        return FetchResult(FetchState(cursor={"files": kept}), not_modified=read == 0)

    def _ready_to_move(self) -> None:
        """Make ``move_to`` if missing; a SourceError naming it when it cannot be used."""
        if self.move_to is None:
            return
        hint = f"fix sources.move_to for source {self.name!r} in config.toml"
        if os.path.realpath(self.move_to) == os.path.realpath(self.path):
            raise SourceError(f"move_to {self.move_to} is the drop folder itself", source=self.name, hint=hint)
        try:
            self.move_to.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise SourceError(f"move_to {self.move_to} is a file, not a folder", source=self.name, hint=hint) from None
        except OSError as exc:
            raise SourceError(
                f"cannot make the move_to folder {self.move_to}: {exc.strerror or exc}",
                source=self.name,
                hint=f"check its permissions, or {hint}",
            ) from None

    def _moved(self, name: str) -> bool:
        """Move a stored article file to ``move_to`` (replacing an older one of its name);
        False when there is no ``move_to`` or the move failed (logged: tried again next poll)."""
        if self.move_to is None:
            return False
        source, target = self.path / name, self.move_to / name
        try:
            try:
                os.replace(source, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                # Another file system: a copy beside the target, renamed into place.
                partial = target.with_name(f".{name}.partial")
                shutil.copy2(source, partial, follow_symlinks=False)
                os.replace(partial, target)
                source.unlink()
        except OSError as exc:
            logger.warning(
                "[%s] %s is stored but could not be moved to %s: %s (tried again at the next poll)",
                self.name,
                name,
                self.move_to,
                exc.strerror or exc,
            )
            return False
        return True


def _read_no_follow(path: str) -> bytes:
    """The file's bytes; refused (ELOOP) if it became a link since the listing, never blocking on a pipe."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        return fh.read(MAX_BYTES + 1)
