"""Each repository's contract, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from syndicate.models import Lang, Ref
from syndicate.store import Store
from syndicate.store.schema import articles, changes, reported_problem, translate_state, translations
from syndicate.store.sources_state import PollRecord
from syndicate.translate.service import MemoryEntry
from tests.store.conftest import NOW, article, translation

ES = Lang("es")


def seqs(store: Store) -> dict[int, int]:
    with store.connect() as conn:
        return {int(i): int(s) for i, s in conn.execute(select(articles.c.id, articles.c.seq))}


def test_article_upsert_reports_new_unchanged_relinked_updated(store: Store) -> None:
    first, status = store.articles.upsert(article("a"), NOW)
    assert status == "new" and first.slug == "title-a" and first.first_seen == first.updated == NOW
    seq_new = seqs(store)[first.id]
    assert seq_new > 0

    again, status = store.articles.upsert(article("a"), NOW + timedelta(hours=1))
    assert status == "unchanged" and again == first and seqs(store)[first.id] == seq_new

    relinked, status = store.articles.upsert(replace(article("a"), next=Ref("https://example.org/b", "B")), NOW)
    assert (
        status == "relinked" and relinked.updated == NOW and relinked.article.next == Ref("https://example.org/b", "B")
    )
    seq_relinked = seqs(store)[first.id]
    assert seq_relinked > seq_new

    later = NOW + timedelta(days=1)
    edited, status = store.articles.upsert(
        replace(article("a", text="A new first paragraph."), next=Ref("https://example.org/b", "B")), later
    )
    assert status == "updated" and edited.updated == later and edited.first_seen == NOW
    assert edited.id == first.id and edited.slug == first.slug
    assert seqs(store)[first.id] > seq_relinked


def test_slugs_are_unique_and_skip_reserved_names(store: Store) -> None:
    one, _ = store.articles.upsert(article("1", "Same title"), NOW)
    two, _ = store.articles.upsert(article("2", "Same title"), NOW)
    three, _ = store.articles.upsert(article("3", "Same title", source="other"), NOW)
    index, _ = store.articles.upsert(article("4", "Index"), NOW)
    assert [one.slug, two.slug, three.slug] == ["same-title", "same-title-2", "same-title-3"]
    assert index.slug == "index-2"  # "index" is each language's article list


def test_article_reads(store: Store) -> None:
    stored = [store.articles.upsert(article(k), NOW)[0] for k in ("c", "a", "b")]
    ids = [s.id for s in stored]
    assert store.articles.ids() == sorted(ids)
    assert [s.article.key for s in store.articles.all()] == ["c", "a", "b"]  # id order
    assert store.articles.many([ids[2], ids[0], 9999]) == [stored[0], stored[2]]
    assert store.articles.get(ids[1]) == stored[1] and store.articles.get(9999) is None
    a = article("a")
    assert store.articles.detected_language("sample", "a", a.content_hash) == "en"
    assert store.articles.detected_language("sample", "a", "another hash") is None


def test_pending_translation(store: Store) -> None:
    made = {k: store.articles.upsert(article(k), NOW)[0] for k in ("a", "b", "c", "d")}
    ids = [s.id for s in made.values()]

    def translated(key: str, **kwargs: object) -> bool:
        # As the translate stage stores it: made from the article's content, read as English.
        stored = store.articles.get(made[key].id)
        assert stored is not None
        return store.translations.put(
            translation(stored.id, source_hash=f"{stored.article.content_hash}:en", **kwargs)  # type: ignore[arg-type]
        )

    assert store.articles.pending_translation(ES) == ids
    for key in made:
        assert translated(key)
    assert store.articles.pending_translation(ES) == []
    assert store.articles.pending_translation(Lang("ca")) == ids

    store.articles.upsert(article("b", text="Edited."), NOW)  # its content changed after its translation
    store.articles.upsert(replace(article("a"), next=Ref("https://example.org/e", "E")), NOW)  # relinked only
    translated("c", untranslated=2)  # left segments untranslated
    assert store.articles.pending_translation(ES) == [made["b"].id, made["c"].id]
    translated("b", title="Editado")
    translated("c")
    assert store.articles.pending_translation(ES) == []


def test_translation_put_writes_only_real_changes(store: Store) -> None:
    article_id = store.articles.upsert(article("a"), NOW)[0].id
    t = translation(article_id)
    assert store.translations.put(t) is True
    assert store.translations.get(article_id, ES) == t

    def seq() -> int:
        with store.connect() as conn:
            return int(conn.execute(select(translations.c.seq)).scalar_one())

    def counter() -> int:
        with store.connect() as conn:
            return int(conn.execute(select(changes.c.value)).scalar_one())

    before = (seq(), counter())
    assert store.translations.put(replace(t, updated=NOW + timedelta(days=1))) is False
    assert (seq(), counter()) == before and store.translations.get(article_id, ES) == t

    # Metadata translated for the first time is stored, but is no new version.
    with_summary = replace(t, summary="Resumen.", updated=NOW + timedelta(days=2))
    assert store.translations.put(with_summary) is True
    got = store.translations.get(article_id, ES)
    assert got is not None and got.summary == "Resumen." and got.updated == NOW
    assert seq() > before[0]

    retitled = replace(with_summary, title="Otro título", updated=NOW + timedelta(days=3))
    assert store.translations.put(retitled) is True
    got = store.translations.get(article_id, ES)
    assert got is not None and got.updated == NOW + timedelta(days=3)

    partial = replace(retitled, untranslated=3)
    assert store.translations.put(partial) is True
    with store.connect() as conn:
        assert conn.execute(select(translations.c.untranslated)).scalar_one() == 3
    assert store.translations.get(article_id, ES) == partial


def test_translations_for_language(store: Store) -> None:
    ids = [store.articles.upsert(article(k), NOW)[0].id for k in ("a", "b", "c")]
    for article_id in ids:
        store.translations.put(translation(article_id))
    store.translations.put(translation(ids[0], "ca", title="Títol"))
    assert set(store.translations.for_language(ES)) == set(ids)
    assert set(store.translations.for_language(ES, ids=[ids[1], 9999])) == {ids[1]}
    assert store.translations.for_language(Lang("ca"))[ids[0]].title == "Títol"
    assert store.translations.for_language(Lang("eo")) == {}


def test_memory_keeps_the_first_translation(store: Store) -> None:
    hello, bad = ("Hello.", "r1"), ("Bad.", "r1")
    store.memory.put(
        "apertium",
        "m",
        "en",
        "es",
        [(hello, MemoryEntry("Hola.", 0.9, ("x",)), ""), (bad, MemoryEntry("Malo."), "length")],
        NOW,
    )
    store.memory.put("apertium", "m", "en", "es", [(hello, MemoryEntry("Buenas."), "")], NOW)
    assert store.memory.get("apertium", "m", "en", "es", [hello, bad, ("Unknown.", "r1")]) == (
        {hello: MemoryEntry("Hola.", 0.9, ("x",))},
        {bad},
    )
    assert store.memory.get("apertium", "other model", "en", "es", [hello]) == ({}, set())
    # Other protected terms, other rules: another entry.
    assert store.memory.get("apertium", "m", "en", "es", [("Hello.", "r2")]) == ({}, set())


def test_memory_replaces_on_request(store: Store) -> None:
    """`syndicate retranslate` puts what the engine says now in place of the old entry."""
    item = ("Hello.", "r1")
    store.memory.put("apertium", "m", "en", "es", [(item, MemoryEntry("Hola."), "")], NOW)
    store.memory.put("apertium", "m", "en", "es", [(item, MemoryEntry("Buenas.", 1.0), "")], NOW, replace=True)
    assert store.memory.get("apertium", "m", "en", "es", [item]) == ({item: MemoryEntry("Buenas.", 1.0)}, set())


def test_stats_add_up(store: Store) -> None:
    store.stats.bump({("es", "apertium", "translated"): 3, ("es", "apertium", "memory_hits"): 0})
    store.stats.bump({("es", "apertium", "translated"): 2, ("ca", "apertium", "translated"): 1})
    assert store.stats.all() == {("ca", "apertium"): {"translated": 1}, ("es", "apertium"): {"translated": 5}}


def test_source_state_counts_polls_and_failures(store: Store) -> None:
    ok = PollRecord(
        started=NOW, duration=1.23456, outcome="ok", items_new=2, etag='"v1"', cursor={"page": 2}, reader="r1"
    )
    first = store.sources.record_poll("sample", ok)
    assert (first.polls, first.failures_in_row, first.last_success, first.duration) == (1, 0, NOW, 1.235)
    assert (first.cursor, first.reader) == ({"page": 2}, "r1")  # the cursor is the source's alone
    rewritten = store.sources.record_poll("sample", replace(ok, cursor={"page": 3}, reader="r2"))
    assert (rewritten.cursor, rewritten.reader) == ({"page": 3}, "r2")
    store.sources.record_poll("sample", ok)
    failed = PollRecord(started=NOW + timedelta(hours=1), duration=0.5, outcome="failed", error="boom")
    store.sources.record_poll("sample", failed)
    second = store.sources.record_poll("sample", replace(failed, started=NOW + timedelta(hours=2)))
    assert (second.polls, second.failures_in_row, second.last_success, second.last_error) == (5, 2, NOW, "boom")
    assert store.sources.get("sample") == second
    store.sources.set_next_poll("sample", NOW + timedelta(hours=3))
    store.sources.set_next_poll("never-polled", NOW)
    assert store.sources.get("sample").next_poll == NOW + timedelta(hours=3)
    assert store.sources.get("never-polled").polls == 0 and store.sources.get("never-polled").next_poll == NOW
    assert store.sources.get("never-polled").reader is None
    recovered = store.sources.record_poll("sample", replace(ok, started=NOW + timedelta(hours=4)))
    assert (recovered.polls, recovered.failures_in_row, recovered.next_poll) == (6, 0, NOW + timedelta(hours=3))
    assert set(store.sources.all()) == {"never-polled", "sample"}


def test_translate_settings_are_remembered_per_language_with_what_is_left_to_redo(store: Store) -> None:
    es, ca = Lang("es"), Lang("ca")
    assert store.translations.settings_changed(es, "f1")  # never checked: check everything
    assert store.translations.recheck(es) == []
    store.translations.settings_checked(es, "f1", [7, 3, 3, 5])
    assert not store.translations.settings_changed(es, "f1")
    assert store.translations.recheck(es) == [3, 5, 7] and store.translations.recheck(ca) == []
    assert store.translations.settings_changed(es, "f2") and store.translations.settings_changed(ca, "f1")
    store.translations.rechecked(es, [5])  # after a pass: only 5 still to redo
    assert store.translations.recheck(es) == [5]
    store.translations.settings_checked(es, "f2", [])  # an upsert: the row is replaced, never duplicated
    assert store.translations.settings_changed(es, "f1") and not store.translations.settings_changed(es, "f2")
    assert store.translations.recheck(es) == []
    with store.connect() as conn:  # kept in a table of its own, not among the reported problems
        assert conn.execute(select(reported_problem)).all() == []
        assert len(conn.execute(select(translate_state)).all()) == 1


def test_reported_problems_once_per_change(store: Store) -> None:
    assert store.problems.is_new("sample", "item-1", "bad markup")
    assert not store.problems.is_new("sample", "item-1", "bad markup")
    other = type(store.problems)(store)  # another process, with its own view of the rows
    assert not other.is_new("sample", "item-1", "bad markup")
    assert other.is_new("sample", "item-1", "worse markup")
    store.problems.forget("sample", ["item-1"])
    fresh = type(store.problems)(store)
    assert fresh.is_new("sample", "item-1", "worse markup")


def test_websub_ping_counts(store: Store) -> None:
    store.websub.record_ping("https://hub.example/", ok=True, when=NOW)
    store.websub.record_ping("https://hub.example/", ok=False, when=NOW + timedelta(minutes=1), error="503")
    ping = store.websub.hubs()["https://hub.example/"]
    assert (ping.pings_ok, ping.pings_failed, ping.last_success, ping.outcome, ping.last_error) == (
        1,
        1,
        NOW,
        "failed",
        "503",
    )
