from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, time; t = time.perf_counter()\n"
        "from syndicate.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('argostranslate', 'ctranslate2', 'torch', 'stanza', 'spacy', 'sentencepiece', 'feedgen', 'sqlalchemy') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
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
