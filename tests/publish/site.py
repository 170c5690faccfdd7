"""A published site read back, and the checks every language's feeds must pass.

Used by tests/publish/test_feeds.py (fake translations) and tests/test_feeds_sample.py
(the bundled sample with real Apertium translations).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
from lxml import etree

from syndicate.publish.formats import FORMATS
from syndicate.store import Store
from tests.conftest import SAMPLE_CHAIN
from tests.publish import feedcheck
from tests.publish.helpers import BASE_URL, url_path

NS = {"a": feedcheck.ATOM}
DC = "{http://purl.org/dc/elements/1.1/}"
FH = "{http://purl.org/syndication/history/1.0}"

CHAIN = SAMPLE_CHAIN


def prev_archive(data: bytes, fmt: str) -> str | None:
    """The prev-archive URL of a document (JSON: next_url), or None."""
    if fmt == "json":
        value = json.loads(data).get("next_url")
        return str(value) if value else None
    hrefs = etree.fromstring(data).xpath("//a:link[@rel='prev-archive']/@href", namespaces=NS)
    assert len(hrefs) <= 1
    return str(hrefs[0]) if hrefs else None


class Site:
    """What a run published under ``root`` for ``languages``."""

    def __init__(self, root: Path, languages: tuple[str, ...]) -> None:
        self.root = root
        self.languages = languages
        self.feeds = root / "feeds"
        store = Store.open(root / "state")
        try:
            self.articles = {sa.article.title: sa for sa in store.articles.all()}
            #: {language: {original title: translated title}}, as the store holds them.
            self.titles = {
                language: {
                    sa.article.title: store.translations.for_language(language)[sa.id].title  # type: ignore[arg-type]
                    for sa in self.articles.values()
                }
                for language in languages
            }
        finally:
            store.close()

    def documents(self, language: str) -> list[Path]:
        """Every feed document of a language: subscription and archive pages."""
        return sorted(p for p in (self.feeds / language).rglob("*") if p.is_file())

    def chain_docs(self, language: str, fmt: str) -> list[Path]:
        """The subscription document, then each archive page following prev-archive."""
        path = self.feeds / language / FORMATS[fmt].file
        out = [path]
        while (older := prev_archive(path.read_bytes(), fmt)) is not None:
            path = url_path(self.root, older)
            assert path not in out, f"prev-archive loop at {path}"
            out.append(path)
        return out

    def atom_entries(self, language: str) -> list[Any]:
        """Every Atom entry of a language, newest first, across the archive chain."""
        docs = self.chain_docs(language, "atom")
        return [e for p in docs for e in etree.parse(str(p)).getroot().findall("a:entry", NS)]

    def rss_items(self, language: str) -> list[Any]:
        return [i for p in self.chain_docs(language, "rss") for i in etree.parse(str(p)).getroot().iter("item")]

    def json_items(self, language: str) -> list[dict[str, Any]]:
        return [i for p in self.chain_docs(language, "json") for i in json.loads(p.read_bytes())["items"]]

    def page(self, language: str, title: str) -> str:
        return f"{BASE_URL}translations/{language}/{self.articles[title].slug}.html"

    def expected_links(self, language: str, index: int) -> set[tuple[str, str, str]]:
        """(rel, hreflang, href) the entry at chain position ``index`` must carry."""
        title = CHAIN[index]
        original = self.articles[title].article.url  # the HTML samples have one; text files none
        links = {("alternate", other, self.page(other, title)) for other in self.languages}
        if original:
            links.add(("via", "en", original))
            if "en" not in self.languages:  # else our "en" page is the English alternate
                links.add(("alternate", "en", original))
        if index + 1 < len(CHAIN):
            links.add(("previous", language, self.page(language, CHAIN[index + 1])))
        if index > 0:
            links.add(("next", language, self.page(language, CHAIN[index - 1])))
        return links


def check_documents_valid(site: Site, language: str) -> int:
    """Every document of a language passes its validator and feedparser; returns the count."""
    docs = site.documents(language)
    assert {p.name for p in docs} >= {"atom.xml", "rss.xml", "feed.json"}
    for path in docs:
        assert feedcheck.feed_problems(path) == [], path
        if path.suffix != ".json":  # feedparser 6 reads RSS and Atom only
            parsed = feedparser.parse(path.read_bytes())
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
            assert parsed.feed.get("language", language) == language
    return len(docs)


def check_chain_order(site: Site, language: str) -> None:
    """Entries follow the chain, newest first, across the archive pages, in every format."""
    expected = [site.page(language, title) for title in CHAIN]
    atom = [e.xpath("a:link[@rel='alternate']/@href", namespaces=NS)[0] for e in site.atom_entries(language)]
    assert atom == expected
    assert [item.findtext("link") for item in site.rss_items(language)] == expected
    assert [item["url"] for item in site.json_items(language)] == expected


def check_entry_links(site: Site, language: str) -> None:
    """Alternates with hreflang, via, previous/next: the same in Atom, RSS and JSON."""
    rss_items = site.rss_items(language)
    json_items = site.json_items(language)
    for index, entry in enumerate(site.atom_entries(language)):
        expected = site.expected_links(language, index)
        original = site.articles[CHAIN[index]].article.url
        atom = {(link.get("rel"), link.get("hreflang"), link.get("href")) for link in entry.findall("a:link", NS)}
        assert atom == expected, CHAIN[index]
        for rel, _, href in atom:
            if href != original:
                assert url_path(site.root, href).is_file(), (rel, href)  # our pages exist
        item_links = rss_items[index].iterfind("a:link", NS)
        rss = {(link.get("rel"), link.get("hreflang"), link.get("href")) for link in item_links}
        assert rss == expected, CHAIN[index]
        assert rss_items[index].findtext("link") == site.page(language, CHAIN[index])
        assert rss_items[index].findtext(f"{DC}source") == original
        links = {(link["rel"], link.get("hreflang"), link["href"]) for link in json_items[index]["_syndicate"]["links"]}
        assert links == expected, CHAIN[index]
        assert json_items[index].get("external_url") == original


def check_pages_and_indexes(site: Site) -> None:
    """feeds/index.html, feeds/opml.xml, language indexes and translated pages link it all."""
    index = lxml.html.parse(str(site.feeds / "index.html")).getroot()
    advertised = {
        (link.get("hreflang"), link.get("type"), link.get("href")) for link in index.xpath('//link[@rel="alternate"]')
    }
    assert advertised == {
        (language, media_type, f"{BASE_URL}feeds/{language}/{name}")
        for language in site.languages
        for name, media_type in ((f.file, f.media_type) for f in FORMATS.values())
    }
    assert all(url_path(site.root, href).is_file() for _, _, href in advertised)
    assert index.xpath('//link[@rel="outline"]/@href') == [f"{BASE_URL}feeds/opml.xml"]

    opml = etree.parse(str(site.feeds / "opml.xml")).getroot()
    assert opml.tag == "opml" and opml.get("version") == "2.0" and opml.findtext("head/title")
    outlines = opml.findall("body/outline")
    assert [o.get("language") for o in outlines] == list(site.languages)
    for outline in outlines:
        assert outline.get("type") == "rss" and outline.get("text")
        assert feedcheck.feed_problems(url_path(site.root, outline.get("xmlUrl"))) == []
        assert url_path(site.root, outline.get("htmlUrl") + "index.html").is_file()

    for language in site.languages:
        for position, title in enumerate(CHAIN):
            page = lxml.html.parse(str(url_path(site.root, site.page(language, title)))).getroot()
            assert page.get("lang") == language
            feeds = {(link.get("type"), link.get("href")) for link in page.xpath('//link[@rel="alternate"][@type]')}
            assert feeds == {
                (t, f"{BASE_URL}feeds/{language}/{n}") for n, t in ((f.file, f.media_type) for f in FORMATS.values())
            }
            hreflang = {
                link.get("hreflang"): link.get("href") for link in page.xpath('//link[@rel="alternate"][not(@type)]')
            }
            for other in site.languages:
                assert hreflang[other] == site.page(other, title)
            older = [site.page(language, CHAIN[position + 1])] if position + 1 < len(CHAIN) else []
            assert page.xpath('//link[@rel="prev"]/@href') == older
        assert index_listing(site, language) == [site.page(language, t) for t in CHAIN]


def index_listing(site: Site, language: str) -> list[str]:
    """Every entry a language's page index links, walking from its front page to the
    oldest archive page by ``rel="prev"`` (each page's ``rel="next"`` leads back)."""
    url = f"{BASE_URL}translations/{language}/"
    found: list[str] = []
    newer = None
    seen = set()
    while url:
        assert url not in seen, f"the page index of {language} loops at {url}"
        seen.add(url)
        path = url_path(site.root, url + ("index.html" if url.endswith("/") else ""))
        page = lxml.html.parse(str(path)).getroot()
        assert page.xpath('//link[@rel="canonical"]/@href') == [url]
        assert page.xpath('//link[@rel="next"]/@href') == ([newer] if newer else [])
        found += page.xpath('//ol[@class="articles"]/li/a/@href')
        older = page.xpath('//link[@rel="prev"]/@href')
        newer, url = url, (older[0] if older else None)
    return found


def check_archive_links(site: Site, language: str) -> None:
    """RFC 5005: each archive page links current, its neighbours, and says fh:archive."""
    for fmt in ("atom", "rss"):
        docs = site.chain_docs(language, fmt)
        assert FH.encode()[1:-1] not in docs[0].read_bytes()  # the subscription is no archive
        for newer, path in itertools.pairwise(docs):
            root = etree.parse(str(path)).getroot()
            links = {link.get("rel"): link.get("href") for link in root.iter(f"{{{feedcheck.ATOM}}}link")}
            assert url_path(site.root, links["current"]) == docs[0]
            if newer is not docs[0]:
                assert url_path(site.root, links["next-archive"]) == newer
            assert root.find(f".//{FH}archive") is not None
