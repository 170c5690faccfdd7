"""Prometheus metrics: every metric syndicate exports, defined once, with small recorders.

Pipeline code calls the ``record_*`` functions where its numbers already exist (a poll
recorded, a translation batch done, a publish finished); the server records its own
requests. ``/metrics`` (``syndicate serve``, ``syndicate run --serve``) renders
:data:`REGISTRY`. The counters live in the process: under ``syndicate run --serve`` they
cover the daemon's work, under a separate ``syndicate serve`` only the HTTP side (the
status page reads the store's totals instead).

prometheus-client is small and imports nothing heavy, so importing this module is cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

# The *_created series double every counter's lines and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated

#: syndicate's own registry (not the global default, so importing code can never
#: register a metric twice into what we export).
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

CONTENT_TYPE = CONTENT_TYPE_LATEST

POLLS = Counter("syndicate_polls", "Source polls by outcome.", ["source", "outcome"], registry=REGISTRY)
ITEMS = Counter(
    "syndicate_items",
    "Items a poll stored, by what happened to them (new, updated, failed).",
    ["source", "result"],
    registry=REGISTRY,
)
SEGMENTS = Counter(
    "syndicate_segments_translated", "Segments translated by an engine.", ["language", "engine"], registry=REGISTRY
)
MEMORY_HITS = Counter(
    "syndicate_memory_hits", "Segments served from the translation memory.", ["language", "engine"], registry=REGISTRY
)
GUARD_REJECTIONS = Counter(
    "syndicate_guard_rejections",
    "Engine outputs rejected by a quality guard.",
    ["language", "engine", "reason"],
    registry=REGISTRY,
)
TRANSLATION_SECONDS = Histogram(
    "syndicate_translation_seconds",
    "Time to translate one language's batch of articles.",
    ["language"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
    registry=REGISTRY,
)
SENTENCES_PER_SECOND = Gauge(
    "syndicate_translation_segments_per_second",
    "Segments per second of the last batch that translated any.",
    ["language"],
    registry=REGISTRY,
)
PUBLISH_SECONDS = Histogram(
    "syndicate_publish_seconds",
    "Time to rebuild the outputs of a publish.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
PUBLISH_FAILURES = Counter(
    "syndicate_publish_failures",
    "Publishes that failed (an output folder that cannot be written), in this process.",
    registry=REGISTRY,
)
FILES_WRITTEN = Counter("syndicate_publish_files_written", "Output files a publish changed.", registry=REGISTRY)
BUGS = Counter(
    "syndicate_bugs",
    "Unexpected exceptions (syndicate's own bugs), by the part that caught them and went on.",
    ["part"],
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "syndicate_http_requests",
    "HTTP requests served, by route class and status code.",
    ["route", "status"],
    registry=REGISTRY,
)


WEBSUB_NOTIFICATIONS = Counter(
    "syndicate_websub_notifications",
    "WebSub publish pings to our hubs (after retries), by hub and outcome.",
    ["hub", "outcome"],
    registry=REGISTRY,
)
WEBSUB_DELIVERIES = Counter(
    "syndicate_websub_deliveries",
    "WebSub content deliveries from upstream hubs, by source and outcome.",
    ["source", "outcome"],
    registry=REGISTRY,
)
WEBSUB_VERIFICATIONS = Counter(
    "syndicate_websub_verifications",
    "WebSub intent verifications answered, by mode and outcome.",
    ["mode", "outcome"],
    registry=REGISTRY,
)
CLUSTER_TASKS = Gauge(
    "syndicate_cluster_tasks",
    "Cluster tasks per queue (poll, translate.<lang>, publish), waiting or running.",
    ["queue", "state"],
    registry=REGISTRY,
)
CLUSTER_WORKERS = Gauge(
    "syndicate_cluster_workers",
    "Cluster workers seen: answering, starting, or registered but silent (lost).",
    ["state"],
    registry=REGISTRY,
)
CLUSTER_GIVEN_UP = Gauge(
    "syndicate_cluster_tasks_given_up",
    "Cluster tasks given up after too many deliveries.",
    registry=REGISTRY,
)


class _StoreCollector:
    """A collector whose numbers are read from the store at each scrape, through
    ``source`` (set by the server; unset, it yields nothing). A store that does not
    answer leaves the series out of that scrape; :meth:`families` makes them."""

    def __init__(self) -> None:
        self.source: Callable[[], Any] | None = None

    def collect(self) -> Iterator[Any]:
        if self.source is None:
            return
        try:
            read = self.source()
        except Exception:  # noqa: BLE001 - a store that does not answer: no series this scrape
            return
        yield from self.families(read)

    def families(self, read: Any) -> Iterator[Any]:
        raise NotImplementedError

    def describe(self) -> list[Any]:
        return []


class QualityCollector(_StoreCollector):
    """``syndicate_translation_confidence{language}``: a histogram of the stored machine
    translations' confidence, and ``syndicate_translations_low_confidence{language}``,
    read from the store at each scrape (so ``syndicate serve`` beside a separate daemon
    shows the same)."""

    def families(self, overviews: Any) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

        histogram = HistogramMetricFamily(
            "syndicate_translation_confidence",
            "Confidence of the stored machine translations (0-1).",
            labels=["language"],
        )
        low = GaugeMetricFamily(
            "syndicate_translations_low_confidence",
            "Stored machine translations under the language's threshold.",
            labels=["language"],
        )
        for language, overview in sorted(overviews.items()):
            buckets = [(str(bound), count) for bound, count in overview.buckets]
            buckets.append(("+Inf", overview.scored))
            histogram.add_metric([language], buckets, overview.total)
            low.add_metric([language], overview.low)
        yield histogram
        yield low


QUALITY = QualityCollector()
REGISTRY.register(QUALITY)


class ReviewCollector(_StoreCollector):
    """``syndicate_review_entries{language,state}``: entries waiting for an editor, needing
    review (a corrected sentence changed upstream), approved, corrected; and
    ``syndicate_review_held{language}``: entries of a language reviewed "before"
    publishing that wait for an approval. Read from the store at each scrape."""

    def families(self, counts: Any) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        entries = GaugeMetricFamily(
            "syndicate_review_entries", "Translated entries by review state.", labels=["language", "state"]
        )
        held = GaugeMetricFamily(
            "syndicate_review_held",
            'Entries not published until an editor approves them ([translate.review] "before").',
            labels=["language"],
        )
        for language, values in sorted(counts.items()):
            for state in ("waiting", "needs_review", "approved", "corrected"):
                entries.add_metric([language, state], values.get(state, 0))
            held.add_metric([language], values.get("held", 0))
        yield entries
        yield held


REVIEW = ReviewCollector()
REGISTRY.register(REVIEW)


class HealthCollector(_StoreCollector):
    """What an operator must act on, read from the store at each scrape (so a ``serve``
    beside a separate daemon, or a cluster's, shows it too):

    - ``syndicate_publish_failing{language}``: publishes failed in a row (0: the last succeeded);
    - ``syndicate_publish_failures_recorded{language}``: failed publishes over the store's life;
    - ``syndicate_source_failing{source}``: 1 when the source's last poll failed;
    - ``syndicate_websub_push_off{source}``: 1 when its WebSub subscription is denied,
      failed, or never verified by the hub (it is polled meanwhile);
    - ``syndicate_websub_hub_failing{hub}``: 1 when the last ping of one of our hubs failed;
    - ``syndicate_attention``: the number of lines /status lists under "Needs attention".
    """

    def families(self, health: Any) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        for name, help_text, label, key in (
            (
                "syndicate_publish_failing",
                "Publishes failed in a row (0: the last one succeeded).",
                "language",
                "publish_failing",
            ),
            (
                "syndicate_publish_failures_recorded",
                "Failed publishes recorded in the store.",
                "language",
                "publish_failures",
            ),
            ("syndicate_source_failing", "1 when the source's last poll failed.", "source", "source_failing"),
            (
                "syndicate_websub_push_off",
                "1 when the source's WebSub subscription is denied, failed or unverified.",
                "source",
                "push_off",
            ),
            ("syndicate_websub_hub_failing", "1 when the last ping of this hub failed.", "hub", "hub_failing"),
        ):
            family = GaugeMetricFamily(name, help_text, labels=[label])
            for subject, value in sorted(health.get(key, {}).items()):
                family.add_metric([subject], value)
            yield family
        yield GaugeMetricFamily(
            "syndicate_attention", 'Problems /status lists under "Needs attention".', value=health.get("attention", 0)
        )


HEALTH = HealthCollector()
REGISTRY.register(HEALTH)


def record_websub_notification(hub: str, outcome: str) -> None:
    """A ping of ``hub`` ended as ``outcome`` ("ok" or "failed")."""
    WEBSUB_NOTIFICATIONS.labels(hub, outcome).inc()


def record_websub_delivery(source: str, outcome: str) -> None:
    """A delivery for ``source``: accepted, bad-signature, unsigned, too-large, rate-limited, unknown."""
    WEBSUB_DELIVERIES.labels(source, outcome).inc()


def record_websub_verification(mode: str, outcome: str) -> None:
    """A hub's verification request (subscribe, unsubscribe, denied): confirmed or refused."""
    WEBSUB_VERIFICATIONS.labels(mode, outcome).inc()


def record_poll(source: str, outcome: str, *, new: int = 0, updated: int = 0, failed: int = 0) -> None:
    """One poll of ``source`` ended as ``outcome`` (ok, not-modified, partial, failed, ...)."""
    POLLS.labels(source, outcome).inc()
    for result, n in (("new", new), ("updated", updated), ("failed", failed)):
        if n:
            ITEMS.labels(source, result).inc(n)


def record_translation_counts(counts: Mapping[tuple[str, str, str], int]) -> None:
    """A run's per (language, engine, counter) numbers, as the store's stats get them."""
    for (language, engine, name), n in counts.items():
        if not n:
            continue
        if name == "translated":
            SEGMENTS.labels(language, engine).inc(n)
        elif name == "memory_hits":
            MEMORY_HITS.labels(language, engine).inc(n)


def record_translation_batch(language: str, seconds: float, segments: int) -> None:
    """One language's batch took ``seconds`` and translated ``segments`` segments."""
    TRANSLATION_SECONDS.labels(language).observe(seconds)
    if segments and seconds > 0:
        SENTENCES_PER_SECOND.labels(language).set(segments / seconds)


def record_cluster(
    queues: Mapping[str, tuple[int, int]],
    *,
    answering: int,
    lost: int,
    given_up: int,
    starting: int = 0,
) -> None:
    """The cluster as the status last read it (each scrape reads it again): tasks per
    queue (waiting, running), workers answering, starting, lost; tasks given up."""
    for queue, (waiting, running) in queues.items():
        CLUSTER_TASKS.labels(queue, "waiting").set(waiting)
        CLUSTER_TASKS.labels(queue, "running").set(running)
    CLUSTER_WORKERS.labels("answering").set(answering)
    CLUSTER_WORKERS.labels("starting").set(starting)
    CLUSTER_WORKERS.labels("lost").set(lost)
    CLUSTER_GIVEN_UP.set(given_up)


def record_guard_rejection(language: str, engine: str, reason: str, n: int = 1) -> None:
    """A quality guard rejected an engine's output; the reason's detail ("lost protected
    term 'X'") is dropped so the label keeps a handful of values."""
    GUARD_REJECTIONS.labels(language, engine, reason.split(" '", 1)[0].split(' "', 1)[0]).inc(n)


def record_publish(seconds: float, files_written: int) -> None:
    PUBLISH_SECONDS.observe(seconds)
    if files_written:
        FILES_WRITTEN.inc(files_written)


def record_publish_failure() -> None:
    PUBLISH_FAILURES.inc()


def record_bug(part: str) -> None:
    """An exception nothing expected ("engine", "source", "task"): logged with its
    traceback where it was caught, and counted here so ``/metrics`` shows it."""
    BUGS.labels(part).inc()


_HTTP_CHILDREN: dict[tuple[str, int], Any] = {}


def record_http(route: str, status: int) -> None:
    # Called for every request: keep the labelled child instead of looking it up each time.
    child = _HTTP_CHILDREN.get((route, status))
    if child is None:
        child = _HTTP_CHILDREN[(route, status)] = HTTP_REQUESTS.labels(route, str(status))
    child.inc()


def render() -> bytes:
    """The exposition text of every metric."""
    return generate_latest(REGISTRY)


__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "record_cluster",
    "record_guard_rejection",
    "record_http",
    "record_poll",
    "record_publish",
    "record_publish_failure",
    "record_translation_batch",
    "record_translation_counts",
    "record_websub_delivery",
    "record_websub_notification",
    "record_websub_verification",
    "render",
]
