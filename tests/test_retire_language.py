"""A language taken out of the config is retired cleanly (issue 20, part 5): its outputs
leave the published folders, the index and OPML drop it, `serve` answers its URLs 410 Gone,
`status` lists it; the store keeps its translations, so configured again it comes back
without a segment translated and with the same feeds."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from syndicate.config import load_settings
from syndicate.serve.app import create_app
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged


def languages(config: Path, *codes: str) -> None:
    text = config.read_text(encoding="utf-8")
    start = text.index("languages = [")
    end = text.index("]", start)
    config.write_text(
        text[:start] + "languages = [" + ", ".join(f'"{c}"' for c in codes) + text[end:], encoding="utf-8"
    )


def run(config: Path, engine: FakeEngine):  # type: ignore[no-untyped-def]
    settings = load_settings(config)
    with Store.open(settings.state_dir) as store:
        report = once(
            settings, store, engines=Engines(settings, factories={"apertium": lambda _s: engine}), clock=Clock()
        )
    assert report.ok, report.problems
    return settings, report


def test_a_removed_language_is_retired_and_comes_back_from_the_store(tmp_path: Path) -> None:
    config = write_config(tmp_path, languages=("es", "ca"))
    engine = FakeEngine("apertium", {("en", "es"), ("en", "ca")}, tagged)
    settings, _ = run(config, engine)
    feeds, pages = settings.feeds_dir, settings.translations_dir
    catalan = (feeds / "ca" / "atom.xml").read_bytes()
    assert (pages / "ca" / "index.html").is_file() and 'hreflang="ca"' in (feeds / "index.html").read_text()
    assert any("/ca/" in p.read_text() for p in pages.joinpath("es").glob("*.html"))  # es pages link their ca twins

    languages(config, "es")
    settings, report = run(config, engine)
    assert not (feeds / "ca").exists() and not (pages / "ca").exists()
    assert "/ca/" not in (feeds / "opml.xml").read_text() and 'hreflang="ca"' not in (feeds / "index.html").read_text()
    # Nothing published links to the retired language any more.
    assert not [p for p in [*feeds.rglob("*"), *pages.rglob("*")] if p.is_file() and "/ca/" in p.read_text()]
    with Store.open(settings.state_dir) as store:
        assert len(store.translations.for_language("ca")) == 7  # nothing of the store lost
        app = create_app(settings, store=store)
        client = TestClient(app)
        gone = client.get("/feeds/ca/atom.xml")
        assert gone.status_code == 410 and "no longer published" in gone.text
        assert client.get("/translations/ca/index.html").status_code == 410
        assert client.get("/feeds/es/atom.xml").status_code == 200
        status = app.service.snapshot()
        assert [r["language"] for r in status["retired_languages"]] == ["ca"]
        assert status["retired_languages"][0]["files_removed"] > 10
        page = app.templates.get_template("status.html").render(
            s=status, refresh=30, css_url="/c", json_url="/j", metrics_url="/m"
        )
        assert "Retired languages" in page and "its URLs answer 410" in page

    languages(config, "es", "ca")
    before = len(engine.calls)
    settings, report = run(config, engine)
    assert len(engine.calls) == before and report.segments_translated == 0  # from the store, not the engine
    assert (feeds / "ca" / "atom.xml").read_bytes() == catalan
    with Store.open(settings.state_dir) as store:
        app = create_app(settings, store=store)
        assert TestClient(app).get("/feeds/ca/atom.xml").status_code == 200
        assert app.service.snapshot()["retired_languages"] == []


def test_status_lists_a_retired_language(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = write_config(tmp_path, languages=("es", "ca"))
    engine = FakeEngine("apertium", {("en", "es"), ("en", "ca")}, tagged)
    run(config, engine)
    languages(config, "es")
    run(config, engine)
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "-q", "status", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "retired: ca (Català) since" in result.stdout
