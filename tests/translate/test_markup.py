"""Markup survives translation, even when the engine reorders words."""

from __future__ import annotations

import lxml.html
import pytest

from syndicate.translate.markup import ParagraphPlan
from tests.fakes import reverse_upper


def render(fragment: str, fn=reverse_upper) -> tuple[str, int]:
    plan = ParagraphPlan(fragment)
    done = {s: fn(s, "en", "xx") for s in plan.segments()}
    out, missing = plan.render(done)
    rounds = 0
    while missing:
        rounds += 1
        assert rounds < 5
        done.update({s: fn(s, "en", "xx") for s in missing})
        out, missing = plan.render(done)
    return out, rounds


def tags(fragment: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    return sorted((el.tag, tuple(sorted(el.attrib.items()))) for el in root.iter() if el is not root)


CASES = [
    'The <em>red</em> car and <a href="/x" title="A link">the <strong>big <i>blue</i></strong> house</a>.',
    "<b>Bold start</b> then <span>a <sup>1</sup> note <sub>2</sub></span> end.",
    'Nested <a href="/n"><em><strong>deep words</strong></em></a> here. Second sentence <em>too</em>.',
    "Line one<br>line <em>two</em><br/>three",
    "No markup at all. Two sentences.",
]


@pytest.mark.parametrize("fragment", CASES)
def test_every_tag_survives_exactly_once_with_reordering(fragment: str) -> None:
    out, _ = render(fragment)

    def untitled(fr: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        return [(t, tuple((k, v) for k, v in a if k != "title")) for t, a in tags(fr)]

    # Same elements with the same attributes (titles are translated), none lost or duplicated.
    assert untitled(out) == untitled(fragment)
    text = lxml.html.fragment_fromstring(out.replace("<br>", " "), create_parent="div").text_content()
    assert "<" not in text and "&lt;" not in out  # no tag text leaked into the translation
    # Every source word came back translated (upper-cased) exactly as often as it appeared.
    source_words = (
        lxml.html.fragment_fromstring(fragment.replace("<br>", " ").replace("<br/>", " "), create_parent="div")
        .text_content()
        .split()
    )
    assert sorted(w.strip(".").upper() for w in source_words) == sorted(w.strip(".") for w in text.split())


def test_reordered_markup_moves_with_its_words() -> None:
    out, rounds = render("The <em>red</em> car is <strong>very fast</strong> today.")
    # Whole sentence reversed: "TODAY FAST VERY IS CAR RED THE." and the elements follow their words.
    assert out == "TODAY <strong>FAST VERY</strong> IS CAR <em>RED</em> THE."
    assert rounds == 0  # found by alignment, no piecewise fallback needed


def test_attributes_kept_title_and_alt_translated() -> None:
    out, _ = render(
        '<a href="/p?q=1&amp;r=2" title="Read more" hreflang="en">link text</a> <img src="a.png" alt="A map">'
    )
    root = lxml.html.fragment_fromstring(out, create_parent="div")
    a, img = root.find("a"), root.find("img")
    assert a.get("href") == "/p?q=1&r=2" and a.get("hreflang") == "en"
    assert a.get("title") == "MORE READ"
    assert img.get("src") == "a.png" and img.get("alt") == "MAP A"


def test_code_pre_and_translate_no_are_copied_verbatim() -> None:
    fragment = 'Run <code>make test</code> now and <span translate="no">Keep This</span> please.'
    plan = ParagraphPlan(fragment)
    assert set(plan.protected) == {"make test", "Keep This"}

    # An engine honouring protection keeps the words; the markup is copied as is.
    def fn(s: str, a: str, b: str) -> str:
        out = s
        for term in plan.protected:
            out = out.replace(term, "\0" + term.replace(" ", "\1") + "\0")
        out = reverse_upper(out, a, b)
        for term in plan.protected:
            out = out.replace(("\0" + term.replace(" ", "\1") + "\0").upper(), term)
        return out

    out, _ = render(fragment, fn)
    assert "<code>make test</code>" in out
    assert '<span translate="no">Keep This</span>' in out
