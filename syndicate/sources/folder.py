"""A local drop folder of article files: ``*.txt`` (seed format) and ``*.html`` pages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

from syndicate.config import FolderSourceSettings
from syndicate.errors import ItemError, SourceError
from syndicate.models import RawItem

logger = logging.getLogger(__name__)

MEDIA_TYPES = {".txt": "text/plain", ".text": "text/plain", ".html": "text/html", ".htm": "text/html"}
#: Files larger than this are not articles (a runaway export, a video); they are skipped.
MAX_BYTES = 5 * 1024 * 1024


class FolderSource:
    """Reads every article file in a folder (not recursive; hidden files ignored)."""

    def __init__(self, settings: FolderSourceSettings, root: Path) -> None:
        self.name = settings.name
        self.path = settings.path if settings.path.is_absolute() else root / settings.path
        self.language = settings.language
        self.base_url = settings.base_url

    def fetch(self) -> Iterator[RawItem | ItemError]:
        if not self.path.is_dir():
            raise SourceError(
                f"folder {self.path} does not exist or is not a directory",
                source=self.name,
                hint=f"create it or fix sources.path for source {self.name!r} in config.toml",
            )
        for path in sorted(self.path.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            media_type = MEDIA_TYPES.get(path.suffix.lower())
            if media_type is None:
                if path.suffix.lower() not in (".md", ".json", ".partial", ".tmp"):
                    logger.info("[%s] skipping %s: not a .txt or .html article", self.name, path.name)
                continue
            try:
                size = path.stat().st_size
                if size > MAX_BYTES:
                    raise ItemError(
                        f"too large to be an article ({size / 1e6:.1f} MB > {MAX_BYTES / 1e6:.0f} MB)",
                        source=self.name,
                        item=path.name,
                        hint="split it or remove it from the folder",
                    )
                data = path.read_bytes()
            except ItemError as exc:
                yield exc
                continue
            except OSError as exc:
                yield ItemError(f"cannot read: {exc.strerror or exc}", source=self.name, item=path.name, hint="check its permissions")
                continue
            yield RawItem(
                source=self.name,
                key=path.name,
                data=data,
                media_type=media_type,
                url=urljoin(self.base_url, path.name) if self.base_url else None,
                base_url=self.base_url,
                language=self.language,
            )
