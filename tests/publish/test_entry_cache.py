"""The rendered-entry cache of a process (``feeds.ENTRIES``): a daemon re-renders each
changed language's subscription feed and open archive page on every publish, and all but
the new entry are as they were. What is written must never depend on the cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from syndicate.publish import feeds
from syndicate.publish.feedgen_ext import EntryCache, QuietFeedGenerator
from tests.conftest import Clock
from tests.publish.helpers import run, script_engine, write_feed_config

LANGUAGES = ("es", "ca")


@pytest.fixture(autouse=True)
def cold_cache() -> Iterator[None]:
    feeds.ENTRIES.clear()
    feeds.ENTRIES.resize(feeds.DAEMON_ENTRY_BYTES)  # as a daemon has it
    yield
    feeds.ENTRIES.resize(0)
    feeds.ENTRIES.clear()


def _feeds(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "feeds").rglob("*")) if p.is_file()}


def _publish(directory: Path, *, author: str = "Test desk") -> dict[str, bytes]:
    config = write_feed_config(directory, languages=LANGUAGES, feed_size=3)
    if author != "Test desk":
        config.write_text(config.read_text(encoding="utf-8").replace("Test desk", author), encoding="utf-8")
    run(config, Clock(), script_engine(*LANGUAGES))
    return _feeds(directory)


def test_documents_from_kept_entries_are_the_bytes_of_rendered_ones(tmp_path: Path) -> None:
    cold = _publish(tmp_path / "cold")  # every entry rendered (and kept)
    assert feeds.ENTRIES.misses and not feeds.ENTRIES.hits
    misses = feeds.ENTRIES.misses
    warm = _publish(tmp_path / "warm")  # the same store contents again: every entry kept
    assert feeds.ENTRIES.hits >= misses and feeds.ENTRIES.misses == misses
    assert any(name.endswith("atom.xml") for name in cold) and any(name.endswith("rss.xml") for name in cold)
    assert warm == cold


def test_an_entry_rendered_under_other_settings_is_rendered_anew(tmp_path: Path) -> None:
    # The site's author stands in an entry whose source names none: a config that
    # changes it must not be served entries kept under the old one.
    _publish(tmp_path / "first")
    hits = feeds.ENTRIES.hits
    renamed = _publish(tmp_path / "renamed", author="Harbour desk")
    assert feeds.ENTRIES.hits == hits
    atom = etree.fromstring(renamed["feeds/es/atom.xml"])
    names = atom.xpath("//a:entry/a:author/a:name/text()", namespaces={"a": "http://www.w3.org/2005/Atom"})
    assert "Harbour desk" in names and "Test desk" not in names


def test_the_cache_keeps_no_more_than_its_budget_and_drops_the_least_recently_used() -> None:
    cache = EntryCache(max_bytes=4 * 400, largest=400)  # about four of the entries below

    def entry(i: int) -> bytes:
        fg = QuietFeedGenerator(atom=True, rss=False)

        def fill(fe: object, i: int = i) -> None:
            fe.id(f"tag:example.org,2026:{i}")  # type: ignore[attr-defined]
            fe.title(f"Entry {i} " + "x" * 200)  # type: ignore[attr-defined]
            fe.updated("2026-03-01T12:00:00Z")  # type: ignore[attr-defined]
            fe.content(f"<p>Body {i}</p>", type="html")  # type: ignore[attr-defined]

        fg.id("tag:example.org,2026:feed")
        fg.title("Feed")
        fg.updated("2026-03-01T12:00:00Z")
        cache.entry(("atom", i), fill, fg)
        return bytes(fg.atom_str())

    first = [entry(i) for i in range(6)]
    assert cache.misses == 6
    assert entry(5) == first[5] and cache.hits == 1  # kept
    assert entry(0) == first[0] and cache.misses == 7  # the oldest went past the budget
    assert cache.size <= cache.max_bytes
    small = EntryCache(max_bytes=4 * 400, largest=100)
    cache = small
    entry(1)
    entry(1)
    assert (small.hits, small.misses) == (0, 2)  # larger than ``largest``: never kept


def test_an_entry_that_cannot_be_a_key_is_rendered_all_the_same() -> None:
    cache = EntryCache(max_bytes=1 << 20)
    fg = QuietFeedGenerator(atom=True, rss=False)
    fg.id("tag:example.org,2026:feed")
    fg.title("Feed")
    fg.updated("2026-03-01T12:00:00Z")

    def fill(fe: object) -> None:
        fe.id("tag:example.org,2026:1")  # type: ignore[attr-defined]
        fe.title("Harbour reopens")  # type: ignore[attr-defined]
        fe.updated("2026-03-01T12:00:00Z")  # type: ignore[attr-defined]
        fe.content("<p>The harbour reopened on Monday.</p>", type="html")  # type: ignore[attr-defined]

    cache.entry(("atom", ["a list"]), fill, fg)
    assert b"Harbour reopens" in fg.atom_str() and (cache.hits, cache.misses) == (0, 0)


def test_a_process_that_is_no_daemon_keeps_no_entry(tmp_path: Path) -> None:
    # `once` renders each document once: keeping its entries would only hold memory.
    feeds.ENTRIES.resize(0)
    hits, misses = feeds.ENTRIES.hits, feeds.ENTRIES.misses
    _publish(tmp_path / "once")
    assert (feeds.ENTRIES.hits, feeds.ENTRIES.misses, feeds.ENTRIES.size) == (hits, misses, 0)


def test_a_daemon_turns_the_cache_on(tmp_path: Path) -> None:
    from syndicate.config import load_settings
    from syndicate.scheduler import Daemon
    from syndicate.store import Store

    feeds.ENTRIES.resize(0)
    settings = load_settings(write_feed_config(tmp_path, languages=LANGUAGES))
    with Store.open(settings.state_dir) as store:
        daemon = Daemon(settings, store)
        try:
            assert feeds.ENTRIES.max_bytes == feeds.DAEMON_ENTRY_BYTES
        finally:
            daemon.shutdown()


def test_an_item_orjson_refuses_is_made_and_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # A lone surrogate (which UTF-8 cannot hold) makes orjson refuse an item; the document
    # is then written by the standard library, and keeping the item must not fail first.
    half = {"title": "Half a pair \ud83d here"}
    monkeypatch.setattr(feeds, "_json_item", lambda _settings, _entry: half)
    assert feeds._kept_json_item(None, "entry", "desk", "https://x.example/") is half  # type: ignore[arg-type]
    assert feeds.ENTRIES.size == 0
