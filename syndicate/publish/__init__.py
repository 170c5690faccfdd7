"""Publishing: per-language feeds and archives, translated pages, indexes, from the store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from syndicate import metrics
from syndicate.config import Settings
from syndicate.models import Lang
from syndicate.publish.edition import FEED_FORMATS, Edition, build_edition
from syndicate.publish.history import FeedPage, feed_pages
from syndicate.publish.writer import FileWriter
from syndicate.store import FeedHistory, SqliteStore

logger = logging.getLogger(__name__)


class FeedPublisher:
    """Rebuilds every output of the given languages from the store.

    Safe to run twice at once and idempotent: each file is rendered from stored data only
    and renamed into place; archive membership and the documents of full archive pages
    come from the store (:class:`FeedHistory`), so they never change once written.
    """

    def __init__(
        self,
        settings: Settings,
        store: SqliteStore,
        writer: FileWriter | None = None,
        *,
        notify: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.writer = writer or FileWriter()
        self.history = FeedHistory(store)
        #: Told the URLs of the subscription feeds a publish changed (WebSub pings); by
        #: default the configured hubs' :class:`~syndicate.publish.websub.HubNotifier`.
        self.notify = notify if notify is not None else _default_notifier(settings, store)
        #: The subscription-feed URLs whose bytes the last :meth:`publish` changed.
        self.changed_feeds: tuple[str, ...] = ()

    def editions(self, languages: Sequence[Lang]) -> list[Edition]:
        """The editions of ``languages``; siblings span every configured language."""
        configured = list(dict.fromkeys([*self.settings.translate.languages, *languages]))
        languages = list(dict.fromkeys(languages))
        articles = self.store.articles()
        per_language = {language: self.store.translations(language) for language in configured}
        languages_of: dict[int, list[Lang]] = {}
        for language, translated in per_language.items():
            for article_id in translated:
                languages_of.setdefault(article_id, []).append(language)
        publishing = [language for language in configured if per_language[language]]
        return [
            build_edition(self.settings, language, articles, per_language[language], languages_of, publishing)
            for language in languages
        ]

    def publish(self, languages: Sequence[Lang]) -> int:
        """Write feeds, archives and pages for ``languages``; return the number of files changed."""
        from syndicate.publish.pages import index_bytes, language_index_bytes, opml_bytes, page_bytes

        started = time.monotonic()
        feeds_dir = self.settings.feeds_dir
        pages_dir = self.settings.translations_dir
        if removed := self.writer.sweep(feeds_dir, pages_dir):
            logger.info("removed %d temporary file(s) left by an interrupted run", removed)
        wanted = set(languages)
        # The indexes list every configured language that publishes, not only these.
        editions = [e for e in self.editions([*self.settings.translate.languages, *languages]) if e.entries]
        changed = 0
        changed_feeds: list[str] = []
        for edition in editions:
            if edition.language not in wanted:
                continue
            changed += self._publish_feeds(edition, changed_feeds)
            for entry in edition.entries:
                changed += self.writer.write(
                    pages_dir / edition.language / f"{entry.slug}.html", page_bytes(self.settings, edition, entry)
                )
            changed += self.writer.write(
                pages_dir / edition.language / "index.html", language_index_bytes(self.settings, edition)
            )
            logger.info("published %s: %d entries", edition.language, len(edition.entries))
        changed += self.writer.write(feeds_dir / "index.html", index_bytes(self.settings, editions))
        changed += self.writer.write(feeds_dir / "opml.xml", opml_bytes(self.settings, editions))
        metrics.record_publish(time.monotonic() - started, changed)
        self.changed_feeds = tuple(changed_feeds)
        if changed_feeds and self.notify is not None:
            self.notify(self.changed_feeds)  # queues the pings: never blocks or fails the publish
        return changed

    def _publish_feeds(self, edition: Edition, changed_feeds: list[str]) -> int:
        """A language's archive pages (oldest first), then its subscription documents.

        Archives first: a reader fetching in between sees an entry twice, never not at all.
        """
        layout = self.history.place(
            edition.language, [e.article_id for e in edition.entries], self.settings.output.feed_size
        )
        changed = 0
        lang_dir = self.settings.feeds_dir / edition.language
        frozen = self.history.frozen_sizes(edition.language)
        for page in feed_pages(edition, layout):
            if page.full and page.number is not None:
                sizes = [frozen.get((page.number, fmt)) for fmt in FEED_FORMATS]
                paths = [lang_dir / page.path(fmt) for fmt in FEED_FORMATS]
                if all(size is not None and self.writer.has(path, size) for path, size in zip(paths, sizes, strict=True)):
                    continue  # a full page never changes: its files are in place
            for fmt, data in self._documents(page).items():
                if self.writer.write(lang_dir / page.path(fmt), data):
                    changed += 1
                    if not page.is_archive:
                        changed_feeds.append(page.url(fmt))
        return changed

    def _documents(self, page: FeedPage) -> dict[str, bytes]:
        from syndicate.publish.feeds import RENDERERS, documents

        if not page.full:
            return documents(self.settings, page)
        assert page.number is not None
        language = page.edition.language
        stored = self.history.frozen(language, page.number)
        missing = {fmt: render(self.settings, page) for fmt, render in RENDERERS.items() if fmt not in stored}
        if missing:
            logger.info("archive page %s/%d is full: frozen", language, page.number)
            stored = self.history.freeze(language, page.number, missing)
        return {fmt: stored[fmt] for fmt in RENDERERS}


def _default_notifier(settings: Settings, store: SqliteStore) -> Callable[[Sequence[str]], None] | None:
    if not settings.publish.websub_hubs:
        return None
    from syndicate.publish.websub import HubNotifier

    return HubNotifier.shared(settings.publish.websub_hubs, store)


__all__ = ["FeedPublisher"]
