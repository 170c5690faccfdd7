"""The standfirst: the sentence or two a news page sets between its headline and its story.

Sites style it as part of the headline's block (``<div class="article_header">``,
``<p class="lead">``, a teaser box), so a reading of the story's container leaves it out,
and the reader of a translated page would start at the second paragraph. The page itself
says which text it is: its description (``og:description``, ``<meta name=description>``,
JSON-LD ``description``) is, on most news sites, the standfirst word for word.

So a page's description is the first paragraph of its body when the page **shows** it
(in its body, not in a script, a link, a button or navigation, and not hidden:
:mod:`.hidden` has run)
**after its headline and before its story's first paragraph**, and the body does not
already hold it. A description written for search engines alone is shown nowhere and
adds nothing; a site's slogan shown in its masthead comes before the headline and adds
nothing either.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import lxml.html

from syndicate.extract.blocks import blocks_text, fragment_text, reads_as_prose
from syndicate.extract.common import compact, squash
from syndicate.models import Attribution, Block, Heading, Paragraph

#: Compacted characters a description has at least to be taken as a standfirst (a shorter
#: one is a label: "Nachrichten aus Berlin").
MINIMUM = 50
#: Words a description without a full stop has at least ("Selecao know they have a tough
#: task to break down a well-disciplined Slovenia side tonight").
WORDS = 8
#: A shown element is the standfirst if its compacted text is at most this many times the
#: description's (plus :data:`SLACK`): a container holding the story as well is not.
LONGEST = 1.5
SLACK = 40
#: Elements up from the text that starts the standfirst to the one that holds it all.
CLIMB = 4
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…|\[…\]|\[\.\.\.\])\s*$")
_KEY = re.compile(r"\w{3,}")
#: Where a description's text is not the standfirst: code, links to other pages (a
#: teaser of this story elsewhere), form controls, navigation. (Not ``<form>``: some
#: sites wrap the whole page in one.)
_NOT_SHOWN = frozenset(
    {"script", "style", "noscript", "template", "a", "button", "select", "option", "textarea", "nav", "footer"}
)


def with_standfirst(
    doc: lxml.html.HtmlElement,
    blocks: list[Block],
    description: str,
    title: str,
    attributions: list[Attribution],
) -> list[Block]:
    """``blocks`` with the page's standfirst in front when the page shows its description
    between its headline and its story (see the module docstring); ``attributions`` (which
    name blocks by index) are moved along."""
    declared = _ELLIPSIS.sub("", squash(description))
    wanted = compact(declared)
    if (
        not any(isinstance(b, Paragraph) for b in blocks)
        or len(wanted) < MINIMUM
        or not (reads_as_prose(declared, MINIMUM) or len(declared.split()) >= WORDS)
    ):
        return blocks
    if wanted in compact(title) or _told(wanted, blocks):
        return blocks
    body = doc.find("body")
    if body is None:
        return blocks
    shown = next(_holders(body, declared, wanted), None)
    if shown is None:
        return blocks
    # The story's first paragraph, as the page shows it after the standfirst (a lead
    # picture's caption above may repeat it).
    opening = next(
        (t for b in blocks if isinstance(b, Paragraph) and reads_as_prose(t := fragment_text(b.html), MINIMUM)), ""
    )
    order = {el: i for i, el in enumerate(body.iter())}
    start = next(
        (el for el in _holders(body, opening, compact(opening), whole=False) if order[el] > order[shown]), None
    )
    if start is None or shown in start.iterancestors() or start in shown.iterancestors():
        return blocks
    headline = next(iter(body.iter("h1")), None)
    if headline is not None and order[shown] < order[headline] < order[start]:
        return blocks  # shown above the headline: the masthead's slogan
    text = squash(shown.text_content())
    attributions[:] = [Attribution(a.label, a.source, a.paragraph + 1) for a in attributions]
    return [Paragraph(html.escape(text, quote=False)), *blocks]


#: Share of a description's three-character runs that one of the body's opening blocks
#: holds (a block of about its length) when it is the standfirst in other words ("mischt
#: die Regierung" for "mischt Madrid"); a paragraph that retells it with more is not.
TOLD = 0.8
#: Opening blocks (paragraphs and headings) compared with the description.
OPENING = 4


def _told(wanted: str, blocks: list[Block]) -> bool:
    """Whether the body holds the description already: word for word anywhere, or nearly
    so as one of its opening paragraphs or headings (a standfirst set as an ``<h2>``)."""
    if wanted[:MINIMUM] in compact(blocks_text(blocks)):
        return True
    runs = _runs(wanted)
    opening = [b for b in blocks if isinstance(b, Paragraph | Heading)][:OPENING]
    for block in opening:
        text = compact(fragment_text(block.html))
        if len(text) <= LONGEST * len(wanted) + SLACK and len(runs & _runs(text)) >= TOLD * len(runs):
            return True
    return False


def _runs(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


def _holders(
    body: lxml.html.HtmlElement, text: str, wanted: str, whole: bool = True
) -> Iterator[lxml.html.HtmlElement]:
    """The shown elements, in document order, whose text is ``text`` (``whole``: nearly,
    see :func:`_same`) or begins with it."""
    key = _KEY.search(text)
    if key is None:
        return
    probe, head = key.group()[:8], wanted[:16]
    runs = _runs(wanted) if whole else set()
    seen: set[lxml.html.HtmlElement] = set()
    too_long: set[lxml.html.HtmlElement] = set()  # each container's text is measured once
    for node in body.iter():
        if not isinstance(node.tag, str):
            continue
        for piece, owner in ((node.text, node), (node.tail, node.getparent())):
            if not piece or owner is None or probe not in piece or owner in seen:
                continue
            seen.add(owner)
            if owner.tag in _NOT_SHOWN or any(a.tag in _NOT_SHOWN for a in owner.iterancestors()):
                continue
            found = _climb(owner, wanted, head, runs, too_long)
            if found is not None:
                yield found


def _climb(
    el: lxml.html.HtmlElement, wanted: str, head: str, runs: set[str], too_long: set[lxml.html.HtmlElement]
) -> lxml.html.HtmlElement | None:
    """``el`` or an ancestor close by whose text is ``wanted`` (``runs`` given: nearly) or
    begins with it (``runs`` empty), and holds little else. Elements found to hold too
    much are remembered in ``too_long``: a story's container is measured once, not once
    for each of its paragraphs that begins with the description's first word."""
    longest = LONGEST * len(wanted) + SLACK
    for _ in range(CLIMB):
        if el in too_long:
            return None
        have = compact(el.text_content())
        if len(have) > longest:
            too_long.add(el)
            return None
        if head in have and (_same(have, wanted, runs) if runs else have.startswith(wanted[:MINIMUM])):
            return el
        parent = el.getparent()
        if parent is None or parent.tag == "body":
            return None
        el = parent
    return None


#: Share of a description's three-character runs a shown text has when it is that
#: description: a site appends its name or a hashtag to one, or changes a word.
SAME = 0.85


def _same(have: str, wanted: str, runs: set[str]) -> bool:
    if wanted in have:
        return True
    return len(have) >= SAME * len(wanted) and len(runs & _runs(have)) >= SAME * len(runs)
