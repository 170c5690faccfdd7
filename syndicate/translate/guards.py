"""Quality guards: catch engine output that must not be published as a translation.

Each guard returns a short reason, or None when the output passes. A segment whose
output fails is retried with the next engine of the chain; if every engine fails, the
segment is published in the original language, marked as such (never untranslated text
passed off as translated).

A segment that rightly comes back unchanged is not a failure: e-mail addresses, URLs,
@handles, #hashtags, numbers, codes (``A320``, ``COVID-19``, ``snake_case``), names
(capitalised words inside a sentence) and very short labels. Only a copy with at least
three ordinary words left after removing those is "a copy of the source"; one-letter
translations (``and`` -> ``y``) are translations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from syndicate.translate.segments import normalize

_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
#: What stays the same in any language: addresses, links, handles, tags, codes.
_INVARIANT = re.compile(
    r"""[\w.+-]+@[\w-]+(?:\.[\w-]+)+"""  # e-mail
    r"""|(?:https?://|www\.)\S+"""  # URL
    # a bare domain (pic.twitter.com/x)
    r"""|\b(?:[\w-]+\.)+(?:com|org|net|edu|gov|io|co|uk|de|fr|es|it|ru|info|news|tv)(?:/\S*)?"""
    r"""|[@#][\w.]+"""  # handle, hashtag
    r"""|\b\w*\d\w*\b"""  # anything with a digit (A320, 2026, COVID-19)
    r"""|\b\w+_\w+\b"""  # snake_case
    r"""|\b[A-Z]{2,}\b""",  # acronyms
    re.UNICODE,
)
#: Output longer than this many times the source (plus slack for short segments) is a runaway.
MAX_LENGTH_RATIO = 3.0
LENGTH_SLACK = 40
#: Output shorter than this share of a long source dropped most of it. Deliberately low:
#: Chinese or Japanese take far fewer characters than the European source.
MIN_LENGTH_RATIO = 0.15
SHORT_MIN_SOURCE = 40
#: A run of the same 1-4 word n-gram repeated this many times, not in the source, is a loop.
LOOP_REPEATS = 4


def check(source: str, output: str, protect: Mapping[str, str] | None = None) -> str | None:
    """Why ``output`` is not an acceptable translation of ``source`` (None if it is)."""
    src, out = normalize(source), normalize(output)
    src_words = _WORD.findall(src)
    if not src_words:
        return None  # numbers, names, punctuation: anything goes
    if not out:
        return "empty"
    if len(out) > MAX_LENGTH_RATIO * len(src) + LENGTH_SLACK:
        return "too long"
    if len(src) >= SHORT_MIN_SOURCE and len(out) < MIN_LENGTH_RATIO * len(src):
        return "too short"
    protect = {normalize(k): normalize(v) for k, v in (protect or {}).items()}
    rest = out
    for replacement in protect.values():
        rest = rest.replace(replacement, " ")
    if protect and not _LETTER.findall(rest) and _translatable_words(src, protect) >= 1:
        return "nothing but protected terms"
    if _loops(out) and not _loops(src):
        return "repetition loop"
    if out.casefold() == src.casefold() and _translatable_words(src, protect) >= 3:
        return "copy of the source"
    for term, replacement in (protect or {}).items():
        if _contains(src, term) and not _contains(out, replacement):
            return f"lost protected term {term!r}"
    return None


def _translatable_words(text: str, protect: Mapping[str, str] | None) -> int:
    for term in protect or {}:
        text = text.replace(term, " ")
    text = _INVARIANT.sub(" ", text)
    # Capitalised words inside a sentence are mostly names, which engines keep.
    words = _WORD.findall(text)
    return sum(1 for i, w in enumerate(words) if i == 0 or not w[0].isupper())


def _contains(text: str, term: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(term) + r"(?!\w)", text) is not None


def _loops(text: str) -> bool:
    words = text.casefold().split()
    for n in range(1, 5):
        run = 1
        for i in range(n, len(words) - n + 1, n):
            if words[i : i + n] == words[i - n : i]:
                run += 1
                if run >= LOOP_REPEATS:
                    return True
            else:
                run = 1
    # The same character sequence looping without spaces ("hahahahaha...", CJK).
    return re.search(r"(.{2,20}?)\1{5,}", text) is not None
