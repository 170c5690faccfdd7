"""A rule change reaches exactly the published articles it affects, in the next run.

Three articles; a glossary entry and a ``keep_verbatim`` term that only one of them
uses are added to the config, and the next ``once`` must (a) send the engine only the
sentences with the term (the rest come from the memory), (b) change only that
article's translation and page, with its ``updated`` moved, and (c) leave the other
articles' rows, pages and dates alone. Engines are scripted (tests/fakes.py) so every
segment sent is counted; the real Apertium engine's side is in tests/test_quality_e2e.py.
"""

from __future__ import annotations

from pathlib import Path

import feedparser

from syndicate.config import load_settings
from syndicate.models import Lang
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged

ES = Lang("es")

ARTICLES = {
    "harbour.txt": "Harbour works begin\n\nThe harbour authority started dredging on Monday. "
    "The Security Council of the region praised the plan.\n\nWork should end in May.\n",
    "rail.txt": "Rail timetable changes\n\nThe rail operator will change its winter timetable. "
    "More trains will run at night.\n\nTickets go on sale next week.\n",
    "school.txt": "School repairs finished\n\nThe school reopened after repairs to its roof. "
    "Parents welcomed the news.\n\nClasses start on Tuesday.\n",
}


def configure(tmp_path: Path, extra: str = "") -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    config = tmp_path / "config.toml"
    if config.exists():
        config.unlink()
    return write_config(
        tmp_path, languages=("es",), engines=("apertium",), articles=folder, keep_verbatim=(), extra=extra
    )


def run(config: Path, engine: FakeEngine, clock: Clock):
    settings = load_settings(config)
    with Store.open(settings.state_dir) as store:
        pool = Engines(settings, factories={"apertium": lambda s: engine})
        report = once(settings, store, engines=pool, clock=clock)
        translations = store.translations.for_language(ES)
        titles = {store.articles.get(aid).article.key: t for aid, t in translations.items()}  # type: ignore[union-attr]
    return report, titles


def pages(tmp_path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (tmp_path / "translations" / "es").glob("*.html")}


def test_a_glossary_entry_reaches_exactly_the_articles_that_use_it(tmp_path: Path) -> None:
    clock = Clock()
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    config = configure(tmp_path)
    report, before = run(config, engine, clock)
    assert report.ok, report.failures
    pages_before = pages(tmp_path)
    engine.calls.clear()
    clock.advance(hours=1)

    # The operator adds a glossary entry that only the harbour article uses.
    configure(tmp_path, extra='[translate.glossary.es]\n"Security Council" = "Consejo de Seguridad"\n')
    report, after = run(config, engine, clock)
    assert report.ok, report.failures

    # (a) Only the sentence with the term went to the engine; everything else came from the memory.
    sent = [s for call in engine.calls for s in call]
    assert sent == ["The Security Council of the region praised the plan."], sent
    # (b) The harbour article says "Consejo de Seguridad" now, and its updated date moved.
    harbour = after["harbour.txt"]
    text = " ".join(b.html for b in harbour.blocks)  # type: ignore[attr-defined]
    assert "Consejo de Seguridad" in text
    assert harbour.updated == clock() and before["harbour.txt"].updated < harbour.updated
    # (c) The other articles are as they were: same rows, same dates, same pages.
    for key in ("rail.txt", "school.txt"):
        assert after[key] == before[key]
    pages_after = pages(tmp_path)
    changed = {name for name in pages_after if pages_after[name] != pages_before.get(name)}
    # The harbour page, and its neighbours' pages (they show its title in their links)
    # only if its title changed: it did not, so the harbour page and the index alone.
    assert changed == {"harbour-works-begin.html"}, changed
    # The feed says so: the harbour entry's updated moved, the others' did not.
    feed = feedparser.parse((tmp_path / "feeds" / "es" / "atom.xml").read_bytes())
    updated = {e.title: e.updated for e in feed.entries}
    assert len(set(updated.values())) == 2, updated

    # The next run has nothing to do.
    engine.calls.clear()
    report, again = run(config, engine, clock)
    assert engine.calls == [] and report.translations_written == 0 and report.files_written == 0
    assert again == after


def test_keep_verbatim_reaches_the_articles_that_name_it_and_no_other(tmp_path: Path) -> None:
    clock = Clock()
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    config = configure(tmp_path)
    _, before = run(config, engine, clock)
    engine.calls.clear()
    clock.advance(hours=1)

    configure(tmp_path, extra="")
    text = config.read_text(encoding="utf-8").replace("keep_verbatim = []", 'keep_verbatim = ["winter timetable"]')
    config.write_text(text, encoding="utf-8")
    report, after = run(config, engine, clock)
    assert report.ok, report.failures
    sent = [s for call in engine.calls for s in call]
    assert sent == ["The rail operator will change its winter timetable."], sent  # the one sentence that names it
    assert "winter timetable" in " ".join(b.html for b in after["rail.txt"].blocks)  # type: ignore[attr-defined]
    assert after["rail.txt"].updated == clock()
    assert after["harbour.txt"] == before["harbour.txt"] and after["school.txt"] == before["school.txt"]
