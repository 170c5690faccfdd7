"""The feeds of every language: valid, linked, identified, ordered, discoverable, stable.

One pipeline run over the bundled sample with a fake engine that changes script (es:
accented Latin, el: Greek) plus "en", the source language, published as is; feed_size 3,
so every language has archive pages too. tests/test_feeds_sample.py runs the same checks
over real Apertium translations.
"""

from __future__ import annotations

import json
import locale
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from tests.conftest import Clock, snapshot
from tests.publish import feedcheck
from tests.publish.helpers import run, script_engine, scripted, url_path, write_feed_config
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

LANGUAGES = ("es", "el", "en")
FEED_SIZE = 3
RIGHTS = "© Test News, translations CC BY 4.0"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("feeds")
    config = write_feed_config(root, languages=LANGUAGES, feed_size=FEED_SIZE, rights=RIGHTS)
    _, report = run(config, Clock(), script_engine("es", "el"))
    assert report.ok, (report.failures, report.unserved_languages)
    return Site(root, LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_document_is_valid_and_archives_are_linked(site: Site, language: str) -> None:
    assert check_documents_valid(site, language) == 3 * 3  # subscription + 2 archive pages
    check_archive_links(site, language)
    # 4 archived entries: page 1 full (3), page 2 open (1); a full page always has a
    # successor, so there are archived // feed_size + 1 pages.
    assert len(site.chain_docs(language, "atom")) == 1 + (len(CHAIN) - FEED_SIZE) // FEED_SIZE + 1
    current = etree.parse(str(site.feeds / language / "atom.xml")).getroot().findall("a:entry", NS)
    assert len(current) == FEED_SIZE  # the subscription feed holds the newest feed_size


@pytest.mark.parametrize("language", LANGUAGES)
def test_entries_follow_the_chain_and_link_alternates_original_and_neighbours(site: Site, language: str) -> None:
    check_chain_order(site, language)
    check_entry_links(site, language)
    assert sum(bool(site.articles[t].article.url) for t in CHAIN) == 3  # originals linked by via


def test_discovery_index_opml_and_pages(site: Site) -> None:
    check_pages_and_indexes(site)


def test_validators_reject_what_they_should() -> None:
    """The checks above are only worth something if they fail on broken feeds."""
    no_author = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:f</id><title>t</title>'
        b"<updated>2026-01-01T00:00:00Z</updated><entry><id>urn:e</id><title>e</title>"
        b"<updated>2026-01-01T00:00:00Z</updated></entry></feed>"
    )
    problems = feedcheck.atom_problems(no_author)
    assert any("no atom:author" in p for p in problems)
    assert any("neither atom:content nor an alternate link" in p for p in problems)
    bad_date = no_author.replace(b"2026-01-01T00:00:00Z</updated></entry>", b"2026-01-01</updated></entry>")
    assert feedcheck.relaxng_problems(bad_date)  # the schema itself rejects it
    rss = (
        b'<rss version="2.0"><channel><title>t</title><link>https://x/</link><description>d</description>'
        b"<item><title>i</title><guid>g</guid><pubDate>2026-03-01T12:00:00Z</pubDate></item></channel></rss>"
    )
    problems = feedcheck.rss_problems(rss)
    assert any("rel=self" in p for p in problems) and any("RFC 822" in p for p in problems)
    assert feedcheck.json_feed_problems(b'{"version": "https://jsonfeed.org/version/1.1", "items": [{}]}')


@pytest.mark.parametrize("language", LANGUAGES)
def test_titles_are_translated_and_language_is_said_everywhere(site: Site, language: str) -> None:
    titles = [e.findtext("a:title", namespaces=NS) for e in site.atom_entries(language)]
    # Each entry's stored translation, in chain order; made from the headline in sentence
    # case (what that is, names and all, is tests/translate/test_names.py's business).
    assert titles == [site.titles[language][t] for t in CHAIN]
    if language != "en":
        assert all(
            title.split()[0] == scripted(t.split()[0], language)
            for title, t in zip(titles, CHAIN, strict=True)
            if t.split()[0] not in ("Volga", "Cuatro", "Russia", "Moscow")
        )
        assert titles[0] == scripted("City library reopens after two-year renovation", language)
    for path in site.documents(language):
        data = path.read_bytes()
        if path.suffix == ".json":
            doc = json.loads(data)
            assert doc["language"] == language
            assert {item["language"] for item in doc["items"]} <= {language}
        elif path.suffix == ".rss" or path.name == "rss.xml":
            assert etree.fromstring(data).findtext("channel/language") == language
        else:
            assert etree.fromstring(data).get("{http://www.w3.org/XML/1998/namespace}lang") == language


def test_every_document_links_itself(site: Site) -> None:
    for language in LANGUAGES:
        for path in site.documents(language):
            data = path.read_bytes()
            if path.suffix == ".json":
                self_url = json.loads(data)["feed_url"]
            else:
                (self_url,) = etree.fromstring(data).xpath("//a:link[@rel='self']/@href", namespaces=NS)
            assert url_path(site.root, self_url) == path


def test_ids_are_tag_uris_unique_per_language_and_the_same_in_every_format(site: Site) -> None:
    seen: dict[str, str] = {}
    for language in LANGUAGES:
        atom = [e.findtext("a:id", namespaces=NS) for e in site.atom_entries(language)]
        rss = [i.findtext("guid") for i in site.rss_items(language)]
        items = [i["id"] for i in site.json_items(language)]
        assert atom == rss == items
        assert len(set(atom)) == len(CHAIN)
        for entry_id in atom:
            assert re.fullmatch(rf"tag:news\.example\.org,\d{{4}}-\d{{2}}-\d{{2}}:{language}/\d+", entry_id)
            assert entry_id not in seen, (entry_id, seen.get(entry_id))
            seen[entry_id] = language
        assert {i.find("guid").get("isPermaLink") for i in site.rss_items(language)} == {"false"}
    keys = {sa.article.key for sa in site.articles.values()}
    assert not any(key in entry_id for entry_id in seen for key in keys)  # never the source's id


@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_agree_across_formats(site: Site, language: str) -> None:
    atom = [
        (
            datetime.fromisoformat(e.findtext("a:published", namespaces=NS)),
            datetime.fromisoformat(e.findtext("a:updated", namespaces=NS)),
        )
        for e in site.atom_entries(language)
    ]
    rss = [parsedate_to_datetime(i.findtext("pubDate")) for i in site.rss_items(language)]
    items = [
        (datetime.fromisoformat(i["date_published"]), datetime.fromisoformat(i["date_modified"]))
        for i in site.json_items(language)
    ]
    assert [published for published, _ in atom] == rss
    assert atom == items
    moscow = CHAIN.index("Moscow Hosts International Conference on Arctic Shipping Routes")
    assert atom[moscow][0].isoformat() == "2024-01-24T00:00:00+00:00"  # the page's own date


@pytest.mark.parametrize("language", ["es", "el"])
def test_attribution_in_content_and_as_structured_metadata_and_rights(site: Site, language: str) -> None:
    entry = site.atom_entries(language)[CHAIN.index("Russia Sees US-Backed Japan Militarization as Global Risk")]
    categories = {(c.get("term"), c.get("scheme")) for c in entry.findall("a:category", NS)}
    assert {c for c in categories if c[1] == "urn:syndicate:attribution"} == {
        ("Russian Security Council interviews", "urn:syndicate:attribution"),
        ("Rossiyskaya Gazeta", "urn:syndicate:attribution"),
    }
    # How it was translated is no topic tag: it is said with W3C ITS 2.0 and <syn:translation>.
    assert {c for c in categories if c[1] != "urn:syndicate:attribution"} == set()
    its = "{http://www.w3.org/2005/11/its}"
    assert entry.get(f"{its}annotatorsRef", "").startswith("mt-confidence|tag:news.example.org,2026:mt/script:")
    translation = entry.find("{urn:syndicate:translation}translation")
    assert translation is not None
    assert translation.get("engine") == "script" and translation.get("source-language") == "en"
    assert translation.get("status") == "machine" and translation.get("model", "").startswith("script:en-")
    content = entry.findtext("a:content", namespaces=NS)
    text = lxml.html.fragment_fromstring(content, create_parent="div").text_content()
    label = scripted("Source attribution", language)
    assert text.count(f"[{label}: Rossiyskaya Gazeta]") == 1  # label translated, name verbatim
    current = site.feeds / language
    assert etree.parse(str(current / "atom.xml")).getroot().findtext("a:rights", namespaces=NS) == RIGHTS
    assert etree.parse(str(current / "rss.xml")).getroot().findtext("channel/copyright") == RIGHTS
    doc = json.loads((current / "feed.json").read_bytes())
    assert doc["_syndicate"]["rights"] == RIGHTS
    entry_id = entry.findtext("a:id", namespaces=NS)
    rss_item = next(i for i in site.rss_items(language) if i.findtext("guid") == entry_id)
    assert {(c.text, c.get("domain")) for c in rss_item.findall("category")} == categories
    json_item = next(i for i in site.json_items(language) if i["id"] == entry_id)
    assert set(json_item["_syndicate"]["attribution_sources"]) == {
        c for c, scheme in categories if scheme == "urn:syndicate:attribution"
    }
    described = json_item["_syndicate"]["translation"]
    assert described["machine"] is True and described["engine"] == "script" and described["source_language"] == "en"
    assert described["model"] == translation.get("model") and described["low_confidence"] is False
    rss_translation = rss_item.find("{urn:syndicate:translation}translation")
    assert rss_translation is not None and dict(rss_translation.attrib) == dict(translation.attrib)


def test_json_feeds_keep_the_layout_of_json_dumps(site: Site) -> None:
    """The JSON Feed documents are written as ``json.dumps(..., indent=2)`` wrote them
    before orjson did, so an upgrade rewrites none of them (archive pages included)."""
    documents = sorted(site.feeds.glob("*/feed.json")) + sorted(site.feeds.glob("*/archive/*.json"))
    assert len(documents) > len(LANGUAGES)  # archive pages too
    for path in documents:
        data = path.read_bytes()
        assert data == (json.dumps(json.loads(data), ensure_ascii=False, indent=2) + "\n").encode(), path
        assert "Ελ" in data.decode() or "el" not in path.parts  # Greek as UTF-8, not escaped


def test_a_string_utf8_cannot_hold_still_makes_a_json_feed() -> None:
    from syndicate.publish.feeds import _pretty_json

    written = _pretty_json({"title": "Half a pair \ud83d here", "n": [1, 0.5, None, True]})
    assert json.loads(written) == {"title": "Half a pair ? here", "n": [1, 0.5, None, True]}


def test_regenerating_with_no_change_is_byte_identical(tmp_path: Path) -> None:
    config = write_feed_config(tmp_path, languages=("es", "el"), feed_size=2)
    clock = Clock()
    engine = script_engine("es", "el")
    run(config, clock, engine)
    before = snapshot(tmp_path / "feeds", tmp_path / "translations")
    clock.advance(days=3)
    (tmp_path / "feeds" / "es" / "atom.xml").unlink()  # a lost file comes back the same
    (tmp_path / "feeds" / "es" / "archive" / "1.rss").unlink()
    _, report = run(config, clock, engine)
    assert report.files_written == 2
    assert snapshot(tmp_path / "feeds", tmp_path / "translations") == before
    clock.advance(days=3)
    _, report = run(config, clock, engine)
    assert report.files_written == 0


def test_updated_moves_only_when_the_entrys_translation_changes(tmp_path: Path) -> None:
    config = write_feed_config(tmp_path, languages=("es",), feed_size=50)
    clock = Clock()
    engine = script_engine("es")
    run(config, clock, engine)

    atom = tmp_path / "feeds" / "es" / "atom.xml"

    def updated() -> dict[str, tuple[str, str]]:
        root = etree.parse(str(atom)).getroot()
        return {
            e.findtext("a:title", namespaces=NS): (
                e.findtext("a:updated", namespaces=NS),
                e.findtext("a:published", namespaces=NS),
            )
            for e in root.findall("a:entry", NS)
        }

    first = updated()
    article = tmp_path / "articles" / "002_5d8c1b7e4a9f2e61.txt"
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("\n\n", "\n\nThe mayor cut the ribbon.\n\n", 1), encoding="utf-8")
    clock.advance(hours=1)
    run(config, clock, engine)
    second = updated()
    changed = {title for title in first if first[title] != second[title]}
    library = scripted("City library reopens after two-year renovation", "es")  # the headline in sentence case
    assert changed == {library}
    assert second[library] == ("2026-03-01T13:00:00+00:00", first[library][1])  # published stays
    assert etree.parse(str(atom)).getroot().findtext("a:updated", namespaces=NS) == "2026-03-01T13:00:00+00:00"


def test_publishing_never_touches_the_process_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """feedgen's own RFC 822 formatting calls locale.setlocale; ours must never reach it."""
    config = write_feed_config(tmp_path, languages=("es",), feed_size=2)

    def forbidden(*args: object) -> str:
        raise AssertionError(f"locale.setlocale{args} called while publishing")

    monkeypatch.setattr(locale, "setlocale", forbidden)
    _, report = run(config, Clock(), script_engine("es"))
    assert report.ok
    assert (tmp_path / "feeds" / "es" / "archive" / "1.rss").is_file()
