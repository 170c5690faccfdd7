"""End to end over the bundled sample with real Apertium translations."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import lxml.html
import pytest

from syndicate.config import load_settings
from syndicate.store import Store
from syndicate.work import once
from tests.conftest import DATA, EXAMPLES, SAMPLE_CHAIN, Clock, snapshot

CHAIN_NEWEST_FIRST = SAMPLE_CHAIN


def _run(config: Path, clock: Clock):
    settings = load_settings(config)
    store = Store.open(settings.state_dir)
    try:
        return settings, once(settings, store, clock=clock)
    finally:
        store.close()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory):
    """One run over the sample into es and ca, shared by the read-only tests below."""
    from tests.conftest import write_config

    directory = tmp_path_factory.mktemp("e2e")
    config = write_config(directory, languages=("es", "ca"), engines=("apertium",))
    settings, report = _run(config, Clock())
    return directory, settings, report


def _source_titles_by_id(settings) -> dict[str, str]:
    store = Store.open(settings.state_dir)
    try:
        return {f"/{sa.id}": sa.article.title for sa in store.articles.all()}
    finally:
        store.close()


def test_run_reports_success(published) -> None:
    _, _, report = published
    assert report.ok, (report.failures, report.unserved_languages)
    assert report.articles_new == 7
    assert report.translations_written == 14
    assert report.segments_translated > 100


@pytest.mark.parametrize("language", ["es", "ca"])
def test_feeds_parse_in_chain_order_with_language_and_unique_ids(published, language: str) -> None:
    directory, settings, _ = published
    titles_by_id = _source_titles_by_id(settings)
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((directory / "feeds" / language / name).read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert len(parsed.entries) == 7
        ids = [e.id for e in parsed.entries]
        assert len(set(ids)) == 7
        assert all(f":{language}/" in i for i in ids)
        order = [titles_by_id[re.search(r"/\d+$", i).group(0)] for i in ids]
        assert order == CHAIN_NEWEST_FIRST
        if name == "rss.xml":
            assert parsed.feed.language == language
    atom = (directory / "feeds" / language / "atom.xml").read_bytes()
    assert f'xml:lang="{language}"'.encode() in atom


def test_spanish_is_real_spanish_with_attribution_and_verbatim_names(published) -> None:
    directory, _, _ = published
    parsed = feedparser.parse((directory / "feeds" / "es" / "atom.xml").read_bytes())
    titles = [e.title for e in parsed.entries]
    assert not set(titles) & set(CHAIN_NEWEST_FIRST)  # every title translated
    seed = parsed.entries[CHAIN_NEWEST_FIRST.index("Russia Sees US-Backed Japan Militarization as Global Risk")]
    assert seed.title.startswith("Rusia")
    body = seed.content[0].value
    text = lxml.html.fragment_fromstring(body, create_parent="div").text_content()
    # Real Spanish function words, and the English ones gone.
    assert len(re.findall(r"\b(el|la|los|de|que|y|en)\b", text)) > 50
    assert len(re.findall(r"\b(the|and|which)\b", text)) < 5
    # Attribution: label translated, source name verbatim, one per paragraph as in the source.
    assert text.count("[Atribución de fuente: Russian Security Council interviews]") == 2
    assert text.count("[Atribución de fuente: Rossiyskaya Gazeta]") == 1
    assert "Source attribution" not in text
    # keep_verbatim: Apertium would otherwise mark and mangle the name in running text.
    assert "en Rossiyskaya Gazeta" in text
    assert "*" not in text


def test_pages_link_translated_neighbours(published) -> None:
    directory, settings, _ = published
    store = Store.open(settings.state_dir)
    try:
        slug = {sa.article.title: sa.slug for sa in store.articles.all()}
    finally:
        store.close()
    for language in ("es", "ca"):
        for i, title in enumerate(CHAIN_NEWEST_FIRST):
            page = directory / "translations" / language / f"{slug[title]}.html"
            doc = lxml.html.parse(str(page)).getroot()
            assert doc.get("lang") == language
            newer = doc.xpath('//a[@rel="next"]/@href')
            older = doc.xpath('//a[@rel="prev"]/@href')
            expected_newer = (
                [f"https://news.example.org/translations/{language}/{slug[CHAIN_NEWEST_FIRST[i - 1]]}.html"]
                if i > 0
                else []
            )
            expected_older = (
                [f"https://news.example.org/translations/{language}/{slug[CHAIN_NEWEST_FIRST[i + 1]]}.html"]
                if i + 1 < len(CHAIN_NEWEST_FIRST)
                else []
            )
            assert newer == expected_newer, (language, title)
            assert older == expected_older, (language, title)
            other = "ca" if language == "es" else "es"
            assert doc.xpath(f'//link[@rel="alternate"][@hreflang="{other}"]/@href')


def test_index_lists_every_language(published) -> None:
    directory, _, _ = published
    doc = lxml.html.parse(str(directory / "feeds" / "index.html")).getroot()
    hrefs = doc.xpath('//link[@rel="alternate"]/@href')
    for language in ("es", "ca"):
        assert f"https://news.example.org/feeds/{language}/atom.xml" in hrefs
        assert f"https://news.example.org/feeds/{language}/rss.xml" in hrefs


def test_second_run_translates_nothing_and_changes_no_byte(make_config, tmp_path: Path, clock: Clock) -> None:
    config = make_config(languages=("es",))
    _, first = _run(config, clock)
    assert first.ok and first.segments_translated > 0
    before = snapshot(tmp_path / "feeds", tmp_path / "translations")
    clock.advance(hours=5)
    _, second = _run(config, clock)
    assert second.segments_translated == 0 and second.translations_written == 0
    assert second.files_written == 0
    assert snapshot(tmp_path / "feeds", tmp_path / "translations") == before


def test_editing_an_article_retranslates_only_it(make_config, tmp_path: Path, clock: Clock) -> None:
    config = make_config(languages=("es",))
    _run(config, clock)
    target = tmp_path / "articles" / "002_5d8c1b7e4a9f2e61.txt"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("\n\n", "\n\nThe mayor cut the ribbon at noon.\n\n", 1), encoding="utf-8")
    clock.advance(hours=1)
    _, report = _run(config, clock)
    assert report.articles_updated == 1
    assert report.translations_written == 1
    assert report.segments_translated == 1  # the new sentence; the rest comes from memory
    parsed = feedparser.parse((tmp_path / "feeds" / "es" / "atom.xml").read_bytes())
    updated = {e.id: e.updated for e in parsed.entries}
    assert sorted(set(updated.values())) == [
        "2026-03-01T12:00:00+00:00",
        "2026-03-01T13:00:00+00:00",
    ]
    assert list(updated.values()).count("2026-03-01T13:00:00+00:00") == 1


def test_unserved_language_is_reported_once_and_others_publish(make_config, tmp_path: Path, clock: Clock) -> None:
    config = make_config(languages=("es", "ja"), engines=("apertium",))
    _, report = _run(config, clock)
    assert len(report.unserved_languages) == 1
    assert "en->ja" in report.unserved_languages[0]
    assert "syndicate models install en ja" in report.unserved_languages[0]
    assert (tmp_path / "feeds" / "es" / "atom.xml").exists()
    assert not (tmp_path / "feeds" / "ja").exists()


def test_bad_files_are_skipped_named_and_the_rest_publishes(make_config, tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(EXAMPLES, articles)
    for bad in (DATA / "bad").iterdir():
        # (titleless.html has text: it is published, titled by its first words.)
        if bad.name not in ("good.txt", "README.md", "titleless.html"):
            shutil.copy(bad, articles / f"zz_{bad.name}")
    config = make_config(languages=("es",))
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "once", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    for name, reason in (
        ("zz_empty.txt", "empty"),
        ("zz_whitespace.txt", "empty"),
        ("zz_binary.txt", "binary"),
        ("zz_latin1.txt", "not UTF-8"),
        ("zz_nobody.txt", "no body"),
        ("zz_nobody.html", "no body"),
    ):
        line = next((ln for ln in result.stderr.splitlines() if name in ln and "fix:" in ln), None)
        assert line is not None and reason in line, (name, result.stderr)
    assert "6 item(s) failed" in result.stderr
    parsed = feedparser.parse((tmp_path / "feeds" / "es" / "rss.xml").read_bytes())
    assert len(parsed.entries) == 7


def test_missing_folder_is_a_source_failure(make_config, tmp_path: Path, clock: Clock) -> None:
    config = make_config(languages=("es",))
    shutil.rmtree(tmp_path / "articles")
    _, report = _run(config, clock)
    assert not report.ok
    assert any("does not exist" in f and "sample" in f for f in report.failures)


def test_hostile_links_and_reserved_names_are_neutralised(make_config, tmp_path: Path, clock: Clock) -> None:
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "a.html").write_text(
        '<html><head><link rel="canonical" href="javascript:alert(document.cookie)"></head><body><article>'
        "<h1>Index</h1><p>The council met on Tuesday to discuss the budget.</p>"
        '<a rel="next" href="javascript:alert(2)">next</a></article></body></html>',
        encoding="utf-8",
    )
    (folder / "b.txt").write_bytes(b"Broken\x02 Title\n\nA storm\x0b hit the coast on Monday.\n")
    config = make_config(languages=("es",), articles=folder)
    settings, report = _run(config, clock)
    assert report.ok, report.failures
    store = Store.open(settings.state_dir)
    try:
        stored = {sa.article.key: sa for sa in store.articles.all()}
    finally:
        store.close()
    assert stored["a.html"].article.url is None and stored["a.html"].article.next is None
    assert stored["a.html"].slug == "index-2"  # "index" is the language's article list
    assert stored["b.txt"].article.title == "Broken Title"
    for path in (tmp_path / "feeds").rglob("*"):
        if path.is_file():
            assert b"javascript:" not in path.read_bytes(), path
    page = (tmp_path / "translations" / "es" / "index-2.html").read_text(encoding="utf-8")
    assert "javascript:" not in page
    assert (tmp_path / "translations" / "es" / "index.html").read_text(encoding="utf-8") != page
