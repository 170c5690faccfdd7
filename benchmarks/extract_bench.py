#!/usr/bin/env python3
"""Extraction quality: syndicate's extractor vs ``trafilatura.extract()`` on the eval corpus.

Reads every ``tests/data/extract_eval/NN-name.html`` (raw bytes, as a source would hand
them over) and scores each reader's body text against ``NN-name.txt`` by bag of words:
tokens are ``\\w+`` runs of the lower-cased text, counted as a multiset; precision is the
share of output tokens that are expected, recall the share of expected tokens found.
Reports per-page F1 averaged over pages (macro) and totals over all tokens (micro), and
how many pages each reader accepted (non-empty output, no exception). The last line is one
JSON object with the summary.

    python benchmarks/extract_bench.py [--only NAME] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "tests" / "data" / "extract_eval"
_WORD = re.compile(r"\w+")


def tokens(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


@dataclass(frozen=True)
class Score:
    """One reader on one page: token overlap with the expected text."""

    accepted: bool
    common: int
    produced: int
    expected: int
    error: str = ""

    @property
    def precision(self) -> float:
        return self.common / self.produced if self.produced else 0.0

    @property
    def recall(self) -> float:
        return self.common / self.expected if self.expected else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(output: str | None, expected: Counter[str], error: str = "") -> Score:
    got = tokens(output or "")
    common = sum((got & expected).values())
    accepted = bool(output and output.strip()) and not error
    return Score(accepted, common, sum(got.values()), sum(expected.values()), error)


# ---- the readers ----------------------------------------------------------------------------


def read_syndicate(name: str, data: bytes) -> str:
    from syndicate.config import ExtractSettings
    from syndicate.extract import extract
    from syndicate.models import RawItem

    item = RawItem(
        source="bench", key=name, data=data, media_type="text/html",
        url=f"https://example.org/{name}", base_url=f"https://example.org/{name}",
    )
    article = extract(item, ExtractSettings())
    import syndicate.extract as ex

    body_text: Callable[[object], str] | None = getattr(ex, "body_text", None)
    if body_text is not None:
        return body_text(article)
    import lxml.html

    return "\n".join(lxml.html.fragment_fromstring(p, create_parent="div").text_content() for p in article.paragraphs)


def read_trafilatura(name: str, data: bytes) -> str:
    import trafilatura

    return trafilatura.extract(data) or ""  # bytes: trafilatura decodes by its own rules


READERS: dict[str, Callable[[str, bytes], str]] = {"syndicate": read_syndicate, "trafilatura": read_trafilatura}


def run(reader: Callable[[str, bytes], str], name: str, data: bytes, expected: Counter[str]) -> tuple[Score, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = reader(name, data)
    except Exception as exc:  # any failure is "not accepted" (ItemError or a crash alike)
        return score(None, expected, f"{type(exc).__name__}: {exc}"), ""
    return score(output, expected), output


# ---- report ----------------------------------------------------------------------------------


def summary(scores: list[Score]) -> dict[str, float | int]:
    n = len(scores) or 1
    common = sum(s.common for s in scores)
    produced = sum(s.produced for s in scores)
    expected = sum(s.expected for s in scores)
    micro_p = common / produced if produced else 0.0
    micro_r = common / expected if expected else 0.0
    return {
        "precision": sum(s.precision for s in scores) / n,
        "recall": sum(s.recall for s in scores) / n,
        "f1": sum(s.f1 for s in scores) / n,
        "micro_precision": micro_p,
        "micro_recall": micro_r,
        "micro_f1": 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0,
        "accepted": sum(s.accepted for s in scores),
        "pages": len(scores),
    }


def worst_words(output: str, expected: Counter[str], k: int = 8) -> tuple[str, str]:
    got = tokens(output)
    missed = (expected - got).most_common(k)
    extra = (got - expected).most_common(k)
    return " ".join(f"{w}x{c}" for w, c in missed), " ".join(f"{w}x{c}" for w, c in extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", metavar="NAME", help="run only pages whose name contains NAME")
    parser.add_argument("--verbose", action="store_true", help="per-page scores and syndicate's worst missed/extra words")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    pages = sorted(p for p in args.corpus.glob("*.html") if not args.only or args.only in p.stem)
    if not pages:
        print(f"no pages in {args.corpus}" + (f" matching {args.only!r}" if args.only else ""), file=sys.stderr)
        return 2
    import logging

    logging.disable(logging.CRITICAL)  # trafilatura logs every page it finds hard
    results: dict[str, list[Score]] = {r: [] for r in READERS}
    if args.verbose:
        print(f"{'page':40} {'syn P':>6} {'R':>6} {'F1':>6}   {'traf P':>6} {'R':>6} {'F1':>6}")
    for page in pages:
        name = page.stem
        data = page.read_bytes()
        expected = tokens(page.with_suffix(".txt").read_text(encoding="utf-8"))
        row: dict[str, tuple[Score, str]] = {r: run(fn, name, data, expected) for r, fn in READERS.items()}
        for r, (s, _) in row.items():
            results[r].append(s)
        if args.verbose:
            syn, traf = row["syndicate"][0], row["trafilatura"][0]
            print(f"{name[:40]:40} {syn.precision:6.3f} {syn.recall:6.3f} {syn.f1:6.3f}   {traf.precision:6.3f} {traf.recall:6.3f} {traf.f1:6.3f}")
            if syn.error:
                print(f"    syndicate rejected: {syn.error[:150]}")
            elif syn.f1 < 0.999:
                missed, extra = worst_words(row["syndicate"][1], expected)
                print(f"    missed: {missed}\n    extra:  {extra}")
            if traf.error:
                print(f"    trafilatura failed: {traf.error[:150]}")

    sums = {r: summary(s) for r, s in results.items()}
    print()
    print(f"{'':24} {'syndicate':>12} {'trafilatura':>12}")
    for key, label in (("precision", "precision (mean)"), ("recall", "recall (mean)"), ("f1", "F1 (mean)"),
                       ("micro_precision", "precision (micro)"), ("micro_recall", "recall (micro)"), ("micro_f1", "F1 (micro)")):
        print(f"{label:24} {sums['syndicate'][key]:12.3f} {sums['trafilatura'][key]:12.3f}")
    n = len(pages)
    print(f"{'accepted':24} {str(sums['syndicate']['accepted']) + '/' + str(n):>12} {str(sums['trafilatura']['accepted']) + '/' + str(n):>12}")
    print(json.dumps({f"{r}_{k}": (round(v, 4) if isinstance(v, float) else v) for r, s in sums.items() for k, v in s.items() if k != "pages"} | {"pages": n}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
