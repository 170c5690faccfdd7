"""The Apertium engine's stream under hostile input and hostile process deaths.

Against Debian's real pairs (installed by `make setup`), except where a small mode file of
our own stands in for a misbehaving pipeline.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from syndicate.errors import TranslationError
from syndicate.models import Lang
from syndicate.translate import apertium
from syndicate.translate.apertium import ApertiumTranslator

pytestmark = pytest.mark.apertium

EN, ES = Lang("en"), Lang("es")
ROOT = Path(__file__).resolve().parents[2]


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, process group, state) for every process we can see."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        out[int(entry)] = (int(fields[1]), int(fields[2]), fields[0])
    return out


def _living(pids: list[int]) -> list[int]:
    table = _processes()
    return [p for p in pids if p in table and table[p][2] != "Z"]


def _group(pgid: int) -> list[int]:
    return [pid for pid, (_, group, state) in _processes().items() if group == pgid and state != "Z"]


def _wait_gone(pids: list[int], seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _living(pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.fixture
def engine():
    translator = ApertiumTranslator()
    yield translator
    translator.close()


# -- bounded in size and time --------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_500_kb_segment_without_a_sentence_break_returns(engine: ApertiumTranslator) -> None:
    segment = " ".join(["the house is red and the dog is small"] * 13_200)  # ~500 KB, no full stop
    assert len(segment) > 500_000
    (out,) = engine.translate([segment], EN, ES)
    assert out.count("casa") > 10_000 and out.count("perro") > 10_000
    assert "syndicate-seg" not in out and "[]" not in out


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "segment",
    [
        "&#233;&#x2014;" * 150_000,  # a 2 MB document of character references, left undecoded
        "\u00e9\u2014" * 250_000,  # the same decoded: one 500,000-character "word"
        "x" * 5_000_000,  # one 5 MB word
    ],
    ids=["character-references", "decoded-references", "5-MB-word"],
)
def test_one_enormous_word_passes_through_without_hanging(engine: ApertiumTranslator, segment: str) -> None:
    (out,) = engine.translate([segment], EN, ES)
    assert out == segment  # no word: Apertium would pass it through unchanged, and so do we


@pytest.mark.timeout(60)
def test_enormous_word_inside_a_sentence_leaves_the_words_around_it_translated(engine: ApertiumTranslator) -> None:
    word = "abc" * 1_000_000
    (out,) = engine.translate([f"The house is red {word} and the dog is small."], EN, ES)
    assert out.startswith("La casa es roja ") and out.endswith(" y el perro es pequeño.")
    assert word in out


def test_long_segment_is_cut_at_whitespace_and_keeps_protected_terms() -> None:
    translator = ApertiumTranslator(max_piece_chars=60)
    try:
        segment = " ".join(["The Security Council met on Monday and the house is red."] * 20)
        (out,) = translator.translate([segment], EN, ES, protect={"Security Council": "Consejo de Seguridad"})
    finally:
        translator.close()
    assert out.count("Consejo de Seguridad") == 20 and out.count("casa") == 20


def test_cut_prefers_whitespace_never_splits_a_kept_span_and_hard_cuts_a_long_run() -> None:
    text = "aaaa bbbb cccc dddd"
    assert apertium._cut(text, 10) == [("", "aaaa bbbb"), (" ", "cccc dddd")]
    assert apertium._cut(text, 10, [(5, 14)]) == [("", "aaaa"), (" ", "bbbb cccc"), (" ", "dddd")]
    assert apertium._cut("x" * 25, 10) == [("", "x" * 10), ("", "x" * 10), ("", "x" * 5)]
    assert apertium._cut("short", 10) == [("", "short")]


@pytest.mark.timeout(60)
def test_timeout_fires_kills_the_pipeline_and_the_next_call_starts_a_new_one() -> None:
    translator = ApertiumTranslator()
    try:
        translator.translate(["The house is red."], EN, ES)
        pipe = translator._pipelines[(EN, ES)]
        pipe.timeout = 0.2  # this pipeline only; the next one gets the translator's 60 s
        members = _group(os.getpgid(pipe.proc.pid))
        started = time.monotonic()
        with pytest.raises(TranslationError, match="did not answer within") as info:
            translator.translate([" ".join(["the house is red and the dog is small"] * 80_000)], EN, ES)
        assert time.monotonic() - started < 10
        assert info.value.source_language == EN and info.value.target_language == ES
        assert len(members) >= 5 and _wait_gone(members) == []
        assert translator.translate(["The house is red."], EN, ES) == ["La casa es roja."]
    finally:
        translator.close()


@pytest.mark.timeout(60)
def test_close_from_another_thread_ends_a_running_translation_at_once() -> None:
    """What a daemon's SIGTERM does while a batch is being translated."""
    translator = ApertiumTranslator()
    translator.translate(["The house is red."], EN, ES)
    members = _group(os.getpgid(translator._pipelines[(EN, ES)].proc.pid))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            translator.translate([" ".join(["the house is red and the dog is small"] * 60_000)], EN, ES)
        except BaseException as error:  # noqa: BLE001 - the main thread re-raises what the worker met
            errors.append(error)

    worker = threading.Thread(target=work)
    worker.start()
    time.sleep(0.5)
    started = time.monotonic()
    translator.close()
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - started < 5
    assert len(errors) == 1 and isinstance(errors[0], TranslationError), errors
    assert _wait_gone(members) == []


# -- many segments per flush ----------------------------------------------------------------------


def _tricky(i: int) -> str:
    return f"Item {i}: the house [{i}] costs ${i} ^{i} a/b @user{i} back\\slash <b{i}> {{{i}}} done."


def _segments() -> list[str]:
    segments = [_tricky(i) if i % 2 else f"The dog number {i} is small" for i in range(600)]
    segments[10] = "   "  # blank segments come back as they are
    segments[11] = "A NUL\0is the stream's flush [11]."  # must not cut the stream
    return segments


@pytest.mark.timeout(60)
def test_many_segments_with_stream_format_characters_come_back_aligned_one_to_one(engine: ApertiumTranslator) -> None:
    segments = _segments()
    out = engine.translate(segments, EN, ES)
    assert len(out) == len(segments) and out[10] == "   "
    assert "[11]" in out[11] and "\0" not in out[11]
    for i in range(1, 600, 2):
        if i == 11:
            continue
        for piece in (f"[{i}]", f"${i}", f"^{i}", f"@user{i}", f"<b{i}>", f"{{{i}}}", "\\", "/"):
            assert piece in out[i], (i, piece, out[i])
    for i in range(0, 600, 2):
        if i != 10:
            assert f"{i}" in out[i] and "perro" in out[i], (i, out[i])


def test_many_segments_take_one_flush(engine: ApertiumTranslator, monkeypatch: pytest.MonkeyPatch) -> None:
    flushes: list[int] = []
    real_run = apertium._Pipeline.run_reporting
    monkeypatch.setattr(
        apertium._Pipeline, "run_reporting", lambda self, text: flushes.append(len(text)) or real_run(self, text)
    )
    assert len(engine.translate(_segments(), EN, ES)) == 600
    assert len(flushes) == 1  # not one round trip through ten processes per segment


def test_a_lost_marker_falls_back_to_one_segment_per_flush(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A pipeline that eats one marker (a stand-in for a stage that drops a superblank)."""
    (tmp_path / "eng-spa.mode").write_text("sed -u -z 's/\\[<syndicate-seg-1>\\]//'\n")
    translator = ApertiumTranslator(tmp_path)
    try:
        with caplog.at_level(logging.WARNING, logger="syndicate.translate.apertium"):
            out = translator.translate(["one [a]", "two ^b$", "three @c"], EN, ES)
    finally:
        translator.close()
    assert out == ["one [a]", "two ^b$", "three @c"]
    assert "lost a segment marker" in caplog.text


# -- processes ---------------------------------------------------------------------------------------


_SELF_KILLER = textwrap.dedent(
    """
    import json, os, signal, sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from syndicate.models import Lang
    from syndicate.translate import apertium
    from syndicate.translate.apertium import ApertiumTranslator

    if sys.argv[2] == "prctl":  # as on a system without util-linux's setpriv
        apertium._setpriv = lambda: None
    translator = ApertiumTranslator()
    translator.translate(["The house is red."], Lang("en"), Lang("es"))
    helper = os.fork()  # holds every pipe end open, as a forked worker would: no EOF saves us
    if helper == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # but not the test's output pipes
            os.dup2(null, fd)
        time.sleep(120)
        os._exit(0)
    table = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            table[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            pass
    mine, frontier = [], [os.getpid()]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in table.items() if pp == parent and p != helper]
        mine += children
        frontier += children
    print(json.dumps({"helper": helper, "descendants": mine}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("armed_by", ["setpriv", "prctl"])
def test_pipeline_dies_with_a_sigkilled_parent(armed_by: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", _SELF_KILLER, str(ROOT), armed_by], capture_output=True, text=True, timeout=30
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    report = json.loads(child.stdout)
    helper, descendants = report["helper"], report["descendants"]
    try:
        assert len(descendants) >= 5  # the pipeline's stages were running
        assert _wait_gone(descendants) == []
    finally:
        for pid in [helper, *_living(descendants)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.parametrize("victim", ["leader", "middle stage"])
def test_a_dead_stage_takes_its_whole_group_and_the_pipeline_restarts(engine: ApertiumTranslator, victim: str) -> None:
    engine.translate(["The house is red."], EN, ES)
    pipe = engine._pipelines[(EN, ES)]
    pgid = os.getpgid(pipe.proc.pid)
    members = _group(pgid)
    assert len(members) >= 5
    os.kill(pgid if victim == "leader" else sorted(members)[len(members) // 2], signal.SIGKILL)
    time.sleep(0.2)
    assert engine.translate(["The dog is small."], EN, ES) == ["El perro es pequeño."]
    assert _wait_gone(members) == []
    new_pgid = os.getpgid(engine._pipelines[(EN, ES)].proc.pid)
    assert new_pgid != pgid and len(_group(new_pgid)) >= 5
    engine.close()
    assert _wait_gone(_group(new_pgid)) == []


def test_model_id_reads_the_version_from_dpkgs_status_without_a_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "calls"
    fake = tmp_path / "bin" / "dpkg-query"
    fake.parent.mkdir()
    real = subprocess.run(
        ["sh", "-c", "command -v dpkg-query"], capture_output=True, text=True, check=True
    ).stdout.strip()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {real} "$@"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    translator = ApertiumTranslator()
    first = translator.model_id(EN, ES)
    assert all(translator.model_id(EN, ES) == first for _ in range(3))
    expected = subprocess.run(
        [real, "-W", "-f=${Version}", "apertium-eng-spa"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert first == f"apertium:eng-spa@apertium-eng-spa={expected}"
    assert not log.exists()  # the package's version came from dpkg's status file: no dpkg-query run


def test_dpkg_status_entries_count_only_when_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from syndicate.translate import apertium

    status = tmp_path / "status"
    status.write_text(
        "Package: apertium-eng-spa-extra\nStatus: install ok installed\nVersion: 9.9\n\n"
        "Package: apertium-eng-spa\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 0.7.0-1\n\n"
        "Package: apertium-eng-spa\nStatus: install ok installed\nArchitecture: all\nVersion: 0.8.1-2\n"
        "Description: English-Spanish\n translation data\n\n"
        "Package: apertium-eng-cat\nStatus: deinstall ok config-files\nVersion: 1.0.1-5\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(apertium, "DPKG_STATUS", status)
    assert apertium._installed_version("apertium-eng-spa") == "0.8.1-2"  # not the removed one, not "-extra"
    assert apertium._installed_version("apertium-eng-cat") is None  # only its configuration is left
    assert apertium._installed_version("apertium-eng-glg") is None
    status.write_text("Package: apertium-eng-glg\nStatus: install ok installed\nVersion: 2.0\n", encoding="utf-8")
    assert apertium._installed_version("apertium-eng-glg") == "2.0"  # read again once the file changed


def test_placeholder_probes_are_remembered_across_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    probed: list[int] = []
    real_run = ApertiumTranslator._run

    def counting_run(self: ApertiumTranslator, texts: list[str], *args: object) -> object:
        if any("visited the hotel on Monday" in t for t in texts):
            probed.append(len(texts))
        return real_run(self, texts, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ApertiumTranslator, "_run", counting_run)
    first = ApertiumTranslator()
    try:
        pools = first._pool(EN, ES, 0)
        assert len(probed) == 1 and pools[1]  # probed: person placeholders found
    finally:
        first.close()
    second = ApertiumTranslator()  # what the next `syndicate once` makes
    try:
        assert second._pool(EN, ES, 0) == pools and len(probed) == 1  # remembered, not probed again
        saved = json.loads((tmp_path / "cache" / "syndicate" / "apertium-placeholders.json").read_text())
        assert [key.split("|")[0] for key in saved] == [second.model_id(EN, ES)]  # keyed by the package version
    finally:
        second.close()
    (tmp_path / "cache" / "syndicate" / "apertium-placeholders.json").write_text("{not json")
    third = ApertiumTranslator()
    try:
        assert third._pool(EN, ES, 0) == pools and len(probed) == 2  # a damaged file: probed again, no error
    finally:
        third.close()
