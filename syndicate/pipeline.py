"""One pass: pull, extract, store, translate, publish, with per-item isolation.

Each stage is an idempotent unit of work against the store (poll a source, translate one
language, publish one language), so a repeated or interrupted pass is harmless and the
stages can later run as separate jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from syndicate.config import Settings
from syndicate.errors import ItemError, SourceError, StoreError, SyndicateError, TranslationError
from syndicate.extract import extract
from syndicate.models import Lang, RunReport, StoredArticle, Translation, lang
from syndicate.publish import FeedPublisher
from syndicate.sources import Source, make_source
from syndicate.store import SqliteStore
from syndicate.translate import ENGINES, Translator
from syndicate.translate.segments import normalize, split_sentences

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class _Tally:
    items_seen: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    segments_translated: int = 0
    memory_hits: int = 0
    translations_written: int = 0
    files_written: int = 0
    failures: list[str] = field(default_factory=list)
    unserved: list[str] = field(default_factory=list)

    def report(self) -> RunReport:
        return RunReport(
            items_seen=self.items_seen,
            articles_new=self.articles_new,
            articles_updated=self.articles_updated,
            segments_translated=self.segments_translated,
            memory_hits=self.memory_hits,
            translations_written=self.translations_written,
            files_written=self.files_written,
            failures=tuple(self.failures),
            unserved_languages=tuple(self.unserved),
        )


class EnginePool:
    """Engines by name, created on first use; an engine that cannot start serves nothing."""

    def __init__(self, settings: Settings, factories: dict[str, Callable[[Settings], Translator]] | None = None) -> None:
        self.settings = settings
        self.factories = factories or ENGINES
        self._engines: dict[str, Translator | None] = {}
        self.problems: dict[str, str] = {}

    def get(self, name: str) -> Translator | None:
        if name not in self._engines:
            try:
                self._engines[name] = self.factories[name](self.settings)
            except (ImportError, OSError, SyndicateError) as exc:
                self.problems[name] = str(exc)
                logger.warning("engine %s is unavailable: %s", name, exc)
                self._engines[name] = None
        return self._engines[name]

    def pairs(self, name: str) -> frozenset[tuple[Lang, Lang]]:
        engine = self.get(name)
        if engine is None:
            return frozenset()
        try:
            return engine.pairs()
        except (ImportError, OSError, SyndicateError) as exc:
            self.problems[name] = str(exc)
            logger.warning("engine %s cannot list its models: %s", name, exc)
            return frozenset()

    def chain(self, source: Lang, target: Lang) -> list[Translator]:
        """Engines that have the pair, in configured order."""
        out = []
        for name in self.settings.translate.engines:
            engine = self.get(name)
            if engine is not None and (source, target) in self.pairs(name):
                out.append(engine)
        return out

    def close(self) -> None:
        for engine in self._engines.values():
            if engine is not None:
                engine.close()


def install_hint(source: str, target: str) -> str:
    return (
        f"`syndicate models install {source} {target}` (online) or "
        f"`syndicate models install --file translate-{source}_{target}.argosmodel`, "
        f"or the Debian package for Apertium's {source}-{target} pair (`apt-cache search apertium-`)"
    )


class Pipeline:
    """One pass over every source and language."""

    def __init__(
        self,
        settings: Settings,
        store: SqliteStore,
        *,
        engines: EnginePool | None = None,
        publisher: FeedPublisher | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.store = store
        self.engines = engines or EnginePool(settings)
        self.publisher = publisher or FeedPublisher(settings, store)
        self.clock = clock

    # -- stage 1+2: pull and extract -------------------------------------------------

    def pull(self, tally: _Tally, sources: Sequence[str] | None = None) -> None:
        """Pull every source (or only the named ones) into the store."""
        for source_settings in self.settings.sources:
            if sources is not None and source_settings.name not in sources:
                continue
            self.pull_source(make_source(source_settings, self.settings.root), tally)

    def pull_source(self, source: Source, tally: _Tally) -> None:
        """Fetch one source, extract and upsert each item; one bad item never stops the rest."""
        try:
            for result in source.fetch():
                tally.items_seen += 1
                if isinstance(result, ItemError):
                    self._fail(tally, result)
                    continue
                try:
                    article = extract(result, self.settings.extract)
                except ItemError as exc:
                    self._fail(tally, exc)
                    continue
                _, status = self.store.upsert_article(article, self.clock())
                if status == "new":
                    tally.articles_new += 1
                elif status == "updated":
                    tally.articles_updated += 1
        except SourceError as exc:
            self._fail(tally, exc)

    @staticmethod
    def _fail(tally: _Tally, exc: SyndicateError) -> None:
        logger.error("%s", exc)
        tally.failures.append(str(exc))

    # -- stage 3: translate ------------------------------------------------------------

    def source_language(self, stored: StoredArticle) -> Lang:
        if stored.article.language:
            return lang(stored.article.language)
        for source in self.settings.sources:
            if source.name == stored.article.source and source.language:
                return source.language
        return self.settings.site.source_language

    def translate_language(self, target: Lang, tally: _Tally) -> None:
        """Translate every article that lacks a current translation into ``target``."""
        existing = self.store.translations(target)
        todo: dict[Lang, list[StoredArticle]] = {}
        for stored in self.store.articles():
            current = existing.get(stored.id)
            if current is not None and current.source_hash == stored.article.content_hash:
                continue
            todo.setdefault(self.source_language(stored), []).append(stored)
        for source, batch in todo.items():
            if source == target:
                for stored in batch:  # already in this language: published as is
                    tally.translations_written += self.store.put_translation(_as_is(stored, target, self.clock()))
                continue
            chain = self.engines.chain(source, target)
            if not chain:
                message = f"no engine can translate {source}->{target} ({len(batch)} article(s) wait); fix: {install_hint(source, target)}"
                logger.error("%s", message)
                tally.unserved.append(message)
                continue
            self._translate_batch(chain, source, target, batch, tally)

    def _translate_batch(
        self, chain: Sequence[Translator], source: Lang, target: Lang, batch: Sequence[StoredArticle], tally: _Tally
    ) -> None:
        plans = [_plan(stored) for stored in batch]
        segments = sorted({s for plan in plans for s in plan.segments()})
        for engine in chain:
            try:
                model = engine.model_id(source, target)
                translated = self._translate_segments(engine, model, source, target, segments, tally)
            except TranslationError as exc:
                logger.error("%s could not translate %s->%s: %s; trying the next engine", engine.name, source, target, exc)
                tally.failures.append(f"{engine.name} {source}->{target}: {exc}")
                continue
            now = self.clock()
            for stored, plan in zip(batch, plans, strict=True):
                t = plan.render(translated, target, engine.name, model, now)
                tally.translations_written += self.store.put_translation(t)
            return
        logger.error("every engine failed for %s->%s; %d article(s) stay untranslated", source, target, len(batch))

    def _translate_segments(
        self, engine: Translator, model: str, source: Lang, target: Lang, segments: Sequence[str], tally: _Tally
    ) -> dict[str, str]:
        found = self.store.memory_get(engine.name, model, source, target, segments)
        tally.memory_hits += len(found)
        missing = [s for s in segments if s not in found]
        if missing:
            protect = [t for t in self.settings.translate.keep_verbatim if any(t in s for s in missing)]
            logger.info("translating %d new segment(s) %s->%s with %s", len(missing), source, target, engine.name)
            results = engine.translate(missing, source, target, protect=protect)
            if len(results) != len(missing):
                raise TranslationError(
                    f"{engine.name} returned {len(results)} segments for {len(missing)}", engine=engine.name
                )
            pairs = list(zip(missing, results, strict=True))
            self.store.memory_put(engine.name, model, source, target, pairs, self.clock())
            found.update(pairs)
            tally.segments_translated += len(missing)
        return found

    # -- the pass ------------------------------------------------------------------------

    def run(self, *, publish: bool = True, sources: Sequence[str] | None = None) -> RunReport:
        """One pass: pull (all sources, or the named ones), translate, publish."""
        tally = _Tally()
        try:
            self.pull(tally, sources)
            for target in self.settings.translate.languages:
                try:
                    self.translate_language(target, tally)
                except StoreError:
                    raise
                except SyndicateError as exc:
                    self._fail(tally, exc)
            if publish:
                tally.files_written = self.publisher.publish(self.settings.translate.languages)
        finally:
            self.engines.close()
        return tally.report()


@dataclass(frozen=True)
class _Plan:
    """How one article splits into segments, and how translations put it back together."""

    stored: StoredArticle
    title: list[tuple[str, str]]
    paragraphs: list[list[tuple[str, str]]]
    labels: list[str]

    def segments(self) -> Iterable[str]:
        for sentence, _ in self.title:
            if sentence.strip():
                yield normalize(sentence)
        for paragraph in self.paragraphs:
            for sentence, _ in paragraph:
                if sentence.strip():
                    yield normalize(sentence)
        for label in self.labels:
            yield normalize(label)

    def render(self, translated: dict[str, str], target: Lang, engine: str, model: str, now: datetime) -> Translation:
        def join(parts: list[tuple[str, str]]) -> str:
            return "".join((translated.get(normalize(s), s) if s.strip() else s) + gap for s, gap in parts).strip()

        import html

        return Translation(
            article_id=self.stored.id,
            language=target,
            engine=engine,
            model=model,
            title=join(self.title),
            paragraphs=tuple(html.escape(join(p), quote=False) for p in self.paragraphs),
            attribution_labels=tuple(translated[normalize(label)] for label in self.labels),
            source_hash=self.stored.article.content_hash,
            updated=now,
        )


def _plain(fragment: str) -> str:
    """The text of an HTML paragraph fragment (markup-preserving translation: see README)."""
    import lxml.html

    return lxml.html.fragment_fromstring(f"<p>{fragment}</p>").text_content()


def _plan(stored: StoredArticle) -> _Plan:
    a = stored.article
    return _Plan(
        stored=stored,
        title=split_sentences(a.title),
        paragraphs=[split_sentences(_plain(p)) for p in a.paragraphs],
        labels=[x.label for x in a.attributions],
    )


def _as_is(stored: StoredArticle, target: Lang, now: datetime) -> Translation:
    a = stored.article
    return replace(
        Translation(
            article_id=stored.id,
            language=target,
            engine="source",
            title=a.title,
            paragraphs=a.paragraphs,
            attribution_labels=tuple(x.label for x in a.attributions),
            source_hash=a.content_hash,
            updated=now,
        ),
        notes=("published in its original language",),
    )
