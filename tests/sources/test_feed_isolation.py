"""One bad feed entry costs only itself, and is reported once per change (issue 9, item 3).

The feed is served by a real local server and read through the daemon's unit of work
(:meth:`~syndicate.scheduler.Daemon.cycle`: the units of work ``once`` runs too), with a fake engine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.config import ExtractSettings, Settings, load_settings
from syndicate.extract import extract
from syndicate.models import RawItem
from syndicate.scheduler import Daemon
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock
from tests.fakes import FakeEngine, tagged
from tests.sources.site import TestSite, daemon_config, http_date, story
from tests.sources.test_feed import feed_settings, poll

LIMITS = 'timeout = "2s"\nretries = 0\ninterval = "1h"\njitter = "0s"'


@pytest.fixture
def site() -> Iterator[TestSite]:
    with TestSite() as s:
        yield s


def item(guid: str, title: str, content: str) -> str:
    return (
        f'<item><title>{title}</title><guid isPermaLink="false">{guid}</guid>'
        f"<pubDate>{http_date(story(1).published)}</pubDate>"
        f"<content:encoded><![CDATA[{content}]]></content:encoded></item>"
    )


def rss_of(*items: str, channel_extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Harbour Gazette</title><link>http://example.org/</link><description>News</description>{channel_extra}"
        f"{''.join(items)}</channel></rss>"
    )


GOOD_1 = item("g1", "Ferries Return to the Quay", "<p>The ferries are back on the old quay this spring.</p>")
GOOD_2 = item("g2", "The Market Moves Indoors", "<p>The Saturday market moves into the old fish hall.</p>")
#: What upstream feeds were seen carrying in content:encoded.
GARBAGE = [
    "<!DOCTYPE",
    "<!DOCTYPE html>",
    "<?xml version='1.0'?>",
    "<!--",
    "<![CDATA[",
    "<html><body></body></html>",
    "&#0;",
]


def settings_for(site: TestSite, directory: Path, path: str = "/feed.xml") -> Settings:
    table = f'[[sources]]\nname = "harbour"\ntype = "feed"\nurl = "{site.url(path)}"\n{LIMITS}\n'
    return load_settings(daemon_config(directory, table))


def daemon_for(settings: Settings, clock: Clock) -> Daemon:
    engines = Engines(settings, {"apertium": lambda _s: FakeEngine("apertium", {("en", "es")}, tagged)})
    return Daemon(settings, Store.open(settings.state_dir), engines=engines, clock=clock)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("garbage", GARBAGE)
def test_a_garbage_entry_costs_only_itself(site: TestSite, tmp_path: Path, garbage: str) -> None:
    site.page(
        "/feed.xml", rss_of(GOOD_2, item("bad", "A Broken Entry", garbage), GOOD_1), content_type="application/rss+xml"
    )
    settings = settings_for(site, tmp_path)
    result = daemon_for(settings, Clock()).cycle("harbour")
    assert result.status.items_new + result.status.items_failed == 3
    if result.status.items_failed:  # most garbage is no article; some is read as text
        assert result.status.outcome == "partial" and "bad" in (result.status.last_error or "")
    titles = {a.article.title for a in Store.open(settings.state_dir).articles.all()}
    assert {"Ferries Return to the Quay", "The Market Moves Indoors"} <= titles


def test_an_entry_that_raises_anything_is_isolated(site: TestSite, monkeypatch: pytest.MonkeyPatch) -> None:
    import syndicate.sources.feed as feed_module

    real = feed_module.entry_meta

    def hostile(entry: object, base: str | None) -> object:
        if dict.get(entry, "id") == "bad":  # type: ignore[call-overload]
            raise RecursionError("maximum recursion depth exceeded")
        return real(entry, base)  # type: ignore[arg-type]

    monkeypatch.setattr(feed_module, "entry_meta", hostile)
    site.page("/feed.xml", rss_of(GOOD_2, item("bad", "Bad", "<p>x</p>"), GOOD_1), content_type="application/rss+xml")
    items, _ = poll(feed_settings(site))
    assert [i.key for i in items if isinstance(i, RawItem)] == ["g1", "g2"]
    (failure,) = [i for i in items if not isinstance(i, RawItem)]
    assert failure.item == "bad" and "RecursionError" in failure.message


def test_a_failing_entry_is_logged_once_per_change(
    site: TestSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site.page(
        "/feed.xml", rss_of(GOOD_1, item("bad", "A Broken Entry", "<!DOCTYPE")), content_type="application/rss+xml"
    )
    settings = settings_for(site, tmp_path)
    clock = Clock()
    daemon = daemon_for(settings, clock)
    caplog.set_level(logging.INFO, logger="syndicate")

    first = daemon.cycle("harbour")
    assert first.status.outcome == "partial"
    assert len([m for m in errors(caplog) if "[harbour] bad:" in m]) >= 1
    caplog.clear()

    for _ in range(3):  # the same broken entry on every poll: counted, not logged again
        clock.advance(hours=1)
        again = daemon.cycle("harbour")
        assert again.status.outcome == "partial" and again.status.items_failed == 1
    assert errors(caplog) == []

    # The entry changes (still broken): reported again, once.
    site.page(
        "/feed.xml",
        rss_of(GOOD_1, item("bad", "A Broken Entry", "<!DOCTYPE html>")),
        content_type="application/rss+xml",
    )
    clock.advance(hours=1)
    daemon.cycle("harbour")
    assert len([m for m in errors(caplog) if "[harbour] bad:" in m]) >= 1

    # Fixed, then broken again the same way: a new problem, logged again.
    site.page(
        "/feed.xml",
        rss_of(GOOD_1, item("bad", "A Mended Entry", "<p>Now it has a body.</p>")),
        content_type="application/rss+xml",
    )
    clock.advance(hours=1)
    assert daemon.cycle("harbour").status.outcome == "ok"
    caplog.clear()
    site.page(
        "/feed.xml",
        rss_of(GOOD_1, item("bad", "A Broken Entry", "<!DOCTYPE html>")),
        content_type="application/rss+xml",
    )
    clock.advance(hours=1)
    daemon.cycle("harbour")
    assert len([m for m in errors(caplog) if "[harbour] bad:" in m]) >= 1


def test_recoverable_xml_errors_keep_what_feedparser_read(site: TestSite, caplog: pytest.LogCaptureFixture) -> None:
    # An undeclared entity is a fatal XML error; feedparser's loose parser reads on.
    site.page(
        "/feed.xml",
        rss_of(GOOD_2.replace("Moves", "Moves&nbsp;Indoors &mdash;"), GOOD_1),
        content_type="application/rss+xml",
    )
    caplog.set_level(logging.WARNING, logger="syndicate.sources.feed")
    items, first = poll(feed_settings(site))
    assert [i.key for i in items if isinstance(i, RawItem)] == ["g1", "g2"]
    assert any("not well-formed XML" in m and "undefined entity" in m for m in errors(caplog))
    caplog.clear()
    # Logged once per change: the next poll of the same broken document says nothing.
    items, _ = poll(feed_settings(site), first.state)
    assert errors(caplog) == []


def test_a_document_with_no_entries_and_a_fatal_error_fails(site: TestSite) -> None:
    from syndicate.errors import SourceError

    site.page(
        "/feed.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>x</titl></channel></rss>',
        content_type="application/rss+xml",
    )
    with pytest.raises(SourceError, match="not well-formed XML"):
        poll(feed_settings(site))


def test_control_character_references_in_feed_content_are_dropped(site: TestSite) -> None:
    content = "<p>Alpha&#1; beta&#x1b; gamma&#xfffe; delta&#0; end.</p><p>Second&#x7f; paragraph.</p>"
    site.page("/feed.xml", rss_of(item("c", "Control&#x1b; Title", content)), content_type="application/rss+xml")
    items, _ = poll(feed_settings(site))
    (raw,) = items
    assert isinstance(raw, RawItem)
    article = extract(raw, ExtractSettings())
    assert article.title == "Control Title"
    assert [b.html for b in article.blocks] == ["Alpha beta gamma delta end.", "Second paragraph."]  # type: ignore[union-attr]


def test_bidi_controls_are_stripped_from_feed_titles_content_and_links(site: TestSite) -> None:
    content = '<p>Read \u202eevil\u202c <a href="http://example.org/\u2066a\u2069b">the \u202dlink</a>.</p>'
    site.page("/feed.xml", rss_of(item("b", "Bidi &#x202E;Title\u2067", content)), content_type="application/rss+xml")
    items, _ = poll(feed_settings(site))
    (raw,) = items
    assert isinstance(raw, RawItem) and raw.known is not None
    assert raw.known.title == "Bidi Title"
    article = extract(raw, ExtractSettings())
    assert article.title == "Bidi Title"
    assert article.blocks[0].html == 'Read evil <a href="http://example.org/ab">the link</a>.'  # type: ignore[union-attr]


def test_an_unserved_language_is_logged_once_per_change(
    tmp_path: Path, make_config: object, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.conftest import write_config

    settings = load_settings(write_config(tmp_path, languages=("fr",)))
    store = Store.open(settings.state_dir)
    nothing = Engines(settings, {"apertium": lambda _s: FakeEngine("apertium", set(), tagged)})
    caplog.set_level(logging.INFO, logger="syndicate.work")

    def run() -> list[str]:
        caplog.clear()
        report = once(settings, store, engines=nothing, clock=Clock())
        assert report.unserved_languages  # the summary still says so every time
        return [m for m in errors(caplog) if "no engine can translate" in m]

    assert len(run()) == 1
    assert run() == [] and run() == []
    (settings.root / "articles" / "zz-new.txt").write_text("A New Article\n\nIt waits for an engine too.\n")
    assert len(run()) == 1
    assert run() == []
