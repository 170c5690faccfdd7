"""Sources: where raw articles come from. Picked by ``type`` from :data:`SOURCES`.

``folder`` reads a local drop folder; ``feed`` polls an RSS/Atom feed; ``pages`` walks
article pages by their previous/next links. The HTTP sources import httpx only when
they are made, so ``syndicate --help`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from syndicate.config import SourceSettings
from syndicate.sources.base import FetchState, PolledSource, Source, StopCheck, never_stop
from syndicate.sources.folder import FolderSource


def _feed(settings: Any, root: Path, **options: Any) -> Source:
    from syndicate.sources.feed import FeedSource

    return FeedSource(settings, root, **options)


def _pages(settings: Any, root: Path, **options: Any) -> Source:
    from syndicate.sources.page import PageSource

    return PageSource(settings, root, **options)


def _folder(settings: Any, root: Path, **_options: Any) -> Source:
    return FolderSource(settings, root)


#: Source registry: config ``type`` -> factory(settings, config_root, state=, should_stop=).
SOURCES: dict[str, Callable[..., Source]] = {
    "folder": _folder,
    "feed": _feed,
    "pages": _pages,
}


def make_source(
    settings: SourceSettings, root: Path, *, state: FetchState | None = None, should_stop: StopCheck = never_stop
) -> Source:
    """Make the source a ``[[sources]]`` table describes.

    ``state`` is what the source kept after its last poll (validators, resume point);
    ``should_stop`` lets the daemon interrupt retries and page walks on shutdown.
    """
    return SOURCES[settings.type](settings, root, state=state, should_stop=should_stop)


__all__ = ["SOURCES", "FetchState", "PolledSource", "Source", "StopCheck", "make_source", "never_stop"]
