"""What the cluster is doing: queue depths per language, workers seen, tasks given up.

:func:`cluster_status` is what ``syndicate status`` and the status page call. It asks
Redis for the length of each queue (and, from the broker's ``unacked`` table, how many
of its tasks are running now), pings the workers with a short timeout (Celery's
``inspect ping``), and reads the tasks given up from the delivery ledger.

A worker registers itself in Redis when it starts and removes itself when it stops
cleanly; one that is registered but does not answer the ping died (``kill -9``, a lost
machine) and is shown as lost until it has not been seen for a day.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from syndicate.cluster.queues import (
    POLL_QUEUE,
    PUBLISH_QUEUE,
    REDIS_PREFIX,
    translate_queue,
)

if TYPE_CHECKING:
    import redis

    from syndicate.cluster.ledger import TaskRecord
    from syndicate.config import Settings

logger = logging.getLogger(__name__)

WORKERS_KEY = f"{REDIS_PREFIX}workers"
#: A lost worker is listed this long after it was last seen answering.
FORGET_AFTER = 24 * 3600.0
#: A worker that registered this recently and does not answer yet is starting, not lost
#: (its children load the engines before its first ping is answered).
STARTING_GRACE = 120.0
#: Items of a task's arguments shown before the rest are counted ("[1, 2, 3, ... 307 in all]").
SHOWN_ARGS = 5
#: kombu's Redis transport keeps priorities 3, 6 and 9 in sibling lists ``<queue>\x06\x16<p>``.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


@dataclass(frozen=True)
class QueueDepth:
    """One queue: tasks waiting in it, and taken by a worker but not yet finished."""

    queue: str
    language: str | None
    waiting: int
    running: int


@dataclass(frozen=True)
class WorkerSeen:
    """A worker that registered: whether it answered the ping, and what it consumes."""

    name: str
    answering: bool
    queues: tuple[str, ...]
    started: datetime | None
    last_seen: datetime | None
    #: Registered less than :data:`STARTING_GRACE` ago and not answering yet: starting, not lost.
    starting: bool = False


@dataclass(frozen=True)
class ClusterStatus:
    """The cluster at one moment; ``error`` says why a part could not be read."""

    queues: tuple[QueueDepth, ...]
    workers: tuple[WorkerSeen, ...]
    given_up: tuple[TaskRecord, ...] = ()
    errors: tuple[str, ...] = field(default=())
    #: When the longest-running task was taken by a worker (None: none is running).
    oldest_running: datetime | None = None
    #: cluster.visibility_timeout in seconds: a task a dead worker held is delivered again after it.
    visibility: float | None = None

    @property
    def lost_workers(self) -> tuple[WorkerSeen, ...]:
        return tuple(w for w in self.workers if not w.answering and not w.starting)

    @property
    def attention(self) -> list[str]:
        """What a person must look at: the broker or ledger unreadable, lost workers,
        tasks given up (``syndicate status`` and the status page list these)."""
        return [
            *self.errors,
            *(f"cluster worker {w.name} is lost" for w in self.lost_workers),
            *([f"{len(self.given_up)} cluster task(s) given up"] if self.given_up else []),
        ]

    @property
    def redelivery_at(self) -> datetime | None:
        """When the oldest running task comes back if a lost worker held it (after
        ``cluster.visibility_timeout``); None without a lost worker or a running task."""
        if not self.lost_workers or self.oldest_running is None or not self.visibility:
            return None
        return self.oldest_running + timedelta(seconds=self.visibility)


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC).replace(microsecond=0) if value else None


def queue_depths(client: redis.Redis, languages: Sequence[str]) -> tuple[QueueDepth, ...]:
    """Waiting and running tasks of ``poll``, every ``translate.<lang>`` and ``publish``."""
    names = [(POLL_QUEUE, None), *((translate_queue(lang), lang) for lang in languages), (PUBLISH_QUEUE, None)]
    pipe = client.pipeline()
    for name, _ in names:
        for suffix in _PRIORITY_SUFFIXES:
            pipe.llen(name + suffix)
    lengths = pipe.execute()
    running: dict[str, int] = {}
    for raw in client.hvals("unacked"):
        try:
            _payload, _exchange, routing_key = json.loads(raw)
        except (ValueError, TypeError):
            continue
        running[routing_key] = running.get(routing_key, 0) + 1
    out = []
    for i, (name, language) in enumerate(names):
        waiting = sum(int(n) for n in lengths[i * len(_PRIORITY_SUFFIXES) : (i + 1) * len(_PRIORITY_SUFFIXES)])
        out.append(QueueDepth(queue=name, language=language, waiting=waiting, running=running.get(name, 0)))
    return tuple(out)


def register_worker(client: redis.Redis, name: str, queues: Sequence[str]) -> None:
    # No last_seen until it answers a ping: until then, and for STARTING_GRACE, it is starting.
    client.hset(WORKERS_KEY, name, json.dumps({"queues": list(queues), "started": time.time(), "last_seen": None}))


def unregister_worker(client: redis.Redis, name: str) -> None:
    client.hdel(WORKERS_KEY, name)


def workers_seen(client: redis.Redis, answering: dict[str, Any]) -> tuple[WorkerSeen, ...]:
    """Registered workers, with whether each answered; unregistered answering ones too."""
    now = time.time()
    registered: dict[str, dict[str, Any]] = {}
    for raw_name, raw in client.hgetall(WORKERS_KEY).items():
        name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
        try:
            registered[name] = json.loads(raw)
        except ValueError:
            registered[name] = {}
    out = []
    for name in sorted(set(registered) | set(answering)):
        info = registered.get(name, {})
        if name in answering:
            info["last_seen"] = now
            client.hset(WORKERS_KEY, name, json.dumps({**info, "queues": info.get("queues", [])}))
        elif now - float(info.get("last_seen") or info.get("started") or 0) > FORGET_AFTER:
            client.hdel(WORKERS_KEY, name)
            continue
        started = info.get("started")
        starting = (
            name not in answering
            and info.get("last_seen") is None
            and started is not None
            and now - float(started) < STARTING_GRACE
        )
        out.append(
            WorkerSeen(
                name=name,
                answering=name in answering,
                queues=tuple(info.get("queues", ())),
                started=_ts(started),
                last_seen=_ts(info.get("last_seen")),
                starting=starting,
            )
        )
    return tuple(out)


def oldest_running(client: redis.Redis) -> datetime | None:
    """When the longest-running task was delivered (kombu's ``unacked_index``: delivery
    time per running task), or None when none runs."""
    oldest = client.zrange("unacked_index", 0, 0, withscores=True)
    return _ts(float(oldest[0][1])) if oldest else None


def cluster_status(
    settings: Settings,
    *,
    timeout: float = 1.0,
    ledger_engine: Any = None,
    visibility: float | None = None,
) -> ClusterStatus:
    """Queue depths, workers seen and tasks given up (see the module docstring).

    Never raises for an unreachable broker or store: the part it could not read is empty
    and ``errors`` says why, naming the key and the host.
    """
    import redis as redis_lib
    from celery import Celery

    cluster = settings.cluster
    errors: list[str] = []
    queues: tuple[QueueDepth, ...] = ()
    workers: tuple[WorkerSeen, ...] = ()
    given_up: tuple[TaskRecord, ...] = ()
    running_since: datetime | None = None
    assert cluster.broker_url is not None
    client = redis_lib.Redis.from_url(cluster.broker_url, socket_connect_timeout=timeout, socket_timeout=timeout * 5)
    try:
        queues = queue_depths(client, settings.translate.languages)
        # An app of its own: a configured app keeps its first broker connection pool.
        app = Celery("syndicate-status", broker=cluster.broker_url, set_as_current=False)
        try:
            replies = app.control.inspect(timeout=timeout).ping() or {}
        finally:
            app.close()
        workers = workers_seen(client, replies)
        running_since = oldest_running(client)
    except (redis_lib.RedisError, OSError) as exc:
        errors.append(f"cluster.broker_url: cannot reach Redis at {_host(cluster.broker_url)}: {exc}")
    finally:
        client.close()
    try:
        from syndicate.cluster.ledger import DeliveryLedger
        from syndicate.store import Store

        if ledger_engine is not None:
            given_up = tuple(DeliveryLedger(ledger_engine).records(state="failed"))
        else:
            with Store.for_settings(settings) as store:
                given_up = tuple(DeliveryLedger(store.engine).records(state="failed"))
    except Exception as exc:  # noqa: BLE001 - the status shows what it can
        errors.append(f"cluster.store_url: cannot read the task records: {exc}")
    return ClusterStatus(
        queues=queues,
        workers=workers,
        given_up=given_up,
        errors=tuple(errors),
        oldest_running=running_since,
        visibility=visibility if visibility is not None else cluster.visibility_timeout.total_seconds(),
    )


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"


def describe(status: ClusterStatus) -> list[str]:
    """The status as lines for ``syndicate status`` (plain text; the CLI prints them)."""
    lines = [
        "cluster queues (waiting/running): "
        + (", ".join(f"{q.queue} {q.waiting}/{q.running}" for q in status.queues) or "unknown")
    ]
    answering = [w for w in status.workers if w.answering]
    starting = [w for w in status.workers if w.starting]
    lines.append(
        f"workers: {len(answering)} answering"
        + (f", {len(starting)} starting" if starting else "")
        + (f", {len(status.lost_workers)} lost" if status.lost_workers else "")
    )
    for worker in status.workers:
        if worker.answering:
            state = "ok"
        elif worker.starting:
            state = f"starting (registered {worker.started})"
        else:
            state = f"LOST (last seen {worker.last_seen or worker.started or 'never'})"
        lines.append(f"  {worker.name}: {state}; queues {','.join(worker.queues) or '-'}")
    running = sum(q.running for q in status.queues)
    if running and (back := status.redelivery_at) is not None:
        lines.append(
            f"  {running} task(s) running; those a lost worker held are delivered again after "
            f"cluster.visibility_timeout, the oldest at {back:%Y-%m-%d %H:%M:%SZ} (its batch waits until then)"
        )
    for task in status.given_up:
        lines.append(f"given up: {task.task}({_short_args(task.args)}): {task.last_error} (task {task.task_id})")
    lines.extend(f"error: {error}" for error in status.errors)
    return lines


def _short_args(args: Sequence[Any]) -> str:
    """A task's arguments, long lists cut to their first items and their length."""
    shown = []
    for value in args:
        if isinstance(value, list | tuple) and len(value) > SHOWN_ARGS:
            head = ", ".join(repr(v) for v in value[:SHOWN_ARGS])
            shown.append(f"[{head}, ... {len(value)} in all]")
        else:
            shown.append(repr(value))
    return ", ".join(shown)
