"""Engines belong to the process: real Apertium pipelines start once across many daemon
polls and stop when the daemon shuts down (issue 10, "engines are owned by the process").

Counts the Apertium pipeline processes started, with the real engine and the real
Debian pairs.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from syndicate.config import load_settings
from syndicate.models import Lang
from syndicate.scheduler import Daemon
from syndicate.store import Store
from syndicate.translate import apertium
from syndicate.translate.engines import Engines
from tests.conftest import Clock, write_config

pytestmark = pytest.mark.skipif(shutil.which("apertium") is None, reason="apertium is not installed (make setup)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_apertium_starts_once_per_pair_across_daemon_polls_and_stops_at_shutdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[int]] = []  # translation pipelines (a mode's stages)
    dictionaries: list[list[int]] = []  # analysers: one lt-proc each (names, glued words)
    real_init = apertium._Pipeline.__init__

    def counting_init(self: apertium._Pipeline, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        (started if len(self.stages) > 1 else dictionaries).append(self.pids)

    monkeypatch.setattr(apertium._Pipeline, "__init__", counting_init)
    drop = tmp_path / "drop"
    drop.mkdir()
    settings = load_settings(write_config(tmp_path, languages=("es", "ca"), articles=drop))
    store = Store.open(settings.state_dir)
    daemon = Daemon(settings, store, clock=Clock())  # makes and owns its engines
    try:
        after_first = 0
        for n in range(1, 5):  # four polls, each bringing one new article to translate
            (tmp_path / "articles" / f"story-{n}.txt").write_text(
                f"Harbour Story {n}\n\nThe ferry number {n} returned to the quay this morning.\n", encoding="utf-8"
            )
            cycle = daemon.cycle("sample")
            assert len(cycle.poll.new) == 1
            assert cycle.after.translations_written == 2  # es and ca
            after_first = after_first or len(dictionaries)
        assert len(started) == 2  # one pipeline per pair (en-es, en-ca), not one per poll
        assert after_first and len(dictionaries) == after_first  # each dictionary started once too
        pids = [pid for group in [*started, *dictionaries] for pid in group]
        assert all(_alive(pid) for pid in pids)
    finally:
        daemon.shutdown()
        store.close()
    assert not any(_alive(pid) for pid in pids)  # closed by their owner at exit


def test_a_poll_starts_the_dictionaries_with_the_engines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The analysers the translation reads with (names in English, Spanish words, the
    # places the pair knows) load while the poll stores, like the pipelines: one lt-proc
    # each, started by the helper thread before any article is translated.
    dictionaries: list[str] = []
    real_init = apertium._Pipeline.__init__

    def counting_init(self: apertium._Pipeline, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        if len(self.stages) == 1:
            dictionaries.append(threading.current_thread().name)

    monkeypatch.setattr(apertium._Pipeline, "__init__", counting_init)
    drop = tmp_path / "drop"
    drop.mkdir()
    settings = load_settings(write_config(tmp_path, languages=("es",), articles=drop))
    with Engines(settings) as engines:
        engines.prepare([(Lang("en"), Lang("es"))])
        engines.close()  # waits for the helper
        assert dictionaries == ["engines-prepare"] * 3
