"""The Argos engine and its package management, against the real argostranslate code.

Packages are built offline by ``tests/argos_fixture.py`` (real SentencePiece and
CTranslate2 models with hand-set weights), installed into temporary folders, and run
through ctranslate2. The online install talks to a local HTTP server the tests start.
"""

from __future__ import annotations

import http.server
import json
import logging
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from syndicate.errors import ModelError
from syndicate.models import Lang, lang
from syndicate.translate.argos import (
    DECODING_LENGTH_MARGIN,
    DECODING_LENGTH_RATIO,
    ArgosTranslator,
    default_threads,
)
from syndicate.translate.argos_packages import (
    default_packages_dir,
    install_from_file,
    install_from_index,
    list_installed,
    resolve_index_url,
)
from tests.argos_fixture import EN_LINES, ES_LINES, build_package

pytest.importorskip("ctranslate2")
pytest.importorskip("argostranslate")

pytestmark = pytest.mark.argos

REPO = Path(__file__).resolve().parents[2]
EN, ES, FR, DE, JA = lang("en"), lang("es"), lang("fr"), lang("de"), lang("ja")


# ---- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """argostranslate creates folders under HOME/XDG dirs on import: keep them in tmp."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        for var, sub in (
            ("XDG_DATA_HOME", ".local/share"),
            ("XDG_CONFIG_HOME", ".config"),
            ("XDG_CACHE_HOME", ".cache"),
        ):
            mp.setenv(var, str(home / sub))
        for var in ("ARGOS_PACKAGES_DIR", "ARGOS_PACKAGE_INDEX", "SNAP"):
            mp.delenv(var, raising=False)
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield home


@pytest.fixture(scope="session")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture packages, built once (about a second in all)."""
    out = tmp_path_factory.mktemp("archives")
    return {
        "echo": build_package(out / "echo-en_es-1.0.argosmodel", "en", "es"),
        "echo-1.1": build_package(out / "echo-en_es-1.1.argosmodel", "en", "es", package_version="1.1"),
        "echo-other-dir": build_package(
            out / "echo-en_es-2.0.argosmodel",
            "en",
            "es",
            package_version="2.0",
            dir_name="translate-en_es-2_0",
        ),
        "permuted": build_package(out / "permuted-en_fr.argosmodel", "en", "fr", kind="permuted"),
        "prefix": build_package(out / "echo-en_de-prefix.argosmodel", "en", "de", target_prefix="__de__"),
        "random": build_package(
            out / "random-de_en.argosmodel",
            "de",
            "en",
            kind="random",
            d_model=32,
            ffn=32,
            heads=4,
            layers=1,
        ),
    }


@pytest.fixture(scope="session")
def packages_dir(tmp_path_factory: pytest.TempPathFactory, archives: dict[str, Path]) -> Path:
    """A packages folder with en->es (echo), en->fr (permuted), en->de (echo + prefix)."""
    directory = tmp_path_factory.mktemp("packages")
    for key in ("echo", "permuted", "prefix", "random"):
        install_from_file(archives[key], directory)
    return directory


@pytest.fixture(scope="session")
def translator(packages_dir: Path) -> Iterator[ArgosTranslator]:
    engine = ArgosTranslator(packages_dir=packages_dir, beam_size=2)
    yield engine
    engine.close()


def _entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# ---- import cost and defaults --------------------------------------------------------


def test_importing_the_engine_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys, syndicate.translate.argos, syndicate.translate.argos_packages\n"
        "heavy = ('ctranslate2', 'argostranslate', 'httpx', 'sentencepiece', 'torch')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


@pytest.mark.parametrize(
    ("cpus", "expected"),
    [(None, (1, 1)), (1, (1, 1)), (2, (2, 1)), (3, (2, 1)), (8, (2, 4)), (16, (2, 8))],
)
def test_default_threads(cpus: int | None, expected: tuple[int, int]) -> None:
    assert default_threads(cpus) == expected


def test_thread_overrides(packages_dir: Path) -> None:
    engine = ArgosTranslator(packages_dir, inter_threads=1, intra_threads=3)
    assert (engine.inter_threads, engine.intra_threads) == (1, 3)


def test_default_packages_dir_follows_argos_rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_packages_dir() == tmp_path / "home/.local/share/argos-translate/packages"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_packages_dir() == tmp_path / "data/argos-translate/packages"
    # argostranslate.settings, in a fresh process with the same environment, agrees.
    real = subprocess.run(
        [sys.executable, "-c", "import argostranslate.settings as s; print(s.package_data_dir)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(real.stdout.strip()) == default_packages_dir()
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path / "explicit"))
    assert default_packages_dir() == tmp_path / "explicit"


def test_resolve_index_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_index_url() == ("https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json")
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", "http://mirror.example/argos/")
    assert resolve_index_url() == "http://mirror.example/argos/index.json"
    assert resolve_index_url("http://h/x") == "http://h/x/index.json"
    assert resolve_index_url("http://h/custom.json") == "http://h/custom.json"


# ---- installing from files and listing -----------------------------------------------


def test_install_from_file_and_list(archives: dict[str, Path], tmp_path: Path) -> None:
    directory = tmp_path / "packages"
    info = install_from_file(archives["echo"], directory)
    assert (info.from_code, info.to_code, info.package_version) == ("en", "es", "1.0")
    assert info.path == directory / "translate-en_es-fixture"
    assert info.name == "English → Spanish"
    assert list_installed(directory) == [info]
    assert _entries(directory) == ["translate-en_es-fixture"]  # no temporary leftovers
    # argostranslate's own listing reads what we installed.
    from argostranslate.package import get_installed_packages

    (real,) = get_installed_packages(path=[directory])
    assert (real.from_code, real.to_code, real.package_version) == ("en", "es", "1.0")


def test_newer_version_replaces_the_old_one(archives: dict[str, Path], tmp_path: Path) -> None:
    directory = tmp_path / "packages"
    install_from_file(archives["echo"], directory)
    engine = ArgosTranslator(directory)
    assert engine.model_id(EN, ES) == "argos:en-es@1.0"
    install_from_file(archives["echo-1.1"], directory)
    assert [(i.package_version, i.path.name) for i in list_installed(directory)] == [("1.1", "translate-en_es-fixture")]
    assert engine.model_id(EN, ES) == "argos:en-es@1.1"
    # Another directory name for the same pair replaces it too: one package per pair.
    install_from_file(archives["echo-other-dir"], directory)
    assert [(i.package_version, i.path.name) for i in list_installed(directory)] == [("2.0", "translate-en_es-2_0")]
    assert _entries(directory) == ["translate-en_es-2_0"]
    assert engine.translate(["Still works."], EN, ES) == ["Still works."]


def test_listing_skips_stray_files_and_broken_packages(
    archives: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "packages"
    good = install_from_file(archives["echo"], directory)
    (directory / "stray.txt").write_text("not a package")
    (directory / "no-metadata").mkdir()
    (directory / "bad-json").mkdir()
    (directory / "bad-json" / "metadata.json").write_text("{")
    (directory / "no-model").mkdir()
    (directory / "no-model" / "metadata.json").write_text('{"from_code": "en", "to_code": "it"}')
    with caplog.at_level(logging.WARNING, logger="syndicate.translate.argos_packages"):
        assert list_installed(directory) == [good]
    warned = "\n".join(r.getMessage() for r in caplog.records)
    for name in ("no-metadata", "bad-json", "no-model"):
        assert str(directory / name) in warned
    assert "stray.txt" not in warned
    assert ArgosTranslator(directory).pairs() == frozenset({(EN, ES)})


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


META = json.dumps({"type": "translate", "from_code": "en", "to_code": "es"}).encode()
COMPLETE = {
    "pkg/metadata.json": META,
    "pkg/model/model.bin": b"x",
    "pkg/sentencepiece.model": b"x",
}

BAD_ARCHIVES: dict[str, tuple[dict[str, bytes] | None, str]] = {
    "not-a-zip": (None, "zip archive"),
    "two-top-dirs": (
        {**COMPLETE, **{k.replace("pkg/", "other/"): v for k, v in COMPLETE.items()}},
        "exactly one top-level directory",
    ),
    "top-level-file": ({**COMPLETE, "README.md": b"hi"}, "README.md (a file)"),
    "dot-dot-member": ({**COMPLETE, "pkg/../../evil.txt": b"owned"}, "unsafe member"),
    "parent-member": ({**COMPLETE, "../evil.txt": b"owned"}, "unsafe member"),
    "absolute-member": ({**COMPLETE, "/tmp/evil.txt": b"owned"}, "unsafe member"),
    "missing-metadata": (
        {k: v for k, v in COMPLETE.items() if "metadata" not in k},
        "missing pkg/metadata.json",
    ),
    "missing-model": (
        {k: v for k, v in COMPLETE.items() if "model.bin" not in k},
        "missing pkg/model/model.bin",
    ),
    "missing-tokenizer": (
        {k: v for k, v in COMPLETE.items() if "sentencepiece" not in k},
        "sentencepiece.model (or bpe.model)",
    ),
    "metadata-not-json": ({**COMPLETE, "pkg/metadata.json": b"{"}, "not valid JSON"),
    "metadata-without-to-code": (
        {**COMPLETE, "pkg/metadata.json": b'{"from_code": "en"}'},
        "lacks to_code",
    ),
    "not-a-translation": (
        {**COMPLETE, "pkg/metadata.json": b'{"type": "sbd", "from_code": "en", "to_code": "en"}'},
        "not a translation package",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ARCHIVES))
def test_bad_archives_are_refused_cleanly(case: str, tmp_path: Path) -> None:
    members, problem = BAD_ARCHIVES[case]
    bad = tmp_path / "work" / f"{case}.argosmodel"
    bad.parent.mkdir()
    if members is None:
        bad.write_text("<html>404 Not Found</html>")
    else:
        _zip(bad, members)
    directory = tmp_path / "work" / "packages"
    with pytest.raises(ModelError) as caught:
        install_from_file(bad, directory)
    assert str(bad) in str(caught.value)
    assert problem in caught.value.message
    assert caught.value.hint
    assert _entries(directory) == []
    assert list(tmp_path.rglob("evil.txt")) == []


def test_damaged_archive_is_refused_and_cleaned_up(tmp_path: Path) -> None:
    damaged = _zip(tmp_path / "damaged.argosmodel", {**COMPLETE, "pkg/model/model.bin": b"x" * 4096})
    damaged.write_bytes(damaged.read_bytes().replace(b"x" * 64, b"y" * 64, 1))  # bad CRC
    directory = tmp_path / "packages"
    with pytest.raises(ModelError, match="cannot extract") as caught:
        install_from_file(damaged, directory)
    assert str(damaged) in str(caught.value)
    assert _entries(directory) == []


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such file"):
        install_from_file(tmp_path / "nope.argosmodel", tmp_path / "packages")


# ---- translating ---------------------------------------------------------------------


def test_pairs_and_model_ids(translator: ArgosTranslator) -> None:
    assert translator.pairs() == frozenset({(EN, ES), (EN, FR), (EN, DE), (DE, EN)})
    assert translator.model_id(EN, ES) == "argos:en-es@1.0"
    assert translator.model_id(Lang("EN"), Lang("fr")) == "argos:en-fr@1.0"


def test_echo_returns_every_sentence_in_order(translator: ArgosTranslator) -> None:
    segments = [*EN_LINES, *ES_LINES] + [
        f"Sentence {i} of the batch says {word}." for i, word in enumerate(EN_LINES[0].split())
    ] * 5
    segments = [f"{s} #{i}" for i, s in enumerate(segments)]  # all distinct
    assert len(segments) > 100
    assert translator.translate(segments, EN, ES) == segments


def test_blank_and_duplicate_segments(translator: ArgosTranslator, caplog: pytest.LogCaptureFixture) -> None:
    segments = ["", "  ", "The same line.", "Another line.", "The same line.", "\n"]
    with caplog.at_level(logging.DEBUG, logger="syndicate.translate.argos"):
        out = translator.translate(segments, EN, FR)
    assert out[0:2] == ["", "  "] and out[5] == "\n"
    assert out[2] == out[4] != "The same line."
    assert "2 unique segments of 6" in caplog.text
    assert translator.translate([], EN, FR) == []
    assert translator.translate(["", " "], EN, JA) == ["", " "]  # no model needed


def test_underscores_survive(translator: ArgosTranslator) -> None:
    text = "Run snake_case_name or __init__ via my_file_v2.txt now."
    assert translator.translate([text], EN, ES) == [text]
    # Argos's own decode would have turned every "_" into a space.
    from argostranslate.package import Package

    package = Package(next(p.path for p in list_installed(translator.packages_dir) if p.to_code == "es"))
    assert "_" not in package.tokenizer.decode(package.tokenizer.encode(text))


def test_target_prefix_is_stripped(translator: ArgosTranslator) -> None:
    segments = list(EN_LINES[:5])
    assert translator.translate(segments, EN, DE) == segments


def test_permuted_model_is_deterministic_and_changes_text(translator: ArgosTranslator, packages_dir: Path) -> None:
    segments = list(EN_LINES)
    first = translator.translate(segments, EN, FR)
    fresh = ArgosTranslator(packages_dir, beam_size=4, inter_threads=1, intra_threads=1)
    try:
        assert fresh.translate(segments, EN, FR) == first
    finally:
        fresh.close()
    assert translator.translate(segments[::-1], EN, FR) == first[::-1]
    for source, output in zip(segments, first, strict=True):
        assert output.strip() and output != source


def test_protected_terms_survive_a_model_that_breaks_them(translator: ArgosTranslator) -> None:
    segments = [
        "The minister will travel to Brussels to meet European leaders next week.",
        "Brussels said the Rossiyskaya Gazeta report was wrong, Brussels insisted.",
        "Rossiyskaya Gazeta",
        "Nothing to protect in this one.",
    ]
    protect = ["Brussels", "Rossiyskaya Gazeta", "European"]
    naive = translator.translate(segments, EN, FR)
    assert all(term not in out for term in protect for out in naive[:3])  # the model breaks them
    out = translator.translate(segments, EN, FR, protect=protect)
    assert " Brussels " in out[0] and " European " in out[0]
    assert out[0] != segments[0]  # the text around the terms is still translated
    assert out[1].startswith("Brussels ") and out[1].count("Brussels") == 2
    assert "Rossiyskaya Gazeta" in out[1]
    assert out[2] == "Rossiyskaya Gazeta"
    assert out[3] == naive[3]


def test_protected_terms_with_a_model_that_keeps_them(translator: ArgosTranslator) -> None:
    segments = ["The MAIN hall opened.", "Send it to Brussels."]
    # "AI" is only matched as a word, so "MAIN" is not split; echo keeps "Brussels".
    assert translator.translate(segments, EN, ES, protect=["AI", "Brussels"]) == segments


def _count_model_calls(translator: ArgosTranslator, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch the model is given from now on."""
    calls: list[int] = []
    run = translator._run
    monkeypatch.setattr(
        translator, "_run", lambda loaded, texts, *a: calls.append(len(texts)) or run(loaded, texts, *a)
    )
    return calls


def test_a_copied_term_gets_its_required_form_without_another_model_call(
    translator: ArgosTranslator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Models copy what they do not know ("$14.5 million", an English name of a body):
    # the copy is replaced by the required form; nothing is translated twice.
    calls = _count_model_calls(translator, monkeypatch)
    segments = ["It cost about $14.5 million, the Security Council said.", "Tim Cook spoke."]
    terms = [
        {"$14.5 million": "14,5 millones de dólares", "Security Council": "Consejo de Seguridad"},
        {"Tim Cook": "Tim Cook"},
    ]
    out = translator.translate_scored(segments, EN, ES, per_segment=terms)  # the echo model copies everything
    assert [o.text for o in out] == [
        "It cost about 14,5 millones de dólares, the Consejo de Seguridad said.",
        "Tim Cook spoke.",
    ]
    assert calls == [2]


def test_terms_lost_in_many_articles_are_redone_in_one_more_batch(
    translator: ArgosTranslator, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_model_calls(translator, monkeypatch)
    segments = [
        "The minister will travel to Brussels next week.",
        "Rossiyskaya Gazeta said the report was wrong.",
        "Officials in Brussels denied it.",
    ]
    # One set of terms per article, as the service sends them.
    terms = [{"Brussels": "Brussels"}, {"Rossiyskaya Gazeta": "Rossiyskaya Gazeta"}, {"Brussels": "Brussels"}]
    out = translator.translate_scored(segments, EN, FR, per_segment=terms)  # the permuting model breaks names
    assert "Brussels" in out[0].text and out[1].text.startswith("Rossiyskaya Gazeta ") and "Brussels" in out[2].text
    assert len(calls) == 2  # the segments, then every piece around the terms together


def test_missing_pair_names_the_install_command(translator: ArgosTranslator) -> None:
    with pytest.raises(ModelError) as caught:
        translator.translate(["Hello."], EN, JA)
    error = caught.value
    assert (error.engine, error.source_language, error.target_language) == ("argos", "en", "ja")
    assert error.hint is not None and "syndicate models install en ja" in error.hint
    assert "--file" in error.hint
    with pytest.raises(ModelError):
        translator.model_id(EN, JA)


def test_runaway_model_is_bounded(translator: ArgosTranslator) -> None:
    # Random weights seldom emit </s>: decoding must stop at the length bound anyway.
    from argostranslate.package import Package

    source = "Der Rat hat heute getagt."
    package = Package(translator._find(DE, EN).path)
    bound = DECODING_LENGTH_RATIO * len(package.tokenizer.encode(source)) + DECODING_LENGTH_MARGIN
    started = time.monotonic()
    (out,) = translator.translate([source], DE, EN)
    assert time.monotonic() - started < 20
    assert 0 < len(out.split()) <= bound  # each output piece makes at most one word


def test_close_drops_models_and_reloads(packages_dir: Path) -> None:
    engine = ArgosTranslator(packages_dir, beam_size=1)
    assert engine.translate(["One."], EN, ES) == ["One."]
    engine.close()
    assert engine.translate(["Two."], EN, ES) == ["Two."]
    engine.close()


# ---- installing from the package index -----------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def index_server(tmp_path_factory: pytest.TempPathFactory, archives: dict[str, Path]) -> Iterator[str]:
    """A local argospm-style index: index.json plus package files, on 127.0.0.1."""
    root = tmp_path_factory.mktemp("index")
    (root / "files").mkdir()
    for key, name in (("echo", "en_es-1.0"), ("echo-1.1", "en_es-1.1"), ("permuted", "en_fr")):
        (root / "files" / f"{name}.argosmodel").write_bytes(archives[key].read_bytes())
    (root / "files" / "error-page.argosmodel").write_text("<html>" + "x" * 4000 + "</html>")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    index = [
        {
            "type": "translate",
            "from_code": "en",
            "to_code": "es",
            "package_version": "1.0",
            "links": [base + "files/en_es-1.0.argosmodel"],
        },
        {
            "type": "translate",
            "from_code": "en",
            "to_code": "es",
            "package_version": "1.1",
            "links": [
                base + "files/gone.argosmodel",
                base + "files/error-page.argosmodel",
                base + "files/en_es-1.1.argosmodel",
            ],
        },
        {
            "from_code": "en",
            "to_code": "fr",
            "package_version": "1.0",
            "links": [base + "files/en_fr.argosmodel"],
        },
        {
            "type": "translate",
            "from_code": "de",
            "to_code": "en",
            "package_version": "1.0",
            "links": [base + "files/none.argosmodel"],
        },
        {"type": "sbd", "from_code": "en", "to_code": "it", "package_version": "1.0", "links": []},
    ]
    (root / "index.json").write_text(json.dumps(index))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def test_install_from_index(index_server: str, tmp_path: Path) -> None:
    directory = tmp_path / "packages"
    progress: list[tuple[int, int | None]] = []
    info = install_from_index(
        "en",
        "es",
        directory,
        index_url=index_server,
        timeout=5,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert (info.from_code, info.to_code, info.package_version) == ("en", "es", "1.1")
    assert list_installed(directory) == [info]
    assert _entries(directory) == ["translate-en_es-fixture"]  # download removed
    assert progress and progress[-1][0] == progress[-1][1]
    assert ArgosTranslator(directory).translate(["From the index."], EN, ES) == ["From the index."]


def test_install_from_index_named_by_environment(
    index_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", index_server)
    info = install_from_index("en", "fr", tmp_path / "packages", timeout=5)
    assert (info.from_code, info.to_code) == ("en", "fr")


def test_pair_not_in_index_lists_what_exists(index_server: str, tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        install_from_index("en", "ja", tmp_path / "packages", index_url=index_server, timeout=5)
    message = caught.value.message
    assert "no package for en->ja" in message
    assert "en->es, en->fr" in message and "de->en" not in message and "en->it" not in message


def test_every_link_failing_is_reported(index_server: str, tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        install_from_index("de", "en", tmp_path / "packages", index_url=index_server, timeout=5)
    assert "none.argosmodel" in caught.value.message and "404" in caught.value.message
    assert "syndicate models install --file" in (caught.value.hint or "")
    assert _entries(tmp_path / "packages") == []


def test_unreachable_index_fails_fast_with_the_offline_fix(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    with pytest.raises(ModelError) as caught:
        install_from_index("en", "es", tmp_path / "packages", index_url=url, timeout=5)
    assert time.monotonic() - started < 5
    error = caught.value
    assert error.message.startswith(f"cannot reach the Argos package index at {url}index.json: ")
    assert error.hint is not None
    assert "syndicate models install --file FILE.argosmodel" in error.hint
    assert (error.source_language, error.target_language) == ("en", "es")
    assert _entries(tmp_path / "packages") == []


def test_installed_packages_are_read_once_until_the_folder_changes(
    archives: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import syndicate.translate.argos as argos_module

    directory = tmp_path / "packages"
    install_from_file(archives["echo"], directory)
    engine = ArgosTranslator(directory)
    reads: list[Path] = []
    real = argos_module.list_installed
    monkeypatch.setattr(argos_module, "list_installed", lambda d: reads.append(d) or real(d))
    for _ in range(5):  # the daemon asks on every poll
        assert engine.pairs() == frozenset({(EN, ES)})
        engine.model_id(EN, ES)
    assert len(reads) == 1
    install_from_file(archives["echo-1.1"], directory)  # `syndicate models install`
    assert engine.model_id(EN, ES) == "argos:en-es@1.1" and len(reads) == 2
    install_from_file(archives["permuted"], directory)
    assert len(engine.pairs()) == 2 and len(reads) == 3
