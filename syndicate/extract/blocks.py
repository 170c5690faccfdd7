"""An HTML element -> the article body's typed blocks.

:func:`to_blocks` reads a content container (an ``<article>``, a feed entry's content, a
selector's match, trafilatura's output) into :mod:`syndicate.models` blocks:

- ``p`` -> paragraph; ``h1``-``h6`` -> heading (level 2-6); ``ul``/``ol`` -> list, nested
  lists kept inside their item; ``blockquote`` -> quote (its blocks, its ``cite``);
  ``figure`` (or a WordPress ``wp-caption``) -> figure with the best image candidate and
  its caption; ``table`` -> table with header and body cells and their spans (a layout
  table is read as a container instead); ``pre`` -> verbatim text; ``hr`` -> rule;
  ``iframe``/``video``/``audio``/``embed`` -> a link to the embedded document, never the
  embed itself;
- ``div``, ``section`` and any element not named above are containers: their block
  children become blocks and their loose text becomes paragraphs, split where the
  source put ``<br><br>``, so bodies made of ``<div>``s and ``<br>``s read as
  paragraphs and no text of an unknown element is lost;
- chrome never becomes a block: scripts, forms, navigation, asides, headers and footers
  inside the container, hidden and screen-reader-only text, and elements whose class or
  id says share bar, related articles, newsletter, comments, advertising, affiliate
  notice, cookie box and the like (see :func:`is_chrome_element`); a list made only of
  links is a link farm, not content.

Inline markup inside every text-bearing block is kept as it always was (``a``, ``em``,
``strong``, ...), with links made absolute and only safe URL schemes kept.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.html

from syndicate.extract.common import (
    is_chrome,
    is_headline,
    is_label_line,
    is_next_label,
    is_previous_label,
    squash,
    take_attributions,
)
from syndicate.models import (
    Attribution,
    Block,
    Cell,
    Embed,
    Figure,
    Heading,
    Image,
    ListBlock,
    ListItem,
    Paragraph,
    Preformatted,
    Quote,
    Row,
    Rule,
    Table,
)
from syndicate.sanitize import INLINE_TAGS as SANITIZED_INLINE

#: Inline tags that survive serialisation (the rest are unwrapped to their content): the
#: inline markup the sanitiser lets through, one list for both.
KEPT_INLINE = frozenset(SANITIZED_INLINE)
#: Inline elements kept in text-bearing blocks; other inline elements are unwrapped.
INLINE_TAGS = KEPT_INLINE | {"time", "del", "ins", "dfn", "bdi", "wbr", "font", "label", "big", "tt", "strike", "data"}
#: Attributes kept on inline elements (links made absolute).
KEPT_ATTRIBUTES = {
    "a": ("href", "title", "hreflang"),
    "abbr": ("title",),
    "span": ("lang", "translate"),
    "code": ("translate",),
}
#: Elements that are never article content, wherever they are.
DROPPED_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "nav",
        "aside",
        "form",
        "button",
        "select",
        "input",
        "textarea",
        "svg",
        "math",
        "canvas",
        "map",
        "dialog",
        "menu",
        "head",
        "link",
        "meta",
        "object",
        "applet",
        "frameset",
        "frame",
        "noembed",
        "portal",
        "slot",
    }
)
HEADINGS = {"h1": 2, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
EMBED_TAGS = frozenset({"iframe", "video", "audio", "embed"})
#: Tables wider or longer than this are cut (a hostile 5,000-cell row stays bounded).
MAX_TABLE_COLUMNS = 64
MAX_TABLE_ROWS = 500
MAX_SPAN = 64
MAX_DEPTH = 400
_URL_SCHEMES = ("http://", "https://", "mailto:", "/", "#", "./", "../", "?")

# Class/id words that mark chrome. Strong ones always do; weak ones only when no content
# word ("content", "body", "article", ...) is there too (``post-header`` is chrome,
# ``content has-sidebar`` is not).
_STRONG_CHROME = frozenset(
    """
    share sharing sharebar social socials sharedaddy addtoany related relatedposts recommended recommendations
    newsletter newsletters subscribe subscription signup sign-up promo promos promotion promoted advert adverts
    advertisement advertising ad ads adslot adunit adsbygoogle dfp sponsor sponsored sponsors affiliate affiliates
    disclosure
    comments comment commentlist respond disqus cookie cookies consent gdpr cmp byline bylines breadcrumb breadcrumbs
    recirc recirculation outbrain taboola paywall deals deal trending popular mostread most-read mostpopular readmore
    read-more more-stories morestories jp-relatedposts yarpp author-bio authorbio author-box about-author sr-only
    screen-reader-text visually-hidden visuallyhidden skip-link skiplink print-only donate donation shortbio
    poll polls voting umfrage
""".split()
)
_WEAK_CHROME = frozenset(
    """
    sidebar widget widgets toolbar meta banner header footer nav navbar navigation menu tags tag-list taglist tagcloud
    pagination pager author bio modal popup overlay masthead dateline timestamp caption-credit credit credits
    topics categories category follow rating
""".split()
)
#: A paragraph classed exactly so is the story's text behind a paywall that the page holds
#: (Condé Nast's ``<p class="paywall">``); a box classed so, or a paragraph classed
#: ``paywall-prompt``, is the subscription prompt.
_PAYWALLED = "paywall"
_CONTENT_WORDS = frozenset(
    """
    content body text prose richtext rich-text articlebody article-body post-body entry-content story-body
    post-content article-content hentry
""".split()
)
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"[a-z][A-Z]")
_CAMEL_WORD = re.compile(r"[A-Z]?[a-z]+")
#: The words a CSS module's camel-cased names ("NewsletterBox", "Article_elementPoll") are
#: read for: those that name furniture whatever they are part of. Not "comment" (a
#: forum's "CommentPost" is its content), "header" or "meta".
_CAMEL_CHROME = frozenset(
    """
    newsletter newsletters poll polls share sharing social related recommended promo paywall breadcrumb breadcrumbs
    byline cookie consent subscribe signup outbrain taboola donate sponsored advertisement
""".split()
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_CHROME_ROLES = frozenset(
    {
        "navigation",
        "complementary",
        "banner",
        "contentinfo",
        "dialog",
        "alertdialog",
        "search",
        "menu",
        "menubar",
        "toolbar",
    }
)
_BYLINE_CLASSES = frozenset({"byline", "dateline", "meta", "credit", "kicker", "author", "post-meta", "entry-meta"})
#: A video teaser's card: its blurb ends in the video's date and length ("... über die
#: Zukunft der Industrie. 06.09.2023 | 31:42 min"), where a story's sentence never does.
_VIDEO_CARD = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}\s*\|\s*\d{1,3}:\d{2}(?::\d{2})?\s*min\.?$", re.IGNORECASE)
#: WordPress and friends' last line in feeds: "The post X appeared first on Y."
_FEED_FOOTER = re.compile(
    r"^(?:The post .{1,300} appeared first on .{1,200}"
    r"|This (?:article|entry) was (?:originally )?(?:published|posted) (?:on|at) .{1,200})$",
    re.IGNORECASE,
)


#: Class names CMSs give a post for its taxonomy or state ("category-sharing",
#: "tag-ads", "status-publish" on a WordPress post): they name what it is filed under,
#: never what it is, so they are not split into words.
_TAXONOMY_PREFIXES = ("category-", "tag-", "post_tag-", "tags-", "topic-", "format-", "type-", "status-")


def class_words(el: lxml.html.HtmlElement) -> set[str]:
    """The words of an element's class and id ("post-share bar" -> {post, share, bar,
    post-share}; a CSS module's "Article_elementPoll__0I_DP" and "NewsletterBox" give
    "poll" and "newsletter" too: see :data:`_CAMEL_CHROME`)."""
    raw = f"{el.get('class') or ''} {el.get('id') or ''}"
    words = set(raw.lower().split())
    for w in list(words):
        if not w.startswith(_TAXONOMY_PREFIXES):
            words.update(p for p in _WORD_SPLIT.split(w) if p)
    if _CAMEL.search(raw):
        words.update(w for p in _CAMEL_WORD.findall(raw) if (w := p.lower()) in _CAMEL_CHROME)
    return words


def is_chrome_element(el: lxml.html.HtmlElement) -> bool:
    """Whether an element is page furniture by its tag, role, visibility or class/id."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in DROPPED_TAGS:
        return True
    hidden = el.get("hidden")
    if (hidden is not None and hidden.strip().lower() != "until-found") or (
        el.get("aria-hidden") == "true" and not len(el.xpath(".//img"))
    ):
        return True
    if _HIDDEN_STYLE.search(el.get("style") or ""):
        return True
    if (el.get("role") or "").lower() in _CHROME_ROLES:
        return True
    words = class_words(el)
    if not words:
        return False
    strong = words & _STRONG_CHROME
    paywalled = tag == "p" and strong == {_PAYWALLED} and _PAYWALLED in (el.get("class") or "").split()
    if strong and not paywalled:
        return True
    if tag in HEADINGS:
        return False  # a heading's class names its styling ("header-anchor-post"), not chrome
    return bool(words & _WEAK_CHROME) and not words & _CONTENT_WORDS


def strip_chrome(root: lxml.html.HtmlElement, *, keep: Callable[[lxml.html.HtmlElement], bool] | None = None) -> None:
    """Remove chrome elements under ``root`` (never ``root`` itself), in place.

    ``keep`` can veto a removal (e.g. an element that holds most of the text).
    """
    for el in list(root.iter()):
        if el is root or not isinstance(el.tag, str):
            if not isinstance(el.tag, str) and el.getparent() is not None:  # comments, PIs
                _drop(el)
            continue
        if el.getparent() is None:
            continue  # already removed with an ancestor
        tag = el.tag.lower()
        if tag in ("header", "footer") and el is not root:
            if keep is None or not keep(el):
                _drop(el)
            continue
        if is_chrome_element(el) and (keep is None or not keep(el)):
            _drop(el)


def _drop(el: lxml.html.HtmlElement) -> None:
    """Remove an element but keep its tail text."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    previous = el.getprevious()
    parent.remove(el)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


#: Longer URLs are dropped: a signed CDN URL is a few KB, and a link or image is repeated
#: in every feed document and page that shows its entry (a 1 MB one made 2 MB feeds).
MAX_URL = 8192


def safe_url(value: str | None, base: str | None, *, http_only: bool = False) -> str | None:
    """An absolute URL with a safe scheme and at most :data:`MAX_URL` characters, or None."""
    if not value or len(value) > MAX_URL:
        return None
    value = value.strip()
    if not value or value.lower().startswith(("javascript:", "data:", "vbscript:", "file:")):
        return None
    if ":" in value.split("/")[0] and not value.lower().startswith(_URL_SCHEMES):
        return None
    absolute = urljoin(base or "", value)
    if http_only and not absolute.lower().startswith(("http://", "https://")):
        return None
    return absolute if len(absolute) <= MAX_URL else None


def best_image_src(img: lxml.html.HtmlElement, base: str | None) -> str | None:
    """The best candidate of an ``<img>`` (or ``<picture>``): the widest ``srcset`` entry,
    else ``src``, else the lazy-loading attributes CMSs use; absolute, http(s) only."""
    candidates: list[tuple[float, str]] = []
    sources = [img]
    parent = img.getparent()
    if parent is not None and parent.tag == "picture":
        sources = [s for s in parent if isinstance(s.tag, str) and s.tag in ("source", "img")]
    for el in sources:
        for attr in ("srcset", "data-srcset", "data-lazy-srcset"):
            for part in (el.get(attr) or "").split(","):
                bits = part.strip().split()
                if not bits:
                    continue
                weight = 1.0
                if len(bits) > 1:
                    descriptor = bits[-1].lower()
                    try:
                        weight = float(descriptor[:-1]) * (1 if descriptor.endswith("w") else 1000)
                    except ValueError:
                        weight = 1.0
                url = safe_url(bits[0], base, http_only=True)
                if url:
                    candidates.append((weight, url))
    if candidates:
        return max(candidates, key=lambda c: c[0])[1]
    for attr in ("src", "data-src", "data-lazy-src", "data-original", "data-url"):
        value = img.get(attr)
        if value and not value.strip().lower().startswith("data:"):
            url = safe_url(value, base, http_only=True)
            if url:
                return url
    return None


def _int(value: str | None, *, cap: int = 100000) -> int | None:
    if not value:
        return None
    match = re.match(r"\s*(\d{1,6})", value)
    if not match:
        return None
    n = int(match.group(1))
    return n if 0 < n <= cap else None


def image_of(img: lxml.html.HtmlElement, base: str | None) -> Image | None:
    src = best_image_src(img, base)
    if src is None:
        return None
    return Image(
        src=src,
        alt=squash(img.get("alt") or ""),
        width=_int(img.get("width")),
        height=_int(img.get("height")),
        title=squash(img.get("title") or ""),
    )


def embed_of(el: lxml.html.HtmlElement, base: str | None) -> Embed | None:
    tag = el.tag
    src = el.get("src") or el.get("data-src")
    if not src and tag in ("video", "audio"):
        source = next(iter(el.xpath(".//source[@src]")), None)
        src = source.get("src") if source is not None else None
    url = safe_url(src, base, http_only=True)
    if url is None:
        return None
    kind = tag if tag in ("video", "audio") else "iframe"
    title = squash(el.get("title") or el.get("aria-label") or "")
    return Embed(url=url, kind=kind, title=title)


@dataclass
class Context:
    """What the reader needs besides the element: links, patterns, the title to skip."""

    base: str | None = None
    title: str = ""
    attribution_patterns: tuple[str, ...] = ()
    chrome_lines: tuple[str, ...] = ()
    attributions: list[Attribution] = field(default_factory=list)
    #: Characters of text in the whole container: an element holding most of it is the
    #: content, whatever its class says (WordPress puts ``category-*`` and ``tag-*`` on
    #: the article itself).
    total_chars: int = 0

    def is_chrome(self, el: lxml.html.HtmlElement) -> bool:
        if not is_chrome_element(el):
            return False
        if el.tag in DROPPED_TAGS or not self.total_chars:
            return True
        return len(squash(el.text_content())) < 0.5 * self.total_chars


def inline_html(el: lxml.html.HtmlElement, base: str | None, *, images: list[Image] | None = None) -> str:
    """An element's content as inline HTML (text, kept inline tags, safe attributes)."""
    parts = [html.escape(el.text or "", quote=False)]
    for child in el:
        parts.append(_serialise(child, base, images))
    return "".join(parts)


def _serialise(el: lxml.html.HtmlElement, base: str | None, images: list[Image] | None) -> str:
    tail = html.escape(el.tail or "", quote=False)
    if not isinstance(el.tag, str):  # comments, processing instructions
        return tail
    tag = el.tag.lower()
    if tag in DROPPED_TAGS:
        return tail
    if tag == "img":
        if images is not None:
            found = image_of(el, base)
            if found is not None:
                images.append(found)
        return tail
    inner = html.escape(el.text or "", quote=False) + "".join(_serialise(c, base, images) for c in el)
    if tag not in KEPT_INLINE:
        return inner + tail
    if tag == "br":
        return "<br>" + tail
    attrs = []
    for name in KEPT_ATTRIBUTES.get(tag, ()):
        value = el.get(name)
        if value is None:
            continue
        if name == "href":
            value = safe_url(value, base)
            if value is None:
                continue
        attrs.append(f' {name}="{html.escape(value, quote=True)}"')
    return f"<{tag}{''.join(attrs)}>{inner}</{tag}>{tail}"


#: Elements that start a line of a caption (a gallery sets its caption, credit, tags and
#: counter in blocks of their own inside one <figcaption>; a video's date and length in a
#: ``<small>``).
_CAPTION_LINES = frozenset(
    "p div ul ol li dl dt dd section header footer blockquote h1 h2 h3 h4 h5 h6 table tr small".split()
)
#: Marks where a caption's blocks begin and end while it is flattened (a private-use
#: character: never whitespace, never in a page's caption).
_LINE_MARK = "\ue000"


def caption_html(caption: lxml.html.HtmlElement, base: str | None) -> str:
    """A caption as one inline fragment, less the furniture a gallery sets inside it.

    Each of its lines (a block inside it, or a run a ``<br>`` ends) that is a label line
    (:func:`is_label_line`: a slide counter "1 / 8", a line of tags "Themen: Weihnachten,
    Pullover", a share label) is left out; what stays is joined as the page showed it, its
    blocks by a space and its runs by their ``<br>``. The caption text and its credit stay:
    a picture is published with both.
    """
    copy = deepcopy(caption)
    copy.tail = None
    for el in copy.iterdescendants():
        if isinstance(el.tag, str) and el.tag.lower() in _CAPTION_LINES:
            el.text = _LINE_MARK + (el.text or "")
            el.tail = _LINE_MARK + (el.tail or "")
    kept = []
    for block in inline_html(copy, base).split(_LINE_MARK):
        piece = tidy("<br>".join(run for run in block.split("<br>") if not is_label_line(fragment_text(run))))
        if piece:
            kept.append(piece)
    return tidy(" ".join(kept))


def fragment_text(fragment: str) -> str:
    """The plain text of an inline HTML fragment."""
    if "<" not in fragment and "&" not in fragment:
        return squash(fragment)
    # Inline tags join their neighbours ("<q>right</q>." is "right."); only a <br> is a space.
    return squash(html.unescape(re.sub(r"<[^>]*>", "", re.sub(r"<br\s*/?>", " ", fragment, flags=re.IGNORECASE))))


def tidy(fragment: str) -> str:
    """Drop empty inline elements and leading/trailing ``<br>``s; squash whitespace."""
    fragment = re.sub(r"<(em|strong|b|i|span|a|u|s|small|mark)(?: [^>]*)?>\s*</\1>", "", fragment)
    fragment = squash(fragment)
    fragment = re.sub(r"^(?:<br>\s*)+|(?:\s*<br>)+$", "", fragment)
    return fragment.strip()


def _link_density(el: lxml.html.HtmlElement) -> float:
    total = len(squash(el.text_content()))
    if not total:
        return 0.0
    linked = sum(len(squash(a.text_content())) for a in el.iter("a"))
    return linked / total


#: A paragraph in an article's ``<header>`` this long that ends a sentence is its
#: standfirst, not a label (a dateline, a section name, a byline are far shorter).
LEDE_CHARACTERS = 120
#: The end of a sentence: its stop (and closing quotes) at the end of the text or before
#: the next sentence; a CJK full stop anywhere.
_SENTENCE_STOP = re.compile(r"(?<![\d\s])[.!?؟।][\"'”’»)\]]*(?:$|\s+\S)|[。！？]")


#: Chinese, Japanese and Korean characters: each says about what two Latin letters do,
#: and their clauses are set off by full-width commas.
_CJK = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_CJK_CLAUSE = re.compile(r"[\u3001\uff0c\uff1b]")


def _cjk(text: str) -> int:
    return len(_CJK.findall(text)) if not text.isascii() else 0


def width(text: str) -> int:
    """Characters, a CJK one counted twice (it says as much as a word of a few letters)."""
    return len(text) + _cjk(text)


def reads_as_prose(text: str, minimum: int = LEDE_CHARACTERS) -> bool:
    """Whether ``text`` is running text: at least ``minimum`` characters by
    :func:`width` with the end of a sentence in it, or in CJK a clause (labels,
    datelines, bylines and lists of names have none)."""
    cjk = _cjk(text)
    if len(text) + cjk < minimum:
        return False
    return bool(_SENTENCE_STOP.search(text) or (cjk and _CJK_CLAUSE.search(text)))


#: Text beside an item's one link that still makes it a teaser: a kicker ("Statistik:").
KICKER_CHARACTERS = 30


def _kicker_and_link(li: lxml.html.HtmlElement) -> bool:
    """A list item that is one link and at most a kicker ("<b>Drogen:</b> <a>Fentanyl in
    Berlin</a>"): a list of them is a list of other stories, however dense its links."""
    links = [a for a in li.iter("a") if squash(a.text_content())]
    if len(links) != 1:
        return False
    linked = len(squash(links[0].text_content()))
    rest = len(squash(li.text_content())) - linked
    return rest <= KICKER_CHARACTERS and linked >= rest


def _teasers(el: lxml.html.HtmlElement) -> bool:
    """A block of links to other pages (related stories, a section's latest), however it
    is marked up, with no paragraph of prose: at least three links and nearly all its text
    theirs (the same rule as a list of links), or an ``<article>`` inside the one being
    read whose headline is a link (a teaser card: kicker, linked headline, a line)."""
    links = 0
    for _a in el.iter("a"):
        links += 1
        if links >= 3:
            break
    if not links:
        return False
    density = _link_density(el)
    if not ((links >= 3 and density > 0.85) or (el.tag == "article" and density >= 0.4)):
        return False
    return not any(len(squash(p.text_content())) >= 80 for p in el.iter("p"))


class _Reader:
    """Walks one container, collecting blocks; nested containers share the context."""

    def __init__(self, ctx: Context, *, top: bool) -> None:
        self.ctx = ctx
        self.top = top
        self.blocks: list[Block] = []
        self.inline: list[str] = []
        self.images: list[Image] = []

    # -- inline runs -------------------------------------------------------------------------

    def flush(self, css: set[str] | None = None, *, loose: bool = True) -> None:
        fragment = tidy("".join(self.inline))
        self.inline = []
        images, self.images = self.images, []
        for piece in re.split(r"(?:<br>\s*){2,}", fragment):
            piece = tidy(piece)
            if loose and _only_links(piece):
                continue  # loose links between blocks: a link bar, not prose
            self.paragraph(piece, css)
        for image in images:
            self.blocks.append(Figure(image=image))

    def paragraph(self, fragment: str, css: set[str] | None = None) -> None:
        text = fragment_text(fragment)
        if not text:
            return
        if css and css & _BYLINE_CLASSES:
            return
        if (
            is_chrome(text, self.ctx.chrome_lines)
            or is_previous_label(text)
            or is_next_label(text)
            or is_label_line(text)
        ):
            return
        if _FEED_FOOTER.match(text) or _VIDEO_CARD.search(text):
            return
        if _only_links(fragment) and _shouting(text):
            return  # "<p><a><strong>VIDEO SHOWS SUSPECT ACCUSED OF ...</strong></a></p>": a teaser
        if (
            self.ctx.title
            and text == self.ctx.title
            and not any(isinstance(b, Paragraph | Heading) for b in self.blocks)
        ):
            return
        if (
            css
            and css & {"wp-caption-text", "caption"}
            and self.blocks
            and isinstance(self.blocks[-1], Figure)
            and not self.blocks[-1].caption
        ):
            self.blocks[-1] = Figure(self.blocks[-1].image, fragment)
            return
        if not self.top or not self.ctx.attribution_patterns:
            self.blocks.append(Paragraph(fragment))
            return
        body, found = take_attributions(fragment, len(self.blocks), self.ctx.attribution_patterns, is_html=True)
        body = tidy(body)
        if fragment_text(body):
            self.blocks.append(Paragraph(body))
            self.ctx.attributions.extend(found)
        else:
            # A line that is only an attribution belongs to the block before it.
            index = max(len(self.blocks) - 1, 0)
            self.ctx.attributions.extend(Attribution(a.label, a.source, index) for a in found)

    def lede(self, header: lxml.html.HtmlElement, depth: int) -> None:
        """An article's own ``<header>`` (one above its text: a teaser's further down is
        not) is chrome (its headline, date, section, byline) except for running prose in
        it: the standfirst, which some sites put beside the headline. Only paragraphs of
        at least :data:`LEDE_CHARACTERS` that read as sentences are kept."""
        reader = _Reader(self.ctx, top=False)
        reader.container(header, depth)
        reader.flush()
        kept = [b for b in reader.blocks if isinstance(b, Paragraph) and reads_as_prose(fragment_text(b.html))]
        if kept:
            self.flush()
            self.blocks.extend(kept)

    # -- walking -----------------------------------------------------------------------------

    def container(self, el: lxml.html.HtmlElement, depth: int = 0) -> None:
        if el.text:
            self.inline.append(html.escape(el.text, quote=False))
        for child in el:
            self.node(child, depth + 1)
            if child.tail:
                self.inline.append(html.escape(child.tail, quote=False))

    def node(self, el: lxml.html.HtmlElement, depth: int) -> None:
        if not isinstance(el.tag, str):
            return
        tag = el.tag.lower()
        if tag in DROPPED_TAGS:
            return
        if self.ctx.is_chrome(el) or (
            tag in ("header", "footer") and len(squash(el.text_content())) < 0.5 * max(self.ctx.total_chars, 1)
        ):
            if tag == "header" and self.top and not any(isinstance(b, Paragraph) for b in self.blocks):
                self.lede(el, depth)  # the article's own header, above its text
            return
        if depth > MAX_DEPTH:  # absurd nesting: keep the text, stop descending
            self.inline.append(html.escape(el.text_content(), quote=False))
            return
        if tag == "img":
            found = image_of(el, self.ctx.base)
            if found is not None:
                self.flush()
                self.blocks.append(Figure(image=found))
            return
        if tag == "a" and {"prev", "next", "previous"} & set((el.get("rel") or "").lower().split()):
            return  # "« Older" / "Newer »": navigation, read by extraction as links
        if tag == "time" and (
            el.getparent() is None or el.getparent().tag in ("div", "section", "article", "main", "body", "header")
        ):
            return  # a <time> on its own between blocks is a dateline
        if tag in INLINE_TAGS and not _has_block(el):
            self.inline.append(_serialise_no_tail(el, self.ctx.base, self.images))
            return
        # A block element: what came before it is its own paragraph.
        self.flush()
        css = class_words(el)
        if tag == "p":
            self.container(el, depth)
            self.flush(css, loose=False)
        elif tag in HEADINGS:
            fragment = tidy(inline_html(el, self.ctx.base))
            text = fragment_text(fragment)
            if (
                text
                and not is_headline(text, self.ctx.title)  # the page's own <h1>, a kicker fused to it
                and not is_chrome(text, self.ctx.chrome_lines)
                and not is_label_line(text)  # "Related stories", "Anzeige" as a heading
            ):
                self.blocks.append(Heading(HEADINGS[tag], fragment))
        elif tag in ("ul", "ol"):
            self.list_block(el, depth, ordered=tag == "ol")
        elif tag == "blockquote":
            inner = self.sub(el, depth)
            if inner:
                self.blocks.append(Quote(tuple(inner), safe_url(el.get("cite"), self.ctx.base, http_only=True)))
        elif tag == "figure" or (css & {"wp-caption", "wp-block-image"} and el.xpath(".//img")):
            self.figure(el, depth)
        elif tag == "table":
            self.table(el, depth)
        elif tag in ("pre", "listing", "xmp", "plaintext"):
            text = el.text_content().strip("\n")
            if text.strip():
                self.blocks.append(Preformatted(text, code=bool(el.xpath(".//code"))))
        elif tag == "hr":
            if self.blocks and not isinstance(self.blocks[-1], Rule):
                self.blocks.append(Rule())
        elif tag in EMBED_TAGS:
            embed = embed_of(el, self.ctx.base)
            if embed is not None:
                self.blocks.append(embed)
        elif tag == "dl":
            for item in el:
                if isinstance(item.tag, str) and item.tag in ("dt", "dd"):
                    self.container(item, depth)
                    self.flush()
        elif tag == "picture":
            img = next(iter(el.xpath(".//img")), None)
            found = image_of(img, self.ctx.base) if img is not None else None
            if found is not None:
                self.blocks.append(Figure(image=found))
        else:  # div, section, article, li outside a list, unknown elements: a container
            if _teasers(el):
                return
            self.container(el, depth)
            self.flush(css)

    def sub(self, el: lxml.html.HtmlElement, depth: int) -> list[Block]:
        reader = _Reader(self.ctx, top=False)
        reader.container(el, depth)
        reader.flush()
        return reader.blocks

    def list_block(self, el: lxml.html.HtmlElement, depth: int, *, ordered: bool) -> None:
        items: list[ListItem] = []
        lis = [li for li in el if isinstance(li.tag, str) and not self.ctx.is_chrome(li)]
        if len(lis) >= 3 and (_link_density(el) > 0.85 or all(_kicker_and_link(li) for li in lis)):
            return  # a list of links (related stories, tags), kickers or not: chrome
        for li in lis:
            inner = self.sub(li, depth)  # an <li>, or stray content a CMS put between items
            if not inner:
                continue
            if isinstance(inner[0], Paragraph):
                items.append(ListItem(inner[0].html, tuple(inner[1:])))
            else:
                items.append(ListItem("", tuple(inner)))
        if items:
            self.blocks.append(ListBlock(tuple(items), ordered))

    def figure(self, el: lxml.html.HtmlElement, depth: int) -> None:
        captions = el.xpath(".//figcaption") or [
            c
            for c in el.iter()
            if isinstance(c.tag, str)
            and class_words(c) & {"wp-caption-text", "caption", "wp-element-caption"}
            and c is not el
        ]
        caption = caption_html(captions[0], self.ctx.base) if captions else ""
        img = next(iter(el.xpath(".//img")), None)
        image = image_of(img, self.ctx.base) if img is not None else None
        if image is not None:
            self.blocks.append(Figure(image=image, caption=caption))
            return
        # A figure without an image: a table, a quote, a video...; read what it holds.
        for cap in captions:
            _drop(cap)
        self.blocks.extend(self.sub(el, depth))
        if caption and fragment_text(caption):
            self.blocks.append(Paragraph(caption))

    def table(self, el: lxml.html.HtmlElement, depth: int) -> None:
        if _is_layout_table(el):
            self.container(el, depth)
            self.flush()
            return
        rows: list[Row] = []
        caption_el = next(iter(el.xpath("./caption")), None)
        caption = tidy(inline_html(caption_el, self.ctx.base)) if caption_el is not None else ""
        for tr in el.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr"):
            if len(rows) >= MAX_TABLE_ROWS:
                break
            cells: list[Cell] = []
            for td in tr:
                if not isinstance(td.tag, str) or td.tag not in ("td", "th"):
                    continue
                if len(cells) >= MAX_TABLE_COLUMNS:
                    break
                images: list[Image] = []
                fragment = tidy(inline_html(td, self.ctx.base, images=images))
                cells.append(
                    Cell(
                        fragment,
                        header=td.tag == "th",
                        colspan=_int(td.get("colspan"), cap=MAX_SPAN) or 1,
                        rowspan=_int(td.get("rowspan"), cap=MAX_SPAN) or 1,
                    )
                )
            if not cells:
                continue
            parent = tr.getparent()
            head = (parent is not None and parent.tag == "thead") or (all(c.header for c in cells) and not rows)
            rows.append(Row(tuple(cells), head=bool(head)))
        if any(fragment_text(c.html) for r in rows for c in r.cells):
            self.blocks.append(Table(tuple(rows), caption))


def _shouting(text: str) -> bool:
    """Capitals only, in at least three words (a script without case never is)."""
    return len(text.split()) >= 3 and any(c.isupper() for c in text) and not any(c.islower() for c in text)


def _only_links(fragment: str) -> bool:
    """A short run of text that is all links ("Home · World", "Older | Newer")."""
    if "<a" not in fragment:
        return False
    text = fragment_text(fragment)
    outside = fragment_text(re.sub(r"<a\b[^>]*>.*?</a>", " ", fragment, flags=re.DOTALL))
    return len(text) < 200 and len(re.sub(r"[\W_]+", "", outside)) <= 0.1 * len(text)


def _serialise_no_tail(el: lxml.html.HtmlElement, base: str | None, images: list[Image]) -> str:
    tail, el.tail = el.tail, None
    try:
        return _serialise(el, base, images)
    finally:
        el.tail = tail


_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "ul",
        "ol",
        "table",
        "blockquote",
        "figure",
        "pre",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "dl",
        "main",
        "header",
        "footer",
        "aside",
        "nav",
        "iframe",
        "video",
        "audio",
        "img",
        "picture",
        "address",
        "details",
        "center",
        "form",
    }
)


def _has_block(el: lxml.html.HtmlElement) -> bool:
    return any(isinstance(d.tag, str) and d.tag in _BLOCK_TAGS for d in el.iterdescendants())


def _is_layout_table(el: lxml.html.HtmlElement) -> bool:
    """A table used for page layout (nested tables, or cells holding paragraphs of prose)."""
    if el.xpath(".//table"):
        return True
    cells = el.xpath("./tr/td | ./tbody/tr/td | ./thead/tr/td")
    if not cells:
        return False
    blocky = sum(1 for c in cells if c.xpath("./p | ./div | ./ul | ./ol | ./h1 | ./h2 | ./h3 | ./blockquote"))
    long_text = sum(1 for c in cells if len(squash(c.text_content())) > 400)
    return blocky >= max(1, len(cells) // 2) or (long_text >= 1 and len(cells) <= 3)


def to_blocks(root: lxml.html.HtmlElement, ctx: Context) -> list[Block]:
    """Read a container's content into blocks (chrome inside it is skipped)."""
    if not ctx.total_chars:
        ctx.total_chars = len(squash(root.text_content()))
    reader = _Reader(ctx, top=True)
    reader.container(root)
    reader.flush()
    return _trim(reader.blocks)


def _trim(blocks: list[Block]) -> list[Block]:
    """Rules at either end go, and so do headings at the end: titles of sections that
    were furniture ("Berita Lainnya" over a list of other stories), over nothing."""
    while blocks and isinstance(blocks[-1], Rule | Heading):
        blocks.pop()
    while blocks and isinstance(blocks[0], Rule):
        blocks.pop(0)
    return blocks


def blocks_text(blocks: list[Block] | tuple[Block, ...]) -> str:
    """Plain text of blocks, one block (or list item, or table row) per line."""
    lines: list[str] = []

    def walk(bs: tuple[Block, ...] | list[Block]) -> None:
        for b in bs:
            if isinstance(b, Paragraph | Heading):
                lines.append(fragment_text(b.html))
            elif isinstance(b, ListBlock):
                for item in b.items:
                    if item.html:
                        lines.append(fragment_text(item.html))
                    walk(item.children)
            elif isinstance(b, Quote):
                walk(b.blocks)
            elif isinstance(b, Figure):
                if b.caption:
                    lines.append(fragment_text(b.caption))
            elif isinstance(b, Table):
                if b.caption:
                    lines.append(fragment_text(b.caption))
                for row in b.rows:
                    lines.append(" ".join(fragment_text(c.html) for c in row.cells))
            elif isinstance(b, Preformatted):
                lines.append(b.text)
            elif isinstance(b, Embed) and b.title:
                lines.append(b.title)

    walk(blocks)
    return "\n".join(line for line in lines if line.strip())
