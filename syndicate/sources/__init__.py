"""Sources: where raw articles come from. Picked by ``type`` from :data:`SOURCES`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from syndicate.config import SourceSettings
from syndicate.sources.base import Source
from syndicate.sources.folder import FolderSource

#: Source registry: config ``type`` -> factory(settings, config_root).
SOURCES: dict[str, Callable[[SourceSettings, Path], Source]] = {
    "folder": FolderSource,
}


def make_source(settings: SourceSettings, root: Path) -> Source:
    return SOURCES[settings.type](settings, root)


__all__ = ["SOURCES", "Source", "make_source"]
