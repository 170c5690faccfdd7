#!/usr/bin/env python3
"""Extraction quality and cost: syndicate's extractor vs ``trafilatura.extract()``.

Two corpora, each page scored against expected text that someone else decided:

- ``real``: public pages kept by article-extraction projects as test fixtures, with the
  expected text of their own tests (``benchmarks/data/extract_real/<set>/``: gzipped
  pages, ``.txt`` beside each, ``manifest.tsv`` with language and kind, ``SOURCES.md``);
- ``handmade``: the 45 pages of ``tests/data/extract_eval/`` written for the purpose
  (regression cases).

Scoring is by bag of words: tokens are ``\\w+`` runs of the lower-cased text (in Unicode
normal form C: canonically equal spellings are one word), counted as a multiset;
precision is the share of output tokens that are expected, recall the share of expected
tokens found. Per-page F1 is averaged over pages (macro), and totals over all
tokens give the micro figures; a page counts as accepted when the reader gave text
without an error. syndicate's text includes figure captions and photo credits (they are
published with their pictures) where the fixtures' expected texts and trafilatura leave
them out, so its F1 is also printed "captions aside". Tables per language and per kind of
site follow, then each reader's
time per page and peak memory: each reader runs in a child process of its own (its
``ru_maxrss`` is the peak resident size of reading the whole corpus, imports included).
The last line is one JSON object with the summary.

    python benchmarks/extract_bench.py [--corpus real|handmade|all] [--only NAME] [--verbose]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import resource
import statistics
import subprocess
import sys
import time
import unicodedata
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HANDMADE = ROOT / "tests" / "data" / "extract_eval"
REAL = ROOT / "benchmarks" / "data" / "extract_real"
_WORD = re.compile(r"\w+")
_LANG = re.compile(rb"<html[^>]*\blang=[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


def tokens(text: str) -> Counter[str]:
    # NFC first: "Südtiroler" spelled with a combining diaeresis (as some pages and their
    # expected texts are) is the same word as the precomposed one a reader may output.
    return Counter(_WORD.findall(unicodedata.normalize("NFC", text).lower()))


@dataclass(frozen=True)
class Page:
    """One page of a corpus: its bytes, the expected text, its language and kind."""

    name: str
    path: Path
    expected: Path
    language: str
    kind: str
    corpus: str

    def data(self) -> bytes:
        raw = self.path.read_bytes()
        return gzip.decompress(raw) if self.path.suffix == ".gz" else raw


def real_pages(root: Path = REAL) -> list[Page]:
    pages = []
    for manifest in sorted(root.glob("*/manifest.tsv")):
        with manifest.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                path = manifest.parent / row["file"]
                stem = row["file"].removesuffix(".gz").removesuffix(".html")
                if not (manifest.parent / f"{stem}.txt").exists():
                    raise SystemExit(f"{manifest}: {row['file']} has no expected text ({stem}.txt)")
                pages.append(
                    Page(
                        f"{manifest.parent.name}/{stem}",
                        path,
                        manifest.parent / f"{stem}.txt",
                        row["lang"],
                        row["kind"],
                        "real",
                    )
                )
    return pages


def handmade_pages(root: Path = HANDMADE) -> list[Page]:
    cases = {}
    manifest = root / "manifest.json"
    if manifest.exists():
        cases = {c["name"]: c for c in json.loads(manifest.read_text(encoding="utf-8"))["cases"]}
    pages = []
    for path in sorted(root.glob("*.html")):
        language = str(cases.get(path.stem, {}).get("language") or "")
        if not language:
            found = _LANG.search(path.read_bytes()[:4096])
            language = found.group(1).decode().lower() if found else "?"
        pages.append(
            Page(
                f"handmade/{path.stem}", path, path.with_suffix(".txt"), language.split("-")[0], "handmade", "handmade"
            )
        )
    return pages


@dataclass(frozen=True)
class Score:
    """One reader on one page: token overlap with the expected text, and its time."""

    accepted: bool
    common: int
    produced: int
    expected: int
    seconds: float = 0.0
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


def score(output: str | None, expected: Counter[str], error: str = "", seconds: float = 0.0) -> Score:
    got = tokens(output or "")
    common = sum((got & expected).values())
    accepted = bool(output and output.strip()) and not error
    return Score(accepted, common, sum(got.values()), sum(expected.values()), seconds, error)


# ---- the readers ----------------------------------------------------------------------------


#: syndicate's last body text without its figures' captions (see :func:`read_syndicate`).
CAPTIONS_ASIDE: list[str] = []


def read_syndicate(name: str, data: bytes) -> str:
    """The body text syndicate publishes, figure captions and credits included (they go
    out with their pictures); the same without them is kept in :data:`CAPTIONS_ASIDE`:
    the fixtures' expected texts, like trafilatura, leave captions out, and the report
    shows how much of a difference that makes."""
    from dataclasses import replace

    from syndicate.config import ExtractSettings
    from syndicate.extract import body_text, extract
    from syndicate.models import Figure, RawItem

    slug = name.rsplit("/", 1)[-1]
    item = RawItem(
        source="bench",
        key=slug,
        data=data,
        media_type="text/html",
        url=f"https://example.org/{slug}",
        base_url=f"https://example.org/{slug}",
    )
    article = extract(item, ExtractSettings())
    CAPTIONS_ASIDE[:] = [
        body_text(replace(article, blocks=tuple(b for b in article.blocks if not isinstance(b, Figure))))
    ]
    return body_text(article)


def read_trafilatura(name: str, data: bytes) -> str:
    import trafilatura

    return trafilatura.extract(data) or ""  # bytes: trafilatura decodes by its own rules


READERS: dict[str, Callable[[str, bytes], str]] = {"syndicate": read_syndicate, "trafilatura": read_trafilatura}
#: The scores of syndicate's text less its figure captions, reported beside the rest.
ASIDE = "syndicate, captions aside"


def run(reader: Callable[[str, bytes], str], name: str, data: bytes, expected: Counter[str]) -> tuple[Score, str]:
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = reader(name, data)
    except Exception as exc:  # noqa: BLE001 - any failure is "not accepted" (ItemError or a crash alike)
        return score(None, expected, f"{type(exc).__name__}: {exc}", time.perf_counter() - started), ""
    return score(output, expected, seconds=time.perf_counter() - started), output


def read_all(reader: str, pages: list[Page]) -> dict[str, object]:
    """Run one reader over ``pages`` in this process: scores, outputs, peak memory."""
    import logging

    logging.disable(logging.CRITICAL)  # trafilatura logs every page it finds hard
    fn = READERS[reader]
    fn("warm-up", b"<html><body><article><h1>Warm</h1><p>" + b"Warm-up text. " * 20 + b"</p></article></body></html>")
    scores, outputs, aside = {}, {}, {}
    for page in pages:
        expected = tokens(page.expected.read_text(encoding="utf-8"))
        CAPTIONS_ASIDE.clear()
        found, text = run(fn, page.name, page.data(), expected)
        scores[page.name] = asdict(found)
        outputs[page.name] = text
        if reader == "syndicate":
            aside[page.name] = asdict(
                score(CAPTIONS_ASIDE[0], expected) if CAPTIONS_ASIDE and found.accepted else found
            )
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"scores": scores, "outputs": outputs, "peak_mb": peak_kb / 1024, "captions_aside": aside}


def read_in_child(reader: str, pages: list[Page]) -> dict[str, object]:
    """:func:`read_all` in a fresh interpreter, so each reader's peak memory is its own."""
    names = [p.name for p in pages]
    done = subprocess.run(
        [sys.executable, __file__, "--child", reader, "--names", "-"],
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode:
        raise SystemExit(f"the {reader} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


# ---- report ----------------------------------------------------------------------------------


def summary(scores: Iterable[Score]) -> dict[str, float | int]:
    scores = list(scores)
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


def grouped(title: str, key: Callable[[Page], str], pages: list[Page], results: dict[str, dict[str, Score]]) -> None:
    groups: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        groups[key(page)].append(page)
    print(
        f"\n{title:18} {'pages':>5} {'syndicate F1':>13} {'trafilatura F1':>15} {'accepted':>14} "
        f"{'syndicate F1, captions aside':>29}"
    )
    for name in sorted(groups, key=lambda g: (-len(groups[g]), g)):
        members = groups[name]
        syn = summary(results["syndicate"][p.name] for p in members)
        traf = summary(results["trafilatura"][p.name] for p in members)
        aside = summary(results[ASIDE][p.name] for p in members)
        mark = "" if syn["f1"] >= traf["f1"] else "  <"
        print(
            f"{name:18} {len(members):5d} {syn['f1']:13.3f} {traf['f1']:15.3f} "
            f"{syn['accepted']:>6}/{traf['accepted']:<7}{mark:3} {aside['f1']:26.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=("real", "handmade", "all"), default="all")
    parser.add_argument("--only", metavar="NAME", help="run only pages whose name contains NAME")
    parser.add_argument(
        "--verbose", action="store_true", help="per-page scores and syndicate's worst missed/extra words"
    )
    parser.add_argument("--child", choices=tuple(READERS), help=argparse.SUPPRESS)
    parser.add_argument("--names", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    pages = (real_pages() if args.corpus in ("real", "all") else []) + (
        handmade_pages() if args.corpus in ("handmade", "all") else []
    )
    if args.child:
        wanted = set(json.loads(sys.stdin.read()))
        json.dump(read_all(args.child, [p for p in pages if p.name in wanted]), sys.stdout)
        return 0
    pages = [p for p in pages if not args.only or args.only in p.name]
    if not pages:
        print(
            f"no pages in the {args.corpus} corpus" + (f" matching {args.only!r}" if args.only else ""), file=sys.stderr
        )
        return 2
    runs = {reader: read_in_child(reader, pages) for reader in READERS}
    results = {r: {name: Score(**s) for name, s in run["scores"].items()} for r, run in runs.items()}
    results[ASIDE] = {name: Score(**s) for name, s in runs["syndicate"]["captions_aside"].items()}  # type: ignore[union-attr]
    if args.verbose:
        print(f"{'page':48} {'syn P':>6} {'R':>6} {'F1':>6}   {'traf P':>6} {'R':>6} {'F1':>6}")
        for page in pages:
            syn, traf = results["syndicate"][page.name], results["trafilatura"][page.name]
            print(
                f"{page.name[:48]:48} {syn.precision:6.3f} {syn.recall:6.3f} {syn.f1:6.3f}   "
                f"{traf.precision:6.3f} {traf.recall:6.3f} {traf.f1:6.3f}"
            )
            if syn.error:
                print(f"    syndicate rejected: {syn.error[:150]}")
            elif syn.f1 < 0.999:
                expected = tokens(page.expected.read_text(encoding="utf-8"))
                missed, extra = worst_words(str(runs["syndicate"]["outputs"][page.name]), expected)
                print(f"    missed: {missed}\n    extra:  {extra}")
            if traf.error:
                print(f"    trafilatura failed: {traf.error[:150]}")

    sums = {r: summary(results[r][p.name] for p in pages) for r in READERS}
    print()
    print(
        f"{len(pages)} pages: "
        + ", ".join(
            f"{c} {sum(p.corpus == c for p in pages)}"
            for c in ("real", "handmade")
            if any(p.corpus == c for p in pages)
        )
    )
    print(f"{'':24} {'syndicate':>12} {'trafilatura':>12}")
    for key, label in (
        ("precision", "precision (mean)"),
        ("recall", "recall (mean)"),
        ("f1", "F1 (mean)"),
        ("micro_precision", "precision (micro)"),
        ("micro_recall", "recall (micro)"),
        ("micro_f1", "F1 (micro)"),
    ):
        print(f"{label:24} {sums['syndicate'][key]:12.3f} {sums['trafilatura'][key]:12.3f}")
    aside = summary(results[ASIDE][p.name] for p in pages)
    print(f"{'F1 (mean), captions aside':24} {aside['f1']:12.3f} {'':>12}  (syndicate's text less figure captions)")
    n = len(pages)
    accepted = {reader: f"{sums[reader]['accepted']}/{n}" for reader in READERS}
    print(f"{'accepted':24} {accepted['syndicate']:>12} {accepted['trafilatura']:>12}")
    cost = {}
    for reader in READERS:
        seconds = [results[reader][p.name].seconds for p in pages]
        cost[reader] = {
            "ms_mean": 1000 * statistics.fmean(seconds),
            "ms_median": 1000 * statistics.median(seconds),
            "ms_p95": 1000 * sorted(seconds)[int(0.95 * (len(seconds) - 1))],
            "peak_mb": float(runs[reader]["peak_mb"]),
        }  # type: ignore[arg-type]
    for key, label in (
        ("ms_mean", "ms per page (mean)"),
        ("ms_median", "ms per page (median)"),
        ("ms_p95", "ms per page (p95)"),
        ("peak_mb", "peak RSS, MB"),
    ):
        print(f"{label:24} {cost['syndicate'][key]:12.1f} {cost['trafilatura'][key]:12.1f}")
    if len({p.corpus for p in pages}) > 1:
        grouped("corpus", lambda p: p.corpus, pages, results)
    grouped("language", lambda p: p.language, pages, results)
    grouped("kind", lambda p: p.kind, [p for p in pages if p.corpus == "real"] or pages, results)
    refused = [p.name for p in pages if not results["syndicate"][p.name].accepted]
    if refused:
        print("\nrefused by syndicate: " + ", ".join(refused))
    print(
        json.dumps(
            {
                f"{r}_{k}": (round(v, 4) if isinstance(v, float) else v)
                for r, s in sums.items()
                for k, v in s.items()
                if k != "pages"
            }
            | {f"{r}_{k}": round(v, 2) for r, c in cost.items() for k, v in c.items()}
            | {"pages": n}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
