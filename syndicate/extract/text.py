"""The plain-text article format (the seed format).

    Title line

    Paragraph ... [Source attribution: Outlet]

    Previous Article

    Title of the previous article

    Next Article

    Title of the next article

    Write a Comment
"""

from __future__ import annotations

import codecs
import html
import re

from syndicate.config import ExtractSettings
from syndicate.errors import ItemError
from syndicate.extract.common import is_chrome, is_next_label, is_previous_label, squash, take_attributions
from syndicate.models import Article, Attribution, RawItem, Ref


#: C0 controls other than tab/newline/CR, and DEL: never text, and lxml refuses them.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_text(item: RawItem) -> str:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16, without control characters."""
    return CONTROL_CHARS.sub("", _decode(item))


def _decode(item: RawItem) -> str:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16; refuse anything else."""
    data = item.data
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ItemError(
            f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})",
            source=item.source,
            item=item.key,
            hint=f"convert it, e.g. `iconv -f ISO-8859-1 -t UTF-8 {item.key}`",
        ) from None


def _blocks(text: str) -> list[str]:
    """Blocks separated by blank lines, whitespace squashed; a block's lines are joined."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [squash(b) for b in re.split(r"\n\s*\n", text) if b.strip()]


def extract_text(item: RawItem, text: str, settings: ExtractSettings) -> Article:
    """Parse a plain-text article."""
    blocks = _blocks(text)
    if not blocks:
        raise ItemError("the file is empty", source=item.source, item=item.key, hint="remove it or write the article into it")
    # The title is the first line, even when the body follows without a blank line.
    lines = text.lstrip("\ufeff").strip().splitlines()
    title = squash(lines[0])
    body_blocks = blocks[1:]
    if squash(blocks[0]) != title:
        # No blank line after the title: the rest of the first block is body.
        body_blocks = [squash(blocks[0][len(title) :])] + body_blocks

    paragraphs: list[str] = []
    attributions: list[Attribution] = []
    prev_title: str | None = None
    next_title: str | None = None
    expecting: str | None = None
    for block in body_blocks:
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
        body, found = take_attributions(block, len(paragraphs), settings.attribution_patterns, is_html=False)
        if body:
            paragraphs.append(html.escape(body, quote=False))
            attributions.extend(found)
        else:
            # A line that is only an attribution belongs to the paragraph before it.
            index = max(len(paragraphs) - 1, 0)
            attributions.extend(Attribution(a.label, a.source, index) for a in found)
    return Article(
        source=item.source,
        key=item.key,
        title=title,
        paragraphs=tuple(paragraphs),
        attributions=tuple(attributions),
        url=item.url,
        prev=Ref(title=prev_title) if prev_title else None,
        next=Ref(title=next_title) if next_title else None,
        language=item.language,
        published=item.published,
    )
