"""A language's page index is paginated like its feed (issue 23, part 1): the front page
lists the newest entries, each older page an archive page's, every entry is on exactly
one page, a new article rewrites a bounded number of index files whatever the history,
and a full page never changes again (frozen in the store, served immutable)."""

from __future__ import annotations

from pathlib import Path

import lxml.html

from syndicate.serve.files import OutputFolder
from syndicate.store.archive import FeedHistory
from tests.publish.test_incremental import ES, FEED_SIZE, Site, add, filled, site, translate

__all__ = ["site"]  # the fixture, shared with test_incremental


def listed(path: Path) -> list[str]:
    return lxml.html.parse(str(path)).getroot().xpath('//ol[@class="articles"]/li/a/text()')


def index_files(site: Site, language: str = "es") -> dict[str, bytes]:
    folder = site.root / "translations" / language
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in [folder / "index.html", *sorted((folder / "archive").glob("*.html"))]
    }


def test_the_front_page_lists_the_newest_and_every_entry_is_on_one_page(site: Site) -> None:
    filled(site, 10)
    files = index_files(site)
    # 10 entries, feed_size 3: three on the front page, pages 1 and 2 full, page 3 open with one.
    assert sorted(files) == ["archive/1.html", "archive/2.html", "archive/3.html", "index.html"]
    front = site.root / "translations" / "es" / "index.html"
    assert listed(front) == [f"[es] Story number {n}" for n in (9, 8, 7)]
    assert "10 artículos" in front.read_text(encoding="utf-8")  # the count is the language's, not the page's
    everything = [
        title
        for name in ("index.html", "archive/3.html", "archive/2.html", "archive/1.html")
        for title in listed(site.root / "translations" / "es" / name)
    ]
    assert everything == [f"[es] Story number {n}" for n in range(9, -1, -1)]
    page = lxml.html.parse(str(site.root / "translations" / "es" / "archive" / "2.html")).getroot()
    base = "https://news.example.org/translations/es/"
    assert page.xpath('//link[@rel="prev"]/@href') == [f"{base}archive/1.html"]
    assert page.xpath('//link[@rel="next"]/@href') == [f"{base}archive/3.html"]
    assert page.xpath("//title/text()") == ["Inc News (Español) · Página 2"]
    assert page.xpath('//nav[@class="pages"]/a/text()') == ["Artículos más recientes", "Artículos anteriores"]


def index_writes(site: Site, changed: list[Path], language: str = "es") -> dict[str, int]:
    """The page-index files of ``language`` a publish changed, with their sizes."""
    folder = site.root / "translations" / language
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in changed
        if p == folder / "index.html" or p.parent == folder / "archive"
    }


def test_a_new_article_rewrites_the_same_few_index_files_whatever_the_history(site: Site) -> None:
    filled(site, 10)
    add(site.store, 10)
    _, _, writer, _ = site.publish()
    small = index_writes(site, writer.changed)
    for n in range(11, 40):
        add(site.store, n)
    site.publish()
    add(site.store, 40)
    _, _, writer, _ = site.publish()
    large = index_writes(site, writer.changed)
    # The front page and the open archive page (which the entry leaving the front page
    # joined), in a history of 11 as in one of 41; never the full pages.
    assert sorted(small) == ["archive/3.html", "index.html"]
    assert sorted(large) == ["archive/13.html", "index.html"]
    assert sum(large.values()) <= 1.1 * sum(small.values())
    assert index_writes(site, writer.changed, "el").keys() == large.keys()


def test_a_full_page_never_changes_and_comes_back_from_the_store(site: Site) -> None:
    ids = filled(site, 10)
    page = site.root / "translations" / "es" / "archive" / "1.html"
    frozen = page.read_bytes()
    assert FeedHistory(site.store).frozen(ES, 1, ["index"]) == {"index": frozen}
    # Story 1 is on full page 1: its new title reaches its own page, not the frozen index page.
    translate(site.store, ids[1], 1, "es", title="A corrected title", at=5)
    _, counted, writer, _ = site.publish()
    assert "A corrected title" in (site.root / "translations" / "es" / f"{site.slug(ids[1])}.html").read_text(
        encoding="utf-8"
    )
    assert page.read_bytes() == frozen and page not in writer.changed
    # Gone from disk: put back from the store as it was, without rendering it.
    page.unlink()
    _, counted, writer, _ = site.publish()
    assert page.read_bytes() == frozen
    assert counted.others["language_index:es"] == 0 and counted.others["language_index:el"] == 0


def test_full_index_pages_are_served_immutable_and_the_rest_are_not() -> None:
    seen: list[tuple[str, int, str, int]] = []

    def is_full(language: str, number: int, fmt: str, size: int) -> bool:
        seen.append((language, number, fmt, size))
        return number == 1

    folder = OutputFolder(Path("/nonexistent"), feeds=False, is_full=is_full)
    assert folder.kind(["es", "archive", "1.html"], 99).immutable
    assert seen == [("es", 1, "index", 99)]
    assert not folder.kind(["es", "archive", "2.html"], 99).immutable
    assert not folder.kind(["es", "index.html"], 99).immutable
    assert not folder.kind(["es", "archive.html"], 99).immutable  # an article whose slug is "archive"
    assert not folder.kind(["es", "archive", "x.html"], 99).immutable
    assert len(seen) == 2


def test_the_front_page_of_a_short_history_links_no_older_page(site: Site) -> None:
    filled(site, FEED_SIZE)
    front = lxml.html.parse(str(site.root / "translations" / "el" / "index.html")).getroot()
    assert front.xpath('//link[@rel="prev"]') == [] and front.xpath('//nav[@class="pages"]') == []
    assert len(front.xpath('//ol[@class="articles"]/li')) == FEED_SIZE
    assert not (site.root / "translations" / "el" / "archive").exists()
