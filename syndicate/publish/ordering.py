"""The source's previous/next chain -> publication order. Pure functions only."""

from __future__ import annotations

import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Generic, NamedTuple, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from syndicate.models import Ref, StoredArticle


class Chained(Protocol):
    """What ordering needs of an article: light columns, never its body.

    The store's :class:`~syndicate.store.publication.ArticleLine` is one; a
    :class:`StoredArticle` is read through the same fields.
    """

    @property
    def id(self) -> int: ...
    @property
    def url(self) -> str | None: ...
    @property
    def title(self) -> str: ...
    @property
    def prev(self) -> Ref | None: ...
    @property
    def next(self) -> Ref | None: ...
    @property
    def published(self) -> datetime | None: ...
    @property
    def first_seen(self) -> datetime: ...


@dataclass(frozen=True)
class _Link:
    """A StoredArticle seen as :class:`Chained`."""

    id: int
    url: str | None
    title: str
    prev: Ref | None
    next: Ref | None
    published: datetime | None
    first_seen: datetime


def _chained(item: StoredArticle | Chained) -> Chained:
    if isinstance(item, StoredArticle):
        a = item.article
        return _Link(item.id, a.url, a.title, a.prev, a.next, a.published, item.first_seen)
    return item


T = TypeVar("T", bound="StoredArticle | Chained")


class Placed(NamedTuple, Generic[T]):
    """An article with its resolved neighbours (ids), in publication order (a named
    tuple: one per article per ordering)."""

    article: T
    previous: int | None  # the older neighbour, per the source's links
    next: int | None  # the newer neighbour


@lru_cache(maxsize=1 << 17)
def _url_key(url: str) -> str:
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower().replace("https", "http"), parts.netloc.lower(), path, parts.query, ""))


#: Runs of non-word characters, compiled once (re.sub's own cache lookup per call costs
#: as much as the substitution on 10,000s of titles).
_NON_WORD = re.compile(r"\W+")


@lru_cache(maxsize=1 << 17)
def _title_key(title: str) -> str:
    return _NON_WORD.sub(" ", title.casefold()).strip()


def resolve_links(items: Sequence[StoredArticle | Chained]) -> dict[int, tuple[int | None, int | None]]:
    """Resolve every article's prev/next references to article ids, by link or by title.

    A link counts from either side: if A says "next is B" and B says nothing, B's
    previous is still A.
    """
    articles = [_chained(item) for item in items]
    if not any(a.prev or a.next for a in articles):
        return {a.id: (None, None) for a in articles}  # nothing refers to anything
    by_url: dict[str, int] = {}
    by_title: dict[str, int] = {}
    for sa in articles:
        if sa.url:
            by_url.setdefault(_url_key(sa.url), sa.id)
        by_title.setdefault(_title_key(sa.title), sa.id)

    def find(ref_url: str | None, ref_title: str | None) -> int | None:
        if ref_url and _url_key(ref_url) in by_url:
            return by_url[_url_key(ref_url)]
        if ref_title and _title_key(ref_title) in by_title:
            return by_title[_title_key(ref_title)]
        if ref_url:
            # An article without a URL of its own (a file in a drop folder) is still
            # found by a link whose last path segment is its title, slugified:
            # ".../articles/city-library-reopens.html" -> "City Library Reopens".
            stem = urlsplit(ref_url).path.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
            return by_title.get(_title_key(stem.replace("-", " ").replace("_", " ")))
        return None

    prev: dict[int, int] = {}
    nxt: dict[int, int] = {}
    for a in articles:
        if a.prev and (p := find(a.prev.url, a.prev.title)) is not None and p != a.id:
            prev.setdefault(a.id, p)
            nxt.setdefault(p, a.id)
        if a.next and (n := find(a.next.url, a.next.title)) is not None and n != a.id:
            nxt[a.id] = n  # an article's own statement wins over the inference above
            prev.setdefault(n, a.id)
    return {a.id: (prev.get(a.id), nxt.get(a.id)) for a in articles}


def rank(sa: Chained) -> tuple[float, float, int]:
    """An article's sort key, newest first (times negated): publication date, then first
    seen, then id: the order of articles the chain does not relate."""
    when = sa.published or sa.first_seen
    return (-when.timestamp(), -sa.first_seen.timestamp(), -sa.id)


def publication_order(items: Sequence[T]) -> list[Placed[T]]:
    """Newest first, following the source's chain.

    The chain gives "older than" edges; a topological sort puts every article after its
    newer neighbours. Articles the chain does not relate are ordered by publication date,
    then first-seen time, then id, so the result is total and deterministic. A cycle in
    the source's links (it happens) is broken at its newest-looking article, and the
    links that would close it are dropped: a published ``previous`` always points further
    down the order and ``next`` further up, so following either never loops.
    """
    articles = [_chained(item) for item in items]
    links = resolve_links(articles)
    if not any(p is not None or n is not None for p, n in links.values()):
        # No chain at all (a drop folder, most feeds): the sort below, without a graph.
        ranked = sorted(zip(articles, items, strict=True), key=lambda pair: rank(pair[0]))
        return [Placed(item, None, None) for _, item in ranked]
    by_id = {sa.id: sa for sa in articles}
    original = {sa.id: item for sa, item in zip(articles, items, strict=True)}
    # Edge newer -> older: emit newer first.
    older_of: dict[int, set[int]] = {sa.id: set() for sa in articles}
    indegree: dict[int, int] = {sa.id: 0 for sa in articles}
    for aid, (p, n) in links.items():
        for newer, older in ((aid, p), (n, aid)):
            if newer is None or older is None or older in older_of[newer]:
                continue
            older_of[newer].add(older)
            indegree[older] += 1

    def by_rank(aid: int) -> tuple[float, float, int]:
        return rank(by_id[aid])

    heap = [(by_rank(aid), aid) for aid, deg in indegree.items() if deg == 0]
    heapq.heapify(heap)
    order: list[int] = []
    done: set[int] = set()
    while len(order) < len(articles):
        if not heap:  # a cycle: release the newest-looking remaining article
            rest = [aid for aid in indegree if aid not in done]
            aid = min(rest, key=by_rank)
            heap.append((by_rank(aid), aid))
        _, aid = heapq.heappop(heap)
        if aid in done:
            continue
        done.add(aid)
        order.append(aid)
        for older in sorted(older_of[aid]):
            indegree[older] -= 1
            if indegree[older] == 0 and older not in done:
                heapq.heappush(heap, (by_rank(older), older))
    position = {aid: i for i, aid in enumerate(order)}

    def along(aid: int, neighbour: int | None, older: bool) -> int | None:
        if neighbour is None:
            return None
        return neighbour if (position[neighbour] > position[aid]) == older else None

    return [Placed(original[aid], along(aid, links[aid][0], True), along(aid, links[aid][1], False)) for aid in order]
