"""What the two commands install (issue 20, part 1): `make run` only what running needs,
`make test` the test lab too, and nothing installed starts a service; and the Debian
packages of the configured Apertium pairs are named from the package index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syndicate.translate.apertium import debian_packages

ROOT = Path(__file__).resolve().parent.parent
LAB = ("postgresql", "redis-server", "nginx", "chromium", "chromium-driver", "wrk", "sfeed", "libxml2-utils")


def planned(target: str) -> str:
    """What `make TARGET` would run on a fresh checkout (-B: as if nothing were built)."""
    if shutil.which("make") is None:
        pytest.skip("no make")
    return subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout


def test_make_run_installs_no_database_browser_or_web_server() -> None:
    plan = planned("run")
    assert not [package for package in LAB if f" {package}" in plan], plan
    assert "[argos]" in plan and "test]" not in plan  # the run extras, not the test ones
    assert "scripts/apt-install $(.venv/bin/syndicate -q models packages)" in plan  # the config's pairs
    assert "import ensurepip" in plan and "python3-venv" in plan


def test_make_test_installs_the_lab_without_starting_it() -> None:
    plan = planned("test")
    line = next(line for line in plan.splitlines() if line.startswith("scripts/apt-install libxml2-utils"))
    assert all(package in line.split() for package in LAB)
    script = (ROOT / "scripts" / "apt-install").read_text(encoding="utf-8")
    assert "policy-rc.d" in script and "exit 101" in script and "systemctl disable --now" in script
    assert "apt-get install" not in plan  # only through scripts/apt-install


def test_apt_install_is_a_no_op_for_what_is_installed(tmp_path: Path) -> None:
    if shutil.which("dpkg-query") is None:
        pytest.skip("not Debian")
    # dpkg itself is always installed: nothing to do, no apt-get, no policy file touched.
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    (tmp_path / "apt-get").write_text("#!/bin/sh\necho apt-get must not run >&2\nexit 9\n")
    (tmp_path / "apt-get").chmod(0o755)
    result = subprocess.run(
        [str(ROOT / "scripts" / "apt-install"), "dpkg"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result


def test_debian_names_its_pairs_either_way_round() -> None:
    index = [
        "apertium-eng-spa",
        "apertium-eng-cat",
        "apertium-en-gl",
        "apertium-eo-en",
        "apertium-spa-cat",
        "apertium-eng",
        "apertium-tools",
    ]
    found, missing = debian_packages([("en", "es"), ("en", "gl"), ("en", "eo"), ("es", "en"), ("en", "ja")], index)
    assert found == ["apertium", "apertium-eng-spa", "apertium-en-gl", "apertium-eo-en"]
    assert missing == ["en-ja"]


def test_models_packages_names_the_sample_configs_pairs(tmp_path: Path) -> None:
    if shutil.which("apt-cache") is None:
        pytest.skip("not Debian")
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "-q", "models", "packages", "--config", str(ROOT / "config.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {
        "apertium",
        "apertium-eng-spa",
        "apertium-eng-cat",
        "apertium-en-gl",
        "apertium-eo-en",
    }
