"""A real ``syndicate serve`` over a real ``syndicate once`` of the bundled sample.

The site is published once per test package (Apertium, like the other end-to-end tests),
with ``feed_size = 2`` so the sample's seven entries also fill RFC 5005 archive pages,
under a ``base_url`` with a path (``/news/``) so the prefix is exercised. Servers run as
subprocesses on free 127.0.0.1 ports and are stopped by the fixtures, each wait bounded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import write_config

#: A file beside the output folders that no request may ever read.
SECRET = "TOPSECRET-do-not-serve"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def site_config(directory: Path, *, serve: str = "", feed_size: int = 2) -> Path:
    """The test config with a ``/news/`` base path, small feeds and a ``[serve]`` table."""
    config = write_config(directory, extra=f'\n[serve]\nmax_age = "2m"\n{serve}\n')
    text = config.read_text(encoding="utf-8")
    text = text.replace('base_url = "https://news.example.org/"', 'base_url = "https://news.example.org/news/"')
    text = text.replace('state_dir = "state"', f'state_dir = "state"\nfeed_size = {feed_size}')
    config.write_text(text, encoding="utf-8")
    return config


def run_cli(config: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=config.parent,
        timeout=timeout,
        check=False,
    )


@dataclass
class Server:
    """A running ``syndicate`` server subprocess."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return int(self.process.returncode)


def start_server(config: Path, *args: str, ready: str = "/healthz", timeout: float = 60) -> Server:
    """Start ``syndicate <args>`` (default ``serve``) on a free port; wait until ``ready`` answers 200."""
    port = free_port()
    log = config.parent / f"server-{port}.log"
    command = [sys.executable, "-m", "syndicate", *(args or ("serve",)), "--config", str(config), "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=config.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(server.url(ready), timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"server not ready within {timeout}s:\n{log.read_text(errors='replace')}")


@dataclass(frozen=True)
class Site:
    """A published copy of the sample."""

    root: Path
    config: Path

    @property
    def feeds(self) -> Path:
        return self.root / "feeds"

    @property
    def pages(self) -> Path:
        return self.root / "translations"


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("site")
    config = site_config(root)
    result = run_cli(config, "once")
    assert result.returncode == 0, result.stderr
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    # Traps inside the output folders: symlinks that lead out, a writer's temporary file.
    (root / "feeds" / "es" / "leak.txt").symlink_to(root / "secret.txt")
    (root / "feeds" / "out").symlink_to(outside, target_is_directory=True)
    (root / "translations" / "es" / "passwd.html").symlink_to("/etc/passwd")
    (root / "feeds" / "es" / ".atom.xml.abc123.tmp").write_text(SECRET, encoding="utf-8")
    return Site(root, config)


@pytest.fixture(scope="package")
def server(site: Site) -> Iterator[Server]:
    server = start_server(site.config)
    yield server
    assert server.stop() == 0, server.log.read_text(errors="replace")


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=10) as client:
        yield client
