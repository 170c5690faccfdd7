"""What a source's keyword filters match ([[sources]] include / exclude): whole words in
any case and script, phrases across line breaks, regular expressions with a time bound."""

from __future__ import annotations

import logging
import time

import pytest

from syndicate.filters import SourceFilter, article_text
from syndicate.models import Article, Heading, ListBlock, ListItem, Meta, Paragraph


def article(title: str, *paragraphs: str, summary: str = "", key: str = "a1") -> Article:
    return Article(
        source="wire", key=key, title=title, blocks=tuple(Paragraph(p) for p in paragraphs), meta=Meta(summary=summary)
    )


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("EU", "Ministers said the EU's budget would grow.", True),
        ("EU", "Fuel rose to 1.80 EUR a litre.", False),  # not inside another word
        ("eu", "Ministers said the EU's budget would grow.", True),  # any case
        ("port", "Portugal and Portuguese trawlers", False),
        ("port", "Dredging the port, the council said.", True),
        ("human rights", "a report by Human\n  Rights Watch", True),  # a phrase across spaces and lines
        ("C++", "The service is written in C++.", True),  # terms that end in a sign
        ("#ukraine", "Trending: #Ukraine and #Kyiv", True),
        ("Путин", "Путин заявил во вторник", True),  # Cyrillic, whole word
        ("Путин", "визит Путина в Китай", False),  # an inflected form is another word (a regex finds it)
        ("غزة", "قصف في غزة اليوم", True),  # Arabic
        ("Ελλάδα", "Η ΕΛΛΑΔΑ και η Κύπρος", True),  # Greek capitals drop the accent
        ("Nuñez", "Darwin Nunez scored twice", True),  # diacritics do not count
        ("Zürich", "ZURICH airport", True),
        ("straße", "STRASSE gesperrt", True),  # full case folding
        ("東京", "東京都で震度5弱の地震", True),  # no spaces between words in Japanese: found inside the run
        ("ข่าว", "ข่าวล่าสุดวันนี้", True),  # Thai likewise
        ("straße", "Die Hauptstraße ist gesperrt", False),
        ("re:Путин\\w*", "визит Путина в Китай", True),  # a regular expression: the operator's own edges
        ("re:ferr(y|ies)", "Island FERRIES to sail", True),
        ("re:\\bcovid-?19\\b", "New COVID19 cases", True),
    ],
)
def test_terms_match_whole_words_in_any_case_and_script(term: str, text: str, found: bool) -> None:
    assert SourceFilter("wire", (term,), ()).decide(article("Harbour news", text)).kept is found
    assert SourceFilter("wire", (), (term,)).decide(article(text, "Harbour news.")).kept is not found


def test_the_filters_read_the_title_summary_and_every_text_of_the_body_as_plain_text() -> None:
    a = Article(
        source="wire",
        key="k",
        title="Budget day",
        blocks=(
            Heading(2, "Who <b>pays</b>"),
            Paragraph("Taxes on <a href='/x'>fuel</a> &amp; tobacco"),
            ListBlock((ListItem("dredging<br>moorings"),)),
        ),
        meta=Meta(summary="The council's plan."),
    )
    text = article_text(a)
    for piece in ("Budget day", "The council's plan.", "Who pays", "fuel & tobacco", "dredging moorings"):
        assert piece in text
    assert "<" not in text and "href" not in text
    assert SourceFilter("wire", ("tobacco",), ()).decide(a).kept  # found in the body
    assert not SourceFilter("wire", ("href",), ()).decide(a).kept  # markup is not text


def test_exclude_wins_over_include_and_says_why() -> None:
    f = SourceFilter("wire", ("port",), ("football",))
    kept = f.decide(article("New port cranes", "Two cranes arrived."))
    assert kept.kept and kept.reason == ""
    out = f.decide(article("Port FC promoted", "The football club of the port won the league."))
    assert not out.kept and "'football'" in out.reason
    none = f.decide(article("Ferry timetable", "Two crossings a day."))
    assert not none.kept and "no include term" in none.reason
    assert SourceFilter("wire", (), ("football",)).decide(article("Ferry timetable", "Two crossings.")).kept


def test_the_digest_follows_the_terms_and_their_order() -> None:
    a = SourceFilter("wire", ("port", "ferry"), ()).digest
    assert a == SourceFilter("wire", ("port", "ferry"), ()).digest
    assert a != SourceFilter("wire", ("ferry", "port"), ()).digest
    assert a != SourceFilter("wire", ("port",), ("ferry",)).digest


def test_a_runaway_expression_holds_the_article_back_within_its_bound_and_names_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Overlapping repeats: exponential on a long run that ends in a mismatch. The config
    # refuses this one (its probes catch it); a pattern that slips past them meets this
    # bound at run time.
    f = SourceFilter("wire", (), ("re:(a|aa)+$",))
    long = article("Harbour news", "a" * 40 + "!", key="runaway-item")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        decision = f.decide(long)
    assert time.monotonic() - started < 2
    assert not decision.kept and "ran past" in decision.reason
    assert "runaway-item" in caplog.text and "[wire]" in caplog.text and "rewrite the term" in caplog.text
