"""The Source protocol."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from syndicate.errors import ItemError
from syndicate.models import RawItem


class Source(Protocol):
    """Where articles come from.

    ``fetch()`` yields one :class:`RawItem` per article, or an :class:`ItemError` for an
    item it could not read, so one bad item never stops the rest. A failure of the whole
    source raises :class:`~syndicate.errors.SourceError`.
    """

    name: str

    def fetch(self) -> Iterator[RawItem | ItemError]:
        ...
