"""Finding the names of an article, with Debian's English dictionary (Apertium's analyser).

The sentences are written the way wire copy writes them; what a Spanish newspaper keeps
and what it translates was decided from newspaper usage, not from this code's output.
"""

from __future__ import annotations

import pytest

from syndicate.models import Lang
from syndicate.translate.analysis import Lookup
from syndicate.translate.apertium import ApertiumTranslator
from syndicate.translate.names import NameFinder, Names, cldr_place, is_title_case, place_name

pytestmark = pytest.mark.apertium

EN, ES, CA = Lang("en"), Lang("es"), Lang("ca")


@pytest.fixture(scope="module")
def finder():
    engine = ApertiumTranslator()
    analyser = engine.analyser(EN)
    assert analyser is not None, "make setup installs Apertium's English dictionaries"
    yield NameFinder(EN, Lookup(analyser))
    engine.close()


def names_of(finder: NameFinder, *texts: str, headline: str | None = None, authors: tuple[str, ...] = ()) -> Names:
    all_texts = [*([headline] if headline else []), *texts]
    finder.prepare([all_texts])
    return finder.find(all_texts, title_case=[headline] if headline else [], authors=authors)


def test_people_companies_brands_and_places_are_kept(finder: NameFinder) -> None:
    names = names_of(
        finder,
        "Apple CEO Tim Cook said the company would open a store next to a Home Depot in Fort Worth.",
        "The new Star Wars series, made by Marvel Studios' sister company, features music by Alicia Keys.",
        "Cook said sales of the iPhone rose in the quarter.",
    )
    for name in ("Tim Cook", "Home Depot", "Fort Worth", "Star Wars", "Alicia Keys", "iPhone", "Cook"):
        assert name in names.keep, (name, sorted(names.keep))
    assert "Tim Cook" in names.people and "Cook" in names.people  # the surname alone is the same person


def test_a_name_at_a_sentence_start_is_known_from_the_rest_of_the_article(finder: NameFinder) -> None:
    names = names_of(
        finder,
        "Trump visited the plant on Tuesday.",  # "trump" is an English word too
        "Supporters of President Trump waited outside.",
    )
    assert "Trump" in names.keep
    # A word the article also writes in lower case is a word at a sentence start.
    names = names_of(finder, "Hundreds of workers waited outside. The hundreds who came were tired.")
    assert not any(name.startswith("Hundreds") for name in names.keep)


def test_titles_are_left_out_and_mark_people(finder: NameFinder) -> None:
    names = names_of(finder, "The bill was signed by President Joe Biden and Prime Minister Keir Starmer on Monday.")
    assert {"Joe Biden", "Keir Starmer"} <= names.keep and {"Joe Biden", "Keir Starmer"} <= names.people
    assert not any("President" in n or "Prime" in n or "Monday" in n for n in names.keep)


def test_what_a_newspaper_translates_is_left_to_the_engine_or_given_its_form(finder: NameFinder) -> None:
    names = names_of(
        finder,
        "Officials at the White House and the Supreme Court spoke to Congress on Monday.",
        "The Department of Justice and the Federal Reserve agreed with American officials in January.",
        "Flights from New York to Tokyo and Germany resumed.",
    )
    for word in (
        "White House",
        "Supreme Court",
        "Congress",
        "Monday",
        "Department of Justice",
        "Federal Reserve",
        "American",
        "January",
    ):
        assert word not in names.keep, (word, sorted(names.keep))
    terms = names.terms(ES)
    # One-word countries and cities take CLDR's form; "New York", which the dictionary knows
    # as one proper noun, is left to the engine (Apertium writes "Nueva York").
    assert terms.get("Tokyo") == "Tokio" and terms.get("Germany") == "Alemania"
    assert names.terms(CA).get("Germany") == "Alemanya"
    assert "New York" not in names.keep and terms.get("New York", "Nueva York") == "Nueva York"


def test_possessives_split_two_names(finder: NameFinder) -> None:
    names = names_of(finder, "The deal was announced by Amazon's Jeff Bezos and MMQB's Peter King in Seattle.")
    assert {"Jeff Bezos", "Peter King"} <= names.keep
    assert not any("'s" in n for n in names.keep)


def test_times_dates_and_numbers_are_not_parts_of_names(finder: NameFinder) -> None:
    names = names_of(
        finder,
        "Inflation stayed just under the Fed’s 2 percent target.",
        "It was taken from her room sometime between 8 AM and 2 PM Wednesday.",
        "12:00 PM PT -- Deputies were at The London Thursday morning.",
        "The Ridley Scott sequel Blade Runner 2049 opened on Friday.",
    )
    assert not any(any(c.isdigit() for c in name) and "Blade" not in name for name in names.keep), sorted(names.keep)
    for part in ("PM", "AM", "Wednesday", "Thursday"):
        assert not any(part in name.split() for name in names.keep), (part, sorted(names.keep))
    assert "The London" in names.keep and "Blade Runner 2049" in names.keep


def test_authors_from_the_markup_are_people(finder: NameFinder) -> None:
    names = names_of(finder, "The report was published on Friday.", authors=("Irina Sokolova",))
    assert "Irina Sokolova" in names.keep and "Irina Sokolova" in names.people


def test_title_case_headline_in_sentence_case(finder: NameFinder) -> None:
    names = names_of(
        finder,
        "Farmers in the Volga region expect a strong wheat harvest this year after a mild spring.",
        headline="Volga Farmers Expect Strong Wheat Harvest After Mild Spring",
    )
    assert names.recased["Volga Farmers Expect Strong Wheat Harvest After Mild Spring"] == (
        "Volga farmers expect strong wheat harvest after mild spring"
    )
    names = names_of(
        finder,
        "The central city library reopened on Saturday after a two-year renovation led by Helen Carter.",
        headline="City Library Reopens After Two-Year Renovation",
    )
    assert (
        names.recased["City Library Reopens After Two-Year Renovation"]
        == "City library reopens after two-year renovation"
    )
    names = names_of(
        finder,
        "NASA said on Monday that Europa has plumes.",
        headline="NASA Just Confirmed There Are Water Plumes Above The Surface of Europa",
    )
    assert (
        names.recased[next(iter(names.recased))]
        == "NASA just confirmed there are water plumes above the surface of Europa"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Volga Farmers Expect Strong Wheat Harvest After Mild Spring", True),
        ("City Library Reopens After Two-Year Renovation", True),
        ("Volga farmers expect strong wheat harvest after mild spring", False),
        ("O'Hare is a hub for both American Airlines and United Airlines.", False),  # names only, but a sentence
        ("Apple Sues Samsung", False),  # too short to tell
        ("BREAKING NEWS FROM THE COURT", False),  # all capitals is no Title Case
    ],
)
def test_title_case_is_told_from_sentences(text: str, expected: bool) -> None:
    assert is_title_case(text) is expected


def test_cldr_places_have_their_forms_in_each_language() -> None:
    assert cldr_place("Germany") == "territory:DE" and place_name("territory:DE", ES) == "Alemania"
    assert place_name(cldr_place("London"), ES) == "Londres"  # type: ignore[arg-type]
    assert place_name(cldr_place("Germany"), Lang("eo")) == "Germanujo"  # type: ignore[arg-type]
    assert place_name(cldr_place("New York"), ES) == "Nueva York"  # type: ignore[arg-type]
    assert cldr_place("Fort Worth") is None


def test_german_capitalises_every_noun_so_capitals_say_nothing() -> None:
    finder = NameFinder(Lang("de"), Lookup(None))
    finder.prepare([["Der Bundestag hat am Montag das Gesetz beschlossen."]])
    assert finder.find(["Der Bundestag hat am Montag das Gesetz beschlossen."]) == Names()


def test_without_a_dictionary_capitals_inside_sentences_still_mark_names() -> None:
    finder = NameFinder(EN, Lookup(None))
    texts = ["The store opened next to a Home Depot in Fort Worth on Tuesday.", "Shoppers waited."]
    finder.prepare([texts])
    names = finder.find(texts)
    assert {"Home Depot", "Fort Worth"} <= names.keep and "Tuesday" not in names.keep and "Shoppers" not in names.keep
