"""Translations: one row per article + language.

A put that changes nothing writes nothing (and says so); a real change stamps the row's
``seq``. ``updated`` (what readers see as a new version) moves only when the text readers
read changes, not when metadata (tags, summary, alt text) is translated for the first time.

Beside them, ``translate_state`` keeps per language the settings its articles were last
checked under (:meth:`TranslationRepository.settings_changed`), which decide the language
an article is translated from (the articles' own rows cannot tell), and the articles that
check found translated from another language, until they are redone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select

from syndicate.models import Lang, Translation
from syndicate.store.rows import insert, stored_translation, text_of, translation_body
from syndicate.store.schema import next_change, segment_use, translate_state, translations

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

    def rules_of(self, language: Lang) -> dict[int, tuple[str, str]]:
        """article id -> (engine, rules digest) of every translation into ``language``
        (light columns: what a changed rule is checked against)."""
        query = select(translations.c.article_id, translations.c.engine, translations.c.rules).where(
            translations.c.language == language
        )
        with self.store.connect() as conn:
            return {int(aid): (engine, rules or "") for aid, engine, rules in conn.execute(query)}

    def without_segments(self, language: Lang) -> list[int]:
        """Machine translations into ``language`` stored before translations kept their
        segments (what an editor reviews): redone once, from the memory."""
        query = select(translations.c.article_id).where(
            translations.c.language == language, translations.c.engine != "source",
            translations.c.body.not_like('%"segments": [%'),
        )
        with self.store.connect() as conn:
            return sorted(int(aid) for (aid,) in conn.execute(query))

    def put(self, t: Translation) -> bool:
        """Store a translation; True when something was written."""
        values = {
            "engine": t.engine,
            "model": t.model,
            "title": t.title,
            "body": translation_body(t),
            "source_hash": t.source_hash,
            "untranslated": t.untranslated,
            "confidence": t.confidence,
            "rules": t.rules,
            "corrected": t.corrected,
            "needs_review": t.needs_review,
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
                    _segment_use(conn, t)
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
            if "body" in changed:
                _segment_use(conn, t)
            return True

    # -- the settings that decide what each translation is made from ---------------------

    def settings_changed(self, language: Lang, fingerprint: str) -> bool:
        """True unless ``language``'s articles were last checked under ``fingerprint`` (so
        a translation may now have to come from another source language)."""
        with self.store.connect() as conn:
            stored = conn.execute(
                select(translate_state.c.fingerprint).where(translate_state.c.language == language)
            ).scalar_one_or_none()
        return stored != _digest(fingerprint)

    def recheck(self, language: Lang) -> list[int]:
        """The articles whose translation into ``language`` was made from another source
        language than the settings now say, when :meth:`settings_checked` last listed them
        (less those since found current)."""
        with self.store.connect() as conn:
            stored = conn.execute(
                select(translate_state.c.recheck).where(translate_state.c.language == language)
            ).scalar_one_or_none()
        return _ids(stored)

    def settings_checked(self, language: Lang, fingerprint: str, recheck: Iterable[int]) -> None:
        """Every article was checked under ``fingerprint``: ``recheck`` are those to redo."""
        digest, listed = _digest(fingerprint), json.dumps(sorted(set(recheck)))
        with self.store.transaction() as conn:
            stmt = insert(conn, translate_state).values(language=language, fingerprint=digest, recheck=listed)
            conn.execute(stmt.on_conflict_do_update(index_elements=["language"],
                                                    set_={"fingerprint": digest, "recheck": listed}))

    def rechecked(self, language: Lang, still: Iterable[int], considered: Iterable[int] | None = None) -> None:
        """After a pass: of the listed articles it ``considered``, only ``still`` remain to
        redo; articles listed meanwhile (an editor's correction) stay listed. Without
        ``considered``, the list becomes ``still``."""
        with self.store.transaction() as conn:
            if considered is None:
                listed = set(still)
            else:
                current = conn.execute(
                    select(translate_state.c.recheck).where(translate_state.c.language == language).with_for_update()
                ).scalar_one_or_none()
                listed = (set(_ids(current)) - set(considered)) | set(still)
            conn.execute(translate_state.update().where(translate_state.c.language == language)
                         .values(recheck=json.dumps(sorted(listed))))


def segment_digest(text: str) -> str:
    """What ``segment_use`` keys a source segment by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _segment_use(conn: Any, t: Translation) -> None:
    """Record which source segments ``t`` holds (what a correction of one reaches)."""
    conn.execute(segment_use.delete().where(segment_use.c.article_id == t.article_id,
                                            segment_use.c.language == t.language))
    digests = sorted({segment_digest(r.source) for r in t.segments})
    if digests:
        conn.execute(segment_use.insert(), [
            {"language": t.language, "digest": d, "article_id": t.article_id} for d in digests
        ])


def _ids(stored: str | None) -> list[int]:
    try:
        found = json.loads(stored or "[]")
    except ValueError:
        return []  # unreadable: the article rows still say what is pending
    return [int(i) for i in found if isinstance(i, int)] if isinstance(found, list) else []


def _digest(fingerprint: str) -> str:
    """What is stored of a fingerprint: fixed-size whatever the caller hands in, and the
    very value ``reported_problem`` held for it before revision 0005 (so it carried over)."""
    return hashlib.sha256(fingerprint.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _changes(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if row[k] != v}
