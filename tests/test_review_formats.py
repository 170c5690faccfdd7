"""XLIFF 2.0 / TMX 1.4b exchange with CAT tools (syndicate/review/formats.py).

Exports are checked against the normative OASIS XLIFF 2.0 core schema and the TMX 1.4b
DTD (tests/data/xliff/README.md says where they come from), loaded with the network off;
imports against a file written the way a CAT tool writes one, and against hostile files.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.errors import ReviewError, SyndicateError
from syndicate.review import formats
from syndicate.review.formats import ExportUnit, ImportedUnit, XliffDocument, from_xliff, to_tmx, to_xliff

DATA = Path(__file__).resolve().parent / "data" / "xliff"
NS = {"x": formats.XLIFF_NS}
ARTICLE = "article: City Library Reopens After Two-Year Renovation"


class _LocalSchemas(etree.Resolver):
    """Serves xml.xsd from tests/data/xliff whatever location the XLIFF schema gives it."""

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        if system_url.endswith("xml.xsd"):
            return self.resolve_filename(str(DATA / "xml.xsd"), context)
        return None


@pytest.fixture(scope="module")
def xliff_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemas())
    return etree.XMLSchema(etree.parse(str(DATA / "xliff_core_2.0.xsd"), parser))


def assert_valid(schema: etree.XMLSchema, document: bytes) -> None:
    tree = etree.fromstring(document)
    assert schema.validate(tree), "\n".join(str(e) for e in schema.error_log)


HOSTILE_UNITS = [
    ExportUnit(
        "a12-s1",
        12,
        "Tom & Jerry <script>alert('x')</script> \"quoted\" it's",
        "Том & Джерри <script>",
        "translated",
        (ARTICLE, "confidence 0.42", "previous correction: <b>&amp;</b>"),
    ),
    ExportUnit("a12-s2", 12, "  Leading and trailing spaces  ", "  Пробелы  ", "reviewed"),
    ExportUnit("a12-s3", 12, "Line one\nline two\r\nline three\ttabbed", "", "initial"),
    ExportUnit(
        "a12-s4", 12, "Harvest up 🌾 12% — “record”", "وقال المزارعون إن الحصاد 🌾 ارتفع 12%", "final", ("RTL target",)
    ),
    ExportUnit("a7-s10", 7, "", "", "initial"),
    ExportUnit("note-only.1", 3, "double  space and trailing newline\n", "x", "translated"),
]


def test_export_is_valid_against_the_oasis_core_schema(xliff_schema: etree.XMLSchema) -> None:
    document = to_xliff(HOSTILE_UNITS, "en", "ru", original="articles/12")
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert_valid(xliff_schema, document)
    root = etree.fromstring(document)
    assert (root.get("version"), root.get("srcLang"), root.get("trgLang")) == ("2.0", "en", "ru")
    (file,) = root.findall("x:file", NS)
    assert (file.get("id"), file.get("original"), file.get("canResegment")) == ("f1", "articles/12", "no")
    units = file.findall("x:unit", NS)
    assert [u.get("id") for u in units] == [u.id for u in HOSTILE_UNITS]
    first = units[0]
    assert [child.tag.split("}")[1] for child in first] == ["notes", "segment"]
    assert [n.text for n in first.findall("x:notes/x:note", NS)] == list(HOSTILE_UNITS[0].notes)
    assert first.find("x:segment", NS).get("state") == "translated"
    # xml:space only where a reader would otherwise collapse whitespace, never on <segment>.
    space = "{http://www.w3.org/XML/1998/namespace}space"
    preserved = {(u.get("id"), e.tag.split("}")[1]) for u in units for e in u.iter() if e.get(space)}
    assert preserved == {("a12-s2", "source"), ("a12-s2", "target"), ("a12-s3", "source"), ("note-only.1", "source")}


def test_unit_without_notes_has_no_notes_element(xliff_schema: etree.XMLSchema) -> None:
    document = to_xliff([HOSTILE_UNITS[1]], "en", "ru", original="a")
    assert b"<notes" not in document
    assert_valid(xliff_schema, document)


def test_export_is_deterministic() -> None:
    assert to_xliff(HOSTILE_UNITS, "en", "ru", original="x") == to_xliff(HOSTILE_UNITS, "en", "ru", original="x")


def test_round_trip_keeps_ids_text_and_states() -> None:
    document = from_xliff(to_xliff(HOSTILE_UNITS, "en", "ar", original="articles/12"), name="review.xlf")
    assert (document.source_language, document.target_language) == ("en", "ar")
    assert document.units == tuple(
        ImportedUnit(u.id, u.article_id if u.id.startswith("a") else None, u.source, u.target, u.state)
        for u in HOSTILE_UNITS
    )


# Every character XML 1.0 can carry (no C0 controls but tab/LF/CR, no surrogates, no U+FFFE/FFFF).
xml_text = st.text(
    st.characters(codec="utf-8", blacklist_categories=("Cs",)).filter(
        lambda c: c in "\t\n\r" or ("\x20" <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd") or c >= "\U00010000"
    ),
    max_size=40,
)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(source=xml_text, target=xml_text, state=st.sampled_from(formats.STATES))
def test_any_xml_text_round_trips(source: str, target: str, state: str) -> None:
    unit = ExportUnit("a1-s1", 1, source, target, state, (source,))
    (back,) = from_xliff(to_xliff([unit], "en", "de", original="p")).units
    assert (back.source, back.target, back.state) == (source, target, state)


def test_characters_xml_cannot_carry_are_dropped_not_fatal(xliff_schema: etree.XMLSchema) -> None:
    document = to_xliff(
        [ExportUnit("a1-s1", 1, "bell\x07 null\x00", "esc\x1b", "translated", ("vt\x0b",))], "en", "de", original="p"
    )
    assert_valid(xliff_schema, document)
    (unit,) = from_xliff(document).units
    assert (unit.source, unit.target) == ("bell null", "esc")


@pytest.mark.parametrize(
    ("unit", "words"),
    [
        (ExportUnit("a 1", 1, "s", "t", "translated"), "not an XML NMTOKEN"),
        (ExportUnit("", 1, "s", "t", "translated"), "not an XML NMTOKEN"),
        (ExportUnit("a1-s1", 1, "s", "t", "approved"), "state 'approved'"),
    ],
)
def test_export_refuses_bad_ids_and_states(unit: ExportUnit, words: str) -> None:
    with pytest.raises(ReviewError, match=words):
        to_xliff([unit], "en", "de", original="p")


def test_export_refuses_duplicate_ids() -> None:
    unit = HOSTILE_UNITS[0]
    with pytest.raises(ReviewError, match="appears twice"):
        to_xliff([unit, unit], "en", "de", original="p")


def test_file_edited_by_a_cat_tool(xliff_schema: etree.XMLSchema) -> None:
    raw = (DATA / "edited-by-cat-tool.xlf").read_bytes()
    assert_valid(xliff_schema, raw)  # the fixture is a file a conforming tool could write
    expected = json.loads((DATA / "edited-by-cat-tool.expected.json").read_text(encoding="utf-8"))
    document = from_xliff(raw, name="edited-by-cat-tool.xlf")
    assert document == XliffDocument(
        expected["source_language"], expected["target_language"], tuple(ImportedUnit(**u) for u in expected["units"])
    )


def test_reads_xliff_2_1_inline_codes_and_resegmented_units() -> None:
    raw = b"""<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.1" srcLang="en-GB">
 <file id="f1">
  <group id="g1">
   <unit id="a3-s1">
    <segment state="final">
     <source>Rail fares rise <ph id="1" equiv="{0}"/>by 4%.</source>
     <target>Las tarifas suben <ph id="1" equiv="{0}"/>un 4 %.</target>
    </segment>
    <ignorable><source> </source></ignorable>
    <segment state="translated">
     <source>Tickets go on sale<cp hex="0009"/>today.</source>
     <target>Los billetes salen hoy.</target>
    </segment>
   </unit>
  </group>
 </file>
</xliff>"""
    document = from_xliff(raw)
    assert (document.source_language, document.target_language) == ("en-GB", None)
    assert document.units == (
        ImportedUnit(
            "a3-s1",
            3,
            "Rail fares rise by 4%. Tickets go on saletoday.",
            "Las tarifas suben un 4 %. Los billetes salen hoy.",
            "translated",
        ),
    )


def hostile(doctype: str, body: str = "x") -> bytes:
    return f"""<?xml version="1.0"?>{doctype}
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en" trgLang="de">
 <file id="f1"><unit id="a1-s1"><segment><source>s</source><target>{body}</target></segment></unit></file>
</xliff>""".encode()


XXE = hostile('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', "&e;")
LAUGHS = hostile(
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>",
    "&lol9;",
)
XLIFF_12 = b"""<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
  <file source-language="en" target-language="de" datatype="plaintext" original="articles/7">
    <body><trans-unit id="a7-s1"><source>Hello</source><target>Hallo</target></trans-unit></body>
  </file>
</xliff>"""


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param(XXE, "DOCTYPE", id="xxe"),
        pytest.param(LAUGHS, "DOCTYPE", id="billion-laughs"),
        pytest.param(XLIFF_12, "XLIFF 1.2, not XLIFF 2; the file must be XLIFF 2.0 or 2.1", id="xliff-1.2"),
        pytest.param(b"", "is empty", id="empty"),
        pytest.param(b"  \n", "is empty", id="blank"),
        pytest.param(b"Source,Target\nHello,Hallo\n", "not well-formed XML (line 1", id="csv"),
        pytest.param(hostile("").replace(b"</target>", b"</targe>"), "not well-formed XML (line 3", id="malformed"),
        pytest.param(b"<html><body>export</body></html>", "not an XLIFF file (its root element is <html>)", id="html"),
        pytest.param(hostile("").replace(b' srcLang="en"', b""), "no srcLang", id="no-srclang"),
        pytest.param(hostile("").replace(b'"2.0" srcLang', b'"2.2" srcLang'), "not XLIFF 2.0 or 2.1", id="xliff-2.2"),
        pytest.param(
            hostile("").replace(b"<segment>", b'<segment state="approved">'), "state 'approved'", id="bad-state"
        ),
        pytest.param(hostile("").replace(b' id="a1-s1"', b""), "on line 3 has no id", id="unit-without-id"),
    ],
)
def test_bad_files_raise_a_review_error_naming_the_file(data: bytes, words: str) -> None:
    started = time.monotonic()
    with pytest.raises(ReviewError) as caught:
        from_xliff(data, name="review-de.xlf")
    assert time.monotonic() - started < 2  # nothing was expanded
    error = caught.value
    assert isinstance(error, SyndicateError)
    assert words in error.message
    assert error.message.startswith("review-de.xlf: ")
    assert error.item == "review-de.xlf"
    assert error.hint
    assert "root:" not in str(error)  # /etc/passwd's first line never shows


@pytest.mark.parametrize("data", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_hostile_doctypes_in_utf16_are_refused_too(data: bytes) -> None:
    """UTF-16 hides the DOCTYPE from the byte scan of the prolog; the parser's own limits
    and the check of the parsed document still stop it."""
    utf16 = data.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>').decode().encode("utf-16")
    started = time.monotonic()
    with pytest.raises(ReviewError, match=r"^u16\.xlf: (has a DOCTYPE|is not well-formed XML)") as caught:
        from_xliff(utf16, name="u16.xlf")
    assert time.monotonic() - started < 2
    assert "root:" not in str(caught.value)


def test_duplicate_unit_ids_are_refused() -> None:
    data = hostile("").replace(b"</file>", b'<unit id="a1-s1"><segment><source>t</source></segment></unit></file>')
    with pytest.raises(ReviewError, match="the id 'a1-s1' twice"):
        from_xliff(data, name="dup.xlf")


def test_too_large_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    data = to_xliff(HOSTILE_UNITS, "en", "ru", original="x")
    monkeypatch.setattr(formats, "MAX_XLIFF_BYTES", len(data) - 1)
    with pytest.raises(ReviewError, match=r"^big\.xlf: is [\d,]+ bytes, over the [\d,]+-byte limit") as caught:
        from_xliff(data, name="big.xlf")
    assert caught.value.item == "big.xlf"
    monkeypatch.setattr(formats, "MAX_XLIFF_BYTES", len(data))
    assert len(from_xliff(data).units) == len(HOSTILE_UNITS)


PAIRS: list[tuple[str, str, str | None, datetime | None]] = [
    (
        "Volga farmers expect a strong wheat harvest.",
        "Los agricultores del Volga esperan una buena cosecha de trigo.",
        "lucia.m",
        datetime(2026, 12, 3, 14, 15, 0, tzinfo=UTC),
    ),
    ('Tom & Jerry <b>"quoted"</b>', "Tom y Jerry <b>«citado»</b>", None, None),
    (
        "  spaced\nlines  ",
        "  espaciado\nlíneas  ",
        "ed",
        datetime(2026, 12, 3, 17, 0, tzinfo=timezone(timedelta(hours=3))),
    ),
    ("Harvest 🌾", "حصاد 🌾", None, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
]


def test_tmx_is_valid_against_the_tmx_1_4b_dtd() -> None:
    document = to_tmx(PAIRS, "en", "es")
    dtd = etree.DTD(str(DATA / "tmx14.dtd"))
    root = etree.fromstring(document, etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=False))
    assert dtd.validate(root), dtd.error_log
    header = root.find("header")
    assert {k: header.get(k) for k in ("creationtool", "srclang", "adminlang", "segtype", "datatype", "o-tmf")} == {
        "creationtool": "syndicate",
        "srclang": "en",
        "adminlang": "en",
        "segtype": "sentence",
        "datatype": "plaintext",
        "o-tmf": "syndicate",
    }
    assert header.get("creationdate") is None  # same memory, same bytes
    assert document == to_tmx(PAIRS, "en", "es")


def test_tmx_reads_back_with_translate_toolkit() -> None:
    from translate.storage.tmx import tmxfile

    store = tmxfile.parsestring(to_tmx(PAIRS, "en", "es"))
    back = [
        (u.source, u.gettarget("es"), u.xmlelement.get("changeid"), u.xmlelement.get("changedate")) for u in store.units
    ]
    assert back == [
        (PAIRS[0][0], PAIRS[0][1], "lucia.m", "20261203T141500Z"),
        (PAIRS[1][0], PAIRS[1][1], None, None),
        (PAIRS[2][0], PAIRS[2][1], "ed", "20261203T140000Z"),  # 17:00 at +03:00, in UTC
        (PAIRS[3][0], PAIRS[3][1], None, "20260102T030405Z"),
    ]
    langs = [
        [tuv.get("{http://www.w3.org/XML/1998/namespace}lang") for tuv in u.xmlelement.findall("tuv")]
        for u in store.units
    ]
    assert langs == [["en", "es"]] * len(PAIRS)


def test_tmx_refuses_naive_datetimes() -> None:
    with pytest.raises(ReviewError, match="no time zone"):
        to_tmx([("a", "b", None, datetime(2026, 1, 1))], "en", "es")
