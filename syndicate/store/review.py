"""Editors' review in the store: corrections, approvals, the audit log.

A correction is a translation: one row per (source language, target language, source
segment), made by a person, that :class:`~syndicate.translate.service.ArticleTranslator`
uses before any engine or the memory. Saving one lists every article that holds the
segment (``segment_use``) for translation again, in the same transaction, so the next
pass (at once in the daemon, on the next run otherwise) republishes exactly those.

Every change goes to ``review_log`` with who, when, the old and the new text; nothing
there is ever rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select

from syndicate.models import Lang, primary
from syndicate.store import counts
from syndicate.store.rows import insert, plain_rows, utc
from syndicate.store.schema import (
    corrections,
    next_change,
    review_log,
    segment_use,
    translate_state,
    translation_segments,
    translations,
)
from syndicate.store.translations import _ids, segment_digest

if TYPE_CHECKING:
    from syndicate.store.base import Store


def correction_key(source_language: str, target_language: str, segment: str) -> str:
    data = f"{primary(source_language)}|{target_language}|{segment}"
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Correction:
    """An editor's translation of one source segment."""

    source_language: str
    target_language: str
    source_text: str
    target_text: str
    editor: str
    created: datetime
    updated: datetime
    article_id: int | None = None


@dataclass(frozen=True)
class LogEntry:
    """One line of the audit log."""

    id: int
    at: datetime
    editor: str
    action: str  # correct, approve, reopen, withdraw
    language: str
    article_id: int | None
    source_text: str | None
    old_text: str | None
    new_text: str | None
    via: str


@dataclass(frozen=True)
class QueueLine:
    """One entry of a language's review queue (light columns)."""

    article_id: int
    title: str
    confidence: float | None
    corrected: int
    needs_review: int
    approved: bool
    reviewed_by: str | None
    reviewed_at: datetime | None
    updated: datetime


class ReviewRepository:
    """``corrections``, ``review_log``, ``segment_use`` and the review columns of ``translations``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- corrections -------------------------------------------------------------------

    def corrections_for(
        self, source_language: str, target_language: str, segments: Iterable[str]
    ) -> dict[str, Correction]:
        """segment -> the correction of it, for those of ``segments`` an editor corrected."""
        keys = {correction_key(source_language, target_language, s): s for s in set(segments)}
        if not keys:
            return {}
        out: dict[str, Correction] = {}
        wanted = sorted(keys)
        with self.store.connect() as conn:
            for start in range(0, len(wanted), 500):
                rows = conn.execute(
                    select(corrections).where(corrections.c.key.in_(wanted[start : start + 500]))
                ).mappings()
                for row in rows:
                    if row["source_text"] == keys[row["key"]]:
                        out[row["source_text"]] = _correction(row)
        return out

    def has_corrections(self, target_language: str) -> bool:
        with self.store.connect() as conn:
            return (
                conn.execute(
                    select(corrections.c.key).where(corrections.c.target_language == target_language).limit(1)
                ).first()
                is not None
            )

    def all_corrections(self, target_language: str) -> list[Correction]:
        with self.store.connect() as conn:
            rows = conn.execute(
                select(corrections)
                .where(corrections.c.target_language == target_language)
                .order_by(corrections.c.updated, corrections.c.key)
            ).mappings()
            return [_correction(r) for r in rows]

    def save_correction(
        self,
        *,
        source_language: str,
        target_language: str,
        source_text: str,
        target_text: str,
        editor: str,
        now: datetime,
        article_id: int | None,
        via: str,
        old_text: str | None,
    ) -> list[int]:
        """Store (or replace) a correction, log it, and list every article holding the
        segment for translation again; returns those articles."""
        key = correction_key(source_language, target_language, source_text)
        values = {
            "source_language": primary(source_language),
            "target_language": target_language,
            "source_text": source_text,
            "target_text": target_text,
            "editor": editor,
            "updated": now,
            "article_id": article_id,
        }
        with self.store.transaction() as conn:
            earlier = conn.execute(
                select(corrections.c.target_text).where(corrections.c.key == key)
            ).scalar_one_or_none()
            if earlier is not None:  # what the log says it replaced: the correction, not the page as last published
                old_text = earlier
            stmt = insert(conn, corrections).values(key=key, created=now, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=values))
            conn.execute(
                review_log.insert().values(
                    at=now,
                    editor=editor,
                    action="correct",
                    language=target_language,
                    article_id=article_id,
                    source_text=source_text,
                    old_text=old_text,
                    new_text=target_text,
                    via=via,
                )
            )
            return _retranslate_holders(conn, target_language, source_text, article_id)

    def withdraw_correction(
        self,
        *,
        source_language: str,
        target_language: str,
        source_text: str,
        editor: str,
        now: datetime,
        article_id: int | None,
        via: str,
    ) -> list[int]:
        """Remove a correction (the engines' translation comes back), logged; returns the
        articles listed for translation again."""
        key = correction_key(source_language, target_language, source_text)
        with self.store.transaction() as conn:
            old = conn.execute(select(corrections.c.target_text).where(corrections.c.key == key)).scalar_one_or_none()
            if old is None:
                return []
            conn.execute(corrections.delete().where(corrections.c.key == key))
            conn.execute(
                review_log.insert().values(
                    at=now,
                    editor=editor,
                    action="withdraw",
                    language=target_language,
                    article_id=article_id,
                    source_text=source_text,
                    old_text=old,
                    new_text=None,
                    via=via,
                )
            )
            return _retranslate_holders(conn, target_language, source_text, article_id)

    # -- approval ----------------------------------------------------------------------

    def approve(
        self, language: Lang, article_id: int, *, editor: str, now: datetime, via: str, approved: bool = True
    ) -> bool:
        """Mark the entry's current version approved (or reopen it); logged. The change
        counter moves, so the next publish sees it. False when there is no such entry."""
        t, ts = translations.c, translation_segments.c
        where = and_(t.article_id == article_id, t.language == language)
        with self.store.transaction() as conn:
            row = conn.execute(select(t.source_hash, t.reviewed_hash).where(where).with_for_update()).first()
            if row is None:
                return False
            if approved:  # what needed review has been seen
                kept = and_(ts.article_id == article_id, ts.language == language)
                stored = conn.execute(select(ts.segments).where(kept)).scalar_one_or_none()
                if stored is not None:
                    seen = [
                        {k: v for k, v in item.items() if k not in ("p", "ps")}
                        for item in json.loads(stored)
                        if isinstance(item, dict)
                    ]
                    conn.execute(
                        translation_segments.update().where(kept).values(segments=json.dumps(seen, ensure_ascii=False))
                    )
            values: dict[str, Any] = {
                "reviewed_by": editor if approved else None,
                "reviewed_at": now if approved else None,
                "reviewed_hash": row.source_hash if approved else None,
                "seq": next_change(conn),
            }
            if approved:
                values["needs_review"] = 0
            before = counts.state_of(conn, [article_id], language)
            conn.execute(translations.update().where(where).values(**values))
            counts.moved(conn, before, counts.state_of(conn, [article_id], language))
            conn.execute(
                review_log.insert().values(
                    at=now,
                    editor=editor,
                    action="approve" if approved else "reopen",
                    language=language,
                    article_id=article_id,
                    source_text=None,
                    old_text=None,
                    new_text=None,
                    via=via,
                )
            )
        return True

    # -- reading -----------------------------------------------------------------------

    def queue(
        self,
        language: Lang,
        *,
        waiting_only: bool = False,
        limit: int = 50,
        offset: int = 0,
        article_ids: Sequence[int] | None = None,
    ) -> list[QueueLine]:
        """The language's entries to review: those needing review first, then unapproved
        ones by lowest confidence (no confidence counts as lowest), then the rest."""
        t = translations.c
        approved = case((or_(t.engine == "source", t.reviewed_hash == t.source_hash), 1), else_=0)
        query = select(
            t.article_id,
            t.title,
            t.confidence,
            t.corrected,
            t.needs_review,
            approved,
            t.reviewed_by,
            t.reviewed_at,
            t.updated,
        ).where(t.language == language, t.engine != "source")
        if waiting_only:
            query = query.where(or_(t.reviewed_hash.is_(None), t.reviewed_hash != t.source_hash, t.needs_review > 0))
        if article_ids is not None:
            query = query.where(t.article_id.in_(list(article_ids)))
        query = (
            query.order_by(
                (t.needs_review > 0).desc(), approved, func.coalesce(t.confidence, -1.0), t.updated.desc(), t.article_id
            )
            .limit(limit)
            .offset(offset)
        )
        with self.store.connect() as conn:
            rows = conn.execute(query).all()
        return [
            QueueLine(
                int(r[0]), r[1], r[2], int(r[3] or 0), int(r[4] or 0), bool(r[5]), r[6], utc(r[7]), utc(r[8]) or r[8]
            )
            for r in rows
        ]

    def counts(self, languages: Iterable[Lang]) -> dict[Lang, dict[str, int]]:
        """Per language: entries waiting for review, needing review, approved, corrected."""
        t = translations.c
        wanted = list(languages)
        out = {lang: {"waiting": 0, "needs_review": 0, "approved": 0, "corrected": 0} for lang in wanted}
        if not wanted:
            return out
        approved = case((t.reviewed_hash == t.source_hash, 1), else_=0)
        query = (
            select(
                t.language,
                func.count(),
                func.sum(approved),
                func.sum(case((t.needs_review > 0, 1), else_=0)),
                func.sum(case((t.corrected > 0, 1), else_=0)),
            )
            .where(t.language.in_(wanted), t.engine != "source")
            .group_by(t.language)
        )
        with self.store.connect() as conn:
            for language, total, n_approved, n_needs, n_corrected in plain_rows(conn, query):
                out[Lang(language)] = {
                    "waiting": int(total or 0) - int(n_approved or 0),
                    "needs_review": int(n_needs or 0),
                    "approved": int(n_approved or 0),
                    "corrected": int(n_corrected or 0),
                }
        return out

    def history(
        self, *, language: str | None = None, article_id: int | None = None, limit: int = 100
    ) -> list[LogEntry]:
        """The audit log, newest first."""
        r = review_log.c
        query = select(review_log)
        if language is not None:
            query = query.where(r.language == language)
        if article_id is not None:
            query = query.where(r.article_id == article_id)
        with self.store.connect() as conn:
            rows = conn.execute(query.order_by(r.id.desc()).limit(limit)).mappings()
            return [
                LogEntry(
                    int(x["id"]),
                    utc(x["at"]) or x["at"],
                    x["editor"],
                    x["action"],
                    x["language"],
                    x["article_id"],
                    x["source_text"],
                    x["old_text"],
                    x["new_text"],
                    x["via"],
                )
                for x in rows
            ]


def _retranslate_holders(conn: Any, language: str, source_text: str, article_id: int | None) -> list[int]:
    """The articles holding ``source_text`` in ``language`` (and ``article_id``), listed
    for translation again in the caller's transaction; returned sorted."""
    affected = {
        int(a)
        for (a,) in conn.execute(
            select(segment_use.c.article_id).where(
                segment_use.c.language == language, segment_use.c.digest == segment_digest(source_text)
            )
        )
    }
    if article_id is not None:
        affected.add(article_id)
    _list_for_translation(conn, language, affected)
    return sorted(affected)


def _list_for_translation(conn: Any, language: str, ids: set[int]) -> None:
    """Add ``ids`` to the language's articles to translate again (``translate_state.recheck``)."""
    if not ids:
        return
    current = conn.execute(
        select(translate_state.c.recheck).where(translate_state.c.language == language).with_for_update()
    ).scalar_one_or_none()
    if current is None:
        conn.execute(
            insert(conn, translate_state)
            .values(language=language, fingerprint="", recheck=json.dumps(sorted(ids)))
            .on_conflict_do_nothing(index_elements=["language"])
        )
        return
    listed = set(_ids(current)) | ids
    conn.execute(
        translate_state.update()
        .where(translate_state.c.language == language)
        .values(recheck=json.dumps(sorted(listed)))
    )


def _correction(row: Any) -> Correction:
    created, updated = utc(row["created"]), utc(row["updated"])
    assert created is not None and updated is not None
    return Correction(
        row["source_language"],
        row["target_language"],
        row["source_text"],
        row["target_text"],
        row["editor"],
        created,
        updated,
        row["article_id"],
    )


__all__ = ["Correction", "LogEntry", "QueueLine", "ReviewRepository", "correction_key"]
