"""The daemon's cycle (a poll, then translate and publish) and its APScheduler wiring, in process.

Bad peers of every kind are served by a real local server; each must be reported in the
source's status and the log, retried on the next poll, and leave the other sources and
the published feeds alone. Translation uses a fake engine (the real-process tests in
test_daemon.py use Apertium).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from syndicate.cli import main
from syndicate.config import Settings, load_settings
from syndicate.scheduler import Daemon, cron_trigger, trigger_for
from syndicate.store import Store
from syndicate.store.lock import StateLock, StateLockedError, lock_holder
from syndicate.translate.engines import Engines
from syndicate.work import run_once
from tests.conftest import Clock, snapshot
from tests.fakes import FakeEngine, tagged
from tests.sources.site import (
    HTML_NOT_FEED,
    MALFORMED_XML,
    Route,
    TestSite,
    article_page,
    daemon_config,
    rss,
    story,
)

LIMITS = 'timeout = "0.5s"\nretries = 1\nretry_backoff = "0.01s"\nmax_bytes = 200000\ninterval = "1s"\njitter = "0s"'

#: name -> (how the path misbehaves, what the status must say)
BAD_PEERS: dict[str, tuple[Route, str]] = {
    "slow": (Route(body=b"<rss/>", delay=2.0), "timed out after 0.5s (after 2 attempts)"),
    "missing": (Route(status=404), "HTTP 404"),
    "broken": (Route(status=500), "HTTP 500 Internal Server Error (after 2 attempts)"),
    "loop": (Route(location="/loop-b.xml"), "redirect loop"),
    "huge": (Route(body=b"<rss>" + b"z" * 50_000_000, stream=True), "response too large"),
    "cut": (Route(body=b"<rss>" + b"z" * 9000, truncate_to=100), "the connection broke mid-response"),
    "malformed": (Route(body=MALFORMED_XML.encode(), content_type="application/rss+xml"), "not well-formed XML"),
    "webpage": (Route(body=HTML_NOT_FEED.encode()), "is an HTML page (text/html), not a feed"),
}


def fake_engines(settings: Settings) -> Engines:
    return Engines(settings, {"apertium": lambda _s: FakeEngine("apertium", {("en", "es")}, tagged)})


@pytest.fixture
def site() -> Iterator[TestSite]:
    with TestSite() as s:
        yield s


def serve_good_feed(site: TestSite, count: int) -> None:
    site.page("/good.xml", rss([story(n) for n in range(1, count + 1)], site.base), content_type="application/rss+xml")


def config_for(site: TestSite, directory: Path, names: list[str]) -> Settings:
    tables = [f'[[sources]]\nname = "good"\ntype = "feed"\nurl = "{site.url("/good.xml")}"\n{LIMITS}\n']
    for name in names:
        tables.append(f'[[sources]]\nname = "{name}"\ntype = "feed"\nurl = "{site.url(f"/{name}.xml")}"\n{LIMITS}\n')
    return load_settings(daemon_config(directory, "\n".join(tables)))


def feed_entries(settings: Settings) -> list[str]:
    parsed = feedparser.parse((settings.feeds_dir / "es" / "atom.xml").read_bytes())
    assert not parsed.bozo
    return [e.title for e in parsed.entries]


def test_bad_peers_are_reported_retried_and_harm_nothing(
    site: TestSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    serve_good_feed(site, 2)
    for name, (route, _) in BAD_PEERS.items():
        site.route(f"/{name}.xml", route)
    site.route("/loop-b.xml", Route(location="/loop.xml"))
    settings = config_for(site, tmp_path, list(BAD_PEERS))
    store = Store.open(settings.state_dir)
    clock = Clock()
    daemon = Daemon(settings, store, engines=fake_engines(settings), clock=clock)
    caplog.set_level(logging.INFO, logger="syndicate.work")
    try:
        good = daemon.cycle("good")
        assert (good.status.outcome, good.status.items_new, good.files_written > 0) == ("ok", 2, True)
        published = snapshot(settings.feeds_dir, settings.translations_dir)
        assert len(feed_entries(settings)) == 2

        for name, (_, expected) in BAD_PEERS.items():
            clock.advance(seconds=1)
            result = daemon.cycle(name)
            assert result.status.outcome == "failed", name
            assert expected in (result.status.last_error or ""), (name, result.status.last_error)
            assert result.status.failures_in_row == 1
        assert snapshot(settings.feeds_dir, settings.translations_dir) == published  # untouched

        # One line per source per poll, saying what happened.
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("poll ")]
        assert len(lines) == 1 + len(BAD_PEERS)
        assert lines[0].startswith("poll good: ok in ") and "2 new, 0 updated, 0 failed" in lines[0]
        assert any(line.startswith("poll huge: failed") and "response too large" in line for line in lines)

        # Next round: the good feed is not modified (no files touched); the peers recover.
        again = daemon.cycle("good")
        assert (again.status.outcome, again.files_written) == ("not-modified", 0)
        for name in BAD_PEERS:
            site.page(f"/{name}.xml", rss([story(10 + len(name))], site.base), content_type="application/rss+xml")
        for name in BAD_PEERS:
            result = daemon.cycle(name)
            assert (result.status.outcome, result.status.items_new, result.status.last_error) == ("ok", 1, None), name
        assert len(feed_entries(settings)) == 2 + len(BAD_PEERS)  # one new article per recovered source
        states = store.sources.all()
        assert all(states[n].failures_in_row == 0 and states[n].last_success for n in BAD_PEERS)
    finally:
        store.close()


def test_item_failures_make_a_partial_poll_and_updates_republish(site: TestSite, tmp_path: Path) -> None:
    stories = [story(n) for n in range(1, 4)]
    site.page(stories[0].path, article_page(stories[0], site.base))
    site.route(stories[1].path, Route(status=500))
    site.page(stories[2].path, article_page(stories[2], site.base))
    site.page("/good.xml", rss(stories, site.base, full_content=False))
    settings = config_for(site, tmp_path, [])
    store = Store.open(settings.state_dir)
    clock = Clock()
    daemon = Daemon(settings, store, engines=fake_engines(settings), clock=clock)
    try:
        first = daemon.cycle("good")
        assert (first.status.outcome, first.status.items_new, first.status.items_failed) == ("partial", 2, 1)
        assert "HTTP 500" in (first.status.last_error or "")
        site.page(stories[1].path, article_page(stories[1], site.base))
        second = daemon.cycle("good")  # the feed is read again (no validators kept after a failure)
        assert (second.status.outcome, second.status.items_new, second.status.items_failed) == ("ok", 1, 0)
        assert sorted(feed_entries(settings)) == sorted(tagged(s.title, "en", "es") for s in stories)

        # An upstream edit: the article is updated, re-translated and republished.
        edited = story(1, words="The mayor cut the ribbon.")
        site.page(edited.path, article_page(edited, site.base))
        site.page("/good.xml", rss([*stories, story(4)], site.base, full_content=False))
        site.page(story(4).path, article_page(story(4), site.base))
        clock.advance(minutes=5)
        third = daemon.cycle("good")
        # The edited page is not re-read while its entry is unchanged (politeness) ...
        assert (third.status.items_new, third.status.items_updated) == (1, 0)
        # ... but a full-content feed carries edits, and they move `updated`.
        site.page("/good.xml", rss([edited, *stories[1:]], site.base))
        clock.advance(minutes=5)
        fourth = daemon.cycle("good")
        assert fourth.status.items_updated == 1 and fourth.files_written > 0
        parsed = feedparser.parse((settings.feeds_dir / "es" / "atom.xml").read_bytes())
        assert any("ribbon" in e.content[0].value for e in parsed.entries)
    finally:
        store.close()


def test_what_a_poll_brings_is_served_in_the_first_language_before_the_others_are_translated(
    site: TestSite, tmp_path: Path
) -> None:
    """A push's reader waits for one translation, not one per language: the daemon
    publishes the first language as soon as it is translated, then every language
    (the first again, its entries now linking their new siblings)."""
    serve_good_feed(site, 1)
    sources = f'[[sources]]\nname = "good"\ntype = "feed"\nurl = "{site.url("/good.xml")}"\n{LIMITS}\n'
    settings = load_settings(daemon_config(tmp_path, sources, languages=("es", "ca")))
    seen_while_translating: list[list[str]] = []  # the es feed's titles each time Catalan is asked for a title

    def translate(segment: str, source: str, target: str) -> str:
        if target == "ca" and segment.startswith("Harbour report"):
            atom = settings.feeds_dir / "es" / "atom.xml"
            seen_while_translating.append(feed_entries(settings) if atom.exists() else [])
        return tagged(segment, source, target)

    engine = FakeEngine("apertium", {("en", "es"), ("en", "ca")}, translate)
    store = Store.open(settings.state_dir)
    daemon = Daemon(settings, store, engines=Engines(settings, {"apertium": lambda _s: engine}), clock=Clock())
    try:
        daemon.cycle("good")
        assert seen_while_translating == [[tagged("Harbour report number 1", "en", "es")]]
        page = (settings.translations_dir / "es" / "harbour-report-number-1.html").read_text(encoding="utf-8")
        assert 'hreflang="ca"' in page  # published again once Catalan was there
        catalan = feedparser.parse((settings.feeds_dir / "ca" / "atom.xml").read_bytes())
        assert [e.title for e in catalan.entries] == [tagged("Harbour report number 1", "en", "ca")]

        serve_good_feed(site, 2)
        daemon.cycle("good")
        assert seen_while_translating[-1][0] == tagged("Harbour report number 2", "en", "es")

        # `once` publishes when every language is translated (nobody reads it before it ends).
        serve_good_feed(site, 3)
        run_once(daemon.work)
        assert tagged("Harbour report number 3", "en", "es") not in seen_while_translating[-1]
        assert tagged("Harbour report number 3", "en", "es") in feed_entries(settings)
    finally:
        store.close()


def test_scheduler_polls_each_source_on_its_interval_and_stops_cleanly(site: TestSite, tmp_path: Path) -> None:
    serve_good_feed(site, 1)
    site.route("/broken.xml", Route(status=500))
    settings = config_for(site, tmp_path, ["broken"])
    store = Store.open(settings.state_dir)
    daemon = Daemon(settings, store, engines=fake_engines(settings))
    runner = threading.Thread(target=daemon.run)
    try:
        runner.start()
        deadline = time.monotonic() + 20
        states = store.sources
        while time.monotonic() < deadline:
            if states.get("good").polls >= 3 and states.get("broken").polls >= 3:
                break
            time.sleep(0.1)
        daemon.stop()
        runner.join(timeout=20)
        assert not runner.is_alive()
        good, broken = states.get("good"), states.get("broken")
        assert good.polls >= 3 and broken.polls >= 3
        assert good.outcome == "not-modified" and broken.outcome == "failed"
        assert broken.failures_in_row == broken.polls
        assert good.next_poll is not None and good.next_poll > good.last_poll - timedelta(seconds=1)
        job = daemon.scheduler.get_job("good")  # jobs stay listed after shutdown
        assert job is None or (job.coalesce and job.max_instances == 1)
        assert not daemon.scheduler.running
    finally:
        daemon.stop()
        runner.join(timeout=20)
        store.close()


def test_slow_polls_never_overlap_and_missed_runs_coalesce(site: TestSite, tmp_path: Path) -> None:
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES

    # A poll of "slow" takes 1.5 s on a 1 s interval; "quick" must not wait for it.
    site.page("/slow.xml", rss([story(1)], site.base), delay=1.5, etag=None)
    site.page("/quick.xml", rss([story(2)], site.base), delay=0.1)
    tables = "".join(
        f'[[sources]]\nname = "{name}"\ntype = "feed"\nurl = "{site.url(f"/{name}.xml")}"\ninterval = "1s"\njitter = "0s"\n'
        for name in ("slow", "quick")
    )
    settings = load_settings(daemon_config(tmp_path, tables))
    store = Store.open(settings.state_dir)
    daemon = Daemon(settings, store, engines=fake_engines(settings))
    skipped: list[str] = []
    daemon.scheduler.add_listener(lambda event: skipped.append(event.job_id), EVENT_JOB_MAX_INSTANCES)
    runner = threading.Thread(target=daemon.run)
    try:
        runner.start()
        time.sleep(4.0)
    finally:
        daemon.stop()
        runner.join(timeout=20)
    try:
        assert not runner.is_alive()
        assert site.max_active == {"/slow.xml": 1, "/quick.xml": 1}  # never two polls of a source at once
        assert "slow" in skipped  # due again while still running: skipped, not started twice
        states = store.sources
        slow, quick = states.get("slow"), states.get("quick")
        assert 1 <= slow.polls <= 3  # missed runs coalesce, they do not pile up
        assert quick.polls >= 3  # the slow peer does not hold the other source up
    finally:
        store.close()


def test_schedule_resumes_the_interval_and_reads_cron_like_cron(tmp_path: Path) -> None:
    sources = """
[[sources]]
name = "soon"
type = "folder"
path = "articles"
interval = "1h"
jitter = "0s"

[[sources]]
name = "cron"
type = "folder"
path = "articles"
cron = "0 6 * * 1-5"
"""
    (tmp_path / "articles").mkdir()
    settings = load_settings(daemon_config(tmp_path, sources))
    store = Store.open(settings.state_dir)
    try:
        daemon = Daemon(settings, store, engines=fake_engines(settings))
        daemon.cycle("soon")  # polled a moment ago: the next start waits out the hour
        now = datetime.now(UTC)
        last = store.sources.get("soon").last_poll
        assert last is not None
        assert daemon._first_run(settings.sources[0], now) == last + timedelta(hours=1)
        assert daemon._first_run(settings.sources[1], now) == now  # never polled: at once
        daemon.scheduler.start(paused=True)
        for source in settings.sources:
            daemon.scheduler.add_job(
                daemon._job, trigger_for(source), args=[source.name], id=source.name, coalesce=True, max_instances=1
            )
        cron_job = daemon.scheduler.get_job("cron")
        assert (
            cron_job.trigger.fields[4].name == "day_of_week"
            and str(cron_job.trigger.fields[4]) == "mon,tue,wed,thu,fri"
        )
        daemon.scheduler.shutdown(wait=False)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("expression", "weekdays"),
    [
        ("0 6 * * 1-5", "mon,tue,wed,thu,fri"),
        ("*/10 * * * 0", "sun"),
        ("0 0 * * 7", "sun"),
        ("0 0 * * sat,sun", "sat,sun"),
        ("0 0 * * */3", "sun,wed,sat"),
    ],
)
def test_cron_weekdays_count_from_sunday_like_cron(expression: str, weekdays: str) -> None:
    trigger = cron_trigger(expression)
    assert str(trigger.fields[4]) == weekdays  # APScheduler's own numbering starts at Monday


def test_cron_day_of_month_or_weekday_like_cron() -> None:
    """ "0 6 1 * mon" runs on the 1st and on every Monday, not only on Mondays the 1st."""
    trigger = cron_trigger("0 6 1 * mon")
    fires, previous, now = [], None, datetime(2026, 11, 27, tzinfo=UTC)  # a Friday
    for _ in range(4):
        now = trigger.get_next_fire_time(previous, now)
        fires.append(now.strftime("%a %d %H:%M"))
        previous = now
    assert fires == ["Mon 30 06:00", "Tue 01 06:00", "Mon 07 06:00", "Mon 14 06:00"]


def test_bad_schedules_are_config_errors(tmp_path: Path) -> None:
    from syndicate.errors import ConfigError

    sources = """
[[sources]]
name = "a"
type = "folder"
path = "x"
interval = "often"

[[sources]]
name = "b"
type = "folder"
path = "x"
cron = "61 * * * *"

[[sources]]
name = "c"
type = "folder"
path = "x"
interval = "5m"
cron = "* * * * *"

[[sources]]
name = "d"
type = "feed"
url = "https://x.example/feed"
timeout = "0s"
"""
    with pytest.raises(ConfigError) as info:
        load_settings(daemon_config(tmp_path, sources))
    problems = {key: value for key, value, _ in info.value.problems}
    assert problems == {
        "sources[0].interval": "often",
        "sources[1].cron": "61 * * * *",
        "sources[2].cron": "* * * * *",
        "sources[3].timeout": "0s",
    }


def test_state_lock_names_the_holder(tmp_path: Path) -> None:
    with StateLock(tmp_path):
        assert lock_holder(tmp_path) == os.getpid()
        with pytest.raises(StateLockedError) as info:
            StateLock(tmp_path).acquire()
        assert info.value.pid == os.getpid()
        assert f"in use by process {os.getpid()}" in str(info.value)
    assert lock_holder(tmp_path) is None
    with StateLock(tmp_path):  # free again
        pass


def test_status_prints_a_plain_table_when_not_a_terminal(
    site: TestSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_good_feed(site, 2)
    site.route("/broken.xml", Route(status=500))
    settings = config_for(site, tmp_path, ["broken", "later"])
    store = Store.open(settings.state_dir)
    try:
        daemon = Daemon(settings, store, engines=fake_engines(settings))
        daemon.cycle("good")
        daemon.cycle("broken")
    finally:
        store.close()
    code = main(["status", "--config", str(tmp_path / "config.toml")])
    out = capsys.readouterr().out.splitlines()
    assert code == 1  # a source's last poll failed
    assert out[0].startswith("daemon: not running")
    assert out[1].split()[:7] == ["source", "type", "last", "poll", "outcome", "new", "updated"]
    rows = {line.split()[0]: line for line in out[2:]}
    assert rows["good"].split()[1:6] == ["feed", rows["good"].split()[2], rows["good"].split()[3], "ok", "2"]
    assert " failed " in rows["broken"] and "HTTP 500" in rows["broken"]
    assert rows["later"].split()[:3] == ["later", "feed", "never"]


def test_a_poll_that_only_changes_links_republishes(tmp_path: Path) -> None:
    """New previous/next links change no translation, but the pages and feeds must show them."""
    from syndicate.config import load_settings
    from syndicate.scheduler import Daemon
    from syndicate.store import Store
    from syndicate.translate.engines import Engines
    from tests.conftest import Clock, write_config
    from tests.fakes import FakeEngine, tagged

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Alpha Story\n\nThe first story of the day is about the harbour.\n", encoding="utf-8")
    (folder / "b.txt").write_text("Beta Story\n\nThe second story of the day is about the bridge.\n", encoding="utf-8")
    settings = load_settings(write_config(tmp_path, articles=folder))
    store = Store.open(settings.state_dir)
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    daemon = Daemon(settings, store, engines=Engines(settings, {"apertium": lambda s: engine}), clock=Clock())
    assert daemon.cycle("sample").files_written > 0
    (tmp_path / "articles" / "a.txt").write_text(
        "Alpha Story\n\nThe first story of the day is about the harbour.\n\nNext Article\n\nBeta Story\n",
        encoding="utf-8",
    )
    result = daemon.cycle("sample")
    assert result.report.articles_relinked == 1
    assert result.report.translations_written == 0
    assert result.files_written > 0
    slugs = {sa.article.title: sa.slug for sa in store.articles.all()}
    page = (tmp_path / "translations" / "es" / f"{slugs['Alpha Story']}.html").read_text(encoding="utf-8")
    assert f'rel="next" href="https://news.example.org/translations/es/{slugs["Beta Story"]}.html"' in page
    store.close()


class _CountedEngine(FakeEngine):
    """A fake engine that counts how often it is started and closed."""

    started = 0
    closed = 0

    def __init__(self) -> None:
        super().__init__("apertium", {("en", "es")}, tagged)
        type(self).started += 1

    def close(self) -> None:
        type(self).closed += 1


def test_engines_open_once_across_many_polls_and_close_at_exit(site: TestSite, tmp_path: Path) -> None:
    _CountedEngine.started = _CountedEngine.closed = 0
    settings = config_for(site, tmp_path, [])
    store = Store.open(settings.state_dir)
    try:
        daemon = Daemon(settings, store, engines=None)
        daemon.engines.factories = {"apertium": lambda _s: _CountedEngine()}
        for count in (1, 2, 3, 4):  # each poll brings one new entry to translate
            serve_good_feed(site, count)
            poll = daemon.cycle("good")
            assert poll.report.articles_new == 1
        assert (_CountedEngine.started, _CountedEngine.closed) == (1, 0)  # one start for four polls
        daemon.shutdown()
        assert _CountedEngine.closed == 1
    finally:
        store.close()
