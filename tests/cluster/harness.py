"""A cluster of real processes for the tests: scheduler and workers over one Redis and one PostgreSQL.

``ClusterHarness`` writes a config (the bundled sample and a generated folder source),
starts ``python -m tests.cluster.launch`` subprocesses (each in its own process group,
so ``kill_worker`` kills the main process and its children like a lost machine), waits
(bounded) until the cluster is idle, and stops everything at the end. Every wait has a
deadline; on timeout the error carries the tail of each process's log.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import redis

from tests.conftest import ROOT, write_config

LANGUAGES = ("es", "ca")
ARTICLES = 207  # the sample's 7 and 200 generated

#: The fixed clock of every cluster test and of its single-machine reference.
NOW = "2026-03-01T12:00:00+00:00"


def generated_articles(folder: Path, count: int, *, start: int = 0) -> None:
    """``count`` short plain-text articles (the scale benchmark's), files ``gen-<n>.txt``."""
    from benchmarks.scale_bench import article_text

    folder.mkdir(parents=True, exist_ok=True)
    for index in range(start, start + count):
        (folder / f"gen-{index:04d}.txt").write_text(article_text(index), encoding="utf-8")


def cluster_config(
    directory: Path,
    *,
    broker_url: str | None,
    store_url: str | None,
    languages: tuple[str, ...] = ("es", "ca"),
    generated: int = 200,
    interval: str = "1h",
    visibility_timeout: str = "12s",
    task_time_limit: str = "10s",
    max_redeliveries: int = 4,
    extra: str = "",
) -> Path:
    """A config over the bundled sample and ``generated`` articles, with a ``[cluster]``
    table when ``broker_url`` is given (without one: the single-machine reference)."""
    gen = directory / "generated"
    if generated and not gen.exists():
        generated_articles(gen, generated)
    cluster = ""
    if broker_url is not None:
        cluster = f"""
[cluster]
broker_url = "{broker_url}"
{f'store_url = "{store_url}"' if store_url else ""}
visibility_timeout = "{visibility_timeout}"
task_time_limit = "{task_time_limit}"
max_redeliveries = {max_redeliveries}
"""
    sources = (
        f"""
[[sources]]
name = "generated"
type = "folder"
path = "generated"
interval = "{interval}"
"""
        if generated
        else ""
    )
    path = write_config(directory, languages=languages, engines=("apertium",), extra=extra)
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        'type = "folder"\npath = "articles"\n', f'type = "folder"\npath = "articles"\ninterval = "{interval}"\n'
    )
    path.write_text(text + sources + cluster, encoding="utf-8")
    return path


@dataclass
class Role:
    """One started role: its process, its log."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def children(self) -> list[int]:
        """PIDs of the role's child processes (a worker's pool)."""
        pids: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):  # every thread's children
            try:
                pids += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
        return pids


@dataclass
class ClusterHarness:
    """Roles as subprocesses of the test, and the waits the tests need."""

    config: Path
    broker_url: str
    roles: list[Role] = field(default_factory=list)

    @property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.broker_url, socket_timeout=5, socket_connect_timeout=5)

    def start(self, role: str, name: str, *args: str, env: dict[str, str] | None = None) -> Role:
        log = self.config.parent / f"{name}.log"
        out = open(log, "ab")  # noqa: SIM115 - the child's
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.cluster.launch", role, "--config", str(self.config), "--now", NOW, *args],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )
        finally:
            out.close()
        started = Role(name, proc, log)
        self.roles.append(started)
        return started

    def worker(self, name: str, *args: str, concurrency: int = 1) -> Role:
        return self.start("worker", name, "--hostname", f"{name}@test", "--concurrency", str(concurrency), *args)

    def scheduler(self, name: str = "scheduler", *args: str) -> Role:
        return self.start("scheduler", name, *args)

    def kill(self, role: Role, sig: int = signal.SIGKILL) -> None:
        """Signal the role's whole process group (a worker: its main process and children)."""
        try:
            os.killpg(role.proc.pid, sig)
        except ProcessLookupError:
            pass
        if sig == signal.SIGKILL:
            role.proc.wait(timeout=10)

    def stop(self, role: Role, timeout: float = 30.0) -> int:
        """SIGTERM (warm shutdown), then SIGKILL if it does not exit in time."""
        if role.alive():
            role.proc.send_signal(signal.SIGTERM)
            try:
                role.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill(role)
        self.kill(role)  # any child left behind
        return role.proc.returncode

    def close(self) -> None:
        for role in self.roles:
            if role.alive():
                self.kill(role, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for role in self.roles:
            try:
                role.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            self.kill(role)

    def logs(self) -> str:
        return "\n".join(f"--- {r.name} (rc={r.proc.poll()}) ---\n{r.tail()}" for r in self.roles)

    def wait_for(self, what: str, predicate: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.logs()}")

    def busy(self) -> dict[str, int]:
        """Tasks waiting or running, per queue, and publishes asked for (empty when idle)."""
        client = self.redis
        try:
            out: dict[str, int] = {}
            for key in client.scan_iter(match="*"):
                name = key.decode(errors="replace")
                if name.startswith(("poll", "translate.", "publish")) and client.type(key) == b"list":
                    if n := client.llen(key):
                        out[name] = n
                elif name.startswith("syndicate:publish-pending:"):
                    out[name] = 1
            for raw in client.hvals("unacked"):
                routing_key = json.loads(raw)[2]
                out[f"running:{routing_key}"] = out.get(f"running:{routing_key}", 0) + 1
            return out
        finally:
            client.close()

    def wait_idle(self, timeout: float, *, settle: float = 1.5, check: Callable[[], bool] = lambda: True) -> None:
        """Until nothing is queued, running or asked for, and ``check()``, for ``settle`` seconds."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            if not self.busy() and check():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle:
                    return
            else:
                quiet_since = None
            time.sleep(0.2)
        raise AssertionError(f"cluster not idle after {timeout:.0f} s: {self.busy()}\n{self.logs()}")


def outputs(base: Path) -> dict[str, bytes]:
    """Every published file under ``base``'s feeds/ and translations/, by relative path."""
    out: dict[str, bytes] = {}
    for folder in ("feeds", "translations"):
        for path in sorted((base / folder).rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                out[str(path.relative_to(base))] = path.read_bytes()
    return out


def reference(base: Path) -> dict[str, bytes]:
    """The single-machine run: ``once`` on SQLite, in this process, at the fixed clock."""
    from syndicate.config import load_settings
    from syndicate.store import Store
    from syndicate.work import once

    settings = load_settings(cluster_config(base, broker_url=None, store_url=None))
    fixed = datetime.fromisoformat(NOW)
    with Store.open(settings.state_dir) as store:
        report = once(settings, store, clock=lambda: fixed)
    assert not report.problems, report.problems
    return outputs(base)


def feed_entry_ids(base: Path, language: str) -> list[str]:
    """The Atom entry ids of a language's subscription feed and all its archive pages."""
    ids: list[str] = []
    for path in sorted((base / "feeds" / language).rglob("*.xml")):  # atom.xml, archive/<n>.xml
        ids += re.findall(rb"<id>(tag:[^<]+)</id>", path.read_bytes())
    return [i.decode() for i in ids]


def assert_complete(base: Path, articles: int = ARTICLES) -> None:
    """Every article published once in every language: once in the feeds, one page each."""
    for language in LANGUAGES:
        ids = feed_entry_ids(base, language)
        entries = [i for i in ids if re.search(rf":{language}/\d+$", i)]
        duplicates = [i for i, n in Counter(entries).items() if n > 1]
        assert not duplicates, f"{language}: entries published twice: {duplicates[:5]}"
        assert len(entries) == articles, f"{language}: {len(entries)} entries, expected {articles}"
        pages = [p for p in (base / "translations" / language).glob("*.html") if p.name != "index.html"]
        assert len(pages) == articles, f"{language}: {len(pages)} pages"


def polled(store_url: str, *names: str) -> bool:
    from syndicate.store import Store

    store = Store.from_url(store_url)
    try:
        return all(store.sources.get(name).last_poll is not None for name in names)
    finally:
        store.close()


def log_has(role: Role, pattern: str) -> bool:
    return re.search(pattern, role.tail(100_000)) is not None


#: A translation batch big enough to be killed in the middle of (the generated source's).
BIG_BATCH = r"translating \d{3,} segment\(s\)"
