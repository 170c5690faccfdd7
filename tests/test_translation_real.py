"""Faithful translation with the real engines: Apertium (Debian) and an Argos package
built offline (the permuted fixture model, whose output differs from its input)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import feedparser
import lxml.html
import pytest

from syndicate.config import load_settings
from syndicate.store import Store
from syndicate.work import once
from tests.argos_fixture import build_package
from tests.conftest import Clock, write_config

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Council Vote</title></head><body>
<article><h1>The Security Council Meets</h1>
<p>The <em>new</em> council met on <strong>Tuesday <em>morning</em></strong> in the <a href="https://example.org/hall" title="The city hall">old city hall</a>. Run <code>make vote</code> to count. [Source attribution: Rossiyskaya Gazeta]</p>
<p>The Security Council said the <span translate="no">Blue Book</span> report was <b>very good</b> news for the red car makers.<script>alert("x")</script></p>
<p onclick="steal()">Click <a href="javascript:alert(1)">here</a> for the <i>big</i> house.</p>
</article></body></html>"""

GLOSSARY = '[translate.glossary.es]\n"Security Council" = "Consejo de Seguridad"\n'


def _run(tmp_path: Path, *, engines: tuple[str, ...], articles: dict[str, str], languages=("es",), extra: str = ""):
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, text in articles.items():
        (folder / name).write_text(text, encoding="utf-8")
    config = write_config(tmp_path, languages=languages, engines=engines, articles=folder, extra=extra)
    settings = load_settings(config)
    store = Store.open(settings.state_dir)
    report = once(settings, store, clock=Clock())
    return settings, store, report


def _check_markup(body: str, source: str) -> None:
    root = lxml.html.fragment_fromstring(body, create_parent="div")
    src = lxml.html.fragment_fromstring(source, create_parent="div")
    assert sorted(el.tag for el in root.iter()) == sorted(el.tag for el in src.iter() if el.tag not in ("script",)), (
        body
    )
    for bad in ("<script", "onclick", "javascript:", "alert("):
        assert bad not in body


def test_apertium_keeps_nested_markup_glossary_and_names(tmp_path: Path) -> None:
    _settings, store, report = _run(tmp_path, engines=("apertium",), articles={"vote.html": PAGE}, extra=GLOSSARY)
    assert report.ok, report.failures
    (sa,) = store.articles.all()
    t = store.translations.get(sa.id, "es")
    assert t is not None and t.engine == "apertium"
    assert t.title.startswith("El Consejo de Seguridad")
    first, second, third = t.paragraphs
    _check_markup(first, sa.article.paragraphs[0])
    _check_markup(second, sa.article.paragraphs[1])
    # Apertium reorders adjective and noun: the markup follows the words.
    assert "<em>nuevo</em>" in first or "<em>nueva</em>" in first
    assert re.search(r"<strong>[^<]*<em>[^<]+</em>[^<]*</strong>", first)
    assert '<a href="https://example.org/hall" title="' in first and 'title="The city hall"' not in first
    assert "<code>make vote</code>" in first
    assert '<span translate="no">Blue Book</span>' in second
    assert "Consejo de Seguridad" in second and "Security" not in second
    assert "<a>aquí</a>" in third or "<a>" in third  # the javascript: link lost its href, kept its text
    parsed = feedparser.parse((tmp_path / "feeds" / "es" / "atom.xml").read_bytes())
    assert "[Atribución de fuente: Rossiyskaya Gazeta]" in parsed.entries[0].content[0].value


def test_pivot_spanish_to_catalan_through_english_with_apertium(tmp_path: Path) -> None:
    spanish = {
        "nota.txt": "La biblioteca de la ciudad abre sus puertas\n\n"
        "La nueva biblioteca abrió sus puertas el lunes por la mañana. Muchos vecinos visitaron las salas de lectura.\n"
    }
    _settings, store, report = _run(tmp_path, engines=("apertium",), articles=spanish, languages=("ca", "es"))
    assert report.ok, (report.failures, report.unserved_languages)
    (sa,) = store.articles.all()
    assert sa.article.language == "es"  # detected: the source does not say
    ca = store.translations.get(sa.id, "ca")
    assert ca is not None and "pivot:en" in ca.notes
    assert "biblioteca" in ca.title.lower() and ca.title != sa.article.title
    assert re.search(r"\b(la|les|els|de)\b", ca.paragraphs[0])
    es = store.translations.get(sa.id, "es")
    assert es is not None and es.engine == "source" and es.title == sa.article.title


@pytest.fixture(scope="module")
def argos_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from syndicate.translate.argos_packages import install_from_file

    work = tmp_path_factory.mktemp("argos")
    package = build_package(work / "en_es.argosmodel", "en", "es", kind="permuted")
    packages = work / "packages"
    packages.mkdir()
    install_from_file(package, packages)
    return packages


def test_argos_package_through_the_pipeline_keeps_markup_and_terms(tmp_path: Path, argos_dir: Path) -> None:
    extra = f'argos_packages_dir = "{argos_dir}"\n' + GLOSSARY
    _settings, store, report = _run(
        tmp_path, engines=("argos", "apertium"), articles={"vote.html": PAGE}, languages=("es", "ca"), extra=extra
    )
    assert report.ok, (report.failures, report.unserved_languages)
    (sa,) = store.articles.all()
    es = store.translations.get(sa.id, "es")
    ca = store.translations.get(sa.id, "ca")
    assert es is not None and es.engine == "argos" and es.model.startswith("argos:en-es@")
    assert ca is not None and ca.engine == "apertium"  # argos has no en->ca: the next engine serves it
    assert es.title != sa.article.title
    for body, source in zip(es.paragraphs, sa.article.paragraphs, strict=True):
        _check_markup(body, source)
    text = " ".join(lxml.html.fragment_fromstring(p, create_parent="div").text_content() for p in es.paragraphs)
    assert "Consejo de Seguridad" in text
    assert "Blue Book" in text and "make vote" in text
    assert es.attribution_labels and es.attribution_labels[0] != "Source attribution"


def test_models_cli_installs_from_file_and_lists(tmp_path: Path) -> None:
    package = build_package(tmp_path / "translate-en_es.argosmodel", "en", "es", kind="echo")
    env = {**os.environ, "ARGOS_PACKAGES_DIR": str(tmp_path / "pkgs")}
    (tmp_path / "pkgs").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "models", "install", "--file", str(package)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "installed argos en->es" in result.stdout
    listing = subprocess.run(
        [sys.executable, "-m", "syndicate", "models", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert re.search(r"argos\s+en->es", listing)
    assert re.search(r"apertium\s+en->es", listing)
    bad = tmp_path / "broken.argosmodel"
    bad.write_bytes(b"not a zip")
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "models", "install", "--file", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 3 and "broken.argosmodel" in result.stderr
    offline = subprocess.run(
        [sys.executable, "-m", "syndicate", "models", "install", "en", "fr"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "ARGOS_PACKAGE_INDEX": "http://127.0.0.1:9/"},
        timeout=60,
    )
    assert offline.returncode == 3
    assert "cannot reach the Argos package index" in offline.stderr and "--file" in offline.stderr


def test_degenerate_argos_model_is_caught_by_guards_and_apertium_serves(tmp_path: Path) -> None:
    """A real Argos package with random weights (what a corrupt or wrong model gives)."""
    from syndicate.translate.argos_packages import install_from_file

    package = build_package(tmp_path / "random.argosmodel", "en", "es", kind="random")
    (tmp_path / "pkgs").mkdir()
    install_from_file(package, tmp_path / "pkgs")
    extra = f'argos_packages_dir = "{tmp_path / "pkgs"}"\n'
    _settings, store, report = _run(tmp_path, engines=("argos", "apertium"), articles={"vote.html": PAGE}, extra=extra)
    assert report.ok, report.failures
    assert report.guard_failures > 5
    (sa,) = store.articles.all()
    t = store.translations.get(sa.id, "es")
    assert t is not None and t.engine == "apertium" and t.title.startswith("El Consejo")
    totals = store.stats.all()
    assert totals[("es", "argos")]["guard_failures"] == report.guard_failures
    assert totals[("es", "argos")].get("translated", 0) == 0
