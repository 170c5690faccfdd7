"""Data-driven extraction tests: each tests/data/extract/NAME.{txt,html} has NAME.expected.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syndicate.config import ExtractSettings
from syndicate.errors import ItemError
from syndicate.extract import extract
from syndicate.models import Figure, Heading, ListBlock, Paragraph, RawItem, Table
from syndicate.publish.ordering import resolve_links

DATA = Path(__file__).resolve().parent.parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "articles"
CASES = sorted(p for p in (DATA / "extract").iterdir() if p.suffix in (".txt", ".html"))


def _item(path: Path, base_url: str | None = None) -> RawItem:
    media = "text/html" if path.suffix == ".html" else "text/plain"
    return RawItem(source="test", key=path.name, data=path.read_bytes(), media_type=media, base_url=base_url)


def _ref(ref: object) -> list[str | None] | None:
    return None if ref is None else [ref.url, ref.title]  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_extract_case(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    article = extract(_item(path, expected.get("base_url")), ExtractSettings())
    assert article.title == expected["title"]
    assert list(article.paragraphs) == expected["paragraphs"]
    assert [[a.label, a.source, a.paragraph] for a in article.attributions] == expected["attributions"]
    assert _ref(article.prev) == expected["prev"]
    assert _ref(article.next) == expected["next"]
    for key in ("url", "language"):
        if key in expected:
            assert getattr(article, key) == expected[key]
    if "published" in expected:
        assert (article.published.isoformat() if article.published else None) == expected["published"]


def _sample() -> list:
    return [extract(_item(p), ExtractSettings()) for p in sorted(EXAMPLES.iterdir()) if p.suffix in (".txt", ".html")]


def test_sample_has_no_chrome_and_every_article_has_body_and_attributions() -> None:
    articles = _sample()
    assert len(articles) >= 6
    assert sum(p.suffix == ".html" for p in EXAMPLES.iterdir()) >= 2
    chrome = (
        "Write a Comment",
        "Leave a Comment",
        "Previous Article",
        "Next Article",
        "Related Articles",
        "All rights reserved",
        "Home",
    )
    for article in articles:
        assert len(article.paragraphs) >= 2, article.key
        assert article.attributions, article.key
        for paragraph in article.paragraphs:
            assert not any(c in paragraph for c in chrome), (article.key, paragraph)
            assert "<script" not in paragraph and "[Source attribution" not in paragraph
        for attribution in article.attributions:  # each names a paragraph block
            assert isinstance(article.blocks[attribution.paragraph], Paragraph), (article.key, attribution)


def test_sample_shows_the_block_model() -> None:
    """The bundled sample carries a figure, a heading, a list, a table and page metadata."""
    volga = next(a for a in _sample() if a.key.startswith("005_"))
    kinds = [type(b) for b in volga.blocks]
    assert kinds[0] is Figure and Heading in kinds and ListBlock in kinds and Table in kinds
    figure = volga.blocks[0]
    assert figure.image.src.endswith("volga-wheat-1200.jpg")  # the widest srcset candidate
    assert figure.caption.startswith("Harvesting began early")
    assert [(a.name, a.url) for a in volga.meta.authors] == [
        ("Irina Sokolova", "https://news.example.org/authors/irina-sokolova.html")
    ]
    assert volga.meta.tags == ("Agriculture", "Wheat", "Volga region")
    table = next(b for b in volga.blocks if isinstance(b, Table))
    assert table.rows[0].head and [c.html for c in table.rows[1].cells] == ["Southern districts", "2.9", "3.2"]


def test_sample_forms_one_chain() -> None:
    from datetime import UTC, datetime

    from syndicate.models import StoredArticle

    now = datetime(2026, 1, 1, tzinfo=UTC)
    stored = [StoredArticle(i, f"s{i}", a, now, now) for i, a in enumerate(_sample())]
    links = resolve_links(stored)
    # One chain: exactly one article without an older and one without a newer neighbour,
    # and every link is mirrored by the neighbour's opposite link.
    assert sum(p is None for p, _ in links.values()) == 1
    assert sum(n is None for _, n in links.values()) == 1
    for aid, (p, n) in links.items():
        if p is not None:
            assert links[p][1] == aid
        if n is not None:
            assert links[n][0] == aid


def test_the_seed_article() -> None:
    seed = next(a for a in _sample() if a.key == "000_ed00217adbd5372c.txt")
    assert seed.title == "Russia Sees US-Backed Japan Militarization as Global Risk"
    assert len(seed.paragraphs) == 3
    assert [a.source for a in seed.attributions] == ["Russian Security Council interviews"] * 2 + ["Rossiyskaya Gazeta"]
    assert seed.prev is not None and seed.prev.title == "Official Statement on Immunostimulant Drug Access and Safety"
    assert seed.next is not None and seed.next.title == "Cuatro Expands Its Lineup With New Comedy and Political Drama"


BAD = DATA / "bad"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.txt", "empty"),
        ("whitespace.txt", "empty"),
        ("binary.txt", "binary"),
        ("latin1.txt", "not UTF-8"),
        ("nobody.txt", "no body"),
        ("nobody.html", "no body"),
    ],
)
def test_bad_input_names_the_file_and_the_reason(name: str, reason: str) -> None:
    with pytest.raises(ItemError) as info:
        extract(_item(BAD / name), ExtractSettings())
    message = str(info.value)
    assert name in message and reason in message
    assert info.value.hint


def test_custom_attribution_pattern() -> None:
    settings = ExtractSettings(attribution_patterns=(r"\((?P<label>Fuente|Source)\s*=\s*(?P<source>[^)]+)\)",))
    item = RawItem("t", "x.txt", b"Title\n\nBody text here. (Source = Wire Service)\n", "text/plain")
    article = extract(item, settings)
    assert article.paragraphs == ("Body text here.",)
    assert [(a.label, a.source) for a in article.attributions] == [("Source", "Wire Service")]


def test_control_characters_are_dropped_not_fatal() -> None:
    text = RawItem(
        "t", "c.txt", b"Storm\x02 Warning\n\nThe storm\x0b reached the coast on Monday night.\n", "text/plain"
    )
    page = RawItem(
        "t",
        "c.html",
        b"<html><body><article><h1>Storm\x02</h1><p>It \x1b reached the coast.</p></article></body></html>",
        "text/html",
    )
    assert extract(text, ExtractSettings()).paragraphs == ("The storm reached the coast on Monday night.",)
    assert extract(page, ExtractSettings()).title == "Storm"


def test_undeclared_utf8_html_is_read_as_utf8() -> None:
    page = RawItem(
        "t", "u.html", "<html><body><h1>Café in Münster</h1><p>Crème brûlée.</p></body></html>".encode(), "text/html"
    )
    article = extract(page, ExtractSettings())
    assert article.title == "Café in Münster" and article.paragraphs == ("Crème brûlée.",)


def test_a_content_wrapper_with_a_chrome_looking_class_is_still_the_content() -> None:
    """WordPress themes put state classes such as ``comments-enabled`` on the body wrapper."""
    paragraphs = "".join(
        f"<p>Paragraph {n} of the story about the new tram line tells residents what changes on the route.</p>"
        for n in range(1, 7)
    )
    page = (
        "<html><head><title>Tram Line Opens | City Post</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/city'>City</a></nav>"
        "<h1>Tram Line Opens</h1>"
        f"<div class='post-content comments-enabled has-sidebar'>{paragraphs}"
        "<div class='share-bar'>Share on Facebook Share on X</div></div>"
        "<section id='comments'><article class='comment'><p>First! Great news for the east side.</p></article></section>"
        "<footer>© City Post</footer></body></html>"
    ).encode()
    article = extract(RawItem(source="t", key="tram.html", data=page, media_type="text/html"), ExtractSettings())
    assert article.title == "Tram Line Opens"
    assert len(article.paragraphs) == 6
    assert not any("Share on" in p or "First!" in p for p in article.paragraphs)


def test_a_page_with_text_but_no_title_is_titled_by_its_first_sentence() -> None:
    # No <h1>, no <title>, no headline (issue 19: a page with text is never refused).
    article = extract(_item(BAD / "titleless.html"), ExtractSettings())
    # Its first sentence is longer than a title may be: cut at a word, with an ellipsis.
    assert article.title == (
        "The city water utility said on Wednesday that it will replace about 12 kilometers "
        "of old pipes under the eastern…"
    )
    assert article.paragraphs[0].startswith("The city water utility said on Wednesday")
