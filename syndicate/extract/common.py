"""Pieces shared by the text and HTML readers: attribution lines, chrome, whitespace."""

from __future__ import annotations

import html
import re
from functools import lru_cache

from syndicate.models import Attribution

PREVIOUS_LABELS = frozenset({"previous article", "previous", "prev article", "« previous article", "← previous article"})
NEXT_LABELS = frozenset({"next article", "next", "next article »", "next article →"})


def squash(text: str) -> str:
    """Collapse runs of whitespace to one space and strip."""
    return re.sub(r"\s+", " ", text).strip()


def label_key(text: str) -> str:
    return squash(text).casefold().strip(" :»«←→")


_PREVIOUS_KEYS = frozenset(label_key(x) for x in PREVIOUS_LABELS)
_NEXT_KEYS = frozenset(label_key(x) for x in NEXT_LABELS)
#: Longer text (once stripped) is never a label, and is not worth normalising: extraction
#: asks about every element of a page.
_LONGEST_LABEL = 200


def is_previous_label(text: str) -> bool:
    text = text.strip()
    return len(text) <= _LONGEST_LABEL and label_key(text) in _PREVIOUS_KEYS


def is_next_label(text: str) -> bool:
    text = text.strip()
    return len(text) <= _LONGEST_LABEL and label_key(text) in _NEXT_KEYS


@lru_cache(maxsize=32)
def _chrome_keys(chrome_lines: tuple[str, ...]) -> tuple[frozenset[str], int]:
    """The normalised chrome lines, and a length past which no text can be one of them."""
    longest = max((len(line) for line in chrome_lines), default=0)
    return frozenset(label_key(line) for line in chrome_lines), max(_LONGEST_LABEL, 2 * longest)


def is_chrome(text: str, chrome_lines: tuple[str, ...]) -> bool:
    keys, limit = _chrome_keys(chrome_lines)
    text = text.strip()
    return len(text) <= limit and label_key(text) in keys


@lru_cache(maxsize=32)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def take_attributions(
    fragment: str, paragraph: int, patterns: tuple[str, ...], *, is_html: bool
) -> tuple[str, list[Attribution]]:
    """Remove attribution lines from a paragraph; return the rest and the lines found.

    ``fragment`` is plain text, or an HTML fragment when ``is_html`` (then the source
    name is unescaped for the structured record).
    """
    found: list[Attribution] = []

    def grab(match: re.Match[str]) -> str:
        label, source = match.group("label"), match.group("source")
        if is_html:
            label, source = html.unescape(label), html.unescape(source)
        found.append(Attribution(label=squash(label), source=squash(source), paragraph=paragraph))
        return ""

    for pattern in _compiled(patterns):
        fragment = pattern.sub(grab, fragment)
    return fragment.strip(), found
