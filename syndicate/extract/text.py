"""The plain-text article format (the seed format).

    Title line

    Paragraph ... [Source attribution: Outlet]

    Previous Article

    Title of the previous article

    Next Article

    Title of the next article

    Write a Comment

Besides paragraphs, two shapes are read as structure because they cannot be mistaken:
a block whose every line starts with a bullet (``-``, ``*``, ``•``) or with consecutive
numbers (``1.``, ``2)``) is a list, and a block of one line starting with ``##`` to
``######`` is a heading. Short lines without a full stop are *not* taken for headings:
too many real paragraphs look like that.
"""

from __future__ import annotations

import codecs
import html
import re
from typing import Literal

from syndicate.config import ExtractSettings
from syndicate.errors import ItemError
from syndicate.extract.common import is_chrome, is_next_label, is_previous_label, squash, take_attributions
from syndicate.extract.decode import clean_bytes_text
from syndicate.models import Article, Attribution, Block, Heading, ListBlock, ListItem, Paragraph, RawItem, Ref


def decode_text(item: RawItem) -> str:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16, without control characters."""
    return clean_bytes_text(_decode(item))


def _decode(item: RawItem) -> str:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16; refuse anything else."""
    data = item.data
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            # It says it is UTF-16 and it is, but for one broken character: say that, not "not UTF-8".
            unit = data[exc.start : exc.start + 2]
            order: Literal["little", "big"] = "little" if data.startswith(codecs.BOM_UTF16_LE) else "big"
            code = int.from_bytes(unit, order) if len(unit) == 2 else None
            what = (
                f"a lone surrogate (U+{code:04X})"
                if code is not None and 0xD800 <= code <= 0xDFFF
                else "a truncated character"
                if code is None
                else "an invalid sequence"
            )
            raise ItemError(
                f"invalid UTF-16: {what} at byte offset {exc.start}",
                source=item.source,
                item=item.key,
                hint="the file is UTF-16 with a broken character; re-save it from its editor, as UTF-8 preferably",
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ItemError(
            f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})",
            source=item.source,
            item=item.key,
            hint=f"convert it, e.g. `iconv -f ISO-8859-1 -t UTF-8 {item.key}`",
        ) from None


def _raw_blocks(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [b.strip("\n") for b in re.split(r"\n\s*\n", text) if b.strip()]


def _blocks(text: str) -> list[str]:
    """Blocks separated by blank lines, whitespace squashed; a block's lines are joined."""
    return [squash(b) for b in _raw_blocks(text)]


_BULLET = re.compile(r"^\s*[-*•‣◦]\s+(\S.*)$")
_NUMBERED = re.compile(r"^\s*(\d{1,3})[.)]\s+(\S.*)$")
_MARKDOWN_HEADING = re.compile(r"^(#{2,6})\s+(\S.*?)\s*#*$")


def _structure(raw: str) -> Block | None:
    """A list or heading block, when the raw block is unmistakably one (see module docs)."""
    lines = [line for line in raw.split("\n") if line.strip()]
    heading = _MARKDOWN_HEADING.match(raw.strip()) if len(lines) == 1 else None
    if heading:
        return Heading(len(heading.group(1)), html.escape(squash(heading.group(2)), quote=False))
    if len(lines) < 2:
        return None
    bullets = [_BULLET.match(line) for line in lines]
    if all(bullets):
        return ListBlock(tuple(ListItem(html.escape(squash(m.group(1)), quote=False)) for m in bullets if m))
    numbered = [m for line in lines if (m := _NUMBERED.match(line))]
    if len(numbered) == len(lines):
        first = int(numbered[0].group(1))
        if [int(m.group(1)) for m in numbered] == list(range(first, first + len(lines))):
            return ListBlock(
                tuple(ListItem(html.escape(squash(m.group(2)), quote=False)) for m in numbered), ordered=True
            )
    return None


def extract_text(item: RawItem, text: str, settings: ExtractSettings) -> Article:
    """Parse a plain-text article."""
    raw_blocks = _raw_blocks(text)
    blocks = [squash(b) for b in raw_blocks]
    if not blocks:
        raise ItemError(
            "the file is empty", source=item.source, item=item.key, hint="remove it or write the article into it"
        )
    # The title is the first line, even when the body follows without a blank line.
    lines = text.lstrip("\ufeff").strip().splitlines()
    title = squash(lines[0])
    body_blocks = list(zip(blocks[1:], raw_blocks[1:], strict=True))
    if squash(blocks[0]) != title:
        # No blank line after the title: the rest of the first block is body.
        rest = squash(blocks[0][len(title) :])
        body_blocks = [(rest, raw_blocks[0].split("\n", 1)[-1]), *body_blocks]

    paragraphs: list[Block] = []
    attributions: list[Attribution] = []
    prev_title: str | None = None
    next_title: str | None = None
    expecting: str | None = None
    for block, raw in body_blocks:
        if expecting is not None:
            if is_chrome(block, settings.chrome_lines) or is_previous_label(block) or is_next_label(block):
                expecting = None  # a label with no title after it
            else:
                if expecting == "prev":
                    prev_title = block
                else:
                    next_title = block
                expecting = None
                continue
        if is_previous_label(block):
            expecting = "prev"
            continue
        if is_next_label(block):
            expecting = "next"
            continue
        if is_chrome(block, settings.chrome_lines):
            continue
        if prev_title is not None or next_title is not None:
            continue  # anything after the navigation is page chrome
        structured = _structure(raw)
        if structured is not None:
            paragraphs.append(structured)
            continue
        body, found = take_attributions(block, len(paragraphs), settings.attribution_patterns, is_html=False)
        if body:
            paragraphs.append(Paragraph(html.escape(body, quote=False)))
            attributions.extend(found)
        else:
            # A line that is only an attribution belongs to the paragraph before it.
            index = max(len(paragraphs) - 1, 0)
            attributions.extend(Attribution(a.label, a.source, index) for a in found)
    return Article(
        source=item.source,
        key=item.key,
        title=title,
        blocks=tuple(paragraphs),
        attributions=tuple(attributions),
        url=item.url,
        prev=Ref(title=prev_title) if prev_title else None,
        next=Ref(title=next_title) if next_title else None,
        language=item.language,
        published=item.published,
    )
