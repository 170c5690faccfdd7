"""``syndicate run --role scheduler`` and ``--role worker``: start the beat or a worker.

Both check first that the broker (and, for a worker, the store) answers, and say which
key and host when not. Both stop gracefully on SIGTERM: the scheduler releases its lock;
a worker does Celery's warm shutdown (its children finish the task in hand; with late
acknowledgement a task cut short is redelivered, never lost).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from syndicate.cluster.queues import worker_queues
from syndicate.cluster.runtime import (
    Clock,
    Runtime,
    connect_signals,
    install,
    limit_threads,
    utc_now,
)
from syndicate.errors import SyndicateError

if TYPE_CHECKING:
    from syndicate.config import Settings
    from syndicate.work import Work

logger = logging.getLogger(__name__)


class ClusterError(SyndicateError):
    """A cluster role cannot start: no broker configured, or the broker or store unreachable."""

    def __init__(self, message: str, *, key: str, host: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.key = key
        self.host = host


def _redis_host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


def check_broker(settings: Settings, *, timeout: float = 5.0) -> None:
    """Raise :class:`ClusterError` unless ``cluster.broker_url`` is set and Redis answers."""
    url = settings.cluster.broker_url
    if url is None:
        raise ClusterError(
            "no broker: cluster.broker_url is not set",
            key="cluster.broker_url",
            hint='set [cluster] broker_url = "redis://host:6379/0" to run --role scheduler or worker',
        )
    import redis

    host = _redis_host(url)
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        raise ClusterError(
            f"cluster.broker_url: cannot reach Redis at {host}: {exc}",
            key="cluster.broker_url",
            host=host,
            hint="start redis-server there, or correct cluster.broker_url",
        ) from None
    finally:
        client.close()


def check_store(settings: Settings) -> None:
    """Open the store once (bringing its schema up to date), then close it: a worker's
    main process must not keep connections its children would inherit."""
    from syndicate.store import Store

    if settings.cluster.store_url is None:
        logger.warning(
            "cluster.store_url is not set: using the SQLite file in %s (one machine only)", settings.state_dir
        )
    Store.for_settings(settings).close()  # a StoreError names the host; opening migrates it


def run_worker(
    settings: Settings,
    *,
    languages: Sequence[str] | None = None,
    queues: Sequence[str] | None = None,
    concurrency: int | None = None,
    clock: Clock = utc_now,
    hostname: str | None = None,
    loglevel: str = "INFO",
    work_factory: Callable[..., Work] | None = None,
) -> int:
    """Run a Celery worker until SIGTERM; return its exit code.

    ``languages`` (default: every configured one) picks the ``translate.<lang>`` queues;
    ``queues`` replaces the whole list (see :func:`~syndicate.cluster.queues.parse_queues`).
    ``concurrency`` child processes (default: cores / ``cluster.worker_threads``).
    """
    configured = list(settings.translate.languages)
    languages = list(languages) if languages else configured
    unknown = [lang for lang in languages if lang not in configured]
    if unknown:
        raise ClusterError(
            f"--languages: {', '.join(unknown)} not in translate.languages ({', '.join(configured)})",
            key="translate.languages",
        )
    check_broker(settings)
    check_store(settings)
    from syndicate.publish.writer import claim_outputs

    claim_outputs(settings)  # workers publish: another configuration's folders are refused here
    threads = settings.cluster.worker_threads
    limit_threads(threads)  # before the fork: the children inherit it
    concurrency = concurrency or max(1, (os.cpu_count() or 1) // threads)
    queue_list = list(queues) if queues else worker_queues(languages)
    served = tuple(q.split(".", 1)[1] for q in queue_list if q.startswith("translate."))

    from celery.signals import worker_ready, worker_shutdown

    from syndicate.cluster.app import configure
    from syndicate.cluster.status import register_worker, unregister_worker

    app = configure(settings)
    runtime = Runtime(settings, clock=clock, work_factory=work_factory)
    install(runtime, languages=served)
    connect_signals()
    name = hostname or f"syndicate-{os.getpid()}@{socket.gethostname()}"

    def ready(**_: Any) -> None:
        try:
            register_worker(runtime.redis, name, queue_list)
        except Exception as exc:  # noqa: BLE001 - the status is a nicety; the work goes on
            logger.warning("cannot register in the status: %s", exc)

    def shutdown(**_: Any) -> None:
        try:
            unregister_worker(runtime.redis, name)
        except Exception as exc:  # noqa: BLE001
            logger.debug("cannot unregister: %s", exc)

    worker_ready.connect(ready, weak=False)
    worker_shutdown.connect(shutdown, weak=False)
    logger.info(
        "worker %s: queues %s, %d child process(es) of %d thread(s)", name, ",".join(queue_list), concurrency, threads
    )
    worker = app.Worker(
        hostname=name,
        queues=queue_list,
        concurrency=concurrency,
        pool="prefork",
        loglevel=loglevel,
        optimization="fair",
        without_gossip=True,
        without_mingle=True,
        prefetch_multiplier=settings.cluster.translate_prefetch,
    )
    worker.start()
    return int(worker.exitcode or 0)


def run_scheduler(
    settings: Settings, *, max_interval: float = 5.0, lock_timeout: float | None = None, loglevel: str = "INFO"
) -> int:
    """Run the beat (RedBeat) until SIGTERM: each source's poll on its interval or cron."""
    check_broker(settings)
    from syndicate.cluster.app import configure
    from syndicate.cluster.schedule import beat_schedule

    app = configure(settings, beat_max_interval=max_interval, lock_timeout=lock_timeout)
    app.conf.beat_schedule = beat_schedule(settings)

    def stop(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)  # Celery's beat service catches it, syncs and releases the lock

    signal.signal(signal.SIGTERM, stop)
    logger.info(
        "scheduler: %d source(s), lock in Redis at %s",
        len(settings.sources),
        _redis_host(str(settings.cluster.broker_url)),
    )
    beat = app.Beat(
        scheduler="syndicate.cluster.beat:SteadyScheduler", max_interval=max_interval, loglevel=loglevel, quiet=True
    )
    beat.run()
    return 0
