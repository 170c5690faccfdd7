"""Where the server listens is a setting: a wrong one is exit 2 with the key named
(issue 21, case 9), never another port, a silent default or a wrong guess."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_config


def serve(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "serve", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("port", ["108236", "0", "-5", "http"])
def test_a_port_outside_1_to_65535_is_refused(tmp_path: Path, port: str) -> None:
    result = serve(write_config(tmp_path), f"--port={port}")
    assert result.returncode == 2
    assert "is not a port number (1-65535)" in result.stderr and "Traceback" not in result.stderr


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve(write_config(tmp_path), "--port", str(port))
    assert result.returncode == 2
    assert f"[serve] port {port} (or --port) on 127.0.0.1 is in use by another program" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "host, words",
    [
        ("no-such-host.invalid", "cannot be resolved"),
        ("192.0.2.7", "is not an address of this machine"),  # TEST-NET-1: never this machine's
    ],
)
def test_a_host_it_cannot_listen_on_is_named(tmp_path: Path, host: str, words: str) -> None:
    config = write_config(tmp_path, extra=f'\n[serve]\nhost = "{host}"\n')
    result = serve(config)
    assert result.returncode == 2
    assert f"[serve] host '{host}' (or --host) {words}" in result.stderr and "Traceback" not in result.stderr
