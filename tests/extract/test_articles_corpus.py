"""The article corpus: CMS-shaped inputs read through the real path, compared with what a reader sees.

Each case under ``tests/data/articles/NN-name/`` holds one input and ``expected.json``:

- ``page.html``: an article page, read by :func:`syndicate.extract.extract` as a page
  at the ``url`` the case gives;
- ``feed.xml``: a feed served by a real local server (``{base}`` in it is the server's
  address; files under ``pages/`` are served too, for entries that link to their page)
  and polled by :class:`~syndicate.sources.feed.FeedSource`, each entry extracted;
- ``article.txt``: the plain-text format.

``expected.json`` lists the articles (matched by title) with their blocks (type and
text; list items and their nesting; figure src/alt/caption; table cells with header
flags and spans) and metadata. Keys a case leaves out of ``meta`` are not compared (the
case says why under ``not_checked``). The expected values were written from reading the
inputs, not from the code's output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import ExtractSettings, FeedSourceSettings
from syndicate.errors import ItemError
from syndicate.extract import extract
from syndicate.extract.blocks import fragment_text
from syndicate.models import (
    Article,
    Block,
    Embed,
    Figure,
    Heading,
    ListBlock,
    Paragraph,
    Preformatted,
    Quote,
    RawItem,
    Rule,
    Table,
)
from syndicate.sources.base import FetchState
from syndicate.sources.feed import FeedSource
from tests.sources.site import TestSite

CORPUS = Path(__file__).resolve().parent.parent / "data" / "articles"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir())
INPUTS = ("page.html", "feed.xml", "article.txt")


def _input(case: Path) -> Path:
    found = [case / name for name in INPUTS if (case / name).exists()]
    assert len(found) == 1, f"{case.name}: exactly one of {INPUTS}"
    return found[0]


def shape(block: Block) -> dict[str, Any]:
    """A block as expected.json writes it."""
    if isinstance(block, Paragraph):
        return {"type": "p", "text": fragment_text(block.html)}
    if isinstance(block, Heading):
        return {"type": "h", "level": block.level, "text": fragment_text(block.html)}
    if isinstance(block, ListBlock):
        return {
            "type": "list",
            "ordered": block.ordered,
            "items": [{"text": fragment_text(i.html), "children": [shape(c) for c in i.children]} for i in block.items],
        }
    if isinstance(block, Quote):
        return {"type": "quote", "cite": block.cite, "blocks": [shape(c) for c in block.blocks]}
    if isinstance(block, Figure):
        image = block.image
        return {
            "type": "figure",
            "src": image.src if image else None,
            "alt": image.alt if image else "",
            "caption": fragment_text(block.caption),
            "width": image.width if image else None,
            "height": image.height if image else None,
        }
    if isinstance(block, Table):
        return {
            "type": "table",
            "caption": fragment_text(block.caption),
            "rows": [
                {
                    "head": r.head,
                    "cells": [
                        {"text": fragment_text(c.html), "header": c.header, "colspan": c.colspan, "rowspan": c.rowspan}
                        for c in r.cells
                    ],
                }
                for r in block.rows
            ],
        }
    if isinstance(block, Preformatted):
        return {"type": "pre", "code": block.code, "text": block.text}
    if isinstance(block, Rule):
        return {"type": "hr"}
    assert isinstance(block, Embed)
    return {"type": "embed", "kind": block.kind, "url": block.url, "title": block.title}


def complete(expected: dict[str, Any], actual: dict[str, Any] | None = None) -> dict[str, Any]:
    """expected.json's block with its defaults filled in (list children, cell flags and
    spans); a figure's size is compared only where the case gives it."""
    out = dict(expected)
    kind = out["type"]
    if kind == "list":
        out["items"] = [
            {"text": i["text"], "children": [complete(c) for c in i.get("children", [])]} for i in out["items"]
        ]
    elif kind == "quote":
        out["blocks"] = [complete(c) for c in out["blocks"]]
    elif kind == "table":
        out.setdefault("caption", "")
        out["rows"] = [
            {
                "head": r.get("head", False),
                "cells": [
                    {
                        "text": c["text"],
                        "header": c.get("header", False),
                        "colspan": c.get("colspan", 1),
                        "rowspan": c.get("rowspan", 1),
                    }
                    for c in r["cells"]
                ],
            }
            for r in out["rows"]
        ]
    elif kind == "figure":
        out.setdefault("alt", "")
        out.setdefault("caption", "")
    return out


def compare_blocks(article: Article, expected: list[dict[str, Any]]) -> None:
    actual = [shape(b) for b in article.blocks]
    wanted = [complete(b) for b in expected]
    for got, want in zip(actual, wanted, strict=False):
        if got["type"] == "figure" and want["type"] == "figure":
            for size in ("width", "height"):
                if size not in want:
                    got.pop(size)
    assert actual == wanted


def meta_shape(article: Article, keys: set[str]) -> dict[str, Any]:
    meta = article.meta
    full = {
        "authors": [{"name": a.name, "url": a.url} for a in meta.authors],
        "tags": list(meta.tags),
        "image": meta.image.src if meta.image else None,
        "enclosures": [{"url": e.url, "type": e.type, "length": e.length} for e in meta.enclosures],
        "language": article.language,
        "published": article.published.isoformat() if article.published else None,
        "modified": meta.modified.isoformat() if meta.modified else None,
    }
    return {k: v for k, v in full.items() if k in keys}


# -- reading each input by its real path -------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    with TestSite() as s:
        yield s


def read_case(case: Path, site: TestSite) -> tuple[list[Article], dict[str, Any]]:
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    source = _input(case)
    settings = ExtractSettings()
    if source.name == "page.html":
        item = RawItem(
            source=case.name, key=source.name, data=source.read_bytes(), media_type="text/html", url=expected["url"]
        )
        return [extract(item, settings)], expected
    if source.name == "article.txt":
        item = RawItem(source=case.name, key=source.name, data=source.read_bytes(), media_type="text/plain")
        return [extract(item, settings)], expected
    prefix = f"/{case.name}"
    base = site.url(prefix)
    site.page(
        f"{prefix}/feed.xml",
        source.read_text(encoding="utf-8").replace("{base}", base),
        content_type="application/xml; charset=utf-8",
    )
    pages = case / "pages"
    if pages.is_dir():
        for page in pages.rglob("*.html"):
            site.page(f"{prefix}/{page.relative_to(pages).with_suffix('').as_posix()}", page.read_bytes())
    feed = FeedSourceSettings(name=case.name, type="feed", url=site.url(f"{prefix}/feed.xml"), retries=0, timeout="5s")  # type: ignore[arg-type]
    items = list(FeedSource(feed, Path(".")).fetch(FetchState()))
    problems = [i for i in items if isinstance(i, ItemError)]
    assert not problems, problems
    text = json.dumps(expected).replace("{base}", base)
    return [extract(i, settings) for i in items if isinstance(i, RawItem)], json.loads(text)


def test_corpus_is_large_and_well_formed() -> None:
    assert len(CASES) >= 15
    kinds = {_input(c).name for c in CASES}
    assert kinds == set(INPUTS)
    for case in CASES:
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        assert expected.get("cms"), f"{case.name}: say which CMS shape the input follows"
        assert expected["articles"] and all(a["blocks"] for a in expected["articles"])


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_case_reads_as_expected(case: Path, site: TestSite) -> None:
    articles, expected = read_case(case, site)
    by_title = {a.title: a for a in articles}
    assert sorted(by_title) == sorted(e["title"] for e in expected["articles"])
    for want in expected["articles"]:
        article = by_title[want["title"]]
        compare_blocks(article, want["blocks"])
        assert meta_shape(article, set(want["meta"])) == want["meta"]
        if "url" in want:
            assert article.url == want["url"]
        if "attributions" in want:
            assert [[a.label, a.source, a.paragraph] for a in article.attributions] == want["attributions"]
        if "prev_title" in want:
            assert article.prev is not None and article.prev.title == want["prev_title"]
        if "next_title" in want:
            assert article.next is not None and article.next.title == want["next_title"]
