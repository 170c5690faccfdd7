"""HTML article pages, read with lxml.

Title from the article's ``<h1>`` (else ``<title>`` less its " | Site" suffix); body
paragraphs from ``<p>`` elements of the ``<article>`` (else ``<main>``, else ``<body>``)
with only inline markup kept; attribution lines from the paragraphs' text or from
``<p class="attribution">``; previous/next references from ``rel="prev"``/``rel="next"``
or from "Previous Article" / "Next Article" labels followed by a link.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from syndicate.config import ExtractSettings
from syndicate.errors import ItemError
from syndicate.extract.common import (
    is_chrome,
    is_next_label,
    is_previous_label,
    squash,
    take_attributions,
)
from syndicate.models import Article, Attribution, RawItem, Ref

#: Inline elements kept in body paragraphs; everything else is unwrapped to its text.
INLINE_TAGS = frozenset({"a", "em", "strong", "b", "i", "span", "sup", "sub", "br", "code", "q", "abbr", "cite", "mark", "small", "s", "u"})
#: Attributes kept on inline elements (links made absolute).
KEPT_ATTRIBUTES = {"a": ("href", "title", "hreflang"), "abbr": ("title",), "span": ("lang", "translate"), "code": ("translate",)}
#: Elements that are never article content.
CHROME_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "button", "iframe", "svg", "figure")
#: Paragraph classes that are page furniture, not body text.
_BYLINE_CLASSES = frozenset({"byline", "dateline", "meta", "credit", "caption", "kicker", "author"})
_URL_SCHEMES = ("http://", "https://", "mailto:", "/", "#", "./", "../")


def extract_html(item: RawItem, settings: ExtractSettings) -> Article:
    """Parse an HTML article page."""
    try:
        doc = lxml.html.document_fromstring(_markup(item.data))
    except (etree.ParserError, ValueError) as exc:
        raise ItemError(f"not a readable HTML page: {exc}", source=item.source, item=item.key, hint="check the file is an HTML article page") from None
    base = item.base_url or item.url
    canonical = _first_attr(doc, '//link[@rel="canonical"]/@href')
    url = urljoin(base or "", canonical) if canonical else item.url
    base = url or base

    prev_ref, next_ref = _neighbours(doc, base)
    title = _title(doc)
    if not title:
        raise ItemError("no title: the page has no <h1> and no <title>", source=item.source, item=item.key, hint="give the article an <h1> heading")

    container = _container(doc)
    for bad in container.xpath(" | ".join(f".//{t}" for t in CHROME_TAGS)):
        bad.drop_tree()

    paragraphs: list[str] = []
    attributions: list[Attribution] = []
    for p in container.iter("p"):
        if _BYLINE_CLASSES & set((p.get("class") or "").lower().split()):
            continue
        text = squash(p.text_content())
        if not text or is_chrome(text, settings.chrome_lines) or is_previous_label(text) or is_next_label(text):
            continue
        if text == title:
            continue
        fragment = _inline_html(p, base)
        body, found = take_attributions(fragment, len(paragraphs), settings.attribution_patterns, is_html=True)
        body = _tidy(body)
        if squash(lxml.html.fragment_fromstring(body, create_parent="div").text_content()) if body else "":
            paragraphs.append(body)
            attributions.extend(found)
        else:
            index = max(len(paragraphs) - 1, 0)
            attributions.extend(Attribution(a.label, a.source, index) for a in found)
    lang_attr = doc.get("lang") or None
    published = item.published or _published(doc, container)
    return Article(
        source=item.source,
        key=item.key,
        title=title,
        paragraphs=tuple(paragraphs),
        attributions=tuple(attributions),
        url=url,
        prev=prev_ref,
        next=next_ref,
        language=item.language or (lang_attr.split("-")[0].lower() if lang_attr else None),
        published=published,
    )


def _published(doc: lxml.html.HtmlElement, container: lxml.html.HtmlElement) -> datetime | None:
    """Publication time from article metadata or the first ``<time datetime>``, as UTC."""
    candidates = doc.xpath('//meta[@property="article:published_time" or @name="date" or @itemprop="datePublished"]/@content')
    candidates += doc.xpath("//article//time/@datetime | //time[@pubdate]/@datetime")
    for value in candidates:
        try:
            when = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            continue
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return None


_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset|<\?xml[^>]+encoding""", re.IGNORECASE)


def _markup(data: bytes) -> bytes | str:
    """What lxml should parse.

    Control characters are dropped (lxml refuses them; one would otherwise cost the whole
    page). A page that declares its charset is left to lxml; one that does not is
    decoded as UTF-8 when it is valid UTF-8 (lxml would guess Latin-1: "CafÃ©").
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data  # UTF-16: its bytes are not ASCII-compatible
    data = _CONTROL_BYTES.sub(b"", data)
    if _DECLARED_CHARSET.search(data[:4096]):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data


def _first_attr(doc: lxml.html.HtmlElement, xpath: str) -> str | None:
    found = doc.xpath(xpath)
    return str(found[0]).strip() if found else None


def _title(doc: lxml.html.HtmlElement) -> str:
    for xpath in ("//article//h1", "//main//h1", "//h1"):
        for h1 in doc.xpath(xpath):
            text = squash(h1.text_content())
            if text:
                return text
    title = doc.findtext(".//title") or ""
    # "Headline | Example News" / "Headline - Example News": drop the site's suffix.
    return squash(re.split(r"\s+[|–—-]\s+(?=[^|–—-]*$)", squash(title))[0]) if title.strip() else ""


def _container(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    for xpath in ("//article", "//main", "//*[@role='main']", "//body"):
        found = doc.xpath(xpath)
        if found:
            return found[0]  # type: ignore[no-any-return]
    return doc


def _neighbours(doc: lxml.html.HtmlElement, base: str | None) -> tuple[Ref | None, Ref | None]:
    """Previous/next by rel attributes first, then by their visible labels."""
    refs: dict[str, Ref] = {}
    for rel in ("prev", "next"):
        for el in doc.xpath(f'//a[@href][contains(concat(" ", normalize-space(@rel), " "), " {rel} ")] | //link[@href][@rel="{rel}"]'):
            # A rel link's text is usually "Older story" or an arrow, not the title:
            # the link resolves by URL; a labelled link below may add the title.
            refs[rel] = Ref(url=urljoin(base or "", el.get("href")))
            break
    # Labels: an element whose text is "Previous Article", then the next link after it.
    for el in doc.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style"):
            continue
        own = squash((el.text or "") if len(el) else el.text_content())
        rel = "prev" if is_previous_label(own) else "next" if is_next_label(own) else None
        if rel is None:
            continue
        link = el if el.tag == "a" and el.get("href") else None
        if link is None or is_previous_label(squash(link.text_content())) or is_next_label(squash(link.text_content())):
            # "<div>Previous Article <a>Title</a></div>": the link may sit inside the label's element.
            following = el.xpath("(descendant::a[@href] | following::a[@href])[1]") if link is None else el.xpath("following::a[@href][1]")
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
        if link is None:
            continue
        found = Ref(url=urljoin(base or "", link.get("href")), title=link_title or None)
        old = refs.get(rel)
        if old is None:
            refs[rel] = found
        elif old.title is None and found.url == old.url:
            refs[rel] = Ref(url=old.url, title=found.title)
    return refs.get("prev"), refs.get("next")


def _inline_html(p: lxml.html.HtmlElement, base: str | None) -> str:
    """Serialise a paragraph's content keeping only inline markup and safe attributes."""
    parts: list[str] = [html.escape(p.text or "", quote=False)]
    for child in p:
        parts.append(_serialise(child, base))
    return "".join(parts)


def _serialise(el: lxml.html.HtmlElement, base: str | None) -> str:
    tail = html.escape(el.tail or "", quote=False)
    if not isinstance(el.tag, str):  # comments, processing instructions
        return tail
    tag = el.tag.lower()
    inner = html.escape(el.text or "", quote=False) + "".join(_serialise(c, base) for c in el)
    if tag not in INLINE_TAGS:
        return inner + tail
    if tag == "br":
        return "<br>" + tail
    attrs = []
    for name in KEPT_ATTRIBUTES.get(tag, ()):
        value = el.get(name)
        if value is None:
            continue
        if name == "href":
            value = value.strip()
            if not value.lower().startswith(_URL_SCHEMES) and ":" in value.split("/")[0]:
                continue  # javascript:, data: and other schemes are dropped
            value = urljoin(base or "", value)
        attrs.append(f' {name}="{html.escape(value, quote=True)}"')
    return f"<{tag}{''.join(attrs)}>{inner}</{tag}>{tail}"


def _tidy(fragment: str) -> str:
    """Drop empty inline elements and brackets left behind by a removed attribution."""
    fragment = re.sub(r"<(em|strong|b|i|span)>\s*</\1>", "", fragment)
    return re.sub(r"\s+", " ", fragment).strip()
