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

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from syndicate.models import Lang
from syndicate.publish.edition import Edition, ListedEntry

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
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS, "xhtml": XHTML_NS})
    for entry in entries:
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = entry.page_url
        etree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = w3c(entry.updated)
        links = [(language, entry.page_url), *entry.siblings]
        original = originals.get(entry.article_id)
        taken = {code for code, _ in links}
        if original is not None and original.url and original.language not in taken:
            links.append((Lang(original.language), original.url))
        for code, href in links:
            etree.SubElement(url, f"{{{XHTML_NS}}}link", rel="alternate", hreflang=code, href=href)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


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
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS, "news": NEWS_NS})
    for entry in entries:
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = entry.page_url
        news = etree.SubElement(url, f"{{{NEWS_NS}}}news")
        name = etree.SubElement(news, f"{{{NEWS_NS}}}publication")
        etree.SubElement(name, f"{{{NEWS_NS}}}name").text = publication
        etree.SubElement(name, f"{{{NEWS_NS}}}language").text = news_language(language)
        etree.SubElement(news, f"{{{NEWS_NS}}}publication_date").text = w3c(entry.published)
        etree.SubElement(news, f"{{{NEWS_NS}}}title").text = entry.title
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def news_language(language: str) -> str:
    """The language as Google News names it: ISO 639 codes, except zh-cn and zh-tw."""
    lowered = language.lower()
    if lowered.startswith("zh"):
        return "zh-tw" if any(mark in lowered for mark in ("-tw", "-hk", "-hant")) else "zh-cn"
    return lowered.split("-", 1)[0]
