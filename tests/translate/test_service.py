"""The translation stage through the pipeline, with scripted engines.

Real engines are covered elsewhere (Apertium end to end, the Argos fixture package);
here fakes make the failure modes deterministic: bad output, engine errors, missing pairs.
"""

from __future__ import annotations

import logging
from pathlib import Path

import feedparser
import lxml.html
import pytest
from lxml import etree

from syndicate.config import load_settings
from syndicate.errors import TranslationError
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged

ARTICLE = """Council Approves New Budget

The city council approved the new budget on Tuesday after a long debate. The Security Council of the region welcomed it.

Officials said more buses will run next year. [Source attribution: Rossiyskaya Gazeta]
"""


def setup(
    tmp_path: Path,
    engines: dict[str, FakeEngine],
    *,
    languages=("es",),
    extra: str = "",
    articles: dict[str, str] | None = None,
):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in (articles or {"budget.txt": ARTICLE}).items():
        (folder / name).write_text(text, encoding="utf-8")
    config = write_config(tmp_path, languages=languages, engines=tuple(engines), articles=folder, extra=extra)
    settings = load_settings(config)
    store = Store.open(settings.state_dir)
    pool = Engines(settings, factories={name: (lambda s, e=e: e) for name, e in engines.items()})
    return settings, store, pool


def run(settings, store, pool, clock=None):
    return once(settings, store, engines=pool, clock=clock or Clock())


def text_of(store: Store, language: str) -> str:
    t = next(iter(store.translations.for_language(language).values()))
    body = " ".join(lxml.html.fragment_fromstring(p, create_parent="div").text_content() for p in t.paragraphs)
    return f"{t.title} {body}"


def test_bad_output_falls_back_to_next_engine_and_is_counted(tmp_path: Path) -> None:
    def flaky(s: str, a: str, b: str) -> str:
        if "debate" in s:
            return ""  # empty
        if "buses" in s:
            return s  # a copy of the source
        if "welcomed" in s:
            return "bla " * 40  # a loop
        return tagged(s, a, b)

    first = FakeEngine("argos", {("en", "es")}, flaky)
    second = FakeEngine("apertium", {("en", "es")}, tagged)
    settings, store, pool = setup(tmp_path, {"argos": first, "apertium": second})
    report = run(settings, store, pool)
    assert report.ok, report.failures
    assert report.guard_failures == 3
    text = text_of(store, "es")
    assert "debate.~es" in text or "debate~es" in text
    assert "buses~es" in text and "welcomed~es" in text
    assert "bla" not in text
    assert sorted(s for call in second.calls for s in call) == sorted(
        [
            "The city council approved the new budget on Tuesday after a long debate.",
            "The Security Council of the region welcomed it.",
            "Officials said more buses will run next year.",
        ]
    )
    stats = store.stats.all()
    assert stats[("es", "argos")]["guard_failures"] == 3
    assert stats[("es", "apertium")]["translated"] == 3

    # Next run: the rejected segments go straight to the second engine's memory.
    (tmp_path / "articles" / "budget.txt").write_text(ARTICLE.replace("Tuesday", "Monday"), encoding="utf-8")
    first.calls.clear()
    second.calls.clear()
    report = run(settings, store, pool)
    assert [len(c) for c in first.calls] == [1]  # only the edited sentence is new
    assert second.calls == [["The city council approved the new budget on Monday after a long debate."]]


def test_guards_each_failure_mode() -> None:
    from syndicate.translate.guards import check

    source = "The city council approved the new budget on Tuesday after a long debate."
    assert check(source, "El ayuntamiento aprobó el nuevo presupuesto el martes tras un largo debate.") is None
    assert check(source, "  ") == "empty"
    assert check(source, source) == "copy of the source"
    assert check(source, "x" * 400) == "too long"
    assert check(source, "El.") == "too short"
    assert check(source, "debate debate debate debate debate") == "repetition loop"
    names = {"Rossiyskaya Gazeta": "Rossiyskaya Gazeta"}
    assert check("Rossiyskaya Gazeta reported it.", "Rossiyskaya Gazeta", names) == "nothing but protected terms"
    assert (
        check("Rossiyskaya Gazeta reported it.", "Rossiyskaya informó.", names)
        == "lost protected term 'Rossiyskaya Gazeta'"
    )
    # Names, numbers and short labels may legitimately come back unchanged.
    assert check("Cuatro", "Cuatro") is None and check("3.5%", "3,5 %") is None
    assert check("Rossiyskaya Gazeta", "Rossiyskaya Gazeta", names) is None
    assert check("我们", "我们") is None  # no word of two letters: nothing to judge


def test_guards_let_benign_copies_and_short_translations_through() -> None:
    """Segments that rightly stay the same, seen holding back real articles."""
    from syndicate.translate.guards import check

    for same in (
        "letters@nytimes.com",
        "pic.twitter.com/AbC123xyz",
        "https://www.example.com/news/2026/the-long-read-about-cities",
        "@jane_doe and @news_desk",
        "#ClimateStrike #FridaysForFuture",
        "COVID-19 A320neo NYSE: AAPL",
        "ISBN 978-3-16-148410-0",
        "Jean-Claude Van Damme and Marie Curie",
    ):
        assert check(same, same) is None, same
    assert check("and", "Y") is None  # a one-letter translation is a translation
    assert check("or", "o") is None
    # Real sentences copied through are still caught, even with a link in them.
    sentence = "Read the full report on the website of the council at https://example.org/report."
    assert check(sentence, sentence) == "copy of the source"
    # "Nothing but protected terms" needs protected terms.
    assert (
        check("Rossiyskaya Gazeta reported it.", "Rossiyskaya Gazeta", {"Rossiyskaya Gazeta": "Rossiyskaya Gazeta"})
        == "nothing but protected terms"
    )


def test_one_segment_failing_every_engine_is_published_in_the_original_marked(tmp_path: Path) -> None:
    broken = FakeEngine("apertium", {("en", "es")}, lambda s, a, b: s if "buses" in s else tagged(s, a, b))
    settings, store, pool = setup(tmp_path, {"apertium": broken})
    report = run(settings, store, pool)
    assert report.ok, report.failures  # one benign-looking failure does not hold the article back
    t = next(iter(store.translations.for_language("es").values()))
    assert t.untranslated == 1 and "untranslated:1" in t.notes
    body = "".join(t.paragraphs)
    assert '<span lang="en" class="untranslated">Officials said more buses will run next year.</span>' in body
    assert "council~es" in body  # the rest is translated
    assert store.stats.all()[("es", "apertium")]["untranslated"] == 1
    entry = feedparser.parse((tmp_path / "feeds" / "es" / "atom.xml").read_bytes()).entries[0]
    assert 'class="untranslated"' in entry.content[0].value
    # Not retried on the next poll: the engine already said no, and nothing changed.
    calls = len(broken.calls)
    assert run(settings, store, pool).ok and len(broken.calls) == calls


def test_article_mostly_failing_every_engine_stays_unpublished(tmp_path: Path) -> None:
    broken = FakeEngine("apertium", {("en", "es")}, lambda s, a, b: tagged(s, a, b) if s.startswith("Council") else s)
    settings, store, pool = setup(tmp_path, {"apertium": broken})
    report = run(settings, store, pool)
    assert not report.ok
    assert any("budget.txt" in f and "copy of the source" in f and "not published in es" in f for f in report.failures)
    assert store.translations.for_language("es") == {}
    assert not (tmp_path / "feeds" / "es" / "atom.xml").exists()


def test_engine_exception_moves_to_next_engine(tmp_path: Path) -> None:
    def boom(s: str, a: str, b: str) -> str:
        raise RuntimeError("model crashed")

    settings, store, pool = setup(
        tmp_path,
        {
            "argos": FakeEngine("argos", {("en", "es")}, boom),
            "apertium": FakeEngine("apertium", {("en", "es")}, tagged),
        },
    )
    report = run(settings, store, pool)
    assert report.ok
    assert next(iter(store.translations.for_language("es").values())).engine == "apertium"
    assert store.stats.all()[("es", "argos")]["engine_errors"] == 1


def _bugs(part: str) -> float:
    from syndicate import metrics

    return metrics.REGISTRY.get_sample_value("syndicate_bugs_total", {"part": part}) or 0.0


def test_an_unexpected_engine_exception_is_logged_with_its_traceback_and_counted_as_a_bug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(s: str, a: str, b: str) -> str:
        raise KeyError("vocabulary")  # nothing an engine is expected to raise

    settings, store, pool = setup(
        tmp_path,
        {
            "argos": FakeEngine("argos", {("en", "es")}, boom),
            "apertium": FakeEngine("apertium", {("en", "es")}, tagged),
        },
    )
    before = _bugs("engine")
    with caplog.at_level(logging.ERROR, logger="syndicate.translate.service"):
        assert run(settings, store, pool).ok  # the next engine did the work
    failed = [r for r in caplog.records if "argos failed" in r.getMessage()]
    assert failed and failed[0].exc_info is not None and "KeyError" in failed[0].getMessage()
    assert _bugs("engine") == before + 1


def test_an_engines_own_failure_is_logged_in_its_words_and_is_no_bug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def refuses(s: str, a: str, b: str) -> str:
        raise TranslationError("the model ran out of memory", engine="argos")

    settings, store, pool = setup(
        tmp_path,
        {
            "argos": FakeEngine("argos", {("en", "es")}, refuses),
            "apertium": FakeEngine("apertium", {("en", "es")}, tagged),
        },
    )
    before = _bugs("engine")
    with caplog.at_level(logging.ERROR, logger="syndicate.translate.service"):
        assert run(settings, store, pool).ok
    failed = [r for r in caplog.records if "argos failed" in r.getMessage()]
    assert failed and failed[0].exc_info is None and "ran out of memory" in failed[0].getMessage()
    assert _bugs("engine") == before


def test_glossary_and_verbatim_terms_through_placeholders(tmp_path: Path) -> None:
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    extra = '[translate.glossary.es]\n"Security Council" = "Consejo de Seguridad"\n'
    settings, store, pool = setup(tmp_path, {"apertium": engine}, extra=extra)
    assert run(settings, store, pool).ok
    text = text_of(store, "es")
    assert "Consejo de Seguridad" in text and "Security" not in text
    t = next(iter(store.translations.for_language("es").values()))
    assert t.attribution_labels == ("Source~es attribution~es",)
    parsed = feedparser.parse((tmp_path / "feeds" / "es" / "atom.xml").read_bytes())
    assert "[Source~es attribution~es: Rossiyskaya Gazeta]" in parsed.entries[0].content[0].value


def test_engine_losing_a_protected_term_is_rejected(tmp_path: Path) -> None:
    careless = FakeEngine("argos", {("en", "es")}, tagged, honour_protect=False)
    careful = FakeEngine("apertium", {("en", "es")}, tagged)
    extra = '[translate.glossary.es]\n"Security Council" = "Consejo de Seguridad"\n'
    settings, store, pool = setup(tmp_path, {"argos": careless, "apertium": careful}, extra=extra)
    report = run(settings, store, pool)
    assert report.ok and report.guard_failures == 1
    assert "Consejo de Seguridad" in text_of(store, "es")


def test_pivot_through_english_is_noted(tmp_path: Path) -> None:
    spanish = {
        "nota.txt": "Nueva biblioteca abre en la ciudad\n\nLa nueva biblioteca abrió sus puertas el lunes por la mañana con muchos visitantes.\n"
    }
    es_en = FakeEngine("apertium", {("es", "en"), ("en", "ca")}, tagged)
    settings, store, pool = setup(tmp_path, {"apertium": es_en}, languages=("ca", "es"), articles=spanish)
    report = run(settings, store, pool)
    assert report.ok, (report.failures, report.unserved_languages)
    t = next(iter(store.translations.for_language("ca").values()))
    assert "pivot:en" in t.notes
    assert "biblioteca~en~ca" in t.title
    atom = etree.fromstring((tmp_path / "feeds" / "ca" / "atom.xml").read_bytes())
    (said,) = atom.findall(".//{urn:syndicate:translation}translation")
    assert said.get("engine") == "apertium" and said.get("pivot") == "en" and said.get("source-language") == "es"
    assert " + " in said.get("model", "")  # both legs' models
    # Detected as Spanish: published as is in the Spanish feed, never "translated" into it.
    same = next(iter(store.translations.for_language("es").values()))
    assert same.engine == "source" and same.title == "Nueva biblioteca abre en la ciudad"


def test_hostile_html_is_sanitised_before_it_is_stored(tmp_path: Path) -> None:
    page = """<html><body><article><h1>Hostile Page</h1>
<p>Click <a href="javascript:alert(1)" onmouseover="steal()">here</a> or <a href="https://ok.example/x" onclick="x()">there</a>.<script>alert(1)</script><style>p{}</style></p>
<p><img src="x" onerror="alert(1)" alt="An image"> and <span style="color:red" class="attribution">colour</span> text here today.</p>
</article></body></html>"""
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    settings, store, pool = setup(tmp_path, {"apertium": engine}, articles={"evil.html": page})
    assert run(settings, store, pool).ok
    t = next(iter(store.translations.for_language("es").values()))
    body = "".join(t.paragraphs)
    for bad in ("<script", "<style", "onmouseover", "onclick", "onerror", "javascript:", "style="):
        assert bad not in body, bad
    assert 'href="https://ok.example/x"' in body
    for sent in engine.calls:
        assert not any("<" in s or "alert" in s for s in sent)  # engines never see markup


def test_failed_retranslation_after_an_edit_keeps_the_previous_version_published(tmp_path: Path) -> None:
    broken = {"on": False}
    engine = FakeEngine("apertium", {("en", "es")}, lambda s, a, b: "" if broken["on"] else tagged(s, a, b))
    settings, store, pool = setup(tmp_path, {"apertium": engine})
    assert run(settings, store, pool).ok
    before = (tmp_path / "feeds" / "es" / "atom.xml").read_bytes()
    # The source is rewritten (most of its text is new) and the engine breaks.
    article = tmp_path / "articles" / "budget.txt"
    article.write_text(
        "Council Approves New Budget\n\nA new paragraph arrived today. [Source attribution: Wire]\n\n"
        "Nobody expected the vote to be this close, said the mayor late on Tuesday evening.\n",
        encoding="utf-8",
    )
    broken["on"] = True
    report = run(settings, store, pool)
    assert not report.ok and any("not published in es" in f for f in report.failures)
    entry = feedparser.parse((tmp_path / "feeds" / "es" / "atom.xml").read_bytes()).entries[0]
    assert "new paragraph" not in entry.content[0].value.lower()  # never mostly untranslated text
    assert "budget~es" in entry.content[0].value  # the previous translation is still there
    assert (tmp_path / "feeds" / "es" / "atom.xml").read_bytes() == before


def test_verbatim_code_text_protects_only_its_own_paragraph(tmp_path: Path) -> None:
    """`<code>a</code>` in one article must not freeze the word "a" in another."""
    articles = {
        "one.html": "<html><body><article><h1>Shell Tips</h1><p>Type <code>a</code> to add a line.</p></article></body></html>",
        "two.txt": "Small Town\n\nIt was a good day in a small town.\n",
    }
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    settings, store, pool = setup(tmp_path, {"apertium": engine}, articles=articles)
    assert run(settings, store, pool).ok
    by_title = {
        store.translations.get(sa.id, "es").title: store.translations.get(sa.id, "es") for sa in store.articles.all()
    }
    town = by_title["Small~es Town~es"]
    assert town.paragraphs[0] == "It~es was~es a~es good~es day~es in~es a~es small~es town.~es"
    tips = by_title["Shell~es Tips~es"]
    assert "<code>a</code>" in tips.paragraphs[0] and "add~es" in tips.paragraphs[0]


def test_correcting_a_sources_language_retranslates(tmp_path: Path) -> None:
    engine = FakeEngine("apertium", {("en", "es"), ("ca", "es")}, tagged)
    settings, store, pool = setup(tmp_path, {"apertium": engine})
    assert run(settings, store, pool).ok
    assert run(settings, store, pool).translations_written == 0
    config = tmp_path / "config.toml"
    config.write_text(config.read_text().replace('path = "articles"', 'path = "articles"\nlanguage = "ca"'))
    from syndicate.config import load_settings

    corrected = load_settings(config)
    pool = Engines(corrected, factories={"apertium": lambda s: engine})
    engine.calls.clear()
    report = run(corrected, store, pool)
    assert report.translations_written == 1 and engine.calls  # read as Catalan now: done again


def test_a_found_name_never_cuts_a_number_but_the_operators_terms_win() -> None:
    from datetime import UTC, datetime

    from syndicate.models import Article, Lang, Paragraph, StoredArticle
    from syndicate.translate.names import Names
    from syndicate.translate.service import ArticleTranslator, Counts, Leg

    class Finder:  # what a name finder might wrongly give: runs that overlap numbers
        def prepare(self, texts: object) -> None:
            pass

        def find(self, *args: object) -> Names:
            return Names(keep=frozenset({"PM Wednesday", "Fed\u2019s 2"}))

    class Memory:
        def get(self, *a: object, **k: object) -> tuple[dict, set]:
            return {}, set()

        def put(self, *a: object, **k: object) -> None:
            pass

    seen: list[dict[str, str]] = []

    class Recording(FakeEngine):
        def translate_scored(self, segments, source, target, *, protect=(), per_segment=None, people=frozenset()):
            seen.extend(dict(t) for t in per_segment or [])
            return super().translate_scored(segments, source, target, protect=protect, per_segment=per_segment)

    engine = Recording("fake", {("en", "es")}, tagged)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    text = "Inflation stayed under the Fed\u2019s 2 percent target. It was taken between 8 AM and 2 PM Wednesday."
    article = StoredArticle(1, "a", Article(source="s", key="1", title="Rates", blocks=(Paragraph(text),)), now, now)
    for keep, expected in [
        ((), [{"2 percent": "2\u00a0%"}, {"8 AM": "8:00", "2 PM": "14:00"}]),
        # An operator's keep_verbatim term is kept whole, even over a number.
        (("PM Wednesday",), [{"2 percent": "2\u00a0%"}, {"8 AM": "8:00", "PM Wednesday": "PM Wednesday"}]),
    ]:
        seen.clear()
        translator = ArticleTranslator(
            Memory(),
            [Leg(Lang("en"), Lang("es"), (engine,))],
            clock=lambda: now,
            counts=Counts(),
            names=Finder(),
            keep_verbatim=keep,
        )  # type: ignore[arg-type]
        translations, problems = translator.translate([article])
        assert not problems and translations
        assert sorted(map(sorted, (t.items() for t in seen if t))) == sorted(map(sorted, (e.items() for e in expected)))
