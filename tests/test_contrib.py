"""The systemd unit in contrib/ (issue 20, part 2): it verifies with systemd's own
checker where that is installed, runs what the README says, reloads with SIGHUP, and its
hardening rates "OK" or better in `systemd-analyze security`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "contrib" / "systemd" / "syndicate.service"


def installed_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's program (verify checks it exists)."""
    program = Path(sys.executable).parent / "syndicate"
    text = UNIT.read_text(encoding="utf-8").replace("/opt/syndicate/.venv/bin/syndicate", str(program))
    copy = tmp_path / "syndicate.service"
    copy.write_text(text, encoding="utf-8")
    return copy


def test_the_unit_runs_the_daemon_and_reloads_with_sighup() -> None:
    text = UNIT.read_text(encoding="utf-8")
    assert re.search(r"^ExecStart=\S+/syndicate run --serve --config \S+$", text, re.MULTILINE)
    assert "ExecReload=/bin/kill -HUP $MAINPID" in text and "RestartPreventExitStatus=2" in text
    for option in (
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "DynamicUser=yes",
        "PrivateTmp=yes",
        "SystemCallFilter=@system-service",
        "CapabilityBoundingSet=",
    ):
        assert option in text


def test_systemd_verifies_the_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    copy = installed_copy(tmp_path)
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(copy)], capture_output=True, text=True, timeout=60
    )
    level = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", security.stdout)
    assert level, security.stdout[-2000:]
    assert float(level[1]) <= 2.5, security.stdout[-3000:]  # "OK" (systemd rates 0-10, lower is safer)
