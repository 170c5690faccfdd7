"""``article_filter``: which articles of a source its keyword filters publish.

A source without ``include``/``exclude`` terms has no rows: every one of its articles is
published. A row says whether its article is published, under which filters (their
digest) and from which content (its hash) that was decided, and why not. A decision that
changes (a new article held back, an edited one let through, filters loosened) stamps
the article's ``seq`` in the same transaction, so the next publish sees a change and adds
or removes the entry; a decision that stays the same writes nothing a publish looks at.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import delete, false, func, or_, select

from syndicate.store import counts
from syndicate.store.rows import insert
from syndicate.store.schema import article_filter, articles, next_change

if TYPE_CHECKING:
    from syndicate.store.base import Store

#: Rows written per transaction (a first decision on a long history: thousands).
_BATCH = 500


class FilterRepository:
    """Reads and writes the stored decisions of the sources' keyword filters."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def undecided(self, source: str, rules: str) -> list[int]:
        """Ids of ``source``'s articles with no decision under the filters ``rules`` names
        for their content as it is now (new, edited, or decided under other terms)."""
        f = article_filter
        query = (
            select(articles.c.id)
            .select_from(articles.outerjoin(f, f.c.article_id == articles.c.id))
            .where(
                articles.c.source == source,
                or_(f.c.article_id.is_(None), f.c.rules != rules, f.c.content_hash != articles.c.content_hash),
            )
            .order_by(articles.c.id)
        )
        with self.store.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def decide(self, decisions: Mapping[int, tuple[str, str, bool, str]]) -> int:
        """Store ``{article id: (rules, content hash, kept, reason)}``; return how many
        articles changed between published and held back (their ``seq`` is stamped)."""
        ids = sorted(decisions)
        moved = 0
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            with self.store.transaction() as conn:
                before = dict(
                    conn.execute(
                        select(article_filter.c.article_id, article_filter.c.kept).where(
                            article_filter.c.article_id.in_(chunk)
                        )
                    ).all()
                )
                present = set(conn.execute(select(articles.c.id).where(articles.c.id.in_(chunk))).scalars())
                rows = [
                    {
                        "article_id": aid,
                        "rules": decisions[aid][0],
                        "content_hash": decisions[aid][1],
                        "kept": decisions[aid][2],
                        "reason": decisions[aid][3][:500],
                    }
                    for aid in chunk
                    if aid in present  # deleted meanwhile: nothing to decide
                ]
                if not rows:
                    continue
                statement = insert(conn, article_filter)
                conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=["article_id"],
                        set_={
                            "rules": statement.excluded.rules,
                            "content_hash": statement.excluded.content_hash,
                            "kept": statement.excluded.kept,
                            "reason": statement.excluded.reason,
                        },
                    ),
                    rows,
                )
                # No row read as "published": a first decision that holds back changes it.
                changed = [
                    row["article_id"] for row in rows if bool(before.get(row["article_id"], True)) != row["kept"]
                ]
                if changed:
                    ids = [int(str(i)) for i in changed]
                    was = counts.state_of(conn, ids)
                    conn.execute(articles.update().where(articles.c.id.in_(changed)).values(seq=next_change(conn)))
                    counts.moved(conn, was, counts.state_of(conn, ids))
                    moved += len(changed)
        return moved

    def forget(self, keep_sources: Collection[str]) -> int:
        """Drop the decisions of the articles of every source not in ``keep_sources`` (its
        filters were removed); those held back are published again (their ``seq`` is
        stamped). Returns how many were held back."""
        f = article_filter
        of_others = select(articles.c.id).where(articles.c.source.not_in(list(keep_sources)))
        with self.store.connect() as conn:
            # No decision at all (no source has filters): nothing to look up per article.
            any_row = conn.execute(select(f.c.article_id).limit(1)).first()
            if any_row is not None:
                any_row = conn.execute(select(f.c.article_id).where(f.c.article_id.in_(of_others)).limit(1)).first()
        if any_row is None:
            return 0  # the usual case: nothing to forget, no write lock taken
        with self.store.transaction() as conn:
            held = [
                int(i)
                for i in conn.execute(
                    select(f.c.article_id).where(f.c.article_id.in_(of_others), f.c.kept == false())
                ).scalars()
            ]
            conn.execute(delete(f).where(f.c.article_id.in_(of_others)))
            if held:
                was = counts.state_of(conn, held)
                conn.execute(articles.update().where(articles.c.id.in_(held)).values(seq=next_change(conn)))
                counts.moved(conn, was, counts.state_of(conn, held))
        return len(held)

    def held_back(self) -> set[int]:
        """The ids of the articles the sources' filters hold back."""
        query = select(article_filter.c.article_id).where(article_filter.c.kept == false())
        with self.store.connect() as conn:
            return {int(i) for i in conn.execute(query).scalars()}

    def counts(self) -> dict[str, tuple[int, int]]:
        """{source: (articles published, articles held back)} of the sources with decisions."""
        query = (
            select(articles.c.source, article_filter.c.kept, func.count())
            .select_from(article_filter.join(articles, articles.c.id == article_filter.c.article_id))
            .group_by(articles.c.source, article_filter.c.kept)
        )
        out: dict[str, list[int]] = {}
        with self.store.connect() as conn:
            for source, kept, n in conn.execute(query):
                out.setdefault(str(source), [0, 0])[0 if kept else 1] += int(n)
        return {source: (kept, held) for source, (kept, held) in out.items()}
