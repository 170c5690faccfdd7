from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, time; t = time.perf_counter()\n"
        "from syndicate.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('argostranslate', 'ctranslate2', 'torch', 'stanza', 'spacy', 'sentencepiece', 'feedgen', 'sqlalchemy') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    assert "HEAVY []" in result.stdout
    assert "once" in result.stdout and "models" in result.stdout
    assert elapsed < 3.0  # interpreter start included; generous for a loaded CI machine


def test_every_command_has_help_and_config_option() -> None:
    for argv in (["once"], ["models"], ["models", "list"], ["models", "install"]):
        result = subprocess.run(
            [sys.executable, "-m", "syndicate", *argv, "--help"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "--config" in result.stdout, argv


def test_models_install_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "models", "install", "en"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "--file" in result.stderr


def _syndicate(*argv: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", *argv], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def _two_projects(tmp_path: Path) -> tuple[Path, Path]:
    """A project in the working directory and another one elsewhere, each with its own state."""
    from tests.sources.site import daemon_config

    here, there = tmp_path / "here", tmp_path / "there"
    for project in (here, there):
        (project / "in").mkdir(parents=True)
        daemon_config(project, f'[[sources]]\nname = "{project.name}-folder"\ntype = "folder"\npath = "in"\n')
    return here, there


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_is_honoured_before_or_after_the_subcommand(tmp_path: Path, where: str) -> None:
    here, there = _two_projects(tmp_path)
    config = ["--config", str(there / "config.toml")]
    argv = [*config, "status"] if where == "before" else ["status", *config]
    result = _syndicate(*argv, cwd=here)
    assert result.returncode == 0, result.stderr
    assert f"state: {there / 'state'}" in result.stdout
    assert [line.split()[0] for line in result.stdout.splitlines()[2:]] == ["there-folder"]


def test_config_before_once_is_the_one_that_runs(tmp_path: Path) -> None:
    here, there = _two_projects(tmp_path)
    result = _syndicate("--config", str(there / "config.toml"), "once", cwd=here)
    assert result.returncode == 0, result.stderr
    assert (there / "state").is_dir() and not (here / "state").exists()


COMMANDS = [
    ["once"],
    ["run"],
    ["serve"],
    ["status"],
    ["stats"],
    ["models", "list"],
    ["models", "install", "--file", "x.argosmodel"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("where", ["before", "after"])
def test_a_missing_config_is_exit_2_with_a_message(tmp_path: Path, command: list[str], where: str) -> None:
    here, _ = _two_projects(tmp_path)  # ./config.toml exists: it must not be used instead
    missing = str(tmp_path / "nonexistent.toml")
    argv = ["--config", missing, *command] if where == "before" else [*command[:2], "--config", missing, *command[2:]]
    result = _syndicate(*argv, cwd=here, timeout=30)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert missing in result.stderr and "cannot read" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (here / "state").exists()


def test_version_is_printed_and_is_the_installed_one(tmp_path: Path) -> None:
    from importlib import metadata

    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"syndicate {metadata.version('syndicate')}"  # pyproject reads __version__
