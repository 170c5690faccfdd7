"""A title is a headline: one of a megabyte is cut, not repeated into every feed document,
page and index (issue 21, case 10: a 1 MB title gave a 6 MB Atom feed and a 7 MB page)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.config import load_settings
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import MAX_TITLE, once, shorten
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged


def test_a_megabyte_title_is_cut_and_the_feed_stays_small(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    title = "Council " + "approves the budget again " * 40_000  # about 1 MB
    (folder / "long.txt").write_text(f"{title}\n\nThe council approved the budget on Monday.\n", encoding="utf-8")
    config = write_config(tmp_path, articles=folder)
    settings = load_settings(config)
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    with caplog.at_level("WARNING", logger="syndicate.work"), Store.open(settings.state_dir) as store:
        report = once(
            settings, store, engines=Engines(settings, factories={"apertium": lambda s: engine}), clock=Clock()
        )
        stored = store.articles.many([1])[0].article.title
    assert report.ok and report.articles_new == 1
    assert len(stored) <= MAX_TITLE and stored.endswith("…") and stored.startswith("Council approves")
    assert "cut to 400" in caplog.text
    atom = tmp_path / "feeds" / "es" / "atom.xml"
    assert atom.stat().st_size < 20_000
    assert all(p.stat().st_size < 50_000 for p in (tmp_path / "translations" / "es").glob("*.html"))


@pytest.mark.parametrize(
    "text, limit, expected",
    [
        ("Short headline", 400, "Short headline"),
        ("one two three four five six", 12, "one two…"),
        ("abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi…"),
    ],
)
def test_shorten_cuts_at_a_word(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected and len(shorten(text, limit)) <= limit
