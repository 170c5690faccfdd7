"""Undeclared source languages are detected once per content, not on every poll."""

from __future__ import annotations

from pathlib import Path

import pytest

import syndicate.extract.language as language_module
from syndicate.config import load_settings
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged

GERMAN = """Stadtrat beschließt neuen Haushalt

Der Stadtrat hat am Dienstag nach einer langen Debatte den neuen Haushalt für das kommende Jahr beschlossen.

Die Verwaltung sagte, dass im nächsten Jahr mehr Busse fahren und die Bibliotheken länger geöffnet bleiben.
"""


def test_an_unchanged_article_is_not_detected_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "haushalt.txt").write_text(GERMAN, encoding="utf-8")
    settings = load_settings(write_config(tmp_path, articles=folder))
    store = Store.open(settings.state_dir)
    engine = FakeEngine("apertium", {("de", "es"), ("en", "es")}, tagged)
    pool = Engines(settings, factories={"apertium": lambda _s: engine})
    calls: list[str] = []
    real = language_module.detect_language
    monkeypatch.setattr(language_module, "detect_language", lambda a, **kw: calls.append(a.key) or real(a, **kw))
    try:
        for _ in range(3):
            assert once(settings, store, engines=pool, clock=Clock()).ok
        assert calls == ["haushalt.txt"]  # detected on the first poll only
        assert store.articles.all()[0].article.language == "de"
        (tmp_path / "articles" / "haushalt.txt").write_text(GERMAN.replace("Dienstag", "Montag"), encoding="utf-8")
        assert once(settings, store, engines=pool, clock=Clock()).ok
        assert calls == ["haushalt.txt", "haushalt.txt"]  # an edit is read afresh
    finally:
        store.close()


def test_the_detector_model_is_kept_decompressed_and_a_bad_copy_is_not_fatal(tmp_path: Path) -> None:
    from importlib import metadata

    from syndicate.extract.language import _identifier, _mapped_identifier, detect_language
    from syndicate.models import Article, Paragraph

    article = Article(
        source="s",
        key="k",
        title="El alcalde inaugura el nuevo puente del puerto",
        blocks=(Paragraph("Tras años de obras, el puente une por fin los dos muelles y los vecinos lo celebran."),),
    )
    cache = tmp_path / "cache"
    cache.mkdir()
    old_copy = cache / f"py3langid-{metadata.version('py3langid')}.npz"
    old_copy.write_bytes(b"a decompressed model an earlier version kept")
    assert detect_language(article, cache=cache) == "es"
    (model,) = cache.glob("py3langid-*.langid")
    assert model.stat().st_size > 10_000_000  # the mapped model, kept for the next process
    assert not old_copy.exists()  # the earlier version's copy is not kept beside it
    assert not list(cache.glob(".langid-*"))  # no temporary file left behind

    # Where no mapped model can be had, py3langid's model is kept decompressed instead,
    # and a bad copy of that means py3langid's own loading.
    _identifier.cache_clear()
    npz = tmp_path / "npz"
    assert _identifier(npz).classify("El alcalde inaugura el nuevo puente del puerto")[0] == "es"
    (decompressed,) = npz.glob("py3langid-*.npz")
    assert decompressed.stat().st_size > 10_000_000
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / decompressed.name).write_bytes(b"not a model")
    _identifier.cache_clear()
    assert _identifier(broken).classify("El alcalde inaugura el nuevo puente del puerto")[0] == "es"
    _mapped_identifier.cache_clear()


def test_two_state_folders_share_one_detector_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every state folder made its own 97 MB copy (issue 20, part 6): now one per machine.
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    language_module._mapped_identifier.cache_clear()
    engine = FakeEngine("apertium", {("de", "es"), ("en", "es")}, tagged)
    for name in ("desk-a", "desk-b"):
        project = tmp_path / name
        folder = project / "in"
        folder.mkdir(parents=True)
        (folder / "haushalt.txt").write_text(GERMAN, encoding="utf-8")
        settings = load_settings(write_config(project, articles=folder))
        assert settings.cache_dir == cache / "syndicate"
        with Store.open(settings.state_dir) as store:
            assert once(
                settings, store, engines=Engines(settings, factories={"apertium": lambda _s: engine}), clock=Clock()
            ).ok
            assert store.articles.all()[0].article.language == "de"
        assert not list(settings.state_dir.rglob("py3langid-*"))
    assert len(list((cache / "syndicate").glob("py3langid-*.langid"))) == 1


def test_the_cache_folder_can_be_named(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'state_dir = "state"', 'state_dir = "state"\ncache_dir = "shared-cache"'
        ),
        encoding="utf-8",
    )
    assert load_settings(config).cache_dir == tmp_path / "shared-cache"
