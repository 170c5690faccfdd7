"""The three units of work, and the one loop over them.

Each unit is an idempotent function over the store, safe to repeat and to run as one
job of a queue:

- :meth:`Work.poll` ``(source)``: fetch with the source's stored state, extract, upsert
  each article, save the source's new state, in that order;
- :meth:`Work.translate` ``(language, article_ids=None)``: translate what lacks a current
  translation in that language (all of it in one batch per language pair, so
  CTranslate2 gets one large call);
- :meth:`Work.publish` ``(language)``: bring that language's outputs up to date with the
  store (rendering only what changed).

One loop runs them: ``syndicate once`` is :func:`once` (every source polled, then
:func:`translate_and_publish`); the daemon (:mod:`syndicate.scheduler`) runs
:func:`translate_and_publish` after each poll and ``retranslate`` runs it over the
chosen articles, so a store or output that fails is met by one policy everywhere. The
cluster's tasks are the three units themselves, one per task. The engines and the store belong to the
process that made them (the CLI, the daemon, a worker child): a unit borrows them and
never closes them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from syndicate import metrics
from syndicate.config import Settings, SourceSettings
from syndicate.errors import (
    ItemError,
    PatternTimeout,
    Problem,
    PublishError,
    RunAborted,
    SourceError,
    StoreError,
    SyndicateError,
)
from syndicate.models import (
    READER_REVISION,
    Article,
    Lang,
    RawItem,
    Ref,
    RunReport,
    StoredArticle,
    Translation,
    content_key,
    map_text,
    primary,
    source_key,
)
from syndicate.sanitize import sanitize
from syndicate.sources.base import (
    Checkpoint,
    FetchResult,
    FetchState,
    Source,
    StopCheck,
    Stored,
    never_stop,
)
from syndicate.store.sources_state import PollRecord, SourceStatus

if TYPE_CHECKING:
    from syndicate.filters import SourceFilter
    from syndicate.publish import FeedPublisher
    from syndicate.store import Store
    from syndicate.translate.engines import Engines
    from syndicate.translate.service import Counts

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
SourceFactory = Callable[[SourceSettings, Path], Source]

#: Articles translated per batch: one engine call set per batch and language pair, and
#: what is held in memory at once when a large history is translated for the first time.
TRANSLATE_BATCH = 500
#: The longest title kept, in characters: a headline is a line, and a title repeats in
#: every feed document, page and index that lists the entry (a 1 MB title made a 6 MB feed).
MAX_TITLE = 400


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


#: Seconds translation goes on after a stop was asked for: enough to translate and
#: publish what the poll in hand fetched, short enough that SIGTERM is honoured within a
#: few seconds even mid-way through a language's large batch (the rest waits for the
#: next run; finished segments are kept in the memory).
TRANSLATE_GRACE = 3.0


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class _Grace:
    """A stop check that turns true ``grace`` seconds after ``should_stop`` first did."""

    def __init__(self, should_stop: StopCheck, grace: float) -> None:
        self.should_stop = should_stop
        self.grace = grace
        self._since: float | None = None

    def __call__(self) -> bool:
        if not self.should_stop():
            return False
        if self._since is None:
            self._since = time.monotonic()
        return time.monotonic() - self._since >= self.grace


# -- what the units return ------------------------------------------------------------


@dataclass(frozen=True)
class PollOutcome:
    """One poll of one source: what it stored, what failed, what was recorded."""

    source: str
    outcome: str  # ok, not-modified, partial, failed, interrupted
    items_seen: int = 0
    new: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    relinked: tuple[int, ...] = ()  # only previous/next links or the URL changed
    problems: tuple[Problem, ...] = ()
    status: SourceStatus | None = None

    @property
    def article_ids(self) -> tuple[int, ...]:
        """Articles whose content is new or changed (what translation needs to see)."""
        return self.new + self.updated

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated or self.relinked)

    def report(self) -> RunReport:
        return RunReport(
            items_seen=self.items_seen,
            articles_new=len(self.new),
            articles_updated=len(self.updated),
            articles_relinked=len(self.relinked),
            problems=self.problems,
        )


@dataclass(frozen=True)
class TranslateOutcome:
    """One language translated: the translations stored, the counts, the problems."""

    language: Lang
    written: tuple[int, ...] = ()  # article ids whose translation was stored or changed
    segments_translated: int = 0
    memory_hits: int = 0
    guard_failures: int = 0
    problems: tuple[Problem, ...] = ()
    unserved: tuple[Problem, ...] = ()  # pairs no engine serves: their articles wait
    stopped: bool = False  # a stop was asked for: the rest is translated on the next run

    def report(self) -> RunReport:
        return RunReport(
            segments_translated=self.segments_translated,
            memory_hits=self.memory_hits,
            guard_failures=self.guard_failures,
            translations_written=len(self.written),
            problems=self.problems,
            unserved=self.unserved,
        )


@dataclass(frozen=True)
class PublishOutcome:
    """Languages published: files changed, and the subscription feeds among them."""

    languages: tuple[Lang, ...]
    files_written: int = 0
    changed_feeds: tuple[str, ...] = ()

    def report(self) -> RunReport:
        return RunReport(files_written=self.files_written)


@dataclass
class _PollTally:
    items_seen: int = 0
    new: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    relinked: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    items_failed: int = 0
    stored_keys: list[str] = field(default_factory=list)


# -- the units ------------------------------------------------------------------------


class Work:
    """The three units of work over one store, with the process's engines.

    ``should_stop`` is the process's shutdown check: a poll stops between items, and
    translation stops between engine chunks ``translate_grace`` seconds after it turned
    true (:data:`TRANSLATE_GRACE` by default), keeping what it finished.

    With ``warm_engines`` (a process that translates what it polls), the first item a
    poll stores has the engines of the source's language into every target started in
    the background (:meth:`Engines.prepare`), so that Apertium loads its dictionaries
    while the poll goes on. A cluster's poll worker leaves it off: other workers translate.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        engines: Engines,
        *,
        publisher: FeedPublisher | None = None,
        clock: Clock = utc_now,
        should_stop: StopCheck = never_stop,
        next_poll: Callable[[str], datetime | None] = lambda _name: None,
        source_factory: SourceFactory | None = None,
        translate_grace: float = TRANSLATE_GRACE,
        warm_engines: bool = True,
    ) -> None:
        self.settings = settings
        self.translate_grace = translate_grace
        self.warm_engines = warm_engines
        self._warmed: set[tuple[Lang, Lang]] = set()
        #: (source settings, config root) -> Source; tests hand in fakes.
        self.source_factory = source_factory
        self.store = store
        self.engines = engines
        self._publisher = publisher
        self.clock = clock
        self.should_stop = should_stop
        self.next_poll = next_poll
        self.sources = {s.name: s for s in settings.sources}
        #: (filters' digests, store watermark) when the keyword filters were last applied.
        self._filtered: tuple[tuple[str, ...], int] | None = None

    @property
    def publisher(self) -> FeedPublisher:
        if self._publisher is None:  # made on first use: a poll alone never loads publishing
            from syndicate.publish import FeedPublisher

            self._publisher = FeedPublisher(self.settings, self.store)
        return self._publisher

    # -- poll(source) -------------------------------------------------------------------

    def poll(self, name: str) -> PollOutcome:
        """Fetch one source with its stored state, extract and upsert each item, save the
        source's new state and the poll's outcome; return what was done.

        One bad item never stops the rest. The new state is saved only as far as the
        items before it are stored: an interrupted poll keeps its last checkpoint, a
        failed one the state it started from.
        """
        if name not in self.sources:
            raise SyndicateError(f"no source named {name!r}", hint="check the [[sources]] names in config.toml")
        settings = self.sources[name]
        previous = self.store.sources.get(name)
        reader = _reader_fingerprint(self.settings, settings)
        if previous.reader == reader:
            state = FetchState(previous.etag, previous.last_modified, dict(previous.cursor))
        else:  # first poll, or the way items are read changed: read everything again
            if previous.reader is not None:
                logger.info("[%s] the reading settings or the extractor changed: reading the source again", name)
            state = FetchState()
        started, t0 = self.clock(), time.monotonic()
        tally = _PollTally()
        end: FetchResult | None = None
        checkpoint: FetchState | None = None
        interrupted = False
        failure: Problem | None = None
        try:
            events = self._make_source(settings).fetch(state)
            try:
                reply: Stored | bool | None = None
                while True:
                    try:
                        event = events.send(reply)
                    except StopIteration as stop:
                        end = stop.value
                        break
                    reply = None
                    if isinstance(event, Checkpoint):
                        checkpoint = event.state
                        continue
                    tally.items_seen += 1
                    if isinstance(event, ItemError):
                        self._fail_item(tally, event)
                        continue
                    self._warm(name)
                    reply = self._store_item(event, tally)
                    if self.should_stop():
                        interrupted = True
                        break
            finally:
                events.close()
        except SourceError as exc:
            failure = exc.problem("fetch", source=name)
            logger.error("%s", exc)
        except StoreError as exc:
            failure = exc.problem("store", source=name)
            logger.error("[%s] poll failed: %s", name, exc)
        except Exception as exc:
            failure = Problem(
                "poll",
                f"unexpected {type(exc).__name__}: {exc}",
                source=name,
                fix="this is a bug in syndicate: please report it with the log",
            )
            logger.exception("[%s] the poll failed unexpectedly", name)
            metrics.record_bug("source")
        if tally.stored_keys:
            self.store.problems.forget(f"item:{name}", tally.stored_keys)

        new_state = end.state if end is not None else (checkpoint or state)
        if failure is not None:
            outcome, error = "failed", str(failure)
        elif interrupted:
            outcome, error = "interrupted", None
        elif tally.items_failed:
            outcome, error = "partial", str(tally.problems[-1])
        elif end is not None and end.not_modified and not tally.new:
            outcome, error = "not-modified", None
        else:
            outcome, error = "ok", None
        problems = (*tally.problems, failure) if failure else tuple(tally.problems)
        record = PollRecord(
            started=started,
            duration=time.monotonic() - t0,
            outcome=outcome,
            items_new=len(tally.new),
            items_updated=len(tally.updated),
            items_failed=tally.items_failed,
            error=error,
            etag=new_state.etag,
            last_modified=new_state.last_modified,
            cursor=dict(new_state.cursor),
            reader=reader,
            next_poll=self.next_poll(name),
        )
        try:
            status = self.store.sources.record_poll(name, record)
        except SyndicateError as exc:
            logger.error("[%s] cannot record the poll: %s", name, exc)
            status = SourceStatus(source=name, outcome=outcome, last_error=error)
        # A problem that recurs unchanged on every poll was logged when it appeared.
        _log_poll(name, record, repeated=record.error is not None and record.error == previous.last_error)
        metrics.record_poll(
            name, outcome, new=record.items_new, updated=record.items_updated, failed=record.items_failed
        )
        return PollOutcome(
            source=name,
            outcome=outcome,
            items_seen=tally.items_seen,
            new=tuple(tally.new),
            updated=tuple(tally.updated),
            relinked=tuple(tally.relinked),
            problems=problems,
            status=status,
        )

    def _warm(self, name: str) -> None:
        """Start the engines the items of source ``name`` will need, once per process."""
        if not self.warm_engines:
            return
        source = self.settings.article_language(name, None)
        pairs = [
            (source, target) for target in self.settings.translate.languages if (source, target) not in self._warmed
        ]
        if pairs:
            self._warmed.update(pairs)
            self.engines.prepare(pairs)

    def _make_source(self, settings: SourceSettings) -> Source:
        if self.source_factory is not None:
            return self.source_factory(settings, self.settings.root)
        from syndicate.sources import make_source

        return make_source(settings, self.settings.root, should_stop=self.should_stop)

    def _store_item(self, item: RawItem, tally: _PollTally) -> Stored | Literal[False]:
        """Extract one item and upsert its article: the links extraction read in it (a
        source walking pages goes on by them), or False when it failed (and was noted)."""
        from syndicate.extract import extract

        settings = self.sources.get(item.source, None)
        selectors = settings.page_selectors() if settings is not None else None
        try:
            # Extraction gives every article a title or refuses it (extract._titled).
            article = _scrub(_safe_links(self._with_language(extract(item, self.settings.extract, selectors))))
            if len(article.title) > MAX_TITLE:
                logger.warning(
                    "[%s] %s: a title of %d characters, cut to %d (a headline is never that long)",
                    item.source,
                    item.key,
                    len(article.title),
                    MAX_TITLE,
                )
                article = replace(article, title=shorten(article.title, MAX_TITLE))
        except ItemError as exc:
            self._fail_item(tally, exc, item, stage="extract")
            return False
        except PatternTimeout as exc:  # the config's pattern, not the item, is at fault: name both
            self._fail_item(
                tally, ItemError(exc.message, source=item.source, item=item.key, hint=exc.hint), item, stage="extract"
            )
            return False
        except Exception as exc:  # nothing expected this: our bug, not the page's fault
            problem = ItemError(
                f"syndicate failed on it ({type(exc).__name__}: {exc})",
                source=item.source,
                item=item.key,
                hint="this is a bug in syndicate, not a fault of the item: please report it with the traceback in "
                "the log; the rest of the source was read",
            )
            metrics.record_bug("extract")
            if self._fail_item(tally, problem, item, stage="extract"):
                logger.error("[%s] %s: extraction failed unexpectedly (a bug)", item.source, item.key, exc_info=exc)
            return False
        stored, status = self.store.articles.upsert(article, self.clock())
        tally.stored_keys.append(item.key)
        if status == "new":
            tally.new.append(stored.id)
        elif status == "updated":
            tally.updated.append(stored.id)
        elif status == "relinked":
            tally.relinked.append(stored.id)
        return Stored(
            prev=article.prev.url if article.prev is not None else None,
            next=article.next.url if article.next is not None else None,
        )

    def _with_language(self, article: Article) -> Article:
        """Detect the language of an article when neither it nor its source declares one."""
        declared = any(s.name == article.source and s.language for s in self.settings.sources)
        if declared or article.language or not self.settings.translate.detect_language:
            return article
        # Unchanged since the last poll: the language detected then still holds (the
        # detector is deterministic, and loading its model costs a second per process).
        known = self.store.articles.detected_language(article.source, article.key, article.content_hash)
        if known is not None:
            return replace(article, language=known)
        from syndicate.extract.language import detect_language

        detected = detect_language(article, cache=self.settings.cache_dir)
        if detected is None:
            return article
        if detected != self.settings.site.source_language:
            logger.info("[%s] %s: detected language %s", article.source, article.key, detected)
        return replace(article, language=detected)

    def _fail_item(
        self, tally: _PollTally, exc: ItemError, item: RawItem | None = None, *, stage: str = "fetch"
    ) -> bool:
        """Count a failing item; log it only when it is new or changed. True when logged.

        An upstream entry that stays broken fails on every poll; its log line is written
        again only when the entry (its bytes, its title) or the problem changes.
        """
        tally.items_failed += 1
        tally.problems.append(exc.problem("extract" if stage == "extract" else "fetch"))
        inputs = [str(exc)]
        if item is not None:
            inputs += [hashlib.sha256(item.data).hexdigest(), repr(item.known), item.url or ""]
        if self.store.problems.is_new(f"item:{exc.source}", exc.item, *inputs):
            logger.error("%s", exc)
            return True
        logger.debug("%s (reported before, unchanged)", exc)
        return False

    # -- translate(language) ------------------------------------------------------------

    def source_language(self, stored: StoredArticle) -> Lang:
        """The configured source language wins, then what the article says, then the site's."""
        return self.settings.article_language(stored.article.source, stored.article.language)

    def translate(
        self, language: Lang, article_ids: Iterable[int] | None = None, *, again: bool = False
    ) -> TranslateOutcome:
        """Translate into ``language`` every article (of ``article_ids``, if given) that
        lacks a current translation; store each translation as it is made.

        The store says which articles may need it (no translation, changed since, or
        published with untranslated segments). When the settings that decide a
        translation changed (a corrected source ``language``, the glossary,
        ``keep_verbatim``, an engine's model, a dictionary, the code that finds names or
        finishes the text), the articles they affect are found once and kept in the store
        until each is redone, whatever stops, kills or fails the passes in between.

        ``again`` (``syndicate retranslate``) translates the articles of ``article_ids``
        anew, engines included: the memory's entries for their segments are replaced.
        """
        self.apply_filters()
        recheck = self._recheck(language)
        into = self.settings.sources_into(language)  # None: every source's articles go into it
        if again:
            candidates = sorted(set(article_ids or ()))
        elif not recheck:
            # The counts say how many wait: the newest are read until that many are found
            # (none at all when none waits), not the whole history.
            waiting = self.store.articles.waiting_count(language, into)
            candidates = self.store.articles.newest_pending(language, into, waiting)
        else:
            candidates = sorted(set(self.store.articles.pending_translation(language, into)).union(recheck))
        if article_ids is not None and not again:  # a batch of its own (a cluster's task)
            wanted = set(article_ids)
            candidates = [i for i in candidates if i in wanted]
        if into is not None and candidates:  # [[sources]] languages: not this source's language
            allowed = set(self.store.articles.chosen(sources=into))
            candidates = [i for i in candidates if i in allowed]
        candidates = self._not_held(candidates)  # [[sources]] include / exclude
        if not candidates:
            return TranslateOutcome(language=language)  # nothing to do: no engine is even started
        from syndicate.translate.service import Counts

        force = set(candidates) if again else set(recheck)
        counts = Counts()
        started = time.monotonic()
        written: list[int] = []
        attempted: list[int] = []
        problems: list[Problem] = []
        unserved: list[Problem] = []
        stopped = False
        should_stop = _Grace(self.should_stop, self.translate_grace)
        for i in range(0, len(candidates), TRANSLATE_BATCH):
            if should_stop():
                stopped = True
                break
            chunk = candidates[i : i + TRANSLATE_BATCH]
            stopped = (
                self._translate_batch(
                    language,
                    chunk,
                    counts,
                    should_stop,
                    written,
                    problems,
                    unserved,
                    force=force,
                    fresh=again,
                    attempted=attempted,
                )
                or stopped
            )
        self.store.stats.bump(counts.values)
        if recheck:  # those now current leave the list; a kill before this line keeps it whole
            done = set(attempted)
            still = set(self._made_elsewhere(language, recheck)) | (set(recheck) - done)
            self.store.translations.rechecked(language, still, considered=recheck)
        if counts.values:
            metrics.record_translation_counts(counts.values)
            metrics.record_translation_batch(language, time.monotonic() - started, counts.total("translated"))
        return TranslateOutcome(
            language=language,
            written=tuple(written),
            segments_translated=counts.total("translated"),
            memory_hits=counts.total("memory_hits"),
            guard_failures=counts.total("guard_failures"),
            problems=tuple(problems),
            unserved=tuple(unserved),
            stopped=stopped,
        )

    def waiting(self, language: Lang) -> bool:
        """Whether a pass into ``language`` may have anything to do (a cluster's sweep asks)."""
        fingerprint = self._translate_fingerprint(language)
        return (
            self.store.translations.settings_changed(language, fingerprint)
            or bool(self.store.translations.recheck(language))
            or self._any_pending(language)
        )

    def _any_pending(self, language: Lang) -> bool:
        """Whether an article waits for a translation into ``language`` (see
        :meth:`pending`), from the counts the store keeps as the work happens: a pass with
        nothing to do reads a few rows, not the history (issue 23). The held back are
        decided first, as :meth:`pending` does."""
        self.apply_filters()
        return self.store.articles.pending_count(language, self.settings.sources_into(language)) > 0

    def pending(self, language: Lang) -> list[int]:
        """The articles a pass into ``language`` would translate: without a current
        translation, of a source whose articles go into it, not held back by its
        source's keyword filters (decided first)."""
        self.apply_filters()
        return self._not_held(self.store.articles.pending_translation(language, self.settings.sources_into(language)))

    def _not_held(self, ids: list[int]) -> list[int]:
        """``ids`` less the articles their source's keyword filters hold back."""
        if ids and (held := self.store.filters.held_back()):
            return [i for i in ids if i not in held]
        return ids

    def _translate_fingerprint(self, language: Lang, *, every_source: bool = False) -> str:
        """Everything besides the articles themselves that decides which translations
        are current: the source languages, the rules around the engines (glossary,
        ``keep_verbatim``, the revisions of the code that finds names and finishes text),
        the dictionaries and models in use."""
        from syndicate.translate.revisions import (
            NAMES_REVISION,
            NUMBERS_REVISION,
            POLISH_REVISION,
            SHAPING_REVISION,
        )

        settings = self.settings
        sources = sorted(
            {primary(settings.site.source_language), *(primary(s.language) for s in settings.sources if s.language)}
        )
        models = {}
        for source in sources:
            if primary(source) == primary(language):
                continue
            models[source] = [
                [engine.name, engine.model_id(leg.source, leg.target)]
                for leg in self.engines.route(source, language)
                for engine in leg.engines
            ]
        parts = {
            "sources": _translate_fingerprint(settings, language, every_source=every_source),
            "keep_verbatim": sorted(settings.translate.keep_verbatim),
            "glossary": sorted(settings.translate.glossary.get(language, {}).items()),
            "revisions": [SHAPING_REVISION, NAMES_REVISION, NUMBERS_REVISION, POLISH_REVISION],
            # Translations keep their segments for review (a store from before is checked once).
            "review": 1,
            "dictionaries": [self.engines.analyser_identity(code) for code in [*sources, language]],
            "models": models,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]

    def _recheck(self, language: Lang) -> list[int]:
        """The articles translated into ``language`` under other settings than now: from
        another source language, or under rules that changed (see :meth:`translate`).
        Listed in the store when the settings changed, until redone."""
        fingerprint = self._translate_fingerprint(language)
        if not self.store.translations.settings_changed(language, fingerprint):
            return self.store.translations.recheck(language)
        if not self.store.translations.settings_changed(
            language, self._translate_fingerprint(language, every_source=True)
        ):
            # The same settings, fingerprinted as releases before this one did (every
            # source's name in it): nothing to check again, the new fingerprint kept.
            listed = self.store.translations.recheck(language)
            self.store.translations.settings_checked(language, fingerprint, listed)
            return listed
        elsewhere = self._made_elsewhere(language)
        if elsewhere:
            logger.info(
                "%s: the source language of %d translated article(s) changed: translating them again",
                language,
                len(elsewhere),
            )
        changed = self._rules_changed(language)
        if changed:
            logger.info(
                "%s: the names, glossary, models or finishing of %d translated article(s) changed: "
                "translating them again",
                language,
                len(changed),
            )
        # Translations stored before they kept their segments are redone (from the memory)
        # so editors can review them; those listed before stay listed (a correction's).
        bare = self.store.translations.without_segments(language)
        if bare:
            logger.info(
                "%s: %d translated article(s) made before editors could review them: "
                "translating them again (from the memory)",
                language,
                len(bare),
            )
        stale = sorted(set(elsewhere) | set(changed) | set(bare) | set(self.store.translations.recheck(language)))
        self.store.translations.settings_checked(language, fingerprint, stale)
        return stale

    def _rules_changed(self, language: Lang) -> list[int]:
        """The translated articles whose rules digest (protected terms found in them,
        code revisions, models) differs from what it would be now."""
        from syndicate.translate.service import ArticleTranslator, Counts

        stored = {
            aid: rules
            for aid, (engine, rules) in self.store.translations.rules_of(language).items()
            if engine != "source"
        }
        out: list[int] = []
        ids = sorted(stored)
        for start in range(0, len(ids), TRANSLATE_BATCH):
            by_source: dict[Lang, list[StoredArticle]] = {}
            for article in self.store.articles.many(ids[start : start + TRANSLATE_BATCH]):
                by_source.setdefault(self.source_language(article), []).append(article)
            for source, batch in by_source.items():
                if primary(source) == primary(language):
                    continue
                route = self.engines.route(source, language)
                if not route:
                    continue
                translator = ArticleTranslator(
                    self.store.memory,
                    route,
                    counts=Counts(),
                    clock=self.clock,
                    **self._translator_options(source, language),
                )
                out += [aid for aid, rules in translator.rules(batch).items() if rules != stored[aid]]
        return out

    def _translator_options(self, source: Lang, target: Lang) -> dict[str, Any]:
        """What an :class:`~syndicate.translate.service.ArticleTranslator` for a pair
        needs besides its route: the operator's terms, the name finder, the finisher."""
        from syndicate.translate.analysis import Lookup
        from syndicate.translate.names import NameFinder
        from syndicate.translate.polish import Polisher

        return {
            "source": source,
            "target": target,
            "keep_verbatim": self.settings.translate.keep_verbatim,
            "glossary": self.settings.translate.glossary.get(target, {}),
            "names": NameFinder(
                source,
                Lookup(self.engines.analyser(source)),
                terms=[*self.settings.translate.keep_verbatim, *self.settings.translate.glossary.get(target, {})],
            ),
            "polisher": Polisher(source, target, Lookup(self.engines.analyser(target))),
            "pair_lookup": Lookup(self.engines.pair_analyser(source, target)),
            "title_only": [s.name for s in self.settings.sources if s.title_only],
        }

    def _corrections(self, source: Lang, target: Lang) -> Callable[[Collection[str]], dict[str, str]]:
        """Editors' corrections for the pair, as the translator asks for them."""
        review = self.store.review

        def lookup(segments: Collection[str]) -> dict[str, str]:
            return {s: c.target_text for s, c in review.corrections_for(source, target, segments).items()}

        return lookup

    def _made_elsewhere(self, language: Lang, ids: Iterable[int] | None = None) -> list[int]:
        """Of the articles translated into ``language`` (of ``ids``), those whose translation
        was not made from their content read as the language the settings now give them."""
        article_language = self.settings.article_language
        return [
            aid
            for aid, source, declared, content_hash, made_from in self.store.articles.translation_sources(language, ids)
            if made_from != content_key(content_hash, article_language(source, declared))
        ]

    def _translate_batch(
        self,
        target: Lang,
        ids: Sequence[int],
        counts: Counts,
        should_stop: StopCheck,
        written: list[int],
        problems: list[Problem],
        unserved: list[Problem],
        *,
        force: set[int] | None = None,
        fresh: bool = False,
        attempted: list[int] | None = None,
    ) -> bool:
        """Translate one batch of candidate articles; True when it stopped early.

        Those of ``force`` are translated even when their translation looks current (the
        rules they were made under changed); ``fresh`` bypasses the memory."""
        from syndicate.translate.engines import install_hint
        from syndicate.translate.service import ArticleTranslator

        force = force or set()
        attempted = attempted if attempted is not None else []
        existing = self.store.translations.for_language(target, ids, with_segments=True)
        todo: dict[Lang, list[StoredArticle]] = {}
        partial: dict[Lang, list[tuple[StoredArticle, Translation]]] = {}
        for stored in self.store.articles.many(ids):
            current = existing.get(stored.id)
            source = self.source_language(stored)
            if (
                current is not None
                and current.source_hash == source_key(stored.article, source)
                and stored.id not in force
            ):
                if current.untranslated:
                    partial.setdefault(source, []).append((stored, current))
                continue  # current (the article's links changed, not its text)
            todo.setdefault(source, []).append(stored)
        # Articles published with untranslated segments are retried when the engine or
        # model serving them changed (an installed package, an upgraded pair), not on
        # every poll: the engines already said no to those segments.
        for source, pairs in partial.items():
            route = self.engines.route(source, target) if primary(source) != primary(target) else []
            if not route:
                continue
            label = ArticleTranslator(
                self.store.memory, route, clock=self.clock, counts=counts, source=source, target=target
            ).model_label()
            todo.setdefault(source, []).extend(stored for stored, current in pairs if current.model != label)
        stopped = False
        for source, batch in todo.items():
            if not batch:
                continue
            if should_stop():
                return True
            if primary(source) == primary(target):
                for stored in batch:  # already in this language: published as is
                    attempted.append(stored.id)
                    if self.store.translations.put(_as_is(stored, source, target, self.clock())):
                        written.append(stored.id)
                continue
            route = self.engines.route(source, target)
            if not route:
                problem = Problem(
                    "translate",
                    f"no engine can translate {source}->{target} ({len(batch)} article(s) wait)",
                    language=target,
                    fix=install_hint(self.settings, source, target),
                )
                # Logged when the set of waiting articles changes, not on every poll.
                waiting = ",".join(str(stored.id) for stored in sorted(batch, key=lambda sa: sa.id))
                if self.store.problems.is_new("translate", f"{source}->{target}", waiting):
                    logger.error("%s", problem)
                else:
                    logger.debug("%s (reported before, unchanged)", problem)
                unserved.append(problem)
                continue
            self.store.problems.forget("translate", [f"{source}->{target}"])
            if len(route) > 1:
                logger.info("%s->%s: no direct pair, pivoting through %s", source, target, route[0].target)
            translator = ArticleTranslator(
                self.store.memory,
                route,
                clock=self.clock,
                counts=counts,
                should_stop=should_stop,
                fresh=fresh,
                corrections=self._corrections(source, target),
                **self._translator_options(source, target),
            )
            translations, failed = translator.translate(batch, previous=existing)
            if translator.stopped:
                stopped = True
                logger.info(
                    "%s->%s: stopping; %d of %d article(s) translated, the rest on the next run",
                    source,
                    target,
                    len(translations),
                    len(batch),
                )
            titles = {stored.id: stored.article.title for stored in batch}
            for translation in translations:
                translation = _scrub(translation)
                if not translation.title.strip():  # an engine that lost the title: keep the original's
                    translation = replace(translation, title=titles[translation.article_id])
                attempted.append(translation.article_id)
                if self.store.translations.put(translation):
                    written.append(translation.article_id)
            for problem in failed:
                logger.error("%s", problem)
                problems.append(problem)
        return stopped

    # -- keyword filters ------------------------------------------------------------------

    def apply_filters(self) -> int:
        """Decide which new, edited or undecided articles the sources' keyword filters
        (``[[sources]] include`` / ``exclude``) publish, and forget the decisions of sources
        whose filters were removed; return how many articles changed between published and
        held back. :meth:`translate` and :meth:`publish` call it first.

        Runs again only when the store or the filters changed since (one query, else):
        filters changed in the config decide that source's articles again, nothing else.
        """
        from syndicate.filters import SourceFilter
        from syndicate.store.publication import PublicationRepository

        filters = [f for source in self.settings.sources if (f := SourceFilter.of(source)) is not None]
        digests = tuple(f"{f.source}:{f.digest}" for f in filters)
        watermark = PublicationRepository(self.store).watermark()
        if self._filtered == (digests, watermark):
            return 0
        moved = self.store.filters.forget({f.source for f in filters})
        for source_filter in filters:
            moved += self._decide(source_filter)
        self._filtered = (digests, PublicationRepository(self.store).watermark())
        return moved

    def _decide(self, source_filter: SourceFilter) -> int:
        """Decide the undecided articles of one filtered source, a batch at a time."""
        ids = self.store.filters.undecided(source_filter.source, source_filter.digest)
        moved = held = 0
        for start in range(0, len(ids), TRANSLATE_BATCH):
            decisions = {}
            for stored in self.store.articles.many(ids[start : start + TRANSLATE_BATCH]):
                decision = source_filter.decide(stored.article)
                held += not decision.kept
                decisions[stored.id] = (
                    source_filter.digest,
                    stored.article.content_hash,
                    decision.kept,
                    decision.reason,
                )
            moved += self.store.filters.decide(decisions)
        if ids:
            logger.info(
                "filters of %s: %d article(s) decided, %d held back; %d changed between published and held back",
                source_filter.source,
                len(ids),
                held,
                moved,
            )
        return moved

    # -- publish(language) --------------------------------------------------------------

    def publish(self, language: Lang) -> PublishOutcome:
        """Bring ``language``'s feeds, archives and pages (and the site's indexes) up to
        date with the store. Raises :class:`~syndicate.errors.PublishError` naming the
        path when a file cannot be written."""
        self.apply_filters()
        files = self.publisher.publish([language])
        return PublishOutcome(languages=(language,), files_written=files, changed_feeds=self.publisher.changed_feeds)

    def publish_all(self, languages: Sequence[Lang] | None = None) -> PublishOutcome:
        """:meth:`publish` for several languages (default: every configured one) at once:
        the store's listing is read and ordered once for all of them, as a single-machine
        loop can (a cluster publishes one language per task, under its lock)."""
        chosen = tuple(languages or self.settings.translate.languages)
        self.apply_filters()
        files = self.publisher.publish(chosen)
        return PublishOutcome(languages=chosen, files_written=files, changed_feeds=self.publisher.changed_feeds)


# -- the one loop: `syndicate once`, the daemon, `retranslate` -------------------------


def translate_and_publish(
    work: Work,
    *,
    languages: Sequence[Lang] | None = None,
    article_ids: Sequence[int] | None = None,
    again: bool = False,
    publish: bool = True,
    first_early: bool = False,
) -> RunReport:
    """Translate what waits in every language (or ``languages``; only ``article_ids``, all
    over again when ``again``), then publish every language: the second half of every
    pass, after ``syndicate once``'s polls, after each of the daemon's, and for
    ``syndicate retranslate``.

    ``first_early`` (the daemon, after a poll): the first language whose translations
    changed is published as soon as it is translated, before the others are, so its
    readers wait for one translation rather than one per language. It is published again
    with the others at the end (its entries gain their new siblings' links), which costs
    one language's publish more when there is something new and nothing otherwise. An
    output that fails it does not stop the others' translation: the publish at the end
    meets it again and stops the pass as it would have without the early publish.

    One language's trouble is a problem in the report and the others go on. A store or
    output that fails raises :class:`~syndicate.errors.RunAborted` carrying the report of
    what was done before (what was stored stays stored): ``once`` says so and exits
    non-zero, the daemon logs it and tries again after its next poll.
    """
    report = RunReport()
    chosen = tuple(work.settings.translate.languages if languages is None else languages)
    try:
        for index, language in enumerate(chosen):
            try:
                done = work.translate(language, article_ids, again=again)
            except StoreError:
                raise
            except SyndicateError as exc:  # one language's trouble is not the others'
                logger.error("%s: translation failed: %s", language, exc)
                report += RunReport(problems=(exc.problem("translate", language=language),))
                continue
            report += done.report()
            if first_early and publish and done.written and index + 1 < len(chosen):
                first_early = False
                try:
                    report += work.publish(language).report()
                except PublishError as exc:  # the others are translated all the same
                    logger.warning("%s: early publish failed, the others are translated first: %s", language, exc)
        if publish:
            report += work.publish_all().report()
    except (StoreError, PublishError) as exc:
        raise RunAborted(exc, report) from exc
    return report


def run_once(work: Work, *, sources: Sequence[str] | None = None, publish: bool = True) -> RunReport:
    """Poll every source (or the named ones), then :func:`translate_and_publish`.

    A failing source or item is a problem in the report. A store or output that fails
    raises :class:`~syndicate.errors.RunAborted`, carrying the report of what was done
    before (what was stored stays stored).
    """
    report = RunReport()
    try:
        for source in work.settings.sources:
            if sources is None or source.name in sources:
                report += work.poll(source.name).report()
    except StoreError as exc:
        raise RunAborted(exc, report) from exc
    try:
        return report + translate_and_publish(work, publish=publish)
    except RunAborted as exc:
        raise RunAborted(exc.cause, report + exc.done) from exc.cause


def retranslate(
    work: Work,
    *,
    languages: Sequence[Lang] | None = None,
    sources: Sequence[str] | None = None,
    since: datetime | None = None,
) -> tuple[RunReport, int]:
    """``syndicate retranslate``: the chosen articles (of ``sources``, first seen or
    changed since ``since``) translated again into ``languages`` (default: every
    configured one), engines included, then published. Returns the report and how many
    articles were chosen."""
    ids = work.store.articles.chosen(sources=sources, since=since)
    chosen = tuple(languages or work.settings.translate.languages) if ids else ()
    return translate_and_publish(work, languages=chosen, article_ids=ids, again=True), len(ids)


def once(
    settings: Settings,
    store: Store,
    *,
    engines: Engines | None = None,
    clock: Clock = utc_now,
    should_stop: StopCheck = never_stop,
    publisher: FeedPublisher | None = None,
    publish: bool = True,
    source_factory: SourceFactory | None = None,
    translate_grace: float = TRANSLATE_GRACE,
    reinitialise: bool = False,
) -> RunReport:
    """``syndicate once``: :func:`run_once` over ``store``, with engines of its own when
    none are given (one set for every source and language: Apertium and the models start
    once, and stop when the pass ends).

    First, unless ``reinitialise``, an emptied or replaced store is refused rather than
    starting the feeds over (:func:`~syndicate.publish.check_history` raises
    :class:`~syndicate.errors.HistoryLostError`). Raises
    :class:`~syndicate.errors.RunAborted` as :func:`run_once` does.
    """
    from syndicate.publish import check_history
    from syndicate.translate.engines import Engines

    if not reinitialise:
        check_history(settings, store)
    options: dict[str, Any] = {
        "clock": clock,
        "should_stop": should_stop,
        "publisher": publisher,
        "source_factory": source_factory,
        "translate_grace": translate_grace,
    }
    if engines is not None:
        return run_once(Work(settings, store, engines, **options), publish=publish)
    with Engines(settings) as owned:
        return run_once(Work(settings, store, owned, **options), publish=publish)


# -- helpers --------------------------------------------------------------------------


#: ``[[sources]]`` keys that decide what becomes of the articles read, not how they are read.
_NOT_READING = frozenset({"languages", "include", "exclude", "title_only", "move_to"})


def _reader_fingerprint(settings: Settings, source: SourceSettings) -> str:
    """What decides how a source's items are read: when it changes, every item is read
    again (the source's validators and cursors are dropped)."""
    parts = {
        "revision": READER_REVISION,
        # Where its articles go ([[sources]] languages), which are published (include,
        # exclude), how much is translated (title_only) and where a drop folder's files go
        # once stored (move_to) do not change how they are read.
        "source": source.model_dump(mode="json", exclude=set(_NOT_READING)),
        "extract": settings.extract.model_dump(mode="json"),
        "detect": settings.translate.detect_language,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _translate_fingerprint(settings: Settings, language: Lang, *, every_source: bool = False) -> str:
    """What decides which translations are current, besides the articles themselves: the
    site's source language, the sources that declare their own, and those translated by
    title only. A source that declares neither changes nothing already translated, so one
    added or removed leaves it as it was (``every_source``: as releases before made it,
    with every source's name)."""
    parts = {
        "site": settings.site.source_language,
        "sources": sorted((s.name, s.language or "") for s in settings.sources if every_source or s.language),
        "language": language,
    }
    # [[sources]] title_only (only when set, so configurations without it keep theirs).
    if title_only := sorted(s.name for s in settings.sources if s.title_only):
        parts["title_only"] = title_only
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def _log_poll(name: str, record: PollRecord, *, repeated: bool = False) -> None:
    """The one line a poll leaves in the log (a warning when the poll met a new problem)."""
    nxt = f"; next poll {record.next_poll:%Y-%m-%d %H:%M:%SZ}" if record.next_poll else ""
    counts = f"{record.items_new} new, {record.items_updated} updated, {record.items_failed} failed"
    line = f"poll {name}: {record.outcome} in {record.duration:.1f}s: {counts}{nxt}"
    if record.error and not repeated:
        logger.warning("%s: %s", line, record.error)
    elif record.error:
        logger.info("%s (as on the previous poll)", line)
    else:
        logger.info("%s", line)


_T = TypeVar("_T")


def _scrub(record: _T) -> _T:
    """``record`` with controls, noncharacters, lone surrogates and bidi overrides removed
    from every string in it, however deep (titles, markup, names, tags, URLs).

    Extraction already cleans what it reads; this is the store's door, so that no
    source's metadata and no engine's output can bring in what no feed or page may carry.
    """
    from syndicate.extract.decode import clean_bytes_text

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return clean_bytes_text(value)
        if isinstance(value, tuple):
            return tuple(scrub(item) for item in value)
        if is_dataclass(value) and not isinstance(value, type):
            changes = {f.name: scrub(getattr(value, f.name)) for f in fields(value)}
            changed = {k: v for k, v in changes.items() if v is not getattr(value, k) and v != getattr(value, k)}
            return replace(value, **changed) if changed else value
        return value

    return scrub(record)  # type: ignore[no-any-return]


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links are published: a javascript: or data: "original" is dropped."""
    from syndicate.extract.blocks import safe_url
    from syndicate.extract.decode import clean_bytes_text

    # No controls or bidi overrides in a link, and only an absolute http(s) one.
    return safe_url(clean_bytes_text(url) if url else None, None, http_only=True)


def _safe_links(article: Article) -> Article:
    def ref(r: Ref | None) -> Ref | None:
        if r is None:
            return None
        url = _safe_url(r.url)
        return Ref(url=url, title=r.title) if (url or r.title) else None

    return replace(article, url=_safe_url(article.url), prev=ref(article.prev), next=ref(article.next))


def _as_is(stored: StoredArticle, source: Lang, target: Lang, now: datetime) -> Translation:
    a = stored.article
    return Translation(
        article_id=stored.id,
        language=target,
        engine="source",
        title=a.title,
        blocks=map_text(a.blocks, lambda value, plain: value if plain else sanitize(value)),
        attributions=a.attributions,
        source_hash=source_key(a, source),
        updated=now,
        notes=("published in its original language",),
        tag_labels=a.meta.tags,
        summary=a.meta.summary,
        image_alt=a.meta.image.alt if a.meta.image else "",
    )
