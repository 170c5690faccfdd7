"""Readers and partners are told what they read: a machine translation, from which
language, by which engine and model, how sure; in the reader's own words; and a
translation the engines cannot vouch for is marked or held back, as the operator says.
"""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
from lxml import etree

from syndicate.config import load_settings
from syndicate.models import Lang
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged

ITS = "{http://www.w3.org/2005/11/its}"
SYN = "{urn:syndicate:translation}"
ATOM = "{http://www.w3.org/2005/Atom}"

STORIES = {
    "rail.txt": "Rail timetable changes\n\nThe rail operator will change its winter timetable.\n\nTickets go on sale next week.\n",
    "school.txt": "School repairs finished\n\nThe school reopened after repairs to its roof.\n\nClasses start on Tuesday.\n",
}


def publish(
    tmp_path: Path, *, languages: tuple[str, ...], confidence: dict[str, float] | None = None, extra: str = ""
) -> Path:
    """Publish the two stories, the fake engine saying ``confidence[language]`` of its work."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, text in STORIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    config = write_config(tmp_path, languages=languages, articles=folder, keep_verbatim=(), extra=extra)
    settings = load_settings(config)
    confidence = confidence or {}
    engines = {}
    for language in languages:
        engine = FakeEngine(
            "apertium", {("en", language)}, tagged, model="0.8.1-2", confidence=confidence.get(language, 0.9)
        )
        engines[language] = engine

    class ByLanguage(FakeEngine):
        def translate_scored(self, segments, source, target, **kwargs):  # type: ignore[no-untyped-def,override]
            return engines[target].translate_scored(segments, source, target, **kwargs)

    router = ByLanguage("apertium", {("en", language) for language in languages}, tagged, model="0.8.1-2")
    with Store.open(settings.state_dir) as store:
        report = once(settings, store, engines=Engines(settings, {"apertium": lambda _s: router}), clock=Clock())
    assert report.ok, report.failures
    return tmp_path


def page(root: Path, language: str, slug: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((root / "translations" / language / f"{slug}.html").read_bytes())


def test_a_page_says_it_is_a_machine_translation_in_the_readers_words(tmp_path: Path) -> None:
    root = publish(tmp_path, languages=("es", "eo", "ja"))
    spanish = page(root, "es", "rail-timetable-changes")
    article = spanish.find(".//article")
    assert article.get("its-annotators-ref") == "mt-confidence|tag:news.example.org,2026:mt/apertium:en-es@0.8.1-2"
    assert article.get("its-mt-confidence") == "0.9000"
    notice = " ".join(spanish.find(".//aside[@class='provenance']").text_content().split())
    assert notice.startswith("Traducción automática. Idioma original: inglés.")
    assert "Confianza: 90 %." in notice
    assert spanish.find(".//time").text.endswith("de 2026")  # CLDR's long date in Spanish: "1 de marzo de 2026"
    esperanto = " ".join(page(root, "eo", "rail-timetable-changes").find(".//aside").text_content().split())
    assert esperanto.startswith("Maŝina traduko. Originala lingvo: angla.")
    # A language without a catalogue gets English words (and CLDR's language name and date).
    japanese = page(root, "ja", "rail-timetable-changes")
    assert " ".join(japanese.find(".//aside").text_content().split()).startswith(
        "Machine translation. Original language: 英語."
    )
    index = lxml.html.fromstring((root / "translations" / "es" / "index.html").read_bytes())
    assert index.find(".//p[@class='count']").text == "2 artículos"


def test_feeds_carry_the_same_facts_for_programs(tmp_path: Path) -> None:
    root = publish(tmp_path, languages=("es",), confidence={"es": 0.75})
    atom = etree.parse(str(root / "feeds" / "es" / "atom.xml")).getroot()
    assert atom.get(f"{ITS}version") == "2.0"
    for entry in atom.iter(f"{ATOM}entry"):
        assert entry.get(f"{ITS}mtConfidence") == "0.7500"
        assert entry.get(f"{ITS}annotatorsRef", "").startswith("mt-confidence|tag:news.example.org,")
        said = entry.find(f"{SYN}translation")
        assert said is not None and dict(said.attrib) == {
            "engine": "apertium",
            "model": "apertium:en-es@0.8.1-2",
            "source-language": "en",
            "confidence": "0.7500",
            "status": "machine",
        }
        assert not [c for c in entry.iter(f"{ATOM}category") if (c.get("term") or "").startswith("engine:")]
    rss = etree.parse(str(root / "feeds" / "es" / "rss.xml")).getroot()
    assert rss.get(f"{ITS}version") == "2.0"
    assert all(
        item.find(f"{SYN}translation") is not None and item.get(f"{ITS}mtConfidence") == "0.7500"
        for item in rss.iter("item")
    )
    feed = json.loads((root / "feeds" / "es" / "feed.json").read_bytes())
    for item in feed["items"]:
        assert item["_syndicate"]["translation"] == {
            "machine": True,
            "engine": "apertium",
            "model": "apertium:en-es@0.8.1-2",
            "source_language": "en",
            "confidence": 0.75,
            "low_confidence": False,
            "annotator": "tag:news.example.org,2026:mt/apertium:en-es@0.8.1-2",
            "status": "machine",
        }


def test_low_confidence_is_marked_where_the_operator_says_mark(tmp_path: Path) -> None:
    extra = '[translate.quality]\nthreshold = 0.8\naction = "mark"\n'
    root = publish(tmp_path, languages=("es", "ca"), confidence={"es": 0.6, "ca": 0.95}, extra=extra)
    spanish = page(root, "es", "rail-timetable-changes")
    aside = spanish.find(".//aside")
    assert "low-confidence" in aside.get("class") and aside.find("p[@class='warning']") is not None
    catalan = page(root, "ca", "rail-timetable-changes")
    assert catalan.find(".//aside").get("class") == "provenance"
    atom = etree.parse(str(root / "feeds" / "es" / "atom.xml")).getroot()
    statuses = {e.find(f"{SYN}translation").get("status") for e in atom.iter(f"{ATOM}entry")}
    assert statuses == {"machine-low-confidence"}
    feed = json.loads((root / "feeds" / "es" / "feed.json").read_bytes())
    assert all(item["_syndicate"]["translation"]["low_confidence"] for item in feed["items"])


def test_low_confidence_is_held_back_where_the_operator_says_hold(tmp_path: Path) -> None:
    extra = '[translate.quality]\nthreshold = 0.5\n[translate.quality.languages.es]\nthreshold = 0.8\naction = "hold"\n'
    root = publish(tmp_path, languages=("es", "ca"), confidence={"es": 0.6, "ca": 0.6}, extra=extra)
    # Held: nothing under 80% is published in Spanish (a language with nothing to publish has no feed yet).
    assert not (root / "feeds" / "es" / "atom.xml").exists()
    assert not (root / "translations" / "es" / "rail-timetable-changes.html").exists()
    ca_feed = etree.parse(str(root / "feeds" / "ca" / "atom.xml")).getroot()
    assert len(list(ca_feed.iter(f"{ATOM}entry"))) == 2  # Catalan's rule is the general one: 50%, met
    # The translations are stored all the same: a better engine or a correction publishes them.
    settings = load_settings(root / "config.toml")
    with Store.open(settings.state_dir) as store:
        assert len(store.translations.for_language(Lang("es"))) == 2


def test_an_operators_template_replaces_the_bundled_one(tmp_path: Path) -> None:
    folder = tmp_path / "my-templates"
    folder.mkdir()
    (folder / "language.html").write_text(
        '<!doctype html><html lang="{{ edition.language }}"><title>{{ edition.title }}</title>'
        "<h1>{{ _('Feeds') }}: {{ edition.title }}</h1><ol>{{ listing }}</ol></html>\n",
        encoding="utf-8",
    )
    root = publish(
        tmp_path, languages=("es",), extra=f'[publish]\ntemplates_dir = "{folder}"\n'.replace("[publish]", "[publish]")
    )
    index = (root / "translations" / "es" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Canales: Test News (Español)</h1>" in index  # the operator's template, in the reader's words
    assert (root / "translations" / "es" / "rail-timetable-changes.html").read_text(encoding="utf-8").count(
        "<aside"
    ) == 1
