"""The status page's counts are kept as the work happens (issue 23, part 4): stored
translations per language, engine and model are counted in the transaction that stores
or replaces one, entries published come from the feed's sequence, pending work is counted
by the database, and none of it reads a row per article or per translation."""

from __future__ import annotations

import random
import re
from dataclasses import replace

from sqlalchemy import event, func, select

from syndicate.models import Lang, Ref
from syndicate.store import Store
from syndicate.store.overview import StoreOverview
from syndicate.store.schema import articles, translation_counts, translations
from tests.store.conftest import NOW, article, translation

ENGINES = [("apertium", "apertium:eng-spa@1"), ("apertium", "apertium:eng-spa@2"), ("argos", "argos:en-es@1.9")]


def _truth(store: Store) -> dict[tuple[str, str, str], int]:
    """What a full scan of the translations says."""
    t = translations.c
    with store.connect() as conn:
        rows = conn.execute(select(t.language, t.engine, t.model, func.count()).group_by(t.language, t.engine, t.model))
        return {(str(a), str(b), str(c)): int(n) for a, b, c, n in rows}


def _counted(store: Store) -> dict[tuple[str, str, str], int]:
    c = translation_counts.c
    with store.connect() as conn:
        rows = conn.execute(select(c.language, c.engine, c.model, c.translations).where(c.translations != 0))
        return {(str(a), str(b), str(m)): int(n) for a, b, m, n in rows}


def test_counts_follow_every_store_and_replacement(store: Store) -> None:
    """A seeded history of first translations, retranslations by the same model (no
    count moves), by another model or engine (one moves), and identical repeats."""
    rng = random.Random(23)
    ids = [store.articles.upsert(article(f"a{n}"), NOW)[0].id for n in range(30)]
    for step in range(300):
        aid, language = rng.choice(ids), rng.choice(["es", "ca", "eo"])
        engine, model = rng.choice(ENGINES)
        title = f"T{step % 4}"  # often the same text: a repeat writes nothing
        store.translations.put(
            translation(aid, language, engine=engine, model=model, title=title, source_hash=f"h{step % 3}")
        )
        if step % 50 == 49:
            assert _counted(store) == _truth(store)
    assert _counted(store) == _truth(store) and sum(_truth(store).values()) > 30


def _pending_truth(store: Store, language: str, sources: list[str] | None, listed: list[int]) -> int:
    """What a pass into ``language`` takes, as the translate stage finds it (rows, in Python)."""
    chosen = set(store.articles.pending_translation(Lang(language), sources)) | set(listed)
    if sources is not None:
        chosen &= set(store.articles.chosen(sources=sources))
    return len(chosen - store.filters.held_back())


def test_pending_counts_follow_every_write_path(store: Store) -> None:
    """A seeded history through every write that moves what is current: new articles,
    content edits (and edits undone), relinks, translations complete or with untranslated
    segments, made from old or current content, replaced, approved by an editor, held
    back and released by filters. After each step the kept counts give what the scan gives."""
    rng = random.Random(7)
    keys: dict[str, str] = {}  # article key -> source
    texts: dict[str, str] = {}
    for step in range(220):
        roll = rng.random()
        if roll < 0.25 or not keys:  # a new article, or a content edit / relink of one
            key = rng.choice([*keys, f"k{step}"]) if keys and rng.random() < 0.6 else f"k{step}"
            source = keys.get(key) or rng.choice(["desk", "wire"])
            text = rng.choice([texts.get(key, "one"), "two", "three"])
            stored = article(key, source=source, text=text)
            if rng.random() < 0.3:  # only a link moves
                stored = replace(stored, next=Ref(url=f"https://example.org/{step}"))
            store.articles.upsert(stored, NOW)
            keys[key], texts[key] = source, text
        else:
            row = store.articles.get(rng.randint(1, len(keys)))
            if row is None:
                continue
            with store.connect() as conn:
                content_hash = conn.execute(select(articles.c.content_hash).where(articles.c.id == row.id)).scalar_one()
            language = rng.choice(["es", "ca"])
            if roll < 0.7:
                current = content_hash if rng.random() < 0.8 else "stale"
                store.translations.put(
                    translation(
                        row.id,
                        language,
                        title=f"T{step}",
                        source_hash=f"{current}:en",
                        untranslated=rng.choice([0, 0, 0, 1]),
                    )
                )
            elif roll < 0.8:
                store.review.approve(Lang(language), row.id, editor="ed", now=NOW, via="test")
            elif roll < 0.83:  # the wire's filters removed from the config: its held articles go out again
                store.filters.forget(["desk"])
            else:
                kept = rng.random() < 0.5
                store.filters.decide({row.id: ("rules", content_hash, kept, "" if kept else "excluded")})
        if step % 20 == 19:
            listed = sorted(rng.sample(range(1, len(keys) + 1), k=min(3, len(keys))))
            for language in ("es", "ca"):
                for sources in (None, ["desk"]):
                    assert store.articles.pending_count(Lang(language), sources, also=listed) == _pending_truth(
                        store, language, sources, listed
                    ), (step, language, sources)
    assert _counted(store) == _truth(store)


def test_the_overview_reads_counts_not_rows(store: Store) -> None:
    ids = [store.articles.upsert(article(f"a{n}"), NOW)[0].id for n in range(12)]
    for aid in ids[:9]:
        store.translations.put(translation(aid, "es"))
    for aid in ids[:3]:  # made anew by Argos
        store.translations.put(translation(aid, "es", engine="argos", model="argos:en-es@1.9", title="Otro"))
    store.history.place(Lang("es"), ids[:9], feed_size=4)

    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        (es,) = StoreOverview(store).languages([Lang("es")], lambda _language: None)
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert (es.published, es.translated, es.pending) == (9, 9, 3)
    assert [(e.engine, e.translations) for e in es.engines] == [("apertium", 6), ("argos", 3)]
    # Every statement that reaches articles or translations is an aggregate.
    for statement in statements:
        if re.search(r"\bFROM (articles|translations)\b|\bJOIN (articles|translations)\b", statement):
            assert re.search(r"count\(", statement, re.IGNORECASE), statement


def test_a_filter_that_holds_back_or_releases_moves_what_is_current(store: Store) -> None:
    """Holding an article back, or releasing it when its source's filters are removed,
    stamps its change number: a translation that was current only because it was written
    after the article's last change (made from another text) is then stale. Both paths move
    the counts as the scan sees it."""
    wire = store.articles.upsert(article("w1", source="wire"), NOW)[0].id
    desk = store.articles.upsert(article("d1", source="desk"), NOW)[0].id
    for aid in (wire, desk):  # written after the article: current by the rule, whatever it was made from
        store.translations.put(translation(aid, "es", source_hash="another-text:en"))
    assert store.articles.pending_count(Lang("es")) == _pending_truth(store, "es", None, []) == 0
    store.filters.decide({wire: ("rules", "h", False, "excluded"), desk: ("rules", "h", False, "excluded")})
    assert store.articles.pending_count(Lang("es")) == _pending_truth(store, "es", None, []) == 0  # held: not taken
    store.filters.decide({desk: ("rules", "h", True, "")})  # desk published again: stale now, so it waits
    assert store.articles.pending_count(Lang("es")) == _pending_truth(store, "es", None, []) == 1
    # The wire's, translated again while held back: current again (written after the stamp).
    store.translations.put(translation(wire, "es", title="Otra vez", source_hash="another-text:en"))
    assert store.articles.pending_count(Lang("es")) == _pending_truth(store, "es", None, []) == 1
    store.filters.forget(["desk"])  # the wire's filters removed: its article goes out again, and waits too
    assert store.articles.pending_count(Lang("es")) == _pending_truth(store, "es", None, []) == 2
    assert _counted(store) == _truth(store)
