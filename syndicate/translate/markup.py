"""Markup-safe translation of HTML paragraphs.

Engines only ever see plain text: no tag, attribute or placeholder reaches them, so no
tag text can leak into a translation. Inline markup is put back by *alignment through
sub-translation*:

1. the paragraph's whole text is translated sentence by sentence (full context, best
   quality);
2. every inline element's own text is translated too, and found in the paragraph's
   translation (wherever the engine moved it: word reordering moves the markup with the
   words), recursively for nested elements;
3. when an element's translation cannot be found there, that level falls back to
   translating the text around and inside the element as separate pieces and joining
   them, which keeps every tag exactly once at the cost of some context.

Either way each source element appears exactly once in the output: nothing duplicated
(Apertium's HTML mode duplicates links when it reorders) and nothing lost. ``code``,
``pre``, ``kbd``, ``samp``, ``var`` and anything with ``translate="no"`` are copied as
they are; ``title`` and ``alt`` attributes are translated, every other attribute is
kept. ``<br>`` splits the paragraph into lines translated separately.

All segments a paragraph needs are known before anything is translated
(:meth:`ParagraphPlan.segments`), so a whole batch of articles goes to an engine in one
call; only fallback pieces need a second round (:meth:`ParagraphPlan.render` reports
them as missing).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from syndicate.translate.segments import normalize, split_sentences

#: Elements copied verbatim, never translated.
OPAQUE_TAGS = frozenset({"code", "pre", "kbd", "samp", "var", "script", "style"})
#: Attributes whose values are human text and get translated.
TEXT_ATTRIBUTES = ("title", "alt")
VOID_TAGS = frozenset({"br", "img", "wbr"})


class Fixed(str):
    """A translation a person wrote (an editor's correction): rendered as written. When
    an inline element's text cannot be found in it, the sentence is not rebuilt from
    separately translated pieces (that would undo the correction); the element's markup
    is left out and the text stays the editor's."""

    __slots__ = ()


@dataclass
class _Text:
    text: str


@dataclass
class _Elem:
    tag: str
    attrs: list[tuple[str, str]]
    children: list[_Text | _Elem] = field(default_factory=list)
    opaque_html: str | None = None  # set for elements copied verbatim

    @property
    def text(self) -> str:
        if self.opaque_html is not None:
            return _plain_of(self.opaque_html)
        return "".join(c.text for c in self.children)

    @property
    def void(self) -> bool:
        return self.tag in VOID_TAGS


def _plain_of(fragment: str) -> str:
    return str(lxml.html.fragment_fromstring(fragment, create_parent="div").text_content())


def _convert(el: etree._Element) -> _Elem:
    tag = str(el.tag).lower()
    attrs = [(str(k), str(v)) for k, v in el.attrib.items()]
    node = _Elem(tag, attrs)
    if tag in OPAQUE_TAGS or el.get("translate", "").lower() == "no":
        copy = deepcopy(el)
        copy.tail = None
        node.opaque_html = lxml.html.tostring(copy, encoding="unicode")
        return node
    if el.text:
        node.children.append(_Text(el.text))
    for child in el:
        if isinstance(child.tag, str):
            node.children.append(_convert(child))
        if child.tail:
            node.children.append(_Text(child.tail))
    return node


def _lines(children: list[_Text | _Elem]) -> list[list[_Text | _Elem] | _Elem]:
    """Split a paragraph's children at top-level void elements (``<br>``)."""
    out: list[list[_Text | _Elem] | _Elem] = [[]]
    for child in children:
        if isinstance(child, _Elem) and child.void:
            out.append(child)
            out.append([])
        else:
            current = out[-1]
            assert isinstance(current, list)
            current.append(child)
    return out


def _attr_html(attrs: list[tuple[str, str]], lookup: Callable[[str], str | None]) -> str:
    parts = []
    for name, value in attrs:
        if name in TEXT_ATTRIBUTES and value.strip():
            value = lookup(value) or value
        parts.append(f' {name}="{html.escape(value, quote=True)}"')
    return "".join(parts)


def _edges(text: str) -> tuple[str, str, str]:
    """Split into leading whitespace, core, trailing whitespace."""
    core = text.strip()
    if not core:
        return text, "", ""
    start = text.index(core[0])
    return text[:start], core, text[start + len(core) :]


class ParagraphPlan:
    """One HTML paragraph fragment: the segments it needs and how to rebuild it."""

    def __init__(self, fragment: str) -> None:
        root = lxml.html.fragment_fromstring(fragment or "", create_parent="div")
        self.root = _convert(root)
        self.protected: list[str] = []
        self._collect_protected(self.root)

    def _collect_protected(self, node: _Elem) -> None:
        for child in node.children:
            if isinstance(child, _Elem):
                if child.opaque_html is not None:
                    text = child.text.strip()
                    if text:
                        self.protected.append(text)
                else:
                    self._collect_protected(child)

    # -- what to translate --------------------------------------------------------------

    def segments(self) -> set[str]:
        """Every sentence the first rendering round needs, normalised."""
        return set(self.ordered())

    def ordered(self) -> list[str]:
        """:meth:`segments` in reading order (a paragraph's sentences, then the texts of
        its inline elements and attributes), each once: what an editor reviews."""
        out: dict[str, None] = {}
        for line in _lines(self.root.children):
            if isinstance(line, _Elem):
                out.update(dict.fromkeys(_attr_segments(line)))
                continue
            out.update(dict.fromkeys(_sentences("".join(c.text for c in line))))
            for child in line:
                if isinstance(child, _Elem):
                    self._element_segments(child, out)
        return list(out)

    def _element_segments(self, el: _Elem, out: dict[str, None]) -> None:
        out.update(dict.fromkeys(_attr_segments(el)))
        if el.opaque_html is not None or el.void:
            return
        out.update(dict.fromkeys(_sentences(el.text)))
        for child in el.children:
            if isinstance(child, _Elem):
                self._element_segments(child, out)

    # -- putting it back together -------------------------------------------------------------

    def render(self, translations: Mapping[str, str]) -> tuple[str, set[str]]:
        """Rebuild the paragraph in the target language.

        Returns the HTML and the set of segments that were missing from ``translations``
        (fallback pieces); render again once those are translated.
        """
        missing: set[str] = set()
        tr = _Translator(translations, missing)
        parts: list[str] = []
        for line in _lines(self.root.children):
            if isinstance(line, _Elem):
                parts.append(f"<{line.tag}{_attr_html(line.attrs, tr.lookup)}>")
                continue
            text = "".join(c.text for c in line)
            lead, _, trail = _edges(text)
            translated = tr.text(text)
            parts.append(
                html.escape(lead, quote=False) + _place(line, translated, tr) + html.escape(trail, quote=False)
            )
        return "".join(parts).strip(), missing


class _Translator:
    """Looks translations up; records what is missing instead of failing."""

    def __init__(self, translations: Mapping[str, str], missing: set[str]) -> None:
        self.translations = translations
        self.missing = missing

    def lookup(self, segment: str) -> str | None:
        key = normalize(segment)
        if not key:
            return segment
        found = self.translations.get(key)
        if found is None:
            self.missing.add(key)
        return found

    def text(self, text: str) -> str:
        """Translate running text sentence by sentence, keeping the gaps between them."""
        out = []
        fixed = False
        for sentence, gap in split_sentences(text.strip()):
            if not sentence.strip():
                out.append(sentence + gap)
                continue
            found = self.lookup(sentence)
            fixed = fixed or isinstance(found, Fixed)
            out.append((found if found is not None else sentence) + gap)
        joined = "".join(out).strip()
        return Fixed(joined) if fixed else joined


def _sentences(text: str) -> Iterable[str]:
    for sentence, _ in split_sentences(text.strip()):
        key = normalize(sentence)
        if key:
            yield key


def _attr_segments(el: _Elem) -> Iterable[str]:
    for name, value in el.attrs:
        if name in TEXT_ATTRIBUTES and normalize(value):
            yield normalize(value)


def _find_spans(translated: str, targets: list[str]) -> list[tuple[int, int]] | None:
    """Non-overlapping positions of each target in ``translated`` (case-insensitive)."""
    haystack = translated.lower() if len(translated.lower()) == len(translated) else translated
    taken: list[tuple[int, int]] = []
    for target in targets:
        needle = target.strip()
        if not needle:
            return None
        candidates = [needle, needle.rstrip(".!?;:,")]
        placed = None
        for cand in candidates:
            if not cand:
                continue
            key = cand.lower() if haystack is not translated and len(cand.lower()) == len(cand) else cand
            start = haystack.find(key)
            while start >= 0:
                end = start + len(key)
                if all(end <= s or start >= e for s, e in taken) and _word_bounded(translated, start, end):
                    placed = (start, end)
                    break
                start = haystack.find(key, start + 1)
            if placed:
                break
        if placed is None:
            return None
        taken.append(placed)
    return taken


def _word_bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() and text[start].isalnum()) and not (after.isalnum() and text[end - 1].isalnum())


def _place(children: list[_Text | _Elem], translated: str, tr: _Translator) -> str:
    """HTML for ``children`` given the translation of their joined text."""
    elems = [c for c in children if isinstance(c, _Elem)]
    if not elems:
        return html.escape(translated, quote=False)
    targets = []
    for el in elems:
        if el.opaque_html is not None or not el.text.strip():
            targets.append(el.text)
        else:
            targets.append(tr.text(el.text))
    spans = None if any(not t.strip() for t in targets) else _find_spans(translated, targets)
    if spans is None and isinstance(translated, Fixed):
        # An editor's sentence: place what can be found, keep the rest as the editor wrote it.
        placed: list[tuple[tuple[int, int], _Elem]] = []
        for el, target in zip(elems, targets, strict=True):
            found = _find_spans(translated, [target]) if target.strip() else None
            if found:
                placed.append((found[0], el))
        out_fixed: list[str] = []
        last = 0
        for (start, end), el in sorted(placed, key=lambda pair: pair[0][0]):
            if start < last:
                continue
            out_fixed.append(html.escape(translated[last:start], quote=False))
            out_fixed.append(_element(el, translated[start:end], tr))
            last = end
        out_fixed.append(html.escape(translated[last:], quote=False))
        return "".join(out_fixed)
    if spans is not None:
        out: list[str] = []
        last = 0
        for (start, end), el in sorted(zip(spans, elems, strict=True), key=lambda pair: pair[0][0]):
            out.append(html.escape(translated[last:start], quote=False))
            out.append(_element(el, translated[start:end], tr))
            last = end
        out.append(html.escape(translated[last:], quote=False))
        return "".join(out)
    # Fallback: translate the pieces around and inside the elements separately.
    out = []
    for child in children:
        lead, core, trail = _edges(child.text)
        if isinstance(child, _Text):
            out.append(html.escape(lead + (_match_case(core, tr.text(core)) if core else "") + trail, quote=False))
        elif child.opaque_html is not None or not core:
            out.append(html.escape(lead, quote=False) + _element(child, core, tr) + html.escape(trail, quote=False))
        else:
            translated_core = _match_case(core, tr.text(core))
            out.append(
                html.escape(lead, quote=False) + _element(child, translated_core, tr) + html.escape(trail, quote=False)
            )
    return _respace("".join(out))


def _element(el: _Elem, translated: str, tr: _Translator) -> str:
    if el.opaque_html is not None:
        return el.opaque_html
    attrs = _attr_html(el.attrs, tr.lookup)
    if el.void:
        return f"<{el.tag}{attrs}>"
    lead, _, trail = _edges(el.text)
    inner = _place(el.children, translated.strip(), tr)
    return f"<{el.tag}{attrs}>{html.escape(lead, quote=False)}{inner}{html.escape(trail, quote=False)}</{el.tag}>"


def _match_case(source: str, translated: str) -> str:
    """A piece translated on its own gets a capital it did not have mid-sentence: undo it."""
    if source[:1].islower() and translated[:1].isupper() and not translated[1:2].isupper():
        return translated[0].lower() + translated[1:]
    return translated


def _respace(text: str) -> str:
    return re.sub(r"[ \t]{2,}", " ", text)
