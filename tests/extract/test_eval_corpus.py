"""The extraction eval corpus is well formed (scores belong in benchmarks/extract_bench.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent / "data" / "extract_eval"
PAGES = sorted(CORPUS.glob("*.html"))
NAME = re.compile(r"^\d\d-[a-z0-9][a-zA-Z0-9_-]*$")


def manifest() -> dict[str, dict[str, object]]:
    data = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    return {case["name"]: case for case in data["cases"]}


def test_corpus_has_enough_pages() -> None:
    assert len(PAGES) >= 40


def test_manifest_lists_exactly_the_pages() -> None:
    assert set(manifest()) == {p.stem for p in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_is_well_formed(page: Path) -> None:
    assert NAME.match(page.stem), "name it NN-short-name"
    expected = page.with_suffix(".txt")
    assert expected.exists(), f"{page.name} has no expected text"
    text = expected.read_text(encoding="utf-8")
    assert len(re.findall(r"\w+", text)) >= 10
    assert page.read_bytes().strip(), "empty page"
    case = manifest()[page.stem]
    assert case.get("language") and case.get("cms") and case.get("features")


REAL = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "extract_real"


def test_the_real_corpus_is_whole_and_recorded() -> None:
    """Issue 19: at least 300 real pages, 6 languages, 10 kinds; every page listed with
    where it came from, and an expected text beside it."""
    import csv
    from collections import Counter

    rows = []
    for manifest in sorted(REAL.glob("*/manifest.tsv")):
        assert (manifest.parent / "SOURCES.md").exists(), manifest.parent
        with manifest.open(encoding="utf-8", newline="") as f:
            listed = list(csv.DictReader(f, delimiter="\t"))
        on_disk = {p.name for p in manifest.parent.glob("*.html.gz")}
        assert {row["file"] for row in listed} == on_disk, manifest
        for row in listed:
            assert row["repo"] and re.fullmatch(r"[0-9a-f]{40}", row["commit"]) and row["path"] and row["licence"], row
            expected = manifest.parent / (row["file"].removesuffix(".html.gz") + ".txt")
            assert expected.read_text(encoding="utf-8").strip(), expected
        rows += listed
    assert len(rows) >= 300
    assert len(Counter(row["lang"] for row in rows)) >= 6
    assert len(Counter(row["kind"] for row in rows)) >= 10
