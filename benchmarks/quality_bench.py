"""What readers read: syndicate's translation against the raw engine's, on public data.

Two measurements, each printed side by side with the raw engine on the same input:

1. **Fluency** on a public parallel news test set with human references: the 341
   Wikinews sentences of FLORES-200 devtest (CC BY-SA 4.0; ``benchmarks/data/flores-wikinews/``,
   see its SOURCE.md) into Spanish, Catalan, Galician and Esperanto. chrF and BLEU
   (sacrebleu) of syndicate's output (names protected, numbers and typography finished)
   and of plain ``apertium -u <pair>`` over the same lines: protection must not cost
   fluency.
2. **Names and numbers kept** on 40 real English news pages (``benchmarks/data/news/``,
   see its SOURCES.md), read by syndicate's extractor: of the person, company, brand,
   product and place names a Spanish newspaper prints unchanged (listed by hand in
   ``expected.json`` before any output was looked at), the share that comes out
   unchanged; of the names a newspaper translates, the share that comes out in its
   Spanish form; of the listed numbers, the share whose value is in the output; and
   the engine marks or bracket debris left in the output. Pages 1, 3, 5, ... and 2, 4,
   6, ... are reported apart, so rules tuned on one half can be checked on the other.

Run: ``.venv/bin/python benchmarks/quality_bench.py [--languages es,ca,gl,eo] [--skip-news]``
(about a minute: Apertium only, no network).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syndicate.config import ExtractSettings  # noqa: E402
from syndicate.extract import extract  # noqa: E402
from syndicate.extract.blocks import blocks_text  # noqa: E402
from syndicate.models import Article, Lang, Paragraph, RawItem, StoredArticle  # noqa: E402
from syndicate.translate.analysis import Lookup  # noqa: E402
from syndicate.translate.apertium import ApertiumTranslator  # noqa: E402
from syndicate.translate.names import NameFinder  # noqa: E402
from syndicate.translate.numbers import parse_values  # noqa: E402
from syndicate.translate.polish import Polisher  # noqa: E402
from syndicate.translate.service import ArticleTranslator, Counts, Leg, MemoryEntry  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
EN = Lang("en")
PAIRS = {"es": "eng-spa", "ca": "eng-cat", "gl": "en-gl", "eo": "en-eo"}
NOW = datetime(2026, 12, 1, tzinfo=UTC)


class NoMemory:
    """A memory that remembers nothing: every segment goes to the engine."""

    def get(
        self, engine: str, model: str, source: str, target: str, items: Sequence[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], MemoryEntry], set[tuple[str, str]]]:
        return {}, set()

    def put(self, *args: object, **kwargs: object) -> None:
        return None


def translator(engine: ApertiumTranslator, target: str) -> ArticleTranslator:
    return ArticleTranslator(
        NoMemory(),
        [Leg(EN, Lang(target), (engine,))],
        clock=lambda: NOW,
        counts=Counts(),
        source=EN,
        target=Lang(target),
        names=NameFinder(EN, Lookup(engine.analyser(EN))),
        polisher=Polisher(EN, Lang(target), Lookup(engine.analyser(Lang(target)))),
        pair_lookup=Lookup(engine.pair_analyser(EN, Lang(target))),
    )


def raw_apertium(lines: Sequence[str], target: str) -> list[str]:
    """Plain ``apertium -u <pair>`` over the lines, one per line (the engine's own output)."""
    text = "\n".join(line.replace("\n", " ") for line in lines) + "\n"
    done = subprocess.run(
        ["apertium", "-u", "-f", "txt", PAIRS[target]], input=text, capture_output=True, text=True, check=True
    )
    out = done.stdout.rstrip("\n").split("\n")
    if len(out) != len(lines):
        raise SystemExit(f"apertium {PAIRS[target]} gave {len(out)} lines for {len(lines)}")
    return [line.strip() for line in out]


# -- 1. fluency on FLORES-200 (Wikinews) -------------------------------------------------------


def flores(engine: ApertiumTranslator, targets: Sequence[str]) -> None:
    import sacrebleu

    folder = DATA / "flores-wikinews"
    source = (folder / "src.en").read_text(encoding="utf-8").splitlines()
    meta = [row.split("\t") for row in (folder / "meta.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    # One article per Wikinews story (its sentences as paragraphs): names are found with the
    # article as evidence, as in production.
    groups: dict[str, list[int]] = {}
    for index, row in enumerate(meta):
        groups.setdefault(row[1], []).append(index)
    articles = []
    for number, (url, indexes) in enumerate(groups.items(), 1):
        article = Article(
            source="flores",
            key=url,
            title="",
            blocks=tuple(Paragraph(source[i]) for i in indexes),
            url=url,
            language="en",
        )
        articles.append((StoredArticle(number, f"a{number}", article, NOW, NOW), indexes))
    print(f"FLORES-200 devtest, Wikinews lines: {len(source)} sentences in {len(articles)} articles")
    print(f"{'target':8} {'system':10} {'chrF':>7} {'BLEU':>7} {'seconds':>8}")
    for target in targets:
        references = (folder / f"ref.{target}").read_text(encoding="utf-8").splitlines()
        started = time.monotonic()
        raw = raw_apertium(source, target)
        raw_seconds = time.monotonic() - started
        started = time.monotonic()
        translations, problems = translator(engine, target).translate([stored for stored, _ in articles])
        ours_seconds = time.monotonic() - started
        ours = list(raw)  # an article held back (none expected) would count as the raw output
        by_id = {t.article_id: t for t in translations}
        for stored, indexes in articles:
            found = by_id.get(stored.id)
            if found is None:
                continue
            for index, block in zip(indexes, found.blocks, strict=True):
                ours[index] = _text(block.html)  # type: ignore[attr-defined]
        for name, hypothesis, seconds in (("apertium", raw, raw_seconds), ("syndicate", ours, ours_seconds)):
            chrf = sacrebleu.corpus_chrf(hypothesis, [references]).score
            bleu = sacrebleu.corpus_bleu(hypothesis, [references]).score
            print(f"{target:8} {name:10} {chrf:7.2f} {bleu:7.2f} {seconds:8.1f}")
        if problems:
            print(f"  ({len(problems)} article(s) held back)")


def _text(fragment: str) -> str:
    import lxml.html

    return str(lxml.html.fragment_fromstring(fragment, create_parent="div").text_content()).strip()


# -- 2. names and numbers on real news pages ---------------------------------------------------


def _has(text: str, phrase: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text) is not None


def news(engine: ApertiumTranslator) -> None:
    folder = DATA / "news"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    stored: list[StoredArticle] = []
    for number, path in enumerate(sorted(folder.glob("*.html.gz")), 1):
        name = path.name[: -len(".gz")]
        item = RawItem(
            source="news",
            key=name,
            data=gzip.decompress(path.read_bytes()),
            media_type="text/html",
            url=f"https://news.invalid/{name}",
        )
        article = extract(item, ExtractSettings())
        stored.append(StoredArticle(number, path.stem, article, NOW, NOW))
    translations, _ = translator(engine, "es").translate(stored)
    ours = {t.article_id: t.title + "\n" + blocks_text(t.blocks) for t in translations}
    sources = {s.id: s.article.title + "\n" + blocks_text(s.article.blocks) for s in stored}
    # The raw engine reads every page's text, line by line, in one run.
    lines = [(s.id, line) for s in stored for line in sources[s.id].split("\n")]
    raw_out = raw_apertium([line for _, line in lines], "es")
    raw: dict[int, str] = {}
    for (page, _), line in zip(lines, raw_out, strict=True):
        raw[page] = raw[page] + "\n" + line if page in raw else line
    print()
    print(f"Real English news pages into es: {len(stored)} pages (names and numbers listed by hand, see SOURCES.md)")
    print(f"{'pages':10} {'system':10} {'kept':>14} {'translated':>14} {'numbers':>14} {'marks/debris':>13}")
    halves = {
        "odd": [s for n, s in enumerate(stored) if n % 2 == 0],
        "even": [s for n, s in enumerate(stored) if n % 2],
        "all": stored,
    }
    for label, pages in halves.items():
        for system, outputs in (("apertium", raw), ("syndicate", ours)):
            kept = [0, 0]
            forms = [0, 0]
            numbers = [0, 0]
            debris = 0
            for page in pages:
                e = expected.get(page.article.key, {})
                source_text, output = sources[page.id], outputs.get(page.id, "")
                for phrase in e.get("keep", []):
                    if _has(source_text, phrase):
                        kept[1] += 1
                        kept[0] += _has(output, phrase)
                for phrase, spanish in e.get("translate", {}).items():
                    if _has(source_text, phrase):
                        forms[1] += 1
                        forms[0] += _has(output, spanish)
                values = set(parse_values(output, Lang("es")))
                for phrase in e.get("numbers", []):
                    wanted = parse_values(phrase, EN)
                    if wanted and phrase in source_text:
                        numbers[1] += 1
                        numbers[0] += all(v in values for v in wanted)
                marks = r"(?<![\w\\])[*#@](?=\w)"  # per page: a page's lost hashtag hides no other's debris
                debris += max(0, len(re.findall(marks, output)) - len(re.findall(marks, source_text)))
                debris += max(0, output.count("[") - source_text.count("["))
            print(f"{label:10} {system:10} {_share(kept):>14} {_share(forms):>14} {_share(numbers):>14} {debris:>13}")


def _share(pair: list[int]) -> str:
    done, total = pair
    return f"{done}/{total} {done / total:.1%}" if total else "-"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default="es,ca,gl,eo", help="FLORES targets (default: es,ca,gl,eo)")
    parser.add_argument("--skip-news", action="store_true", help="only the FLORES measurement")
    args = parser.parse_args(argv)
    engine = ApertiumTranslator()
    try:
        flores(engine, [t for t in args.languages.split(",") if t])
        if not args.skip_news:
            news(engine)
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
