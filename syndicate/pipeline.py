"""One pass: pull, extract, store, translate, publish, with per-item isolation.

Each stage is an idempotent unit of work against the store (poll a source, translate one
language, publish one language), so a repeated or interrupted pass is harmless and the
stages can later run as separate jobs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from syndicate.config import PageSelectors, PagesSourceSettings, Settings
from syndicate.errors import ItemError, RunAborted, SourceError, StoreError, SyndicateError
from syndicate.extract import extract
from syndicate.extract.decode import clean_bytes_text
from syndicate.extract.language import detect_language
from syndicate.models import Article, Lang, RawItem, Ref, RunReport, StoredArticle, Translation, lang, map_text, primary, source_key
from syndicate.publish import FeedPublisher
from syndicate.sources import Source, make_source
from syndicate.store import SqliteStore
from syndicate.store.sources_state import ReportedProblems
from syndicate.translate import ENGINES, Translator
from syndicate.sanitize import sanitize
from syndicate.translate.service import ArticleTranslator, Counts, Leg

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class _Tally:
    items_seen: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_relinked: int = 0
    counts: Counts = field(default_factory=Counts)
    translations_written: int = 0
    files_written: int = 0
    failures: list[str] = field(default_factory=list)
    unserved: list[str] = field(default_factory=list)

    def report(self) -> RunReport:
        return RunReport(
            items_seen=self.items_seen,
            articles_new=self.articles_new,
            articles_updated=self.articles_updated,
            articles_relinked=self.articles_relinked,
            segments_translated=self.counts.total("translated"),
            memory_hits=self.counts.total("memory_hits"),
            guard_failures=self.counts.total("guard_failures"),
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
        """Engines that have exactly this pair, in configured order (see :meth:`Pipeline.route`
        for the match by primary subtags)."""
        out = []
        for name in self.settings.translate.engines:
            engine = self.get(name)
            if engine is None:
                continue
            pairs = self.pairs(name)
            if (source, target) in pairs:
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
        source_factory: Callable[..., Source] = make_source,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        # Engines (models, Apertium pipelines) belong to whoever made them: a pool handed
        # in (the daemon's, `once`'s) outlives this pass; one made here dies with it.
        self._owns_engines = engines is None
        self.engines = engines or EnginePool(settings)
        self.publisher = publisher or FeedPublisher(settings, store)
        self.clock = clock
        #: (source settings, config root) -> Source; the daemon's adds fetch state and a stop check.
        self.source_factory = source_factory
        #: The daemon's shutdown check: translation stops between engine chunks, keeping
        #: what it finished (the rest is translated on the next run).
        self.should_stop = should_stop
        #: Problems already logged (in the store, so `once` from cron does not repeat them either).
        self.reported = ReportedProblems(store)
        #: Site selectors by source name (pages sources), applied by extraction.
        self._selectors: dict[str, PageSelectors] = {
            s.name: s.selectors for s in settings.sources if isinstance(s, PagesSourceSettings) and s.selectors
        }

    # -- stage 1+2: pull and extract -------------------------------------------------

    def pull(self, tally: _Tally, sources: Sequence[str] | None = None) -> None:
        """Pull every source (or only the named ones) into the store."""
        for source_settings in self.settings.sources:
            if sources is not None and source_settings.name not in sources:
                continue
            self.pull_source(self.source_factory(source_settings, self.settings.root), tally)

    def pull_source(self, source: Source, tally: _Tally) -> None:
        """Fetch one source, extract and upsert each item; one bad item never stops the rest.

        A failing item counts as a failure on every poll, but it is logged once per
        change: again only when the item or the problem changes (see :meth:`_fail_item`).
        """
        read: dict[str, list[str]] = {}  # source name -> keys read and stored
        try:
            for result in source.fetch():
                tally.items_seen += 1
                if isinstance(result, ItemError):
                    self._fail_item(tally, result)
                    continue
                try:
                    selectors = self._selectors.get(result.source)
                    article = _scrub(_safe_links(self._with_language(extract(result, self.settings.extract, selectors))))
                    if not article.title.strip():
                        raise ItemError("the article has no title", source=result.source, item=result.key,
                                        hint="the source must give each article a title")
                except ItemError as exc:
                    self._fail_item(tally, exc, result)
                    continue
                except Exception as exc:  # noqa: BLE001 - one hostile item must not stop its source
                    problem = ItemError(
                        f"could not be read ({type(exc).__name__}: {exc})",
                        source=result.source,
                        item=result.key,
                        hint="check the file; the rest of the source was read",
                    )
                    if self._fail_item(tally, problem, result):
                        logger.error("[%s] %s: extraction failed unexpectedly", result.source, result.key, exc_info=exc)
                    continue
                _, status = self.store.upsert_article(article, self.clock())
                read.setdefault(result.source, []).append(result.key)
                if status == "new":
                    tally.articles_new += 1
                elif status == "updated":
                    tally.articles_updated += 1
                elif status == "relinked":
                    tally.articles_relinked += 1
        except SourceError as exc:
            self._fail(tally, exc)
        finally:
            for name, keys in read.items():
                self.reported.forget(f"item:{name}", keys)

    def _with_language(self, article: Article) -> Article:
        """Detect the language of an article when neither it nor its source declares one."""
        declared = any(s.name == article.source and s.language for s in self.settings.sources)
        if declared or article.language or not self.settings.translate.detect_language:
            return article
        # Unchanged since the last poll: the language detected then still holds (the
        # detector is deterministic, and loading its model costs a second per process).
        known = self.store.detected_language(article.source, article.key, article.content_hash)
        if known is not None:
            return replace(article, language=known)
        detected = detect_language(article)
        if detected is None:
            return article
        if detected != self.settings.site.source_language:
            logger.info("[%s] %s: detected language %s", article.source, article.key, detected)
        return replace(article, language=detected)

    @staticmethod
    def _fail(tally: _Tally, exc: SyndicateError) -> None:
        logger.error("%s", exc)
        tally.failures.append(str(exc))

    def _fail_item(self, tally: _Tally, exc: ItemError, item: RawItem | None = None) -> bool:
        """Count a failing item; log it only when it is new or changed. True when logged.

        An upstream entry that stays broken fails on every poll; its log line is written
        again only when the entry (its bytes, its title) or the problem changes.
        """
        tally.failures.append(str(exc))
        inputs = [str(exc)]
        if item is not None:
            inputs += [hashlib.sha256(item.data).hexdigest(), repr(item.known), item.url or ""]
        if self.reported.is_new(f"item:{exc.source}", exc.item, *inputs):
            logger.error("%s", exc)
            return True
        logger.debug("%s (reported before, unchanged)", exc)
        return False

    # -- stage 3: translate ------------------------------------------------------------

    def source_language(self, stored: StoredArticle) -> Lang:
        """The configured source language wins, then what the article says, then the site's."""
        return self.settings.article_language(stored.article.source, stored.article.language)

    def route(self, source: Lang, target: Lang) -> list[Leg]:
        """Engines for a pair: direct if any engine has it, else through the pivot language.

        Language tags match exactly first, then by primary subtag (an ``en-GB`` article
        goes to an engine's ``en`` model).
        """
        for src, tgt in dict.fromkeys(((source, target), (primary(source), primary(target)))):
            direct = self.engines.chain(src, tgt)
            if direct:
                return [Leg(src, tgt, tuple(direct))]
        src, tgt = primary(source), primary(target)
        pivot = lang(self.settings.translate.pivot_language) if self.settings.translate.pivot_language else None
        if pivot and pivot not in (src, tgt):
            first, second = self.engines.chain(src, pivot), self.engines.chain(pivot, tgt)
            if first and second:
                return [Leg(src, pivot, tuple(first)), Leg(pivot, tgt, tuple(second))]
        return []

    def translate_language(self, target: Lang, tally: _Tally) -> None:
        """Translate every article that lacks a current translation into ``target``."""
        existing = self.store.translations(target)
        todo: dict[Lang, list[StoredArticle]] = {}
        partial: dict[Lang, list[tuple[StoredArticle, Translation]]] = {}
        for stored in self.store.articles():
            current = existing.get(stored.id)
            source = self.source_language(stored)
            if current is not None and current.source_hash == source_key(stored.article, source):
                if current.untranslated:
                    partial.setdefault(source, []).append((stored, current))
                continue
            todo.setdefault(source, []).append(stored)
        # Articles published with untranslated segments are retried when the engine or
        # model serving them changed (an installed package, an upgraded pair), not on
        # every poll: the engines already said no to those segments.
        for source, pairs in partial.items():
            route = self.route(source, target) if primary(source) != primary(target) else []
            if not route:
                continue
            label = ArticleTranslator(self.store, route, clock=self.clock, counts=tally.counts, source=source,
                                      target=target).model_label()
            todo.setdefault(source, []).extend(stored for stored, current in pairs if current.model != label)
        for source, batch in todo.items():
            if not batch or (self.should_stop is not None and self.should_stop()):
                continue
            if primary(source) == primary(target):
                for stored in batch:  # already in this language: published as is
                    tally.translations_written += self.store.put_translation(_as_is(stored, target, self.clock()))
                continue
            route = self.route(source, target)
            if not route:
                message = (
                    f"no engine can translate {source}->{target} ({len(batch)} article(s) wait); "
                    f"fix: {install_hint(source, target)}"
                )
                # Logged when the set of waiting articles changes, not on every poll.
                waiting = ",".join(str(stored.id) for stored in sorted(batch, key=lambda sa: sa.id))
                if self.reported.is_new("translate", f"{source}->{target}", waiting):
                    logger.error("%s", message)
                else:
                    logger.debug("%s (reported before, unchanged)", message)
                tally.unserved.append(message)
                continue
            self.reported.forget("translate", [f"{source}->{target}"])
            if len(route) > 1:
                logger.info("%s->%s: no direct pair, pivoting through %s", source, target, route[0].target)
            translator = ArticleTranslator(
                self.store,
                route,
                source=source,
                target=target,
                keep_verbatim=self.settings.translate.keep_verbatim,
                glossary=self.settings.translate.glossary.get(target, {}),
                clock=self.clock,
                counts=tally.counts,
                should_stop=self.should_stop,
            )
            translations, problems = translator.translate(batch)
            if translator.stopped:
                logger.info("%s->%s: stopping; %d of %d article(s) translated, the rest on the next run",
                            source, target, len(translations), len(batch))
            titles = {stored.id: stored.article.title for stored in batch}
            for translation in translations:
                translation = _scrub(translation)
                if not translation.title.strip():  # an engine that lost the title: keep the original's
                    translation = replace(translation, title=titles[translation.article_id])
                tally.translations_written += self.store.put_translation(translation)
            for problem in problems:
                logger.error("%s", problem)
                tally.failures.append(problem)

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
            self.store.bump_stats(tally.counts.values)
            if publish:
                tally.files_written = self.publisher.publish(self.settings.translate.languages)
        except (SyndicateError, OSError) as exc:
            raise RunAborted(exc, tally.report()) from exc
        finally:
            if self._owns_engines:
                self.engines.close()
        return tally.report()


_T = TypeVar("_T")


def _scrub(record: _T) -> _T:
    """``record`` with controls, noncharacters, lone surrogates and bidi overrides removed
    from every string in it, however deep (titles, markup, names, tags, URLs).

    Extraction already cleans what it reads; this is the store's door, so that no
    source's metadata and no engine's output can bring in what no feed or page may carry.
    """
    if isinstance(record, str):
        return clean_bytes_text(record)  # type: ignore[return-value]
    if isinstance(record, tuple):
        return tuple(_scrub(item) for item in record)  # type: ignore[return-value]
    if is_dataclass(record) and not isinstance(record, type):
        changes = {f.name: _scrub(getattr(record, f.name)) for f in fields(record)}
        changed = {k: v for k, v in changes.items() if v is not getattr(record, k) and v != getattr(record, k)}
        return replace(record, **changed) if changed else record  # type: ignore[type-var]
    return record


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links are published: a javascript: or data: "original" is dropped."""
    url = clean_bytes_text(url).strip() if url else None  # no controls or bidi overrides in a link
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def _safe_links(article: Article) -> Article:
    def ref(r: Ref | None) -> Ref | None:
        if r is None:
            return None
        url = _safe_url(r.url)
        return Ref(url=url, title=r.title) if (url or r.title) else None

    return replace(article, url=_safe_url(article.url), prev=ref(article.prev), next=ref(article.next))


def _as_is(stored: StoredArticle, target: Lang, now: datetime) -> Translation:
    a = stored.article
    return Translation(
        article_id=stored.id,
        language=target,
        engine="source",
        title=a.title,
        blocks=map_text(a.blocks, lambda value, plain: value if plain else sanitize(value)),
        attributions=a.attributions,
        source_hash=source_key(a, target),
        updated=now,
        notes=("published in its original language",),
        tag_labels=a.meta.tags,
        summary=a.meta.summary,
        image_alt=a.meta.image.alt if a.meta.image else "",
    )
