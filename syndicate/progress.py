"""Progress of long work (translation batches), shown only when a person is watching.

Like logging, library code reports and the CLI decides how it is shown: ``cli.py``
installs a rich progress bar when stderr is a terminal; otherwise the default reporter
does nothing and the logs stay one structured line per step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Task(Protocol):
    def advance(self, n: int) -> None: ...


class Reporter(Protocol):
    """Shows tasks; ``chunk`` is how many segments to translate between updates (0: all)."""

    chunk: int

    @contextmanager
    def task(self, label: str, total: int) -> Iterator[Task]: ...


class _NullTask:
    def advance(self, n: int) -> None:
        pass


class NullReporter:
    """Shows nothing; work is never split for its sake."""

    chunk = 0

    @contextmanager
    def task(self, label: str, total: int) -> Iterator[Task]:
        yield _NullTask()


class RichReporter:
    """A rich progress bar on stderr, one line per running task."""

    chunk = 64

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )

    @contextmanager
    def task(self, label: str, total: int) -> Iterator[Task]:
        progress = self._progress
        with progress:
            task_id = progress.add_task(label, total=total)

            class _Task:
                def advance(self, n: int) -> None:
                    progress.advance(task_id, n)

            try:
                yield _Task()
            finally:
                progress.remove_task(task_id)


_reporter: Reporter = NullReporter()


def set_reporter(reporter: Reporter) -> None:
    """Install how progress is shown (the CLI does this; tests may)."""
    global _reporter
    _reporter = reporter


def reporter() -> Reporter:
    return _reporter
