"""Per-source target languages (issue 20, part 3): `[[sources]] languages` sends a source's
articles into only those languages; feeds, pages, indexes and status follow, and a change
applies in the next run (backfill for a language added, removal for one taken away) with
nothing else translated again."""

from __future__ import annotations

from pathlib import Path

from syndicate.config import load_settings
from syndicate.serve.app import create_app
from syndicate.store import Store
from tests.conftest import write_config
from tests.fakes import FakeEngine, Recording, once_with

WIRE = [
    (
        "Port strike enters its third day",
        "Dock workers kept the container terminal closed on Thursday as talks stalled.",
    ),
    ("Ferry timetable changes next month", "The island ferry will sail twice a day from the first of the month."),
]


def project(tmp_path: Path, wire_languages: str) -> Path:
    wire = tmp_path / "wire"
    wire.mkdir(exist_ok=True)
    for n, (title, body) in enumerate(WIRE):
        (wire / f"w{n}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    extra = f'\n[[sources]]\nname = "wire"\ntype = "folder"\npath = "wire"\n{wire_languages}\n'
    return write_config(tmp_path, languages=("es", "ca"), extra=extra)


def set_languages(config: Path, source_block_marker: str, line: str) -> None:
    text = config.read_text(encoding="utf-8")
    head, _, tail = text.partition(source_block_marker)
    tail_lines = [ln for ln in tail.split("\n") if not ln.startswith("languages = ")]
    config.write_text(head + source_block_marker + "\n".join(tail_lines).rstrip("\n") + f"\n{line}\n", encoding="utf-8")


def titles(feed: Path) -> list[str]:
    import feedparser

    return [e.title for e in feedparser.parse(feed.read_bytes()).entries]


def test_a_sources_languages_decide_where_its_articles_go_and_changes_apply_next_run(tmp_path: Path) -> None:
    config = project(tmp_path, 'languages = ["es"]')
    recording = Recording()
    engine = FakeEngine("apertium", {("en", "es"), ("en", "ca")}, recording)
    once_with(config, engine)
    settings = load_settings(config)
    feeds, pages = settings.feeds_dir, settings.translations_dir
    assert settings.source_languages("wire") == ("es",) and settings.source_languages("sample") == ("es", "ca")
    assert not [seg for target, seg in recording.log if target == "ca" and ("Port" in seg or "Dock" in seg)]
    assert any(t.startswith("Port~es") for t in titles(feeds / "es" / "atom.xml"))
    assert not any(t.startswith("Port") for t in titles(feeds / "ca" / "atom.xml"))
    assert not list((pages / "ca").glob("port-*.html"))

    # Catalan added to the wire: its two articles are translated into Catalan, nothing else.
    set_languages(config, 'name = "wire"', 'languages = ["es", "ca"]')
    calls = len(recording.log)
    once_with(config, engine)
    new = recording.log[calls:]
    assert new and {target for target, _ in new} == {"ca"}
    assert all(any(word in seg for word in ("Port", "Dock", "Ferry", "island", "ferry")) for _, seg in new), new
    assert any(t.startswith("Port~ca") for t in titles(feeds / "ca" / "atom.xml"))
    assert list((pages / "ca").glob("port-*.html"))

    # The sample taken out of Catalan: its entries and pages leave Catalan, nothing is translated.
    set_languages(config, 'name = "sample"', 'languages = ["es"]')
    sample_pages = [
        p.name
        for p in (pages / "es").glob("*.html")
        if p.name != "index.html" and not p.name.startswith(("port-", "ferry-"))
    ]
    calls = len(recording.log)
    once_with(config, engine)
    assert len(recording.log) == calls
    assert sorted(t.split("~")[0] for t in titles(feeds / "ca" / "atom.xml")) == ["Ferry", "Port"]
    assert not [name for name in sample_pages if (pages / "ca" / name).exists()]
    assert len(titles(feeds / "es" / "atom.xml")) == min(9, settings.output.feed_size)
    with Store.open(settings.state_dir) as store:
        data = create_app(load_settings(config), store=store).service.snapshot()
    assert data is not None
    assert {s["name"]: s["languages"] for s in data["sources"]} == {"sample": ["es"], "wire": ["es", "ca"]}
