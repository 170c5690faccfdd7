"""Publishing: per-language feeds, translated pages and the feed index, from the store."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from syndicate.config import Settings
from syndicate.models import Lang
from syndicate.publish.edition import Edition, build_edition
from syndicate.publish.writer import FileWriter
from syndicate.store import SqliteStore

logger = logging.getLogger(__name__)


class FeedPublisher:
    """Rebuilds every output of the given languages from the store.

    Safe to run twice at once and idempotent: each file is rendered from stored data only
    and renamed into place.
    """

    def __init__(self, settings: Settings, store: SqliteStore, writer: FileWriter | None = None) -> None:
        self.settings = settings
        self.store = store
        self.writer = writer or FileWriter()

    def editions(self, languages: Sequence[Lang]) -> list[Edition]:
        articles = self.store.articles()
        per_language = {language: self.store.translations(language) for language in languages}
        languages_of: dict[int, list[Lang]] = {}
        for language, translated in per_language.items():
            for article_id in translated:
                languages_of.setdefault(article_id, []).append(language)
        return [
            build_edition(self.settings, language, articles, per_language[language], languages_of)
            for language in languages
        ]

    def publish(self, languages: Sequence[Lang]) -> int:
        """Write feeds and pages for ``languages``; return the number of files changed."""
        from syndicate.publish.feeds import atom_bytes, rss_bytes
        from syndicate.publish.pages import index_bytes, page_bytes

        feeds_dir = self.settings.feeds_dir
        pages_dir = self.settings.translations_dir
        changed = 0
        editions = [e for e in self.editions(languages) if e.entries]
        for edition in editions:
            lang_dir = feeds_dir / edition.language
            changed += self.writer.write(lang_dir / "atom.xml", atom_bytes(self.settings, edition))
            changed += self.writer.write(lang_dir / "rss.xml", rss_bytes(self.settings, edition))
            for entry in edition.entries:
                changed += self.writer.write(
                    pages_dir / edition.language / f"{entry.slug}.html", page_bytes(self.settings, edition, entry)
                )
            logger.info("published %s: %d entries", edition.language, len(edition.entries))
        changed += self.writer.write(feeds_dir / "index.html", index_bytes(self.settings, editions))
        return changed


__all__ = ["FeedPublisher"]
