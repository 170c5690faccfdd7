"""Site selectors: CSS (lxml's cssselect) or XPath after ``xpath:``. A leaf module (lxml only).

Config validates selectors with :func:`compile_selector`; extraction applies them with
:func:`select`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from lxml import etree

Selector = Callable[[Any], Any]


@lru_cache(maxsize=256)
def compile_selector(selector: str) -> Selector:
    """A CSS selector (lxml cssselect), or XPath when it starts with ``xpath:``."""
    selector = selector.strip()
    if selector.startswith("xpath:"):
        expression = selector.removeprefix("xpath:").strip()
        try:
            xpath: Selector = etree.XPath(expression)
            return xpath
        except etree.XPathError as exc:
            raise ValueError(f"not a valid XPath expression: {exc}") from None
    from cssselect import SelectorError
    from lxml.cssselect import CSSSelector

    try:
        css: Selector = CSSSelector(selector, translator="html")
        return css
    except SelectorError as exc:
        raise ValueError(f"not a valid CSS selector ({exc}); prefix XPath with 'xpath:'") from None


def select(doc: Any, selector: str | None) -> list[Any]:
    """The selector's matches: elements, or strings for XPath text/attribute results."""
    if not selector:
        return []
    found = compile_selector(selector)(doc)
    if isinstance(found, list):
        return [m if hasattr(m, "tag") else str(m) for m in found]
    if isinstance(found, bool | float):
        return []
    return [str(found)] if found else []
