"""``syndicate run``: APScheduler wiring around the units of work (:mod:`syndicate.work`).

Each source is one job on its own trigger (``interval`` or ``cron``, with jitter),
coalescing missed runs, never running twice at once. A job runs :meth:`Work.poll` in its
own thread (up to :data:`FETCH_THREADS` sources at once, so a slow peer does not hold
up the others), then :meth:`Work.translate` and :meth:`Work.publish` for every language,
one job at a time (the engines and the output files are shared); both cost nothing
when the poll brought nothing.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syndicate.config import Settings, SourceSettings
from syndicate.cron import cron_trigger
from syndicate.errors import RunAborted
from syndicate.models import RunReport
from syndicate.store import Store
from syndicate.store.sources_state import SourceStatus
from syndicate.translate.engines import Engines
from syndicate.work import Clock, PollOutcome, Work, translate_and_publish, utc_now

if TYPE_CHECKING:
    from syndicate.publish import FeedPublisher
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


@dataclass(frozen=True)
class Cycle:
    """One source's turn in the daemon: its poll, then every language translated and
    published (:func:`~syndicate.work.translate_and_publish`)."""

    poll: PollOutcome
    after: RunReport = field(default_factory=RunReport)  # what translating and publishing did

    @property
    def status(self) -> SourceStatus | None:
        return self.poll.status

    @property
    def files_written(self) -> int:
        return self.after.files_written

    @property
    def report(self) -> RunReport:
        return self.poll.report() + self.after


class Daemon:
    """The scheduler: one job per source, polled until :meth:`stop`."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        engines: Engines | None = None,
        publisher: FeedPublisher | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.store = store
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
        #: The engines live as long as the daemon: opened on first use, closed by shutdown()
        #: (unless they were handed in: then they are their owner's to close).
        self._owns_engines = engines is None
        self.engines = engines if engines is not None else Engines(settings)
        self._publisher, self._clock = publisher, clock
        self.work = Work(
            settings,
            store,
            self.engines,
            publisher=publisher,
            clock=clock,
            should_stop=self._stop.is_set,
            next_poll=self._next_run,
        )
        #: Engines a reload replaced, closed at shutdown (a translation may still use one).
        self._retired_engines: list[Engines] = []
        #: One translate-and-publish at a time, whatever the number of polling threads.
        self._output_lock = threading.Lock()
        #: One poll of a source at a time, scheduled or pushed.
        self._source_locks = {s.name: threading.Lock() for s in settings.sources}
        #: WebSub subscriptions, with ``[websub] callback_url``: a delivery polls at once.
        self.websub = self._websub_subscriber(store)
        #: An editor's change waits here for :meth:`_republisher` (see :meth:`republish_soon`).
        self._review_wanted = threading.Event()
        self._republisher_thread: threading.Thread | None = None
        # A daemon publishes the same open documents again and again: keep their entries.
        from syndicate.publish import feeds, sitemaps

        feeds.ENTRIES.resize(feeds.DAEMON_ENTRY_BYTES)
        sitemaps.URLS.resize(sitemaps.DAEMON_URL_BYTES)

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
            self.cycle(name)
            self._websub_after_poll(name)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def cycle(self, name: str) -> Cycle:
        """One source's turn: :meth:`Work.poll`, then :meth:`translate_and_publish`."""
        with self._source_locks[name]:
            poll = self.work.poll(name)
        # What a poll brought is news: its first language is published before the others
        # are translated (a push reaches its first readers after one translation).
        return Cycle(poll=poll, after=self.translate_and_publish(first_early=bool(poll.article_ids)))

    def translate_and_publish(self, *, first_early: bool = False) -> RunReport:
        """:func:`~syndicate.work.translate_and_publish`, the loop ``once`` runs too: after
        every poll, at start (what a crash left stored but not published) and after an
        editor's change. One at a time, whatever the number of polling threads.

        It costs next to nothing when the poll brought nothing. A store or output that
        fails is logged and tried again after the next poll; the daemon keeps running.
        """
        with self._output_lock:
            try:
                return translate_and_publish(self.work, first_early=first_early)
            except RunAborted as exc:
                logger.error("%s (tried again after the next poll)", exc.cause)
                return exc.done

    def republish_soon(self, language: str) -> None:
        """An editor saved a correction or an approval in ``language``: translate what it
        listed and publish, now, in the republisher's thread (several changes meanwhile
        make one more pass, not many)."""
        if not self._stop.is_set():
            logger.debug("%s: an editor's change, republishing", language)
            self._review_wanted.set()

    def _republisher(self) -> None:
        while not self._stop.is_set():
            if not self._review_wanted.wait(0.25):
                continue
            self._review_wanted.clear()
            with self._idle:
                if self._stop.is_set():
                    return
                self._running += 1
            try:
                self.translate_and_publish()
            except Exception:  # our bug: logged with its traceback, the daemon goes on
                logger.exception("republishing after an editor's change failed")
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

    def _schedule(self, source: SourceSettings, now: datetime) -> None:
        interval = source.poll_interval
        grace = max(interval or timedelta(hours=1), timedelta(minutes=1))
        options: dict[str, Any] = {}
        first = self._first_run(source, now)
        if first is not None:
            options["next_run_time"] = first
        self.scheduler.add_job(
            self._job,
            self._trigger(source),
            args=[source.name],
            id=source.name,
            name=f"poll {source.name}",
            misfire_grace_time=int(grace.total_seconds()),
            replace_existing=True,
            **options,
        )

    def _first_run(self, source: SourceSettings, now: datetime) -> datetime | None:
        """Resume the schedule: a source polled recently waits out the rest of its interval."""
        last = self.store.sources.get(source.name).last_poll
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
        files = self.translate_and_publish().files_written  # catch up on what a crash left unpublished
        if files:
            logger.info("caught up: %d file(s) written", files)
        now = datetime.now(UTC)
        for source in self.settings.sources:
            self._schedule(source, now)
        if self.websub is not None:
            self.scheduler.add_job(
                self._websub_upkeep,
                IntervalTrigger(
                    seconds=min(WEBSUB_UPKEEP, self.settings.websub.lease / 4).total_seconds(), timezone=UTC
                ),
                id="websub",
                name="websub upkeep",
                next_run_time=now,
                misfire_grace_time=60,
            )
        self.scheduler.start()
        self._republisher_thread = threading.Thread(target=self._republisher, name="republish", daemon=True)
        self._republisher_thread.start()
        for source in self.settings.sources:
            self.store.sources.set_next_poll(source.name, self._next_run(source.name))
            logger.info("scheduled %s (%s)", source.name, _describe(source))

    def reload(self, settings: Settings) -> None:
        """Run with ``settings`` from the next poll and publish on (SIGHUP): sources added
        are scheduled, removed ones unscheduled, changed schedules rescheduled; translation
        and publishing use the new settings; WebSub subscriptions (in the store) carry on.
        The poll in hand finishes with the settings it started with. ``settings`` must
        keep what needs a restart (see :func:`syndicate.config.reloadable`)."""
        with self._output_lock:  # no translate-and-publish is half done with the old settings
            old = self.settings
            if settings.translate != old.translate:
                if self._owns_engines:  # else their owner closes them
                    self._retired_engines.append(self.engines)
                self.engines = Engines(settings)  # opened on first use
                self._owns_engines = True
            self.settings = settings
            self.work = Work(
                settings,
                self.store,
                self.engines,
                publisher=self._publisher,
                clock=self._clock,
                should_stop=self._stop.is_set,
                next_poll=self._next_run,
            )
        before = {s.name: s for s in old.sources}
        now = datetime.now(UTC)
        for source in settings.sources:
            self._source_locks.setdefault(source.name, threading.Lock())
            previous = before.pop(source.name, None)
            if previous is None:
                self._schedule(source, now)
                logger.info("reload: scheduled %s (%s)", source.name, _describe(source))
            elif (previous.interval, previous.cron, previous.jitter) != (source.interval, source.cron, source.jitter):
                self.scheduler.reschedule_job(source.name, trigger=self._trigger(source))
                logger.info("reload: %s now %s", source.name, _describe(source))
            self.store.sources.set_next_poll(source.name, self._next_run(source.name))
        for name in before:  # no longer configured
            if self.scheduler.get_job(name) is not None:
                self.scheduler.remove_job(name)
            self._source_locks.pop(name, None)  # a poll in hand keeps its lock object
            logger.info("reload: %s is no longer polled", name)
        if self.websub is not None:
            self.websub.reconfigure(settings)

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
        if self._owns_engines:
            self.engines.close()
        for engines in self._retired_engines:
            engines.close()
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

    def _websub_subscriber(self, store: Store) -> WebSubSubscriber | None:
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
            self._job,
            "date",
            run_date=datetime.now(UTC),
            args=[name],
            id=f"push:{name}",
            name=f"push {name}",
            replace_existing=True,
            misfire_grace_time=300,
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
        return IntervalTrigger(
            seconds=longer.total_seconds(), jitter=source.poll_jitter.total_seconds() or None, timezone=UTC
        )

    def _push_changed(self, name: str, pushed: bool) -> None:
        """A subscription became active or ended: poll at the interval that suits."""
        source = next((s for s in self.settings.sources if s.name == name), None)
        if source is None or source.poll_interval is None or self.scheduler.get_job(name) is None:
            return
        interval = source.poll_interval * (self.settings.websub.poll_multiplier if pushed else 1)
        self.scheduler.reschedule_job(
            name,
            trigger=IntervalTrigger(
                seconds=interval.total_seconds(), jitter=source.poll_jitter.total_seconds() or None, timezone=UTC
            ),
        )
        logger.info("%s: polled every %s while %s", name, _human(interval), "WebSub pushes" if pushed else "not pushed")

    def _websub_after_poll(self, name: str) -> None:
        if self.websub is None or self._stop.is_set():
            return
        try:
            self.websub.maintain_source(name)  # a hub the poll just found is subscribed at once
        except Exception:
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
