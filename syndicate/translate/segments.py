"""Sentence segmentation and normalisation for translation.

syndicate splits sentences itself: argostranslate's own splitter downloads a model at
run time (which fails offline) and Apertium works best on whole sentences anyway. The
splitter is deliberately conservative: a wrong split costs translation quality, a
missed split only makes one segment longer.
"""

from __future__ import annotations

import re
import unicodedata

# Abbreviations after which a period does not end a sentence (compared lower-cased,
# without the final period). Covers the news register in the languages we read.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep pres
    rev hon messrs mme mlle sra srta dra
    jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun
    inc ltd co corp bros dept univ assn est approx no nos vol vols fig figs p pp ed eds
    vs etc al cf ca ie eg e.g i.e u.s u.k u.n u.s.a e.u a.m p.m d.c
    """.split()
)

# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"""([.!?…]+["'”’»)\]]*)(\s+)""")
_OPENERS = "\"'“‘«([¿¡"


def split_sentences(text: str) -> list[tuple[str, str]]:
    """Split ``text`` into ``(sentence, trailing_whitespace)`` pairs.

    Joining ``sentence + whitespace`` over the result gives back ``text`` exactly, so a
    translated paragraph keeps its original spacing between sentences.
    """
    if not text.strip():
        return [(text, "")] if text else []
    out: list[tuple[str, str]] = []
    start = 0
    length = len(text)
    for match in _BOUNDARY.finditer(text):
        end = match.end(1)
        after = match.end()
        if after >= length:
            break
        # Only the last word before the mark and the first character after it decide:
        # look at those, never at copies of the text around them (a long run of
        # rejected boundaries would otherwise cost time quadratic in the paragraph).
        if not _is_boundary(text[max(start, end - _TAIL) : end], text, after):
            continue
        out.append((text[start:end], match.group(2)))
        start = after
    out.append((text[start:], ""))
    # Leading whitespace belongs to no sentence: keep it on the first segment as is.
    return out


#: Characters before a sentence mark that the abbreviation checks look at (a word longer
#: than this is no abbreviation).
_TAIL = 64


def _is_boundary(before: str, text: str, after: int) -> bool:
    """Whether a sentence ends with ``before`` (the tail of the text up to its mark) and
    the next one starts at ``text[after]``."""
    stripped = before.rstrip("\"'”’»)]")
    if stripped.endswith(("!", "?", "…")):
        return _starts_sentence(text, after)
    # A period: look at the word it ends.
    word = re.split(r"\s", stripped)[-1].rstrip(".").lower()
    if word in _ABBREVIATIONS:
        return False
    if re.fullmatch(r"[a-z]", word):  # an initial, as in "John F. Kennedy"
        return False
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):  # "U.S", "e.g"
        return (
            _starts_sentence(text, after)
            and text[after : after + 1].isupper()
            and not text.startswith(("S.", "K."), after)
        )
    return _starts_sentence(text, after)


def _starts_sentence(text: str, at: int) -> bool:
    """Whether ``text`` from ``at`` starts a sentence (after any opening quotes or brackets)."""
    length = len(text)
    while at < length and text[at] in _OPENERS:
        at += 1
    first = text[at : at + 1]
    return bool(first) and (first.isupper() or first.isdigit() or not first.isalpha())


def normalize(segment: str) -> str:
    """Key for the translation memory: NFC, single spaces, stripped."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", segment)).strip()
