"""A state directory made by release 2c050c3 upgrades in place and publishes the same bytes.

``tests/data/state-release-2c050c3/`` holds that release's store, the sample articles and
config it ran on, and the feeds it published (its README says how it was made). Opening
the store with this code brings it to the newest revision; a real ``syndicate once`` on
the same inputs then translates nothing and writes feeds byte-identical to the release's.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from syndicate.models import Lang
from syndicate.store import Store
from syndicate.store.migrations import HEAD
from tests.conftest import DATA

RELEASE = DATA / "state-release-2c050c3"
LANGUAGES = ("es", "ca")
FEEDS = ("atom.xml", "rss.xml", "feed.json")


def table(db: Path, name: str, columns: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute(f"SELECT {columns} FROM {name}").fetchall())


def content(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row readers' output is made from (the columns the release had)."""
    return {
        "articles": table(db, "articles", "id, source, key, slug, url, title, body, content_hash, first_seen, updated"),
        "translations": table(db, "translations", "article_id, language, engine, model, title, body, source_hash, updated"),
        "memory": table(db, "memory", "key, source_text, target_text, rejected, created"),
        "stats": table(db, "stats", "language, engine, name, value"),
        "feed_log": table(db, "feed_log", "language, article_id, seq, page"),
    }


@dataclass(frozen=True)
class Upgraded:
    directory: Path
    before: dict[str, list[tuple[object, ...]]]
    opened: dict[str, list[tuple[object, ...]]]  # after Store.open (the migration alone)
    after: dict[str, list[tuple[object, ...]]]  # after `syndicate once`
    revision: str | None
    pending: dict[str, list[int]]
    once: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> Upgraded:
    directory = tmp_path_factory.mktemp("release")
    shutil.copytree(RELEASE / "articles", directory / "articles")
    shutil.copy(RELEASE / "config.toml", directory / "config.toml")
    (directory / ".syndicate").mkdir()
    db = directory / ".syndicate" / "syndicate.db"
    shutil.copy(RELEASE / "syndicate.db", db)
    before = content(db)

    with Store.open(directory / ".syndicate") as store:
        revision = store.revision()
        pending = {lang: store.articles.pending_translation(Lang(lang)) for lang in LANGUAGES}
    opened = content(db)

    once = subprocess.run(
        [sys.executable, "-m", "syndicate", "once", "--config", str(directory / "config.toml")],
        cwd=directory, capture_output=True, text=True, timeout=240, check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )  # fmt: skip
    return Upgraded(directory, before, opened, content(db), revision, pending, once)


def test_fixture_is_the_release_format() -> None:
    with sqlite3.connect(RELEASE / "syndicate.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = {r[1] for r in conn.execute("PRAGMA table_info(articles)")}
    assert "alembic_version" not in tables and "changes" not in tables and "seq" not in columns
    assert len(table(RELEASE / "syndicate.db", "articles", "id")) == 7
    assert len(table(RELEASE / "syndicate.db", "translations", "article_id")) == 14


def test_opening_upgrades_to_head_and_keeps_every_row(upgraded: Upgraded) -> None:
    assert upgraded.revision == HEAD
    assert upgraded.opened == upgraded.before
    assert upgraded.pending == {lang: [] for lang in LANGUAGES}


def test_once_after_the_upgrade_translates_nothing(upgraded: Upgraded) -> None:
    assert upgraded.once.returncode == 0, upgraded.once.stderr[-3000:]
    # Every translation as the release stored it (no rewrite, no new `updated`), no new
    # memory row and no counter moved: no segment went to an engine.
    assert upgraded.after["translations"] == upgraded.before["translations"]
    assert upgraded.after["memory"] == upgraded.before["memory"]
    assert upgraded.after["stats"] == upgraded.before["stats"]
    assert upgraded.after["articles"] == upgraded.before["articles"]
    assert upgraded.after["feed_log"] == upgraded.before["feed_log"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", FEEDS)
def test_feeds_are_byte_identical_to_the_release(upgraded: Upgraded, language: str, name: str) -> None:
    assert upgraded.once.returncode == 0, upgraded.once.stderr[-3000:]
    published = (upgraded.directory / "feeds" / language / name).read_bytes()
    assert published == (RELEASE / "feeds" / language / name).read_bytes()
