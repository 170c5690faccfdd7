"""Read-only summaries of the store for the status page: light queries, no bodies loaded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text

from syndicate.models import Lang
from syndicate.store.schema import articles, feed_log, translations

if TYPE_CHECKING:
    from syndicate.store.base import Store


@dataclass(frozen=True)
class EngineShare:
    """How many of a language's stored translations one engine and model made."""

    engine: str
    model: str
    translations: int


@dataclass(frozen=True)
class LanguageOverview:
    """A target language as the store sees it."""

    language: Lang
    published: int  # entries ever published in its feeds (subscription feed + archives)
    translated: int  # stored translations
    pending: int  # articles without a current translation
    engines: tuple[EngineShare, ...]  # most translations first


class StoreOverview:
    """Summaries for ``/status``; every method is one short read transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def ping(self) -> bool:
        """Whether the store answers a query."""
        try:
            with self.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            return False
        return True

    def languages(
        self, languages: Sequence[Lang], article_language: Callable[[str, str | None], Lang]
    ) -> list[LanguageOverview]:
        """Per language: published entries, translations, pending work and engines.

        ``article_language(source, declared)`` is the configured rule for the language an
        article is read as (:meth:`Settings.article_language`), which decides whether a
        stored translation is still current.
        """
        with self.store.engine.connect() as conn:
            sources = {
                row.id: f"{row.content_hash}:{article_language(row.source, row.language)}"
                for row in conn.execute(
                    select(articles.c.id, articles.c.source, articles.c.language, articles.c.content_hash)
                )
            }
            made: dict[str, dict[int, str]] = {}
            for row in conn.execute(
                select(translations.c.language, translations.c.article_id, translations.c.source_hash)
            ):
                made.setdefault(row.language, {})[row.article_id] = row.source_hash
            shares: dict[str, list[EngineShare]] = {}
            for row in conn.execute(
                select(translations.c.language, translations.c.engine, translations.c.model, func.count())
                .group_by(translations.c.language, translations.c.engine, translations.c.model)
                .order_by(func.count().desc())
            ):
                shares.setdefault(row[0], []).append(EngineShare(row[1], row[2] or "", int(row[3])))
            published = {
                row[0]: int(row[1])
                for row in conn.execute(select(feed_log.c.language, func.count()).group_by(feed_log.c.language))
            }
        out: list[LanguageOverview] = []
        for language in languages:
            done = made.get(language, {})
            pending = sum(1 for aid, key in sources.items() if done.get(aid) != key)
            out.append(
                LanguageOverview(
                    language=language,
                    published=published.get(language, 0),
                    translated=len(done),
                    pending=pending,
                    engines=tuple(shares.get(language, ())),
                )
            )
        return out


__all__ = ["EngineShare", "LanguageOverview", "StoreOverview"]
