"""The Source protocol and the fetch state a polled source carries between polls."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from syndicate.errors import ItemError
from syndicate.models import RawItem

#: Asked between items and while waiting to retry: True means "stop as soon as you can".
StopCheck = Callable[[], bool]


def never_stop() -> bool:
    return False


@dataclass(frozen=True)
class FetchState:
    """What a source remembers between polls (kept in the store by the scheduler).

    ``etag``/``last_modified`` are the HTTP validators of the URL the source polls (for
    a conditional GET); ``cursor`` is the source's own resume point (JSON-serialisable).
    A source only ever exposes a state that is safe to persist at that moment: it never
    points past an item the pipeline has not stored yet.
    """

    etag: str | None = None
    last_modified: str | None = None
    cursor: Mapping[str, Any] = field(default_factory=dict)


class Source(Protocol):
    """Where articles come from.

    ``fetch()`` yields one :class:`RawItem` per article, or an :class:`ItemError` for an
    item it could not read, so one bad item never stops the rest. A failure of the whole
    source raises :class:`~syndicate.errors.SourceError`.
    """

    name: str

    def fetch(self) -> Iterator[RawItem | ItemError]:
        ...


class PolledSource(Source, Protocol):
    """A source that keeps state between polls (feeds, pages).

    ``state`` is read after (or during) ``fetch()`` and persisted; ``not_modified`` is
    True when the upstream said nothing changed since the last poll (HTTP 304).
    """

    state: FetchState
    not_modified: bool
