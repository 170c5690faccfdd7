from __future__ import annotations

import pytest

from syndicate.translate.segments import normalize, split_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("The U.S. Army said so. It left.", ["The U.S. Army said so.", "It left."]),
        (
            "Dr. Maria Lindqvist spoke. Prices rose 3.5 percent.",
            ["Dr. Maria Lindqvist spoke.", "Prices rose 3.5 percent."],
        ),
        ("“Really?” she asked. He nodded.", ["“Really?” she asked.", "He nodded."]),
        ("He said: “It works.” Then left.", ["He said: “It works.”", "Then left."]),
        ("John F. Kennedy spoke. Done.", ["John F. Kennedy spoke.", "Done."]),
        ("lower. case start continues", ["lower. case start continues"]),
        ("", []),
    ],
)
def test_split(text: str, sentences: list[str]) -> None:
    parts = split_sentences(text)
    assert [s for s, _ in parts] == sentences
    assert "".join(s + gap for s, gap in parts) == text  # lossless


def test_normalize() -> None:
    assert normalize("  Cafe\u0301   au\nlait ") == "Café au lait"


@pytest.mark.timeout(30)
def test_a_paragraph_of_rejected_boundaries_is_split_in_linear_time() -> None:
    # issue 21 (second trial): 200 KB took 36 s (quadratic), a 9.5 MB feed paragraph hung the
    # translation of every language. 2 MB now takes well under a second; before, about an hour.
    text = "the council met etc. and so on. " * 62_500
    assert split_sentences(text) == [(text, "")]
    real = "The council met on Monday. It voted, etc. and left. " * 40_000
    parts = split_sentences(real)
    assert "".join(s + w for s, w in parts) == real and len(parts) == 80_000
