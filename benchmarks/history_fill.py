#!/usr/bin/env python3
"""Fill a long history in many languages fast, through the store's own API (issue 23,
part 5: "a fast deterministic engine is fine for filling the history, as long as the
publish and store code is the real one").

Run by ``scale_bench.py --fill store`` after a real ``syndicate once`` has translated
the first ``--templates`` articles of the folder with ``bench_engine.py``'s engine. The
folder's other articles were written with the body of a template (article ``i`` has
article ``i % templates``'s paragraphs under a title of its own), so their translations
are the template's with the title translated by the same engine:

1. the real poll (:meth:`syndicate.work.Work.poll`) reads, extracts and stores every
   new file, and records the folder's state, as ``once`` would;
2. each new article's translation into each language is the template's, its title
   translated by :class:`bench_engine.BenchEngine`, its ``source_hash`` the article's,
   stored with :meth:`~syndicate.store.translations.TranslationRepository.put` (the
   real write, counts included).

What this skips is the translate stage's own work per article (guards, names, polish:
some 15 ms a translation, an hour at 10,000 articles x 20 languages). Publishing is left
to the next real ``once``, which renders everything from the store.

    python benchmarks/history_fill.py --config cfg.toml --templates 200
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_engine import BenchEngine  # noqa: E402  # this folder: sys.path[0] when run

from syndicate.config import load_settings  # noqa: E402
from syndicate.models import Lang, SegmentRecord, Translation, source_key  # noqa: E402
from syndicate.store import Store  # noqa: E402
from syndicate.translate.engines import Engines  # noqa: E402
from syndicate.work import Work  # noqa: E402

#: Articles loaded at a time.
CHUNK = 500


def template_of(key: str, templates: int) -> int:
    """The template of the article stored under ``key`` (``000123.txt``: 123 % templates)."""
    return int(key.split(".", 1)[0]) % templates


def fill(config: Path, templates: int) -> dict[str, float]:
    settings = load_settings(config)
    store = Store.for_settings(settings)
    engine = BenchEngine()
    languages = [Lang(code) for code in settings.translate.languages]
    started = time.perf_counter()
    try:
        with Engines(settings) as engines:
            work = Work(settings, store, engines, warm_engines=False)
            outcome = work.poll(settings.sources[0].name)
        polled = time.perf_counter() - started
        print(f"    fill: poll stored {len(outcome.article_ids)} article(s) in {polled:.0f} s", flush=True)
        by_template: dict[int, int] = {}  # template index -> article id
        rest: list[int] = []
        ids = store.articles.ids()
        for start in range(0, len(ids), CHUNK):
            for stored in store.articles.many(ids[start : start + CHUNK]):
                index = int(stored.article.key.split(".", 1)[0])
                if index < templates:  # a template: translated by the real once
                    by_template[index] = stored.id
                else:
                    rest.append(stored.id)
        model: dict[Lang, dict[int, Translation]] = {language: {} for language in languages}
        for index, article_id in by_template.items():
            for language in languages:
                found = store.translations.get(article_id, language)
                if found is None:
                    raise SystemExit(f"template {index} has no translation into {language}: fill with the real once")
                model[language][index] = found
        now = datetime.now(UTC)
        put = 0
        for start in range(0, len(rest), CHUNK):
            for stored in store.articles.many(rest[start : start + CHUNK]):
                article = stored.article
                index = template_of(article.key, templates)
                source = work.source_language(stored)
                made_from = source_key(article, source)
                titles = {language: engine.translate([article.title], source, language)[0] for language in languages}
                for language in languages:
                    t = model[language][index]
                    segments = tuple(
                        SegmentRecord(article.title, titles[language], s.origin, s.confidence, s.flags, s.slot)
                        if s.slot == "title"
                        else s
                        for s in t.segments
                    )
                    put += store.translations.put(
                        replace(
                            t,
                            article_id=stored.id,
                            title=titles[language],
                            source_hash=made_from,
                            updated=now,
                            segments=segments,
                        )
                    )
            done = min(start + CHUNK, len(rest))
            print(f"    fill: {done}/{len(rest)} articles, {put} translations stored", flush=True)
    finally:
        store.close()
    return {"poll_s": polled, "total_s": time.perf_counter() - started, "translations": put}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--templates", type=int, required=True, help="articles 0..N-1 of the folder are the templates")
    args = parser.parse_args(argv)
    result = fill(args.config, args.templates)
    print(f"    fill: {result['translations']:.0f} translations in {result['total_s']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
