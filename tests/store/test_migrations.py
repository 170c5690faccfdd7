"""Versioned migrations: a new store is made at head, old stores upgrade in place, and
every path ends at exactly the schema ``schema.py`` declares."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, select, text

from syndicate.errors import StoreError
from syndicate.models import Lang
from syndicate.store import Store, migrations, schema
from syndicate.store.migrations import HEAD
from syndicate.store.schema import changes
from syndicate.translate.service import MemoryEntry
from tests.conftest import DATA

FIXTURES = {
    "previous-release": DATA / "state-previous-release" / "syndicate.db",
    "release-2c050c3": DATA / "state-release-2c050c3" / "syndicate.db",
}
#: What must survive an upgrade, row for row (the columns every release had).
KEPT = {
    "articles": "id, source, key, slug, url, title, body, content_hash, first_seen, updated",
    "translations": "article_id, language, engine, model, title, body, source_hash, updated",
    "memory": "key, engine, model, source_language, target_language, source_text, target_text, created",
    "stats": "language, engine, name, value",
    "feed_log": "language, article_id, seq, page",
}


def schema_differences(store: Store) -> list[object]:
    """What Alembic finds different between the store and schema.py. It cannot compare
    an index on an expression (ix_articles_rank): tests/store/test_query_plans.py checks
    that one through the query plan, on new and migrated stores."""
    with store.engine.connect() as conn, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index")
        return list(compare_metadata(MigrationContext.configure(conn), schema.metadata))


def rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as conn:
        return {t: sorted(conn.execute(f"SELECT {cols} FROM {t}").fetchall()) for t, cols in KEPT.items()}


def counter(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(changes.c.value).where(changes.c.name == "store")).scalar_one())


def test_head_constant_is_the_newest_revision() -> None:
    # Opening a store compares its version with HEAD without loading Alembic: they must agree.
    script = ScriptDirectory(str(migrations.FOLDER))
    assert script.get_heads() == [HEAD]
    assert [r.revision for r in script.walk_revisions()][-1] == migrations.BASELINE


def test_a_new_store_is_made_at_head(store_url: str) -> None:
    with Store.from_url(store_url) as store:
        assert store.revision() == HEAD
        assert schema_differences(store) == []
        assert counter(store) == 0  # the change counter's row exists from the start


def test_the_revisions_from_nothing_give_the_same_schema(store_url: str) -> None:
    # 0001 (the release's tables) then 0002, run by Alembic on an empty database, must end
    # where a new store (made from schema.py directly) does.
    engine = create_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), "head")  # type: ignore[arg-type]
    engine.dispose()
    with Store.from_url(store_url) as store:
        assert store.revision() == HEAD
        assert schema_differences(store) == []
        assert counter(store) == 0


def _problem_digest(fingerprint: str) -> str:
    """What revision 0004's ``store.problems.is_new("translate-settings", language, fingerprint)`` stored."""
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:32]


def _bookkeeping(store_url: str) -> dict[str, object]:
    """The cursors and the problem rows as plain SQL reads them."""
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            cursors = dict(conn.execute(text("SELECT source, cursor FROM source_state")).all())
            problems = sorted(conn.execute(text("SELECT scope, subject, fingerprint FROM reported_problem")).all())
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    return {"cursors": {k: json.loads(v) for k, v in cursors.items()}, "problems": problems, "tables": tables}


def test_the_bookkeeping_moves_out_of_cursors_and_problems(store_url: str) -> None:
    # Revision 0004 kept the reader fingerprint as "_reader" inside the source's own
    # cursor, and each language's translate settings as a reported problem.
    settings_es, settings_ca = "fingerprint-es", "fingerprint-ca"
    engine = create_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), "0004")  # type: ignore[arg-type]
        state = (
            "INSERT INTO source_state (source, cursor, items_new, items_updated, items_failed, failures_in_row, polls)"
        )
        conn.execute(
            text(f"{state} VALUES ('sample', :c, 0, 0, 0, 0, 1)"),
            {"c": json.dumps({"_reader": "1fc0781831f75ae5929c2699", "files": {"a.txt": "12:34"}})},
        )
        conn.execute(
            text(f"{state} VALUES ('wire', :c, 0, 0, 0, 0, 1)"), {"c": json.dumps({"url": "https://x.example/feed"})}
        )
        conn.execute(
            text("INSERT INTO reported_problem (scope, subject, fingerprint) VALUES (:s, :j, :f)"),
            [
                {"s": "translate-settings", "j": "es", "f": _problem_digest(settings_es)},
                {"s": "translate-settings", "j": "ca", "f": _problem_digest(settings_ca)},
                {"s": "item:sample", "j": "bad.txt", "f": "f00"},
                {"s": "translate", "j": "en->fr", "f": "1,2"},
            ],
        )  # fmt: skip
    engine.dispose()
    at_0004 = _bookkeeping(store_url)

    with Store.from_url(store_url) as store:
        assert store.revision() == HEAD
        assert schema_differences(store) == []
        sample, wire = store.sources.get("sample"), store.sources.get("wire")
        assert (sample.cursor, sample.reader) == ({"files": {"a.txt": "12:34"}}, "1fc0781831f75ae5929c2699")
        assert (wire.cursor, wire.reader) == ({"url": "https://x.example/feed"}, None)  # never read under a fingerprint
        # The settings stay current: the first run after the upgrade checks no article again.
        assert not store.translations.settings_changed(Lang("es"), settings_es)
        assert not store.translations.settings_changed(Lang("ca"), settings_ca)
        assert store.translations.settings_changed(Lang("es"), settings_ca)
        assert store.translations.settings_changed(Lang("fr"), settings_es)
        assert store.translations.recheck(Lang("es")) == []  # that run went over every article
    upgraded = _bookkeeping(store_url)
    assert upgraded["cursors"] == {"sample": {"files": {"a.txt": "12:34"}}, "wire": {"url": "https://x.example/feed"}}
    assert upgraded["problems"] == [("item:sample", "bad.txt", "f00"), ("translate", "en->fr", "1,2")]

    # And back: revision 0004's layout, value for value.
    engine = create_engine(store_url)
    with engine.begin() as conn:
        command.downgrade(migrations.config(conn), "0004")  # type: ignore[arg-type]
    engine.dispose()
    downgraded = _bookkeeping(store_url)
    assert downgraded == at_0004 and "translate_state" not in downgraded["tables"]


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_an_old_store_upgrades_in_place(fixture: str, tmp_path: Path) -> None:
    db = tmp_path / "syndicate.db"
    shutil.copy(FIXTURES[fixture], db)
    with sqlite3.connect(db) as conn:
        assert "alembic_version" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    before = rows(db)
    assert before["articles"] and before["translations"] and before["memory"]

    with Store.open(tmp_path) as store:
        assert store.revision() == HEAD
        assert schema_differences(store) == []
        assert counter(store) == 0
        assert store.articles.pending_translation(Lang("es")) == []  # nothing to translate again
        # The status page's counts (revision 0011) are counted once from what is stored.
        with store.connect() as conn:
            counted = set(conn.execute(text("SELECT language, engine, model, translations FROM translation_counts")))
            truth = set(
                conn.execute(
                    text("SELECT language, engine, model, COUNT(*) FROM translations GROUP BY language, engine, model")
                )
            )
        assert counted == truth and sum(n for *_, n in truth) == len(before["translations"])
        with store.connect() as conn:
            per_source = set(conn.execute(text("SELECT source, articles FROM article_counts")))
            assert per_source == set(conn.execute(text("SELECT source, COUNT(*) FROM articles GROUP BY source")))
        for language in {str(row[1]) for row in before["translations"]}:  # nothing waits, as the scan says
            found = len(store.articles.pending_translation(Lang(language)))
            assert store.articles.pending_count(Lang(language)) == found
    assert rows(db) == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    with Store.open(tmp_path) as again:  # reopening at head changes nothing
        assert again.revision() == HEAD
    assert rows(db) == before


def test_untranslated_is_filled_from_the_stored_body(tmp_path: Path) -> None:
    db = tmp_path / "syndicate.db"
    shutil.copy(FIXTURES["release-2c050c3"], db)
    with sqlite3.connect(db) as conn:
        article_id, body = conn.execute(
            "SELECT article_id, body FROM translations WHERE language = 'es' LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE translations SET body = ? WHERE article_id = ? AND language = 'es'",
            (json.dumps({**json.loads(body), "untranslated": 2}), article_id),
        )
    with Store.open(tmp_path) as store:
        with store.connect() as conn:
            filled = dict(
                conn.execute(text("SELECT article_id, untranslated FROM translations WHERE language = 'es'")).all()
            )
        assert filled[article_id] == 2 and sum(filled.values()) == 2
        assert store.articles.pending_translation(Lang("es")) == [article_id]


def test_a_store_from_the_first_release_gains_its_columns(tmp_path: Path) -> None:
    """A memory table without the `rejected` column (the first release's) is upgraded in place."""
    db = tmp_path / "syndicate.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE memory (key VARCHAR(64) PRIMARY KEY, engine VARCHAR(40) NOT NULL, model TEXT NOT NULL,"
            " source_language VARCHAR(35) NOT NULL, target_language VARCHAR(35) NOT NULL, source_text TEXT NOT NULL,"
            " target_text TEXT NOT NULL, created DATETIME NOT NULL)"
        )
        conn.execute(
            "INSERT INTO memory VALUES ('k', 'apertium', 'm', 'en', 'es', 'Hi.', 'Hola.', '2025-01-01 00:00:00')"
        )
    with Store.open(tmp_path) as store:
        assert store.revision() == HEAD
        store.memory.put(
            "apertium", "m", "en", "es", [(("Hello.", ""), MemoryEntry("Hola."), "")], datetime(2026, 1, 1, tzinfo=UTC)
        )
        assert store.memory.get("apertium", "m", "en", "es", [("Hello.", "")]) == (
            {("Hello.", ""): MemoryEntry("Hola.")},
            set(),
        )
    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(memory)")]
        assert conn.execute("SELECT rejected FROM memory WHERE key = 'k'").fetchone() == ("",)
    assert "rejected" in columns


def test_opening_a_store_at_head_does_not_load_alembic(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    probe = (
        "import sys, time; from pathlib import Path; from syndicate.store import Store;"
        "t = time.perf_counter(); s = Store.open(Path(sys.argv[1])); s.close();"
        "print(time.perf_counter() - t, 'alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True)
    seconds, loaded = out.stdout.split()
    assert loaded == "False", "a store at head must open without importing Alembic"
    assert float(seconds) < 0.3, seconds  # one row read: `syndicate once` with nothing to do must stay under 1 s


def test_two_processes_opening_a_new_store_at_once(tmp_path: Path) -> None:
    opened: list[str | None] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def open_it() -> None:
        try:
            start.wait()
            with Store.open(tmp_path) as store:
                opened.append(store.revision())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert opened == [HEAD] * 3


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://syndicate:s3cret@127.0.0.1:1/syndicate", "127.0.0.1"),
        ("sqlite:////nonexistent-folder/deeper/syndicate.db", "nonexistent-folder"),
        ("nosuchdb://somewhere/x", "nosuchdb"),
    ],
)
def test_an_unreachable_store_is_a_store_error_without_the_password(url: str, shown: str) -> None:
    with pytest.raises(StoreError) as caught:
        Store.from_url(url)
    assert shown in str(caught.value) and "s3cret" not in str(caught.value)


RELEASE_COMMIT = "2c050c3"


@pytest.fixture(scope="module")
def release_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Release 2c050c3's ``syndicate`` package, from this checkout's history (git archive)."""
    repo = Path(__file__).resolve().parents[2]
    folder = tmp_path_factory.mktemp("release-code")
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", RELEASE_COMMIT, "syndicate"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        pytest.skip(f"commit {RELEASE_COMMIT} is not in this checkout's history (a shallow clone?)")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def test_a_postgresql_store_made_by_the_release_upgrades(release_code: Path, fresh_postgres_url: str) -> None:
    # The release's own code creates its tables on PostgreSQL (whose default constraint
    # names, e.g. articles_slug_key, differ from schema.py's) and stores an article.
    script = (
        "import sys; from datetime import UTC, datetime\n"
        "from syndicate.models import Article, Paragraph\n"
        "from syndicate.store import SqliteStore\n"
        "store = SqliteStore.from_url(sys.argv[1])\n"
        "store.upsert_article(Article(source='s', key='k', title='Old news', blocks=(Paragraph('p'),)),"
        " datetime(2026, 1, 1, tzinfo=UTC))\n"
        "store.memory_put('apertium', 'm', 'en', 'es', [('Hello.', 'Hola.')], datetime(2026, 1, 1, tzinfo=UTC))\n"
    )
    made = subprocess.run(
        [sys.executable, "-c", script, fresh_postgres_url], cwd=release_code, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(release_code)}, check=False, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr[-2000:]
    engine = create_engine(fresh_postgres_url)
    with engine.connect() as conn:
        assert not engine.dialect.has_table(conn, "alembic_version")
    engine.dispose()

    with Store.from_url(fresh_postgres_url) as store:
        assert store.revision() == HEAD
        assert schema_differences(store) == []
        assert [s.article.title for s in store.articles.all()] == ["Old news"]
        # A row the release wrote reads back under the key it had (no rules then).
        assert store.memory.get("apertium", "m", "en", "es", [("Hello.", "")]) == (
            {("Hello.", ""): MemoryEntry("Hola.")},
            set(),
        )
        new, status = store.articles.upsert(
            replace(store.articles.all()[0].article, key="k2"), datetime(2026, 1, 2, tzinfo=UTC)
        )
        assert status == "new" and new.slug == "old-news-2"


def test_a_store_from_a_newer_syndicate_is_refused_clearly(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    with sqlite3.connect(tmp_path / "syndicate.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path)
    assert "0099" in str(caught.value) and "newer syndicate" in str(caught.value)
    with sqlite3.connect(tmp_path / "syndicate.db") as conn:  # and left as it was
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0099",)]


def test_a_failed_upgrade_changes_nothing(tmp_path: Path) -> None:
    # A body that is not JSON makes revision 0002 fail half-way (after it added columns
    # and rebuilt the articles table): the one transaction it runs in is rolled back.
    db = tmp_path / "syndicate.db"
    shutil.copy(FIXTURES["release-2c050c3"], db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE translations SET body = 'not json' WHERE rowid = (SELECT min(rowid) FROM translations)")
        schema_before = sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    before = rows(db)
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path)
    assert "cannot upgrade the store" in str(caught.value) and caught.value.hint
    with sqlite3.connect(db) as conn:
        assert sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()) == schema_before
    assert rows(db) == before


def test_compressed_archive_documents_are_written_back_whole_when_the_store_is_downgraded(tmp_path: Path) -> None:
    # Revision 0016 stores frozen documents compressed; the revision before reads a body
    # as the document itself, so going back decompresses them.
    document = b"<feed>" + b"<entry>el presupuesto municipal</entry>" * 200 + b"</feed>"
    with Store.open(tmp_path) as store:
        store.history.freeze(Lang("es"), 1, {"atom": document})
        url = str(store.engine.url)
    engine = create_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT length(body) FROM archive_documents")).scalar_one() < len(document) / 5
        command.downgrade(migrations.config(conn), "0015")  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM archive_documents")).scalar_one() == document
        assert "size" not in {c["name"] for c in inspect(conn).get_columns("archive_documents")}
    engine.dispose()
