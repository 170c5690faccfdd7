"""Old state upgrades in place: a store written by the release before typed blocks.

``tests/data/state-previous-release/`` holds that release's ``syndicate.db`` over its own
copy of the sample articles (its README says how it was made). The current code runs
once on the same inputs: no article is read again as new, every translation is redone
once under today's translation rules (names kept, headlines in sentence case, see
syndicate/translate/), and every feed renders and validates; a second run does nothing.
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
    again: RunReport  # a second `once`
    after_again: dict[tuple[int, str], tuple[str, str, str]]


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
        after = translations(db)
        again = once(settings, store, clock=Clock())
    finally:
        store.close()
    return Upgrade(directory, before, after, report, again, translations(db))


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


def test_upgrade_redoes_each_translation_once_under_todays_rules(upgrade: Upgrade) -> None:
    # The headlines were translated word by word in Title Case; today's rules put them
    # into sentence case first (and keep the names), so every title is new, once.
    old_titles = {k: v[0] for k, v in upgrade.before.items()}
    new_titles = {k: v[0] for k, v in upgrade.after.items()}
    assert set(new_titles) == set(old_titles)
    assert "Volga Los labradores Esperan Cosecha de Trigo Fuerte Después de Muelle Suave" in old_titles.values()
    assert "Labradores de Volga esperan cosecha de trigo fuerte después de muelle suave" in new_titles.values()
    assert all(not _title_case(t) for t in new_titles.values()), new_titles
    # And only once: the second run translates nothing and rewrites nothing.
    assert upgrade.again.segments_translated == 0 and upgrade.again.translations_written == 0
    assert upgrade.again.files_written == 0
    assert upgrade.after_again == upgrade.after


def _title_case(text: str) -> bool:
    """More than two capitalised words after the first one of four letters or more."""
    words = [w for w in text.split()[1:] if len(w) > 3]
    return sum(1 for w in words if w[:1].isupper()) > 2


def test_feeds_and_pages_render(upgrade: Upgrade) -> None:
    feeds = upgrade.directory / "feeds" / "es"
    for name in ("atom.xml", "rss.xml", "feed.json"):
        assert feed_problems(feeds / name) == [], name
    parsed = feedparser.parse((feeds / "atom.xml").read_bytes())
    assert not parsed.bozo and len(parsed.entries) == 7
    titles = {v[0] for v in upgrade.after.values()}
    assert {e.title for e in parsed.entries} == titles
    for e in parsed.entries:
        body = lxml.html.fragment_fromstring(e.content[0].value, create_parent="div")
        assert len(body.xpath(".//p")) >= 2 and len(body.text_content()) > 400
    pages = sorted((upgrade.directory / "translations" / "es").glob("*.html"))
    assert len([p for p in pages if p.name != "index.html"]) == 7


def test_an_upgraded_store_is_reviewable_and_a_correction_survives_reopening(upgrade: Upgrade) -> None:
    """After the upgrade every translation has its segments (an editor can review it),
    and a correction made then survives the store being opened (migrated) again and the
    next runs: it lives in the store, not in an output file."""
    from syndicate.models import Lang
    from syndicate.review.service import ReviewDesk
    from syndicate.store.migrations import HEAD

    settings = load_settings(upgrade.directory / "config.toml")
    with Store.open(settings.state_dir) as store:
        desk = ReviewDesk(settings, store, clock=Clock())
        ids = sorted(store.translations.for_language(Lang("es")))
        assert all(desk.entry("es", aid).segments for aid in ids)
        entry = desk.entry("es", ids[0])
        desk.correct("es", ids[0], segment=1, text="Una corrección que sobrevive.", editor="ana", via="test")
    with sqlite3.connect(settings.state_dir / "syndicate.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
    for _ in range(2):  # opened (and checked for migrations) again, then run twice
        with Store.open(settings.state_dir) as store:
            once(settings, store, clock=Clock())
    parsed = feedparser.parse((upgrade.directory / "feeds" / "es" / "atom.xml").read_bytes())
    with_it = [e for e in parsed.entries if "Una corrección que sobrevive." in e.content[0].value]
    assert len(with_it) == 1 and with_it[0].title == entry.translation.title
