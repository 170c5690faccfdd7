"""What the repositories share: stored bodies <-> records, UTC times, the dialect's INSERT.

Every repository writes through :func:`insert`, the dialect's own ``INSERT`` (SQLite's or
PostgreSQL's), so ``ON CONFLICT`` upserts read the same on both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from syndicate.models import (
    Article,
    Attribution,
    Block,
    Lang,
    Meta,
    Paragraph,
    Ref,
    SegmentRecord,
    StoredArticle,
    Translation,
    block_from_json,
    block_to_json,
)


def insert(conn: Connection, table: Table) -> Any:
    """The connection's dialect's ``INSERT`` for ``table`` (it has ``on_conflict_do_*``)."""
    # Imported here: PostgreSQL's dialect costs a tenth of a second that SQLite users
    # (and every short `syndicate once`) would pay for nothing.
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive: they were stored as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def differs(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) or isinstance(new, datetime):
        return utc(old) != utc(new)
    return bool(old != new)


def blocks_json(blocks: tuple[Block, ...]) -> dict[str, Any]:
    """A body of paragraphs only is stored as before typed blocks (``paragraphs``), so a
    store shared with, or downgraded to, the previous release still reads; anything else
    as ``blocks``."""
    if all(isinstance(b, Paragraph) for b in blocks):
        return {"paragraphs": [b.html for b in blocks]}  # type: ignore[union-attr]
    return {"blocks": [block_to_json(b) for b in blocks]}


def blocks_of(body: Mapping[str, Any]) -> tuple[Block, ...]:
    if "blocks" in body:
        return tuple(block_from_json(b) for b in body["blocks"])
    return tuple(Paragraph(p) for p in body.get("paragraphs", ()))


def attributions_json(attributions: tuple[Attribution, ...]) -> list[list[Any]]:
    return [[a.label, a.source, a.paragraph] for a in attributions]


def attributions_of(items: Any) -> tuple[Attribution, ...]:
    return tuple(Attribution(label, source, int(index)) for label, source, index in items)


def article_body(article: Article) -> str:
    return json.dumps(
        {
            **blocks_json(article.blocks),
            "attributions": attributions_json(article.attributions),
            **({"meta": article.meta.to_json()} if article.meta != Meta() else {}),
        },
        ensure_ascii=False,
    )


def stored_article(row: Any) -> StoredArticle:
    body = json.loads(row["body"])
    article = Article(
        source=row["source"],
        key=row["key"],
        title=row["title"],
        blocks=blocks_of(body),
        meta=Meta.from_json(body.get("meta")),
        attributions=attributions_of(body["attributions"]),
        url=row["url"],
        prev=Ref(row["prev_url"], row["prev_title"]) if (row["prev_url"] or row["prev_title"]) else None,
        next=Ref(row["next_url"], row["next_title"]) if (row["next_url"] or row["next_title"]) else None,
        language=row["language"],
        published=utc(row["published"]),
    )
    first_seen = utc(row["first_seen"])
    updated = utc(row["updated"])
    assert first_seen is not None and updated is not None
    return StoredArticle(id=row["id"], slug=row["slug"], article=article, first_seen=first_seen, updated=updated)


#: Parts of a stored translation that are metadata, not the entry's text.
METADATA_KEYS = ("tags", "summary", "image_alt", "untranslated", "notes", "quality")


def text_of(body: str) -> Any:
    """What readers read of a stored translation body (its metadata left out)."""
    data = json.loads(body)
    return {k: v for k, v in data.items() if k not in METADATA_KEYS}


def translation_body(t: Translation) -> str:
    extra: dict[str, Any] = {}
    if t.tag_labels:
        extra["tags"] = list(t.tag_labels)
    if t.summary:
        extra["summary"] = t.summary
    if t.image_alt:
        extra["image_alt"] = t.image_alt
    if t.untranslated:
        extra["untranslated"] = t.untranslated
    if t.quality:
        extra["quality"] = dict(t.quality)
    if t.title_only:
        extra["title_only"] = True
    return json.dumps(
        {
            **blocks_json(t.blocks),
            "attributions": attributions_json(t.attributions),
            "notes": list(t.notes),
            **extra,
        },
        ensure_ascii=False,
    )


def segment_json(r: SegmentRecord) -> dict[str, Any]:
    """A segment record as the body keeps it (defaults left out: bodies stay small)."""
    out: dict[str, Any] = {"s": r.source, "t": r.target}
    if r.origin != "machine":
        out["o"] = r.origin
    if r.confidence is not None:
        out["c"] = round(r.confidence, 4)
    if r.flags:
        out["f"] = list(r.flags)
    if r.slot != "text":
        out["k"] = r.slot
    if r.previous is not None:
        out["p"] = r.previous
        out["ps"] = r.previous_source
    return out


def segments_json(records: tuple[SegmentRecord, ...]) -> str:
    return json.dumps([segment_json(r) for r in records], ensure_ascii=False)


def segments_of(stored: str | None) -> tuple[SegmentRecord, ...]:
    try:
        items = json.loads(stored or "[]")
    except ValueError:
        return ()
    return tuple(segment_of(item) for item in items if isinstance(item, dict)) if isinstance(items, list) else ()


def segment_of(item: Mapping[str, Any]) -> SegmentRecord:
    return SegmentRecord(
        source=str(item.get("s", "")),
        target=str(item.get("t", "")),
        origin=str(item.get("o", "machine")),
        confidence=item.get("c"),
        flags=tuple(item.get("f", ())),
        slot=str(item.get("k", "text")),
        previous=item.get("p"),
        previous_source=item.get("ps"),
    )


def stored_translation(row: Any) -> Translation:
    body = json.loads(row["body"])
    updated = utc(row["updated"])
    assert updated is not None
    return Translation(
        article_id=row["article_id"],
        language=Lang(row["language"]),
        engine=row["engine"],
        model=row["model"],
        title=row["title"],
        blocks=blocks_of(body),
        attributions=attributions_of(body.get("attributions", [])),
        # A row written before translations kept their attribution lines is treated as
        # stale, so the next pass re-translates it (from the memory, at no cost).
        source_hash=row["source_hash"] if "attributions" in body else "",
        updated=updated,
        notes=tuple(body.get("notes", ())),
        tag_labels=tuple(body.get("tags", ())),
        summary=body.get("summary", ""),
        image_alt=body.get("image_alt", ""),
        untranslated=int(body.get("untranslated", 0)),
        title_only=bool(body.get("title_only", False)),
        confidence=row.get("confidence", None),
        quality=tuple(sorted((str(k), int(v)) for k, v in body.get("quality", {}).items())),
        rules=(row["rules"] or "") if "rules" in row else "",
        corrected=int(row["corrected"] or 0) if "corrected" in row else 0,
        needs_review=int(row["needs_review"] or 0) if "needs_review" in row else 0,
        reviewed_by=row.get("reviewed_by", None),
        reviewed_at=utc(row["reviewed_at"]) if "reviewed_at" in row else None,
        reviewed_hash=row.get("reviewed_hash", None),
    )


def plain_rows(conn: Connection, query: Any) -> list[Any]:
    """Every row of ``query`` as the driver's plain tuples: building SQLAlchemy rows costs
    as much as the query itself on 10,000s of them. Only for columns that need no result
    processing (strings, integers, datetimes selected as stored)."""
    result = conn.execute(query)
    try:
        cursor = getattr(result, "cursor", None)
        return list(cursor.fetchall()) if cursor is not None else [tuple(row) for row in result]
    finally:
        result.close()
