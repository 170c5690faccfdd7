"""Storing a translation replaces its article's ``segment_use`` rows in its language, and
must find them by the article, not by reading the language's whole history (store
revision 0013): at 100,000 articles, the planner's other choice read every segment of
every article in the language for each translation stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from syndicate.store import Store
from tests.store.conftest import NOW, article, translation


def test_storing_a_translation_finds_its_segment_rows_by_article_and_language(tmp_path: Path) -> None:
    with Store.from_url(f"sqlite:///{tmp_path / 'syndicate.db'}") as store:
        ids = [store.articles.upsert(article(f"a{n}"), NOW)[0].id for n in range(3)]
        for aid in ids[:2]:
            store.translations.put(translation(aid, "es"))
        statements: list[tuple[str, Any]] = []

        def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
            if statement.lstrip().upper().startswith("DELETE FROM SEGMENT_USE"):
                statements.append((statement, parameters))

        event.listen(store.engine, "before_cursor_execute", seen)
        try:
            store.translations.put(translation(ids[2], "es"))
        finally:
            event.remove(store.engine, "before_cursor_execute", seen)
        assert statements, "a stored translation replaces its segment rows"
        with store.engine.connect() as conn:
            for statement, parameters in statements:
                plan = " ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
                assert "article_id=? AND language=?" in plan, plan
