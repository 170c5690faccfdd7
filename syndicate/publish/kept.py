"""What a long-running process keeps of what it rendered, for its next publish.

A daemon publishes a language again and again, and most of each document it rewrites is
as it was: the entries of the subscription feed and the open archive page, the URLs of
the last sitemap file and of the news sitemap. :class:`RenderCache` keeps such parts by
a key that says everything they were made from. Off (keeping nothing) unless a daemon
turns it on: a ``once`` renders each document once and would only hold the memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class RenderCache:
    """Rendered parts of this process by key, least recently used out first past
    ``max_bytes`` kept. A part larger than ``largest`` (an eighth of the budget unless
    given) is not kept: one huge article must not push out every other."""

    def __init__(self, max_bytes: int = 0, largest: int | None = None) -> None:
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.resize(max_bytes, largest)

    @property
    def size(self) -> int:
        """Bytes kept now."""
        return self._bytes

    def resize(self, max_bytes: int, largest: int | None = None) -> None:
        """Keep at most ``max_bytes`` from now on (0: keep nothing)."""
        with self._lock:
            self.max_bytes = max_bytes
            self.largest = max_bytes // 8 if largest is None else largest
            self._trim()

    def get(self, key: Hashable) -> Any:
        """What is kept under ``key``; None when nothing is, the cache is off or ``key``
        cannot be hashed (a list where a tuple was expected: a cache never fails a publish)."""
        if not self.max_bytes:
            return None
        try:
            hash(key)
        except TypeError:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        """Keep ``value`` (``size`` bytes) under ``key``, if on and it is small enough."""
        if not self.max_bytes or size > self.largest:
            return
        try:
            hash(key)
        except TypeError:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes += size - (old[1] if old is not None else 0)
            self._entries[key] = (value, size)
            self._trim()

    def kept(self, key: Hashable, make: Callable[[], T], size: Callable[[T], int | None]) -> T:
        """What is kept under ``key``, or ``make()`` now, then kept (``size`` of it in
        bytes, asked only when the cache is on; None: not to be kept)."""
        found: T | None = self.get(key)
        if found is None:
            found = make()
            if self.max_bytes and (n := size(found)) is not None:
                self.put(key, found, n)
        return found

    def _trim(self) -> None:
        while self._bytes > self.max_bytes:
            _, (_, size) = self._entries.popitem(last=False)
            self._bytes -= size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
