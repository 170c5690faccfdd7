"""Finishing engine output for the target language: what no reader should ever see.

Per segment, after any engine (and after the translation memory, so a change here
reaches everything stored):

- **debris**: engine marks (``*word``), brackets and backslashes the source did not
  have (Apertium's English-Esperanto pair emits ``[']``), runs of spaces;
- **spacing**: no space before closing punctuation or after opening punctuation
  (French gets its narrow no-break spaces instead);
- **quotation marks**: typographic quotes become the target language's own (CLDR's
  delimiters: « » in Spanish and Catalan, “ ” in Galician and Esperanto, „ “ in
  German), an opening quote keeps its closing one ("‘ Murió en mis manos'" ->
  "«Murió en mis manos»"); plain ASCII quotes, valid in every language, stay plain
  and are only paired and spaced;
- **¿ and ¡** in Spanish and Galician, at the start of the question or exclamation;
- **a capital** where the source sentence had one;
- **glued words**: an output word the target dictionary does not know, that the
  source does not contain, and that splits into dictionary words ("renovacióndedos",
  "chicade8años"), is split; each repair is flagged.

:class:`Polisher` works on a whole batch so the dictionary is asked once.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from syndicate.models import Lang, primary
from syndicate.translate.analysis import Lookup

# POLISH_REVISION (syndicate.translate.revisions): bump it when the output of this
# module changes; stored translations are redone.

#: CLDR delimiters per language: (open, close, alternate open, alternate close).
QUOTES: dict[str, tuple[str, str, str, str]] = {
    "es": ("«", "»", "“", "”"),
    "ca": ("«", "»", "“", "”"),
    "gl": ("“", "”", "‘", "’"),
    "eo": ("“", "”", "‘", "’"),
    "pt": ("“", "”", "‘", "’"),
    "it": ("«", "»", "“", "”"),
    "fr": ("«", "»", "«", "»"),
    "de": ("„", "“", "‚", "‘"),
    "en": ("“", "”", "‘", "’"),
    "oc": ("«", "»", "“", "”"),
    "an": ("«", "»", "“", "”"),
    "ro": ("„", "”", "«", "»"),
    "nl": ("‘", "’", "“", "”"),
    "ru": ("«", "»", "„", "“"),
    "uk": ("«", "»", "„", "“"),
    "pl": ("„", "”", "«", "»"),
}
#: Languages that open questions and exclamations with ¿ and ¡.
INVERTED_MARKS = frozenset({"es", "gl", "ast"})
#: Languages that make words by joining words (Esperanto, German, Dutch...), where a word
#: the dictionary lacks is often a good compound ("elkuras", "organizada"): a glued word
#: is split only at the article or preposition an engine glues on (prefixes, suffixes).
_COMPOUNDING: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "eo": (frozenset({"la"}), frozenset({"de"})),
    "de": (frozenset({"der", "die", "das", "den", "dem", "des"}), frozenset()),
    "nl": (frozenset({"de", "het"}), frozenset()),
}
#: One-letter words that may stand alone after a glued word is split.
_ONE_LETTER = {"es": "ayoeu", "ca": "aioe", "gl": "aoe", "pt": "aoe", "it": "aeio", "fr": "ay", "eo": "", "en": "ai"}

_DOUBLE = '"“”«»„'
_SINGLE_OPEN = "‘‚"
_CLOSING_PUNCT = ",.;:!?)]}…%"
_SPACE_BEFORE = re.compile(r"[ \t]+([,.;:!?)\]}…»”’])")
_SPACE_AFTER = re.compile(r"([(\[{¿¡«“‘„])[ \t]+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_GLUE = re.compile(r"[^\W\d_]{2,}\d+[^\W\d_]*|\d+[^\W\d_]{2,}|[^\W\d_]{7,}")


class Polisher:
    """Finishes a batch of (source segment, engine output) pairs for ``target``;
    ``lookup`` reads the target language's dictionary (for glued words)."""

    def __init__(self, source: Lang, target: Lang, lookup: Lookup | None = None) -> None:
        self.source = source
        self.target = primary(target)
        self.lookup = lookup if lookup is not None and lookup.available else None

    def polish_all(self, items: Sequence[tuple[str, str]]) -> list[tuple[str, tuple[str, ...]]]:
        """Each output finished, with what was repaired in it ("glued", "debris")."""
        first = [self._surface(source, output) for source, output in items]
        if self.lookup is None:
            return first
        return self._unglue(items, first)

    # -- one segment ----------------------------------------------------------------------

    def _surface(self, source: str, output: str) -> tuple[str, tuple[str, ...]]:
        flags: list[str] = []
        text = output
        cleaned = _debris(source, text)
        if cleaned != text:
            flags.append("debris")
            text = cleaned
        text = re.sub(r"[ \t]{2,}", " ", text).strip()
        text = _spacing(text)
        if any(q in source for q in _DOUBLE + _SINGLE_OPEN + "'’"):
            text = _quotes(text, QUOTES.get(self.target))
        if self.target in INVERTED_MARKS:
            text = _inverted(text, source)
        if self.target == "fr":
            text = _french_spacing(text)
        text = _capital(source, text)
        return text, tuple(flags)

    # -- glued words, for the whole batch ---------------------------------------------------

    def _unglue(
        self, items: Sequence[tuple[str, str]], done: list[tuple[str, tuple[str, ...]]]
    ) -> list[tuple[str, tuple[str, ...]]]:
        assert self.lookup is not None
        candidates: dict[int, list[str]] = {}
        for index, ((source, _), (text, _)) in enumerate(zip(items, done, strict=True)):
            words = {w.casefold() for w in _WORD.findall(source)}
            found = [
                m.group(0)
                for m in _GLUE.finditer(text)
                if m.group(0).casefold() not in words and not any(c.isupper() for c in m.group(0)[1:])
            ]
            if found:
                candidates[index] = found
        if not candidates:
            return done
        tokens = {t for found in candidates.values() for t in found}
        self.lookup.prefetch({_letters_only(t).lower() for t in tokens if _letters_only(t)})
        # A word glued to a number is never a word; a long one the dictionary lacks may be.
        unknown = {t for t in tokens if not _letters_only(t) or self.lookup.word(_letters_only(t).lower()).unknown}
        if not unknown:
            return done
        parts: set[str] = set()
        for token in unknown:
            for chunk in re.findall(r"[^\W\d_]+", token.lower()):
                parts.update(chunk[i:j] for i in range(len(chunk)) for j in range(i + 1, len(chunk) + 1))
        self.lookup.prefetch(parts)
        fixes = {t: fix for t in unknown if (fix := self._split(t)) is not None}
        out = list(done)
        for index, found in candidates.items():
            text, flags = out[index]
            changed = False
            for token in found:
                if token in fixes:
                    text = re.sub(rf"(?<!\w){re.escape(token)}(?!\w)", fixes[token], text)
                    changed = True
            if changed:
                out[index] = (text, (*flags, "glued"))
        return out

    def _split(self, token: str) -> str | None:
        """``token`` as the fewest dictionary words (digits apart), or None."""
        pieces = re.findall(r"\d+|[^\W\d_]+", token)
        out: list[str] = []
        for piece in pieces:
            if piece.isdigit():
                out.append(piece)
                continue
            split = self._words(piece)
            if split is None:
                return None
            out.extend(split)
        if len(out) < 2:
            return None
        joined = " ".join(out)
        return joined[0].upper() + joined[1:] if token[:1].isupper() else joined

    def _words(self, chunk: str) -> list[str] | None:
        """A letters-only chunk as at most three dictionary words (fewest, then the most
        even), keeping its case."""
        assert self.lookup is not None
        lower = chunk.lower()
        if self.lookup.known(lower):
            return [chunk]
        single = _ONE_LETTER.get(self.target, "")

        def ok(part: str) -> bool:
            return (len(part) > 1 or part in single) and self.lookup is not None and self.lookup.known(part)

        best: list[tuple[int, int, list[int]]] = []
        n = len(lower)
        for i in range(1, n):
            if ok(lower[:i]) and ok(lower[i:]):
                best.append((2, -min(i, n - i), [i]))
            for j in range(i + 1, n):
                if ok(lower[:i]) and ok(lower[i:j]) and ok(lower[j:]):
                    best.append((3, -min(i, j - i, n - j), [i, j]))
        compounding = _COMPOUNDING.get(self.target)
        if compounding is not None:
            prefixes, suffixes = compounding
            best = [
                b for b in best if len(b[2]) == 1 and (lower[: b[2][0]] in prefixes or lower[b[2][0] :] in suffixes)
            ]
        if not best:
            return None
        _, _, cuts = min(best)
        bounds = [0, *cuts, n]
        return [chunk[a:b] for a, b in itertools.pairwise(bounds)]


def _letters_only(token: str) -> str:
    return "".join(re.findall(r"[^\W\d_]+", token)) if not re.search(r"\d", token) else ""


def _debris(source: str, text: str) -> str:
    """Marks, brackets and backslashes the engine added."""
    if "[" not in source and "]" not in source:
        text = re.sub(r"\[[^\w\[\]]{0,3}\]", "", text).replace("[", "").replace("]", "")
    if "\\" not in source:
        text = text.replace("\\", "")
    if "*" not in source:
        text = re.sub(r"(?<![\w*])\*(?=\w)", "", text)
    return text


def _spacing(text: str) -> str:
    text = _SPACE_BEFORE.sub(r"\1", text)
    text = _SPACE_AFTER.sub(r"\1", text)
    # Straight double quotes: a space after one at the start, or before one at the end of
    # a quotation ('" Quieren ...', '... Hermanas ",') is the engine's.
    text = re.sub(r'^(["\'])[ \t]+', r"\1", text)
    text = re.sub(r'(?<=\w)[ \t]+(")(?=[\s,.;:!?)]|$)', r"\1", text)
    return re.sub(r'(^|[\s(])(")[ \t]+(?=\w)', r"\1\2", text)


def _french_spacing(text: str) -> str:
    text = re.sub(r"[ \u00a0]*([;:!?])", "\u202f\\1", text)
    text = re.sub(r"«[ \u00a0]*", "«\u202f", text)
    return re.sub(r"[ \u00a0]*»", "\u202f»", text)


def _quotes(text: str, marks: tuple[str, str, str, str] | None) -> str:
    """Quotation marks paired by direction and written the target's way."""
    if marks is None:
        return text
    primary_open, primary_close, alt_open, alt_close = marks
    out: list[str] = []
    depth = 0  # open double quotes
    single_open = 0
    for i, char in enumerate(text):
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        opening = (before.isspace() or before in "([{¿¡—–-/") and not after.isspace()
        closing = not before.isspace() and (after.isspace() or after in _CLOSING_PUNCT + _DOUBLE + "’'")
        if char in _DOUBLE:
            plain = char == '"'  # a plain quote stays plain: only typographic ones are restyled
            if opening and not (char in "”»" and depth):
                depth += 1
                out.append(char if plain else primary_open if depth == 1 else alt_open)
                continue
            if closing and depth:
                out.append(char if plain else primary_close if depth == 1 else alt_close)
                depth -= 1
                continue
        elif char in _SINGLE_OPEN and opening:
            single_open += 1
            out.append(alt_open if depth else primary_open)
            continue
        elif char in "'’" and single_open and closing:
            single_open -= 1
            out.append(alt_close if depth else primary_close)
            continue
        out.append(char)
    return "".join(out)


def _inverted(text: str, source: str) -> str:
    """Spanish ¿…? and ¡…!: the opening mark where the question or exclamation starts
    (the sentence, or after an opening quote, a colon or a semicolon)."""
    for close, open_ in (("?", "¿"), ("!", "¡")):
        if close not in source or close not in text:
            continue
        out = text
        pos = 0
        while True:
            end = out.find(close, pos)
            if end < 0:
                break
            nxt = out[end + 1 : end + 2]
            if nxt and not (nxt.isspace() or nxt in "\"”»’')?!."):
                pos = end + 1
                continue
            start = end
            while start > 0 and out[start - 1] not in '.!?…:;¿¡«“‘"(—' and out[start - 1] != close:
                start -= 1
            while start < end and out[start].isspace():
                start += 1
            if open_ in out[start:end] or start >= end or (start > 0 and out[start - 1] == open_):
                pos = end + 1
                continue
            out = out[:start] + open_ + out[start:]
            pos = end + 2
        text = out
    return text


def _capital(source: str, text: str) -> str:
    """A capital where the source sentence starts with one ("l'empresa" -> "L'empresa")."""
    first_source = next((c for c in source if c.isalpha()), "")
    if not first_source.isupper():
        return text
    for i, char in enumerate(text):
        if char.isalpha():
            if char.islower():
                return text[:i] + char.upper() + text[i + 1 :]
            return text
        if char.isdigit():
            return text
    return text
