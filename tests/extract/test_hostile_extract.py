"""Hostile articles from issue 9 (items 4 and 7): each is read, or refused for what it is."""

from __future__ import annotations

import codecs

import pytest

from syndicate.config import ExtractSettings
from syndicate.errors import ItemError
from syndicate.extract import extract
from syndicate.models import Known, RawItem

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def page(body: str, *, head: str = "") -> bytes:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'.encode()
    )


def read(data: bytes, *, media_type: str = "text/html", key: str = "k.html", known: Known | None = None):  # type: ignore[no-untyped-def]
    return extract(RawItem(source="s", key=key, data=data, media_type=media_type, known=known), ExtractSettings())


PARA = "<p>The second paragraph is long enough to be read as the body of the article.</p>"


@pytest.mark.parametrize(
    "ref", ["&#1;", "&#x1b;", "&#xfffe;", "&#0;", "&#x7f;", "&#x9f;", "&#xd800;", "&#1114112;", "&#xFFFF"]
)
def test_control_character_references_do_not_reject_a_page(ref: str) -> None:
    article = read(page(f"<article><h1>Title{ref} here</h1><p>Body{ref} text.</p>{PARA}</article>"))
    assert article.title == "Title here"
    assert article.blocks[0].html == "Body text."  # type: ignore[union-attr]


def test_raw_control_characters_do_not_reject_a_page() -> None:
    article = read(page(f"<article><h1>Ti\x01tle</h1><p>Bo\x1bdy\x0c text.</p>{PARA}</article>"))
    assert (article.title, article.blocks[0].html) == ("Title", "Body text.")  # type: ignore[union-attr]


def test_bidi_controls_leave_titles_content_and_hrefs() -> None:
    body = (
        f"<article><h1>Safe{BIDI} title</h1><p>Read <a href='https://example.org/{BIDI}path'>the "
        f"&#x202e;link</a>{BIDI}.</p>{PARA}</article>"
    )
    article = read(page(body, head=f"<title>Safe{BIDI} title</title>"))
    assert article.title == "Safe title"
    assert article.blocks[0].html == 'Read <a href="https://example.org/path">the link</a>.'  # type: ignore[union-attr]


def test_bidi_controls_leave_plain_text_articles() -> None:
    text = f"A{BIDI} Title\n\nA body{BIDI} paragraph.\n".encode()
    article = read(text, media_type="text/plain", key="k.txt")
    assert (article.title, article.blocks[0].html) == ("A Title", "A body paragraph.")  # type: ignore[union-attr]


def test_bidi_controls_leave_feed_fragments() -> None:
    known = Known(title=f"Feed{BIDI} title", fragment=True, summary="")
    article = read(f"<p>Fragment{BIDI} body.</p>".encode(), known=known)
    assert (article.title, article.blocks[0].html) == ("Feed title", "Fragment body.")  # type: ignore[union-attr]


def test_script_inside_h1_is_never_in_the_title() -> None:
    body = (
        f"<article><h1>Real <script>document.write('Injected')</script>Title<style>h1{{}}</style></h1>{PARA}</article>"
    )
    article = read(page(body))
    assert article.title == "Real Title"


@pytest.mark.parametrize("depth", [254, 255, 1000])
def test_deep_nesting_keeps_the_body(depth: int) -> None:
    body = (
        "<h1>Deep Title</h1>"
        + "<div>" * depth
        + "<p>The body text at the bottom of a deep nesting of divs.</p>"
        + "</div>" * depth
    )
    article = read(page(body))
    assert article.title == "Deep Title"
    assert [b.html for b in article.blocks] == ["The body text at the bottom of a deep nesting of divs."]  # type: ignore[union-attr]


def test_a_page_without_a_body_never_gets_the_text_file_hint() -> None:
    deep = page("<h1>Only a title</h1>" + "<div>" * 254 + "</div>" * 254)
    with pytest.raises(ItemError) as info:
        read(deep)
    assert "blank line" not in str(info.value)


@pytest.mark.parametrize("bom,codec", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_utf16_with_a_lone_surrogate_is_reported_as_such(bom: bytes, codec: str) -> None:
    data = bom + "Title\n\nBody \ud800 text.\n".encode(codec, "surrogatepass")
    with pytest.raises(ItemError) as info:
        read(data, media_type="text/plain", key="k.txt")
    message = str(info.value)
    assert "not UTF-8" not in message
    assert "invalid UTF-16: a lone surrogate (U+D800) at byte offset" in message


def test_valid_utf16_is_read() -> None:
    article = read(
        codecs.BOM_UTF16_LE + "Título\n\nCuerpo del artículo.\n".encode("utf-16-le"),
        media_type="text/plain",
        key="k.txt",
    )
    assert (article.title, article.blocks[0].html) == ("Título", "Cuerpo del artículo.")  # type: ignore[union-attr]


@pytest.mark.parametrize("depth", [2100, 10_000])
def test_nesting_past_libxml2s_limit_keeps_the_body(depth: int) -> None:
    # libxml2 stops at 2,048 levels even with huge_tree and drops everything deeper (issue 21).
    body = (
        "<h1>Deep Title</h1>"
        + "<div>" * depth
        + "<p>The body text at the bottom of a deep nesting of divs.</p>"
        + "</div>" * depth
    )
    article = read(page(body))
    assert article.title == "Deep Title"
    assert [b.html for b in article.blocks] == ["The body text at the bottom of a deep nesting of divs."]  # type: ignore[union-attr]


def test_deep_feed_content_keeps_its_text() -> None:
    content = "<div>" * 10_000 + "<p>Text ten thousand levels down.</p>" + "</div>" * 10_000
    article = read(content.encode(), known=Known(title="Deep", fragment=True, summary=""))
    assert [b.html for b in article.blocks] == ["Text ten thousand levels down."]  # type: ignore[union-attr]


@pytest.mark.parametrize("content", ["<!DOCTYPE", "<!DOCTYPE html>", "<html></html>", "<html><head></head></html>"])
def test_feed_content_with_no_text_is_refused_as_a_feed_entry(content: str) -> None:
    with pytest.raises(ItemError) as info:
        read(content.encode(), known=Known(title="Empty", fragment=True, summary=""))
    assert "no body text" in str(info.value) and "upstream feed" in str(info.value)
    assert "selectors" not in str(info.value)  # a feed entry has no page to select in


def test_a_whole_document_as_feed_content_is_read() -> None:
    content = "<html><head><title>x</title></head><body><p>A CMS put a whole document into the entry.</p></body></html>"
    article = read(content.encode(), known=Known(title="Whole", fragment=True, summary=""))
    assert [b.html for b in article.blocks] == ["A CMS put a whole document into the entry."]  # type: ignore[union-attr]


RUSSIAN_PAGE = (
    '<html><head><meta charset="utf-8"><title>Новости</title></head><body><article>'
    "<h1>Правительство объявило о новых мерах поддержки</h1><p>Министр финансов заявил в четверг, "
    "что бюджет на следующий год будет сбалансирован, а расходы на образование вырастут.</p>"
    "</article></body></html>"
)


def test_a_cp1251_page_declared_utf8_is_read_as_cp1251_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    # issue 21, case 9: stored as replacement characters with nothing said about the charset.
    with caplog.at_level("WARNING"):
        article = read(RUSSIAN_PAGE.encode("cp1251"), key="ru.html")
    assert article.title == "Правительство объявило о новых мерах поддержки"
    assert article.paragraphs[0].startswith("Министр финансов заявил в четверг")
    warned = [r.getMessage() for r in caplog.records if "UTF-8" in r.getMessage()]
    assert len(warned) == 1 and "[s] ru.html" in warned[0] and "cp1251" in warned[0]


def test_a_utf8_page_with_stray_bytes_stays_utf8() -> None:
    data = RUSSIAN_PAGE.encode("utf-8").replace(b"</p>", b" \x93\x94</p>")
    article = read(data)
    assert article.title == "Правительство объявило о новых мерах поддержки"
    assert article.paragraphs[0].startswith("Министр финансов заявил в четверг")
