#!/usr/bin/env python3
"""Status without full scans (issue 23, part 4): what one refresh of the status page's
per-language overview costs as the history grows, beside the full scan it replaced.

For each N in ``--sizes`` this makes a real store (``Store.open``: the real schema and
migrations) in a temporary folder and fills it in bulk with N articles translated into
``--languages`` target languages (every translation current, every entry published:
the rows a history of that size leaves, written straight into the tables). Then, in one
run, it times (median of ``--repeats``):

  full scan  what ``StoreOverview.languages`` did before: the light columns of every
             article and every translation read into Python, grouped there, and
             ``feed_log`` counted per language (reimplemented here as the anchor);
  counters   ``StoreOverview.languages`` now: the kept counts (``translation_counts``,
             the feed sequence) and one count per language made by the database of what
             the next translation pass takes.

Both are checked to agree on every number before they are timed.

    python benchmarks/status_bench.py [--sizes 10000,100000] [--languages 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from syndicate.models import Lang  # noqa: E402
from syndicate.store import Store  # noqa: E402
from syndicate.store.counts import current_rule  # noqa: E402
from syndicate.store.overview import LanguageOverview, StoreOverview  # noqa: E402
from syndicate.store.schema import (  # noqa: E402
    article_counts,
    articles,
    current_counts,
    feed_log,
    feed_state,
    translation_counts,
    translations,
)

LANGUAGES = (
    "es",
    "ca",
    "eo",
    "gl",
    "fr",
    "it",
    "pt",
    "de",
    "nl",
    "pl",
    "ro",
    "sv",
    "da",
    "nb",
    "fi",
    "cs",
    "sk",
    "sl",
    "hr",
    "eu",
)
NOW = datetime(2026, 12, 7, tzinfo=UTC)
CHUNK = 20_000


def fill(store: Store, n: int, languages: tuple[str, ...]) -> None:
    """N articles, each translated into every language by one of two models, all published."""
    with store.transaction() as conn:
        for start in range(0, n, CHUNK):
            conn.execute(
                insert(articles),
                [
                    {
                        "id": i + 1,
                        "source": "desk",
                        "key": f"{i}.txt",
                        "slug": f"story-{i}",
                        "title": f"Story {i}",
                        "body": "{}",
                        "content_hash": f"{i:064x}",
                        "language": "en",
                        "first_seen": NOW,
                        "updated": NOW,
                        "seq": 2 * n + i + 1 if i % 7 == 0 else i + 1,  # changed after its translation
                    }
                    for i in range(start, min(n, start + CHUNK))
                ],
            )
        for language in languages:
            for start in range(0, n, CHUNK):
                ids = range(start, min(n, start + CHUNK))
                conn.execute(
                    insert(translations),
                    [
                        {
                            "article_id": i + 1,
                            "language": language,
                            "engine": "apertium",
                            "model": f"apertium:eng-{language}@{1 + i % 2}",
                            "title": f"Story {i} ({language})",
                            "body": "{}",
                            # every 7th made from an older text: it waits for a pass
                            "source_hash": f"{i:064x}:en" if i % 7 else "0" * 64 + ":en",
                            "updated": NOW,
                            "seq": n + i + 1,
                        }
                        for i in ids
                    ],
                )
                conn.execute(
                    insert(feed_log),
                    [{"language": language, "article_id": i + 1, "seq": i + 1, "page": i // 50 or None} for i in ids],
                )
            conn.execute(insert(feed_state).values(language=language, next_seq=n + 1))
        # The kept counts, as the store's migration counts them from existing rows.
        t, a = translations.c, articles.c
        conn.execute(
            insert(translation_counts).from_select(
                ["language", "engine", "model", "translations"],
                select(t.language, t.engine, t.model, func.count()).group_by(t.language, t.engine, t.model),
            )
        )
        conn.execute(
            insert(article_counts).from_select(
                ["source", "articles"], select(a.source, func.count()).group_by(a.source)
            )
        )
        conn.execute(
            insert(current_counts).from_select(
                ["language", "source", "translations"],
                select(t.language, a.source, func.count())
                .select_from(articles.join(translations, t.article_id == a.id))
                .where(current_rule())
                .group_by(t.language, a.source),
            )
        )


def full_scan(store: Store, languages: list[Lang]) -> list[tuple[str, int, int, int, tuple[tuple[str, str, int], ...]]]:
    """The overview as it was computed before: every article's and translation's light
    columns into Python (the rule "read as English": the fill's one source language)."""
    with store.engine.connect() as conn:
        keys = {
            row.id: f"{row.content_hash}:en" for row in conn.execute(select(articles.c.id, articles.c.content_hash))
        }
        made: dict[str, dict[int, str]] = {}
        for row in conn.execute(select(translations.c.language, translations.c.article_id, translations.c.source_hash)):
            made.setdefault(row.language, {})[row.article_id] = row.source_hash
        shares: dict[str, list[tuple[str, str, int]]] = {}
        for language, engine, model, count in conn.execute(
            select(translations.c.language, translations.c.engine, translations.c.model, func.count())
            .group_by(translations.c.language, translations.c.engine, translations.c.model)
            .order_by(func.count().desc(), translations.c.engine)
        ):
            shares.setdefault(language, []).append((engine, model, int(count)))
        published = {
            language: int(count)
            for language, count in conn.execute(select(feed_log.c.language, func.count()).group_by(feed_log.c.language))
        }
    out = []
    for language in languages:
        done = made.get(language, {})
        pending = sum(1 for aid, key in keys.items() if done.get(aid) != key)
        out.append((language, published.get(language, 0), len(done), pending, tuple(shares.get(language, ()))))
    return out


def counters(store: Store, languages: list[Lang]) -> list[tuple[str, int, int, int, tuple[tuple[str, str, int], ...]]]:
    found: list[LanguageOverview] = StoreOverview(store).languages(languages, lambda _language: None)
    return [
        (
            o.language,
            o.published,
            o.translated,
            o.pending,
            tuple((e.engine, e.model, e.translations) for e in o.engines),
        )
        for o in found
    ]


def timed(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--languages", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    languages = LANGUAGES[: args.languages]
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="status-bench-") as tmp:
            store = Store.open(Path(tmp))
            try:
                t0 = time.perf_counter()
                fill(store, n, languages)
                filled = time.perf_counter() - t0
                wanted = [Lang(code) for code in languages]
                before, after = full_scan(store, wanted), counters(store, wanted)
                assert before == after, (before[:1], after[:1])
                scan_s = timed(lambda: full_scan(store, wanted), args.repeats)  # noqa: B023
                count_s = timed(lambda: counters(store, wanted), args.repeats)  # noqa: B023
            finally:
                store.close()
        rows.append(
            {"articles": n, "languages": len(languages), "fill_s": filled, "full_scan_s": scan_s, "counters_s": count_s}
        )
        print(
            f"{n:>8} articles x {len(languages)} languages: full scan {scan_s * 1000:8.1f} ms   "
            f"counters {count_s * 1000:8.1f} ms   ({scan_s / count_s:5.1f}x; filled in {filled:.0f} s)",
            flush=True,
        )
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
