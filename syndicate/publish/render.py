"""Blocks -> the semantic HTML of a published body (feeds' content and pages). Pure.

Each block has one rendering: ``p``, ``h2``-``h6``, ``ul``/``ol`` (nested lists inside
their item), ``blockquote`` (with ``cite``), ``figure`` with a lazy-loaded ``img`` and
``figcaption``, ``table`` with ``caption``, ``thead`` and ``tbody``, ``pre``/``code``,
``hr``, and an embed as a link to what the source embedded (never an iframe).
Attribution lines end their paragraph (or follow their block). In bilingual editions
each top-level block is followed by its original, marked with ``lang`` and the class
``syndicate-original``. The result goes through the body allowlist
(:func:`syndicate.sanitize.sanitize_body`) whatever the blocks hold.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import urlsplit

from syndicate.models import (
    Block,
    Embed,
    Figure,
    Heading,
    Image,
    ListBlock,
    Paragraph,
    Preformatted,
    Quote,
    Rule,
    Table,
)
from syndicate.sanitize import sanitize_body

ORIGINAL_CLASS = "syndicate-original"
#: The class of the body of a title-only translation: the original's text, in its language.
UNTRANSLATED_CLASS = "syndicate-untranslated"


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def image_html(image: Image) -> str:
    parts = [f'<img src="{_attr(image.src)}" alt="{_attr(image.alt)}"']
    if image.title:
        parts.append(f' title="{_attr(image.title)}"')
    if image.width:
        parts.append(f' width="{image.width}"')
    if image.height:
        parts.append(f' height="{image.height}"')
    parts.append(' loading="lazy" decoding="async">')
    return "".join(parts)


def block_html(block: Block, tail: str = "") -> str:
    """One block; ``tail`` (attribution spans) ends a paragraph or follows the block."""
    if isinstance(block, Paragraph):
        return f"<p>{block.html}{tail}</p>"
    out = _block(block)
    return out + (f'\n<p class="attribution-line">{tail.strip()}</p>' if tail else "")


def _block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{block.html}</p>"
    if isinstance(block, Heading):
        level = min(max(block.level, 2), 6)
        return f"<h{level}>{block.html}</h{level}>"
    if isinstance(block, ListBlock):
        tag = "ol" if block.ordered else "ul"
        items = []
        for item in block.items:
            children = "".join(_block(c) for c in item.children)
            items.append(f"<li>{item.html}{children}</li>")
        return f"<{tag}>{''.join(items)}</{tag}>"
    if isinstance(block, Quote):
        cite = f' cite="{_attr(block.cite)}"' if block.cite else ""
        return f"<blockquote{cite}>{''.join(_block(c) for c in block.blocks)}</blockquote>"
    if isinstance(block, Figure):
        image = image_html(block.image) if block.image else ""
        caption = f"<figcaption>{block.caption}</figcaption>" if block.caption else ""
        return f"<figure>{image}{caption}</figure>"
    if isinstance(block, Table):
        caption = f"<caption>{block.caption}</caption>" if block.caption else ""
        head = [r for r in block.rows if r.head]
        body = [r for r in block.rows if not r.head]

        def row(r: object) -> str:
            cells = []
            for c in r.cells:  # type: ignore[attr-defined]
                tag = "th" if c.header else "td"
                spans = (f' colspan="{c.colspan}"' if c.colspan > 1 else "") + (
                    f' rowspan="{c.rowspan}"' if c.rowspan > 1 else ""
                )
                scope = ' scope="col"' if c.header and r.head else ""  # type: ignore[attr-defined]
                cells.append(f"<{tag}{spans}{scope}>{c.html}</{tag}>")
            return f"<tr>{''.join(cells)}</tr>"

        thead = f"<thead>{''.join(row(r) for r in head)}</thead>" if head else ""
        tbody = f"<tbody>{''.join(row(r) for r in body)}</tbody>" if body else ""
        return f"<table>{caption}{thead}{tbody}</table>"
    if isinstance(block, Preformatted):
        text = html.escape(block.text, quote=False)
        return f"<pre><code>{text}</code></pre>" if block.code else f"<pre>{text}</pre>"
    if isinstance(block, Rule):
        return "<hr>"
    if isinstance(block, Embed):
        label = html.escape(block.title, quote=False) if block.title else html.escape(_short(block.url), quote=False)
        return f'<p class="embed embed-{block.kind}"><a href="{_attr(block.url)}">{label}</a></p>'
    return ""


def _short(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"[:120] or url[:120]


def body_html(
    blocks: Sequence[Block],
    tails: Sequence[str],
    *,
    originals: Sequence[Block] | None = None,
    original_language: str | None = None,
    untranslated: bool = False,
) -> str:
    """A body: every block with its tail (attribution spans), originals interleaved when given.

    ``untranslated``: the blocks are the original's (a title-only translation), so the
    body is marked as being in ``original_language``."""
    parts = []
    for index, block in enumerate(blocks):
        parts.append(block_html(block, tails[index] if index < len(tails) else ""))
        if originals is not None and index < len(originals) and not isinstance(block, Rule):
            lang = f' lang="{_attr(original_language)}"' if original_language else ""
            parts.append(f'<div class="{ORIGINAL_CLASS}"{lang}>{_block(originals[index])}</div>')
    if untranslated and original_language:
        parts = [f'<div class="{UNTRANSLATED_CLASS}" lang="{_attr(original_language)}">', *parts, "</div>"]
    return sanitize_body("\n".join(parts))
