"""The Celery app, configured from ``[cluster]``.

One module-level app (``app``) that the tasks register on; :func:`configure` fills its
configuration from the settings before a worker or the beat starts. Every choice below
is about losing nothing and running nothing twice at once:

* ``task_acks_late`` + ``task_reject_on_worker_lost``: a task is acknowledged when it
  finished, and a task whose child died (``kill -9``, OOM) is requeued, not lost;
* ``worker_prefetch_multiplier`` = ``translate_prefetch`` (1): a child holds only the
  batch it runs, so a killed child loses one batch and an idle child is never starved;
* the broker's ``visibility_timeout`` is longer than ``task_time_limit`` (config checks
  it): Redis hands an unacknowledged task to another worker only once the first one is
  certainly dead or was killed by the time limit;
* JSON only: a task's arguments are source names, article ids and language codes;
* the routes: ``syndicate.poll`` -> ``poll``, ``syndicate.translate`` ->
  ``translate.<lang>``, ``syndicate.publish`` -> ``publish``.

Idempotency lives in the store (upserts, the delivery ledger), not in the broker.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from celery import Celery

from syndicate.cluster.queues import (
    POLL_QUEUE,
    POLL_TASK,
    PUBLISH_QUEUE,
    PUBLISH_TASK,
    REDIS_PREFIX,
    SWEEP_TASK,
    TRANSLATE_TASK,
    translate_queue,
)

if TYPE_CHECKING:
    from syndicate.config import Settings

logger = logging.getLogger(__name__)

#: The app every task registers on. Configured by :func:`configure`; until then it has
#: Celery's defaults and no broker, so importing it connects to nothing.
app = Celery("syndicate", set_as_current=False)
app.conf.update(include=["syndicate.cluster.tasks"])


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **_: Any) -> dict[str, str] | None:
    """Celery router: each task to its queue (a translation to its language's queue)."""
    if name in (POLL_TASK, SWEEP_TASK):
        return {"queue": POLL_QUEUE}
    if name == PUBLISH_TASK:
        return {"queue": PUBLISH_QUEUE}
    if name == TRANSLATE_TASK:
        language = (kwargs or {}).get("language") or (args[1] if args and len(args) > 1 else None)
        if language:
            return {"queue": translate_queue(str(language))}
    return None


def _seconds(value: timedelta) -> int:
    return max(1, int(value.total_seconds()))


def celery_config(
    settings: Settings, *, beat_max_interval: float = 5.0, lock_timeout: float | None = None
) -> dict[str, Any]:
    """The Celery configuration for ``settings`` (a plain dict, so tests can read it)."""
    cluster = settings.cluster
    if cluster.broker_url is None:
        from syndicate.errors import ConfigError

        raise ConfigError(
            "[cluster]",
            [
                (
                    "cluster.broker_url",
                    None,
                    "set it to the Redis broker (redis://host:6379/0) to run --role scheduler or worker",
                )
            ],
        )
    limit = _seconds(cluster.task_time_limit)
    visibility = _seconds(cluster.visibility_timeout)
    # The soft limit raises inside the task a little before the hard kill, so the task can
    # record why it stopped; the hard limit is what the visibility timeout must outlast.
    soft = max(1, limit - max(1, min(60, limit // 10)))
    transport = {
        "visibility_timeout": visibility,
        # kombu looks for tasks of dead workers every interval x throttle seconds (100 s
        # by default): look every tenth of the visibility timeout (at most 10 s), so a
        # lost machine's task comes back soon after the timeout, not minutes later.
        "unacked_restore_interval": max(1.0, min(10.0, visibility / 10)),
        "unacked_restore_throttle": 1,
        # A worker killed while holding the sweep's mutex blocks sweeps until it expires.
        "unacked_mutex_expire": max(10, min(300, visibility)),
        "socket_connect_timeout": 5,
        "socket_timeout": 30,
        "retry_on_timeout": True,
        "health_check_interval": 10,
    }
    return {
        "broker_url": cluster.broker_url,
        "broker_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # a restarted Redis is waited for, forever
        "result_backend": cluster.results_url,
        "result_backend_transport_options": transport,
        "task_ignore_result": True,  # the store is the record; no result is ever read
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,  # a failure is recorded in the ledger, then acked
        "worker_prefetch_multiplier": cluster.translate_prefetch,
        "task_time_limit": limit,
        "task_soft_time_limit": soft,
        # A task running when the broker connection drops keeps running. Cancelling it
        # (Celery's option) loses it on Redis: the cancelled task counts as failed and its
        # acknowledgement, sent once Redis is back, deletes the only copy. Kept running, it
        # acknowledges when done; if kombu had already put it back in the queue, a second
        # copy runs, and the store's upserts and the publish lock make that harmless.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "task_routes": (route_task,),
        "task_default_queue": POLL_QUEUE,
        "task_create_missing_queues": True,
        "task_publish_retry": True,
        "task_publish_retry_policy": {
            "max_retries": 20,
            "interval_start": 0.5,
            "interval_step": 1.0,
            "interval_max": 5.0,
        },
        "worker_hijack_root_logger": False,  # the CLI configures logging
        "worker_redirect_stdouts": False,
        "worker_send_task_events": False,
        "worker_enable_remote_control": True,  # `celery inspect ping` for the status
        # Loading a model in worker_process_init can take longer than Celery's 4 s default.
        "worker_proc_alive_timeout": 120.0,
        "timezone": "UTC",
        "enable_utc": True,
        # RedBeat: the schedule and its lock live in the broker's Redis.
        "beat_scheduler": "syndicate.cluster.beat:SteadyScheduler",
        "beat_max_loop_interval": beat_max_interval,
        "redbeat_redis_url": cluster.broker_url,
        "redbeat_redis_options": {  # retry_period -1: a restarted Redis is waited for, forever
            "socket_connect_timeout": 5,
            "socket_timeout": 30,
            "retry_on_timeout": True,
            "health_check_interval": 10,
            "retry_period": -1,
        },
        "redbeat_key_prefix": f"{REDIS_PREFIX}redbeat",
        "redbeat_lock_timeout": lock_timeout if lock_timeout is not None else max(5 * beat_max_interval, 25),
    }


def configure(settings: Settings, **options: Any) -> Celery:
    """Configure :data:`app` from ``settings`` and return it (see :func:`celery_config`)."""
    app.conf.update(celery_config(settings, **options))
    import syndicate.cluster.tasks  # noqa: F401 - registers the tasks

    return app
