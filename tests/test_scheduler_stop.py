"""SIGTERM mid-batch: the daemon's poll stops translating within a few seconds (issue 9).

In process, with a slow fake engine standing for a CPU-bound model: the stop check that
SIGTERM sets is honoured between engine chunks, after a short grace that lets a small
batch finish; what was finished is kept and the rest is translated by the next poll.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from syndicate.config import load_settings
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import TRANSLATE_GRACE, Work
from tests.conftest import Clock
from tests.fakes import FakeEngine, tagged
from tests.sources.site import TestSite, daemon_config, rss, story


def test_a_stop_mid_batch_ends_the_poll_within_seconds_and_the_next_poll_finishes(tmp_path: Path) -> None:
    stop = threading.Event()
    sigterm = threading.Timer(1.0, stop.set)  # SIGTERM arrives a second into the batch

    def slow(segment: str, source: str, target: str) -> str:
        if not sigterm.is_alive() and not stop.is_set():
            sigterm.start()
        time.sleep(0.02)  # 50 segments/s: the whole batch would take about 30 s
        return tagged(segment, source, target)

    engine = FakeEngine("apertium", {("en", "es")}, slow)

    def words(n: int) -> str:
        return " ".join(f"Sentence {k} of story {n} tells a new part of it." for k in range(60))

    with TestSite() as site:
        site.page(
            "/feed.xml",
            rss([story(n, words=words(n)) for n in range(1, 11)], site.base),
            content_type="application/rss+xml",
        )
        table = f'[[sources]]\nname = "harbour"\ntype = "feed"\nurl = "{site.url("/feed.xml")}"\ntimeout = "2s"\nretries = 0\n'
        settings = load_settings(daemon_config(tmp_path, table))
        store = Store.open(settings.state_dir)
        pool = Engines(settings, {"apertium": lambda _s: engine})
        work = Work(settings, store, pool, clock=Clock(), should_stop=stop.is_set)
        poll = work.poll("harbour")
        assert not poll.problems and len(poll.new) == 10  # every fetched article is stored
        began = time.monotonic()
        translated = work.translate("es")
        took = time.monotonic() - began
        assert stop.is_set() and translated.stopped
        assert took < 1.0 + TRANSLATE_GRACE + 3, took
        assert not translated.problems
        partial = len(store.translations.for_language("es"))
        assert partial < 10
        for translation in store.translations.for_language("es").values():
            assert translation.untranslated == 0  # nothing half-translated was stored

        # The next run (no stop) translates the rest.
        engine.fn = tagged
        Work(settings, store, pool, clock=Clock()).translate("es")
        assert len(store.translations.for_language("es")) == 10
