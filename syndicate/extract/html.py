"""HTML article pages and feed-entry content, read with lxml (and trafilatura).

A page is read in these steps:

1. **Decode** by the browsers' rules (:mod:`syndicate.extract.decode`), clean out
   control characters and bidi controls, parse with lxml.
2. **Metadata** (:mod:`syndicate.extract.meta`): authors, tags, lead image, summary,
   dates, canonical URL; **language** from the source, ``<html lang>``,
   ``content-language`` or ``og:locale``, through :func:`syndicate.models.normalize_lang`.
3. **Title**: the page's ``<h1>`` that matches its ``og:title``/JSON-LD headline (a logo
   ``<h1>`` and the text of ``<style>``/``<script>`` inside one never count), else the
   first real ``<h1>``, else the headline, else ``<title>`` less its " | Site" suffix.
4. **Body**: with a ``body`` selector, its matches. Otherwise the candidate containers
   (every ``<article>``, ``<main>``, ``[role=main]``, ``[itemprop=articleBody]`` and
   element whose class names a CMS's content area) are scored by the prose they hold,
   less link text and chrome; a teaser card, a weather widget or a reader comment
   loses to the story. trafilatura reads the page too: when our container holds what
   trafilatura found without much more, ours wins (it keeps captions, spans and
   structure); otherwise trafilatura's reading is used. Either way the result becomes
   typed blocks (:mod:`syndicate.extract.blocks`).
5. **Previous/next**: ``rel="prev"``/``rel="next"`` or "Previous/Next Article" labels
   followed by a link (screen-reader-only labels, buttons and ``#`` links are not
   article links).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from syndicate.config import ExtractSettings, PageSelectors
from syndicate.errors import ItemError
from syndicate.extract.blocks import (
    Context,
    blocks_text,
    class_words,
    fragment_text,
    is_chrome_element,
    reads_as_prose,
    safe_url,
    to_blocks,
    width,
)
from syndicate.extract.common import is_next_label, is_previous_label, squash
from syndicate.extract.decode import clean, decode_html
from syndicate.extract.hidden import prune_hidden
from syndicate.extract.meta import PageMeta, page_meta, parse_date
from syndicate.extract.standfirst import with_standfirst
from syndicate.models import (
    Article,
    Attribution,
    Block,
    Embed,
    Figure,
    Heading,
    Known,
    ListBlock,
    Meta,
    Paragraph,
    RawItem,
    Ref,
    Table,
    normalize_lang,
)
from syndicate.selectors import select

logger = logging.getLogger(__name__)

_PARSER = lxml.html.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
_CONTENT_CLASSES = re.compile(
    r"(?:^|[\s_-])(?:entry-content|post-content|article-body|article__body|articlebody|story-body|storybody|"
    r"field--name-body|post-body|postbody|content-body|article-content|article__content|story-content|"
    r"single-post-content|td-post-content|body-text|bodytext|article-text|news-text|text-body|rich-text|"
    r"gh-content|post-full-content|c-entry-content|article__text|story__body|articleBody|body-copy|main-content|"
    r"content__article-body|post__content|blog-post|entry__content|markup|prose|story)(?:$|[\s_-])",
    re.IGNORECASE,
)
_LOGO_WORDS = frozenset(
    {"logo", "brand", "site-title", "sitetitle", "site-name", "sitename", "masthead", "site-logo", "navbar-brand"}
)
#: Own reading wins when it holds this share of trafilatura's words ...
OWN_RECALL = 0.9
#: ... and is no longer than it (running text to running text): when both readings hold
#: the same story, what the longer one has more of is mostly the page's furniture
#: (bylines, teasers, a deals box). On the 416 real pages of benchmarks/data/extract_real
#: a ratio of 1.3 gave a mean F1 of 0.900, 1.0 gives 0.910.
OWN_LENGTH_RATIO = 1.0
#: ... and, when it is under :data:`OWN_SHORT_RATIO` of trafilatura's length, holds
#: this share of its passages even counting what it dropped inside its container.
OWN_STRICT_RECALL = 0.75
OWN_SHORT_RATIO = 0.5


@dataclass(frozen=True)
class _Parsed:
    doc: lxml.html.HtmlElement
    text: str


def parse_html(data: bytes, *, charset: str | None = None, source: str = "", key: str = "") -> _Parsed:
    """Decode and parse a page; raise :class:`ItemError` when it is not HTML."""
    text = _XML_DECLARATION.sub("", decode_html(data, charset, where=f"[{source}] {key}"))
    if not text.strip():
        raise ItemError("the page is empty", source=source, item=key, hint="check the page or file")
    try:
        doc, text = _deep_safe(lambda t: lxml.html.document_fromstring(t, parser=_PARSER), text)
    except (etree.ParserError, ValueError) as exc:
        raise ItemError(
            f"not a readable HTML page: {exc}", source=source, item=key, hint="check that it is an HTML article page"
        ) from None
    return _Parsed(doc, text)


def _deep_safe(parse: Callable[[str], lxml.html.HtmlElement], text: str) -> tuple[lxml.html.HtmlElement, str]:
    """``parse(text)``, again on :func:`flatten_nesting`'s text if libxml2 hit its depth limit.

    libxml2 stops at 2,048 levels even with huge_tree and silently drops everything
    deeper; a browser would show that text. Returns the tree and the text it came from.
    """
    doc = parse(text)
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in _PARSER.error_log):
        logger.info("a page nests elements over %d deep; the excess wrappers are ignored", MAX_NESTING)
        text = flatten_nesting(text)
        doc = parse(text)
    return doc, text


#: How deep :func:`flatten_nesting` lets elements nest (libxml2's own limit is 2,048).
MAX_NESTING = 1000
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)[^>]*>")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)


def flatten_nesting(text: str, limit: int = MAX_NESTING) -> str:
    """Drop the start and end tags that nest deeper than ``limit``, keeping all text.

    Counted per tag name, so the end tag that closes a dropped start tag is dropped too;
    void elements and self-closed tags never open a level.
    """
    depth = 0
    skipped: Counter[str] = Counter()

    def keep(match: re.Match[str]) -> str:
        nonlocal depth
        closing, name = match.group(1), match.group(2).lower()
        if name in _VOID or match.group(0).endswith("/>"):
            return match.group(0)
        if closing:
            if skipped[name]:
                skipped[name] -= 1
                return ""
            depth = max(depth - 1, 0)
            return match.group(0)
        if depth >= limit:
            skipped[name] += 1
            return ""
        depth += 1
        return match.group(0)

    return _TAG.sub(keep, text)


def extract_html(item: RawItem, settings: ExtractSettings, selectors: PageSelectors | None = None) -> Article:
    """Read an HTML page (or, for a feed entry, its content fragment) into an Article."""
    known = item.known or Known()
    if known.fragment:
        return _extract_fragment(item, known, settings)
    parsed = parse_html(item.data, charset=item.charset, source=item.source, key=item.key)
    doc = parsed.doc
    base = item.base_url or item.url
    meta = page_meta(doc, parsed.text, item.url or base)
    prune_hidden(doc, meta.body)  # after the metadata (JSON-LD, <head>), before anything reads the body
    # A feed entry's link names the article better than the page's canonical link.
    url = (item.url if item.known is not None and item.url else None) or meta.canonical or item.url
    base = url or base
    prev_ref, next_ref = _links(doc, base, selectors)
    title = (
        known.title
        or (first_text(doc, selectors.title) if selectors and selectors.title else None)
        or page_title(doc, meta)
    )
    ctx = _context(settings, base, title)
    if selectors is not None and selectors.body:
        blocks = _selected_blocks(doc, selectors.body, ctx)
    else:
        blocks = _best_reading(doc, best_container(doc), url or base, ctx)
    if not blocks and not known.summary and not (selectors is not None and selectors.body):
        blocks = _fallback_blocks(doc, url or base, ctx, item)
    elif not (selectors is not None and selectors.body):
        blocks = _with_discussion(doc, blocks, url or base, ctx, item)
    if blocks and not (selectors is not None and selectors.body):
        blocks = _without_byline(blocks, [a.name for a in meta.authors], ctx)
        if meta.summary:
            blocks = with_standfirst(doc, blocks, meta.summary, title, ctx.attributions)
    if selectors is not None and selectors.attribution:
        _selected_attributions(doc, selectors.attribution, ctx, len(blocks))
    if not blocks and known.summary:
        blocks = _fragment_blocks(known.summary, _context(settings, base, title))
    lead = meta.image
    if lead is None:
        lead = next((b.image for b in blocks if isinstance(b, Figure) and b.image), None)
    page = Meta(
        authors=meta.authors,
        tags=meta.tags,
        image=lead,
        summary=meta.summary,
        modified=meta.modified,
        site_name=meta.site_name,
    )
    published = item.published or meta.published or _time_in(doc)
    return Article(
        source=item.source,
        key=item.key,
        title=clean(title),
        blocks=tuple(blocks),
        attributions=tuple(ctx.attributions),
        url=url,
        prev=prev_ref,
        next=next_ref,
        language=normalize_lang(item.language) or page_language(doc),
        published=published,
        meta=_merge(known.meta, page),
    )


def _context(settings: ExtractSettings, base: str | None, title: str) -> Context:
    """A fresh reading context: links resolve against ``base``, ``title`` is not body."""
    return Context(
        base=base, title=title, attribution_patterns=settings.attribution_patterns, chrome_lines=settings.chrome_lines
    )


def _links(
    doc: lxml.html.HtmlElement, base: str | None, selectors: PageSelectors | None
) -> tuple[Ref | None, Ref | None]:
    """Previous/next: the ``prev``/``next`` selectors where given, else what the page says."""
    prev_ref, next_ref = neighbours(doc, base)
    if selectors is not None:
        prev_ref = select_link(doc, selectors.prev, base) or prev_ref
        next_ref = select_link(doc, selectors.next, base) or next_ref
    return prev_ref, next_ref


def _merge(first: Meta, second: Meta) -> Meta:
    """``first`` (what the source knew) wins field by field over ``second`` (the page)."""
    return Meta(
        authors=first.authors or second.authors,
        tags=first.tags or second.tags,
        image=first.image or second.image,
        summary=first.summary or second.summary,
        modified=first.modified or second.modified,
        enclosures=first.enclosures or second.enclosures,
        site_name=first.site_name or second.site_name,
    )


def _fragment_root(fragment: str) -> lxml.html.HtmlElement | None:
    """A feed entry's markup under one ``<div>``; None when nothing in it parses.

    lxml's fragment reader refuses what a CMS does put in feeds: a bare ``<!DOCTYPE``
    ("Document is empty"), or a whole ``<html>`` document ("too many bodies", an
    AssertionError); such content is read as a document and its body taken.
    """
    text = clean(fragment)
    try:
        return _deep_safe(lambda t: lxml.html.fragment_fromstring(t, create_parent="div", parser=_PARSER), text)[0]
    except (etree.ParserError, ValueError, AssertionError):
        pass
    try:
        doc = _deep_safe(lambda t: lxml.html.document_fromstring(t, parser=_PARSER), text)[0]
    except (etree.ParserError, ValueError):
        return None
    body = doc.find("body")
    return body if body is not None else doc


def _fragment_blocks(fragment: str, ctx: Context) -> list[Block]:
    root = _fragment_root(fragment)
    return to_blocks(root, ctx) if root is not None else []


def _extract_fragment(item: RawItem, known: Known, settings: ExtractSettings) -> Article:
    """A feed entry: its content is the body, its fields are the metadata."""
    text = item.data.decode("utf-8", errors="replace")
    base = item.base_url or item.url
    title = clean(known.title or "")
    ctx = _context(settings, base, title)
    blocks = _fragment_blocks(text, ctx) if text.strip() else []
    if not blocks and known.summary:
        ctx = _context(settings, base, title)
        blocks = _fragment_blocks(known.summary, ctx)
    meta = known.meta
    if meta.image is None:
        lead = next((b.image for b in blocks if isinstance(b, Figure) and b.image), None)
        meta = replace(meta, image=lead)
    return Article(
        source=item.source,
        key=item.key,
        title=title,
        blocks=tuple(blocks),
        attributions=tuple(ctx.attributions),
        url=item.url,
        language=normalize_lang(item.language),
        published=item.published,
        meta=meta,
    )


# -- title -----------------------------------------------------------------------------------------


def _heading_text(el: lxml.html.HtmlElement) -> str:
    copy = deepcopy(el)
    copy.tail = None
    for bad in copy.xpath(".//script | .//style | .//noscript | .//template | .//svg | .//button"):
        bad.drop_tree()
    for bad in [d for d in copy.iterdescendants() if isinstance(d.tag, str) and is_chrome_element(d)]:
        if bad.getparent() is not None:
            bad.drop_tree()
    return clean(squash(copy.text_content()))


def _is_logo(h1: lxml.html.HtmlElement, text: str, site_name: str) -> bool:
    for el in [h1, *h1.iterancestors()][:4]:
        if class_words(el) & _LOGO_WORDS:
            return True
    if site_name and text.casefold() == site_name.casefold():
        return True
    links = h1.xpath(".//a[@href]")
    if links and h1.xpath(".//img") and len(text) < 40:
        return True
    return bool(links) and all((a.get("href") or "").strip() in ("/", "./", "#") for a in links) and len(text) < 40


def _overlap(a: str, b: str) -> float:
    wa, wb = set(re.findall(r"\w+", a.casefold())), set(re.findall(r"\w+", b.casefold()))
    return len(wa & wb) / max(len(wa | wb), 1)


def page_title(doc: lxml.html.HtmlElement, meta: PageMeta | None = None) -> str:
    """The article's headline (see the module docstring)."""
    site_name = meta.site_name if meta else ""
    head_title = squash(doc.findtext(".//title") or "")
    witness = (meta.headline if meta else "") or head_title
    h1s = []
    for h1 in doc.iter("h1"):
        text = _heading_text(h1)
        if text and not _is_logo(h1, text, site_name):
            h1s.append(text)
    if h1s:
        if witness:
            best = max(h1s, key=lambda t: _overlap(t, witness))
            if _overlap(best, witness) >= 0.3:
                return best
        return h1s[0]
    if meta and meta.headline:
        return clean(meta.headline)
    if not head_title:
        return ""
    # "Site - Headline": the part the page shows on its own as text is the headline.
    parts = [squash(p) for p in re.split(r"\s+[|–—-]\s+", head_title) if squash(p)]
    if len(parts) > 1:
        body = doc.find("body")
        shown = {
            squash(el.text_content())
            for el in (body.iter() if body is not None else ())
            if isinstance(el.tag, str)
            and el.tag not in ("a", "title", "script", "style")
            and len(el.text_content()) < 300
        }
        found = [p for p in parts if p in shown and p.casefold() != site_name.casefold()]
        if len(found) == 1:
            return clean(found[0])
    # "Headline | Example News" / "Headline - Example News": drop the site's suffix.
    return clean(squash(re.split(r"\s+[|–—-]\s+(?=[^|–—-]*$)", head_title)[0]))


#: A title made from a page's first words is at most this long.
MAX_TEXT_TITLE = 120
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s|(?<=[。！？])")


def title_from_body(blocks: list[Block]) -> tuple[str, list[Block]]:
    """A title for a page that has none, from its body: a heading that opens it (taken
    out of the body), else the first sentence of its first text, else its first words
    up to :data:`MAX_TEXT_TITLE` characters with an ellipsis. ("", blocks) when the body
    has no text."""
    if blocks and isinstance(blocks[0], Heading):
        text = clean(squash(blocks_text(blocks[:1])))
        if text and len(text) <= 2 * MAX_TEXT_TITLE:
            return text, blocks[1:]
    first = next((line for line in blocks_text(blocks).splitlines() if squash(line)), "")
    first = clean(squash(first))
    if not first:
        return "", blocks
    sentence = _SENTENCE_END.split(first, maxsplit=1)[0].strip()
    if len(sentence) <= MAX_TEXT_TITLE:
        return sentence, blocks
    cut = sentence[:MAX_TEXT_TITLE]
    if " " in cut[MAX_TEXT_TITLE // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–—") + "…", blocks


# -- the body -------------------------------------------------------------------------------------


def _candidates(doc: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    body = doc.find("body")
    root = body if body is not None else doc
    total = len(squash(root.text_content()))
    found = doc.xpath("//article | //main | //*[@role='main'] | //*[@itemprop='articleBody'] | //*[@class] | //*[@id]")
    out = []
    for el in found:
        # Hand-made sites name the story's <div> by class or id ("story", "article-body").
        # A class that looks like chrome ("comments-enabled", "has-sidebar") does not
        # disqualify the element that holds most of the page's text.
        if (
            el.tag in ("article", "main")
            or el.get("role") == "main"
            or el.get("itemprop") == "articleBody"
            or _CONTENT_CLASSES.search(f" {el.get('class') or ''} {el.get('id') or ''} ")
        ) and (not is_chrome_element(el) or len(squash(el.text_content())) > 0.5 * total):
            out.append(el)
    out.append(root)
    return out


_PROSE = frozenset({"p", "li", "blockquote", "pre", "td", "dd", "h2", "h3", "h4", "figcaption"})


def _score(el: lxml.html.HtmlElement) -> float:
    """Prose held by ``el``: text of paragraph-like elements outside chrome, less links."""
    total = 0.0
    size = len(squash(el.text_content()))
    stack = [el]
    while stack:
        node = stack.pop()
        for child in node:
            if not isinstance(child.tag, str):
                continue
            if (is_chrome_element(child) or child.tag in ("header", "footer")) and (
                child.tag in ("script", "style", "nav", "aside", "form")
                or len(squash(child.text_content())) < 0.5 * size
            ):
                continue
            if child.tag == "div" and _loose_text(child):
                # A <div>-and-<br> body: its own text counts here, its child <div>s below
                # (counting its whole text would count theirs twice, for every ancestor).
                text = _loose_text(child)
                if len(text) >= 20:
                    linked = sum(len(squash(a.text_content())) for a in child if a.tag == "a")
                    total += 0.7 * len(text) * max(0.0, 1.0 - linked / len(text)) ** 2
                stack.append(child)
                continue
            if child.tag in _PROSE:
                text = squash(child.text_content())
                if len(text) < 20 and child.tag != "li":
                    continue
                linked = sum(len(squash(a.text_content())) for a in child.iter("a"))
                density = linked / max(len(text), 1)
                weight = 1.0 if child.tag == "p" else 0.7
                total += weight * len(text) * max(0.0, 1.0 - density) ** 2
            else:
                stack.append(child)
    loose = _loose_text(el) if el.tag == "div" else ""
    return total + (0.7 * len(loose) if len(loose) >= 20 else 0.0)


def _loose_text(el: lxml.html.HtmlElement) -> str:
    """An element's own text: its text and its children's tails, inline children included."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and child.tag in ("b", "strong", "i", "em", "span", "a", "font", "u", "br"):
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return squash(" ".join(parts))


def best_container(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The element that holds the story (see the module docstring)."""
    scored = [(el, _score(el)) for el in _candidates(doc)]
    best, best_score = max(scored, key=lambda pair: pair[1])
    # Prefer the tightest candidate inside the best that still holds nearly all of it:
    # an <article> inside <main>, the entry-content inside the <article>.
    for el, score in sorted(scored, key=lambda pair: pair[1]):
        if el is best or score < 0.85 * best_score:
            continue
        if best in el.iterancestors() and not _media_outside(el, best):
            best, best_score = el, score
            break
    return best


def _media_outside(inner: lxml.html.HtmlElement, outer: lxml.html.HtmlElement) -> bool:
    """Whether ``outer`` holds a figure (the lead image of a story, often placed before
    its ``articleBody``) that ``inner`` leaves out: narrowing to ``inner`` would lose it."""
    for figure in outer.iter("figure"):
        if inner in figure.iterancestors() or figure is inner or inner in figure.iterdescendants():
            continue
        if not figure.xpath(".//img") or any(is_chrome_element(a) for a in figure.iterancestors() if a is not outer):
            continue
        return True
    return False


def _words(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.casefold()))


def _best_reading(
    doc: lxml.html.HtmlElement, container: lxml.html.HtmlElement, url: str | None, ctx: Context
) -> list[Block]:
    """Our container's blocks, or trafilatura's reading when ours misses or adds much."""
    own_ctx = replace(ctx, attributions=[])
    own = to_blocks(deepcopy(container), own_ctx)
    traf_ctx = replace(ctx, attributions=[])
    traf = _without_cards(_trafilatura_blocks(doc, url, traf_ctx), doc, traf_ctx)
    if not traf:
        ctx.attributions.extend(own_ctx.attributions)
        return own
    own_words, traf_words = (
        _words(blocks_text(own) + " " + _attr_text(own_ctx)),
        _words(blocks_text(traf) + " " + _attr_text(traf_ctx)),
    )
    # Lengths are compared on running text: trafilatura drops figure captions and
    # embedded players, and the two readers cut a huge table at different sizes.
    # (A caption whose image was unusable is read as a paragraph: still a caption.)
    own_length = sum(
        (
            _words(
                blocks_text([b for b in own if not isinstance(b, Figure | Embed | Table)]) + " " + _attr_text(own_ctx)
            )
            - _words(" ".join(c.text_content() for c in container.iter("figcaption")))
        ).values()
    )
    traf_length = sum(
        _words(
            blocks_text([b for b in traf if not isinstance(b, Figure | Embed | Table)]) + " " + _attr_text(traf_ctx)
        ).values()
    )
    chrome_texts = _chrome_texts(doc)
    chrome = Counter(w for text in chrome_texts for w in _WORD_RE.findall(text.casefold())) + _words(ctx.title)
    # Runs of three words say whose text a passage is: the common words of a long menu
    # hide nothing, a sentence of the story is not in it.
    chrome_runs = _runs([*chrome_texts, ctx.title])
    traf_runs = _runs(blocks_text(traf).splitlines())
    novel = traf_runs - chrome_runs
    # (A reading merged into one paragraph makes runs across the chrome's pieces: a word
    # of its own is what a story has and a menu does not.)
    own_words_of_traf = set(traf_words) - set(chrome)
    if len(novel) < max(3, 0.2 * len(traf_runs)) or (len(own_words_of_traf) < 5 and len(novel) < 0.5 * len(traf_runs)):
        # trafilatura found nothing but the headline and navigation: no reading at all.
        ctx.attributions.extend(own_ctx.attributions)
        return own
    # What trafilatura has and we do not, less what sits in the page's chrome (it keeps
    # some navigation, labels and the headline): only the rest is content we missed.
    # Inside our container, what our reader dropped (bylines, link bars) was dropped on
    # purpose: it does not count as missed either.
    # That forgiveness has a bound: a reading much shorter than trafilatura's that left
    # out a large part of its passages (a whole container read as chrome, a gallery's
    # items) missed them.
    traf_total = max(sum(traf_words.values()), 1)
    missed = traf_words - own_words - chrome - _words(container.text_content())
    recall = 1 - sum(missed.values()) / traf_total
    strict_recall = 1 - len(novel - _runs(blocks_text(own).splitlines())) / max(len(traf_runs), 1)
    ratio = own_length / max(traf_length, 1)
    if (
        own
        and recall >= OWN_RECALL
        and ratio <= OWN_LENGTH_RATIO
        and (ratio >= OWN_SHORT_RATIO or strict_recall >= OWN_STRICT_RECALL)
    ):
        ctx.attributions.extend(own_ctx.attributions)
        return own
    logger.debug(
        "trafilatura reads %s better (recall %.2f, length ratio %.2f, strict recall %.2f)",
        url,
        recall,
        ratio,
        strict_recall,
    )
    ctx.attributions.extend(traf_ctx.attributions)
    return _with_figures(traf, own)


#: Elements that make a link a card: it wraps a headline, a picture's box, a paragraph.
_CARD_PARTS = frozenset({"div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "figure", "li"})
#: Characters a card's text has at least (a link around an icon and a word is a button) ...
CARD_LINE = 8
#: ... and at most (a link left open around the whole story is not a card).
CARD_TEXT = 1000
#: Characters of a card's headline (a CJK one counts twice): a line of trafilatura's
#: reading is taken for a card's only beside one of these.
CARD_HEADLINE = 12


def _without_cards(blocks: list[Block], doc: lxml.html.HtmlElement, ctx: Context) -> list[Block]:
    """trafilatura's reading less the lines of teaser cards: a link to another page that
    wraps a headline and a date (``<a href><h3>headline</h3><span>1時間前</span></a>``, a
    timeline of a story's earlier articles). trafilatura drops a link that holds blocks
    and keeps its text, so its reading shows the cards as headings and stamps of the
    story; ours sees the links and leaves them out.

    A line is a card's when it is the text of the whole card or of an element in it (its
    headline, its stamp): looked up, not searched for. A card is at most
    :data:`CARD_TEXT` characters (a link left open around a whole story is not one), so
    a page of 20,000 cards costs one pass over them."""
    pieces: set[str] = set()
    for a in doc.iter("a"):
        if (a.get("href") or "").strip()[:1] in ("", "#"):
            continue
        text = a.text_content()
        if len(text) > 4 * CARD_TEXT or not CARD_LINE <= len(text := squash(text)) <= CARD_TEXT:
            continue  # (markup indents a card's text: measured squashed)
        parts = [c for c in a.iterdescendants() if isinstance(c.tag, str)]
        if any(c.tag in _CARD_PARTS for c in parts):
            pieces.add(text)
            pieces.update(squash(c.text_content()) for c in parts)
    pieces.discard("")
    if not pieces:
        return blocks

    def carded(lines: list[str]) -> bool:
        # A card's headline, and its other pieces (its stamp, "図解あり") only beside it: a
        # kicker alone ("Analysis") is a heading of the story too.
        return any(width(line) >= CARD_HEADLINE for line in lines) and all(line in pieces for line in lines)

    gone: set[int] = set()
    out = list(blocks)
    for i, block in enumerate(blocks):
        if isinstance(block, Paragraph | Heading) and carded([fragment_text(block.html)]):
            gone.add(i)
        elif isinstance(block, ListBlock):
            lines = [blocks_text([ListBlock((it,))]).splitlines() for it in block.items]
            if not any(carded(item) for item in lines):
                continue
            # A list of cards: the items left with only a card's picture go too.
            items = tuple(it for it, item in zip(block.items, lines, strict=True) if item and not carded(item))
            if items:
                out[i] = replace(block, items=items)
            else:
                gone.add(i)
        else:
            continue
        if i in gone:  # the heading over a card ("【時系列で見る】") goes with it
            j = i - 1
            while j >= 0 and j in gone:
                j -= 1
            if j >= 0 and isinstance(blocks[j], Heading):
                gone.add(j)
    if not gone:
        return out
    end = len(blocks) - 1
    while end >= 0 and (end in gone or isinstance(blocks[end], Heading)):  # headings left at the end
        gone.add(end)
        end -= 1
    return _dropped(out, gone, ctx)


#: Blocks at the top of a body where a byline is looked for.
BYLINE_BLOCKS = 6
_BY = re.compile(r"^(?:by|von|par|por|di|da|av|af|door|od|от)\s+", re.IGNORECASE)


def _without_byline(blocks: list[Block], authors: list[str], ctx: Context) -> list[Block]:
    """``blocks`` less the lines above the story that are only its author's name, as the
    page's metadata gives it ("Daniel Aragón", "Por Mercedes Benítez"): a byline set
    without "By", which no label pattern can tell from a sentence. A name at the end
    stays (Russian papers sign their stories so)."""
    names = {squash(a).casefold() for a in authors if len(squash(a)) >= 5}
    if not names:
        return blocks
    gone: set[int] = set()
    for i, block in enumerate(blocks[:BYLINE_BLOCKS]):
        if isinstance(block, Figure | Heading):
            continue  # the lead picture, a standfirst set as a heading
        if not isinstance(block, Paragraph):
            break  # a list, a table, a quote: the story has begun
        text = fragment_text(block.html)
        if _BY.sub("", text).strip(" ,.·|").casefold() in names:
            gone.add(i)
        elif reads_as_prose(text):
            break
    return _dropped(blocks, gone, ctx)


def _dropped(blocks: list[Block], gone: set[int], ctx: Context) -> list[Block]:
    """``blocks`` less those at the indices ``gone``; the attribution lines, which name
    blocks by index, follow their blocks (a dropped block's go to the one before it)."""
    if not gone:
        return blocks
    kept: list[Block] = []
    moved: list[int] = []  # index in ``blocks`` -> index in the result
    for i, block in enumerate(blocks):
        if i not in gone:
            kept.append(block)
        moved.append(max(len(kept) - 1, 0))
    last = len(moved) - 1
    ctx.attributions[:] = [
        Attribution(a.label, a.source, moved[min(max(a.paragraph, 0), last)]) for a in ctx.attributions
    ]
    return kept


#: A reading with fewer characters of sentences than this has no running text (a film's
#: details, a thread's title and tags); sentences of at least :data:`SENTENCE_CHARACTERS`.
THIN_CHARACTERS = 80
SENTENCE_CHARACTERS = 40


def _sentence_characters(blocks: list[Block]) -> int:
    """Characters of running text in ``blocks``: paragraphs, lists, quotes, tables alike."""
    return sum(
        len(line)
        for line in blocks_text([b for b in blocks if not isinstance(b, Figure | Embed)]).splitlines()
        if reads_as_prose(line, SENTENCE_CHARACTERS)
    )


def _with_discussion(
    doc: lxml.html.HtmlElement, blocks: list[Block], url: str | None, ctx: Context, item: RawItem
) -> list[Block]:
    """A page whose reading holds no running text but whose comments do is a review page,
    a forum thread or a Q&A page: its posts are its text, and they follow the reading.

    Only then: an article's reader comments never join its body (a story always has a
    sentence of its own, and then they are not even looked at)."""
    own = _sentence_characters(blocks)
    if own >= THIN_CHARACTERS:
        return blocks
    found = _trafilatura_blocks(doc, url, replace(ctx, attributions=[]), comments=True)
    posts = _sentence_characters(found)
    if posts < PROSE_CHARACTERS or posts < 3 * own:
        return blocks
    seen = blocks_text(blocks)
    added = [b for b in found if not (isinstance(b, Paragraph) and fragment_text(b.html) in seen)]
    logger.info(
        "[%s] %s: the page's text is its posts (%d characters of sentences; %d in the reading)",
        item.source,
        item.key,
        posts,
        own,
    )
    return [*blocks, *added]


def _fallback_blocks(doc: lxml.html.HtmlElement, url: str | None, ctx: Context, item: RawItem) -> list[Block]:
    """When neither reading found a body: trafilatura favouring recall, then the whole
    page less its chrome. A page with text is never refused for having no body; one that
    really has none is refused saying what each reader saw."""
    import trafilatura

    chrome = {w for text in _chrome_texts(doc) for w in _WORD_RE.findall(text.casefold())}
    try:
        found = trafilatura.extract(
            deepcopy(doc),
            url=url,
            output_format="html",
            include_formatting=True,
            include_links=True,
            include_tables=True,
            favor_recall=True,
            deduplicate=False,
        )
    except Exception as exc:  # noqa: BLE001 - trafilatura is a second opinion, not a requirement
        logger.debug("trafilatura (favouring recall) failed on %s: %s", url, exc)
        found = None
    if found:
        try:
            root = lxml.html.document_fromstring(found, parser=_PARSER)
        except (etree.ParserError, ValueError):
            root = None
        if root is not None:
            body = root.find("body")
            blocks = to_blocks(body if body is not None else root, ctx)
            if _enough_text(blocks, ctx.title, chrome):
                logger.info(
                    "[%s] %s: read by trafilatura favouring recall (no container held the text)", item.source, item.key
                )
                return blocks
    body = doc.find("body")
    whole = deepcopy(body if body is not None else doc)
    blocks = to_blocks(whole, ctx)
    if _enough_text(blocks, ctx.title, chrome):
        logger.info(
            "[%s] %s: read as the whole page less its chrome (no container held the text)", item.source, item.key
        )
        return blocks
    visible = len(_words(whole.text_content()))
    raise ItemError(
        f"the page has no body text: syndicate's reader found none in any container or in the whole page, "
        f"trafilatura none (also favouring recall); the page shows {visible} word(s) outside scripts and chrome",
        source=item.source,
        item=item.key,
        hint="if the page has an article, set [sources.selectors] body for this source; else remove it",
    )


_WORD_RE = re.compile(r"\w+")


def _runs(lines: list[str]) -> set[tuple[str, ...]]:
    """The runs of three words (of one or two on a shorter line) of each line."""
    out: set[tuple[str, ...]] = set()
    for line in lines:
        words = _WORD_RE.findall(line.casefold())
        out.update(tuple(words[i : i + 3]) for i in range(max(len(words) - 2, 1)) if words)
    return out


#: Words (besides the title's) a fallback reading needs to be taken for a body.
FALLBACK_WORDS = 10


def _enough_text(blocks: list[Block], title: str, chrome: set[str]) -> bool:
    """Whether a fallback reading holds text of its own: not just the headline again, a
    heading or two and the words of the page's menus (``chrome``)."""
    words = _words(blocks_text([b for b in blocks if not isinstance(b, Heading)])) - _words(title)
    return sum(n for word, n in words.items() if word not in chrome) >= FALLBACK_WORDS


def _chrome_texts(doc: lxml.html.HtmlElement) -> list[str]:
    """Texts of the page's chrome: navigation, headers, footers, asides, chrome classes."""
    texts: list[str] = []
    body = doc.find("body")
    root = body if body is not None else doc
    # An element that holds most of the page is not its chrome, whatever its class says
    # ("shell slideshow", a <form> around a whole ASP.NET page), nor one that holds
    # paragraphs of running text: look inside it instead.
    half = 0.5 * len(root.text_content())
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node:
            if not isinstance(child.tag, str):
                continue
            if child.tag in ("script", "style", "template"):
                continue
            semantic = child.tag in ("nav", "header", "footer", "aside")
            if not semantic and child.tag != "form" and not is_chrome_element(child):
                stack.append(child)
                continue
            text = child.text_content()
            if (semantic or len(text) <= half) and not _holds_prose(child):
                texts.append(text)
            else:
                stack.append(child)
    return texts


#: Characters of long paragraphs that make an element the story's, whatever its class
#: says ("steady-paywall-container" around a whole post, "article-widgets").
PROSE_CHARACTERS = 400


def _holds_prose(el: lxml.html.HtmlElement) -> bool:
    """Whether ``el`` holds paragraphs of running text (at least :data:`PROSE_CHARACTERS`
    in paragraphs of 80 characters or more): navigation and widgets hold link labels."""
    total = 0
    for p in el.iter("p"):
        length = len(squash(p.text_content()))
        if length >= 80:
            total += length
            if total >= PROSE_CHARACTERS:
                return True
    return False


def _attr_text(ctx: Context) -> str:
    return " ".join(f"{a.label} {a.source}" for a in ctx.attributions)


def _with_figures(traf: list[Block], own: list[Block]) -> list[Block]:
    """trafilatura drops figure captions: put our captions back on its images."""
    captions = {b.image.src: b.caption for b in own if isinstance(b, Figure) and b.image and b.caption}
    if not captions:
        return traf
    return [
        Figure(b.image, captions.get(b.image.src, "")) if isinstance(b, Figure) and b.image and not b.caption else b
        for b in traf
    ]


def _trafilatura_blocks(
    doc: lxml.html.HtmlElement, url: str | None, ctx: Context, *, comments: bool = False
) -> list[Block]:
    """trafilatura's reading of the page as we parsed it, hidden elements already out
    (a copy: trafilatura changes the tree it reads); with the page's comments and posts
    when ``comments``, then without images (posters' avatars; and with them trafilatura
    takes a thread's list of pictures for its text)."""
    import trafilatura  # heavy: loaded on the first page

    try:
        found = trafilatura.extract(
            deepcopy(doc),
            url=url,
            output_format="html",
            include_formatting=True,
            include_links=True,
            include_images=not comments,
            include_tables=True,
            include_comments=comments,
            deduplicate=False,
        )
    except Exception as exc:  # noqa: BLE001 - trafilatura is a second opinion, not a requirement
        logger.debug("trafilatura failed on %s: %s", url, exc)
        return []
    if not found:
        return []
    try:
        doc = lxml.html.document_fromstring(found, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return []
    body = doc.find("body")
    return to_blocks(body if body is not None else doc, ctx)


def _selected_blocks(doc: lxml.html.HtmlElement, selector: str, ctx: Context) -> list[Block]:
    """Blocks from a ``body`` selector: a matched paragraph is one, a container gives its blocks."""
    root = lxml.html.Element("div")
    for match in select(doc, selector):
        if isinstance(match, str):
            p = lxml.html.Element("p")
            p.text = match
            root.append(p)
        else:
            copy = deepcopy(match)
            copy.tail = None
            root.append(copy)
    return to_blocks(root, ctx)


def _selected_attributions(doc: lxml.html.HtmlElement, selector: str, ctx: Context, count: int) -> None:
    """Attribution lines from a selector: ``[Label: Name]``, ``Label: Name`` or a bare name."""
    from syndicate.extract.common import take_attributions

    for match in select(doc, selector):
        text = squash(match if isinstance(match, str) else match.text_content())
        if not text:
            continue
        if not (text.startswith("[") and text.endswith("]")):
            text = f"[{text}]" if re.match(r"^[^:]{1,40}:\s*\S", text) else f"[Source: {text}]"
        _, found = take_attributions(text, max(count - 1, 0), ctx.attribution_patterns, is_html=False)
        ctx.attributions.extend(found)


def first_text(doc: lxml.html.HtmlElement, selector: str | None) -> str | None:
    for match in select(doc, selector):
        text = squash(match if isinstance(match, str) else _heading_text(match))
        if text:
            return clean(text)
    return None


def select_link(doc: lxml.html.HtmlElement, selector: str | None, base: str | None) -> Ref | None:
    for match in select(doc, selector):
        if isinstance(match, str):
            url = safe_url(match, base)
            return Ref(url=url) if url else None
        anchor = match if match.tag == "a" and match.get("href") else next(iter(match.xpath(".//a[@href]")), None)
        if anchor is not None:
            text = squash(anchor.text_content())
            return Ref(url=urljoin(base or "", anchor.get("href").strip()), title=text or None)
    return None


# -- language, dates ------------------------------------------------------------------------------


def page_language(doc: lxml.html.HtmlElement) -> str | None:
    """``<html lang>`` (or ``xml:lang``), else ``content-language``, else ``og:locale``."""
    values = [doc.get("lang"), doc.get("{http://www.w3.org/XML/1998/namespace}lang"), doc.get("xml:lang")]
    values += [
        str(v)
        for v in doc.xpath('//meta[translate(@http-equiv, "CONTENTLAGU", "contentlagu")="content-language"]/@content')
    ]
    values += [str(v) for v in doc.xpath('//meta[@property="og:locale"]/@content')]
    for value in values:
        found = normalize_lang(value.split(",")[0] if value else value)
        if found:
            return found
    return None


def _time_in(doc: lxml.html.HtmlElement) -> datetime | None:
    for value in doc.xpath("//article//time/@datetime | //time[@pubdate]/@datetime"):
        found = parse_date(str(value))
        if found:
            return found
    return None


# -- previous/next ------------------------------------------------------------------------------


def _not_a_page_link(el: lxml.html.HtmlElement) -> bool:
    href = (el.get("href") or "").strip().lower()
    return not href or href.startswith(("#", "javascript:", "mailto:", "data:"))


def _hidden_label(el: lxml.html.HtmlElement) -> bool:
    """A label only screen readers see, or one on a button or carousel control."""
    for node in [el, *el.iterancestors()][:5]:
        if not isinstance(node.tag, str):
            continue
        words = class_words(node)
        if node.tag == "button" or words & {
            "sr-only",
            "screen-reader-text",
            "visually-hidden",
            "visuallyhidden",
            "carousel",
            "slider",
            "slick",
            "swiper",
            "gallery",
            "glide",
        }:
            return True
    return False


def neighbours(doc: lxml.html.HtmlElement, base: str | None) -> tuple[Ref | None, Ref | None]:
    """Previous/next by rel attributes first, then by their visible labels."""
    refs: dict[str, Ref] = {}
    for rel in ("prev", "next"):
        for el in doc.xpath(
            f'//a[@href][contains(concat(" ", normalize-space(@rel), " "), " {rel} ")] | //link[@href][@rel="{rel}"]'
        ):
            if _not_a_page_link(el):
                continue
            # A rel link's text is usually "Older story" or an arrow, not the title:
            # the link resolves by URL; a labelled link below may add the title.
            refs[rel] = Ref(url=urljoin(base or "", el.get("href").strip()))
            break
    # Labels: an element whose text is "Previous Article", then the next link after it.
    for el in doc.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "button", "head", "title"):
            continue
        own = squash((el.text or "") if len(el) else el.text_content())
        labelled = "prev" if is_previous_label(own) else "next" if is_next_label(own) else None
        if labelled is None or _hidden_label(el):
            continue
        link = el if el.tag == "a" and el.get("href") else None
        if link is None or is_previous_label(squash(link.text_content())) or is_next_label(squash(link.text_content())):
            # "<div>Previous Article <a>Title</a></div>": the link may sit inside the label's element.
            following = (
                el.xpath("(descendant::a[@href] | following::a[@href])[1]")
                if link is None
                else el.xpath("following::a[@href][1]")
            )
            candidate = following[0] if following else None
            if link is not None and candidate is not None and squash(candidate.text_content()):
                link_title = squash(candidate.text_content())
            elif link is None and candidate is not None:
                link_title = squash(candidate.text_content())
                link = candidate
            else:
                link_title = ""
        else:
            link_title = squash(link.text_content())
        if link is None or _not_a_page_link(link) or _hidden_label(link):
            continue
        if is_previous_label(link_title) or is_next_label(link_title):
            link_title = ""
        found = Ref(url=urljoin(base or "", link.get("href").strip()), title=clean(link_title) or None)
        old = refs.get(labelled)
        if old is None:
            refs[labelled] = found
        elif old.title is None and found.url == old.url:
            refs[labelled] = Ref(url=old.url, title=found.title)
    return refs.get("prev"), refs.get("next")


__all__ = ["best_container", "extract_html", "neighbours", "page_title", "parse_html"]
