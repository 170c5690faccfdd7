"""The Source protocol: a source yields typed events and returns its new fetch state."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
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
    """What a source remembers between polls (kept in the store's ``source_state``).

    ``etag``/``last_modified`` are the HTTP validators of the URL the source polls (for
    a conditional GET); ``cursor`` is the source's own resume point (JSON-serialisable).
    """

    etag: str | None = None
    last_modified: str | None = None
    cursor: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Checkpoint:
    """A state that is safe to keep once every item yielded before it is stored.

    A walk that is interrupted (shutdown) resumes from its last checkpoint instead of
    from the start of the poll.
    """

    state: FetchState


@dataclass(frozen=True)
class FetchResult:
    """How a fetch ended: the state to keep, and whether upstream said nothing changed."""

    state: FetchState
    not_modified: bool = False


@dataclass(frozen=True)
class Stored:
    """The poll's answer to an item it extracted and stored: the previous/next links
    extraction read in it. A source that walks pages follows them, so a page is parsed
    once, by extraction."""

    prev: str | None = None
    next: str | None = None


#: What ``fetch`` yields: an item, an item it could not read, or a checkpoint.
Event = RawItem | ItemError | Checkpoint

#: ``fetch``'s type: events out; in, the answer to the item just yielded (:class:`Stored`,
#: or ``False`` when it did not reach the store; ``True`` or ``None`` from a caller that
#: only says "stored"); the new state as its return value.
Events = Generator[Event, Stored | bool | None, FetchResult]


class Source(Protocol):
    """Where articles come from.

    ``fetch(state)`` starts from the state the last poll returned and yields one
    :class:`RawItem` per article, an :class:`ItemError` for an item it could not read
    (one bad item never stops the rest) and :class:`Checkpoint` s; it *returns*
    :class:`FetchResult` (the new state). The caller extracts and stores each item before
    asking for the next, answers with :class:`Stored` (or ``False``), and keeps the
    returned state only when every item reached the store. A failure
    of the whole source raises :class:`~syndicate.errors.SourceError`. Nothing is
    mutated on the source behind the caller's back.
    """

    name: str

    def fetch(self, state: FetchState) -> Events: ...
