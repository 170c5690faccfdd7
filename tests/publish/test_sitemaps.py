"""Sitemaps (issue 23, part 3): per language an index and files of at most 500 URLs (50,000 allowed),
every page with its other languages and the original as hreflang alternates, lastmod
from the entry's updated, a news sitemap of the last two days; valid against the
sitemaps.org schemas; a new article rewrites the last file, the news sitemap and the
index only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from syndicate.config import load_settings
from syndicate.publish import sitemaps
from tests.conftest import write_config
from tests.fakes import once_with

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "schema"
NS = {"s": sitemaps.SITEMAP_NS, "x": sitemaps.XHTML_NS, "n": sitemaps.NEWS_NS}


@pytest.fixture(scope="module")
def index_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "siteindex.xsd")))


@pytest.fixture(scope="module")
def urlset_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "sitemap-extensions.xsd")))


def project(tmp_path: Path) -> Path:
    extra = (
        '\n[[sources]]\nname = "wire"\ntype = "folder"\npath = "wire"\nbase_url = "https://wire.example.com/stories/"\n'
    )
    (tmp_path / "wire").mkdir()
    return write_config(tmp_path, languages=("es", "ca"), extra=extra)


def add_story(tmp_path: Path, n: int) -> None:
    (tmp_path / "wire" / f"story-{n}.txt").write_text(
        f"Harbour cranes number {n} arrive\n\nThe port received crane number {n} on Tuesday morning.\n",
        encoding="utf-8",
    )


def urls(folder: Path) -> list[etree._Element]:
    index = etree.parse(str(folder / "sitemap.xml"))
    out: list[etree._Element] = []
    for loc in index.xpath("s:sitemap/s:loc/text()", namespaces=NS):
        name = loc.rsplit("/", 1)[1]
        if name != sitemaps.NEWS_NAME:
            out += etree.parse(str(folder / name)).xpath("s:url", namespaces=NS)
    return out


def locs(folder: Path, name: str | None = None) -> list[str]:
    """The pages the index's sitemap files list, or file ``name``'s."""
    entries = urls(folder) if name is None else etree.parse(str(folder / name)).xpath("s:url", namespaces=NS)
    return [str(url.findtext("s:loc", namespaces=NS)) for url in entries]


def test_every_page_is_listed_once_with_its_languages_and_the_original(
    tmp_path: Path,
    index_schema: etree.XMLSchema,
    urlset_schema: etree.XMLSchema,
) -> None:
    config = project(tmp_path)
    for n in range(3):
        add_story(tmp_path, n)
    once_with(config)
    settings = load_settings(config)
    for language, other in (("es", "ca"), ("ca", "es")):
        folder = settings.translations_dir / language
        index = etree.parse(str(folder / "sitemap.xml"))
        index_schema.assertValid(index)
        for loc in index.xpath("s:sitemap/s:loc/text()", namespaces=NS):
            assert loc.startswith(f"https://news.example.org/translations/{language}/sitemap")
            urlset_schema.assertValid(etree.parse(str(folder / loc.rsplit("/", 1)[1])))
        listed = urls(folder)
        pages = sorted(p.name for p in folder.glob("*.html") if p.name != "index.html")
        locs = [u.findtext("s:loc", namespaces=NS) for u in listed]
        assert sorted(loc.rsplit("/", 1)[1] for loc in locs) == pages  # every page, once
        for url in listed:
            loc = url.findtext("s:loc", namespaces=NS)
            links = {link.get("hreflang"): link.get("href") for link in url.xpath("x:link", namespaces=NS)}
            assert links[language] == loc and links[other] == loc.replace(f"/{language}/", f"/{other}/")
            if "harbour-cranes" in loc:  # the wire's stories are on the web: the original is an alternate
                assert links["en"].startswith("https://wire.example.com/stories/story-")
            else:  # the sample's: an original where the article names one
                assert set(links) <= {language, other, "en"}
                assert "/translations/" not in links.get("en", "")
        # lastmod is the entry's updated, as the Atom feed says it.
        feed = feedparser.parse((settings.feeds_dir / language / "atom.xml").read_bytes())
        updated = {
            next(link.href for link in e.links if link.get("hreflang") == language): datetime.fromisoformat(e.updated)
            for e in feed.entries
        }
        lastmod = {
            u.findtext("s:loc", namespaces=NS): datetime.fromisoformat(u.findtext("s:lastmod", namespaces=NS))
            for u in listed
        }
        assert updated and all(lastmod[link] == when for link, when in updated.items())
        news = etree.parse(str(folder / sitemaps.NEWS_NAME))
        urlset_schema.assertValid(news)
        assert news.xpath("//n:publication/n:language/text()", namespaces=NS)[0] == language
        assert news.xpath("//n:publication/n:name/text()", namespaces=NS)[0] == "Test News"


def test_files_hold_at_most_the_limit_and_a_new_article_rewrites_only_the_last(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    index_schema: etree.XMLSchema,
    urlset_schema: etree.XMLSchema,
) -> None:
    monkeypatch.setattr(sitemaps, "PART_URLS", 4)
    config = project(tmp_path)
    for n in range(3):
        add_story(tmp_path, n)
    once_with(config)  # the sample's 7 and 3 stories: 10 entries, files of 4, 4 and 2
    folder = load_settings(config).translations_dir / "es"
    names = sorted(p.name for p in folder.glob("sitemap-[0-9]*.xml"))
    assert names == ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml"]
    sizes = [len(etree.parse(str(folder / n)).xpath("s:url", namespaces=NS)) for n in names]
    assert sizes == [4, 4, 2]
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.glob("sitemap*.xml")}
    add_story(tmp_path, 3)
    once_with(config)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.glob("sitemap*.xml")}
    # (The index names the same files with the same lastmod: this test's clock stands still.)
    assert sorted(name for name in after if after[name] != before.get(name)) == ["sitemap-3.xml", "sitemap-news.xml"]
    index_schema.assertValid(etree.parse(str(folder / "sitemap.xml")))
    assert (
        len(urls(folder)) == 11 and len(etree.parse(str(folder / "sitemap-3.xml")).xpath("s:url", namespaces=NS)) == 3
    )

    # The language shrinks (the wire's stories filtered out): each file keeps the entries
    # it had that are still published (a file is where an entry was first published, not
    # a place in the order that a removal would shift), and a file left empty goes.
    members = {name: set(locs(folder, name)) for name in after if name.startswith("sitemap-") and name[8].isdigit()}
    text = config.read_text(encoding="utf-8").replace(
        'base_url = "https://wire.example.com/stories/"',
        'base_url = "https://wire.example.com/stories/"\nexclude = ["harbour cranes"]',
    )
    config.write_text(text, encoding="utf-8")
    once_with(config)
    remaining = set(locs(folder))
    assert len(remaining) == 7
    expected = {name: kept & remaining for name, kept in members.items() if kept & remaining}
    assert {p.name: set(locs(folder, p.name)) for p in folder.glob("sitemap-[0-9]*.xml")} == expected
    index = etree.parse(str(folder / "sitemap.xml"))
    index_schema.assertValid(index)
    listed = {loc.rsplit("/", 1)[1] for loc in index.xpath("//s:sitemap/s:loc/text()", namespaces=NS)}
    assert listed == {*expected, sitemaps.NEWS_NAME}


def test_the_news_window_counts_from_the_newest_entry() -> None:
    from datetime import UTC, timedelta

    from syndicate.models import Lang
    from syndicate.publish.edition import Edition, ListedEntry

    def entry(n: int, days: float) -> ListedEntry:
        when = datetime(2026, 12, 6, tzinfo=UTC) - timedelta(days=days)
        return ListedEntry(
            n, f"s{n}", f"t{n}", f"https://x.example/es/s{n}.html", when, when, None, None, (), "d", when.isoformat()
        )

    edition = Edition(
        Lang("es"),
        "T",
        "https://x.example/feeds/es/",
        "https://x.example/es/",
        listing=(entry(1, 0), entry(2, 1.5), entry(3, 2.0), entry(4, 2.01), entry(5, 30)),
    )
    assert [e.article_id for e in sitemaps.news_entries(edition)] == [1, 2, 3]
    assert sitemaps.news_language("zh-Hant-TW") == "zh-tw" and sitemaps.news_language("pt-BR") == "pt"


def test_files_are_small_so_a_new_article_rewrites_little() -> None:
    """An entry lists every language (about 1.2 KB in 20): files of the protocol's 50,000
    would mean some 60 MB a language rewritten for each new article at that history."""

    from types import SimpleNamespace

    class Listing:  # newest first, as an edition lists them
        listing = tuple(SimpleNamespace(article_id=n) for n in range(1201, 0, -1))

    seqs = {n: n for n in range(1, 1202)}  # first published in id order
    groups = sitemaps.parts(Listing(), seqs)  # type: ignore[arg-type]
    assert [len(g) for _, g in groups] == [sitemaps.PART_URLS, sitemaps.PART_URLS, 201] == [500, 500, 201]
    assert [n for n, _ in groups] == [1, 2, 3]
    # Oldest first: a new one joins the last.
    assert groups[0][1][0].article_id == 1 and groups[-1][1][-1].article_id == 1201
    whole = sitemaps.parts(Listing(), seqs, limit=10**6)  # type: ignore[arg-type]
    assert [len(g) for _, g in whole] == [1201] and len(whole[0][1]) <= sitemaps.MAX_URLS  # never above the limit
    # File numbers, names and the sequence numbers each holds agree.
    assert [sitemaps.part_seqs(n) for n in (1, 2, 3)] == [(1, 500), (501, 1000), (1001, 1500)]
    assert all(sitemaps.part_of(seq) == n for n in (1, 2, 3) for seq in sitemaps.part_seqs(n))
    assert [sitemaps.part_number(sitemaps.part_name(n)) for n in (1, 12)] == [1, 12]
    assert [sitemaps.part_number(name) for name in (sitemaps.NEWS_NAME, sitemaps.INDEX_NAME, "sitemap-x.xml")] == [
        None,
        None,
        None,
    ]
    # An entry published late into an old file's range (a backfill) joins that file.
    seqs[1201], seqs[1] = 1, 1201
    late = dict(sitemaps.parts(Listing(), seqs))  # type: ignore[arg-type]
    assert late[1][0].article_id == 1201 and late[3][-1].article_id == 1


def _listed(n: int, title: str, siblings: tuple[tuple[str, str], ...] = ()) -> object:
    from datetime import UTC

    from syndicate.models import Lang
    from syndicate.publish.edition import ListedEntry

    when = datetime(2026, 12, 6, 9, n, tzinfo=UTC)
    return ListedEntry(
        n,
        f"s{n}",
        title,
        f"https://x.example/es/s{n}.html?from=feed&n=<{n}>",
        when,
        when,
        None,
        None,
        tuple((Lang(code), url) for code, url in siblings),
        "d",
        when.isoformat(),
    )


AWKWARD = [
    "Plain title",
    "Fish & chips <cheap> \"now\" 'again'",
    "Ünïcödé — 中文 \r second line",
    "tab\tand\nnewline",
]


def test_sitemaps_are_written_as_lxml_would_write_them_whatever_the_text(urlset_schema: etree.XMLSchema) -> None:
    # The documents are written as text (a daemon keeps each entry's <url>): parsed and
    # written again by lxml they must come out byte for byte, escapes included.
    from syndicate.models import Lang

    entries = [_listed(n, t, (("ca", f'https://x.example/ca/s{n}.html?q="{n}"\t'),)) for n, t in enumerate(AWKWARD)]
    originals = {0: sitemaps.Original("https://orig.example/a?x=1&y=2", "en"), 1: sitemaps.Original(None, "en")}
    for data in (
        sitemaps.urlset_bytes(Lang("es"), entries, originals),  # type: ignore[arg-type]
        sitemaps.news_bytes(Lang("es"), "Harbour & Hill News", entries),  # type: ignore[arg-type]
        sitemaps.urlset_bytes(Lang("es"), [], {}),
    ):
        root = etree.fromstring(data)
        assert etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8", pretty_print=True) == data
        if len(root):  # (the protocol wants a url at least: an empty file is never written)
            urlset_schema.assertValid(root)
    news = etree.fromstring(sitemaps.news_bytes(Lang("es"), "Harbour & Hill News", entries))  # type: ignore[arg-type]
    assert news.xpath("//n:title/text()", namespaces=NS)[:2] == AWKWARD[:2]
    assert news.xpath("//n:name/text()", namespaces=NS)[0] == "Harbour & Hill News"


def test_a_control_character_in_a_title_is_left_out_not_a_failed_publish() -> None:
    from syndicate.models import Lang

    data = sitemaps.news_bytes(Lang("es"), "News", [_listed(1, "Bell\x07 rings\x00 twice")])  # type: ignore[list-item]
    assert etree.fromstring(data).xpath("//n:title/text()", namespaces=NS) == ["Bell rings twice"]


def test_a_daemon_writes_each_url_once_and_the_same_bytes_after() -> None:
    from syndicate.models import Lang

    entries = [_listed(n, f"Story {n}", (("ca", f"https://x.example/ca/s{n}.html"),)) for n in range(5)]
    cold = sitemaps.urlset_bytes(Lang("es"), entries, {}), sitemaps.news_bytes(Lang("es"), "N", entries)  # type: ignore[arg-type]
    sitemaps.URLS.resize(sitemaps.DAEMON_URL_BYTES)
    try:
        first = sitemaps.urlset_bytes(Lang("es"), entries, {}), sitemaps.news_bytes(Lang("es"), "N", entries)  # type: ignore[arg-type]
        hits = sitemaps.URLS.hits
        moved = [
            *entries[:4],
            entries[4]._replace(title="Story 4, updated", updated=entries[4].updated.replace(hour=11)),
        ]  # type: ignore[attr-defined]
        again = sitemaps.urlset_bytes(Lang("es"), moved, {}), sitemaps.news_bytes(Lang("es"), "N", moved)  # type: ignore[arg-type]
        assert sitemaps.URLS.hits == hits + 8  # four unchanged entries in both documents
        assert first == cold
        assert again[0].count(b"2026-12-06T11:04:00") == 1 and b"Story 4, updated" in again[1]
        assert again[0].replace(b"2026-12-06T11:04:00", b"2026-12-06T09:04:00") == cold[0]
    finally:
        sitemaps.URLS.resize(0)
        sitemaps.URLS.clear()
