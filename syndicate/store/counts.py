"""Counts kept as the work happens, so the status page reads a few rows whatever the history
(issue 23, part 4). Each is changed in the transaction of the write it counts:

- ``translation_counts``: stored translations per language, engine and model;
- ``article_counts``: articles per source;
- ``current_counts``: per language and source, the translations that are *current*, by
  the rule :meth:`~syndicate.store.articles.ArticleRepository.pending_translation`
  applies: nothing left untranslated, and made from the article's content (or written
  after the article last changed). An article of a source without a current translation
  in a language is one the next pass into it takes.

A write that can change whether a translation is current (an article's content, links or
change number; a translation stored, replaced or reviewed) reads the current state of the
translations it touches before and after, by primary key, and moves the counts by the
difference: one small read per write, never a scan. A migration that rewrites these rows
counts again from what it leaves (revision 0011 counts a store's history once, in SQL).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, bindparam, func, not_, select

from syndicate.store.rows import insert
from syndicate.store.schema import article_counts, articles, current_counts, translation_counts, translations

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: (article id, language) -> (source, current)
State = Mapping[tuple[int, str], tuple[str, bool]]


def current_rule() -> ColumnElement[bool]:
    """Whether a translation is current for its article (see the module docstring), as a
    SQL expression over ``articles`` and ``translations``."""
    made_from = func.substr(translations.c.source_hash, 1, func.length(articles.c.content_hash))
    return and_(
        translations.c.untranslated == 0,
        not_(and_(articles.c.seq > translations.c.seq, made_from != articles.c.content_hash)),
    )


#: :func:`state_of`'s two reads, built once: a translation put runs them twice, and
#: building the expression cost more than running it.
_STATE = select(articles.c.id, articles.c.source, translations.c.language, current_rule()).select_from(
    articles.join(translations, translations.c.article_id == articles.c.id)
)
_STATE_ALL = _STATE.where(articles.c.id.in_(bindparam("ids", expanding=True)))
_STATE_ONE = _STATE_ALL.where(translations.c.language == bindparam("language"))


def state_of(
    conn: Connection, article_ids: Iterable[int], language: str | None = None
) -> dict[tuple[int, str], tuple[str, bool]]:
    """Whether each translation of ``article_ids`` (into ``language`` only, if given) is current."""
    ids = sorted(set(article_ids))
    out: dict[tuple[int, str], tuple[str, bool]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = (
            conn.execute(_STATE_ALL, {"ids": chunk})
            if language is None
            else conn.execute(_STATE_ONE, {"ids": chunk, "language": language})
        )
        for aid, source, lang, current in rows:
            out[(int(aid), str(lang))] = (str(source), bool(current))
    return out


def moved(conn: Connection, before: State, after: State) -> None:
    """Move ``current_counts`` by what changed between two states of the same translations."""
    delta: Counter[tuple[str, str]] = Counter()
    for key in {*before, *after}:
        was, now = before.get(key), after.get(key)
        if was is not None and was[1]:
            delta[(key[1], was[0])] -= 1
        if now is not None and now[1]:
            delta[(key[1], now[0])] += 1
    for (language, source), n in delta.items():
        if n:
            add_current(conn, language, source, n)


def add_current(conn: Connection, language: str, source: str, n: int) -> None:
    c = current_counts.c
    stmt = insert(conn, current_counts).values(language=language, source=source, translations=n)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["language", "source"], set_={"translations": c.translations + n})
    )


def add_article(conn: Connection, source: str, n: int = 1) -> None:
    c = article_counts.c
    stmt = insert(conn, article_counts).values(source=source, articles=n)
    conn.execute(stmt.on_conflict_do_update(index_elements=["source"], set_={"articles": c.articles + n}))


def add_translation(conn: Connection, language: str, engine: str, model: str, n: int) -> None:
    c = translation_counts.c
    stmt = insert(conn, translation_counts).values(language=language, engine=engine, model=model, translations=n)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["language", "engine", "model"], set_={"translations": c.translations + n}
        )
    )


__all__ = ["add_article", "add_current", "add_translation", "current_rule", "moved", "state_of"]
