"""Driving a source's events the way the poll unit does, for tests of sources alone."""

from __future__ import annotations

from collections.abc import Callable

from syndicate.errors import ItemError
from syndicate.models import RawItem
from syndicate.sources.base import Checkpoint, Events, FetchResult


def drain(
    events: Events, stored: Callable[[RawItem], bool] = lambda _item: True, *, reply: bool | None = None
) -> tuple[list[RawItem | ItemError], FetchResult]:
    """Every item and item error ``events`` yields (checkpoints left out) and how it
    ended. ``stored`` answers whether an item reached the store; ``reply`` is the answer
    for an item already taken from ``events`` by the caller."""
    items: list[RawItem | ItemError] = []
    while True:
        try:
            event = events.send(reply)
        except StopIteration as stop:
            return items, stop.value
        reply = None
        if isinstance(event, Checkpoint):
            continue
        items.append(event)
        if isinstance(event, RawItem):
            reply = stored(event)
