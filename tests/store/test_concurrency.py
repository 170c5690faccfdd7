"""Two writers at once on one store: no duplicate, no unique-constraint failure, no lost count.

Threads share one :class:`Store` (its connection pool), as the daemon's poller, translator
and web server threads do; on PostgreSQL that is the same race two worker processes run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from syndicate.store import Store
from syndicate.store.rows import article_body
from syndicate.store.schema import articles, memory, translations
from syndicate.translate.service import MemoryEntry
from tests.store.conftest import NOW, article, translation


def together(*jobs: Callable[[], None], rounds: int = 1) -> None:
    """Run the jobs in threads released at the same moment; re-raise the first failure."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            for _ in range(rounds):
                job()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    if errors:
        raise errors[0]


def test_two_writers_upsert_the_same_articles(store: Store) -> None:
    batch = [article(f"item-{n:02d}") for n in range(50)]
    statuses: list[str] = []

    def poll() -> None:
        statuses.extend(store.articles.upsert(a, NOW)[1] for a in batch)

    together(poll, poll)
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar_one() == 50
        slugs = list(conn.execute(select(articles.c.slug)).scalars())
    assert sorted(slugs) == [f"title-item-{n:02d}" for n in range(50)]  # one row each, under its plain slug
    assert statuses.count("new") == 50 and statuses.count("unchanged") == 50


def test_same_title_different_articles_get_distinct_slugs(store: Store) -> None:
    # Two sources publish different articles with one title at the same moment, many times.
    def writer(source: str) -> Callable[[], None]:
        return lambda: [
            store.articles.upsert(article(f"{source}-{n}", "Breaking news", source=source), NOW) for n in range(25)
        ]  # type: ignore[func-returns-value]

    together(writer("left"), writer("right"))
    with store.connect() as conn:
        rows = conn.execute(select(articles.c.source, articles.c.key, articles.c.slug)).all()
    assert len(rows) == 50
    slugs = sorted(r.slug for r in rows)
    assert slugs == sorted(["breaking-news"] + [f"breaking-news-{n}" for n in range(2, 51)])


def test_two_translators_store_the_same_translation(store: Store) -> None:
    ids = [store.articles.upsert(article(f"a{n}"), NOW)[0].id for n in range(30)]
    written: list[bool] = []

    def translate() -> None:
        written.extend(store.translations.put(translation(i)) for i in ids)

    together(translate, translate)
    assert written.count(True) == 30  # each stored once; the other put found it there
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(translations)).scalar_one() == 30


def test_memory_and_stats_add_up_under_concurrency(store: Store) -> None:
    pairs = [(f"Segment {n}.", f"Segmento {n}.") for n in range(200)]

    def translator(offset: int) -> Callable[[], None]:
        def job() -> None:
            # Overlapping halves of the same segments, and one counter bumped each round.
            rows = [((source, ""), MemoryEntry(target), "") for source, target in pairs[offset : offset + 150]]
            store.memory.put("apertium", "m", "en", "es", rows, NOW + timedelta(seconds=offset))
            store.stats.bump({("es", "apertium", "translated"): 1, ("es", "apertium", f"by-{offset}"): 1})

        return job

    together(translator(0), translator(50), translator(25), rounds=20)
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(memory)).scalar_one() == 200
    found, rejected = store.memory.get("apertium", "m", "en", "es", [(s, "") for s, _ in pairs])
    assert {s: e.text for (s, _), e in found.items()} == dict(pairs) and not rejected
    counts = store.stats.all()[("es", "apertium")]
    assert counts == {"translated": 60, "by-0": 20, "by-50": 20, "by-25": 20}


def test_two_pollers_record_their_polls(store: Store) -> None:
    from syndicate.store.sources_state import PollRecord

    record = PollRecord(started=NOW, duration=0.1, outcome="failed", error="timeout")

    def poller() -> None:
        store.sources.record_poll("sample", record)

    together(poller, poller, rounds=15)
    status = store.sources.get("sample")
    assert status.polls == 30 and status.failures_in_row == 30


def test_two_publishers_of_a_new_language(store: Store) -> None:
    # Both find no feed_state row for the language and create it at once.
    ids = [store.articles.upsert(article(f"p{n}"), NOW)[0].id for n in range(6)]
    from syndicate.models import Lang

    def publish() -> None:
        store.history.place(Lang("eo"), list(reversed(ids)), feed_size=2)

    together(publish, publish, publish)
    layout = store.history.place(Lang("eo"), list(reversed(ids)), feed_size=2)
    assert sorted(layout.current + tuple(i for p in layout.pages for i in p.article_ids)) == sorted(ids)


def test_a_slug_taken_between_look_up_and_insert_is_retried(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    # Another writer's transaction holds a new article titled "Scoop", not yet committed:
    # our writer cannot see it when it looks for a free slug, so on PostgreSQL its insert
    # waits on the unique index, fails when the other commits, and retries "scoop-2" in
    # a savepoint. (SQLite makes our writer wait for the write lock instead.)
    other = article("theirs", "Scoop")
    result: list[str] = []
    caplog.set_level(logging.DEBUG, logger="syndicate.store.articles")
    with store.engine.connect() as conn:
        conn.execution_options(syndicate_write=True)
        with conn.begin():
            conn.execute(
                articles.insert().values(
                    source=other.source,
                    key=other.key,
                    slug="scoop",
                    title=other.title,
                    body=article_body(other),
                    content_hash=other.content_hash,
                    first_seen=NOW,
                    updated=NOW,
                )
            )
            writer = threading.Thread(
                target=lambda: result.append(store.articles.upsert(article("ours", "Scoop"), NOW)[0].slug)
            )
            writer.start()
            time.sleep(1.0)  # let it reach its insert (PostgreSQL) or the lock (SQLite)
        writer.join(timeout=30)
    assert result == ["scoop-2"]
    if store.engine.dialect.name == "postgresql":
        assert "slug scoop taken concurrently" in caplog.text
