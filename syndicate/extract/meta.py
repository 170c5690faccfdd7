"""Article metadata from a page: authors, tags, lead image, summary, dates, canonical URL.

Sources, best first for each field:

- JSON-LD (``NewsArticle``, ``Article``, ``BlogPosting`` and kin, also inside ``@graph``):
  authors with their URLs, ``keywords``, ``articleSection``, ``image``, dates, headline;
- OpenGraph and ``<meta>``: ``article:tag``, ``article:section``, ``article:author``,
  ``og:image``, ``og:description``, ``article:published_time``/``modified_time``,
  ``<meta name="author">``, ``news_keywords``; ``<a rel="author">``; a byline element;
- trafilatura's metadata extraction (authors, categories, tags, image, date, site name)
  for whatever the above leave empty: it knows many CMS conventions, and it is already
  our dependency, which is why we use it rather than adding ``extruct``. JSON-LD itself
  is read with :mod:`json` (the structure is JSON; only author URLs and modification
  dates are missing from trafilatura's result).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import lxml.html

from syndicate.extract.blocks import safe_url
from syndicate.extract.common import squash
from syndicate.models import Author, Image

logger = logging.getLogger(__name__)

_ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "blogposting",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "techarticle",
        "scholarlyarticle",
        "liveblogposting",
        "posting",
        "socialmediaposting",
        "webpage",
    }
)
MAX_TAGS = 20
MAX_TAG_CHARS = 80
MAX_AUTHORS = 12


@dataclass(frozen=True)
class PageMeta:
    """What a page says about its article besides the body."""

    authors: tuple[Author, ...] = ()
    tags: tuple[str, ...] = ()
    image: Image | None = None
    summary: str = ""
    published: datetime | None = None
    modified: datetime | None = None
    canonical: str | None = None
    site_name: str = ""
    headline: str = ""  # og:title / JSON-LD headline: a witness for choosing the <h1>
    #: The article's text as its JSON-LD ``articleBody`` gives it (whitespace squashed):
    #: what the publisher declares the article says, hidden on the page or not.
    body: str = ""


#: Characters of a JSON-LD ``articleBody`` kept (a long feature is 60,000).
MAX_DECLARED_BODY = 200_000


def parse_date(value: Any) -> datetime | None:
    """An ISO 8601 date or date-time as aware UTC, or None."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{4}", text):
        text = text[:-2] + ":" + text[-2:]  # +0100 -> +01:00
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not 1990 <= when.year <= 2200:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _jsonld_objects(doc: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    for script in doc.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            try:  # CMSs leave trailing commas and HTML comments in
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", re.sub(r"<!--|-->", "", raw)), strict=False)
            except ValueError:
                continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.extend(reversed(item["@graph"] if isinstance(item["@graph"], list) else [item["@graph"]]))
                yield item


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type", [])
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds}


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return _strings(value.get("name") or value.get("url") or value.get("@id"))
    return [str(value)]


def _image_url(value: Any, base: str | None) -> str | None:
    if isinstance(value, list):
        for v in value:
            found = _image_url(v, base)
            if found:
                return found
        return None
    if isinstance(value, dict):
        return _image_url(value.get("url") or value.get("contentUrl") or value.get("@id"), base)
    if isinstance(value, str):
        return safe_url(value, base, http_only=True)
    return None


def _author_of(value: Any, base: str | None, nodes: dict[str, dict[str, Any]] | None = None) -> list[Author]:
    """Authors of a JSON-LD ``author``; ``{"@id": ...}`` references (Yoast's ``@graph``
    names the Person once and points at it) are read from ``nodes``."""
    out: list[Author] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and nodes and isinstance(item.get("@id"), str) and item["@id"] in nodes:
            item = {**nodes[item["@id"]], **{k: v for k, v in item.items() if v}}
        if isinstance(item, dict):
            name = squash(str(item.get("name") or ""))
            url = safe_url(str(item["url"]), base, http_only=True) if isinstance(item.get("url"), str) else None
            if name and not name.lower().startswith(("http://", "https://")):
                out.append(Author(name, url))
        elif isinstance(item, str):
            out.extend(Author(n) for n in split_names(item))
    return out


_BY = re.compile(r"^\s*(?:by|von|por|par|di|door|av|af|от|автор)\s*[:\s]\s*", re.IGNORECASE)


def split_names(text: str) -> list[str]:
    """ "By Jane Doe and John Roe" -> ["Jane Doe", "John Roe"]; URLs and long junk dropped."""
    text = _BY.sub("", squash(text))
    text = re.split(
        r"\s+[|·•]\s+|\s+-\s+(?=\w+\s+\d)|,?\s+(?:updated|published|posted)\b", text, maxsplit=1, flags=re.IGNORECASE
    )[0]
    names = []
    for part in re.split(r"\s*(?:,|;|\band\b|\bund\b|\by\b|\bet\b|&)\s*", text):
        part = squash(part).strip(" .")
        if (
            part
            and len(part) <= 80
            and not part.lower().startswith(("http", "www."))
            and "@" not in part
            and len(part.split()) <= 6
            and not any(c.isdigit() for c in part)
        ):
            names.append(part)
    return names


def _add_tags(out: list[str], values: Iterable[str]) -> None:
    seen = {t.casefold() for t in out}
    for value in values:
        for tag in re.split(r"\s*[,;]\s*", value) if ("," in value or ";" in value) else [value]:
            tag = squash(tag)
            if (
                tag
                and len(tag) <= MAX_TAG_CHARS
                and tag.casefold() not in seen
                and len(out) < MAX_TAGS
                and not tag.lower().startswith(("http://", "https://"))
            ):
                seen.add(tag.casefold())
                out.append(tag)


def _meta(doc: lxml.html.HtmlElement, *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        for value in doc.xpath(f'//meta[@property="{name}" or @name="{name}" or @itemprop="{name}"]/@content'):
            value = squash(str(value))
            if value:
                found.append(value)
    return found


def page_meta(doc: lxml.html.HtmlElement, page_html: str, url: str | None) -> PageMeta:
    """Read a parsed page's metadata (see the module docstring)."""
    base = url
    authors: list[Author] = []
    tags: list[str] = []
    image: str | None = None
    summary = ""
    published = modified = None
    headline = ""
    body = ""
    objects = list(_jsonld_objects(doc))
    nodes = {str(o["@id"]): o for o in objects if isinstance(o.get("@id"), str) and "name" in o}
    for obj in objects:
        if not _types(obj) & _ARTICLE_TYPES:
            continue
        if "webpage" in _types(obj) and not obj.get("author"):
            continue
        authors += _author_of(obj.get("author") or obj.get("creator"), base, nodes)
        _add_tags(tags, _strings(obj.get("articleSection")))
        _add_tags(tags, _strings(obj.get("keywords")))
        image = image or _image_url(obj.get("image") or obj.get("thumbnailUrl"), base)
        summary = summary or squash(str(obj.get("description") or ""))
        published = published or parse_date(obj.get("datePublished"))
        modified = modified or parse_date(obj.get("dateModified"))
        headline = headline or squash(str(obj.get("headline") or obj.get("name") or ""))
        if not body and isinstance(obj.get("articleBody"), str):
            body = squash(obj["articleBody"][:MAX_DECLARED_BODY])

    for value in _meta(
        doc, "author", "article:author", "dc.creator", "DC.creator", "parsely-author", "sailthru.author"
    ):
        if not value.lower().startswith(("http://", "https://")):
            authors += [Author(n) for n in split_names(value)]
    for a in doc.xpath('//a[contains(concat(" ", normalize-space(@rel), " "), " author ")]'):
        for name in split_names(a.text_content()):
            authors.append(Author(name, safe_url(a.get("href"), base, http_only=True)))
    _add_tags(tags, _meta(doc, "article:section"))
    _add_tags(tags, _meta(doc, "article:tag"))
    _add_tags(tags, _meta(doc, "news_keywords", "keywords"))
    image = (
        next(
            (
                u
                for u in (
                    safe_url(v, base, http_only=True)
                    for v in _meta(
                        doc, "og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"
                    )
                )
                if u
            ),
            None,
        )
        or image
    )
    summary = next(iter(_meta(doc, "og:description", "description", "twitter:description")), "") or summary
    published = (
        next(
            (
                d
                for d in map(
                    parse_date,
                    _meta(
                        doc,
                        "article:published_time",
                        "datePublished",
                        "date",
                        "dc.date",
                        "DC.date.issued",
                        "pubdate",
                        "publishdate",
                        "sailthru.date",
                    ),
                )
                if d
            ),
            None,
        )
        or published
    )
    modified = (
        next(
            (
                d
                for d in map(
                    parse_date, _meta(doc, "article:modified_time", "dateModified", "og:updated_time", "last-modified")
                )
                if d
            ),
            None,
        )
        or modified
    )
    headline = next(iter(_meta(doc, "og:title", "twitter:title")), "") or headline
    site_name = next(iter(_meta(doc, "og:site_name", "application-name")), "")
    canonical = next(
        (safe_url(str(h), base, http_only=True) for h in doc.xpath('//link[@rel="canonical"]/@href')), None
    )

    if not authors:
        for el in doc.xpath(
            '//*[contains(concat(" ", normalize-space(@class), " "), " byline ") or @itemprop="author" '
            'or contains(@class, "author-name") or contains(@class, "byline__name")]'
        ):
            names = split_names(el.text_content())
            if names:
                authors += [Author(n) for n in names]
                break

    traf = _trafilatura_meta(page_html, url)
    if not authors and traf.get("author"):
        authors = [Author(n) for n in split_names(traf["author"].replace(";", ","))]
    if not tags:
        _add_tags(tags, traf.get("categories") or [])
        _add_tags(tags, traf.get("tags") or [])
    if not image and traf.get("image"):
        image = safe_url(traf["image"], base, http_only=True)
    site_name = site_name or (traf.get("sitename") or "")
    if published is None and traf.get("date"):
        published = parse_date(traf["date"])

    unique: dict[str, Author] = {}
    for author in authors:
        key = author.name.casefold()
        if key not in unique or (unique[key].url is None and author.url):
            unique[key] = author
    return PageMeta(
        authors=tuple(list(unique.values())[:MAX_AUTHORS]),
        tags=tuple(tags),
        image=Image(src=image) if image else None,
        summary=summary[:1000],
        published=published,
        modified=modified,
        canonical=canonical,
        site_name=squash(site_name),
        headline=headline,
        body=body,
    )


def _trafilatura_meta(page_html: str, url: str | None) -> dict[str, Any]:
    try:
        from trafilatura.metadata import extract_metadata

        # extensive=False: htmldate's fast mode; the extensive one loads dateparser's
        # locales (seconds per process) for a date our own reading usually has already.
        found = extract_metadata(page_html, default_url=url, extensive=False)
    except Exception as exc:  # noqa: BLE001 - metadata is a bonus; the article still reads
        logger.debug("trafilatura metadata failed: %s", exc)
        return {}
    return found.as_dict() if found is not None else {}
