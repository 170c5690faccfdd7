"""Two ``publish(lang)`` at once: the second waits for the first (PostgreSQL advisory
lock), and the files are whole and the same as a single machine's."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.cluster.harness import NOW, cluster_config, outputs
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.apertium,
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed (make setup installs it)"),
]


def test_two_publishes_of_a_language_at_once_take_turns_and_write_whole_files(
    tmp_path: Path, fresh_redis_url: str, fresh_postgres_url: str, expected: dict[str, bytes]
) -> None:
    from syndicate.config import load_settings
    from syndicate.store import Store
    from syndicate.translate.engines import Engines
    from syndicate.work import Work

    config = cluster_config(tmp_path, broker_url=fresh_redis_url, store_url=fresh_postgres_url)
    settings = load_settings(config)
    fixed = datetime.fromisoformat(NOW)
    # The store as the cluster leaves it before publishing: both sources polled, both
    # languages translated (what `once` does before its publish).
    with Store.from_url(fresh_postgres_url) as store, Engines(settings) as engines:
        work = Work(settings, store, engines, clock=lambda: fixed)
        for source in settings.sources:
            work.poll(source.name)
        for language in settings.translate.languages:
            work.translate(language)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.json"
        procs.append(
            (
                out,
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tests.cluster.publish_race",
                        str(config),
                        str(out),
                        str(barrier),
                        "2",
                        "es",
                        "ca",
                    ],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                ),
            )
        )
    for _out, proc in procs:
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output.decode(errors="replace")[-3000:]
    runs = [json.loads(out.read_text()) for out, _ in procs]
    for language in ("es", "ca"):
        spans = sorted((s for run in runs for s in run["spans"] if s["language"] == language), key=lambda s: s["began"])
        assert len(spans) == 2
        first, second = spans
        assert second["began"] >= first["ended"], f"{language}: two publishes wrote at once: {spans}"
        if language == "es":  # both asked together; the second waited for the first
            assert abs(first["asked"] - second["asked"]) < 0.5, spans
            assert second["began"] - second["asked"] >= 0.9 * (first["ended"] - first["began"]), spans
    # One of the two wrote everything; the other found it all in place.
    written = sorted(r["files_written"] for run in runs for r in run["results"] if r["language"] == "es")
    assert written[0] == 0 < written[1], written
    got = outputs(tmp_path)
    different = [name for name in expected if got.get(name) != expected[name]]
    assert sorted(got) == sorted(expected)
    assert not different, f"{len(different)} file(s) differ from the single-machine run, e.g. {different[:5]}"
