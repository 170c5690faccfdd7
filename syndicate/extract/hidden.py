"""What a page never shows its readers, taken out before anything reads it.

Both readings of a page (ours and trafilatura's) see the page with these removed, so
hidden text can never become article text, whichever reading wins:

- ``<template>`` (inert until a script clones it) and ``<noscript>`` when it repeats
  what the page shows anyway or is a short "turn JavaScript on" notice; a ``<noscript>``
  that holds text found nowhere else on the page (the posts a forum application renders
  for clients without scripts) is the page's content, and is read as a ``<div>``;
- elements with the ``hidden`` attribute (but ``hidden="until-found"``, which the
  browser's find-in-page reveals, is content);
- ``aria-hidden="true"`` elements, except an image with a caption-sized text (a
  decorative figure's picture is still the article's);
- elements that an inline ``style`` hides (``display: none``, ``visibility: hidden``);
- elements that a top-level rule of the page's own ``<style>`` hides, when its selector
  is a single compound selector (``.visually-hidden``, ``#cookie-box``,
  ``div.narrow-browser-and-phone``): resolved cheaply, with no cascade to compute. Rules
  inside ``@media`` and the like hide things only on some screens, and selectors with
  combinators or pseudo-classes depend on state; neither is applied.

Pages hide what a script later shows (an article body revealed on load, tabs of a
story's language versions): an element that holds more than half of the page's text is
never removed, and a selector that another rule shows again (``display: block`` inside
``@media``: a narrow screen's layout) does not hide. Nor is a hidden element whose text
the page itself declares to be its article's (its JSON-LD ``articleBody``: the rest of a
story behind a paywall that is in the page, ``<div class="paywall" hidden>``) when the
page shows that text nowhere else.
"""

from __future__ import annotations

import logging
import re

import lxml.html
from cssselect import GenericTranslator, SelectorError

logger = logging.getLogger(__name__)

_HIDING = re.compile(
    r"(?:^|;|\s)(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important\s*)?(?:;|$)", re.IGNORECASE
)
#: One compound selector with a class, an id or an attribute test (a bare ``p`` or
#: ``img`` hidden everywhere is a paywall's or a script's trick, not furniture); nothing
#: that depends on another element or on state.
_COMPOUND = re.compile(r"^[A-Za-z0-9_*-]*(?:[.#][A-Za-z_-][\w-]*|\[[^\]]{1,80}\])+$")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_PUNCTUATION = re.compile(r"[{};]")
_SHOWING = re.compile(r"(?:^|;|\s)(?:display\s*:\s*(?!none)[a-z-]+|visibility\s*:\s*visible)", re.IGNORECASE)
#: Rules read from a page's styles at most (a stylesheet of a framework has thousands).
MAX_RULES = 4000
#: Compiled selectors applied at most.
MAX_SELECTORS = 300
#: A selector whose elements hold more of the page's text than this share is not applied.
SELECTOR_SHARE = 0.3
_TRANSLATOR = GenericTranslator()


def top_level_rules(css: str) -> list[tuple[str, str]]:
    """(selector list, declarations) of the rules outside any ``@`` block."""
    return [(selectors, body) for selectors, body, nested in _rules(css) if not nested]


def _rules(css: str, nested: bool = False) -> list[tuple[str, str, bool]]:
    """(selector list, declarations, inside an ``@`` block) of every rule, those of
    ``@media`` and ``@supports`` blocks included."""
    css = _COMMENT.sub("", css)
    rules: list[tuple[str, str, bool]] = []
    depth = 0
    start = 0
    prelude = ""
    for match in _PUNCTUATION.finditer(css):  # only the braces and semicolons, found in C
        i, char = match.start(), match.group()
        if char == "{":
            if depth == 0:
                prelude = css[start:i].strip()
                start = i + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                if prelude and not prelude.startswith("@"):
                    rules.append((prelude, css[start:i], nested))
                elif prelude.startswith(("@media", "@supports", "@layer", "@container")):
                    rules.extend(_rules(css[start:i], nested=True))
                if len(rules) >= MAX_RULES:
                    break
                start = i + 1
            elif depth < 0:  # a stray brace: start over after it
                depth, start = 0, i + 1
        elif char == ";" and depth == 0:
            start = i + 1  # an @import or @charset statement
    return rules


def hiding_selectors(doc: lxml.html.HtmlElement) -> list[str]:
    """The simple selectors the page's own ``<style>`` elements hide (see the module)."""
    found: list[str] = []
    shown: set[str] = set()
    for style in doc.iter("style"):
        media = (style.get("media") or "all").strip().lower()
        for selectors, declarations, nested in _rules(style.text or ""):
            names = [selector.strip() for selector in selectors.split(",")]
            if not _HIDING.search(declarations):
                if _SHOWING.search(declarations):
                    shown.update(names)  # shown again somewhere (a narrow screen's layout)
                continue
            if nested or media not in ("", "all", "screen"):
                continue
            found.extend(name for name in names if name and _COMPOUND.match(name) and name not in found)
    return [selector for selector in found if selector not in shown][:MAX_SELECTORS]


def prune_hidden(doc: lxml.html.HtmlElement, declared: str = "") -> int:
    """Remove what the page never shows (see the module docstring) from its ``<body>``,
    in place, keeping each removed element's tail text; return how many were removed.
    ``declared`` is the article's text as the page's structured data gives it
    (whitespace squashed)."""
    body = doc.find("body")
    if body is None:
        return 0
    doomed: list[lxml.html.HtmlElement] = []
    styled: list[lxml.html.HtmlElement] = []
    noscripts: list[lxml.html.HtmlElement] = []
    # The few elements that can be hidden by their own markup, found by libxml2's XPath
    # rather than by visiting every element in Python.
    for el in body.xpath(".//template | .//noscript | .//*[@hidden] | .//*[@aria-hidden] | .//*[@style]"):
        if el.tag == "template":
            doomed.append(el)
        elif el.tag == "noscript":
            noscripts.append(el)
        elif (hidden := el.get("hidden")) is not None and hidden.strip().lower() != "until-found":
            styled.append(el)
        elif (el.get("aria-hidden") or "").strip().lower() == "true":
            if not (el.tag == "img" or (el.find(".//img") is not None and len(el.text_content().strip()) < 100)):
                styled.append(el)
        elif el.get("style") and _HIDING.search(el.get("style")):
            styled.append(el)
    visible = visible_length(body)
    for selector in hiding_selectors(doc):
        try:
            matched = body.xpath(_TRANSLATOR.css_to_xpath(selector, prefix="descendant::"))
        except (SelectorError, lxml.etree.XPathError, ValueError):
            continue
        if sum(visible_length(el) for el in matched) <= SELECTOR_SHARE * visible:
            styled.extend(matched)
        else:  # a rule that hides a large part of the page hides it until a script runs
            logger.debug("not applied: %r would hide most of the page", selector)
    if noscripts:
        doomed.extend(_duplicate_noscripts(body, noscripts))
    if styled:
        half = 0.5 * visible
        article = _Declared(body, declared)
        doomed.extend(el for el in styled if el is not body and visible_length(el) <= half and not article.holds(el))
    removed = 0
    for el in doomed:
        parent = el.getparent()
        if parent is None or not _attached(el, body):
            continue  # gone with an ancestor already
        el.drop_tree()  # keeps the tail text
        removed += 1
    if removed:
        logger.debug("removed %d hidden element(s)", removed)
    return removed


#: Characters of a hidden element's text compared with the declared article (at its start
#: and at its end): enough to be a passage of the story, not a phrase any page repeats.
DECLARED_SAMPLE = 120


class _Declared:
    """The article a page declares (its JSON-LD ``articleBody``), to tell whether a hidden
    element is a part of it that the page does not also show. Compared without
    whitespace (structured data often runs a story's paragraphs together); each text is
    compacted once per page, however many hidden elements a page has."""

    def __init__(self, body: lxml.html.HtmlElement, declared: str) -> None:
        self.body = body
        self.compact = "".join(declared.split())
        self._whole: str | None = None

    def holds(self, el: lxml.html.HtmlElement) -> bool:
        """Whether ``el``'s text begins and ends with passages of the declared text, each
        found once in the whole body (a hidden copy of text that is shown, a phone
        layout's duplicate, stays hidden)."""
        if not self.compact:
            return False
        text = "".join(el.text_content().split())
        if len(text) < DECLARED_SAMPLE:
            return False
        head, tail = text[:DECLARED_SAMPLE], text[-DECLARED_SAMPLE:]
        if head not in self.compact or tail not in self.compact:
            return False
        if self._whole is None:
            self._whole = "".join(self.body.text_content().split())
        return self._whole.count(head) == 1 and self._whole.count(tail) == 1


def visible_length(el: lxml.html.HtmlElement) -> int:
    """Characters of text under ``el`` outside scripts and styles (a page's inline
    scripts can hold ten times its text)."""
    total = 0
    for node in el.iter():
        if node is not el and isinstance(node.tag, str) and node.tag in ("script", "style"):
            total += len((node.tail or "").strip())
            continue
        if isinstance(node.tag, str) and node.tag not in ("script", "style"):
            total += len((node.text or "").strip())
        if node is not el:
            total += len((node.tail or "").strip())
    return total


#: A <noscript> with fewer characters than this is a notice, not content.
NOSCRIPT_CONTENT = 200
_WORD = re.compile(r"\w+")


def _duplicate_noscripts(
    body: lxml.html.HtmlElement, noscripts: list[lxml.html.HtmlElement]
) -> list[lxml.html.HtmlElement]:
    """The ``<noscript>`` elements to remove; the others become ``<div>``s (content)."""
    outermost = [el for el in noscripts if not any(a.tag == "noscript" for a in el.iterancestors())]
    texts = {id(el): el.text_content() for el in outermost}
    long = [el for el in outermost if len(texts[id(el)].strip()) >= NOSCRIPT_CONTENT]
    if not long:
        return outermost
    elsewhere = _shingles(_WORD.findall(" ".join(_texts_outside(body)).casefold()))
    doomed = [el for el in outermost if el not in long]
    for el in long:
        shingles = _shingles(_WORD.findall(texts[id(el)].casefold()))
        if shingles and len(shingles - elsewhere) > 0.5 * len(shingles):
            el.tag = "div"  # content only a client without scripts is shown: read it
        else:
            doomed.append(el)
    return doomed


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    """Runs of three words: a passage repeated elsewhere shares them, common words do not."""
    return {tuple(words[i : i + 3]) for i in range(max(len(words) - 2, 1))} if words else set()


def _texts_outside(body: lxml.html.HtmlElement) -> list[str]:
    """The page's text pieces that are not inside a ``<noscript>``."""
    out: list[str] = []

    def walk(el: lxml.html.HtmlElement) -> None:
        if el.text and isinstance(el.tag, str) and el.tag not in ("script", "style"):
            out.append(el.text)
        for child in el:
            if isinstance(child.tag, str) and child.tag != "noscript":
                walk(child)
            if child.tail:
                out.append(child.tail)

    walk(body)
    return out


def _attached(el: lxml.html.HtmlElement, root: lxml.html.HtmlElement) -> bool:
    return any(ancestor is root for ancestor in el.iterancestors())


__all__ = ["hiding_selectors", "prune_hidden", "top_level_rules"]
