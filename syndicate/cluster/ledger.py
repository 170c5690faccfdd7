"""The delivery ledger: how often each task was started, and the ones given up.

Redis tells a worker only *whether* a message was redelivered, not how often, and a task
whose child is killed never gets to say why. So each task counts its own starts here, in
the shared store, keyed by Celery's task id (kept across retries and redeliveries):

* :meth:`DeliveryLedger.begin` adds one delivery (``INSERT ... ON CONFLICT DO UPDATE``)
  and returns the count; past ``max_redeliveries`` the task is given up, its failure
  recorded (``state = 'failed'``), and its message acknowledged, never requeued again;
* :meth:`DeliveryLedger.done` forgets a task that finished, so the table holds only
  tasks in flight and tasks given up (what ``syndicate status`` lists).

The table (``cluster_tasks``) is declared with the store's others in
:mod:`syndicate.store.schema` and created by its migrations; it holds no content, only
task bookkeeping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from syndicate.errors import StoreError
from syndicate.store.schema import cluster_tasks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskRecord:
    """One task in flight or given up."""

    task_id: str
    task: str
    args: tuple[Any, ...]
    deliveries: int
    state: str
    last_error: str | None
    first_started: datetime
    updated: datetime


def _now() -> datetime:
    return datetime.now(UTC)


class DeliveryLedger:
    """Deliveries per task id in the shared store (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ready = False

    def _begin(self) -> Any:
        return self.engine.begin()

    def _insert(self, conn: Connection) -> Any:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(cluster_tasks)

    def begin(self, task_id: str, task: str, args: Sequence[Any]) -> int:
        """Count one more delivery of ``task_id``; return how many there have been."""
        try:
            now = _now()
            with self._begin() as conn:
                stmt = self._insert(conn).values(
                    task_id=task_id,
                    task=task,
                    args=json.dumps(list(args)),
                    deliveries=1,
                    state="running",
                    last_error=None,
                    first_started=now,
                    updated=now,
                )
                stmt = stmt.on_conflict_do_update(
                    index_elements=[cluster_tasks.c.task_id],
                    set_={"deliveries": cluster_tasks.c.deliveries + 1, "state": "running", "updated": now},
                ).returning(cluster_tasks.c.deliveries)
                return int(conn.execute(stmt).scalar_one())
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record the delivery of task {task_id}: {exc}") from exc

    def _set(self, task_id: str, **values: Any) -> None:
        try:
            with self._begin() as conn:
                conn.execute(
                    update(cluster_tasks).where(cluster_tasks.c.task_id == task_id).values(updated=_now(), **values)
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record the state of task {task_id}: {exc}") from exc

    def retrying(self, task_id: str, error: str) -> None:
        """The task failed this time and will be delivered again."""
        self._set(task_id, state="retrying", last_error=error)

    def give_up(self, task_id: str, error: str) -> None:
        """The task will not run again: record why, for the status."""
        self._set(task_id, state="failed", last_error=error)

    def done(self, task_id: str) -> None:
        """The task finished: forget it."""
        try:
            with self._begin() as conn:
                conn.execute(delete(cluster_tasks).where(cluster_tasks.c.task_id == task_id))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record the end of task {task_id}: {exc}") from exc

    def settle(self, task: str, done: Callable[[tuple[Any, ...]], bool]) -> list[str]:
        """Close the given-up records of ``task`` whose work another task has done since
        (``done(args)``): the status lists them no more. Returns their ids."""
        settled = [r.task_id for r in self.records(state="failed") if r.task == task and done(r.args)]
        if settled:
            try:
                with self._begin() as conn:
                    conn.execute(
                        delete(cluster_tasks).where(
                            cluster_tasks.c.task_id.in_(settled), cluster_tasks.c.state == "failed"
                        )
                    )
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot close the given-up tasks {', '.join(settled)}: {exc}") from exc
            logger.info("given-up task(s) %s: their work is done now", ", ".join(settled))
        return settled

    def records(self, *, state: str | None = None) -> list[TaskRecord]:
        """Tasks in flight and given up (``state`` filters), oldest first."""
        try:
            query = select(cluster_tasks).order_by(cluster_tasks.c.first_started, cluster_tasks.c.task_id)
            if state is not None:
                query = query.where(cluster_tasks.c.state == state)
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the cluster's task records: {exc}") from exc
        return [
            TaskRecord(
                task_id=r.task_id,
                task=r.task,
                args=tuple(json.loads(r.args)),
                deliveries=r.deliveries,
                state=r.state,
                last_error=r.last_error,
                first_started=_utc(r.first_started),
                updated=_utc(r.updated),
            )
            for r in rows
        ]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
