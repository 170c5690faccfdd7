"""``syndicate once`` as operators run it from cron: polite to upstreams, exclusive per state."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from syndicate.progress import NullReporter, set_reporter
from tests.sources.site import TestSite, daemon_config, rss, story

STORIES = [story(n) for n in range(21, 24)]


def once(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "once", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=config.parent,
        timeout=240,
    )


def test_once_sends_conditional_requests_and_records_status(tmp_path: Path) -> None:
    with TestSite() as site:
        site.page(
            "/feed.xml", rss(STORIES, site.base, full_content=True), content_type="application/rss+xml", etag='"v1"'
        )
        config = daemon_config(
            tmp_path, f'[[sources]]\nname = "wire"\ntype = "feed"\nurl = "{site.url("/feed.xml")}"\n'
        )
        first = once(config)
        assert first.returncode == 0, first.stderr
        assert "3 new" in first.stdout
        second = once(config)
        assert second.returncode == 0, second.stderr
        assert "0 new" in second.stdout and "0 segment(s) translated" in second.stdout
        conditional = [r for r in site.requests if r.path == "/feed.xml"]
        assert len(conditional) == 2
        assert "if-none-match" not in conditional[0].headers
        assert conditional[1].headers.get("if-none-match") == '"v1"'  # answered 304 by the test site
    status = subprocess.run(
        [sys.executable, "-m", "syndicate", "status", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    ).stdout
    assert "wire" in status and "not-modified" in status


def test_once_refuses_to_run_beside_another_holder_of_the_state(tmp_path: Path) -> None:
    from syndicate.store.lock import StateLock

    config = daemon_config(tmp_path, '[[sources]]\nname = "local"\ntype = "folder"\npath = "in"\n')
    (tmp_path / "in").mkdir()
    with StateLock(tmp_path / "state"):
        result = once(config)
    assert result.returncode == 3
    assert "state" in result.stderr and str(__import__("os").getpid()) in result.stderr
    assert "another syndicate process" in result.stderr and "syndicate run`" not in result.stderr


def test_once_beside_another_once_names_it(tmp_path: Path) -> None:
    from syndicate.store.lock import StateLock

    config = daemon_config(tmp_path, '[[sources]]\nname = "local"\ntype = "folder"\npath = "in"\n')
    (tmp_path / "in").mkdir()
    with StateLock(tmp_path / "state", command="once"):
        result = once(config)
    assert result.returncode == 3
    assert "a running `syndicate once`" in result.stderr and "syndicate run`" not in result.stderr
    assert not (tmp_path / "feeds").exists()


class _Recorder:
    """A progress reporter that splits work in twos and remembers what it was told."""

    chunk = 2

    def __init__(self) -> None:
        self.tasks: list[tuple[str, int, int]] = []

    from contextlib import contextmanager

    @contextmanager
    def task(self, label: str, total: int):  # type: ignore[no-untyped-def]
        done = [0]

        class T:
            def advance(self, n: int) -> None:
                done[0] += n

        yield T()
        self.tasks.append((label, total, done[0]))


def test_progress_is_reported_in_chunks_when_someone_watches(tmp_path: Path) -> None:
    from syndicate.config import load_settings
    from syndicate.store import Store
    from syndicate.translate.engines import Engines
    from syndicate.work import once
    from tests.conftest import Clock, write_config
    from tests.fakes import FakeEngine, tagged

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("A Title Here\n\nOne sentence here. Two sentences here. Three here now.\n")
    settings = load_settings(write_config(tmp_path, articles=folder))
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    recorder = _Recorder()
    set_reporter(recorder)
    try:
        store = Store.open(settings.state_dir)
        report = once(settings, store, engines=Engines(settings, {"apertium": lambda s: engine}), clock=Clock())
    finally:
        set_reporter(NullReporter())
    assert report.ok
    assert recorder.tasks == [("apertium en->es", 4, 4)]
    assert [len(c) for c in engine.calls] == [2, 2]  # split for the progress bar, nothing lost


def test_move_to_set_on_a_folder_already_read_moves_its_files_and_reads_nothing_again(tmp_path: Path) -> None:
    """Turning ``move_to`` on for a drop folder that was polled before: its stored files
    are moved by the next pass without being read, extracted or translated again, and a
    new article dropped after is read, moved and published."""
    from syndicate.config import load_settings
    from syndicate.store import Store
    from syndicate.translate.engines import Engines
    from syndicate.work import once
    from tests.conftest import Clock, write_config
    from tests.fakes import FakeEngine, tagged

    config = write_config(tmp_path)
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    engines = lambda s: Engines(s, {"apertium": lambda _s: engine})  # noqa: E731
    settings = load_settings(config)
    store = Store.open(settings.state_dir)
    try:
        first = once(settings, store, engines=engines(settings), clock=Clock())
        assert first.ok and first.articles_new >= 1
        everything = sorted(p.name for p in (tmp_path / "articles").iterdir())
        sample = [name for name in everything if name.endswith((".txt", ".html"))]
        assert sample and len(sample) < len(everything)  # notes beside the articles

        config.write_text(config.read_text().replace('path = "articles"', 'path = "articles"\nmove_to = "done"'))
        settings = load_settings(config)
        calls = len(engine.calls)
        second = once(settings, store, engines=engines(settings), clock=Clock())
        assert (second.ok, second.items_seen, second.files_written, len(engine.calls)) == (True, 0, 0, calls)
        assert sorted(p.name for p in (tmp_path / "articles" / "done").iterdir()) == sample
        left = sorted(p.name for p in (tmp_path / "articles").iterdir())
        assert left == sorted({*everything, "done"} - set(sample))  # notes stay where they are

        (tmp_path / "articles" / "late.txt").write_text(
            "Ferry timetable changes for the winter\n\nThe ferry company cut two crossings from the winter timetable.\n",
            encoding="utf-8",
        )
        third = once(settings, store, engines=engines(settings), clock=Clock())
        assert (third.ok, third.articles_new) == (True, 1)
        assert (tmp_path / "articles" / "done" / "late.txt").is_file()
        atom = (settings.feeds_dir / "es" / "atom.xml").read_text(encoding="utf-8")
        assert tagged("Ferry timetable changes for the winter", "en", "es") in atom
    finally:
        store.close()
