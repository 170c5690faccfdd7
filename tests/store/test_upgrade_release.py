"""A state directory made by release 2c050c3 upgrades in place, keeps its history, and
publishes what the release did, better translated.

``tests/data/state-release-2c050c3/`` holds that release's store, the sample articles and
config it ran on, and the feeds it published (its README says how it was made). Opening
the store with this code brings it to the newest revision with every row kept. The
translation rules changed since (names protected, numbers and typography finished, see
``syndicate/translate/``), so the first ``syndicate once`` redoes every translation the
new rules touch, once: the entries keep their ids, their publication dates and their
place in the archives; a second ``once`` then translates and writes nothing.

The same state is also upgraded from revision 0004: first the last code at that revision
(from this checkout's history) runs ``once`` on it, keeping its bookkeeping the way 0004
did (the reader fingerprint inside the source's cursor, each language's translate
settings among the reported problems); then this code's ``once`` must not read the
source again.
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
from syndicate.work import _reader_fingerprint
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
        "translations": table(
            db, "translations", "article_id, language, engine, model, title, body, source_hash, updated"
        ),
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
    reads_again: bool  # whether the next poll reads the source in full
    once: subprocess.CompletedProcess[str]
    feeds: dict[tuple[str, str], bytes]  # what the first `once` published
    again: subprocess.CompletedProcess[str]  # a second `once`
    after_again: dict[str, list[tuple[object, ...]]]


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
        reads_again = store.sources.get("sample").reader != _reader_fingerprint(settings, settings.sources[0])
    opened = content(db)

    once = run_once(directory, REPO)
    after = content(db)
    feeds = {(lang, name): (directory / "feeds" / lang / name).read_bytes() for lang in LANGUAGES for name in FEEDS}
    again = run_once(directory, REPO)
    return Upgraded(
        request.param, directory, bookkeeping, before, opened, after, revision, pending, reads_again, once, feeds,
        again, content(db),
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


def test_once_after_the_upgrade_redoes_the_translations_once(upgraded: Upgraded) -> None:
    assert upgraded.once.returncode == 0, upgraded.once.stderr[-3000:]
    # The articles and their places in the feeds' history are the release's.
    assert upgraded.after["articles"] == upgraded.before["articles"]
    assert upgraded.after["feed_log"] == upgraded.before["feed_log"]
    # Every translation was checked against today's rules and made again, none lost.
    before = {(row[0], row[1]) for row in upgraded.before["translations"]}
    assert {(row[0], row[1]) for row in upgraded.after["translations"]} == before
    assert "translating them again" in upgraded.once.stderr + upgraded.once.stdout
    with sqlite3.connect(upgraded.directory / ".syndicate" / "syndicate.db") as conn:
        assert all(rules for (rules,) in conn.execute("SELECT rules FROM translations"))
    # And only once: the next run translates nothing and writes nothing.
    assert upgraded.again.returncode == 0, upgraded.again.stderr[-3000:]
    assert upgraded.after_again == upgraded.after
    assert "0 segment(s) translated" in upgraded.again.stdout and "0 file(s) written" in upgraded.again.stdout, (
        upgraded.again.stdout
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", FEEDS)
def test_feeds_keep_the_release_entries(upgraded: Upgraded, language: str, name: str) -> None:
    """Same entries, ids, order and publication dates as the release's feeds; the
    translations in them are the new rules' (and a second run rewrites no byte)."""
    import feedparser

    assert upgraded.once.returncode == 0, upgraded.once.stderr[-3000:]
    mine = feedparser.parse(upgraded.feeds[(language, name)]) if name != "feed.json" else None
    theirs = feedparser.parse((RELEASE / "feeds" / language / name).read_bytes()) if name != "feed.json" else None
    if name == "feed.json":
        ours, release = (
            json.loads(upgraded.feeds[(language, name)]),
            json.loads((RELEASE / "feeds" / language / name).read_bytes()),
        )
        assert [(i["id"], i["date_published"]) for i in ours["items"]] == [
            (i["id"], i["date_published"]) for i in release["items"]
        ]
    else:
        assert mine is not None and theirs is not None
        assert [(e.id, e.get("published")) for e in mine.entries] == [
            (e.id, e.get("published")) for e in theirs.entries
        ]
    assert (upgraded.directory / "feeds" / language / name).read_bytes() == upgraded.feeds[(language, name)]


def test_the_starting_points_keep_their_bookkeeping_as_they_did(upgraded: Upgraded) -> None:
    ((source, cursor),) = upgraded.bookkeeping["cursors"]
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
    if upgraded.start == "revision-0004":  # carried over as it was
        ((_, old_cursor),) = upgraded.bookkeeping["cursors"]
        assert reader == json.loads(str(old_cursor))["_reader"]
        # The settings each language was checked under now include the translation
        # rules, which changed: checked again once, under a new fingerprint.
        old = {p[1]: p[2] for p in upgraded.bookkeeping["problems"] if p[0] == "translate-settings"}
        assert sorted(old) == sorted(remembered) and all(remembered[k] != old[k] for k in old)


def test_once_after_the_upgrade_reads_again_only_what_it_must(upgraded: Upgraded) -> None:
    assert upgraded.once.returncode == 0, upgraded.once.stderr[-3000:]
    if upgraded.start == "revision-0004":
        # Everything was read under these very settings: nothing is read again.
        assert not upgraded.reads_again
        assert "0 item(s) read" in upgraded.once.stdout, upgraded.once.stdout
    else:
        # The release did not remember how it read: the first run reads everything.
        assert upgraded.reads_again
        assert "7 item(s) read" in upgraded.once.stdout, upgraded.once.stdout
    assert "0 item(s) read" in upgraded.again.stdout, upgraded.again.stdout
