"""Bytes -> text the way browsers decide, and text cleaned of what is never content.

Decoding follows the HTML standard's order: a byte-order mark, then the charset of the
HTTP ``Content-Type``, then a ``<meta charset>`` / ``<meta http-equiv>`` declaration in
the first 1,024 bytes (the prescan), then detection. Two departures, both for pages that
lie: a page whose declaration comes later than the prescan still has it honoured, and a
page declared as Latin-1/windows-1252/ASCII whose bytes are valid UTF-8 with non-ASCII
sequences is read as UTF-8 (Latin-1 text practically never validates as UTF-8, while
CMS templates that say "iso-8859-1" over UTF-8 content are common). The same holds for
any other legacy charset (GB2312, Shift_JIS, windows-1251...) once the page has at least
:data:`UTF8_EVIDENCE` bytes of valid multi-byte UTF-8 sequences: text in those encodings
that long never validates as UTF-8 by chance, while a site moved to UTF-8 that kept its
old ``<meta charset="gb2312">`` does. Detection uses charset-normalizer.

Cleaning removes C0 controls, noncharacters and lone surrogates, whether they arrive as
bytes or as character references (``&#1;``, ``&#x1b;``, ``&#xfffe;``: lxml refuses them and
one would otherwise cost the whole page), and bidirectional embedding/override/isolate
controls (U+202A-U+202E, U+2066-U+2069), which can make a title or link display as
something else.
"""

from __future__ import annotations

import codecs
import logging
import re

logger = logging.getLogger(__name__)

#: How far the standard's prescan looks for a declaration, and how far we look anyway.
PRESCAN_BYTES = 1024
LATE_DECLARATION_BYTES = 65536

_META = re.compile(
    rb"""<meta\b[^>]*?(?:charset\s*=\s*["']?\s*([\w.:-]+)|http-equiv\s*=\s*["']?content-type["']?[^>]*?content\s*=\s*["'][^"']*charset\s*=\s*([\w.:-]+))""",
    re.IGNORECASE,
)
_META_REVERSED = re.compile(  # content="...charset=x" before http-equiv
    rb"""<meta\b[^>]*?content\s*=\s*["'][^"']*charset\s*=\s*([\w.:-]+)""", re.IGNORECASE
)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)
_SINGLE_BYTE_LATIN = frozenset({"latin-1", "iso8859-1", "cp1252", "ascii"})
#: Non-ASCII bytes a valid UTF-8 page needs for a declared legacy charset to be overruled.
UTF8_EVIDENCE = 16

#: Never text: C0 controls but tab/newline/CR, DEL, C1 controls, noncharacters, lone
#: surrogates, and bidi embedding/override/isolate controls.
_NOT_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]"
)
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, if any."""
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def _codec(name: str | bytes | None) -> str | None:
    if not name:
        return None
    label = name.decode("ascii", "ignore") if isinstance(name, bytes) else name
    label = label.strip().lower()
    if label in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        label = "windows-1252"  # what browsers decode these labels as
    if label in ("utf-16", "utf-16le", "utf-16be"):
        label = "utf-8"  # a meta cannot declare UTF-16 for bytes it is itself readable in
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charset(data: bytes, limit: int = PRESCAN_BYTES) -> str | None:
    """The encoding an XML declaration or ``<meta>`` in the first ``limit`` bytes names."""
    head = data[:limit]
    match = _XML_DECL.match(head)
    if match:
        return _codec(match.group(1))
    for regex in (_META, _META_REVERSED):
        found = regex.search(head)
        if found:
            codec = _codec(next(g for g in found.groups() if g))
            if codec:
                return codec
    return None


_HIGH_BYTES = bytes(range(0x80, 0x100))


def _is_utf8_with_non_ascii(data: bytes, at_least: int = 1) -> bool:
    """Whether ``data`` is valid UTF-8 with at least ``at_least`` non-ASCII bytes (counted
    in C: a page is megabytes)."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(data) - len(data.translate(None, _HIGH_BYTES)) >= at_least


def decode_html(data: bytes, http_charset: str | None = None, *, where: str = "") -> str:
    """Decode an HTML page's bytes (see the module docstring for the order).

    ``where`` names the page in the warning given when its declaration is wrong.
    """
    for bom, marked in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return clean(data[len(bom) :].decode(marked, errors="replace"))
    codec = _codec(http_charset) or declared_charset(data) or declared_charset(data, LATE_DECLARATION_BYTES)
    if codec in _SINGLE_BYTE_LATIN and _is_utf8_with_non_ascii(data):
        codec = "utf-8"
    elif codec is not None and codec != "utf-8" and _is_utf8_with_non_ascii(data, UTF8_EVIDENCE):
        logger.info("%s: the page says it is %s but its bytes are UTF-8; read as UTF-8", where or "a page", codec)
        codec = "utf-8"
    if codec == "utf-8" and not_really_utf8(data):
        detected = _detect(data)
        if detected != "utf-8":
            logger.warning(
                "%s: the page says it is UTF-8 but most of its non-ASCII bytes are not; read as %s "
                "(detected; fix: the site should declare its real charset)",
                where or "a page",
                detected,
            )
            codec = detected
    if codec is None:
        if _is_utf8_with_non_ascii(data) or all(b < 0x80 for b in data[:LATE_DECLARATION_BYTES]):
            codec = "utf-8"
        else:
            codec = _detect(data)
    return clean(data.decode(codec, errors="replace"))


def not_really_utf8(data: bytes) -> bool:
    """True when bytes said to be UTF-8 are mostly something else.

    A UTF-8 page with a stray windows-1252 quote is still UTF-8 (one replacement
    character); cp1251 or Latin-1 text read as UTF-8 fails on most of its non-ASCII bytes.
    """
    try:
        data.decode("utf-8")
        return False
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    non_ascii = sum(1 for char in text if char > "\x7f")
    return broken >= 3 and broken > 0.2 * non_ascii


def _detect(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:LATE_DECLARATION_BYTES]).best()
    return _codec(best.encoding if best else None) or "windows-1252"


def _char_ref(match: re.Match[str]) -> str:
    hex_digits, decimal = match.groups()
    try:
        value = int(hex_digits, 16) if hex_digits else int(decimal)
        char = chr(value)
    except (ValueError, OverflowError):
        return ""
    if value in (0x9, 0xA, 0xD):
        return match.group(0)
    return "" if _NOT_TEXT.match(char) or value > 0x10FFFF else match.group(0)


def clean(text: str) -> str:
    """Remove characters that are never content, raw or as character references."""
    text = _NOT_TEXT.sub("", text)
    if "&#" in text:
        text = _CHAR_REF.sub(_char_ref, text)
    return text


def clean_bytes_text(text: str) -> str:
    """:func:`clean` for plain text (no character references to look at)."""
    return _NOT_TEXT.sub("", text)
