"""A cluster task's own bugs are not "the store is down" (issue 22): they are logged with
their traceback, counted, and not retried, where a store that does not answer is waited
for (see test_store_outage.py for that, end to end)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from syndicate import metrics
from syndicate.cluster import tasks
from syndicate.errors import StoreError


class Retried(Exception):
    """What the fake task's retry() raises, as Celery's Retry would."""


class Ledger:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def begin(self, *args: Any) -> int:
        raise self.error


def task() -> Any:
    def retry(**kwargs: Any) -> Exception:
        return Retried(kwargs)

    return SimpleNamespace(request=SimpleNamespace(id="t-1", retries=0), name="syndicate.translate", retry=retry)


def runtime(error: Exception) -> Any:
    return SimpleNamespace(settings=SimpleNamespace(cluster=SimpleNamespace(max_redeliveries=3)), ledger=Ledger(error))


def bugs() -> float:
    return metrics.REGISTRY.get_sample_value("syndicate_bugs_total", {"part": "task"}) or 0.0


def test_a_bug_before_the_work_is_not_retried_as_a_store_outage(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(tasks, "current", lambda: runtime(AttributeError("'NoneType' object has no attribute 'id'")))
    before = bugs()
    with caplog.at_level("ERROR", logger="syndicate.cluster.tasks"), pytest.raises(AttributeError):
        tasks._guarded(task(), ("harbour",), lambda rt, n: {})
    assert bugs() == before + 1
    assert any(r.exc_info and "AttributeError" in r.getMessage() for r in caplog.records)


def test_a_store_that_does_not_answer_is_retried_without_counting_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "current", lambda: runtime(StoreError("connection refused")))
    before = bugs()
    with pytest.raises(Retried):
        tasks._guarded(task(), ("harbour",), lambda rt, n: {})
    assert bugs() == before


class Counting:
    """A ledger that records deliveries and what they said."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def begin(self, *args: Any) -> int:
        return 1

    def retrying(self, task_id: str, error: str) -> None:
        self.said.append(error)


def test_a_bug_in_the_work_is_logged_with_its_traceback_and_counted(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from datetime import timedelta

    ledger = Counting()
    rt = SimpleNamespace(
        settings=SimpleNamespace(cluster=SimpleNamespace(max_redeliveries=3, task_time_limit=timedelta(minutes=10))),
        ledger=ledger,
    )
    monkeypatch.setattr(tasks, "current", lambda: rt)

    def work(rt: Any, deliveries: int) -> dict[str, Any]:
        raise KeyError("es")

    before = bugs()
    with caplog.at_level("ERROR", logger="syndicate.cluster.tasks"), pytest.raises(Retried):
        tasks._guarded(task(), ("harbour",), work)  # retried within the redelivery cap, as before
    assert bugs() == before + 1
    assert any(r.exc_info and "KeyError" in r.getMessage() for r in caplog.records)
    assert ledger.said == ["KeyError: 'es'"]
