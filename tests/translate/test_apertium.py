"""The Apertium engine against Debian's real language pairs (installed by `make setup`)."""

from __future__ import annotations

import pytest

from syndicate.errors import ModelError
from syndicate.models import Lang
from syndicate.translate.apertium import ApertiumTranslator

EN, ES = Lang("en"), Lang("es")


@pytest.fixture(scope="module")
def engine():
    translator = ApertiumTranslator()
    yield translator
    translator.close()


def test_pairs_and_model_identity(engine: ApertiumTranslator) -> None:
    assert {(EN, ES), (EN, Lang("ca")), (EN, Lang("gl")), (EN, Lang("eo")), (ES, EN)} <= engine.pairs()
    assert engine.model_id(EN, ES).startswith("apertium:eng-spa@apertium-eng-spa=")


def test_one_long_lived_pipeline_per_pair(engine: ApertiumTranslator) -> None:
    first = engine.translate(["The house is red."], EN, ES)
    pid = engine._pipelines[(EN, ES)].proc.pid
    second = engine.translate(["The dog is small.", "We met on Tuesday."], EN, ES)
    assert engine._pipelines[(EN, ES)].proc.pid == pid
    assert first == ["La casa es roja."]
    assert len(second) == 2 and second[0].startswith("El perro")


def test_stream_format_characters_round_trip(engine: ApertiumTranslator) -> None:
    tricky = "Use [brackets] ^carets$ a/b {braces} <tags> and back\\slash."
    (out,) = engine.translate([tricky], EN, ES)
    for piece in ("[", "]", "^", "$", "/", "{", "}", "<", ">", "\\"):
        assert out.count(piece) == tricky.count(piece), (piece, out)


def test_protected_terms_and_glossary(engine: ApertiumTranslator) -> None:
    (out,) = engine.translate(
        ["The Security Council read Rossiyskaya Gazeta."],
        EN,
        ES,
        protect={"Rossiyskaya Gazeta": "Rossiyskaya Gazeta", "Security Council": "Consejo de Seguridad de la ONU"},
    )
    assert "Rossiyskaya Gazeta" in out and "Consejo de Seguridad de la ONU" in out
    assert "*" not in out


def test_hashtags_and_mentions_keep_their_marks(engine: ApertiumTranslator) -> None:
    (out,) = engine.translate(["Join the #climate march with @greenpeace today."], EN, ES)
    assert "#climate" in out and "@greenpeace" in out
    # Identifiers, never translated ("@UN_News", not "@ONU_Noticiosa").
    (out,) = engine.translate(["Follow @UN_News and #ClimateStrike, rated #1."], EN, ES)
    assert "@UN_News" in out and "#ClimateStrike" in out and "#1" in out


def test_a_mark_of_the_source_does_not_let_the_engines_marks_through(engine: ApertiumTranslator) -> None:
    # A footnote's "*" in the source; "inception" is a word the pair does not know.
    scored = engine.translate_scored(["*Average returns of all recommendations since inception."], EN, ES)
    assert scored[0].text.startswith("*") and scored[0].text.count("*") == 1, scored[0].text
    assert scored[0].unknown == ("inception",) and scored[0].confidence is not None and scored[0].confidence < 1


def test_missing_pair_names_the_debian_package(engine: ApertiumTranslator) -> None:
    with pytest.raises(ModelError) as info:
        engine.model_id(EN, Lang("ja"))
    assert "apt-get install apertium-eng-ja" in str(info.value)


def test_a_protected_name_comes_back_once_when_the_generator_writes_two_forms(engine: ApertiumTranslator) -> None:
    # Esperanto's generator writes an object both ways ("Diegon/Diego"): the name stands
    # once, no slash left (the sample's headline read "Diegon/Japanujo armeigo").
    (out,) = engine.translate_scored(
        ["Russia sees US-backed Japan militarization as global risk"],
        EN,
        Lang("eo"),
        per_segment=[{"Japan": "Japanujo", "Russia": "Rusujo"}],
    )
    assert "/" not in out.text and out.text.count("Japanujo") == 1 and out.text.startswith("Rusujo "), out.text


def test_a_protected_name_reads_as_the_noun_phrase_it_is(engine: ApertiumTranslator) -> None:
    # Kept verbatim, and the sentence around it built as with any name: the verb agrees
    # with it ("Tim Cook visitó", not "Tim Cook Visitado" as around an opaque blank) and
    # a name before a noun modifies it ("el hotel de Fort Worth", not "Fort hotel de Valor").
    terms = {"Tim Cook": "Tim Cook", "Fort Worth": "Fort Worth"}
    segments = ["Tim Cook visited the Fort Worth hotel on Monday."]
    (es,) = engine.translate_scored(segments, EN, ES, per_segment=[terms], people={"Tim Cook"})
    assert es.text.startswith("Tim Cook visitó ") and "hotel de Fort Worth" in es.text, es.text
    (ca,) = engine.translate_scored(segments, EN, Lang("ca"), per_segment=[terms], people={"Tim Cook"})
    assert ca.text.startswith("Tim Cook va visitar ") and "hotel de Fort Worth" in ca.text, ca.text
