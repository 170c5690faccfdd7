"""Finishing engine output: no debris, the target's typography, glued words split."""

from __future__ import annotations

import pytest

from syndicate.models import Lang
from syndicate.translate.analysis import Lookup
from syndicate.translate.apertium import ApertiumTranslator
from syndicate.translate.polish import Polisher

EN = Lang("en")


def polish(target: str, source: str, output: str, lookup: Lookup | None = None) -> tuple[str, tuple[str, ...]]:
    return Polisher(EN, Lang(target), lookup).polish_all([(source, output)])[0]


def test_engine_marks_and_bracket_debris_never_reach_readers() -> None:
    assert polish("eo", "‘We had some things,’ he said.", "[']Ni havis kelkajn aferojn,['] li diris.") == (
        "Ni havis kelkajn aferojn, li diris.",
        ("debris",),
    )
    assert polish("es", "Three fatalities.", "Tres *fatalities.")[0] == "Tres fatalities."
    # What the source itself has stays.
    assert polish("es", "Rate *this* [now].", "Valora *esto* [ahora].")[0] == "Valora *esto* [ahora]."


def test_spacing_around_punctuation() -> None:
    assert polish("es", "He said so, and left.", "Lo dijo así , y se fue .")[0] == "Lo dijo así, y se fue."
    assert polish("es", '"Why not?" she asked.', '" Por qué no ?" Preguntó.')[0] == '"¿Por qué no?" Preguntó.'
    assert polish("fr", "Why? Really!", "Pourquoi? Vraiment!")[0] == "Pourquoi\u202f? Vraiment\u202f!"


def test_typographic_quotes_become_the_target_s_own() -> None:
    assert (
        polish("es", "‘He died in my hands’, he said.", "‘ Murió en mis manos', dijo.")[0]
        == "«Murió en mis manos», dijo."
    )
    assert polish("gl", "“It is over,” she said.", "“Acabou,” dixo.")[0] == "“Acabou,” dixo."
    assert polish("de", "“It is over,” she said.", "“Es ist vorbei,” sagte sie.")[0] == "„Es ist vorbei,“ sagte sie."
    # Plain quotes are valid everywhere: paired and spaced, not restyled.
    assert polish("es", 'named "The Seven Sisters", it', 'llamado "Las Siete Hermanas ", es')[0] == (
        'llamado "Las Siete Hermanas", es'
    )


@pytest.mark.parametrize(
    ("source", "output", "expected"),
    [
        ("Why not?", "Por qué no?", "¿Por qué no?"),
        ("What a day!", "Qué un día!", "¡Qué un día!"),
        ("Is it true? Yes, it is.", "Es cierto? Sí, lo es.", "¿Es cierto? Sí, lo es."),
        ('He asked: "Who knows?"', 'Preguntó: "Quién sabe?"', 'Preguntó: "¿Quién sabe?"'),
        ("¿Ya?", "¿Ya?", "¿Ya?"),
        ("It works.", "Funciona.", "Funciona."),
    ],
)
def test_spanish_opens_questions_and_exclamations(source: str, output: str, expected: str) -> None:
    assert polish("es", source, output)[0] == expected
    assert polish("ca", source, output)[0] == output.strip()  # Catalan does not


def test_a_sentence_that_starts_with_a_capital_keeps_it() -> None:
    assert (
        polish("ca", "Johnson's company grew.", "l'empresa de Johnson va créixer.")[0]
        == "L'empresa de Johnson va créixer."
    )


@pytest.mark.apertium
def test_glued_words_are_split_with_the_target_dictionary() -> None:
    engine = ApertiumTranslator()
    try:
        es = Lookup(engine.analyser(Lang("es")))
        eo = Lookup(engine.analyser(Lang("eo")))
        assert polish("es", "The 8-year-old girl.", "La chicade8años.", es) == ("La chica de 8 años.", ("glued",))
        assert polish("es", "A record-breaking year.", "Un año queromperécord.", es)[1] == ("glued",)
        # Esperanto makes words by joining words: only the article and "de" an engine glued on are split.
        assert polish("eo", "His company grew.", "lafirmao de Johnson kreskis.", eo) == (
            "La firmao de Johnson kreskis.",
            ("glued",),
        )
        assert polish("eo", "The culture of the town.", "La kulturode la urbo.", eo)[0] == "La kulturo de la urbo."
        assert polish("eo", "It runs out.", "Ĝi elkuras.", eo) == ("Ĝi elkuras.", ())
        # A word the source has (a name, a code) is never split.
        assert polish("es", "Meet Mendezabalaga.", "Conoce a Mendezabalaga.", es) == ("Conoce a Mendezabalaga.", ())
    finally:
        engine.close()
