"""Read-only summaries of the store for the status page: light queries, no bodies loaded."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select, text

from syndicate.models import Lang
from syndicate.store.schema import feed_state, translation_counts, translations

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


#: Upper bounds of the confidence histogram (``/metrics``, ``/status.json``).
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


@dataclass(frozen=True)
class QualityOverview:
    """How far a language's stored machine translations can be trusted."""

    language: Lang
    translations: int  # machine translations stored
    scored: int  # of which an engine gave a confidence
    mean: float | None  # their mean confidence
    low: int  # under the language's threshold
    #: Cumulative counts per bucket upper bound (Prometheus histogram style).
    buckets: tuple[tuple[float, int], ...] = ()
    total: float = 0.0  # sum of the confidences


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
        self, languages: Sequence[Lang], sources_into: Callable[[Lang], Sequence[str] | None]
    ) -> list[LanguageOverview]:
        """Per language: published entries, translations, pending work and engines.

        Nothing here reads a row per article or per translation: entries published are the
        feed's sequence counter, translations and engines the counts kept as each
        translation is stored (``translation_counts``), and pending work the count the
        database makes of what the next pass into the language takes (its own query, with
        the articles a settings change listed and less those the sources' filters hold
        back). ``sources_into`` is :meth:`Settings.sources_into`.
        """
        with self.store.engine.connect() as conn:
            shares: dict[str, list[EngineShare]] = {}
            for language, engine, model, n in conn.execute(
                select(
                    translation_counts.c.language,
                    translation_counts.c.engine,
                    translation_counts.c.model,
                    translation_counts.c.translations,
                )
                .where(translation_counts.c.translations > 0)
                .order_by(translation_counts.c.translations.desc(), translation_counts.c.engine)
            ):
                shares.setdefault(language, []).append(EngineShare(engine, model or "", int(n)))
            published = {
                language: int(next_seq) - 1
                for language, next_seq in conn.execute(select(feed_state.c.language, feed_state.c.next_seq))
            }
        out: list[LanguageOverview] = []
        for language in languages:
            engines = tuple(shares.get(language, ()))
            pending = self.store.articles.pending_count(
                language, sources_into(language), also=self.store.translations.recheck(language)
            )
            out.append(
                LanguageOverview(
                    language=language,
                    published=published.get(language, 0),
                    translated=sum(share.translations for share in engines),
                    pending=pending,
                    engines=engines,
                )
            )
        return out

    def quality(self, thresholds: Mapping[Lang, float]) -> dict[Lang, QualityOverview]:
        """Per language of ``thresholds``: its machine translations' confidence, the mean,
        a histogram, and how many fall under the language's threshold. One aggregate query."""
        t = translations.c
        columns = [
            t.language,
            func.count(),
            func.count(t.confidence),
            func.avg(t.confidence),
            func.coalesce(func.sum(t.confidence), 0.0),
            *(func.sum(case((t.confidence <= bound, 1), else_=0)) for bound in CONFIDENCE_BUCKETS),
        ]
        with self.store.engine.connect() as conn:
            rows = {
                row[0]: row
                for row in conn.execute(
                    select(*columns).where(t.engine != "source", t.language.in_(list(thresholds))).group_by(t.language)
                )
            }
            low: dict[str, int] = {}
            for language, threshold in thresholds.items():
                if threshold > 0 and language in rows:
                    low[language] = int(
                        conn.execute(
                            select(func.count()).where(
                                t.language == language, t.engine != "source", t.confidence < threshold
                            )
                        ).scalar_one()
                    )
        out: dict[Lang, QualityOverview] = {}
        for language in thresholds:
            row = rows.get(language)
            if row is None:
                out[language] = QualityOverview(language, 0, 0, None, 0)
                continue
            counts = [int(v or 0) for v in row[5:]]
            out[language] = QualityOverview(
                language=language,
                translations=int(row[1]),
                scored=int(row[2]),
                mean=round(float(row[3]), 4) if row[3] is not None else None,
                low=low.get(language, 0),
                buckets=tuple(zip(CONFIDENCE_BUCKETS, counts, strict=True)),
                total=float(row[4] or 0.0),
            )
        return out


__all__ = ["CONFIDENCE_BUCKETS", "EngineShare", "LanguageOverview", "QualityOverview", "StoreOverview"]
