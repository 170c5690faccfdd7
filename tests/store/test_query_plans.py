"""The store's hot queries find their rows through an index, not by reading the history
(store revisions 0013, 0014 and 0017): at 100,000 articles the planner's other choices read
every segment of a language for each translation stored (20 ms a translation at 10,000)
and sorted every article for each chunk of a publish's news window (0.1 s a chunk).
Checked with SQLite's own query plans, on a new store and on one Alembic built from
nothing, as an old store is upgraded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, event

from syndicate.models import Lang
from syndicate.store import Store, migrations
from syndicate.store.archive import FeedHistory
from syndicate.store.publication import PublicationRepository
from tests.store.conftest import NOW, article, translation


def _store(tmp_path: Path, how: str) -> Store:
    url = f"sqlite:///{tmp_path / 'syndicate.db'}"
    if how == "migrated":
        engine = create_engine(url)
        with engine.begin() as conn:
            command.upgrade(migrations.config(conn), "head")  # type: ignore[arg-type]
        engine.dispose()
    return Store.from_url(url)


def _plans(store: Store, prefix: str, action: Callable[[], object]) -> list[str]:
    """SQLite's query plan of each statement starting with ``prefix`` that ``action`` runs."""
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if " ".join(statement.split()).upper().startswith(prefix):
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        action()
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert statements, f"no statement starting {prefix!r} was run"
    with store.engine.connect() as conn:
        return [
            " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            for statement, parameters in statements
        ]


@pytest.mark.parametrize("how", ["new", "migrated"])
def test_storing_a_translation_finds_its_segment_rows_by_article_and_language(tmp_path: Path, how: str) -> None:
    with _store(tmp_path, how) as store:
        ids = [store.articles.upsert(article(f"a{n}"), NOW)[0].id for n in range(3)]
        for aid in ids[:2]:
            store.translations.put(translation(aid, "es"))
        for plan in _plans(store, "DELETE FROM SEGMENT_USE", lambda: store.translations.put(translation(ids[2], "es"))):
            assert "article_id=? AND language=?" in plan, plan


@pytest.mark.parametrize("how", ["new", "migrated"])
def test_the_news_order_is_read_from_an_index_not_sorted(tmp_path: Path, how: str) -> None:
    with _store(tmp_path, how) as store:
        for n in range(5):
            store.articles.upsert(article(f"a{n}"), NOW)
        (plan,) = _plans(store, "SELECT ARTICLES.ID", lambda: PublicationRepository(store).newest(0, 3))
        assert "ix_articles_rank" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("how", ["new", "migrated"])
def test_what_changed_since_a_publish_is_read_by_change_number(tmp_path: Path, how: str) -> None:
    with _store(tmp_path, how) as store:
        ids = [store.articles.upsert(article(f"a{n}"), NOW)[0].id for n in range(4)]
        for aid in ids:
            store.translations.put(translation(aid, "es"))
        publication = PublicationRepository(store)
        plans = _plans(store, "SELECT TRANSLATIONS.ARTICLE_ID", lambda: publication.changed_since(0, 500))
        assert all("ix_translations_seq" in plan for plan in plans), plans
        assert publication.changed_since(0, 500) == set(ids) and publication.changed_since(0, 2) is None


def test_a_languages_sitemap_files_are_read_as_a_range_of_its_files(tmp_path: Path) -> None:
    with _store(tmp_path, "new") as store:
        publication = PublicationRepository(store)
        (plan,) = _plans(store, "SELECT PUBLISHED_FILE.PATH", lambda: publication.sitemap_files("es", "es/sitemap-"))
        assert "language=? AND path>? AND path<?" in plan, plan


@pytest.mark.parametrize("how", ["new", "migrated"])
def test_a_languages_open_and_touched_pages_are_read_by_page(tmp_path: Path, how: str) -> None:
    with _store(tmp_path, how) as store:
        ids = [store.articles.upsert(article(f"a{n}"), NOW)[0].id for n in range(12)]
        history = FeedHistory(store)
        history.place(Lang("es"), ids[:10][::-1], 3)  # ten entries: pages and an open feed
        plans = _plans(store, "SELECT FEED_LOG.ARTICLE_ID", lambda: history.advance(Lang("es"), ids[10:], 3, ids[10:]))
        by_page = [plan for plan in plans if "page" in plan]
        assert by_page and all("ix_feed_log_page" in plan for plan in by_page), plans


def test_what_changed_reads_a_bounded_number_of_rows_and_says_too_many_when_unsure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """changed_since reads at most a row per language of limit + 1 articles; reaching that
    many rows with no more than ``limit`` articles found is "too many" (None: the whole
    history is planned, which is always right)."""
    with _store(tmp_path, "new") as store:
        first, second = (store.articles.upsert(article(f"a{n}"), NOW)[0].id for n in range(2))
        for language in ("es", "ca", "eo"):
            store.translations.put(translation(first, language))
        publication = PublicationRepository(store)
        assert publication.changed_since(0, 2) == {first, second}
        monkeypatch.setattr("syndicate.store.publication._LANGUAGES_AT_MOST", 1)
        assert publication.changed_since(0, 2) is None  # 3 rows read, the cap: unsure
        monkeypatch.setattr("syndicate.store.publication._LANGUAGES_AT_MOST", 2)
        assert publication.changed_since(0, 2) == {first, second}  # 3 rows of at most 6


@pytest.mark.parametrize("how", ["new", "migrated"])
def test_whether_any_article_names_a_neighbour_is_one_lookup(tmp_path: Path, how: str) -> None:
    # Each publish asks; when no article names one, the answer read every article.
    from dataclasses import replace

    from syndicate.models import Ref

    with _store(tmp_path, how) as store:
        for n in range(5):
            store.articles.upsert(article(f"a{n}"), NOW)
        publication = PublicationRepository(store)
        (plan,) = _plans(store, "SELECT ARTICLES.ID", publication.any_links)
        # The partial index holds only the articles that name one: scanning it is a lookup.
        assert plan.endswith("INDEX ix_articles_linked"), plan
        assert not publication.any_links()
        store.articles.upsert(replace(article("a9"), next=Ref(url="https://x.example/a8", title="Older")), NOW)
        assert publication.any_links()
