"""``type = "pages"``: article pages on a site, walked by their previous/next links.

Reading one page (also used by the feed source for entries without full content) is
extraction's job: this module hands over the page's bytes, its HTTP charset and what the
caller already knows (a feed entry's title and metadata) as a :class:`RawItem`; the
pipeline extracts it with the operator's ``[extract]`` settings and this source's
``[sources.selectors]``. To walk, the source asks extraction for the page's
previous/next links (:func:`syndicate.extract.html.page_outline`), selectors included.

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

from syndicate.config import PageSelectors, PagesSourceSettings
from syndicate.errors import ItemError, SourceError
from syndicate.extract.decode import charset_of
from syndicate.extract.html import page_outline
from syndicate.models import Known, Meta, RawItem
from syndicate.selectors import compile_selector
from syndicate.sources.base import Checkpoint, Events, FetchResult, FetchState
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
    """One page, read: the item for extraction and the links to walk on."""

    key: str
    item: RawItem
    prev: str | None
    next: str | None


def read_page(
    fetched: Fetched,
    *,
    source: str,
    selectors: PageSelectors | None = None,
    key: str | None = None,
    url: str | None = None,
    title: str | None = None,
    language: str | None = None,
    published: datetime | None = None,
    meta: Meta | None = None,
    summary: str = "",
) -> PageRead:
    """A fetched article page as an item, with its previous/next links.

    ``key``, ``url``, ``title``, ``published`` and ``meta`` are what the caller knows
    better than the page (a feed entry); raise :class:`ItemError` when the page is not
    HTML at all.
    """
    page_url = strip_fragment(fetched.url)
    charset = charset_of(fetched.content_type)
    outline = page_outline(fetched.content, page_url, charset=charset, selectors=selectors, source=source)
    # A page without a title of its own is still read: extraction titles it by its first
    # words when it has text (the one place that decides what a title is).
    if not outline.has_text:
        raise ItemError("the page has no text", source=source, item=page_url, hint="check the URL")
    prev, nxt = outline.prev, outline.next
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
    return PageRead(key=item_key, item=item, prev=prev.url if prev else None, next=nxt.url if nxt else None)


class PageSource(HttpSource):
    """Article pages walked by previous/next links; see the module docstring."""

    settings: PagesSourceSettings

    def _read(self, fetched: Fetched) -> PageRead:
        return read_page(fetched, source=self.name, selectors=self.settings.selectors, language=self.settings.language)

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
            page = self._page_or_fail(fetched)
            seen.update({page.key, strip_fragment(fetched.url), self.settings.start_url})
            if (yield page.item) is False:
                return FetchResult(FetchState())  # not stored: start again on the next poll
            cursor.update(
                {
                    "start_url": self.settings.start_url,
                    "newest": page.key,
                    "newest_url": strip_fragment(fetched.url),
                    "newest_next": page.next,
                    "oldest": page.key,
                    "oldest_prev": page.prev,
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
                page = self._page_or_fail(fetched)
                if (yield page.item) is not False:
                    cursor["newest_next"] = page.next
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
            if (yield page.item) is False:
                break  # retried from here on the next poll
            cursor.update(newest=page.key, newest_url=strip_fragment(fetched.url), newest_next=page.next)
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
            if (yield page.item) is False:
                break
            cursor.update(oldest=page.key, oldest_prev=page.prev, backfilled=cursor["backfilled"] + 1)
            yield checkpoint()
            changed = True
        return FetchResult(checkpoint().state, not_modified=not changed)

    def _page_or_fail(self, fetched: Fetched) -> PageRead:
        try:
            return self._read(fetched)
        except ItemError as exc:
            raise SourceError(
                f"{fetched.url} is not an article page: {exc.message}", source=self.name, hint=exc.hint
            ) from None

    def _get_page(self, http: HttpFetcher, url: str) -> tuple[Fetched, PageRead] | ItemError:
        try:
            fetched = http.get(url)
            return fetched, self._read(fetched)
        except FetchError as exc:
            return ItemError(f"{exc.message}", source=self.name, item=url, hint=exc.hint)
        except ItemError as exc:
            return exc
