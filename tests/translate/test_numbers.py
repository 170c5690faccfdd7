"""Numbers never change in value, and read as the target language writes them (CLDR)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syndicate.models import Lang
from syndicate.translate.numbers import localise, number_terms, numbers_agree, parse_values

EN, ES, CA, EO, DE = Lang("en"), Lang("es"), Lang("ca"), Lang("eo"), Lang("de")
NBSP = "\u00a0"


def test_money_with_scale_words_keeps_its_value() -> None:
    terms = number_terms("The deal was worth $12.9bn (£10bn), and it cost €3.2 million.", EN, ES)
    # A Spanish "billón" is 10^12: the engine's "12.9 billones" was a thousand times too much.
    assert terms == {
        "$12.9bn": "12,9 mil millones de dólares",
        "£10bn": "10 mil millones de libras",
        "€3.2 million": "3,2 millones de euros",
    }
    assert number_terms("He earned $40,000 a year.", EN, ES) == {"$40,000": "40.000 dólares"}
    assert number_terms("It raised $12.9bn.", EN, EO) == {"$12.9bn": "12,9 miliardoj da dolaroj"}
    assert number_terms("It raised $12.9bn.", EN, DE) == {"$12.9bn": "12,9 Milliarden Dollar"}
    assert number_terms("2.5 billion euros were spent.", EN, CA) == {
        "2.5 billion euros": "2,5 milers de milions de euros"
    }


def test_percentages_and_clock_times() -> None:
    terms = number_terms("Prices rose 15 per cent, or 2.5%, by 12:21 AM and fell at 3:30 p.m.", EN, ES)
    # The last point is the sentence's as much as "p.m."'s: it stays in the text.
    assert terms == {"15 per cent": f"15{NBSP}%", "2.5%": f"2,5{NBSP}%", "12:21 AM": "0:21", "3:30 p.m": "15:30"}
    assert number_terms("A fire between 10:00-11:00 pm MDT.", EN, ES) == {"10:00-11:00 pm": "22:00–23:00"}
    # "pm" without points leaves the sentence's point where it was.
    assert number_terms("Crews doused the fire by 11:35 pm.", EN, ES) == {"11:35 pm": "23:35"}
    assert number_terms("The meeting starts at 9 a.m. sharp.", EN, Lang("en")) == {"9 a.m.": "9:00\u202fAM"}


@pytest.mark.parametrize(
    ("segment", "key"),
    [
        # An unsplit "a.m. The": the point ends the sentence too and must survive.
        ("Hundreds lined up before the doors opened at 10 a.m. The building dates from 1912.", "10 a.m"),
        ("The doors opened at 10 a.m.", "10 a.m"),
        ("“We open at 10 a.m.”", "10 a.m"),
        # Inside the sentence, the point belongs to "a.m." alone.
        ("Polls open at 7 a.m. Friday across the state.", "7 a.m."),
        ("The vote closes at 7 a.m. Eastern, officials said.", "7 a.m."),
        ("It starts at 10 a.m. on Monday.", "10 a.m."),
    ],
)
def test_a_clock_time_at_a_sentence_end_leaves_the_point(segment: str, key: str) -> None:
    assert number_terms(segment, EN, ES) == {key: "10:00" if "10" in key else "7:00"}


def test_what_engines_get_right_is_left_to_them() -> None:
    # A million is a million in every language; plain numbers are rewritten afterwards.
    assert number_terms("About 1.5 million people and 3,500 cars.", EN, ES) == {}
    assert number_terms("No numbers here.", EN, ES) == {}
    assert number_terms("$12.9bn", Lang("fr"), ES) == {}  # patterns exist for English sources


def test_plain_numbers_take_the_target_separators() -> None:
    source = "About 3,500 people paid 7.50 dollars; 1,234,567 votes."
    assert localise("Unas 3,500 personas pagaron 7.50 dólares; 1,234,567 votos.", source, EN, ES) == (
        "Unas 3.500 personas pagaron 7,50 dólares; 1.234.567 votos."
    )
    # Versions, times written with a point, and numbers inside words are not quantities.
    source = "iOS 17.2 shipped at 12.00 GMT with 802.11n."
    output = "iOS 17.2 salió a las 12.00 GMT con 802.11n."
    assert localise(output, source, EN, ES) == output


@pytest.mark.parametrize(
    ("source", "output", "agree"),
    [
        ("It cost $12.9bn at 12:21 AM.", "Costó 12,9 mil millones de dólares a las 0:21.", True),
        ("It cost $12.9bn at 12:21 AM.", "Costó 12,9 billones de dólares a las 12:21 SOY.", False),
        ("3,500 people came.", "Vinieron 3.500 personas.", True),
        ("3,500 people came.", "Vinieron 3,500 personas.", False),  # 3,5 in Spanish
        ("Prices rose 15 per cent.", f"Los precios subieron un 15{NBSP}%.", True),
        ("Prices rose 15 per cent.", "Los precios subieron un 51 %.", False),
        ("Five people came.", "Vinieron cinco personas.", True),
    ],
)
def test_the_check_compares_values(source: str, output: str, agree: bool) -> None:
    assert numbers_agree(source, output, EN, ES) is agree


def test_values_are_read_with_each_language_s_conventions() -> None:
    assert parse_values("12,9 mil millones y 3.500 a las 0:21", ES) == [
        Decimal(-21),
        Decimal("1.29E+10"),
        Decimal("3.5E+3"),
    ]
    assert parse_values("$12.9bn and 3,500 at 12:21 AM", EN) == [Decimal(-21), Decimal("1.29E+10"), Decimal("3.5E+3")]
