"""Old state upgrades in place: a store written by the release before typed blocks.

``tests/data/state-previous-release/`` holds that release's ``syndicate.db`` over its own
copy of the sample articles (its README says how it was made). The current code runs
once on the same inputs: the stored translations are reused as they are (no segment
translated, no translation rewritten), and every feed renders and validates.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import feedparser
import lxml.html
import pytest

from syndicate.config import load_settings
from syndicate.models import RunReport
from syndicate.store import Store
from syndicate.work import once
from tests.conftest import DATA, Clock
from tests.publish.feedcheck import feed_problems

PREVIOUS = DATA / "state-previous-release"


def translations(db: Path) -> dict[tuple[int, str], tuple[str, str, str]]:
    """(article, language) -> (title, source_hash, updated), read with plain SQL."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT article_id, language, title, source_hash, updated FROM translations").fetchall()
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


@dataclass(frozen=True)
class Upgrade:
    directory: Path
    before: dict[tuple[int, str], tuple[str, str, str]]
    after: dict[tuple[int, str], tuple[str, str, str]]
    report: RunReport


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory) -> Upgrade:
    directory = tmp_path_factory.mktemp("upgrade")
    shutil.copytree(PREVIOUS / "articles", directory / "articles")
    shutil.copy(PREVIOUS / "config.toml", directory / "config.toml")
    (directory / ".syndicate").mkdir()
    db = directory / ".syndicate" / "syndicate.db"
    shutil.copy(PREVIOUS / "syndicate.db", db)
    before = translations(db)
    settings = load_settings(directory / "config.toml")
    store = Store.open(settings.state_dir)
    try:
        report = once(settings, store, clock=Clock())
    finally:
        store.close()
    return Upgrade(directory, before, translations(db), report)


def test_fixture_is_the_old_format() -> None:
    # The previous release stored a body as {"paragraphs": [...]}, with no blocks.
    with sqlite3.connect(PREVIOUS / "syndicate.db") as conn:
        bodies = [row[0] for row in conn.execute("SELECT body FROM articles")]
    assert len(bodies) == 7
    assert all('"paragraphs"' in b and '"blocks"' not in b for b in bodies)


def test_upgrade_runs_clean(upgrade: Upgrade) -> None:
    assert upgrade.report.ok, (upgrade.report.failures, upgrade.report.unserved_languages)
    assert upgrade.report.articles_new == 0
    assert len(upgrade.after) == len(upgrade.before) == 7


def test_upgrade_rewrites_no_entry(upgrade: Upgrade) -> None:
    # Every translation keeps its `updated`: readers see no phantom new versions. The one
    # page whose <meta name=description> the new reader now takes as a summary gets that
    # summary translated (one new segment), which is metadata, not a new version.
    assert {k: v[2] for k, v in upgrade.after.items()} == {k: v[2] for k, v in upgrade.before.items()}
    changed = {k for k in upgrade.after if upgrade.after[k][1] != upgrade.before[k][1]}
    assert changed <= {k for k in upgrade.after if k[0] == 2}, changed  # 001_3fa9c2d1e8b74a60.html only
    assert upgrade.report.segments_translated <= 1


def test_upgrade_keeps_every_translated_title(upgrade: Upgrade) -> None:
    assert {k: v[0] for k, v in upgrade.after.items()} == {k: v[0] for k, v in upgrade.before.items()}
    # Whatever was translated again came from the segment memory, not an engine: at most
    # the one summary the new reader finds (see above).
    assert upgrade.report.segments_translated <= 1


def test_feeds_and_pages_render(upgrade: Upgrade) -> None:
    feeds = upgrade.directory / "feeds" / "es"
    for name in ("atom.xml", "rss.xml", "feed.json"):
        assert feed_problems(feeds / name) == [], name
    parsed = feedparser.parse((feeds / "atom.xml").read_bytes())
    assert not parsed.bozo and len(parsed.entries) == 7
    titles = {v[0] for v in upgrade.before.values()}
    assert {e.title for e in parsed.entries} == titles
    for e in parsed.entries:
        body = lxml.html.fragment_fromstring(e.content[0].value, create_parent="div")
        assert len(body.xpath(".//p")) >= 2 and len(body.text_content()) > 400
    pages = sorted((upgrade.directory / "translations" / "es").glob("*.html"))
    assert len([p for p in pages if p.name != "index.html"]) == 7
