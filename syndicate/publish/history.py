"""RFC 5005 archived feeds: which entries each document of a language holds, and its links.

Pure: the store decides membership (:class:`syndicate.store.archive.FeedLayout`); this
module turns it into documents, each in every format (:data:`~syndicate.publish.formats.FORMATS`):

- the subscription document ``feeds/<lang>/atom.xml`` (``rss.xml``, ``feed.json``): the
  newest entries, ``prev-archive`` -> the newest archive page;
- archive pages ``feeds/<lang>/archive/<n>.xml`` (``.rss``, ``.json``), 1 = oldest, each
  with ``prev-archive`` (n-1), ``next-archive`` (n+1, when it exists), ``current`` (the
  subscription document) and the ``fh:archive`` marker.

The language's page index is paginated the same way, page for page: the front page
``translations/<lang>/index.html`` lists the subscription document's entries and each
``translations/<lang>/archive/<n>.html`` its archive page's (:func:`index_path`), so a
new article changes the front page and at most the open archive page, whatever the
history, and a full page never changes again (the publisher freezes it in the store).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urljoin

from syndicate.publish.edition import Edition, FeedEntry, ListedEntry
from syndicate.publish.formats import FORMATS
from syndicate.store.archive import FeedLayout

#: The date a document with no entries (and no older page) says it was updated.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedPage:
    """One document of a language's feed: the subscription document or an archive page.

    Planned from the light listing (``members``); ``entries`` holds the whole entries
    once the document is to be rendered (:meth:`with_entries`).
    """

    edition: Edition
    members: tuple[ListedEntry, ...]  # publication order, newest first
    number: int | None  # archive page number; None for the subscription document
    prev_archive: int | None  # the next older archive page
    next_archive: int | None  # the next newer archive page (archive pages only)
    full: bool  # an archive page that never changes again
    updated: datetime
    entries: tuple[FeedEntry, ...] = ()  # the members, whole, in the same order

    def with_entries(self, entries: Sequence[FeedEntry]) -> FeedPage:
        """This document with its members' whole entries (those that still exist)."""
        return replace(self, entries=tuple(entries))

    @property
    def is_archive(self) -> bool:
        return self.number is not None

    def path(self, fmt: str) -> str:
        """The document's file path relative to ``feeds/<lang>/``."""
        return archive_path(self.number, fmt) if self.number is not None else FORMATS[fmt].file

    def url(self, fmt: str) -> str:
        return urljoin(self.edition.feeds_url, self.path(fmt))

    def archive_url(self, number: int, fmt: str) -> str:
        return urljoin(self.edition.feeds_url, archive_path(number, fmt))

    def current_url(self, fmt: str) -> str:
        return self.edition.feed_url(fmt)


def archive_path(number: int, fmt: str) -> str:
    return f"archive/{number}{FORMATS[fmt].suffix}"


#: The "format" a page index's archive page is frozen under in the store, beside its feeds'.
INDEX_FORMAT = "index"


def index_path(number: int | None) -> str:
    """A page index page's path relative to ``translations/<lang>/``: the front page
    (``number`` None, the subscription document's entries) or archive page ``number``."""
    return "index.html" if number is None else f"archive/{number}.html"


def feed_pages(edition: Edition, layout: FeedLayout) -> list[FeedPage]:
    """Every document of ``edition`` the layout names: archive pages oldest first, then
    the subscription (every page, or those a change can reach: see
    :meth:`~syndicate.store.archive.FeedHistory.advance`).

    Entries the layout names but the edition no longer has (no translation) are left out.
    """
    by_id = {e.article_id: e for e in edition.listing}
    position = {e.article_id: i for i, e in enumerate(edition.listing)}

    def ordered(ids: tuple[int, ...]) -> tuple[ListedEntry, ...]:
        return tuple(by_id[i] for i in sorted((i for i in ids if i in by_id), key=position.__getitem__))

    pages: list[FeedPage] = []
    updated = EPOCH
    numbers = [p.number for p in layout.pages]
    newest = numbers[-1] if numbers else 0  # pages are numbered 1 to the newest, none missing
    for page in layout.pages:
        entries = ordered(page.article_ids)
        updated = max((e.updated for e in entries), default=updated)
        pages.append(
            FeedPage(
                edition=edition,
                members=entries,
                number=page.number,
                prev_archive=page.number - 1 if page.number > 1 else None,
                next_archive=page.number + 1 if page.number < newest else None,
                full=page.full,
                updated=updated,
            )
        )
    entries = ordered(layout.current)
    pages.append(
        FeedPage(
            edition=edition,
            members=entries,
            number=None,
            prev_archive=numbers[-1] if numbers else None,
            next_archive=None,
            full=False,
            updated=max((e.updated for e in entries), default=updated),
        )
    )
    return pages
