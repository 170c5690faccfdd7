"""One run loop (issue 22, item 2): ``syndicate once``, the daemon and ``retranslate``
translate and publish through :func:`syndicate.work.translate_and_publish`, with one
policy for a store or output that fails; and :func:`syndicate.work.once` is what the CLI
runs, refusal of a replaced store included, so the tests that call it exercise
production's path.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from syndicate.config import Settings, load_settings
from syndicate.errors import HistoryLostError, RunAborted
from syndicate.scheduler import Daemon
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import Work, once, retranslate
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged

SAMPLE_ITEMS = 7  # examples/articles


def _engines(settings: Settings) -> Engines:
    engine = FakeEngine("apertium", {("en", "es"), ("en", "ca")}, tagged)
    return Engines(settings, factories={"apertium": lambda _s: engine})


def test_once_refuses_a_replaced_store_as_the_command_does(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path))
    with Store.open(settings.state_dir) as store:
        assert once(settings, store, engines=_engines(settings), clock=Clock()).ok
    (settings.state_dir / "syndicate.db").unlink()  # another, empty store
    feeds = {p: p.read_bytes() for p in (tmp_path / "feeds").rglob("*") if p.is_file()}
    with Store.open(settings.state_dir) as store:
        with pytest.raises(HistoryLostError, match="has no record of publishing es"):
            once(settings, store, engines=_engines(settings), clock=Clock())
        assert {p: p.read_bytes() for p in (tmp_path / "feeds").rglob("*") if p.is_file()} == feeds
        # The operator's "start over" (`once --reinitialise`) publishes again.
        assert once(settings, store, engines=_engines(settings), clock=Clock(), reinitialise=True).ok


def test_a_broken_output_stops_once_and_the_daemon_alike_and_keeps_what_was_done(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file where the feeds folder should be: both passes store and translate
    everything, stop before publishing with the same report of what they did, and the
    daemon goes on: once the folder can be written, its next poll publishes it all."""
    reports = {}
    for name in ("once", "daemon"):
        directory = tmp_path / name
        directory.mkdir()
        settings = load_settings(write_config(directory, languages=("es", "ca")))
        (directory / "feeds").write_text("not a folder\n")
        with Store.open(settings.state_dir) as store:
            if name == "once":
                with pytest.raises(RunAborted) as aborted:
                    once(settings, store, engines=_engines(settings), clock=Clock())
                assert "is a file where an output folder is expected" in str(aborted.value)
                reports[name] = aborted.value.done
                continue
            daemon = Daemon(settings, store, engines=_engines(settings), clock=Clock())
            with caplog.at_level(logging.ERROR, logger="syndicate.scheduler"):
                reports[name] = daemon.cycle("sample").report
            assert "is a file where an output folder is expected" in caplog.text
            (directory / "feeds").unlink()
            again = daemon.cycle("sample")  # nothing new upstream: what waits is published
            assert again.report.articles_new == 0 and again.files_written > 0
            assert sorted(p.name for p in (directory / "feeds").iterdir()) == ["ca", "es", "index.html", "opml.xml"]
    assert reports["once"] == reports["daemon"]
    assert reports["once"].articles_new == SAMPLE_ITEMS
    assert reports["once"].translations_written == 2 * SAMPLE_ITEMS and reports["once"].files_written == 0


def test_retranslate_goes_through_the_same_loop(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, languages=("es", "ca")))
    with Store.open(settings.state_dir) as store:
        engines = _engines(settings)
        assert once(settings, store, engines=engines, clock=Clock()).ok
        (tmp_path / "feeds").rename(tmp_path / "feeds.moved")
        (tmp_path / "feeds").write_text("not a folder\n")
        with pytest.raises(RunAborted) as aborted:
            retranslate(Work(settings, store, engines, clock=Clock()), languages=["ca"])
        # Translated again into ca only, stored, then stopped at the output like once.
        assert aborted.value.done.segments_translated > 0 and aborted.value.done.files_written == 0
