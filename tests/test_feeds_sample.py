"""Every language of the bundled sample, translated for real (Apertium), published right.

The bundled config.toml's languages over examples/articles, feed_size 3 so that every
language has archive pages: each document is validated (RFC 4287 schema and rules, RSS,
JSON Feed, feedparser), entries follow the chain and carry their links, the indexes and
pages link everything, and a real reader (sfeed) lists the translated titles.
"""

from __future__ import annotations

import tomllib

import pytest
from lxml import etree

from tests.conftest import ROOT, Clock
from tests.publish.helpers import run, sfeed_listing, sfeed_plain_title, sfeed_tools, write_feed_config
from tests.publish.site import (
    CHAIN,
    NS,
    Site,
    check_archive_links,
    check_chain_order,
    check_documents_valid,
    check_entry_links,
    check_pages_and_indexes,
)

pytestmark = pytest.mark.apertium

BUNDLED = tuple(tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))["translate"]["languages"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("sample")
    config = write_feed_config(root, languages=BUNDLED, feed_size=3)
    _, report = run(config, Clock())  # the configured engines: Apertium serves every pair
    assert report.ok, (report.failures, report.unserved_languages)
    return Site(root, BUNDLED)


def test_the_bundled_sample_has_several_languages() -> None:
    assert len(BUNDLED) >= 2 and "en" not in BUNDLED


@pytest.mark.parametrize("language", BUNDLED)
def test_every_language_publishes_valid_linked_feeds_in_chain_order(site: Site, language: str) -> None:
    assert check_documents_valid(site, language) == 3 * 3
    check_archive_links(site, language)
    check_chain_order(site, language)
    check_entry_links(site, language)  # with the English originals as hreflang="en" alternates
    titles = [e.findtext("a:title", namespaces=NS) for e in site.atom_entries(language)]
    assert not set(titles) & set(CHAIN)  # every title translated


def test_indexes_and_pages_link_every_language(site: Site) -> None:
    check_pages_and_indexes(site)


@pytest.mark.skipif(sfeed_tools() is None, reason="sfeed/curl missing: run `make system-packages`")
def test_sfeed_lists_every_language_with_accents_intact(site: Site, tmp_path_factory: pytest.TempPathFactory) -> None:
    feeds = {f"{language}-{fmt}": f"feeds/{language}/{fmt}.xml" for language in BUNDLED for fmt in ("atom", "rss")}
    listing = sfeed_listing(site.root, feeds, tmp_path_factory.mktemp("reader"))
    for language in BUNDLED:
        current = etree.parse(str(site.feeds / language / "atom.xml")).getroot()
        expected = [sfeed_plain_title(t) for t in current.xpath("a:entry/a:title/text()", namespaces=NS)]
        for fmt in ("atom", "rss"):
            assert [title for _, title, _ in listing[f"{language}-{fmt}"]] == expected
    listed = "".join(title for rows in listing.values() for _, title, _ in rows)
    assert set("áéíóúñçàèòü") & set(listed)  # accents came through the reader intact
