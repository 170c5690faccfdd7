"""An editor's correction is a translation: used wherever its sentence occurs, kept
through every re-run, flagged when its source changes; "before" languages wait for an
approval; every change is in the audit log.

Engines are scripted (tests/fakes.py) so what reaches them is counted; the real Apertium
side is in tests/serve/test_review_browser.py (the review page in Chromium).
"""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from syndicate.config import load_settings
from syndicate.errors import ReviewError
from syndicate.models import Lang
from syndicate.review.service import ReviewDesk
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import Work, once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, reverse_upper, tagged

ES = Lang("es")

# Wire copy repeats its sign-off and its boilerplate sentences across stories: exactly what
# an editor wants to fix once.
SIGN_OFF = "Reporting by Maria Tsvetkova; Editing by Peter Graff."
ARTICLES = {
    "grain.txt": "Grain exports rise in October\n\nGrain exports from the Black Sea ports rose by 12 percent in "
    "October, the ministry said on Friday.\n\nTraders expect the harvest to be revised upward.\n\n" + SIGN_OFF + "\n",
    "metro.txt": "City opens two new metro stations\n\nTwo new metro stations opened on the eastern line on "
    "Saturday.\n\nThe mayor said a third station would open next year.\n\n" + SIGN_OFF + "\n",
    "museum.txt": "Museum returns looted icons\n\nThe national museum returned four icons to the monastery they "
    "were taken from in 1941.\n\nThe abbot thanked the museum's staff.\n",
}


def configure(tmp_path: Path, extra: str = "", articles: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, text in (articles or ARTICLES).items():
        (folder / name).write_text(text, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.unlink(missing_ok=True)
    return write_config(
        tmp_path, languages=("es",), engines=("apertium",), articles=folder, keep_verbatim=(), extra=extra
    )


class Desk:
    """The desk and `once` over one state folder, with a scripted engine."""

    def __init__(self, config: Path, engine: FakeEngine, clock: Clock) -> None:
        self.config, self.engine, self.clock = config, engine, clock

    def once(self, engine: FakeEngine | None = None):
        settings = load_settings(self.config)
        engine = engine or self.engine
        with Store.open(settings.state_dir) as store:
            pool = Engines(settings, factories={"apertium": lambda s: engine})
            report = once(settings, store, engines=pool, clock=self.clock)
        assert report.ok, report.failures
        return report

    def do(self, fn):
        settings = load_settings(self.config)
        with Store.open(settings.state_dir) as store:
            return fn(ReviewDesk(settings, store, clock=self.clock), store)

    def ids(self) -> dict[str, int]:
        return self.do(
            lambda _d, store: {
                store.articles.get(aid).article.key: aid  # type: ignore[union-attr]
                for aid in store.translations.for_language(ES)
            }
        )

    def feed(self) -> dict[str, str]:
        """Entry title -> its content, as a reader of the Atom feed gets them."""
        parsed = feedparser.parse((self.config.parent / "feeds" / "es" / "atom.xml").read_bytes())
        return {e.title: e.content[0].value for e in parsed.entries}


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    clock = Clock()
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    d = Desk(configure(tmp_path), engine, clock)
    d.once()
    engine.calls.clear()
    clock.advance(hours=1)
    return d


def segment_index(desk: Desk, aid: int, source: str) -> int:
    entry = desk.do(lambda d, _s: d.entry("es", aid))
    return next(v.index for v in entry.segments if v.source == source)


def test_a_correction_reaches_every_article_with_the_sentence_and_no_other(desk: Desk, tmp_path: Path) -> None:
    ids = desk.ids()
    grain, metro, museum = ids["grain.txt"], ids["metro.txt"], ids["museum.txt"]
    pages_before = {p.name: p.read_bytes() for p in (tmp_path / "translations" / "es").glob("*.html")}
    index = segment_index(desk, grain, SIGN_OFF)
    fixed = "Información de Maria Tsvetkova; edición de Peter Graff."

    affected = desk.do(lambda d, _s: d.correct("es", grain, segment=index, text=fixed, editor="ana", via="test"))
    assert sorted(affected) == sorted([grain, metro])  # both stories end with the sign-off

    desk.once()
    assert desk.engine.calls == []  # nothing went to the engine: the memory and the correction did it
    feed = desk.feed()
    with_fix = [title for title, content in feed.items() if fixed in content]
    assert len(with_fix) == 2, feed
    assert not any("Reporting~es" in content for content in feed.values())
    # The third article's page is byte for byte what it was.
    pages_after = {p.name: p.read_bytes() for p in (tmp_path / "translations" / "es").glob("*.html")}
    museum_page = next(n for n in pages_before if n.startswith("museum"))
    assert pages_after[museum_page] == pages_before[museum_page]
    assert [n for n in pages_before if pages_after[n] != pages_before[n]].__len__() == 2

    # Stored as a human translation, with who and when; the entry counts it.
    entry = desk.do(lambda d, _s: d.entry("es", metro))
    record = next(v.record for v in entry.segments if v.source == SIGN_OFF)
    assert (record.origin, record.target) == ("human", fixed)
    assert entry.translation.corrected == 1
    untouched = desk.do(lambda d, _s: d.entry("es", museum))
    assert untouched.translation.corrected == 0


def test_a_later_article_with_the_same_sentence_gets_the_correction(desk: Desk, tmp_path: Path) -> None:
    grain = desk.ids()["grain.txt"]
    fixed = "Información de Maria Tsvetkova; edición de Peter Graff."
    desk.do(lambda d, _s: d.correct("es", grain, source=SIGN_OFF, text=fixed, editor="ana", via="test"))
    desk.once()
    (tmp_path / "articles" / "port.txt").write_text(
        "Port strike ends\n\nDock workers returned to work on Monday after a week-long strike.\n\n" + SIGN_OFF + "\n",
        encoding="utf-8",
    )
    desk.once()
    sent = [s for call in desk.engine.calls for s in call]
    assert SIGN_OFF not in sent  # the new article's copy of the sentence never reached the engine
    port = next(content for title, content in desk.feed().items() if "Port~es" in title)
    assert fixed in port


def test_a_correction_survives_retranslation_an_engine_change_and_a_rule_change(desk: Desk, tmp_path: Path) -> None:
    from syndicate.work import retranslate

    metro = desk.ids()["metro.txt"]
    source = "The mayor said a third station would open next year."
    fixed = "El alcalde dijo que una tercera estación abriría el año próximo."
    desk.do(lambda d, _s: d.correct("es", metro, source=source, text=fixed, editor="ana", via="test"))
    desk.once()

    # `syndicate retranslate`: the engines again, the memory bypassed; the correction stays.
    settings = load_settings(desk.config)
    with Store.open(settings.state_dir) as store:
        pool = Engines(settings, factories={"apertium": lambda s: desk.engine})
        report, chosen = retranslate(Work(settings, store, pool, clock=desk.clock), languages=[ES])
    assert report.ok and chosen == 3
    sent = [s for call in desk.engine.calls for s in call]
    assert "Two new metro stations opened on the eastern line on Saturday." in sent  # really translated again
    assert source not in sent
    assert sum(fixed in c for c in desk.feed().values()) == 1

    # Another engine (a new model): everything is translated again, except the correction.
    other = FakeEngine("apertium", {("en", "es")}, reverse_upper, model="2")
    desk.once(other)
    assert other.calls and all(source not in call for call in other.calls)
    feed = desk.feed()
    assert sum(fixed in c for c in feed.values()) == 1
    assert any("MAYOR THE" not in c and fixed in c for c in feed.values())

    # A glossary entry (a rule change) redoes what uses it; the correction stays.
    configure(tmp_path, extra='[translate.glossary.es]\n"metro" = "metro"\n')
    desk.once(other)
    assert sum(fixed in c for c in desk.feed().values()) == 1


def test_a_changed_source_sentence_is_translated_again_and_flagged_with_the_old_correction(
    desk: Desk, tmp_path: Path
) -> None:
    museum = desk.ids()["museum.txt"]
    source = "The abbot thanked the museum's staff."
    fixed = "El abad agradeció al personal del museo."
    desk.do(lambda d, _s: d.correct("es", museum, source=source, text=fixed, editor="ana", via="test"))
    desk.once()
    desk.do(lambda d, _s: d.approve("es", museum, editor="ana", via="test"))

    # Upstream rewrites the sentence.
    changed = ARTICLES["museum.txt"].replace(source, "The abbot thanked the museum's staff and the police.")
    (tmp_path / "articles" / "museum.txt").write_text(changed, encoding="utf-8")
    desk.once()
    sent = [s for call in desk.engine.calls for s in call]
    assert "The abbot thanked the museum's staff and the police." in sent  # machine translated again
    assert not any(fixed in c for c in desk.feed().values())  # the old correction is not silently applied

    entry = desk.do(lambda d, _s: d.entry("es", museum))
    flagged = [v.record for v in entry.segments if v.record.needs_review]
    assert len(flagged) == 1
    assert flagged[0].previous == fixed and flagged[0].previous_source == source
    assert entry.translation.needs_review == 1 and not entry.translation.approved
    queue = desk.do(lambda d, _s: d.queue("es", waiting_only=True))
    assert queue[0].article_id == museum  # those needing review come first

    # The mark survives another pass, until an editor deals with it.
    desk.once()
    assert desk.do(lambda d, _s: d.entry("es", museum)).translation.needs_review == 1
    desk.do(lambda d, _s: d.approve("es", museum, editor="ana", via="test"))
    entry = desk.do(lambda d, _s: d.entry("es", museum))
    assert entry.translation.needs_review == 0 and entry.translation.approved


def test_before_mode_publishes_an_entry_only_once_approved(tmp_path: Path) -> None:
    clock = Clock()
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    d = Desk(configure(tmp_path, extra='[translate.review]\nes = "before"\n'), engine, clock)
    d.once()
    atom = tmp_path / "feeds" / "es" / "atom.xml"
    assert not atom.exists() or not feedparser.parse(atom.read_bytes()).entries
    queue = d.do(lambda desk, _s: desk.queue("es", waiting_only=True))
    assert len(queue) == 3
    counts = d.do(lambda desk, _s: desk.counts())
    assert counts[ES]["waiting"] == 3
    from syndicate.serve.status import review_counts

    assert d.do(lambda desk, store: review_counts(desk.settings, store))["es"]["held"] == 3  # /status, /metrics

    grain = d.ids()["grain.txt"]
    clock.advance(minutes=5)
    d.do(lambda desk, _s: desk.approve("es", grain, editor="ana", via="test"))
    d.once()
    titles = list(d.feed())
    assert titles == ["Grain~es exports~es rise~es in~es October~es"], titles

    # The source changes: the approval was for the old text, so the entry waits again.
    text = ARTICLES["grain.txt"].replace("12 percent", "14 percent")
    (tmp_path / "articles" / "grain.txt").write_text(text, encoding="utf-8")
    d.once()
    assert d.do(lambda desk, _s: desk.entry("es", grain)).translation.approved is False
    assert d.do(lambda desk, _s: desk.counts())[ES]["waiting"] == 3


def test_every_change_is_in_the_audit_log_with_old_and_new_text(desk: Desk) -> None:
    grain = desk.ids()["grain.txt"]
    source = "Traders expect the harvest to be revised upward."
    before = desk.do(lambda d, _s: d.entry("es", grain)).segments[segment_index(desk, grain, source)].target
    desk.do(
        lambda d, _s: d.correct(
            "es", grain, source=source, text="Los operadores esperan una cosecha mayor.", editor="ana", via="page"
        )
    )
    desk.clock.advance(minutes=1)
    desk.do(
        lambda d, _s: d.correct(
            "es", grain, source=source, text="Los comerciantes esperan una cosecha mayor.", editor="luis", via="api"
        )
    )
    desk.do(lambda d, _s: d.withdraw("es", grain, source=source, editor="ana", via="cli"))
    desk.do(lambda d, _s: d.approve("es", grain, editor="luis", via="api"))
    log = desk.do(lambda d, _s: d.history(language="es", article_id=grain))
    assert [(e.editor, e.action, e.via) for e in log] == [
        ("luis", "approve", "api"),
        ("ana", "withdraw", "cli"),
        ("luis", "correct", "api"),
        ("ana", "correct", "page"),
    ]
    assert log[3].old_text == before and log[3].new_text == "Los operadores esperan una cosecha mayor."
    assert log[2].old_text == "Los operadores esperan una cosecha mayor."
    assert log[1].old_text == "Los comerciantes esperan una cosecha mayor." and log[1].new_text is None
    # Withdrawn: the engine's translation is back after the next pass.
    desk.once()
    assert desk.do(lambda d, _s: d.entry("es", grain)).segments[segment_index(desk, grain, source)].target == before


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "cannot be empty"),
        ("   \x00\x07 ", "cannot be empty"),
        ("x" * 20_001, "at most 20000 characters"),
    ],
)
def test_bad_corrections_are_refused_with_a_message(desk: Desk, text: str, problem: str) -> None:
    grain = desk.ids()["grain.txt"]
    with pytest.raises(ReviewError, match=problem):
        desk.do(lambda d, _s: d.correct("es", grain, segment=0, text=text, editor="ana", via="test"))
    assert desk.do(lambda d, _s: d.history()) == []


def test_a_stale_form_is_refused_rather_than_overwriting_another_editors_correction(desk: Desk) -> None:
    grain = desk.ids()["grain.txt"]
    shown = desk.do(lambda d, _s: d.entry("es", grain)).segments[1].target
    desk.do(
        lambda d, _s: d.correct(
            "es", grain, segment=1, text="Primera corrección.", editor="ana", via="test", expect=shown
        )
    )
    desk.once()
    with pytest.raises(ReviewError, match="changed since it was shown"):
        desk.do(lambda d, _s: d.correct("es", grain, segment=1, text="Otra.", editor="luis", via="test", expect=shown))


def test_corrected_text_is_plain_text_in_the_page_and_the_feed(desk: Desk, tmp_path: Path) -> None:
    """An editor's text is text: markup in it is shown, never run."""
    grain = desk.ids()["grain.txt"]
    desk.do(
        lambda d, _s: d.correct(
            "es", grain, segment=2, text='Los <script>alert(1)</script> "operadores" & co.', editor="ana", via="test"
        )
    )
    desk.once()
    page = next((tmp_path / "translations" / "es").glob("grain*.html")).read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_daemon_republishes_an_editors_change_at_once(desk: Desk) -> None:
    """Work.translate picks up what a correction listed, without a poll (the daemon's
    republisher calls it; `once` does the same on its next run)."""
    settings = load_settings(desk.config)
    grain = desk.ids()["grain.txt"]
    with Store.open(settings.state_dir) as store:
        pool = Engines(settings, factories={"apertium": lambda s: desk.engine})
        work = Work(settings, store, pool, clock=desk.clock)
        ReviewDesk(settings, store, clock=desk.clock).correct(
            "es", grain, segment=0, text="Suben las exportaciones de grano", editor="ana", via="test"
        )
        assert set(work.translate(ES).written) == {grain}
        work.publish_all()
        assert work.translate(ES).written == ()  # listed once, done once
    assert "Suben las exportaciones de grano" in desk.feed()


def test_readers_and_partners_see_that_an_editor_corrected_or_approved_an_entry(desk: Desk, tmp_path: Path) -> None:
    import json

    from lxml import etree

    ids = desk.ids()
    grain, metro = ids["grain.txt"], ids["metro.txt"]
    desk.do(
        lambda d, _s: d.correct(
            "es", grain, segment=1, text="Las exportaciones de grano subieron.", editor="ana", via="test"
        )
    )
    desk.do(lambda d, _s: d.approve("es", metro, editor="ana", via="test"))
    desk.once()
    atom = etree.parse(str(tmp_path / "feeds" / "es" / "atom.xml")).getroot()
    its, syn = "{http://www.w3.org/2005/11/its}", "{urn:syndicate:translation}"
    said = {}
    for entry in atom.iter("{http://www.w3.org/2005/Atom}entry"):
        info = entry.find(f"{syn}translation")
        said[entry.findtext("{http://www.w3.org/2005/Atom}title")] = (
            info.get("status"),
            info.get("corrected"),
            entry.get(f"{its}revOrg"),
        )
    assert sorted(said.values()) == [
        ("human-reviewed", None, "editors"),
        ("machine", None, None),
        ("machine-corrected", "1", "editors"),
    ], said
    feed = json.loads((tmp_path / "feeds" / "es" / "feed.json").read_bytes())
    statuses = sorted(item["_syndicate"]["translation"]["status"] for item in feed["items"])
    assert statuses == ["human-reviewed", "machine", "machine-corrected"]
    pages = {
        p.name.split("-")[0]: p.read_text(encoding="utf-8") for p in (tmp_path / "translations" / "es").glob("*.html")
    }
    assert "1 frase corregida por un editor." in pages["grain"]
    assert "Revisada y aprobada por un editor." in pages["city"]
    assert "editor" not in pages["museum"]


def test_translations_stored_before_segments_are_made_reviewable_once_from_the_memory(
    desk: Desk, tmp_path: Path
) -> None:
    """A store upgraded from a release that did not keep segments: the next pass redoes
    those translations from the memory (no engine call, no new version for readers)."""
    import json
    import sqlite3

    db = tmp_path / "state" / "syndicate.db"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT article_id, body, updated FROM translations").fetchall()
        bodies = {aid: json.loads(body) for aid, body, _ in rows}
        conn.execute("DELETE FROM translation_segments")
        conn.execute("UPDATE translate_state SET fingerprint = 'from-the-release-before'")
    assert desk.do(lambda d, _s: d.entry("es", rows[0][0])).segments == ()
    desk.once()
    assert desk.engine.calls == []
    with sqlite3.connect(db) as conn:
        after = dict(conn.execute("SELECT article_id, updated FROM translations").fetchall())
    assert after == {aid: updated for aid, _, updated in rows}  # readers see no new version
    with sqlite3.connect(db) as conn:
        assert {
            aid: json.loads(body) for aid, body in conn.execute("SELECT article_id, body FROM translations")
        } == bodies
    assert all(desk.do(lambda d, _s, a=aid: d.entry("es", a)).segments for aid, _, _ in rows)


def test_a_corrected_sentence_with_a_link_keeps_the_editors_words(tmp_path: Path) -> None:
    """Inline markup cannot undo a correction: the link is kept where its text is found in
    the editor's sentence, and the sentence is never rebuilt from machine-translated pieces."""
    page = (
        "<html><head><title>Ports reopen</title></head><body><article><h1>Ports reopen</h1>"
        "<p>The ministry published <a href='https://example.org/report'>the full report</a> on Monday.</p>"
        "<p>Ships waited for three days outside the harbour.</p></article></body></html>"
    )
    clock = Clock()
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ports.html").write_text(page, encoding="utf-8")
    d = Desk(
        write_config(tmp_path, languages=("es",), engines=("apertium",), articles=folder, keep_verbatim=()),
        engine,
        clock,
    )
    d.once()
    aid = next(iter(d.ids().values()))
    sentence = "The ministry published the full report on Monday."
    link = "the full report"
    entry = d.do(lambda desk, _s: desk.entry("es", aid))
    assert {sentence, link} <= {v.source for v in entry.segments}  # the link's text is a segment of its own
    # The editor rewords the sentence; the link's words ("el informe completo") are in it only
    # once the link's own text is corrected too.
    d.do(
        lambda desk, _s: desk.correct(
            "es",
            aid,
            source=sentence,
            text="El lunes el ministerio publicó el informe completo.",
            editor="ana",
            via="test",
        )
    )
    d.once()
    body = next(iter(d.feed().values()))
    assert "El lunes el ministerio publicó el informe completo." in body.replace(
        '<a href="https://example.org/report">', ""
    ).replace("</a>", "")
    assert "published~es" not in body  # never rebuilt from pieces
    d.do(lambda desk, _s: desk.correct("es", aid, source=link, text="el informe completo", editor="ana", via="test"))
    d.once()
    body = next(iter(d.feed().values()))
    assert 'publicó <a href="https://example.org/report">el informe completo</a>.' in body


def test_a_file_edited_in_a_cat_tool_comes_back_as_corrections(tmp_path: Path) -> None:
    """tests/data/xliff/edited-by-cat-tool.xlf is an export of the sample's library story as
    a CAT tool gives it back (re-indented, <mrk> and <pc> inline, a unit left untranslated,
    a unit of the tool's own). Its ids name the article as it was numbered in that export."""
    pytest.importorskip("translate.storage.xliff2")
    from tests.conftest import DATA

    clock = Clock()
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    d = Desk(write_config(tmp_path, languages=("es",), engines=("apertium",)), engine, clock)
    d.once()
    library = next(aid for key, aid in d.ids().items() if "002_" in key)
    data = (DATA / "xliff" / "edited-by-cat-tool.xlf").read_bytes().replace(b"'a7-", f"'a{library}-".encode())
    report = d.do(lambda desk, _s: desk.import_xliff(data, editor="cat", name="edited-by-cat-tool.xlf"))
    assert report.corrected == 2 and report.articles == {library}
    assert report.unchanged == 1  # the unit the translator left empty changes nothing
    # "...at 10 a.m." is one segment with the next sentence here: that unit's source is not ours.
    assert sorted(s.split(":")[0] for s in report.skipped) == [f"a{library}-s2", "tm-extra-1"]
    d.once()
    body = next(c for t, c in d.feed().items() if "library~es" in t.lower())
    assert "La biblioteca central de la ciudad reabrió al público el sábado" in body
    assert "«Conservamos lo que la gente quería y arreglamos lo que estaba roto»" in body
    log = d.do(lambda desk, _s: desk.history(language="es"))
    assert {(e.editor, e.via) for e in log} == {("cat", "xliff")} and len(log) == 2
