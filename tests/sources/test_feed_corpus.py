"""The odd-feed corpus (tests/data/feeds/, see its README): each case through the feed
source and extraction, against the outcome written beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syndicate.config import ExtractSettings, FeedSourceSettings
from syndicate.errors import ItemError, SourceError
from syndicate.extract import extract
from syndicate.models import Article, RawItem
from syndicate.sources.base import FetchState
from syndicate.sources.feed import FeedSource
from tests.test_hostile_inputs import FakeFetcher

CORPUS = Path(__file__).resolve().parent.parent / "data" / "feeds"
CASES = sorted(p.name for p in CORPUS.glob("*.xml"))


def test_the_corpus_has_both_kinds() -> None:
    assert len(CASES) >= 12
    assert {c.split("-")[0] for c in CASES} == {"well", "ill"}
    for case in CASES:
        assert (CORPUS / case.replace(".xml", ".expected.json")).is_file(), case


@pytest.mark.parametrize("case", CASES)
def test_odd_feed(case: str) -> None:
    expected = json.loads((CORPUS / case.replace(".xml", ".expected.json")).read_text(encoding="utf-8"))
    config = FeedSourceSettings(name="odd", type="feed", url="http://example.org/feed.xml")
    source = FeedSource(config, Path("."), fetcher=FakeFetcher((CORPUS / case).read_bytes()))  # type: ignore[arg-type]
    if "fails" in expected:
        with pytest.raises(SourceError, match=expected["fails"]):
            list(source.fetch(FetchState()))
        return
    articles: list[Article] = []
    errors = 0
    keys: list[str] = []
    for result in source.fetch(FetchState()):
        if isinstance(result, ItemError):
            errors += 1
            continue
        assert isinstance(result, RawItem)
        try:
            articles.append(extract(result, ExtractSettings()))
            keys.append(result.key)
        except ItemError:
            errors += 1
    titles = [a.title for a in articles]
    if "titles" in expected:
        assert titles == expected["titles"]
    for title in expected.get("contains", []):
        assert title in titles
    if "count" in expected:
        assert len(articles) == expected["count"]
    if "first" in expected:
        assert (titles[0], titles[-1]) == (expected["first"], expected["last"])
    if "errors" in expected:
        assert errors == expected["errors"]
    if "keys" in expected:
        assert [k if e != "*" else "*" for k, e in zip(keys, expected["keys"], strict=True)] == expected["keys"]
    if "urls" in expected:
        assert [a.url for a in articles] == expected["urls"]
    if "text" in expected:
        assert [a.blocks[0].html for a in articles] == expected["text"]  # type: ignore[union-attr]
    if "blocks" in expected:
        assert len(articles[0].blocks) == expected["blocks"]
