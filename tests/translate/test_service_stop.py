"""Stopping mid-batch (SIGTERM in the daemon): the finished part is kept, the rest waits.

The translation loop checks the stop flag between engine chunks, so a shutdown is
honoured within one chunk even when a language has thousands of new segments.
"""

from __future__ import annotations

from pathlib import Path

from syndicate.work import once
from tests.conftest import Clock
from tests.fakes import FakeEngine, tagged
from tests.translate.test_service import setup


def article(n: int) -> str:
    sentences = " ".join(f"Sentence {n}-{k} says something new about the harbour." for k in range(40))
    return f"Harbour Story {n}\n\n{sentences}\n"


def test_a_stop_mid_batch_keeps_the_finished_part_and_the_next_run_resumes(tmp_path: Path) -> None:
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    articles = {f"story-{n}.txt": article(n) for n in range(10)}
    settings, store, pool = setup(tmp_path, {"apertium": engine}, articles=articles)
    stop = {"now": False}

    def stop_after_two_calls() -> bool:
        stop["now"] = stop["now"] or len(engine.calls) >= 2
        return stop["now"]

    report = once(settings, store, engines=pool, clock=Clock(), should_stop=stop_after_two_calls, translate_grace=0)
    calls_before_stop = len(engine.calls)
    assert calls_before_stop == 2  # stopped between chunks, not at the end of the batch
    sent = sum(len(c) for c in engine.calls)
    assert sent < 400  # of 410 segments: the rest was not sent
    assert not report.failures  # interrupted is not failed
    done = store.translations.for_language("es")
    assert len(done) < 10
    for translation in done.values():  # what was stored is whole
        assert translation.untranslated == 0

    # The next run translates the rest, without sending the finished segments again.
    engine.calls.clear()
    report = once(settings, store, engines=pool, clock=Clock())
    assert not report.failures and len(store.translations.for_language("es")) == 10
    resent = sum(len(c) for c in engine.calls)
    assert resent + sent == 410
