"""Failures an operator must act on show on /status, in ``syndicate status`` and in
/metrics, not only in the log (issue 21, case 9); a store on a read-only file system can
still be read by the commands that only read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from syndicate import metrics
from syndicate.config import load_settings
from syndicate.serve.app import create_app
from syndicate.store import Store
from tests.conftest import write_config
from tests.tmpfs import mounted_tmpfs


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "-q", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=config.parent,
        timeout=240,
    )


def scrape(app: object) -> str:
    metrics.HEALTH.source = app.service.health  # type: ignore[attr-defined]
    try:
        return metrics.render().decode()
    finally:
        metrics.HEALTH.source = None


def test_a_failed_publish_is_on_status_in_the_command_and_in_the_metrics_until_it_recovers(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with mounted_tmpfs(tmp_path / "feeds", read_only=True):
        failed = cli(config, "once")
        assert failed.returncode == 3 and "read-only file system" in failed.stderr, failed.stderr
        status = cli(config, "status")
    assert status.returncode == 1, (status.stdout, status.stderr)  # something needs the operator
    assert "needs attention:" in status.stdout
    line = next(line for line in status.stdout.splitlines() if line.strip().startswith("- es:"))
    assert "publishing failed 1 time(s) in a row" in line and "read-only file system" in line

    settings = load_settings(config)
    with Store.open(settings.state_dir) as store:
        app = create_app(settings, store=store)
        data = app.service.snapshot()
        assert data is not None
        es = next(language for language in data["languages"] if language["language"] == "es")
        assert es["publish"]["failing"] and es["publish"]["failures_in_row"] == 1
        assert any(line.startswith("es: publishing failed") for line in data["attention"])
        assert 'syndicate_publish_failing{language="es"} 1.0' in scrape(app)
        assert "syndicate_attention 1.0" in scrape(app)

    recovered = cli(config, "once")  # the disk is writable again
    assert recovered.returncode == 0, recovered.stderr
    status = cli(config, "status")
    assert status.returncode == 0 and "needs attention" not in status.stdout, status.stdout
    with Store.open(settings.state_dir) as store:
        app = create_app(settings, store=store)
        data = app.service.snapshot()
        assert data is not None and data["attention"] == []
        es = next(language for language in data["languages"] if language["language"] == "es")
        assert not es["publish"]["failing"] and es["publish"]["failures"] == 1 and es["publish"]["recovered"]
        text = scrape(app)
        assert 'syndicate_publish_failing{language="es"} 0.0' in text
        assert 'syndicate_publish_failures_recorded{language="es"} 1.0' in text
        assert "syndicate_attention 0.0" in text


def test_a_store_on_a_read_only_file_system_can_still_be_read(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with mounted_tmpfs(tmp_path / "state", size="64m") as state:
        assert cli(config, "once").returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(state)], check=True)
        status = cli(config, "status")
        assert status.returncode == 0, (status.stdout, status.stderr)
        assert "Traceback" not in status.stderr and "read-only" in status.stderr
        row = next(line for line in status.stdout.splitlines() if line.startswith("sample"))
        assert " ok " in f" {row} " and " 7 " in row  # the last poll: ok, 7 new
        stats = cli(config, "stats")
        assert stats.returncode == 0 and "apertium" in stats.stdout, stats.stderr

        settings = load_settings(config)
        app = create_app(settings)  # a `syndicate serve` beside no daemon opens the store itself
        try:
            data = app.service.snapshot()
            assert data is not None and data["sources"][0]["items_new"] == 7
        finally:
            app.service.close()
