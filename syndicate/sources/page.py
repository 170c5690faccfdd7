"""``type = "pages"``: article pages on a site, walked by their previous/next links.

Reading one page (also used by the feed source for entries without full content) is
extraction's job: this module hands over the page's bytes, its HTTP charset and what the
caller already knows (a feed entry's title and metadata) as a :class:`RawItem`; the
pipeline extracts it with the operator's ``[extract]`` settings and this source's
``[sources.selectors]``, and answers with the previous/next links extraction read in
it (:class:`~syndicate.sources.base.Stored`), selectors included, which the walk
follows: a page is parsed once, by extraction.

Walking: the first poll reads ``start_url``, follows next links to the newest article,
then previous links to backfill up to ``backfill`` older ones. Later polls re-check the
newest page (a conditional GET), follow any new next links, and carry on an unfinished
backfill. Where the walk stands is the source's cursor, persisted by the scheduler.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syndicate.config import PagesSourceSettings
from syndicate.errors import ItemError
from syndicate.extract.decode import charset_of
from syndicate.models import Known, Meta, RawItem
from syndicate.selectors import compile_selector
from syndicate.sources.base import Checkpoint, Events, FetchResult, FetchState, Stored
from syndicate.sources.http import (
    Fetched,
    FetchError,
    HttpFetcher,
    HttpSource,
    strip_fragment,
)

logger = logging.getLogger(__name__)

#: Next links followed in one poll, at most (a runaway chain is finished next poll).
MAX_NEWER_PER_POLL = 100
#: Older pages one poll fetches while backfilling; the walk goes on from there next poll.
MAX_OLDER_PER_POLL = 500

__all__ = ["PageRead", "PageSource", "compile_selector", "read_page"]


@dataclass(frozen=True)
class PageRead:
    """One fetched page as the item for extraction, and the key it is stored under."""

    key: str
    item: RawItem


def read_page(
    fetched: Fetched,
    *,
    source: str,
    key: str | None = None,
    url: str | None = None,
    title: str | None = None,
    language: str | None = None,
    published: datetime | None = None,
    meta: Meta | None = None,
    summary: str = "",
) -> PageRead:
    """A fetched article page as an item: its bytes, its HTTP charset and what the caller
    knows better than the page (a feed entry's ``key``, ``url``, ``title``,
    ``published`` and ``meta``). Nothing is parsed here: extraction reads the page, titles
    it or refuses it when it has no text (the one place that decides either)."""
    page_url = strip_fragment(fetched.url)
    charset = charset_of(fetched.content_type)
    # The page's own address identifies it: some sites point every canonical link at
    # their home page, which would fold all articles into one.
    item_key = key or page_url
    known = Known(title=title, meta=meta or Meta(), summary=summary) if (title or meta or summary) else None
    item = RawItem(
        source=source,
        key=item_key,
        data=fetched.content,
        media_type="text/html",
        url=url or page_url,
        base_url=page_url,
        language=language,
        published=published,
        known=known,
        charset=charset,
    )
    return PageRead(key=item_key, item=item)


class PageSource(HttpSource):
    """Article pages walked by previous/next links; see the module docstring."""

    settings: PagesSourceSettings

    def _read(self, fetched: Fetched) -> PageRead:
        return read_page(fetched, source=self.name, language=self.settings.language)

    def fetch(self, state: FetchState) -> Events:
        start = self.settings.start_url
        cursor: dict[str, Any] = dict(state.cursor)
        if cursor.get("start_url") != start:  # new source, or start_url changed: start over
            cursor, state = {}, FetchState()
        http = self._http()
        try:
            return (yield from self._walk(http, state, cursor))
        finally:
            if self._fetcher is None:
                http.close()

    def _walk(self, http: HttpFetcher, state: FetchState, cursor: dict[str, Any]) -> Events:
        """Walk newer, then older pages; each stored page moves the cursor (a checkpoint).

        A page that fails (to fetch, to read, or to be stored) ends the walk in its
        direction: the next poll tries it again from there.
        """
        seen: set[str] = set()
        changed = False
        validators = (state.etag, state.last_modified)

        def checkpoint() -> Checkpoint:
            return Checkpoint(FetchState(etag=validators[0], last_modified=validators[1], cursor=dict(cursor)))

        if not cursor:
            fetched = http.get(self.settings.start_url)  # FetchError: the whole source failed
            page = self._read(fetched)
            seen.update({page.key, strip_fragment(fetched.url), self.settings.start_url})
            links = _links((yield page.item))
            if links is None:
                return FetchResult(FetchState())  # not stored: start again on the next poll
            cursor.update(
                {
                    "start_url": self.settings.start_url,
                    "newest": page.key,
                    "newest_url": strip_fragment(fetched.url),
                    "newest_next": links.next,
                    "oldest": page.key,
                    "oldest_prev": links.prev,
                    "backfilled": 0,
                }
            )
            validators = (fetched.etag, fetched.last_modified)
            yield checkpoint()
            changed = True
        else:
            newest_url = cursor["newest_url"]
            fetched = http.get(newest_url, etag=state.etag, last_modified=state.last_modified)
            seen.update({cursor["newest"], newest_url})
            if not fetched.not_modified:
                page = self._read(fetched)
                links = _links((yield page.item))
                if links is not None:
                    cursor["newest_next"] = links.next
                    validators = (fetched.etag, fetched.last_modified)
                    yield checkpoint()
                    changed = True

        # Newer articles: follow next links from the newest one we hold.
        walked = 0
        while cursor.get("newest_next") and walked < MAX_NEWER_PER_POLL and not self.should_stop():
            url = strip_fragment(cursor["newest_next"])
            if url in seen:
                logger.warning("[%s] next links loop back to %s; stopping there", self.name, url)
                cursor["newest_next"] = None
                break
            result = self._get_page(http, url)
            if isinstance(result, ItemError):
                yield result  # retried from here on the next poll
                break
            fetched, page = result
            seen.update({url, page.key})
            links = _links((yield page.item))
            if links is None:
                break  # retried from here on the next poll
            cursor.update(newest=page.key, newest_url=strip_fragment(fetched.url), newest_next=links.next)
            validators = (fetched.etag, fetched.last_modified)
            yield checkpoint()
            walked += 1
            changed = True

        # Older articles: follow previous links until `backfill` are held, at most
        # MAX_OLDER_PER_POLL a poll (a backfill of thousands goes on at the next poll).
        older = 0
        while (
            cursor.get("oldest_prev")
            and cursor["backfilled"] < self.settings.backfill
            and not self.should_stop()
            and older < MAX_OLDER_PER_POLL
        ):
            older += 1
            url = strip_fragment(cursor["oldest_prev"])
            if url in seen:
                logger.warning("[%s] previous links loop back to %s; backfill ends there", self.name, url)
                cursor["oldest_prev"] = None
                break
            result = self._get_page(http, url)
            if isinstance(result, ItemError):
                yield result
                break
            fetched, page = result
            seen.update({url, page.key})
            links = _links((yield page.item))
            if links is None:
                break
            cursor.update(oldest=page.key, oldest_prev=links.prev, backfilled=cursor["backfilled"] + 1)
            yield checkpoint()
            changed = True
        return FetchResult(checkpoint().state, not_modified=not changed)

    def _get_page(self, http: HttpFetcher, url: str) -> tuple[Fetched, PageRead] | ItemError:
        try:
            fetched = http.get(url)
        except FetchError as exc:
            return ItemError(f"{exc.message}", source=self.name, item=url, hint=exc.hint)
        return fetched, self._read(fetched)


def _links(reply: Stored | bool | None) -> Stored | None:
    """The links to walk on from the poll's answer to a page; None when it was not stored
    (a caller that only says "stored" gives none: the walk ends there)."""
    if reply is False:
        return None
    return reply if isinstance(reply, Stored) else Stored()
