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
from datetime import UTC, datetime
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


@dataclass(frozen=True)
class ClusterStatus:
    """The cluster at one moment; ``error`` says why a part could not be read."""

    queues: tuple[QueueDepth, ...]
    workers: tuple[WorkerSeen, ...]
    given_up: tuple[TaskRecord, ...] = ()
    errors: tuple[str, ...] = field(default=())

    @property
    def lost_workers(self) -> tuple[WorkerSeen, ...]:
        return tuple(w for w in self.workers if not w.answering)


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
    now = time.time()
    client.hset(WORKERS_KEY, name, json.dumps({"queues": list(queues), "started": now, "last_seen": now}))


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
        elif now - float(info.get("last_seen") or 0) > FORGET_AFTER:
            client.hdel(WORKERS_KEY, name)
            continue
        out.append(
            WorkerSeen(
                name=name, answering=name in answering, queues=tuple(info.get("queues", ())),
                started=_ts(info.get("started")), last_seen=_ts(info.get("last_seen")),
            )
        )
    return tuple(out)


def cluster_status(settings: Settings, *, timeout: float = 1.0, ledger_engine: Any = None) -> ClusterStatus:
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
    return ClusterStatus(queues=queues, workers=workers, given_up=given_up, errors=tuple(errors))


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"


def describe(status: ClusterStatus) -> list[str]:
    """The status as lines for ``syndicate status`` (plain text; the CLI prints them)."""
    lines = ["cluster queues (waiting/running): " + (
        ", ".join(f"{q.queue} {q.waiting}/{q.running}" for q in status.queues) or "unknown"
    )]
    answering = [w for w in status.workers if w.answering]
    lines.append(f"workers: {len(answering)} answering" + (f", {len(status.lost_workers)} lost" if status.lost_workers else ""))
    for worker in status.workers:
        state = "ok" if worker.answering else f"LOST (last seen {worker.last_seen or worker.started or 'never'})"
        lines.append(f"  {worker.name}: {state}; queues {','.join(worker.queues) or '-'}")
    for task in status.given_up:
        lines.append(f"given up: {task.task}{tuple(task.args)}: {task.last_error} (task {task.task_id})")
    lines.extend(f"error: {error}" for error in status.errors)
    return lines
