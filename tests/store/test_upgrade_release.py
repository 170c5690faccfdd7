"""A state directory made by release 2c050c3 upgrades in place and publishes the same bytes.

``tests/data/state-release-2c050c3/`` holds that release's store, the sample articles and
config it ran on, and the feeds it published (its README says how it was made). Opening
the store with this code brings it to the newest revision; a real ``syndicate once`` on
the same inputs then translates nothing and writes feeds byte-identical to the release's.

The same state is also upgraded from revision 0004: first the last code at that revision
(from this checkout's history) runs ``once`` on it, keeping its bookkeeping the way 0004
did (the reader fingerprint inside the source's cursor, each language's translate
settings among the reported problems); then this code's ``once`` must not read the
source again, nor check every article again.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from syndicate.config import load_settings
from syndicate.models import Lang
from syndicate.store import Store
from syndicate.store.migrations import HEAD
from syndicate.work import _reader_fingerprint, _translate_fingerprint
from tests.conftest import DATA

RELEASE = DATA / "state-release-2c050c3"
LANGUAGES = ("es", "ca")
FEEDS = ("atom.xml", "rss.xml", "feed.json")
REPO = Path(__file__).resolve().parents[2]
#: The last commit whose store was at revision 0004 (before ``source_state.reader``).
REVISION_0004_COMMIT = "a941f6c7652cc8ae38977eeea2c4d4314f735660"
#: Where each starting point comes from: the release's store as it is, or after a run of 0004's code.
STARTS = ("release-2c050c3", "revision-0004")


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


def run_once(directory: Path, code: Path) -> subprocess.CompletedProcess[str]:
    """A real ``syndicate once`` in ``directory``, with the ``syndicate`` package under ``code``."""
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "once", "--config", str(directory / "config.toml")],
        cwd=directory, capture_output=True, text=True, timeout=240, check=False,
        env={**os.environ, "PYTHONPATH": str(code)},
    )  # fmt: skip


@dataclass(frozen=True)
class Upgraded:
    start: str
    directory: Path
    bookkeeping: dict[str, list[tuple[object, ...]]]  # before the upgrade: cursors and problems
    before: dict[str, list[tuple[object, ...]]]
    opened: dict[str, list[tuple[object, ...]]]  # after Store.open (the migration alone)
    after: dict[str, list[tuple[object, ...]]]  # after `syndicate once`
    revision: str | None
    pending: dict[str, list[int]]
    checks_all: dict[str, bool]  # whether the next pass into each language checks every article
    reads_again: bool  # whether the next poll reads the source in full
    once: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module", params=STARTS)
def upgraded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Upgraded:
    directory = tmp_path_factory.mktemp(request.param)
    shutil.copytree(RELEASE / "articles", directory / "articles")
    shutil.copy(RELEASE / "config.toml", directory / "config.toml")
    (directory / ".syndicate").mkdir()
    db = directory / ".syndicate" / "syndicate.db"
    shutil.copy(RELEASE / "syndicate.db", db)
    if request.param == "revision-0004":
        code = directory.parent / f"{directory.name}-code"
        code.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", REVISION_0004_COMMIT, "syndicate"],
            capture_output=True, check=False,
        )  # fmt: skip
        if archive.returncode != 0:
            pytest.skip(f"commit {REVISION_0004_COMMIT[:7]} is not in this checkout's history (a shallow clone?)")
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
        made = run_once(directory, code)
        assert made.returncode == 0, made.stderr[-3000:]
    bookkeeping = {
        "cursors": table(db, "source_state", "source, cursor"),
        "problems": table(db, "reported_problem", "scope, subject, fingerprint"),
    }
    before = content(db)

    settings = load_settings(directory / "config.toml")
    with Store.open(directory / ".syndicate") as store:
        revision = store.revision()
        pending = {lang: store.articles.pending_translation(Lang(lang)) for lang in LANGUAGES}
        checks_all = {
            lang: store.translations.settings_changed(Lang(lang), _translate_fingerprint(settings, Lang(lang)))
            for lang in LANGUAGES
        }
        reads_again = store.sources.get("sample").reader != _reader_fingerprint(settings, settings.sources[0])
    opened = content(db)

    once = run_once(directory, REPO)
    return Upgraded(
        request.param, directory, bookkeeping, before, opened, content(db), revision, pending, checks_all,
        reads_again, once,
    )  # fmt: skip


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


def test_the_starting_points_keep_their_bookkeeping_as_they_did(upgraded: Upgraded) -> None:
    (source, cursor), = upgraded.bookkeeping["cursors"]
    languages = sorted(str(p[1]) for p in upgraded.bookkeeping["problems"] if p[0] == "translate-settings")
    if upgraded.start == "revision-0004":
        assert source == "sample" and "_reader" in json.loads(str(cursor))
        assert languages == sorted(LANGUAGES)
    else:  # the release kept neither
        assert json.loads(str(cursor)) == {} and languages == []


def test_the_bookkeeping_moves_to_its_own_column_and_table(upgraded: Upgraded) -> None:
    assert upgraded.once.returncode == 0, upgraded.once.stderr[-3000:]
    db = upgraded.directory / ".syndicate" / "syndicate.db"
    ((cursor, reader),) = table(db, "source_state", "cursor, reader")
    assert "_reader" not in json.loads(str(cursor)) and reader  # the cursor is the source's alone
    assert [p for p in table(db, "reported_problem", "scope") if p[0] == "translate-settings"] == []
    remembered = dict(table(db, "translate_state", "language, fingerprint"))
    assert sorted(remembered) == sorted(LANGUAGES)
    if upgraded.start == "revision-0004":  # carried over as they were
        (_, old_cursor), = upgraded.bookkeeping["cursors"]
        assert reader == json.loads(str(old_cursor))["_reader"]
        old = {p[1]: p[2] for p in upgraded.bookkeeping["problems"] if p[0] == "translate-settings"}
        assert remembered == old


def test_once_after_the_upgrade_reads_and_checks_again_only_what_it_must(upgraded: Upgraded) -> None:
    assert upgraded.once.returncode == 0, upgraded.once.stderr[-3000:]
    if upgraded.start == "revision-0004":
        # Everything was read and checked under these very settings: nothing is again.
        assert not upgraded.reads_again
        assert upgraded.checks_all == {lang: False for lang in LANGUAGES}
        assert "0 item(s) read" in upgraded.once.stdout, upgraded.once.stdout
    else:
        # The release remembered neither how it read nor what it checked under: the first
        # run reads and checks everything (and finds all of it current, see above).
        assert upgraded.reads_again
        assert upgraded.checks_all == {lang: True for lang in LANGUAGES}
        assert "7 item(s) read" in upgraded.once.stdout, upgraded.once.stdout
