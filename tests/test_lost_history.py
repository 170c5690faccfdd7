"""An emptied or replaced store never silently starts the feeds over (issue 21, case 4).

Before: ``truncate -s 0`` of the SQLite file, then ``once``: exit 0, every article "new"
again, every full archive page (served immutable for a year) rewritten with other bytes.
Now the run refuses (exit 2, naming the store, the languages and the fix) and touches
nothing; ``--reinitialise`` is the operator saying "start over".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from syndicate.config import load_settings
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=config.parent,
        check=False,
    )


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".syndicate-owner"
    }


def test_an_emptied_store_is_refused_until_the_operator_says_start_over(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace('state_dir = "state"', 'state_dir = "state"\nfeed_size = 2'))
    settings = load_settings(config)
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    with Store.open(settings.state_dir) as store:
        assert once(
            settings, store, engines=Engines(settings, factories={"apertium": lambda s: engine}), clock=Clock()
        ).ok
    feeds = tmp_path / "feeds"
    published = _files(feeds)
    assert any("archive/" in name for name in published)  # full archive pages exist
    (settings.state_dir / "syndicate.db").write_bytes(b"")  # truncate -s 0

    refused = _cli(config, "once")
    assert refused.returncode == 2, refused.stderr
    assert "has no record of publishing es" in refused.stderr and "archive page(s)" in refused.stderr
    assert "--reinitialise" in refused.stderr and "Traceback" not in refused.stderr
    assert _files(feeds) == published  # nothing rewritten

    daemon = _cli(config, "run")
    assert daemon.returncode == 2 and "has no record of publishing es" in daemon.stderr

    started_over = _cli(config, "once", "--reinitialise")
    assert started_over.returncode in (0, 1), started_over.stderr
    assert "7 new" in started_over.stdout
    again = _cli(config, "once")  # from now on the store knows the history again
    assert again.returncode in (0, 1) and "0 new" in again.stdout, again.stderr
