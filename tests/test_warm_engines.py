"""Engines started while a poll goes on (``Engines.prepare``, ``Work(warm_engines=...)``).

A process that translates what it polls starts the engines of the source's language into
every target when its poll stores the first item, so Apertium loads its dictionaries (an
Argos model loads) while the poll fetches and stores the rest. What it must never do:
start anything for a poll that brought nothing, outlive ``Engines.close()``, or turn an
engine's trouble into a failed poll.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from syndicate.config import load_settings
from syndicate.models import Lang
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import Work
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged

EN, ES, CA, DE = Lang("en"), Lang("es"), Lang("ca"), Lang("de")


def _drop(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    for n in range(1, count + 1):
        (folder / f"report-{n:02}.txt").write_text(
            f"Port report {n}\n\nThe ferry to the islands left the harbour late again on Monday.\n\n"
            "Passengers waited for an hour in the rain.\n",
            encoding="utf-8",
        )
    return folder


def test_the_first_stored_item_prepares_every_target_once(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, languages=("es", "ca"), articles=_drop(tmp_path, 3)))
    engine = FakeEngine("apertium", {("en", "es"), ("en", "ca")}, tagged)
    store = Store.open(settings.state_dir)
    try:
        with Engines(settings, {"apertium": lambda _s: engine}) as engines:
            work = Work(settings, store, engines, clock=Clock())
            assert len(work.poll("sample").new) == 3
            engines.close()  # waits for the helper thread
            assert sorted(engine.prepared) == [(EN, CA), (EN, ES)]  # once per pair, not per item

            (tmp_path / "articles" / "report-09.txt").write_text(
                "Late ferry\n\nAnother ferry left late on Tuesday, the third this week.\n", encoding="utf-8"
            )
            assert len(work.poll("sample").new) == 1
            engines.close()
            assert len(engine.prepared) == 2  # already started by this process: not again
    finally:
        store.close()


def test_a_poll_with_nothing_new_or_warming_off_prepares_nothing(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, articles=_drop(tmp_path, 2)))
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    store = Store.open(settings.state_dir)
    try:
        with Engines(settings, {"apertium": lambda _s: engine}) as engines:
            cold = Work(settings, store, engines, clock=Clock(), warm_engines=False)
            assert len(cold.poll("sample").new) == 2
            warm = Work(settings, store, engines, clock=Clock())
            assert warm.poll("sample").new == ()  # nothing new: nothing to translate soon
            engines.close()
        assert engine.prepared == []
    finally:
        store.close()


def test_a_source_with_its_own_language_prepares_that_language(tmp_path: Path) -> None:
    config = write_config(tmp_path, articles=_drop(tmp_path, 1))
    config.write_text(
        config.read_text(encoding="utf-8").replace('type = "folder"', 'type = "folder"\nlanguage = "de"'),
        encoding="utf-8",
    )
    settings = load_settings(config)
    assert settings.sources[0].language == DE
    engine = FakeEngine("apertium", {("de", "es"), ("en", "es")}, tagged)
    store = Store.open(settings.state_dir)
    try:
        with Engines(settings, {"apertium": lambda _s: engine}) as engines:
            Work(settings, store, engines, clock=Clock()).poll("sample")
        assert engine.prepared == [(DE, ES)]
    finally:
        store.close()


def test_close_waits_for_a_slow_start_and_closes_the_engine_after_it(tmp_path: Path) -> None:
    events: list[str] = []
    started = threading.Event()

    class Slow(FakeEngine):
        def prepare(self, source: Lang, target: Lang) -> None:
            started.set()
            time.sleep(0.3)
            events.append(f"prepared {source}->{target}")

        def close(self) -> None:
            events.append("closed")

    settings = load_settings(write_config(tmp_path))
    engines = Engines(settings, {"apertium": lambda _s: Slow("apertium", {("en", "es")}, tagged)})
    engines.prepare([(EN, ES)])
    assert started.wait(5)
    engines.close()
    assert events == ["prepared en->es", "closed"]  # nothing starts after the engines are closed


def test_unserved_same_language_and_failing_pairs_are_skipped_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(FakeEngine):
        def prepare(self, source: Lang, target: Lang) -> None:
            raise OSError("apertium: cannot execute lt-proc")

    settings = load_settings(write_config(tmp_path))
    engine = Broken("apertium", {("en", "es")}, tagged)
    with (
        caplog.at_level(logging.DEBUG, logger="syndicate.translate.engines"),
        Engines(settings, {"apertium": lambda _s: engine}) as engines,
    ):
        engines.prepare([(EN, EN), (EN, DE), (EN, ES)])  # same language, no engine, broken
    assert "could not prepare en->es" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # the translation reports it, if it fails
