"""What ``/status`` and ``/status.json`` show: sources, languages, the daemon; and the
status service (:class:`StatusService`) the server asks, with its page's stylesheet.

Everything comes from the store and the state directory (what ``syndicate status`` and
``syndicate stats`` read), so a ``syndicate serve`` beside a separate ``syndicate run``
shows the same as ``syndicate run --serve``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from syndicate.config import LanguageQuality, Settings
from syndicate.errors import SyndicateError
from syndicate.models import public_url
from syndicate.publish.edition import language_name
from syndicate.publish.formats import FORMATS, OPML_FORMAT
from syndicate.sources.websub import next_attempt
from syndicate.store import Store
from syndicate.store.lock import lock_holder
from syndicate.store.overview import QualityOverview, StoreOverview
from syndicate.store.publication import PublicationRepository, PublishRecord
from syndicate.store.websub import HubPing, Subscription

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessInfo:
    """This process: its PID, when it started, and whether it runs the daemon too."""

    pid: int
    started: float  # time.time()
    runs_daemon: bool


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _process_start(pid: int) -> float | None:
    """When another process started (Linux /proc), for the daemon's uptime."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22, starttime, counted after the command name
        with open("/proc/stat", encoding="ascii") as fh:
            boot = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _feed_mtime(settings: Settings, language: str) -> float | None:
    try:
        return (settings.feeds_dir / language / FORMATS[OPML_FORMAT].file).stat().st_mtime
    except OSError:
        return None


def publishable_languages(settings: Settings) -> list[str]:
    """Languages whose subscription feed exists on disk."""
    return [lang for lang in settings.translate.languages if _feed_mtime(settings, lang) is not None]


def source_selections(settings: Settings, store: Store) -> dict[str, dict[str, Any]]:
    """Per source with keyword filters ([[sources]] include / exclude): its terms and how
    many of its articles they publish and hold back (as last decided: the next translate
    or publish decides new articles and changed filters)."""
    counts = store.filters.counts()
    out = {}
    for source in settings.sources:
        if source.include or source.exclude:
            published, held = counts.get(source.name, (0, 0))
            out[source.name] = {
                "include": list(source.include),
                "exclude": list(source.exclude),
                "published": published,
                "held_back": held,
            }
    return out


def snapshot(settings: Settings, store: Store, process: ProcessInfo, now: float | None = None) -> dict[str, Any]:
    """The status as plain data (the JSON document; the HTML page renders the same)."""
    now = time.time() if now is None else now
    holder = lock_holder(settings.state_dir)
    if process.runs_daemon:
        daemon_pid: int | None = process.pid
        daemon_started: float | None = process.started
    else:
        daemon_pid = holder if holder and holder > 0 else None
        daemon_started = _process_start(daemon_pid) if daemon_pid else None
    statuses = store.sources.all()
    websub = store.websub
    subscriptions = websub.all()
    sources = []
    selections = source_selections(settings, store)
    for source in settings.sources:
        st = statuses.get(source.name)
        sources.append(
            {
                "name": source.name,
                "type": source.type,
                "languages": list(settings.source_languages(source.name)),
                "title_only": source.title_only,
                "filters": selections.get(source.name),
                "last_poll": _iso(st.last_poll) if st else None,
                "last_success": _iso(st.last_success) if st else None,
                "next_poll": _iso(st.next_poll) if st else None,
                "outcome": (st.outcome if st else None) or "never polled",
                "duration_seconds": st.duration if st else None,
                "items_new": st.items_new if st else 0,
                "items_updated": st.items_updated if st else 0,
                "items_failed": st.items_failed if st else 0,
                "polls": st.polls if st else 0,
                "failures_in_row": st.failures_in_row if st else 0,
                "last_error": st.last_error if st else None,
                "websub": _subscription(subscriptions.get(source.name), settings),
            }
        )
    publishes = PublicationRepository(store).outcomes()
    totals = store.stats.all()
    languages = []
    rules = {code: settings.translate.quality.of(code) for code in settings.translate.languages}
    qualities = StoreOverview(store).quality({code: rule.threshold for code, rule in rules.items()})
    reviews = review_counts(settings, store)
    for overview in StoreOverview(store).languages(settings.translate.languages, settings.sources_into):
        code = overview.language
        counts: dict[str, int] = {}
        for (language, _engine), values in totals.items():
            if language == code:
                for name, n in values.items():
                    counts[name] = counts.get(name, 0) + n
        translated, hits = counts.get("translated", 0), counts.get("memory_hits", 0)
        mtime = _feed_mtime(settings, code)
        languages.append(
            {
                "language": code,
                "name": language_name(code),
                "publishable": mtime is not None,
                "entries_published": overview.published,
                "translations_stored": overview.translated,
                "last_publish": _iso(datetime.fromtimestamp(mtime, UTC)) if mtime is not None else None,
                "pending_translations": overview.pending,
                "segments_translated": translated,
                "memory_hits": hits,
                "memory_hit_rate": round(hits / (hits + translated), 4) if hits + translated else None,
                "guard_failures": counts.get("guard_failures", 0),
                "engine_errors": counts.get("engine_errors", 0),
                # Segments no engine could translate, published in the original language.
                "untranslated_segments": counts.get("untranslated", 0),
                # What the engines did not know and what the checks found, over every run.
                "unknown_words": counts.get("unknown_words", 0),
                "number_mismatches": counts.get("numbers", 0),
                "glued_words_repaired": counts.get("glued", 0),
                "quality": _quality(qualities[code], rules[code]),
                "review": {"mode": settings.translate.review_mode(code), **reviews[code]},
                "engines": [
                    {"engine": e.engine, "model": e.model, "translations": e.translations} for e in overview.engines
                ],
                "feed_url": settings.feeds_url + f"{code}/{FORMATS[OPML_FORMAT].file}",
                "publish": _publish(publishes.get(code)),
            }
        )
    hubs = hub_pings(settings, websub.hubs())
    cluster = cluster_overview(settings, store) if settings.cluster.enabled else None
    return {
        "generated": _iso(datetime.fromtimestamp(now, UTC)),
        # What an operator must act on, worst first; empty when all is well.
        "attention": [
            *attention(settings, statuses, subscriptions, publishes, hubs),
            *(cluster["attention"] if cluster else ()),
        ],
        "site": {"title": settings.site.title, "base_url": settings.site.base_url},
        "daemon": {
            "running": bool(holder) or process.runs_daemon,
            "pid": daemon_pid,
            "in_this_process": process.runs_daemon,
            "uptime_seconds": round(now - daemon_started) if daemon_started else None,
            "lock": str(settings.state_dir / "daemon.lock"),
            "lock_holder": holder if holder and holder > 0 else None,
        },
        "server": {"pid": process.pid, "uptime_seconds": round(now - process.started)},
        "sources": sources,
        "languages": languages,
        "websub_hubs": hubs,
        "retired_languages": retired_languages(settings, store),
        "cluster": cluster,
    }


def review_counts(settings: Settings, store: Store) -> dict[str, dict[str, int]]:
    """Per language: entries waiting for review, needing review, approved, corrected, and
    those a "before" language holds back until approved ("held")."""
    out: dict[str, dict[str, int]] = {}
    for code, counts in store.review.counts(settings.translate.languages).items():
        held = counts["waiting"] if settings.translate.review_mode(code) == "before" else 0
        out[code] = {**counts, "held": held}
    return out


def _quality(overview: QualityOverview, rule: LanguageQuality) -> dict[str, Any]:
    """A language's translations as far as they can be trusted, and what is done with the low ones."""
    return {
        "machine_translations": overview.translations,
        "mean_confidence": overview.mean,
        "threshold": rule.threshold,
        "action": rule.action,
        "low_confidence": overview.low,
        "histogram": [{"le": bound, "count": n} for bound, n in overview.buckets],
    }


def cluster_overview(settings: Settings, store: Store) -> dict[str, Any]:
    """Queue depths per language, workers seen (a dead one shows as lost) and tasks
    given up, from Redis and the store; also set as gauges on /metrics."""
    from syndicate import metrics
    from syndicate.cluster.status import cluster_status

    status = cluster_status(settings, timeout=0.5, ledger_engine=store.engine)
    metrics.record_cluster(
        {q.queue: (q.waiting, q.running) for q in status.queues},
        answering=sum(1 for w in status.workers if w.answering),
        lost=len(status.lost_workers),
        given_up=len(status.given_up),
        starting=sum(1 for w in status.workers if w.starting),
    )
    return {
        # What the operator must act on (joined to the page's "Needs attention").
        "attention": status.attention,
        "oldest_running": _iso(status.oldest_running),
        # A lost worker's tasks come back after the visibility timeout: the oldest then.
        "redelivery_at": _iso(status.redelivery_at),
        "queues": [
            {"queue": q.queue, "language": q.language, "waiting": q.waiting, "running": q.running}
            for q in status.queues
        ],
        "workers": [
            {
                "name": w.name,
                "answering": w.answering,
                "starting": w.starting,
                "queues": list(w.queues),
                "started": _iso(w.started),
                "last_seen": _iso(w.last_seen),
            }
            for w in status.workers
        ],
        "given_up": [
            {
                "task": t.task,
                "args": list(t.args),
                "deliveries": t.deliveries,
                "last_error": t.last_error,
                "updated": _iso(t.updated),
            }
            for t in status.given_up
        ],
        "errors": list(status.errors),
    }


def attention(
    settings: Settings,
    statuses: dict[str, Any],
    subscriptions: dict[str, Subscription],
    publishes: dict[str, PublishRecord],
    hubs: list[dict[str, Any]],
) -> list[str]:
    """Every failure an operator must act on, as one line each: publishes that fail,
    sources whose last poll failed, push that is off (denied, failed, or a hub that never
    verifies), hubs our pings do not reach. Shown on /status and by ``syndicate status``."""
    out = []
    for code in settings.translate.languages:
        record = publishes.get(code)
        if record is not None and record.failures_in_row:
            out.append(
                f"{code}: publishing failed {record.failures_in_row} time(s) in a row, last at "
                f"{_iso(record.last_failure)}: {record.last_error}"
            )
    for source in settings.sources:
        st = statuses.get(source.name)
        if st is not None and st.outcome == "failed":
            out.append(f"source {source.name}: the last poll failed: {st.last_error or 'no error recorded'}")
        view = _subscription(subscriptions.get(source.name), settings)
        if view is not None and view["problem"]:
            out.append(
                f"source {source.name}: WebSub push is {view['state']}: {view['problem']}"
                + (f"; next attempt {view['next_attempt']}" if view["next_attempt"] else "")
            )
    for hub in hubs:
        if hub["outcome"] == "failed":
            out.append(f"hub {hub['hub']}: the last ping failed: {hub['last_error'] or 'no error recorded'}")
    return out


def retired_languages(settings: Settings, store: Store) -> list[dict[str, Any]]:
    """Languages no longer configured whose outputs a publish removed (they answer 410)."""
    configured = set(settings.translate.languages)
    return [
        {"language": code, "name": language_name(code), "retired": _iso(when), "files_removed": files}
        for code, (when, files) in sorted(PublicationRepository(store).retired().items())
        if code not in configured
    ]


def health(settings: Settings, store: Store) -> dict[str, Any]:
    """:func:`attention`'s facts as numbers per subject, for the metrics."""
    statuses, subscriptions = store.sources.all(), store.websub.all()
    publishes = PublicationRepository(store).outcomes()
    hubs = hub_pings(settings, store.websub.hubs())
    names = [source.name for source in settings.sources]
    languages = settings.translate.languages
    return {
        "publish_failing": {code: publishes[code].failures_in_row if code in publishes else 0 for code in languages},
        "publish_failures": {code: publishes[code].failures if code in publishes else 0 for code in languages},
        "source_failing": {name: int(name in statuses and statuses[name].outcome == "failed") for name in names},
        "push_off": {
            name: int(bool((view := _subscription(sub, settings)) and view["problem"]))
            for name, sub in subscriptions.items()
            if name in names
        },
        "hub_failing": {hub["hub"]: int(hub["outcome"] == "failed") for hub in hubs},
        "attention": len(attention(settings, statuses, subscriptions, publishes, hubs)),
    }


def _publish(record: PublishRecord | None) -> dict[str, Any]:
    """A language's failed publishes (none: every publish so far succeeded)."""
    record = record or PublishRecord(language="")
    return {
        "failing": record.failures_in_row > 0,
        "failures_in_row": record.failures_in_row,
        "failures": record.failures,
        "last_failure": _iso(record.last_failure),
        "last_error": record.last_error,
        "recovered": _iso(record.recovered),
    }


def _subscription(sub: Subscription | None, settings: Settings) -> dict[str, Any] | None:
    """A source's WebSub subscription (the secret stays in the store): its state, when
    the upkeep acts next, and what is wrong with it (``problem``; None when push works)."""
    if sub is None:
        return None
    problem = None
    if sub.state in ("denied", "failed"):
        problem = sub.last_error or sub.state
    elif sub.pending == "subscribe" and sub.last_error:  # asked again: the hub never verified
        problem = sub.last_error
    return {
        "state": sub.state,
        "problem": problem,
        "next_attempt": _iso(next_attempt(sub, settings.websub.lease)),
        "pending": sub.pending,
        "hub": public_url(sub.hub),
        "topic": sub.topic,
        "lease_seconds": sub.lease_seconds,
        "lease_expires": _iso(sub.expires),
        "last_delivery": _iso(sub.last_delivery),
        "deliveries": sub.deliveries,
        "last_error": sub.last_error,
    }


def hub_pings(settings: Settings, pings: dict[str, HubPing]) -> list[dict[str, Any]]:
    """Each configured hub and how its last ping went."""
    out = []
    for hub in settings.publish.websub_hubs:
        ping = pings.get(hub, HubPing(hub))
        out.append(
            {
                "hub": public_url(hub),
                "outcome": ping.outcome or "never pinged",
                "last_ping": _iso(ping.last_ping),
                "last_success": _iso(ping.last_success),
                "last_error": ping.last_error,
                "pings_ok": ping.pings_ok,
                "pings_failed": ping.pings_failed,
            }
        )
    return out


__all__ = ["ProcessInfo", "attention", "health", "hub_pings", "publishable_languages", "retired_languages", "snapshot"]


#: Seconds a status snapshot is reused (each one reads the store).
STATUS_TTL = 2.0

STATUS_CSS = """\
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; }
body { font: 16px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 0.75rem; }
h1 { font-size: 1.4rem; margin: 0.2rem 0; } h2 { font-size: 1.15rem; margin: 1.2rem 0 0.4rem; }
h3 { font-size: 1rem; margin: 0 0 0.3rem; overflow-wrap: anywhere; }
.meta { color: GrayText; margin: 0; font-size: 0.9rem; }
#daemon { padding: 0.5rem; border-left: 4px solid var(--ok); } #daemon.bad { border-color: var(--bad); }
.card { border: 1px solid #8884; border-left: 4px solid var(--ok); border-radius: 4px; padding: 0.5rem 0.7rem;
        margin: 0.5rem 0; }
.card.warn { border-left-color: var(--warn); } .card.bad { border-left-color: var(--bad); }
.tag { font-weight: normal; font-size: 0.85rem; color: GrayText; }
.outcome { float: right; font-weight: normal; }
.bad .outcome { color: var(--bad); font-weight: bold; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 0.8rem; margin: 0; }
dt { color: GrayText; } dd { margin: 0; overflow-wrap: anywhere; }
.error { color: var(--bad); }
@media (max-width: 30rem) { dl { grid-template-columns: 1fr; } dd { margin-bottom: 0.3rem; } }
"""


def duration(seconds: float | None) -> str:
    """A span as the status page shows it: "3d 4h", "5m 2s", "-" when unknown."""
    if seconds is None:
        return "-"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


class StatusService:
    """The store-backed side: status snapshots, readiness, the archive-page oracle."""

    def __init__(self, settings: Settings, process: ProcessInfo, store: Store | None = None) -> None:
        self.settings = settings
        self.process = process
        self._store = store
        self._owns_store = store is None
        self._lock = threading.Lock()
        self._snapshot: tuple[float, dict[str, Any]] | None = None
        self._cluster_read = 0.0  # when the cluster's gauges were last read (for /metrics)

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = Store.for_reading(self.settings)
            return self._store

    def close(self) -> None:
        if self._owns_store and self._store is not None:
            self._store.close()
            self._store = None

    def snapshot(self) -> dict[str, Any] | None:
        """The status (reused for :data:`STATUS_TTL`), or None when the store cannot say."""
        now = time.time()
        cached = self._snapshot
        if cached is not None and now - cached[0] < STATUS_TTL:
            return cached[1]
        try:
            data = snapshot(self.settings, self.store, self.process, now)
        except (SyndicateError, SQLAlchemyError) as exc:
            logger.error("status: cannot read the store: %s", exc)
            return None
        self._snapshot = (now, data)
        return data

    def quality(self) -> dict[str, Any]:
        """Per language, the stored translations' confidence (for ``/metrics``)."""
        from syndicate.store.overview import StoreOverview

        thresholds = {
            code: self.settings.translate.quality.of(code).threshold for code in self.settings.translate.languages
        }
        return dict(StoreOverview(self.store).quality(thresholds))

    def retired(self) -> frozenset[str]:
        """Languages retired and not configured again (``410 Gone`` under both folders)."""
        from syndicate.store.publication import PublicationRepository

        if (
            self._store is None
            and not self.settings.cluster.store_url
            and not (self.settings.state_dir / "syndicate.db").is_file()
        ):
            return frozenset()  # nothing published from here yet: serving files never makes a store
        configured = set(self.settings.translate.languages)
        return frozenset(code for code in PublicationRepository(self.store).retired() if code not in configured)

    def health(self) -> dict[str, Any]:
        """What an operator must act on, as numbers (for ``/metrics``)."""
        return health(self.settings, self.store)

    def refresh_cluster(self) -> None:
        """Read the cluster's queues, workers and given-up tasks again for ``/metrics``'
        gauges (at most every :data:`STATUS_TTL`; the status page reads them too), so a
        scrape never shows what an earlier visit of ``/status`` saw."""
        now = time.time()
        if not self.settings.cluster.enabled or now - self._cluster_read < STATUS_TTL:
            return
        self._cluster_read = now
        try:
            cluster_overview(self.settings, self.store)
        except (SyndicateError, SQLAlchemyError) as exc:
            logger.warning("metrics: cannot read the cluster's state: %s", exc)

    def review(self) -> dict[str, dict[str, int]]:
        """Per language, the review queue's counts, and what a "before" language holds back."""
        return review_counts(self.settings, self.store)

    def ready(self) -> tuple[bool, dict[str, Any]]:
        from syndicate.store.overview import StoreOverview

        try:
            reachable = StoreOverview(self.store).ping()
        except Exception:  # noqa: BLE001 - cannot even open it
            reachable = False
        languages = publishable_languages(self.settings)
        return reachable and bool(languages), {"store": reachable, "publishable_languages": languages}

    def is_full(self, language: str, number: int, fmt: str, size: int) -> bool:
        """Whether an archive page's file (a feed's, or a page index's: ``fmt`` "index")
        is its frozen, final form (the store says so)."""
        try:
            frozen = self.store.history.frozen_sizes(language)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - unknown means "may still change"
            logger.debug("cannot ask the store about archive page %s/%d", language, number, exc_info=True)
            return False
        return frozen.get((number, fmt)) == size
