"""Driving a source's events the way the poll unit does, for tests of sources alone."""

from __future__ import annotations

from collections.abc import Callable

from syndicate.config import ExtractSettings, PageSelectors
from syndicate.errors import ItemError
from syndicate.models import RawItem
from syndicate.sources.base import Checkpoint, Events, FetchResult, Stored


def extracted(selectors: PageSelectors | None = None) -> Callable[[RawItem], Stored | bool]:
    """The poll's answer to an item: extracted (with ``selectors``), its links; False
    when extraction refuses it."""
    from syndicate.extract import extract

    def answer(item: RawItem) -> Stored | bool:
        try:
            article = extract(item, ExtractSettings(), selectors)
        except ItemError:
            return False
        return Stored(article.prev.url if article.prev else None, article.next.url if article.next else None)

    return answer


def drain(
    events: Events, stored: Callable[[RawItem], Stored | bool] | None = None, *, reply: Stored | bool | None = None
) -> tuple[list[RawItem | ItemError], FetchResult]:
    """Every item and item error ``events`` yields (checkpoints left out) and how it
    ended. ``stored`` answers for each item as the poll does (default: it is extracted
    and its links are the answer); ``reply`` is the answer for an item already taken from
    ``events`` by the caller."""
    answer = stored or extracted()
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
            reply = answer(event)
