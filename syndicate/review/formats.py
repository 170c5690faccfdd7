"""Editors' review work to and from CAT tools: XLIFF 2.0 out, XLIFF 2.0/2.1 back in, and
the translation memory as TMX 1.4b. The only module importing translate-toolkit.

translate-toolkit writes the documents and reads each segment's text, with two repairs to what its XLIFF 2
writer produces, because its output is not valid against the OASIS core schema: it puts
``xml:space="preserve"`` on every ``<segment>`` (the schema allows it on ``<source>``,
``<target>`` and ``<unit>`` only) and ``<notes>`` inside the ``<segment>`` (they belong
to the ``<unit>``, before its segments). We move both to where the schema wants them.

Files from outside are parsed here, with a parser that loads no DTD, expands no entity
and opens no network connection, and translate-toolkit reads units from that tree (it
never parses them itself); a file with a DOCTYPE is refused outright (XLIFF 2 has no DTD,
and a DOCTYPE is how XXE and "billion laughs" attacks arrive).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from syndicate import __version__
from syndicate.errors import ReviewError

if TYPE_CHECKING:
    from lxml import etree

#: The largest XLIFF file read back: a day's review of every language is a few MB.
MAX_XLIFF_BYTES = 50 * 1024 * 1024
XLIFF_NS = "urn:oasis:names:tc:xliff:document:2.0"  # 2.0 and 2.1 share it
XLIFF_VERSIONS = ("2.0", "2.1")
STATES = ("initial", "translated", "reviewed", "final")  # in the order work advances
_ID = re.compile(r"a([0-9]+)-s([0-9]+)")
_SEGMENT, _IGNORABLE = f"{{{XLIFF_NS}}}segment", f"{{{XLIFF_NS}}}ignorable"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_XML_WS = re.compile(r"[ \t\r\n]+")
# A DOCTYPE in the prolog, seen before libxml2 reads its entity declarations.
# Atomic and possessive, so a long hostile prolog cannot make it backtrack.
_DOCTYPE = re.compile(rb"\A(?:\xef\xbb\xbf)?(?>\s|<\?.*?\?>|<!--.*?-->)*+<!DOCTYPE", re.S)
# XML 1.0 (5th edition) NameChar: what the schema's xs:NMTOKEN unit ids may contain.
_NMTOKEN = re.compile(
    "[-.0-9:A-Z_a-z\u00b7\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u037d\u037f-\u1fff\u200c\u200d"
    "\u203f\u2040\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
    "\U00010000-\U000effff]+"
)
_NO_DOCTYPE = (
    "has a DOCTYPE declaration; XLIFF 2 files have none, and one can read local files "
    "or expand entities without bound, so it is refused"
)
_FIX = "export the file from the CAT tool again as XLIFF 2.0 (or 2.1)"


def _need_toolkit() -> None:
    """translate-toolkit is the optional extra ``cat`` (it is GPL-3.0-or-later; syndicate is MIT)."""
    import importlib.util

    try:
        found = importlib.util.find_spec("translate.storage.xliff2")
    except ImportError:  # no package "translate" at all
        found = None
    if found is None:
        raise ReviewError(
            "XLIFF and TMX files need translate-toolkit, which is not installed",
            item="translate-toolkit",
            hint="pip install 'syndicate[cat]' (make install does)",
        )


@dataclass(frozen=True)
class ExportUnit:
    """One segment for a CAT tool: its stable id, the text and where its review stands."""

    id: str  # e.g. "a12-s3" (article 12, segment 3); an XML NMTOKEN
    article_id: int
    source: str
    target: str  # the current translation, "" when there is none
    state: str  # "initial", "translated", "reviewed" or "final" (XLIFF 2 segment states)
    notes: tuple[str, ...] = ()  # context for the editor: article title, confidence...


@dataclass(frozen=True)
class ImportedUnit:
    """One unit as a CAT tool gave it back; ``article_id`` is read from our id shape."""

    id: str
    article_id: int | None  # None when the id is not our "a<digits>-s<digits>"
    source: str
    target: str  # "" when the unit has no target
    state: str | None  # the segment's state attribute, None when absent


@dataclass(frozen=True)
class XliffDocument:
    """An XLIFF 2 file read back: its languages and its units in document order."""

    source_language: str
    target_language: str | None
    units: tuple[ImportedUnit, ...]


def _needs_preserve(text: str) -> bool:
    """Would an XML reader's whitespace normalisation change this text?"""
    return _XML_WS.sub(" ", text).strip(" ") != text


def to_xliff(units: Sequence[ExportUnit], source_language: str, target_language: str, *, original: str) -> bytes:
    """XLIFF 2.0 document (UTF-8 bytes, with XML declaration): one ``<file id="f1"
    original=original>``, one ``<unit id=...>`` per ExportUnit holding ``<notes>`` (when
    any) and one ``<segment state=...>`` with ``<source>`` and ``<target>``
    (``xml:space="preserve"`` on those whose whitespace a reader would otherwise collapse).

    The file says ``canResegment="no"``: each unit id stands for one stored segment, so a
    CAT tool must not split or merge them. Characters XML 1.0 cannot carry (C0 controls
    other than tab and newlines) are dropped from the text, as translate-toolkit does.
    The same units always give the same bytes (nothing is stamped with the time).
    """
    _need_toolkit()
    from translate.misc.xml_helpers import safely_set_text
    from translate.storage.xliff2 import Xliff2File, Xliff2Unit

    seen: set[str] = set()
    for unit in units:
        if not _NMTOKEN.fullmatch(unit.id) or unit.id in seen:
            why = "appears twice" if unit.id in seen else "is not an XML NMTOKEN"
            raise ReviewError(
                f"unit id {unit.id!r} {why}", item=unit.id, hint="give each segment a unique id like 'a12-s3'"
            )
        if unit.state not in STATES:
            raise ReviewError(
                f"unit {unit.id} has state {unit.state!r}", item=unit.id, hint=f"use one of {', '.join(STATES)}"
            )
        seen.add(unit.id)

    store = Xliff2File(sourcelanguage=source_language, targetlanguage=target_language)
    store.body.set("original", original)
    store.body.set("canResegment", "no")
    for unit in units:
        tt_unit = Xliff2Unit(unit.source)
        store.addunit(tt_unit)
        tt_unit.setid(unit.id)
        tt_unit.target = unit.target
        segment = tt_unit.xmlelement
        segment.set("state", unit.state)
        # Repair 1: xml:space belongs on <source>/<target>, and only where it matters.
        segment.attrib.pop(_XML_SPACE, None)
        for part in segment:
            if _needs_preserve(part.text or ""):
                part.set(_XML_SPACE, "preserve")
        # Repair 2: notes go in the <unit>, before its segment (not via tt's addnote).
        if unit.notes:
            notes = segment.makeelement(f"{{{XLIFF_NS}}}notes", {})
            for text in unit.notes:
                note = notes.makeelement(f"{{{XLIFF_NS}}}note", {})
                safely_set_text(note, text)
                notes.append(note)
            segment.addprevious(notes)
    return bytes(store)


def _fail(name: str, message: str, hint: str = _FIX) -> ReviewError:
    return ReviewError(f"{name}: {message}", item=name, hint=hint)


def _parse(data: bytes, name: str) -> etree._Element:
    """The root of ``data``, parsed without DTD, entities or network; checked to be XLIFF 2.0/2.1."""
    from lxml import etree

    if len(data) > MAX_XLIFF_BYTES:
        raise _fail(
            name,
            f"is {len(data):,} bytes, over the {MAX_XLIFF_BYTES:,}-byte limit for an XLIFF file",
            "export fewer articles per file",
        )
    if not data.strip():
        raise _fail(name, "is empty")
    if _DOCTYPE.match(data):
        raise _fail(name, _NO_DOCTYPE)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise _fail(name, f"is not well-formed XML (line {err.lineno}: {err.msg})") from None
    if root.getroottree().docinfo.doctype:  # one the prolog scan missed (UTF-16)
        raise _fail(name, _NO_DOCTYPE)
    namespace, local = etree.QName(root).namespace or "", etree.QName(root).localname
    version = root.get("version", "")
    if local != "xliff":
        raise _fail(name, f"is not an XLIFF file (its root element is <{local}>)")
    if version.startswith("1.") or ":document:1." in namespace:
        found = version or namespace.rsplit(":", 1)[-1]
        raise _fail(
            name,
            f"is XLIFF {found}, not XLIFF 2; the file must be XLIFF 2.0 or 2.1",
            "in the CAT tool, export as XLIFF 2.0 (or 2.1), not XLIFF 1.2",
        )
    if namespace != XLIFF_NS or version not in XLIFF_VERSIONS:
        raise _fail(name, f"is not XLIFF 2.0 or 2.1 (namespace {namespace!r}, version {version!r})")
    if not root.get("srcLang"):
        raise _fail(
            name,
            "has no srcLang attribute on <xliff> (XLIFF 2 requires the source language)",
            'add srcLang="en" (the source language) to the <xliff> element, or export again',
        )
    return root


def from_xliff(data: bytes, *, name: str = "the file") -> XliffDocument:
    """Read an XLIFF 2.x file back (2.0 and 2.1 accepted; they share one namespace).

    Safe on hostile input: the size cap ``MAX_XLIFF_BYTES`` is checked first, the parser
    loads no DTD, resolves no entity, opens no network connection and keeps libxml2's
    limits (no huge_tree), and a DOCTYPE is refused. Every problem is a ReviewError naming
    ``name`` and saying what fixes it: empty, not XML (with its line), not XLIFF 2 (an
    XLIFF 1.2 file says so), no srcLang, too large, a unit without id, an id twice, a
    state outside the four XLIFF 2 states.

    Inline elements in ``<source>``/``<target>`` (``<ph/>``, ``<pc>``, ``<mrk>``, which a
    CAT tool may add) count by their text content; ``<ph/>`` and ``<cp/>`` add nothing.
    Whitespace is kept where ``xml:space="preserve"`` applies and collapsed elsewhere. A
    unit the tool split into several segments (with ``<ignorable>`` between) is joined
    back: its text is theirs in order, its state the least advanced of theirs.
    """
    root = _parse(data, name)
    units: dict[str, ImportedUnit] = {}
    for element in root.iter(f"{{{XLIFF_NS}}}unit"):
        unit = _read_unit(element, name)
        if unit.id in units:
            raise _fail(name, f"the unit on line {element.sourceline} has the id {unit.id!r} twice")
        units[unit.id] = unit
    return XliffDocument(root.get("srcLang", ""), root.get("trgLang"), tuple(units.values()))


def _read_unit(element: etree._Element, name: str) -> ImportedUnit:
    """One ``<unit>``: its segments (and the ``<ignorable>``s between them) joined in order."""
    _need_toolkit()
    from translate.storage.xliff2 import Xliff2Unit

    unit_id = element.get("id")
    if not unit_id:
        raise _fail(name, f"the unit on line {element.sourceline} has no id")
    parts = [part for part in element if part.tag in (_SEGMENT, _IGNORABLE)]
    states = [part.get("state") for part in parts if part.tag == _SEGMENT]
    if bad := [state for state in states if state is not None and state not in STATES]:
        raise _fail(
            name,
            f"the unit {unit_id} on line {element.sourceline} has the state {bad[0]!r}, not one of {', '.join(STATES)}",
        )
    sources: list[str] = []
    targets: list[str | None] = []
    for part in parts:
        tt_unit = Xliff2Unit.createfromxmlElement(part)  # its text: inline codes, xml:space
        source = _text(part, "source", tt_unit.source) or ""
        target = _text(part, "target", tt_unit.target)
        sources.append(source)
        # An ignorable without a target stands for itself in the target too.
        targets.append(source if target is None and part.tag == _IGNORABLE else target)
    has_target = any(t is not None for part, t in zip(parts, targets, strict=True) if part.tag == _SEGMENT)
    match = _ID.fullmatch(unit_id)
    return ImportedUnit(
        id=unit_id,
        article_id=int(match.group(1)) if match else None,
        source="".join(sources),
        target="".join(t or "" for t in targets) if has_target else "",
        # Several segments: the unit is only as far along as its least advanced one.
        state=states[0]
        if len(set(states)) == 1
        else min((s or "initial" for s in states), key=STATES.index, default=None),
    )


def _text(part: etree._Element, side: str, text: object) -> str | None:
    """translate-toolkit's reading of ``part``'s source or target; None when absent."""
    node = part.find(f"{{{XLIFF_NS}}}{side}")
    if node is None:
        return None
    if part.tag == _IGNORABLE and not text and "".join(node.itertext()):
        return " "  # whitespace between segments: collapsed by xml:space="default", still a boundary
    return str(text or "")


def _tmx_date(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ReviewError(f"the date {moment.isoformat()} has no time zone", hint="pass timezone-aware UTC datetimes")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def to_tmx(
    pairs: Sequence[tuple[str, str, str | None, datetime | None]], source_language: str, target_language: str
) -> bytes:
    """TMX 1.4b memory: one ``<tu>`` per (source, target, editor-or-None,
    changed-at-or-None), with ``<tuv xml:lang>`` for both sides and ``changeid``/
    ``changedate`` (``YYYYMMDDThhmmssZ``, UTC) when given. The header names syndicate as
    the creation tool (``creationtoolversion`` is required by the DTD) with
    ``adminlang="en"``, ``segtype="sentence"``, ``datatype="plaintext"`` and
    ``o-tmf="syndicate"``. No creation date: the same memory gives the same bytes.
    """
    _need_toolkit()
    from translate.storage.tmx import tmxfile

    store = tmxfile(sourcelanguage=source_language, targetlanguage=target_language)
    header = store.document.getroot().find("header")
    assert header is not None  # tmxfile's skeleton has one
    for key, value in (
        ("creationtool", "syndicate"),
        ("creationtoolversion", __version__),
        ("o-tmf", "syndicate"),
        ("datatype", "plaintext"),
        ("srclang", source_language),
    ):
        header.set(key, value)
    for source, target, editor, changed in pairs:
        unit = store.addsourceunit(source)
        unit.settarget(target, target_language)
        if editor is not None:
            unit.xmlelement.set("changeid", editor)
        if changed is not None:
            unit.xmlelement.set("changedate", _tmx_date(changed))
    return bytes(store)
