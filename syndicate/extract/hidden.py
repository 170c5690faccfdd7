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

Styles can hide what a script later shows ("no-js" pages, an article body revealed on
load): an element that holds more than half of the page's text is never removed for its
style, only for the attributes above.
"""

from __future__ import annotations

import logging
import re

import lxml.html
from cssselect import GenericTranslator, SelectorError

logger = logging.getLogger(__name__)

_HIDING = re.compile(r"(?:^|;|\s)(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important\s*)?(?:;|$)",
                     re.IGNORECASE)
#: One compound selector: a tag, classes, an id, attribute tests; nothing that depends on
#: another element or on state.
_COMPOUND = re.compile(r"^[A-Za-z0-9_*-]*(?:[.#][A-Za-z_-][\w-]*|\[[^\]]{1,80}\])+$|^[A-Za-z][A-Za-z0-9-]*$")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
#: Rules read from a page's styles at most (a stylesheet of a framework has thousands).
MAX_RULES = 4000
#: Compiled selectors applied at most.
MAX_SELECTORS = 300
_TRANSLATOR = GenericTranslator()


def top_level_rules(css: str) -> list[tuple[str, str]]:
    """(selector list, declarations) of the rules outside any ``@`` block."""
    css = _COMMENT.sub("", css)
    rules: list[tuple[str, str]] = []
    depth = 0
    start = 0
    prelude = ""
    for i, char in enumerate(css):
        if char == "{":
            if depth == 0:
                prelude = css[start:i].strip()
                start = i + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                if prelude and not prelude.startswith("@"):
                    rules.append((prelude, css[start:i]))
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
    for style in doc.iter("style"):
        media = (style.get("media") or "all").strip().lower()
        if media not in ("", "all", "screen"):
            continue
        for selectors, declarations in top_level_rules(style.text or ""):
            if not _HIDING.search(declarations):
                continue
            for selector in selectors.split(","):
                selector = selector.strip()
                if selector and _COMPOUND.match(selector) and selector not in found:
                    found.append(selector)
                    if len(found) >= MAX_SELECTORS:
                        return found
    return found


def prune_hidden(doc: lxml.html.HtmlElement) -> int:
    """Remove what the page never shows (see the module docstring) from its ``<body>``,
    in place, keeping each removed element's tail text; return how many were removed."""
    body = doc.find("body")
    if body is None:
        return 0
    doomed: list[lxml.html.HtmlElement] = []
    styled: list[lxml.html.HtmlElement] = []
    noscripts: list[lxml.html.HtmlElement] = []
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "template":
            doomed.append(el)
        elif el.tag == "noscript":
            noscripts.append(el)
        elif (hidden := el.get("hidden")) is not None and hidden.strip().lower() != "until-found":
            doomed.append(el)
        elif (el.get("aria-hidden") or "").strip().lower() == "true":
            if not (el.tag == "img" or el.find(".//img") is not None and len(el.text_content().strip()) < 100):
                doomed.append(el)
        elif el.get("style") and _HIDING.search(el.get("style")):
            styled.append(el)
    for selector in hiding_selectors(doc):
        try:
            xpath = _TRANSLATOR.css_to_xpath(selector, prefix="descendant::")
            styled.extend(body.xpath(xpath))
        except (SelectorError, lxml.etree.XPathError, ValueError):
            continue
    if noscripts:
        doomed.extend(_duplicate_noscripts(body, noscripts))
    if styled:
        half = 0.5 * len(body.text_content())
        doomed.extend(el for el in styled if el is not body and len(el.text_content()) <= half)
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


#: A <noscript> with fewer characters than this is a notice, not content.
NOSCRIPT_CONTENT = 200
_WORD = re.compile(r"\w+")


def _duplicate_noscripts(body: lxml.html.HtmlElement,
                         noscripts: list[lxml.html.HtmlElement]) -> list[lxml.html.HtmlElement]:
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
    for ancestor in el.iterancestors():
        if ancestor is root:
            return True
    return False


__all__ = ["hiding_selectors", "prune_hidden", "top_level_rules"]
