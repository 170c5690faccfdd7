"""Per-source keyword filters and title-only mode (issue 20, part 3), end to end: feeds,
pages, indexes, OPML and status follow them, and a change applies in the next run with
nothing else translated or rendered again."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
import pytest

from syndicate.config import load_settings
from syndicate.models import Lang
from syndicate.serve.app import create_app
from syndicate.store import Store
from syndicate.translate.engines import Engines
from tests.conftest import write_config
from tests.fakes import FakeEngine, Recording, once_with

#: A harbour town's wire, as its desk files it (title, text).
WIRE = {
    "strike": (
        "Port strike enters its third day",
        "Dock workers kept the container terminal closed on Thursday as talks with the operator stalled.",
    ),
    "ferry": (
        "Island ferries to sail twice a day",
        "From the first of the month the island service adds an evening crossing, the operator said.",
    ),
    "derby": (
        "Harbour United win the derby",
        "A late header settled the football derby in front of 9,000 supporters on Saturday.",
    ),
    "budget": (
        "Council approves a bigger budget",
        "The money pays for dredging the port and for new moorings in the marina.",
    ),
    "portugal": (
        "Portuguese trawler towed in after engine failure",
        "The coastguard towed the vessel into the harbour; its crew of six was unhurt.",
    ),
}


def project(tmp_path: Path, wire_settings: str) -> Path:
    wire = tmp_path / "wire"
    wire.mkdir(exist_ok=True)
    for key, (title, body) in WIRE.items():
        (wire / f"{key}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    extra = f'\n[[sources]]\nname = "wire"\ntype = "folder"\npath = "wire"\n{wire_settings}\n'
    return write_config(tmp_path, languages=("es", "ca"), extra=extra)


def set_wire(config: Path, wire_settings: str) -> None:
    """Replace the wire's settings lines (everything after its path)."""
    text = config.read_text(encoding="utf-8")
    head, marker, tail = text.partition('path = "wire"\n')
    rest = tail.split("\n[[sources]]", 1)[1]
    config.write_text(f"{head}{marker}{wire_settings}\n\n[[sources]]{rest}", encoding="utf-8")


def titles(feed: Path) -> list[str]:
    return [e.title for e in feedparser.parse(feed.read_bytes()).entries]


def wire_titles(feed: Path) -> set[str]:
    """The wire's entries in a feed, by the first word of their original title."""
    firsts = {title.split()[0] for title, _ in WIRE.values()}
    return {t.split("~")[0] for t in titles(feed) if t.split("~")[0] in firsts}


def touched_parts(recording: Recording, mark: int) -> set[tuple[str, str]]:
    """(wire story, "title" or "text") of every segment the engine was asked for since
    ``mark``; ("sample", "") for the other source's."""
    out = set()
    for _target, segment in recording.since(mark):
        if len(re.findall(r"[^\W\d_]{2,}", re.sub(r"QZ\d+QZ", "", segment))) < 2:
            continue  # a lone mark or name ("." or "QZ0QZ"): anyone's
        # Protected names reach the engine as placeholders ("Harbour QZ0QZ win the derby").
        pattern = re.compile(re.sub(r"QZ\d+QZ", ".+?", re.escape(segment)))
        found = [
            (key, part)
            for key, (title, body) in WIRE.items()
            for part, text in (("title", title), ("text", body))
            if pattern.search(text)
        ]
        out.update(found or [("sample", "")])
    return out


def touched(recording: Recording, mark: int) -> set[str]:
    """Which wire stories (and "sample") the engine was asked to translate since ``mark``."""
    return {key for key, _part in touched_parts(recording, mark)}


def snapshot(config: Path) -> dict:
    with Store.open(load_settings(config).state_dir) as store:
        data = create_app(load_settings(config), store=store).service.snapshot()
    assert data is not None
    return {s["name"]: s for s in data["sources"]}


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.html")}


def test_keyword_filters_publish_what_they_keep_and_changes_apply_next_run(tmp_path: Path) -> None:
    config = project(tmp_path, 'include = ["port", "re:ferr(y|ies)", "budget"]\nexclude = ["FOOTBALL"]')
    recording = Recording()
    engine = FakeEngine("apertium", {("en", "es"), ("en", "ca")}, recording)
    once_with(config, engine)
    settings = load_settings(config)
    feeds, pages = settings.feeds_dir, settings.translations_dir
    # "port" is a whole word: "Port strike" and "the port" match, "Portuguese" does not;
    # the derby has no include term, and "football" in its text excludes it whatever the case.
    for language in ("es", "ca"):
        assert wire_titles(feeds / language / "atom.xml") == {"Port", "Island", "Council"}
        index = (pages / language / "index.html").read_text(encoding="utf-8")
        assert "Port~" in index and "Harbour~" not in index and "Portuguese~" not in index
    assert not touched(recording, 0) & {"derby", "portugal"}  # never translated: no cost
    assert not list((pages / "es").glob("harbour-*.html")) and not list((pages / "es").glob("portuguese-*.html"))
    wire = snapshot(config)["wire"]
    assert wire["filters"]["published"] == 3 and wire["filters"]["held_back"] == 2
    assert wire["filters"]["exclude"] == ["FOOTBALL"]
    assert snapshot(config)["sample"]["filters"] is None

    # The derby let in: it alone is translated and published; the sample's pages stay as they were.
    set_wire(config, 'include = ["port", "re:ferr(y|ies)", "budget", "derby"]')
    before = mtimes(pages / "es")
    mark = len(recording.log)
    once_with(config, engine)
    assert touched(recording, mark) == {"derby"}
    assert wire_titles(feeds / "es" / "atom.xml") == {"Port", "Island", "Council", "Harbour"}
    after = mtimes(pages / "es")
    sample = [name for name in before if not name.startswith(("port-", "island-", "council-", "index"))]
    assert sample and all(after[name] == before[name] for name in sample)

    # The strike excluded: it leaves the feeds, the index and its page goes; nothing is translated.
    set_wire(config, 'include = ["port", "re:ferr(y|ies)", "budget", "derby"]\nexclude = ["strike"]')
    mark = len(recording.log)
    once_with(config, engine)
    assert not recording.since(mark)
    for language in ("es", "ca"):
        assert wire_titles(feeds / language / "atom.xml") == {"Island", "Council", "Harbour"}
        assert not list((pages / language).glob("port-*.html"))
        assert "Port~" not in (pages / language / "index.html").read_text(encoding="utf-8")

    # Filters removed: every article is published; only the one never translated costs anything.
    set_wire(config, "")
    mark = len(recording.log)
    once_with(config, engine)
    assert touched(recording, mark) == {"portugal"}
    assert wire_titles(feeds / "es" / "atom.xml") == {"Port", "Island", "Council", "Harbour", "Portuguese"}
    assert snapshot(config)["wire"]["filters"] is None
    with Store.open(settings.state_dir) as store:
        assert store.filters.counts() == {}


def test_an_edit_that_brings_in_an_excluded_term_takes_the_entry_out(tmp_path: Path) -> None:
    config = project(tmp_path, 'exclude = ["football"]')
    engine = FakeEngine("apertium", {("en", "es"), ("en", "ca")}, Recording())
    once_with(config, engine)
    feeds = load_settings(config).feeds_dir
    assert "Council" in wire_titles(feeds / "es" / "atom.xml")
    title, body = WIRE["budget"]
    (tmp_path / "wire" / "budget.txt").write_text(
        f"{title}\n\n{body} The football club gets a new pitch.\n", encoding="utf-8"
    )
    once_with(config, engine)
    assert "Council" not in wire_titles(feeds / "es" / "atom.xml")


def test_title_only_translates_titles_and_publishes_the_text_marked_as_original(tmp_path: Path) -> None:
    config = project(tmp_path, "title_only = true")
    recording = Recording()
    engine = FakeEngine("apertium", {("en", "es"), ("en", "ca")}, recording)
    once_with(config, engine)
    settings = load_settings(config)
    feeds, pages = settings.feeds_dir, settings.translations_dir
    assert touched_parts(recording, 0) == {("sample", ""), *((key, "title") for key in WIRE)}

    parsed = feedparser.parse((feeds / "es" / "atom.xml").read_bytes())
    strike = next(e for e in parsed.entries if e.title.startswith("Port~es"))
    content = strike.content[0].value
    assert "Dock workers kept the container terminal closed" in content  # the original text, as is
    assert 'lang="en"' in content and "syndicate-untranslated" in content
    sample = next(e for e in parsed.entries if e.title.split("~")[0] not in {t.split()[0] for t, _ in WIRE.values()})
    assert "~es" in sample.content[0].value  # other sources are translated whole
    atom = (feeds / "es" / "atom.xml").read_text(encoding="utf-8")
    assert atom.count('scope="title"') == len(WIRE)
    items = json.loads((feeds / "es" / "feed.json").read_text(encoding="utf-8"))["items"]
    scopes = [item["_syndicate"]["translation"].get("scope") for item in items]
    assert scopes.count("title") == len(WIRE)
    page = next((pages / "es").glob("port-*.html")).read_text(encoding="utf-8")
    assert "Solo se ha traducido el título. Texto en el idioma original: inglés." in page
    assert snapshot(config)["wire"]["title_only"] is True

    # Off: the wire's texts are translated (its titles come from the memory), the sample untouched.
    set_wire(config, "")
    mark = len(recording.log)
    once_with(config, engine)
    assert touched_parts(recording, mark) == {(key, "text") for key in WIRE}
    content = (
        next(
            e
            for e in feedparser.parse((feeds / "es" / "atom.xml").read_bytes()).entries
            if e.title.startswith("Port~es")
        )
        .content[0]
        .value
    )
    assert "Dock~es" in content and "syndicate-untranslated" not in content
    assert "Solo se ha traducido" not in next((pages / "es").glob("port-*.html")).read_text(encoding="utf-8")

    # On again: nothing reaches the engine, and the text is the original's again.
    set_wire(config, "title_only = true")
    mark = len(recording.log)
    once_with(config, engine)
    assert not recording.since(mark)
    content = (
        next(
            e
            for e in feedparser.parse((feeds / "es" / "atom.xml").read_bytes()).entries
            if e.title.startswith("Port~es")
        )
        .content[0]
        .value
    )
    assert "Dock workers kept" in content and "Dock~es" not in content


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('include = ["re:(unclosed"]', "is not a valid regular expression"),
        ('exclude = ["re:(a|aa)+$"]', "backtracks catastrophically"),
        ('include = ["  "]', "contains an empty term"),
        ('include = ["re:"]', "contains an empty term"),
    ],
)
def test_bad_filter_terms_are_refused_naming_the_key(tmp_path: Path, line: str, message: str) -> None:
    from syndicate.errors import ConfigError

    config = project(tmp_path, line)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    text = str(caught.value)
    assert message in text and "sources" in text and ("include" in text or "exclude" in text)


def test_filters_and_title_only_do_not_make_a_source_read_again(tmp_path: Path) -> None:
    """They decide what becomes of the articles read, not how they are read: changing them
    keeps the source's validators and cursors (a full re-read of a feed costs its host)."""
    from syndicate.work import _reader_fingerprint

    plain = load_settings(project(tmp_path, ""))
    filtered = load_settings(project(tmp_path, 'include = ["port"]\nexclude = ["football"]\ntitle_only = true'))
    wire = [next(s for s in settings.sources if s.name == "wire") for settings in (plain, filtered)]
    assert _reader_fingerprint(plain, wire[0]) == _reader_fingerprint(filtered, wire[1])


def test_held_back_articles_are_not_work_waiting(tmp_path: Path) -> None:
    """A cluster's sweep asks whether a language has work waiting: articles its filters
    hold back (never to be translated) are not (else it would send a task every sweep)."""
    from syndicate.work import Work

    config = project(tmp_path, 'exclude = ["football", "trawler"]')
    engine = FakeEngine("apertium", {("en", "es"), ("en", "ca")}, Recording())
    once_with(config, engine)
    settings = load_settings(config)
    with (
        Store.open(settings.state_dir) as store,
        Engines(settings, factories={"apertium": lambda _s: engine}) as engines,
    ):
        work = Work(settings, store, engines)
        assert store.filters.held_back()
        assert not work.waiting(Lang("es"))
        assert not work.pending(Lang("es"))
