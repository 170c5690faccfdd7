#!/usr/bin/env python3
"""Publishing alone at scale: what a publish costs as the history grows (issue 10, part 6).

Fills a store directly (no sources, no engines) with N chained articles and their
translations into 2 languages, then, each step in its own process so peak RSS is that
step's own:

  first      a publish into an empty output folder (everything rendered);
  no-change  a publish with nothing new (median of 3);
  one-new    one new article (chained to the newest) and its 2 translations stored,
             then a publish (median of 3, a different article each time);
  peak RSS   ``ru_maxrss`` of each step's process.

    python benchmarks/publish_bench.py [--sizes 2000,10000] [--keep DIR] [--out DIR]

With ``--out DIR`` it publishes one store into DIR (no timing): two checkouts' outputs
can then be compared with ``diff -r``. Works against any release whose store has
``upsert_article``/``put_translation`` and whose ``FeedPublisher`` has ``publish``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

LANGUAGES = ("es", "ca")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
REPEATS = 3


def _settings(root: Path):
    from syndicate.config import parse_settings

    data = {
        "site": {"title": "Bench News", "base_url": "https://news.example.org/", "author": "Bench desk"},
        "output": {"feeds_dir": "feeds", "translations_dir": "translations", "state_dir": "state", "feed_size": 50},
        "translate": {"languages": list(LANGUAGES), "engines": ["apertium"]},
        "sources": [{"name": "bench", "type": "folder", "path": "articles"}],
    }
    (root / "articles").mkdir(parents=True, exist_ok=True)
    return parse_settings(data, root=root)


def _open(root: Path):
    from syndicate.store import Store

    return Store.open(root / "state")


def _article(n: int):
    from syndicate.models import Article, Paragraph, Ref

    body = tuple(
        Paragraph(f"Story {n}, paragraph {p}: the council met on day {n} and talked about item {n * 7 + p}.")
        for p in range(3)
    )
    return Article(
        source="bench",
        key=f"k{n}",
        title=f"Bench story number {n}",
        blocks=body,
        url=f"https://source.example.org/{n}.html",
        prev=Ref(f"https://source.example.org/{n - 1}.html", f"Bench story number {n - 1}") if n else None,
        published=T0 + timedelta(hours=n),
    )


def _store_one(store, n: int) -> None:
    from syndicate.models import Paragraph, Translation

    article = _article(n)
    # The releases before the store's repositories had these as store methods.
    upsert = store.articles.upsert if hasattr(store.articles, "upsert") else store.upsert_article
    put = store.translations.put if hasattr(store.translations, "put") else store.put_translation
    sa, _ = upsert(article, T0 + timedelta(hours=n))
    for language in LANGUAGES:
        put(
            Translation(
                article_id=sa.id,
                language=language,
                engine="bench",
                model="",
                title=f"[{language}] {article.title}",
                blocks=tuple(Paragraph(f"[{language}] {b.html}") for b in article.blocks),  # type: ignore[attr-defined]
                attributions=(),
                source_hash=article.content_hash,
                updated=T0 + timedelta(hours=n),
            )
        )


def fill(root: Path, n: int) -> None:
    _settings(root)
    store = _open(root)
    try:
        for i in range(n):
            _store_one(store, i)
    finally:
        store.close()


def publish(root: Path, add: int | None) -> dict[str, float]:
    from syndicate.publish import FeedPublisher

    settings = _settings(root)
    store = _open(root)
    try:
        if add is not None:
            _store_one(store, add)
        started = time.perf_counter()
        files = FeedPublisher(settings, store, notify=lambda urls: None).publish(list(LANGUAGES))
        seconds = time.perf_counter() - started
    finally:
        store.close()
    return {"seconds": seconds, "files": files, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _step(root: Path, *args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--step", str(root), *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--keep", type=Path, help="build the stores here instead of a temporary folder")
    parser.add_argument("--out", type=Path, help="fill one store of --sizes' first size and publish it into DIR")
    parser.add_argument("--step", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fill", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--add", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        if args.fill is not None:
            fill(args.step, args.fill)
            print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        else:
            print(json.dumps(publish(args.step, args.add)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.out:
        fill(args.out, sizes[0])
        print(json.dumps(publish(args.out, None)))
        return
    base = args.keep or Path(tempfile.mkdtemp(prefix="publish-bench-"))
    results = []
    for n in sizes:
        root = base / str(n)
        started = time.perf_counter()
        _step(root, "--fill", str(n))
        filled = time.perf_counter() - started
        first = _step(root)
        quiet = [_step(root) for _ in range(REPEATS)]
        new = [_step(root, "--add", str(n + i)) for i in range(REPEATS)]
        row = {
            "n": n,
            "fill_s": round(filled, 1),
            "first_s": round(first["seconds"], 3),
            "first_rss_mb": round(first["rss_mb"], 1),
            "no_change_s": round(statistics.median(r["seconds"] for r in quiet), 3),
            "no_change_files": quiet[-1]["files"],
            "one_new_s": round(statistics.median(r["seconds"] for r in new), 3),
            "one_new_files": new[-1]["files"],
            "peak_rss_mb": round(max(r["rss_mb"] for r in quiet + new), 1),
        }
        results.append(row)
        print(
            f"N={n:>6}  first {row['first_s']:7.3f}s ({row['first_rss_mb']:.0f} MB)  "
            f"no-change {row['no_change_s']:6.3f}s ({row['no_change_files']} files)  "
            f"one-new {row['one_new_s']:6.3f}s ({row['one_new_files']} files)  peak RSS {row['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
