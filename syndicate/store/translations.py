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
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select

from syndicate.models import Lang, Translation
from syndicate.store import counts
from syndicate.store.rows import insert, segments_json, segments_of, stored_translation, text_of, translation_body
from syndicate.store.schema import (
    next_change,
    segment_use,
    translate_state,
    translation_segments,
    translations,
)

if TYPE_CHECKING:
    from syndicate.store.base import Store


class TranslationRepository:
    """The ``translations`` table, and ``translate_state`` (one row per language)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, article_id: int, language: Lang, *, with_segments: bool = True) -> Translation | None:
        found = self.for_language(language, [article_id], with_segments=with_segments)
        return found.get(article_id)

    def for_language(
        self, language: Lang, ids: Iterable[int] | None = None, *, with_segments: bool = False
    ) -> dict[int, Translation]:
        """article id -> translation in ``language``; only those of ``ids`` when given;
        ``with_segments``: with the segments an editor reviews (the translator and the
        review desk ask for them; publishing does not)."""
        query = select(translations).where(translations.c.language == language)
        out: dict[int, Translation] = {}
        with self.store.connect() as conn:
            if ids is None:
                chunks: list[Any] = [query]
            else:
                wanted = sorted(set(ids))
                chunks = [
                    query.where(translations.c.article_id.in_(wanted[start : start + 500]))
                    for start in range(0, len(wanted), 500)
                ]
            for chunk in chunks:
                rows = list(conn.execute(chunk).mappings())
                segments: dict[int, str] = {}
                if with_segments and rows:
                    ts = translation_segments.c
                    found = conn.execute(
                        select(ts.article_id, ts.segments).where(
                            ts.language == language, ts.article_id.in_([r["article_id"] for r in rows])
                        )
                    )
                    segments = {int(aid): text for aid, text in found}
                for r in rows:
                    t = stored_translation(r)
                    if r["article_id"] in segments:
                        t = replace(t, segments=segments_of(segments[r["article_id"]]))
                    out[r["article_id"]] = t
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
        t, ts = translations.c, translation_segments.c
        kept = select(ts.article_id).where(ts.language == language)
        query = select(t.article_id).where(t.language == language, t.engine != "source", t.article_id.not_in(kept))
        with self.store.connect() as conn:
            return sorted(int(aid) for (aid,) in conn.execute(query))

    def put(self, t: Translation) -> bool:
        """Store a translation; True when something was written."""
        values: dict[str, Any] = {
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
        segments = segments_json(t.segments)
        with self.store.connect() as conn:
            row = conn.execute(select(translations).where(where)).mappings().first()
            kept = conn.execute(
                select(translation_segments.c.segments).where(
                    translation_segments.c.article_id == t.article_id,
                    translation_segments.c.language == t.language,
                )
            ).scalar_one_or_none()
        if kept != segments and row is not None:
            # What an editor reviews changed (or was never kept): no new version for readers.
            with self.store.transaction() as conn:
                _keep_segments(conn, t, segments)
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
                    _keep_segments(conn, t, segments)
                    counts.add_translation(conn, t.language, t.engine, t.model, 1)
                    counts.moved(conn, {}, counts.state_of(conn, [t.article_id], t.language))
                    return True
            # The row exists (or a concurrent writer just made it): change what differs.
            row = conn.execute(select(translations).where(where).with_for_update()).mappings().one()
            if seq is not None:  # the row appeared meanwhile: its segments are ours to keep too
                _keep_segments(conn, t, segments)
            changed = _changes(row, values)
            if not changed:  # a concurrent writer stored the same translation first
                return False
            if "title" in changed or ("body" in changed and text_of(str(row["body"])) != text_of(values["body"])):
                # Only a change of the text readers read moves `updated`: a summary, tag
                # labels or alt text translated for the first time (a reader that finds
                # more metadata than the release before it) are no new version.
                changed["updated"] = t.updated
            changed["seq"] = seq if seq is not None else next_change(conn)
            before = counts.state_of(conn, [t.article_id], t.language)
            conn.execute(translations.update().where(where).values(**changed))
            counts.moved(conn, before, counts.state_of(conn, [t.article_id], t.language))
            if "engine" in changed or "model" in changed:  # made anew by another engine or model
                counts.add_translation(conn, t.language, str(row["engine"]), str(row["model"]), -1)
                counts.add_translation(conn, t.language, t.engine, t.model, 1)
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
            conn.execute(
                stmt.on_conflict_do_update(index_elements=["language"], set_={"fingerprint": digest, "recheck": listed})
            )

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
            conn.execute(
                translate_state.update()
                .where(translate_state.c.language == language)
                .values(recheck=json.dumps(sorted(listed)))
            )


def segment_digest(text: str) -> str:
    """What ``segment_use`` keys a source segment by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _keep_segments(conn: Any, t: Translation, segments: str) -> None:
    """Keep ``t``'s segments, and record which source segments it holds (what a
    correction of one reaches)."""
    stmt = insert(conn, translation_segments).values(article_id=t.article_id, language=t.language, segments=segments)
    conn.execute(stmt.on_conflict_do_update(index_elements=["article_id", "language"], set_={"segments": segments}))
    conn.execute(
        segment_use.delete().where(segment_use.c.article_id == t.article_id, segment_use.c.language == t.language)
    )
    digests = sorted({segment_digest(r.source) for r in t.segments})
    if digests:
        conn.execute(
            segment_use.insert(), [{"language": t.language, "digest": d, "article_id": t.article_id} for d in digests]
        )


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
