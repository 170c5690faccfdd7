"""Translations: one row per article + language.

A put that changes nothing writes nothing (and says so); a real change stamps the row's
``seq``. ``updated`` (what readers see as a new version) moves only when the text readers
read changes, not when metadata (tags, summary, alt text) is translated for the first time.

Beside them, ``translate_state`` keeps per language the settings its last complete pass
went by (:meth:`TranslationRepository.settings_changed`): they decide which language an
article is translated from, which the articles' own rows cannot tell.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select

from syndicate.models import Lang, Translation
from syndicate.store.rows import insert, stored_translation, text_of, translation_body
from syndicate.store.schema import next_change, translate_state, translations

if TYPE_CHECKING:
    from syndicate.store.base import Store


class TranslationRepository:
    """The ``translations`` table, and ``translate_state`` (one row per language)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, article_id: int, language: Lang) -> Translation | None:
        with self.store.connect() as conn:
            row = conn.execute(
                select(translations).where(
                    translations.c.article_id == article_id, translations.c.language == language
                )
            ).mappings().first()
        return stored_translation(row) if row else None

    def for_language(self, language: Lang, ids: Iterable[int] | None = None) -> dict[int, Translation]:
        """article id -> translation in ``language``; only those of ``ids`` when given."""
        query = select(translations).where(translations.c.language == language)
        out: dict[int, Translation] = {}
        with self.store.connect() as conn:
            if ids is None:
                rows = conn.execute(query).mappings()
                return {r["article_id"]: stored_translation(r) for r in rows}
            wanted = sorted(set(ids))
            for start in range(0, len(wanted), 500):
                rows = conn.execute(query.where(translations.c.article_id.in_(wanted[start : start + 500]))).mappings()
                out.update((r["article_id"], stored_translation(r)) for r in rows)
        return out

    def put(self, t: Translation) -> bool:
        """Store a translation; True when something was written."""
        values = {
            "engine": t.engine,
            "model": t.model,
            "title": t.title,
            "body": translation_body(t),
            "source_hash": t.source_hash,
            "untranslated": t.untranslated,
        }
        where = and_(translations.c.article_id == t.article_id, translations.c.language == t.language)
        with self.store.connect() as conn:
            row = conn.execute(select(translations).where(where)).mappings().first()
        if row is not None and not _changes(row, values):
            return False  # nothing to write, and no write lock taken to find that out

        with self.store.transaction() as conn:
            seq: int | None = None
            if row is None:
                seq = next_change(conn)
                inserted = conn.execute(
                    insert(conn, translations)
                    .values(article_id=t.article_id, language=t.language, updated=t.updated, seq=seq, **values)
                    .on_conflict_do_nothing(index_elements=["article_id", "language"])
                    .returning(translations.c.article_id)  # (rowcount is -1 under implicit RETURNING)
                ).first()
                if inserted is not None:
                    return True
            # The row exists (or a concurrent writer just made it): change what differs.
            row = conn.execute(select(translations).where(where).with_for_update()).mappings().one()
            changed = _changes(row, values)
            if not changed:  # a concurrent writer stored the same translation first
                return False
            if "title" in changed or ("body" in changed and text_of(row["body"]) != text_of(values["body"])):
                # Only a change of the text readers read moves `updated`: a summary, tag
                # labels or alt text translated for the first time (a reader that finds
                # more metadata than the release before it) are no new version.
                changed["updated"] = t.updated
            changed["seq"] = seq if seq is not None else next_change(conn)
            conn.execute(translations.update().where(where).values(**changed))
            return True

    # -- the settings a language's last complete pass went by ----------------------------

    def settings_changed(self, language: Lang, fingerprint: str) -> bool:
        """True unless the last complete pass into ``language`` was made under ``fingerprint``
        (so any article's translation may now come from another source language)."""
        with self.store.connect() as conn:
            stored = conn.execute(
                select(translate_state.c.fingerprint).where(translate_state.c.language == language)
            ).scalar_one_or_none()
        return stored != _digest(fingerprint)

    def remember_settings(self, language: Lang, fingerprint: str) -> None:
        """A pass into ``language`` under ``fingerprint`` checked every article: the next
        one need not, until the fingerprint changes. Call it only once the pass finished."""
        digest = _digest(fingerprint)
        with self.store.transaction() as conn:
            stmt = insert(conn, translate_state).values(language=language, fingerprint=digest)
            conn.execute(stmt.on_conflict_do_update(index_elements=["language"], set_={"fingerprint": digest}))


def _digest(fingerprint: str) -> str:
    """What is stored of a fingerprint: fixed-size whatever the caller hands in, and the
    very value ``reported_problem`` held for it before revision 0005 (so it carried over)."""
    return hashlib.sha256(fingerprint.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _changes(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if row[k] != v}
