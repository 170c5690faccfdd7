"""Sources: where raw articles come from. Picked by ``type`` from
:data:`syndicate.config.SOURCE_TYPES`, whose settings classes name their implementations.

``folder`` reads a local drop folder; ``feed`` polls an RSS/Atom feed; ``pages`` walks
article pages by their previous/next links. Each implementation is imported only when a
source of its type is made (the HTTP ones bring httpx), so ``syndicate --help`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syndicate.config import SOURCE_TYPES, SourceSettings, load_implementation
from syndicate.sources.base import (
    Checkpoint,
    Events,
    FetchResult,
    FetchState,
    Source,
    StopCheck,
    Stored,
    never_stop,
)


def make_source(settings: SourceSettings, root: Path, **options: Any) -> Source:
    """Make the source a ``[[sources]]`` table describes.

    The implementation is the one its settings class names; ``options`` (such as
    ``should_stop``, which lets the daemon interrupt retries and page walks on shutdown)
    go to its constructor as they are.
    """
    implementation = load_implementation(type(settings).implementation)
    source: Source = implementation(settings, root, **options)
    return source


__all__ = [
    "SOURCE_TYPES",
    "Checkpoint",
    "Events",
    "FetchResult",
    "FetchState",
    "Source",
    "StopCheck",
    "Stored",
    "make_source",
    "never_stop",
]
