"""``syndicate run``: APScheduler wiring around :class:`~syndicate.pipeline.Pipeline`.

Each source is one job on its own trigger (``interval`` or ``cron``, with jitter),
coalescing missed runs, never running twice at once. A poll fetches in its own thread
(up to :data:`FETCH_THREADS` sources at once, so a slow peer does not hold up the
others), then stores, translates and publishes one poll at a time (the store, the
translation engines and the output files are shared), republishing only when something
changed, and records the outcome in the store.

Stopping (SIGTERM/SIGINT call :meth:`Daemon.stop`): a poll in hand stops fetching after
the item it is reading, stores, translates and publishes what it fetched, records its
state, and the process exits. A ``kill -9`` instead loses nothing either: every article
is upserted in its own transaction, a source's state row is written in one transaction
at the end of a poll and never points past an item that is not stored, files are
replaced atomically, and the next start translates and publishes whatever was stored
but not yet published.

APScheduler keeps its jobs in memory only (a persistent job store shared by two processes
runs jobs twice); a lock on the state directory keeps a second daemon out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syndicate import metrics
from syndicate.config import Settings, SourceSettings
from syndicate.cron import cron_trigger
from syndicate.errors import ItemError, RunAborted, SourceError, SyndicateError
from syndicate.models import RawItem, RunReport
from syndicate.pipeline import Clock, EnginePool, Pipeline, utc_now
from syndicate.publish import FeedPublisher
from syndicate.sources import FetchState, Source, StopCheck, make_source, never_stop
from syndicate.store import SqliteStore
from syndicate.store.sources_state import PollRecord, SourceStateStore, SourceStatus

if TYPE_CHECKING:
    from syndicate.sources.websub import WebSubSubscriber

logger = logging.getLogger(__name__)

#: Sources fetched at once (each poll's storing and translating still runs one at a time).
FETCH_THREADS = 4

def trigger_for(source: SourceSettings) -> BaseTrigger:
    jitter = source.poll_jitter.total_seconds() or None
    if source.cron is not None:
        return cron_trigger(source.cron, jitter=int(jitter) if jitter else None)
    interval = source.poll_interval
    assert interval is not None
    return IntervalTrigger(seconds=interval.total_seconds(), jitter=jitter, timezone=UTC)


class _Tracked:
    """Wraps a source for one poll: stops between items on request, notes how it ended."""

    def __init__(self, inner: Source, should_stop: StopCheck) -> None:
        self.inner = inner
        self.name = inner.name
        self.should_stop = should_stop
        self.error: SourceError | None = None
        self.interrupted = False
        self.item_errors = 0

    def fetch(self) -> Iterator[RawItem | ItemError]:
        items = self.inner.fetch()
        try:
            for item in items:
                if isinstance(item, ItemError):
                    self.item_errors += 1
                yield item  # the pipeline stores it before asking for the next
                if self.should_stop():
                    self.interrupted = True
                    return
        except SourceError as exc:
            self.error = exc
            raise
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    @property
    def state(self) -> FetchState | None:
        state = getattr(self.inner, "state", None)
        return state if isinstance(state, FetchState) else None

    @property
    def not_modified(self) -> bool:
        return bool(getattr(self.inner, "not_modified", False))


class _Replay:
    """The items a poll fetched, handed to the pipeline (and the source's error, last)."""

    def __init__(self, name: str, items: list[RawItem | ItemError], error: SourceError | None) -> None:
        self.name = name
        self.items = items
        self.error = error
        self.done = False

    def fetch(self) -> Iterator[RawItem | ItemError]:
        yield from self.items
        self.done = True
        if self.error is not None:
            raise self.error


@dataclass(frozen=True)
class PollResult:
    """One poll: the pipeline's report and what was recorded for the source."""

    report: RunReport | None
    status: SourceStatus
    files_written: int


#: Seconds translation goes on after a stop was asked for: enough to translate and
#: publish what the poll in hand fetched, short enough that SIGTERM is honoured within a
#: few seconds even mid-way through a language's large batch (the rest waits for the
#: next run; finished segments are kept in the memory).
TRANSLATE_GRACE = 3.0


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


class Poller:
    """Polls one source at a time and records how it went; the daemon's unit of work."""

    def __init__(
        self,
        settings: Settings,
        store: SqliteStore,
        *,
        engines: EnginePool | None = None,
        publisher: FeedPublisher | None = None,
        clock: Clock = utc_now,
        should_stop: StopCheck = never_stop,
        next_poll: Callable[[str], datetime | None] = lambda _name: None,
    ) -> None:
        self.settings = settings
        self.store = store
        #: The engines live as long as the poller: opened on first use, closed by close().
        self._owns_engines = engines is None
        self.engines = engines or EnginePool(settings)
        self.publisher = publisher or FeedPublisher(settings, store)
        self.clock = clock
        self.should_stop = should_stop
        self.next_poll = next_poll
        self.states = SourceStateStore(store)
        self.sources = {s.name: s for s in settings.sources}
        #: One store-translate-publish at a time, whatever the number of fetching threads.
        self._lock = threading.Lock()

    def _pipeline(self, factory: Callable[..., Source] = make_source) -> Pipeline:
        return Pipeline(
            self.settings, self.store, engines=self.engines, publisher=self.publisher, clock=self.clock,
            source_factory=factory, should_stop=_Grace(self.should_stop, TRANSLATE_GRACE),
        )

    def close(self) -> None:
        """Close the engines this poller opened (models unloaded, Apertium stopped)."""
        if self._owns_engines:
            self.engines.close()

    def catch_up(self) -> RunReport:
        """Translate and publish whatever is stored but not yet published (after a crash)."""
        with self._lock:
            report = self._pipeline().run(publish=True, sources=[])
        if report.translations_written or report.files_written:
            logger.info(
                "caught up: %d translation(s) stored, %d file(s) written", report.translations_written, report.files_written
            )
        return report

    def poll(self, name: str) -> PollResult:
        """Pull one source, translate, republish if anything changed, record the outcome.

        Fetching runs in the calling thread, alongside other sources' polls; storing,
        translating and publishing run one poll at a time (the store, the engines and
        the output files are shared).
        """
        source_settings = self.sources[name]
        previous = self.states.get(name)
        fetch_state = FetchState(etag=previous.etag, last_modified=previous.last_modified, cursor=previous.cursor)
        started, t0 = self.clock(), time.monotonic()
        report: RunReport | None = None
        files = 0
        crash: str | None = None

        # 1. Fetch: the network part, stopped between items on shutdown.
        tracked = _Tracked(
            make_source(source_settings, self.settings.root, state=fetch_state, should_stop=self.should_stop),
            self.should_stop,
        )
        items: list[RawItem | ItemError] = []
        try:
            items.extend(tracked.fetch())
        except SourceError:
            pass  # noted by the wrapper; the pipeline reports it below
        except Exception as exc:  # noqa: BLE001 - a bug in a source must not kill the worker
            crash = f"unexpected {type(exc).__name__}: {exc}"
            logger.exception("[%s] fetching failed unexpectedly", name)

        # 2. Store, translate, publish what was fetched.
        replay = _Replay(name, items, tracked.error)
        try:
            with self._lock:
                before, t_translate = self.store.stats(), time.monotonic()
                report = self._pipeline(lambda _settings, _root: replay).run(publish=False, sources=[name])
                metrics.record_stats_delta(before, self.store.stats(), time.monotonic() - t_translate)
                if report.articles_new or report.articles_updated or report.articles_relinked or report.translations_written:
                    files = self.publisher.publish(self.settings.translate.languages)
        except (SyndicateError, OSError) as exc:  # the store or the output is broken: say so, keep running
            crash = crash or str(exc)
            logger.error("[%s] poll failed: %s", name, exc)
            if isinstance(exc, RunAborted):
                report = exc.done  # what was stored before it broke still counts
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the scheduler's worker
            crash = crash or f"unexpected {type(exc).__name__}: {exc}"
            logger.exception("[%s] poll failed unexpectedly", name)

        prefix = f"[{name}] "
        failures = [f for f in (report.failures if report else ()) if f.startswith(prefix)]
        source_error = tracked.error
        items_failed = len(failures) - (1 if source_error else 0)
        # The source's new state (validators, read-page fingerprints, the pages cursor)
        # covers only what it yielded; keep the old one unless every fetched item reached
        # the store, so an item that failed (a consent page, a bad page) is tried again.
        new_state = (tracked.state if replay.done and not crash and items_failed <= 0 else None) or fetch_state
        if crash or source_error:
            outcome, error = "failed", crash or str(source_error)
        elif tracked.interrupted:
            outcome, error = "interrupted", None
        elif items_failed:
            outcome, error = "partial", failures[-1]
        elif tracked.not_modified and not (report and report.articles_new):
            outcome, error = "not-modified", None
        else:
            outcome, error = "ok", None
        record = PollRecord(
            started=started,
            duration=time.monotonic() - t0,
            outcome=outcome,
            items_new=report.articles_new if report else 0,
            items_updated=report.articles_updated if report else 0,
            items_failed=max(items_failed, 0),
            error=error,
            etag=new_state.etag,
            last_modified=new_state.last_modified,
            cursor=new_state.cursor,
            next_poll=self.next_poll(name),
        )
        try:
            status = self.states.record_poll(name, record)
        except SyndicateError as exc:
            logger.error("[%s] cannot record the poll: %s", name, exc)
            status = SourceStatus(source=name, outcome=outcome, last_error=error)
        # A problem that recurs unchanged on every poll was logged when it appeared.
        _log_poll(name, record, files, repeated=record.error is not None and record.error == previous.last_error)
        metrics.record_poll(name, outcome, new=record.items_new, updated=record.items_updated, failed=record.items_failed)
        return PollResult(report=report, status=status, files_written=files)


def combine_reports(reports: Sequence[RunReport]) -> RunReport:
    """One report for several polls: counts added, problems listed once each."""
    return RunReport(
        items_seen=sum(r.items_seen for r in reports),
        articles_new=sum(r.articles_new for r in reports),
        articles_updated=sum(r.articles_updated for r in reports),
        articles_relinked=sum(r.articles_relinked for r in reports),
        segments_translated=sum(r.segments_translated for r in reports),
        memory_hits=sum(r.memory_hits for r in reports),
        guard_failures=sum(r.guard_failures for r in reports),
        translations_written=sum(r.translations_written for r in reports),
        files_written=sum(r.files_written for r in reports),
        failures=tuple(dict.fromkeys(f for r in reports for f in r.failures)),
        unserved_languages=tuple(dict.fromkeys(u for r in reports for u in r.unserved_languages)),
    )


def _log_poll(name: str, record: PollRecord, files: int, *, repeated: bool = False) -> None:
    """The one line a poll leaves in the log (a warning when the poll met a new problem)."""
    nxt = f"; next poll {record.next_poll:%Y-%m-%d %H:%M:%SZ}" if record.next_poll else ""
    counts = f"{record.items_new} new, {record.items_updated} updated, {record.items_failed} failed"
    published = f", {files} file(s) published" if files else ""
    line = f"poll {name}: {record.outcome} in {record.duration:.1f}s: {counts}{published}{nxt}"
    if record.error and not repeated:
        logger.warning("%s: %s", line, record.error)
    elif record.error:
        logger.info("%s (as on the previous poll)", line)
    else:
        logger.info("%s", line)


class Daemon:
    """The scheduler: one job per source, polled until :meth:`stop`."""

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
        self._stop = threading.Event()
        #: Polls in progress. Shutdown waits on this, not on APScheduler's executor:
        #: ``shutdown(wait=True)`` holds the job-store lock that a running poll needs to
        #: read its next run time, which would deadlock.
        self._running = 0
        self._idle = threading.Condition()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            # One more worker for WebSub: an upkeep job or a pushed poll never waits for a slow fetch.
            executors={"default": ThreadPoolExecutor(max_workers=min(FETCH_THREADS, len(settings.sources)) + 1)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.poller = Poller(
            settings, store, engines=engines, publisher=publisher, clock=clock,
            should_stop=self._stop.is_set, next_poll=self._next_run,
        )
        #: One poll of a source at a time, scheduled or pushed.
        self._source_locks = {s.name: threading.Lock() for s in settings.sources}
        #: WebSub subscriptions, with ``[websub] callback_url``: a delivery polls at once.
        self.websub = self._websub_subscriber(store)

    def _next_run(self, name: str) -> datetime | None:
        job = self.scheduler.get_job(name)
        when: datetime | None = job.next_run_time if job is not None else None
        return when.astimezone(UTC).replace(microsecond=0) if when else None

    def _job(self, name: str) -> None:
        with self._idle:
            if self._stop.is_set():
                return  # due before the stop, not started: the next run picks it up
            self._running += 1
        try:
            with self._source_locks[name]:
                self.poller.poll(name)
            self._websub_after_poll(name)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def _first_run(self, source: SourceSettings, now: datetime) -> datetime | None:
        """Resume the schedule: a source polled recently waits out the rest of its interval."""
        last = self.poller.states.get(source.name).last_poll
        interval = source.poll_interval
        if last is None:
            return now  # never polled: poll at once
        if interval is None:
            return None  # cron: its next time
        return max(now, last + interval)

    def start(self) -> None:
        """Catch up on unpublished work, schedule every source, start polling."""
        if self.settings.sources:
            from syndicate.extract import warm_up

            warm_up()
        self.poller.catch_up()
        now = datetime.now(UTC)
        for source in self.settings.sources:
            interval = source.poll_interval
            grace = max(interval or timedelta(hours=1), timedelta(minutes=1))
            options: dict[str, Any] = {}
            first = self._first_run(source, now)
            if first is not None:
                options["next_run_time"] = first
            self.scheduler.add_job(
                self._job, self._trigger(source), args=[source.name], id=source.name, name=f"poll {source.name}",
                misfire_grace_time=int(grace.total_seconds()), **options,
            )
        if self.websub is not None:
            self.scheduler.add_job(
                self._websub_upkeep,
                IntervalTrigger(seconds=min(WEBSUB_UPKEEP, self.settings.websub.lease / 4).total_seconds(), timezone=UTC),
                id="websub", name="websub upkeep", next_run_time=now, misfire_grace_time=60,
            )
        self.scheduler.start()
        for source in self.settings.sources:
            self.poller.states.set_next_poll(source.name, self._next_run(source.name))
            logger.info("scheduled %s (%s)", source.name, _describe(source))

    def stop(self) -> None:
        """Ask the daemon to stop (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`stop` (or the timeout); True when stopping."""
        return self._stop.wait(timeout)

    def shutdown(self) -> None:
        """Let the poll in hand finish its item and its bookkeeping, then stop the scheduler."""
        self._stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        with self._idle:  # polls in hand stop after their item and record their state
            self._idle.wait_for(lambda: self._running == 0)
        self.poller.close()
        if self.websub is not None:
            self.websub.close()

    def run(self) -> None:
        """Start, poll until :meth:`stop`, shut down cleanly."""
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            logger.info("stopping: finishing the poll in hand")
            self.shutdown()

    # -- WebSub: pushed sources poll at once, and less often otherwise -------------------

    def _websub_subscriber(self, store: SqliteStore) -> WebSubSubscriber | None:
        if not self.settings.websub.callback_url:
            return None
        from syndicate.sources.websub import WebSubSubscriber

        return WebSubSubscriber(self.settings, store, on_delivery=self.poll_soon, on_push_change=self._push_changed)

    def poll_soon(self, name: str) -> None:
        """Poll ``name`` now, in a worker thread (a WebSub delivery): after the poll in
        hand, if one is running; deliveries meanwhile make one more poll, not many."""
        if self._stop.is_set() or name not in self._source_locks or not self.scheduler.running:
            return
        self.scheduler.add_job(
            self._job, "date", run_date=datetime.now(UTC), args=[name], id=f"push:{name}", name=f"push {name}",
            replace_existing=True, misfire_grace_time=300,
        )

    def _trigger(self, source: SourceSettings) -> BaseTrigger:
        """The source's trigger; a WebSub-subscribed one is polled ``poll_multiplier`` times
        less often (the fallback, should a push get lost)."""
        interval = source.poll_interval
        pushed = self.websub is not None and interval is not None and source.name in self.websub.pushed()
        if not pushed:
            return trigger_for(source)
        assert interval is not None
        longer = interval * self.settings.websub.poll_multiplier
        return IntervalTrigger(seconds=longer.total_seconds(), jitter=source.poll_jitter.total_seconds() or None, timezone=UTC)

    def _push_changed(self, name: str, pushed: bool) -> None:
        """A subscription became active or ended: poll at the interval that suits."""
        source = next((s for s in self.settings.sources if s.name == name), None)
        if source is None or source.poll_interval is None or self.scheduler.get_job(name) is None:
            return
        interval = source.poll_interval * (self.settings.websub.poll_multiplier if pushed else 1)
        self.scheduler.reschedule_job(
            name, trigger=IntervalTrigger(seconds=interval.total_seconds(), jitter=source.poll_jitter.total_seconds() or None,
                                          timezone=UTC),
        )
        logger.info("%s: polled every %s while %s", name, _human(interval), "WebSub pushes" if pushed else "not pushed")

    def _websub_after_poll(self, name: str) -> None:
        if self.websub is None or self._stop.is_set():
            return
        try:
            self.websub.maintain_source(name)  # a hub the poll just found is subscribed at once
        except Exception:  # noqa: BLE001 - the hub's trouble is not the poll's
            logger.exception("[%s] WebSub upkeep failed", name)

    def _websub_upkeep(self) -> None:
        if self.websub is not None and not self._stop.is_set():
            self.websub.maintain()


#: How often WebSub subscriptions are checked (leases renewed, removed sources unsubscribed).
WEBSUB_UPKEEP = timedelta(minutes=5)


def _describe(source: SourceSettings) -> str:
    if source.cron is not None:
        return f"cron {source.cron!r} UTC"
    interval = source.poll_interval
    assert interval is not None
    return f"every {_human(interval)}, jitter {_human(source.poll_jitter)}"


def _human(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
