"""The three tasks: thin wrappers around the units of work in :mod:`syndicate.work`.

* ``syndicate.poll(source)`` (queue ``poll``): ``Work.poll``; then one
  ``syndicate.translate(article_ids, lang)`` per configured language, carrying every new
  or updated article of this poll, so an engine still gets one big batch per pair;
* ``syndicate.translate(article_ids, lang, batch)`` (queue ``translate.<lang>``):
  ``Work.translate``; the last language of a poll's batch asks for ``syndicate.publish``
  of every language (a page links to its siblings in the other languages);
* ``syndicate.publish(lang)`` (queue ``publish``): ``Work.publish`` under the language's
  publish lock (:mod:`syndicate.cluster.locks`).

Every task counts its deliveries in the ledger first (:mod:`syndicate.cluster.ledger`):
a task that failed is retried with a backoff, one whose worker died is redelivered by
Redis, and either way it is given up, with its failure recorded, after
``cluster.max_redeliveries`` deliveries.

A poll's translations are one batch across languages: the poll records the languages
it enqueued in a Redis set (``syndicate:batch:<id>``); each translate task removes its
language when it is done (or given up), and the one that empties the set asks for the
publish of every language. So, as on one machine, a language is published once the
poll's articles are translated into all of them: a page and a frozen archive page link
to the article in every language from the start (archive pages never change once full).

A publish waits (bounded) while another poll's batch is half translated, for the same
reason: see :func:`publish`.

Publishes coalesce: a translate task enqueues ``publish(lang)`` only if none is waiting
(``SET syndicate:publish-pending:<lang> NX``); the publish clears that mark before it
reads the store, so a translation stored after it started asks for another publish, and
one stored before is in this one.

Nothing is lost between two steps either: if a poll is redelivered after it stored its
articles but before it enqueued their translation, the second run finds nothing new, so a
redelivered poll asks for a sweep: ``translate(None, lang)`` translates whatever lacks a
current translation. The scheduler also runs ``syndicate.sweep`` every hour, which does
the same for any language with articles waiting while no translation is queued or
running (a batch lost with a Redis that kept no append-only file, a task given up).
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from celery import Task
from celery.exceptions import Retry

from syndicate import metrics
from syndicate.cluster.app import app
from syndicate.cluster.locks import publish_lock
from syndicate.cluster.queues import (
    POLL_TASK,
    PUBLISH_QUEUE,
    PUBLISH_TASK,
    REDIS_PREFIX,
    SWEEP_TASK,
    TRANSLATE_TASK,
    translate_queue,
)
from syndicate.cluster.runtime import Runtime, current
from syndicate.errors import StoreError, SyndicateError

if TYPE_CHECKING:
    from syndicate.config import Settings

logger = logging.getLogger(__name__)


def pending_key(language: str) -> str:
    """The Redis key that says a ``publish(language)`` is waiting in the queue."""
    return f"{REDIS_PREFIX}publish-pending:{language}"


def _summary(outcome: object) -> dict[str, Any]:
    """A unit of work's outcome as JSON-able numbers and ids, for the log and the result."""
    if not dataclasses.is_dataclass(outcome) or isinstance(outcome, type):
        return {"outcome": str(outcome)}
    out: dict[str, Any] = {}
    for field in dataclasses.fields(outcome):
        value = getattr(outcome, field.name)
        if isinstance(value, bool | int | float | str) or value is None:
            out[field.name] = value
        elif isinstance(value, tuple | list | frozenset | set):
            out[field.name] = len(value)
    return out


def _backoff(deliveries: int) -> float:
    return float(min(60, 2 ** max(0, deliveries - 1)))


#: How long a task waits, within its delivery, for a store that stopped answering before
#: it is handed back to the broker (delivered again later, one delivery counted).
STORE_WAIT = 300.0


def _store_down(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the store did not answer: our
    :class:`StoreError`, or the driver's lost connection that the code let through."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, StoreError | OperationalError) or (
            isinstance(seen, DBAPIError) and seen.connection_invalidated
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _wait_for_store(runtime: Runtime, until: float, sleep: Callable[[float], None] = time.sleep) -> bool:
    """Wait (backing off, up to ``until`` on the monotonic clock) for the store to answer
    again; True when it does. Its pooled connections are dropped first: they died with it."""
    from sqlalchemy import text

    pause = 1.0
    while time.monotonic() < until:
        sleep(min(pause, max(0.0, until - time.monotonic())))
        pause = min(pause * 2, 10.0)
        try:
            engine = runtime.store.engine
            engine.dispose()
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - still down: wait on
            continue
    return False


def _record(what: str, write: Callable[[], None], runtime: Runtime) -> None:
    """A ledger write, waiting out a short store outage; one that still fails is logged
    (the ledger is bookkeeping: the work itself is done or will be redelivered)."""
    until = time.monotonic() + STORE_WAIT
    while True:
        try:
            write()
            return
        except Exception as exc:  # noqa: BLE001 - see the docstring
            if not _store_down(exc) or not _wait_for_store(runtime, until):
                logger.warning("cannot record %s in the task ledger: %s", what, exc)
                return


def _guarded(
    task: Task,
    args: Sequence[Any],
    body: Callable[[Runtime, int], dict[str, Any]],
    *,
    on_give_up: Callable[[Runtime], None] | None = None,
) -> dict[str, Any]:
    """Run ``body(runtime, deliveries)`` with the delivery ledger around it;
    ``on_give_up(runtime)`` when the task is given up."""
    runtime = current()
    request = task.request
    task_id = str(request.id)
    cap = runtime.settings.cluster.max_redeliveries
    try:
        deliveries = runtime.ledger.begin(task_id, str(task.name), args)
    except Exception as exc:
        if not _store_down(exc):  # not the store: our bug, which no retry mends
            logger.exception(
                "%s%s: recording its delivery failed with an unexpected %s (a bug: please report it "
                "with this traceback)",
                task.name,
                tuple(args),
                type(exc).__name__,
            )
            metrics.record_bug("task")
            raise
        # The store is down: try again later, without counting a delivery.
        logger.warning("%s%s: cannot record its delivery (%s); retrying", task.name, tuple(args), exc)
        raise task.retry(exc=exc, countdown=_backoff(request.retries + 1), max_retries=20 * cap) from exc
    if deliveries > cap:
        message = f"given up after {deliveries - 1} deliveries"
        logger.error("%s%s [%s]: %s", task.name, tuple(args), task_id, message)
        runtime.ledger.give_up(task_id, message)
        if on_give_up is not None:
            on_give_up(runtime)
        return {"given_up": True, "deliveries": deliveries - 1}
    if deliveries > 1:
        logger.warning("%s%s [%s]: delivery %d of at most %d", task.name, tuple(args), task_id, deliveries, cap)
    # Within the task's time limit (past it the child is killed: a delivery counted).
    waited = min(STORE_WAIT, runtime.settings.cluster.task_time_limit.total_seconds() / 2)
    until = time.monotonic() + waited
    while True:
        try:
            result = body(runtime, deliveries)
            break
        except Retry:
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if _store_down(exc):
                # The store stopped answering (a restart, a failover): the work is not at
                # fault. Wait for it within this delivery and do the work again from the
                # start (every unit of work is idempotent), instead of failing the task.
                logger.warning(
                    "%s%s [%s]: the store does not answer (%s); waiting for it", task.name, tuple(args), task_id, error
                )
                if _wait_for_store(runtime, until):
                    logger.info(
                        "%s%s [%s]: the store answers again; doing the work again", task.name, tuple(args), task_id
                    )
                    continue
                logger.warning(
                    "%s%s [%s]: the store still does not answer after %.0f s; handing the task back",
                    task.name,
                    tuple(args),
                    task_id,
                    waited,
                )
                raise task.retry(exc=exc, countdown=_backoff(deliveries), max_retries=None) from exc
            if not isinstance(exc, SyndicateError):  # nothing expected this: our bug, with its traceback
                logger.exception(
                    "%s%s [%s]: an unexpected %s (a bug: please report it with this traceback)",
                    task.name,
                    tuple(args),
                    task_id,
                    type(exc).__name__,
                )
                metrics.record_bug("task")
            if deliveries >= cap:
                logger.error(
                    "%s%s [%s]: %s; given up after %d deliveries", task.name, tuple(args), task_id, error, deliveries
                )
                _record(f"task {task_id} given up", lambda error=error: runtime.ledger.give_up(task_id, error), runtime)
                if on_give_up is not None:
                    on_give_up(runtime)
                raise
            logger.warning("%s%s [%s]: %s; retrying", task.name, tuple(args), task_id, error)
            _record(f"task {task_id} retrying", lambda error=error: runtime.ledger.retrying(task_id, error), runtime)
            raise task.retry(exc=exc, countdown=_backoff(deliveries), max_retries=None) from exc
    _record(f"the end of task {task_id}", lambda: runtime.ledger.done(task_id), runtime)
    return result


def request_publish(runtime: Runtime, language: str) -> bool:
    """Enqueue ``publish(language)`` unless one is already waiting; True if enqueued."""
    cluster = runtime.settings.cluster
    # The mark expires, so a publish lost with the broker's data is asked for again.
    ttl = max(60, int(cluster.visibility_timeout.total_seconds()) * 2)
    if runtime.redis.set(pending_key(language), "1", nx=True, ex=ttl):
        publish.apply_async(args=(language,), queue=PUBLISH_QUEUE)
        return True
    return False


def review_changed(settings: Settings) -> Callable[[str], None]:
    """What ``syndicate serve`` beside a cluster calls after an editor's change in a
    language: a ``translate(None, language)`` task, which redoes the articles the change
    listed in the store and then asks every language to publish (as a poll's batch does)."""
    from syndicate.cluster.app import configure

    celery = configure(settings)

    def changed(language: str) -> None:
        celery.send_task(TRANSLATE_TASK, args=(None, language, None), queue=translate_queue(language))

    return changed


def batch_key(batch: str) -> str:
    """The Redis set of the languages a poll's translation batch still waits for."""
    return f"{REDIS_PREFIX}batch:{batch}"


def enqueue_translations(runtime: Runtime, article_ids: Sequence[int] | None) -> list[str]:
    """One ``translate(article_ids, lang, batch)`` per configured language, as one batch."""
    languages = list(runtime.settings.translate.languages)
    ids = None if article_ids is None else sorted(set(article_ids))
    batch = uuid.uuid4().hex
    # Lives as long as a task may be redelivered; if it expires, each language publishes alone.
    ttl = int(runtime.settings.cluster.visibility_timeout.total_seconds()) * (
        runtime.settings.cluster.max_redeliveries + 2
    )
    pipe = runtime.redis.pipeline()
    pipe.sadd(batch_key(batch), *languages)
    pipe.expire(batch_key(batch), max(3600, ttl))
    pipe.execute()
    for language in languages:
        translate.apply_async(args=(ids, language, batch), queue=translate_queue(language))
    return languages


def finish_batch(runtime: Runtime, batch: str | None, language: str) -> None:
    """``language`` of ``batch`` is done: if it was the last, publish every language."""
    if batch is not None:
        pipe = runtime.redis.pipeline()  # MULTI: each task sees the set right after its own removal
        pipe.srem(batch_key(batch), language)
        pipe.scard(batch_key(batch))
        _removed, left = pipe.execute()
        if left:
            return  # another language of this poll is still being translated: it publishes
    # Every language, not only this one: each page links to its translations in the
    # other languages. Even when nothing was written: a publish that finds nothing
    # changed writes nothing, and a redelivered batch whose first delivery stored
    # everything still needs its publish.
    for other in dict.fromkeys((language, *runtime.settings.translate.languages)):
        request_publish(runtime, other)


@app.task(name=POLL_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def poll(self: Task, source: str) -> dict[str, Any]:
    """Poll one source; enqueue the translation of what it brought, per language."""

    def body(runtime: Runtime, deliveries: int) -> dict[str, Any]:
        outcome = runtime.work.poll(source)
        ids = tuple(outcome.article_ids)
        if ids:
            enqueue_translations(runtime, ids)
        elif deliveries > 1:
            # A previous delivery may have stored articles and died before enqueueing.
            enqueue_translations(runtime, None)
        summary = {"source": source, "articles": len(ids), **_summary(outcome)}
        logger.info("poll %s: %d new or updated article(s)", source, len(ids))
        return summary

    return _guarded(self, (source,), body)


@app.task(name=TRANSLATE_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def translate(self: Task, article_ids: list[int] | None, language: str, batch: str | None = None) -> dict[str, Any]:
    """Translate a batch of articles (None: every one lacking it) into ``language``."""

    def body(runtime: Runtime, deliveries: int) -> dict[str, Any]:
        ids = None if article_ids is None else tuple(int(i) for i in article_ids)
        outcome = runtime.work.translate(language, ids)
        finish_batch(runtime, batch, language)
        settle_translations(runtime, language)
        logger.info("translate %s: %s article(s)", language, "all pending" if ids is None else len(ids))
        return {"language": language, **_summary(outcome)}

    def given_up(runtime: Runtime) -> None:
        finish_batch(runtime, batch, language)  # the other languages do not wait for this one

    return _guarded(self, (article_ids, language, batch), body, on_give_up=given_up)


def settle_translations(runtime: Runtime, language: str) -> list[str]:
    """Close the given-up translate tasks of ``language`` whose articles are translated
    now (by a later batch or the sweep): ``status`` stops listing them."""
    if not any(r.task == TRANSLATE_TASK for r in runtime.ledger.records(state="failed")):
        return []  # the usual case: nothing given up, one query
    pending = set(runtime.work.pending(language))

    def done(args: tuple[Any, ...]) -> bool:
        if len(args) < 2 or args[1] != language:
            return False
        return not pending if args[0] is None else not pending.intersection(int(i) for i in args[0])

    return runtime.ledger.settle(TRANSLATE_TASK, done)


def publish_wait(runtime: Runtime) -> float:
    """How long a publish waits for the poll batches in flight (seconds): as long as a
    batch's task may take to come back from a dead worker, at most 15 minutes."""
    cluster = runtime.settings.cluster
    return min(900.0, (cluster.visibility_timeout + cluster.task_time_limit).total_seconds())


def batches_in_flight(runtime: Runtime) -> bool:
    """Whether some poll's batch still waits for one of its languages."""
    return next(iter(runtime.redis.scan_iter(match=batch_key("*"), count=1000)), None) is not None


@app.task(name=PUBLISH_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def publish(self: Task, language: str, asked: float | None = None) -> dict[str, Any]:
    """Rebuild ``language``'s outputs from the store, one publisher per language at a time.

    While some poll's batch is translated into one language but not yet into another, a
    publish waits (re-enqueued every 2 s, up to :func:`publish_wait` from when it was
    asked for): publishing then would freeze full archive pages whose entries lack the
    link to the language still to come. The batch's last language asks for a publish of
    every language anyway. Past the wait it publishes regardless, so a busy cluster
    whose batches always overlap still publishes.
    """
    asked = time.time() if asked is None else asked

    def body(runtime: Runtime, deliveries: int) -> dict[str, Any]:
        if batches_in_flight(runtime) and time.time() - asked < publish_wait(runtime):
            publish.apply_async(args=(language,), kwargs={"asked": asked}, queue=PUBLISH_QUEUE, countdown=2)
            return {"language": language, "waiting": True}
        # Before reading the store: a translation stored from now on asks for a new publish.
        runtime.redis.delete(pending_key(language))
        with publish_lock(runtime.store.engine, language):
            outcome = runtime.work.publish(language)
        runtime.ledger.settle(PUBLISH_TASK, lambda args: bool(args) and args[0] == language)
        logger.info("publish %s: %s", language, _summary(outcome))
        return {"language": language, **_summary(outcome)}

    return _guarded(self, (language,), body)


@app.task(name=SWEEP_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def sweep(self: Task) -> dict[str, Any]:
    """Enqueue ``translate(None, lang)`` for each language with articles waiting, when the
    cluster translates nothing right now (a batch in flight would be translated twice)."""
    from syndicate.cluster.status import queue_depths

    def body(runtime: Runtime, deliveries: int) -> dict[str, Any]:
        languages = runtime.settings.translate.languages
        depths = queue_depths(runtime.redis, languages)
        if any(d.waiting or d.running for d in depths if d.language is not None):
            return {"swept": [], "busy": True}
        waiting = [lang for lang in languages if runtime.work.waiting(lang)]
        for language in waiting:
            translate.apply_async(args=(None, language, None), queue=translate_queue(language))
        if waiting:
            logger.info("sweep: articles wait for %s: translating them", ", ".join(waiting))
        return {"swept": waiting, "busy": False}

    return _guarded(self, (), body)
