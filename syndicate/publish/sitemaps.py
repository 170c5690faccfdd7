"""Sitemaps: how search engines find every translated page and its other languages.

Per language, in its pages folder (``translations/<lang>/``):

- ``sitemap.xml``, a sitemap index (sitemaps.org 0.9) naming the files below;
- ``sitemap-1.xml``, ``sitemap-2.xml`` ...: every page of the language, oldest first, at
  most :data:`PART_URLS` a file (the protocol allows 50,000), each ``<url>`` with its
  ``lastmod`` (the entry's ``updated``) and an ``xhtml:link rel="alternate" hreflang``
  to itself, to each other language's version and to the original (the convention
  search engines read for multilingual sites);
- ``sitemap-news.xml``, a Google News sitemap of the entries published in the two days
  up to the language's newest one (at most 1,000), when there are any.

Oldest first, by the order each entry was first published in (the feed history's
sequence), so a new article changes the last file only (and the index): the earlier
files are rewritten only when an entry in them changes. Small files, so what a new
article rewrites stays small however long the history: an entry carries an alternate per
language (about 1.2 KB in 20 languages), and a file of the protocol's 50,000 would be
rewritten whole, some 60 MB a language, for every new article. The news window is
counted from the newest entry, not the clock, so the same store always gives the same
bytes (a publish from scratch writes what an incremental one did).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from lxml import etree

from syndicate.models import Lang
from syndicate.publish.edition import Edition, ListedEntry
from syndicate.publish.kept import RenderCache

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
#: URLs a sitemap file may hold (the protocol's limit).
MAX_URLS = 50_000
#: URLs per sitemap file here: what a new article rewrites in each language.
PART_URLS = 500
#: The news sitemap: entries published this long before the newest one, at most this many.
NEWS_WINDOW = timedelta(days=2)
NEWS_MAX = 1_000
#: File names in a language's pages folder.
INDEX_NAME = "sitemap.xml"
NEWS_NAME = "sitemap-news.xml"
#: Each entry's ``<url>`` as this process wrote it, by what it is made of (a daemon
#: rewrites the last sitemap file and the news sitemap on every publish, and all their
#: entries but the new one are as they were). Off unless a daemon turns it on.
URLS = RenderCache()
#: A daemon's budget: a few thousand entries in 20 languages (about 1.2 KB each there).
DAEMON_URL_BYTES = 32 * 1024 * 1024


def part_name(number: int) -> str:
    return f"sitemap-{number}.xml"


@dataclass(frozen=True)
class Original:
    """Where an entry's original is, and in which language (None: not on the web)."""

    url: str | None
    language: str


def part_number(name: str) -> int | None:
    """The number of the sitemap file named ``name`` (:func:`part_name`); None for another file."""
    number = name.removeprefix("sitemap-").removesuffix(".xml")
    return int(number) if name.startswith("sitemap-") and name.endswith(".xml") and number.isdigit() else None


def part_of(seq: int, limit: int | None = None) -> int:
    """The sitemap file of the entry first published ``seq``-th in its language."""
    return (seq - 1) // min(limit or PART_URLS, MAX_URLS) + 1


def part_seqs(number: int, limit: int | None = None) -> tuple[int, int]:
    """The first and last sequence numbers sitemap file ``number`` holds (:func:`part_of`)."""
    size = min(limit or PART_URLS, MAX_URLS)
    return (number - 1) * size + 1, number * size


def parts(
    edition: Edition, seqs: Mapping[int, int], limit: int | None = None, only: Collection[int] | None = None
) -> list[tuple[int, tuple[ListedEntry, ...]]]:
    """The language's entries in files of at most ``limit`` (:data:`PART_URLS`), by the
    order each was first published in (``seqs``, the feed history's), oldest first:
    (file number, entries), of the files ``only`` if given (a listing of part of the
    edition: entries without a sequence number are not in those files). A file keeps its
    entries whatever is published after them, so a new article changes the last file
    only; one left out (held back) leaves a gap."""
    grouped: dict[int, list[tuple[int, ListedEntry]]] = {}
    for entry in edition.listing:
        seq = seqs.get(entry.article_id)
        if seq is None:
            continue
        number = part_of(seq, limit)
        if only is None or number in only:
            grouped.setdefault(number, []).append((seq, entry))
    return [(number, tuple(entry for _, entry in sorted(grouped[number]))) for number in sorted(grouped)]


def news_entries(edition: Edition) -> tuple[ListedEntry, ...]:
    """The entries of the news sitemap, newest first: published in the two days up to the
    newest entry's publication, at most :data:`NEWS_MAX`."""
    if not edition.listing:
        return ()
    newest = max(entry.published for entry in edition.listing)
    since = newest - NEWS_WINDOW
    return tuple(entry for entry in edition.listing if entry.published >= since)[:NEWS_MAX]


def w3c(value: datetime) -> str:
    """A W3C datetime, to the second, in UTC ("2026-12-06T17:19:43+00:00")."""
    return value.replace(microsecond=0).isoformat()


def urlset_bytes(language: Lang, entries: Sequence[ListedEntry], originals: Mapping[int, Original]) -> bytes:
    """One sitemap file: each entry's page with its alternates."""
    urls = []
    for entry in entries:
        original = originals.get(entry.article_id)
        key = ("url", language, entry.page_url, entry.updated, entry.siblings, original)
        urls.append(URLS.kept(key, partial(_url, language, entry, original), len))
    return _document(f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}"', urls, "urlset")


def _url(language: Lang, entry: ListedEntry, original: Original | None) -> str:
    links = [(language, entry.page_url), *entry.siblings]
    taken = {code for code, _ in links}
    if original is not None and original.url and original.language not in taken:
        links.append((Lang(original.language), original.url))
    return "".join(
        [
            f"  <url>\n    <loc>{_text(entry.page_url)}</loc>\n    <lastmod>{w3c(entry.updated)}</lastmod>\n",
            *(
                f'    <xhtml:link rel="alternate" hreflang="{_attr(code)}" href="{_attr(href)}"/>\n'
                for code, href in links
            ),
            "  </url>\n",
        ]
    )


def index_bytes(files: Sequence[tuple[str, str]]) -> bytes:
    """The sitemap index: each file's URL and when its newest entry changed (:func:`w3c`)."""
    root = etree.Element(f"{{{SITEMAP_NS}}}sitemapindex", nsmap={None: SITEMAP_NS})
    for loc, lastmod in files:
        item = etree.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
        etree.SubElement(item, f"{{{SITEMAP_NS}}}loc").text = loc
        etree.SubElement(item, f"{{{SITEMAP_NS}}}lastmod").text = lastmod
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def news_bytes(language: Lang, publication: str, entries: Sequence[ListedEntry]) -> bytes:
    """The Google News sitemap of ``entries`` (publication name, language, date, title)."""
    urls = []
    for entry in entries:
        key = ("news", language, publication, entry.page_url, entry.published, entry.title)
        urls.append(URLS.kept(key, partial(_news_url, language, publication, entry), len))
    return _document(f'<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}"', urls, "urlset")


def _news_url(language: Lang, publication: str, entry: ListedEntry) -> str:
    return (
        f"  <url>\n    <loc>{_text(entry.page_url)}</loc>\n    <news:news>\n      <news:publication>\n"
        f"        <news:name>{_text(publication)}</news:name>\n"
        f"        <news:language>{_text(news_language(language))}</news:language>\n"
        f"      </news:publication>\n"
        f"      <news:publication_date>{w3c(entry.published)}</news:publication_date>\n"
        f"      <news:title>{_text(entry.title)}</news:title>\n    </news:news>\n  </url>\n"
    )


#: Characters XML 1.0 cannot hold (lxml refuses them): left out of a sitemap's text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPED = re.compile('[&<>"\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')


def _text(value: str) -> str:
    """Element text as lxml writes it: ``&``, ``<``, ``>`` and a carriage return escaped."""
    if not _ESCAPED.search(value):
        return value
    value = _NOT_XML.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attr(value: str) -> str:
    """An attribute value as lxml writes it (in double quotes)."""
    if not _ESCAPED.search(value):
        return value
    return _text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _document(start: str, parts: Sequence[str], name: str) -> bytes:
    """A whole sitemap document: the declaration, the root (``start``: its open tag
    without the ``>``) and ``parts``, indented as lxml's pretty printer indents."""
    head = "<?xml version='1.0' encoding='UTF-8'?>\n"
    if not parts:
        return f"{head}{start}/>\n".encode()
    return "".join([head, start, ">\n", *parts, f"</{name}>\n"]).encode()


def news_language(language: str) -> str:
    """The language as Google News names it: ISO 639 codes, except zh-cn and zh-tw."""
    lowered = language.lower()
    if lowered.startswith("zh"):
        return "zh-tw" if any(mark in lowered for mark in ("-tw", "-hk", "-hant")) else "zh-cn"
    return lowered.split("-", 1)[0]
