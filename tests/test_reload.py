"""`syndicate run --serve` reloads its config on SIGHUP and `syndicate reload` (issue 20,
part 4): a new source is polled without a restart, a keep-alive connection to the server
survives, a bad config is refused with the messages of a start and the old one keeps
running, and what needs a restart is named. A real daemon on 127.0.0.1, bounded waits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import write_config
from tests.websub_hub import free_port

pytestmark = pytest.mark.apertium

LATE = "Harbour crane returns to service\n\nThe repaired crane lifted its first containers on Friday morning.\n"


def wait(predicate: Callable[[], object], timeout: float, what: str, log: Path) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (httpx.HTTPError, OSError, ValueError, KeyError):
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout}s:\n{log.read_text(errors='replace')[-5000:]}")


def get_on(sock: socket.socket, path: str) -> bytes:
    """One keep-alive GET on an open socket; the whole response."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_sighup_and_syndicate_reload_take_a_new_config_without_a_restart(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, extra=f'\n[serve]\nhost = "127.0.0.1"\nport = {port}\n')
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "syndicate", "run", "--serve", "--config", str(config)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        feed = "/feeds/es/atom.xml"
        wait(lambda: httpx.get(base + feed, timeout=5).status_code == 200, 120, "the first publish", log)
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        assert get_on(sock, feed).startswith(b"HTTP/1.1 200 ")

        # A new source, by SIGHUP: polled at once, its article published; the connection lives on.
        (tmp_path / "late").mkdir()
        (tmp_path / "late" / "crane.txt").write_text(LATE, encoding="utf-8")
        good = config.read_text(encoding="utf-8") + '\n[[sources]]\nname = "late"\ntype = "folder"\npath = "late"\n'
        config.write_text(good, encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        wait(lambda: "grúa" in httpx.get(base + feed, timeout=5).text.lower(), 90, "the new source's article", log)
        assert get_on(sock, feed).startswith(b"HTTP/1.1 200 ")  # same socket, before and after the reload
        sock.close()
        text = log.read_text(errors="replace")
        assert "reload: scheduled late" in text and "reloaded" in text

        # A bad config: refused with the start's message, the old one keeps running.
        config.write_text(good.replace('languages = ["es"]', 'languages = ["xx-!!"]'), encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        wait(lambda: "reload refused" in log.read_text(errors="replace"), 30, "the refusal", log)
        assert "translate.languages = ['xx-!!']: not BCP 47 language tags" in log.read_text(errors="replace")
        assert process.poll() is None and httpx.get(base + feed, timeout=5).status_code == 200

        # What needs a restart is named; `syndicate reload` sends the signal.
        config.write_text(good.replace(f"port = {port}", f"port = {port + 1}"), encoding="utf-8")
        sent = subprocess.run(
            [sys.executable, "-m", "syndicate", "reload", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert sent.returncode == 0, sent.stderr
        wait(
            lambda: "serve.port take(s) effect only at a restart" in log.read_text(errors="replace"),
            30,
            "the restart notice",
            log,
        )
        assert httpx.get(base + feed, timeout=5).status_code == 200  # still on the old port
        assert "Traceback" not in log.read_text(errors="replace")
    finally:
        process.terminate()
        try:
            assert process.wait(30) == 0
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def test_reload_without_a_daemon_says_so(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "reload", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "no `syndicate run` holds" in result.stderr
