"""The store's tests run on SQLite and, when Debian's PostgreSQL is installed, on a real
PostgreSQL (a fresh database per test, from ``tests/services.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicate.models import Article, Lang, Paragraph, Translation
from syndicate.store import Store

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'syndicate.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")  # skips, saying why, when not installed
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.from_url(store_url) as opened:
        yield opened


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def article(key: str, title: str | None = None, *, source: str = "sample", text: str | None = None) -> Article:
    return Article(
        source=source,
        key=key,
        title=title or f"Title {key}",
        blocks=(Paragraph(text or f"Body of {key}."), Paragraph("Second paragraph.")),
        url=f"https://example.org/{key}",
        language="en",
    )


def translation(article_id: int, language: str = "es", *, title: str = "Título", **kwargs: object) -> Translation:
    fields: dict[str, object] = {
        "article_id": article_id,
        "language": Lang(language),
        "engine": "apertium",
        "model": "apertium-en-es 1.0",
        "title": title,
        "blocks": (Paragraph("Cuerpo."),),
        "attributions": (),
        "source_hash": "h1",
        "updated": NOW,
    }
    fields.update(kwargs)
    return Translation(**fields)  # type: ignore[arg-type]
