"""The HTML allowlists (nh3, i.e. Ammonia): what may reach a published body. A leaf module.

Two levels: :func:`sanitize` for the inline fragments that blocks hold (what a
paragraph, heading, list item, caption or cell may contain), :func:`sanitize_body` for
a rendered body, which may also hold the block elements our renderer writes. Images
only over http(s) (no ``data:``, no ``javascript:``); no iframes, objects, forms, styles
or event handlers anywhere, whatever the source sent.
"""

from __future__ import annotations

import nh3

#: Inline markup: what a text-bearing block may hold.
INLINE_TAGS = {
    "a",
    "em",
    "strong",
    "b",
    "i",
    "span",
    "sup",
    "sub",
    "br",
    "code",
    "q",
    "abbr",
    "cite",
    "mark",
    "small",
    "s",
    "u",
    "kbd",
    "samp",
    "var",
}
INLINE_ATTRIBUTES = {
    "a": {"href", "title", "hreflang", "lang"},
    "abbr": {"title"},
    "span": {"lang", "translate", "title", "class"},
    "code": {"translate"},
    "*": {"lang"},
}
#: Block markup, as publish/render.py writes it.
BODY_TAGS = INLINE_TAGS | {
    "p",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "figure",
    "figcaption",
    "img",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "pre",
    "hr",
    "div",
}
BODY_ATTRIBUTES = {
    **INLINE_ATTRIBUTES,
    "p": {"class", "lang"},
    "div": {"class", "lang"},
    "blockquote": {"cite", "class", "lang"},
    "img": {"src", "alt", "title", "width", "height", "loading", "decoding"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "figure": {"class"},
    "ol": {"start"},
    "span": INLINE_ATTRIBUTES["span"] | {"data-source"},
    "a": INLINE_ATTRIBUTES["a"] | {"class", "rel"},
    "pre": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize(fragment: str) -> str:
    """An inline fragment with anything dangerous or non-inline stripped."""
    return nh3.clean(
        fragment,
        tags=INLINE_TAGS,
        attributes=INLINE_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def sanitize_body(body: str) -> str:
    """A rendered body with anything outside the block allowlist stripped."""
    return nh3.clean(
        body, tags=BODY_TAGS, attributes=BODY_ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=None, strip_comments=True
    )
