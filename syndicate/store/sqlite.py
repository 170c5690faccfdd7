"""SQLAlchemy Core store (SQLite by default)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slugify import slugify
from sqlalchemy import (
    create_engine,
    event,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from syndicate.errors import StoreError
from syndicate.models import (
    Article,
    Attribution,
    Block,
    Lang,
    Meta,
    Paragraph,
    Ref,
    StoredArticle,
    Translation,
    block_from_json,
    block_to_json,
)
from syndicate.store.schema import (
    articles,
    memory,
    metadata,
    next_change,
    stats,
    translations,
)

logger = logging.getLogger(__name__)


#: Page names publishing uses for itself.
RESERVED_SLUGS = frozenset({"index"})







def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def memory_key(engine: str, model: str, source: str, target: str, segment: str) -> str:
    return hashlib.sha256("\x1f".join((engine, model, source, target, segment)).encode()).hexdigest()


class SqliteStore:
    """The store. ``SqliteStore.open(state_dir)`` for the default file, or any URL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        try:
            metadata.create_all(engine)
            self._add_missing_columns()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {engine.url}: {exc}") from None

    def _add_missing_columns(self) -> None:
        """Bring a store made by an older version up to date.

        ``create_all`` creates missing tables but never alters existing ones; columns
        added since (all with defaults) are added here, so an operator's state survives
        an upgrade.
        """
        inspector = inspect(self.engine)
        with self.engine.begin() as conn:
            for table in metadata.sorted_tables:
                if not inspector.has_table(table.name):
                    continue
                present = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name in present:
                        continue
                    default = column.default.arg if column.default is not None and column.default.is_scalar else None
                    if default is None and not column.nullable:
                        raise StoreError(f"cannot upgrade the store: {table.name}.{column.name} has no default")
                    kind = column.type.compile(dialect=self.engine.dialect)
                    clause = f" NOT NULL DEFAULT {literal(default, column.type).compile(compile_kwargs={'literal_binds': True})}" if default is not None else ""
                    logger.info("upgrading the store: adding %s.%s", table.name, column.name)
                    conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{clause}'))

    @classmethod
    def open(cls, state_dir: Path) -> SqliteStore:
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the state directory {state_dir}: {exc.strerror or exc}") from None
        return cls.from_url(f"sqlite:///{state_dir / 'syndicate.db'}")

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        engine = create_engine(url, future=True)
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()

        return cls(engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"store write failed: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    # -- articles -----------------------------------------------------------------

    def upsert_article(self, article: Article, now: datetime) -> tuple[StoredArticle, str]:
        """Insert or update an article; return it and "new", "updated" or "unchanged".

        ``updated`` moves only when the translated content changes; a change of links
        alone is stored without touching it.
        """
        body = json.dumps(
            {
                **_blocks_json(article.blocks),
                "attributions": [[a.label, a.source, a.paragraph] for a in article.attributions],
                **({"meta": article.meta.to_json()} if article.meta != Meta() else {}),
            },
            ensure_ascii=False,
        )
        values = {
            "url": article.url,
            "title": article.title,
            "body": body,
            "prev_url": article.prev.url if article.prev else None,
            "prev_title": article.prev.title if article.prev else None,
            "next_url": article.next.url if article.next else None,
            "next_title": article.next.title if article.next else None,
            "language": article.language,
            "published": article.published,
            "content_hash": article.content_hash,
        }
        with self.transaction() as conn:
            row = conn.execute(
                select(articles).where(articles.c.source == article.source, articles.c.key == article.key)
            ).mappings().first()
            if row is None:
                slug = self._free_slug(conn, article.title)
                conn.execute(
                    articles.insert().values(
                        source=article.source, key=article.key, slug=slug, first_seen=now, updated=now,
                        seq=next_change(conn), **values,
                    )
                )
                status = "new"
            else:
                changed = {k: v for k, v in values.items() if _differs(row[k], v)}
                if not changed:
                    status = "unchanged"
                else:
                    if "content_hash" in changed:
                        changed["updated"] = now
                        status = "updated"
                    else:
                        status = "relinked"
                    changed["seq"] = next_change(conn)
                    conn.execute(articles.update().where(articles.c.id == row["id"]).values(**changed))
            stored = conn.execute(
                select(articles).where(articles.c.source == article.source, articles.c.key == article.key)
            ).mappings().one()
        return _stored(stored), status

    def _free_slug(self, conn: Connection, title: str) -> str:
        base = slugify(title, max_length=80, word_boundary=True) or "article"
        slug, n = base, 2
        # "index" is each language's article list (translations/<lang>/index.html).
        while slug in RESERVED_SLUGS or conn.execute(select(articles.c.id).where(articles.c.slug == slug)).first():
            slug, n = f"{base}-{n}", n + 1
        return slug

    def detected_language(self, source: str, key: str, content_hash: str) -> str | None:
        """The language stored for an article whose content has not changed, if any."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(articles.c.language).where(
                    articles.c.source == source, articles.c.key == key, articles.c.content_hash == content_hash
                )
            ).scalar_one_or_none()
        return str(found) if found else None

    def articles(self) -> list[StoredArticle]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(articles).order_by(articles.c.id)).mappings().all()
        return [_stored(r) for r in rows]

    # -- translations --------------------------------------------------------------

    def translation(self, article_id: int, language: Lang) -> Translation | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(translations).where(
                    translations.c.article_id == article_id, translations.c.language == language
                )
            ).mappings().first()
        return _translation(row) if row else None

    def translations(self, language: Lang) -> dict[int, Translation]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(translations).where(translations.c.language == language)).mappings().all()
        return {r["article_id"]: _translation(r) for r in rows}

    def put_translation(self, t: Translation) -> bool:
        """Store a translation; keep the old ``updated`` if the text did not change.

        Returns True when something was written.
        """
        extra: dict[str, Any] = {}
        if t.tag_labels:
            extra["tags"] = list(t.tag_labels)
        if t.summary:
            extra["summary"] = t.summary
        if t.image_alt:
            extra["image_alt"] = t.image_alt
        if t.untranslated:
            extra["untranslated"] = t.untranslated
        body = json.dumps(
            {
                **_blocks_json(t.blocks),
                "attributions": [[a.label, a.source, a.paragraph] for a in t.attributions],
                "notes": list(t.notes),
                **extra,
            },
            ensure_ascii=False,
        )
        with self.transaction() as conn:
            row = conn.execute(
                select(translations).where(
                    translations.c.article_id == t.article_id, translations.c.language == t.language
                )
            ).mappings().first()
            values = {"engine": t.engine, "model": t.model, "title": t.title, "body": body, "source_hash": t.source_hash}
            if row is None:
                conn.execute(
                    translations.insert().values(
                        article_id=t.article_id, language=t.language, updated=t.updated, seq=next_change(conn), **values
                    )
                )
                return True
            changed = {k: v for k, v in values.items() if row[k] != v}
            if not changed:
                return False
            if "title" in changed or ("body" in changed and _text_of(row["body"]) != _text_of(body)):
                # Only a change of the text readers read moves `updated`: a summary, tag
                # labels or alt text translated for the first time (a reader that finds
                # more metadata than the release before it) are no new version.
                changed["updated"] = t.updated
            changed["seq"] = next_change(conn)
            conn.execute(
                translations.update()
                .where(translations.c.article_id == t.article_id, translations.c.language == t.language)
                .values(**changed)
            )
            return True

    # -- translation memory -------------------------------------------------------

    def memory_get(
        self, engine: str, model: str, source: str, target: str, segments: Iterable[str]
    ) -> tuple[dict[str, str], set[str]]:
        """Look segments up: ({segment: translation} for hits, {segments this engine failed})."""
        keys = {memory_key(engine, model, source, target, s): s for s in set(segments)}
        found: dict[str, str] = {}
        rejected: set[str] = set()
        with self.engine.connect() as conn:
            batch = list(keys)
            for i in range(0, len(batch), 500):
                for key, target_text, reason in conn.execute(
                    select(memory.c.key, memory.c.target_text, memory.c.rejected).where(
                        memory.c.key.in_(batch[i : i + 500])
                    )
                ):
                    if reason:
                        rejected.add(keys[key])
                    else:
                        found[keys[key]] = target_text
        return found, rejected

    def memory_put(
        self,
        engine: str,
        model: str,
        source: str,
        target: str,
        pairs: Sequence[tuple[str, str]],
        now: datetime,
        *,
        rejected: Mapping[str, str] | None = None,
    ) -> None:
        """Remember translations; ``rejected`` maps segment -> guard that refused it."""
        rejected = rejected or {}
        if not pairs:
            return
        with self.transaction() as conn:
            for segment, translated in dict(pairs).items():
                key = memory_key(engine, model, source, target, segment)
                if conn.execute(select(memory.c.key).where(memory.c.key == key)).first():
                    continue
                conn.execute(
                    memory.insert().values(
                        key=key,
                        engine=engine,
                        model=model,
                        source_language=source,
                        target_language=target,
                        source_text=segment,
                        target_text=translated,
                        rejected=rejected.get(segment, ""),
                        created=now,
                    )
                )

    # -- statistics ---------------------------------------------------------------------

    def bump_stats(self, counts: Mapping[tuple[str, str, str], int]) -> None:
        """Add ``counts`` ((language, engine, name) -> n) to the running totals."""
        with self.transaction() as conn:
            for (language, engine, name), n in counts.items():
                if not n:
                    continue
                row = conn.execute(
                    select(stats.c.value).where(
                        stats.c.language == language, stats.c.engine == engine, stats.c.name == name
                    )
                ).first()
                if row is None:
                    conn.execute(stats.insert().values(language=language, engine=engine, name=name, value=n))
                else:
                    conn.execute(
                        stats.update()
                        .where(stats.c.language == language, stats.c.engine == engine, stats.c.name == name)
                        .values(value=row[0] + n)
                    )

    def stats(self) -> dict[tuple[str, str], dict[str, int]]:
        """(language, engine) -> {counter: total}."""
        out: dict[tuple[str, str], dict[str, int]] = {}
        with self.engine.connect() as conn:
            for language, engine, name, value in conn.execute(select(stats).order_by(stats.c.language, stats.c.engine)):
                out.setdefault((language, engine), {})[name] = value
        return out


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) or isinstance(new, datetime):
        return _utc(old) != _utc(new)
    return bool(old != new)


#: Parts of a stored translation that are metadata, not the entry's text.
_METADATA_KEYS = ("tags", "summary", "image_alt", "untranslated", "notes")


def _text_of(body: str) -> Any:
    data = json.loads(body)
    return {k: v for k, v in data.items() if k not in _METADATA_KEYS}


def _blocks_json(blocks: tuple[Block, ...]) -> dict[str, Any]:
    """A body of paragraphs only is stored as before typed blocks (``paragraphs``), so a
    store shared with, or downgraded to, the previous release still reads; anything else
    as ``blocks``."""
    if all(isinstance(b, Paragraph) for b in blocks):
        return {"paragraphs": [b.html for b in blocks]}  # type: ignore[union-attr]
    return {"blocks": [block_to_json(b) for b in blocks]}


def _blocks_of(body: Mapping[str, Any]) -> tuple[Block, ...]:
    if "blocks" in body:
        return tuple(block_from_json(b) for b in body["blocks"])
    return tuple(Paragraph(p) for p in body.get("paragraphs", ()))


def _stored(row: Any) -> StoredArticle:
    body = json.loads(row["body"])
    article = Article(
        source=row["source"],
        key=row["key"],
        title=row["title"],
        blocks=_blocks_of(body),
        meta=Meta.from_json(body.get("meta")),
        attributions=tuple(Attribution(label, source, int(index)) for label, source, index in body["attributions"]),
        url=row["url"],
        prev=Ref(row["prev_url"], row["prev_title"]) if (row["prev_url"] or row["prev_title"]) else None,
        next=Ref(row["next_url"], row["next_title"]) if (row["next_url"] or row["next_title"]) else None,
        language=row["language"],
        published=_utc(row["published"]),
    )
    first_seen = _utc(row["first_seen"])
    updated = _utc(row["updated"])
    assert first_seen is not None and updated is not None
    return StoredArticle(id=row["id"], slug=row["slug"], article=article, first_seen=first_seen, updated=updated)


def _translation(row: Any) -> Translation:
    body = json.loads(row["body"])
    updated = _utc(row["updated"])
    assert updated is not None
    return Translation(
        article_id=row["article_id"],
        language=Lang(row["language"]),
        engine=row["engine"],
        model=row["model"],
        title=row["title"],
        blocks=_blocks_of(body),
        attributions=tuple(Attribution(label, source, int(index)) for label, source, index in body.get("attributions", [])),
        # A row written before translations kept their attribution lines is treated as
        # stale, so the next pass re-translates it (from the memory, at no cost).
        source_hash=row["source_hash"] if "attributions" in body else "",
        updated=updated,
        notes=tuple(body.get("notes", ())),
        tag_labels=tuple(body.get("tags", ())),
        summary=body.get("summary", ""),
        image_alt=body.get("image_alt", ""),
        untranslated=int(body.get("untranslated", 0)),
    )
