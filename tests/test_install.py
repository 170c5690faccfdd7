"""`pip install .` into a fresh virtualenv, with the pip that virtualenv ships (no upgrade),
gives a program that runs the bundled sample (issue 20: with pip 23 every HTML page failed
on `lxml.html.clean`, which only an extra that lxml 6.2 no longer declares brought in).

A non-editable install of a copy of the tree, run from another folder, so nothing of the
checkout's own virtualenv or source is used. About a minute and a half (pip's cache).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.apertium


def test_pip_install_in_a_fresh_virtualenv_runs_the_sample(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".bench-venv", ".git", "feeds", "translations", ".syndicate", "__pycache__", "benchmarks", "tests"
        ),
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        # --no-compile: byte-compiling every installed module has nothing to do with what is
        # resolved and installed; the run below compiles what it imports.
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", str(source)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    work = tmp_path / "run"
    work.mkdir()
    shutil.copy(ROOT / "config.toml", work / "config.toml")
    shutil.copytree(ROOT / "examples", work / "examples")
    program = venv / "bin" / "syndicate"
    version = subprocess.run([str(program), "--version"], capture_output=True, text=True, timeout=60, cwd=work)
    assert version.returncode == 0 and version.stdout.startswith("syndicate "), version.stderr
    once = subprocess.run([str(program), "-q", "once"], capture_output=True, text=True, timeout=600, cwd=work)
    assert once.returncode == 0, once.stderr[-3000:]
    assert "7 item(s) read: 7 new" in once.stdout and "ImportError" not in once.stderr
    assert (work / "feeds" / "es" / "atom.xml").is_file()
