"""``syndicate run`` as a real process: kill -9 and resume, one daemon per state dir, SIGTERM.

The daemon polls a local test server (a pages source walking a chain and a summary-only
feed whose entries are read from their pages), translating with Apertium.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from tests.sources.site import TestSite, article_page, daemon_config, rss, story

pytestmark = pytest.mark.apertium

CHAIN = [story(n) for n in range(1, 7)]  # the pages source: 6 articles linked prev/next
FEED = [story(n) for n in range(11, 15)]  # the feed: 4 entries without full content
TOTAL = len(CHAIN) + len(FEED)


@pytest.fixture
def site() -> Iterator[TestSite]:
    with TestSite() as s:
        for i, st in enumerate(CHAIN):
            prev = CHAIN[i - 1] if i else None
            nxt = CHAIN[i + 1] if i + 1 < len(CHAIN) else None
            s.page(st.path, article_page(st, s.base, prev=prev, next=nxt), delay=0.3)
        for st in FEED:
            s.page(st.path, article_page(st, s.base), delay=0.3)
        s.page("/feed.xml", rss(FEED, s.base, full_content=False), content_type="application/rss+xml")
        yield s


def write_config(site: TestSite, directory: Path) -> Path:
    common = 'interval = "2s"\njitter = "0s"\ntimeout = "5s"\nretries = 1\nretry_backoff = "0.1s"'
    return daemon_config(
        directory,
        f"""
[[sources]]
name = "chain"
type = "pages"
start_url = "{site.url(CHAIN[-1].path)}"
backfill = 10
{common}

[[sources]]
name = "wire"
type = "feed"
url = "{site.url("/feed.xml")}"
{common}
""",
    )


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "syndicate", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        stdin=subprocess.DEVNULL,
        cwd=config.parent,
    )


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def article_count(db: Path) -> int:
    rows = query(db, "SELECT count(*) FROM articles")
    return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]


def published_entries(feeds: Path) -> list[str]:
    path = feeds / "es" / "atom.xml"
    if not path.exists():
        return []
    return [e.id for e in feedparser.parse(path.read_bytes()).entries]


def assert_outputs_complete(directory: Path) -> None:
    """Every published file is whole: feeds parse as XML, pages end their document."""
    files = [
        p
        for d in ("feeds", "translations")
        for p in (directory / d).rglob("*")
        if p.is_file() and not p.name.startswith(".")
    ]
    assert files
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".xml":
            etree.fromstring(data)
        elif path.suffix == ".json":
            json.loads(data)
        elif path.suffix == ".html":
            assert data.rstrip().endswith(b"</html>"), path
        else:
            assert data, path


def test_kill_9_at_any_moment_then_resume_without_duplicates(site: TestSite, tmp_path: Path) -> None:
    config = write_config(site, tmp_path)
    db = tmp_path / "state" / "syndicate.db"
    log = tmp_path / "daemon.log"

    first = start(config, log)
    try:
        wait_for(lambda: article_count(db) >= 3, 60, "the first articles")
    finally:
        first.kill()  # SIGKILL, mid-walk
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    stored_before = article_count(db)
    assert 3 <= stored_before < TOTAL
    for route in site.routes.values():  # the delay was for the kill to land mid-walk; the resume is not killed
        route.delay = 0.0

    second = start(config, log)
    try:
        # One daemon per state directory: a third process is refused and names the holder.
        wait_for(
            lambda: query(db, "SELECT count(*) FROM source_state") != [] and _holds_lock(tmp_path, second.pid),
            30,
            "the lock",
        )
        refused = subprocess.run(
            [sys.executable, "-m", "syndicate", "run", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
        )
        assert refused.returncode == 3
        assert f"in use by process {second.pid}" in refused.stderr and f"kill {second.pid}" in refused.stderr

        wait_for(lambda: len(published_entries(tmp_path / "feeds")) == TOTAL, 90, "every article published")
        wait_for(
            lambda: (
                {r[0] for r in query(db, "SELECT outcome FROM source_state")} <= {"ok", "not-modified"}
                and len(query(db, "SELECT outcome FROM source_state WHERE outcome IS NOT NULL")) == 2
            ),
            30,
            "both sources to poll cleanly",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert second.returncode == 0, log.read_text()[-3000:]

    # No duplicates anywhere: the store, the feeds, the pages.
    keys = query(db, "SELECT source, key FROM articles")
    assert len(keys) == TOTAL == len(set(keys))
    urls = [r[0] for r in query(db, "SELECT url FROM articles")]
    assert len(set(urls)) == TOTAL
    for name in ("atom.xml", "rss.xml"):
        entries = feedparser.parse((tmp_path / "feeds" / "es" / name).read_bytes()).entries
        assert len(entries) == TOTAL and len({e.id for e in entries}) == TOTAL
    assert len([p for p in (tmp_path / "translations" / "es").glob("*.html") if p.name != "index.html"]) == TOTAL
    assert_outputs_complete(tmp_path)
    text = log.read_text()
    assert "poll chain: " in text and "poll wire: " in text
    assert "stopped" in text

    status = subprocess.run(
        [sys.executable, "-m", "syndicate", "status", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.startswith("daemon: not running")
    rows = {line.split()[0]: line for line in status.stdout.splitlines()[2:]}
    assert set(rows) == {"chain", "wire"}


def _holds_lock(state_parent: Path, pid: int) -> bool:
    from syndicate.store.lock import lock_holder

    return lock_holder(state_parent / "state") == pid


def test_sigterm_finishes_the_item_in_hand_and_exits_0(site: TestSite, tmp_path: Path) -> None:
    config = write_config(site, tmp_path)
    db = tmp_path / "state" / "syndicate.db"
    log = tmp_path / "daemon.log"
    daemon = start(config, log)
    try:
        wait_for(lambda: article_count(db) >= 2, 60, "the first articles")
        daemon.send_signal(signal.SIGTERM)
        started = time.monotonic()
        daemon.wait(30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, log.read_text()[-3000:]
    assert time.monotonic() - started < 10  # it did not walk the rest of the chain first
    stored = article_count(db)
    assert stored < TOTAL
    outcomes = dict(query(db, "SELECT source, outcome FROM source_state WHERE outcome IS NOT NULL"))
    assert outcomes.get("chain") == "interrupted"
    # What was stored was also translated and published before exiting.
    assert len(published_entries(tmp_path / "feeds")) == stored
    assert_outputs_complete(tmp_path)

    # The next run carries on from the recorded cursor: nothing fetched twice needlessly.
    hits_before = {st.path: site.hits(st.path) for st in CHAIN}
    daemon = start(config, log)
    try:
        wait_for(lambda: len(published_entries(tmp_path / "feeds")) == TOTAL, 90, "the rest")
    finally:
        daemon.send_signal(signal.SIGINT)
        daemon.wait(30)
    assert daemon.returncode == 0
    keys = query(db, "SELECT source, key FROM articles")
    assert len(keys) == TOTAL == len(set(keys))
    refetched = [p for p, n in hits_before.items() if n and site.hits(p) > n]
    assert len(refetched) <= 2, refetched  # the newest page (conditional GET) and the one in hand at most


def test_run_refuses_a_bad_config_with_exit_2(tmp_path: Path) -> None:
    config = daemon_config(tmp_path, '[[sources]]\nname = "x"\ntype = "feed"\nurl = "ftp://nope"\ninterval = "soon"\n')
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env={**os.environ},
    )
    assert result.returncode == 2
    assert "sources[0].url = 'ftp://nope'" in result.stderr and "sources[0].interval = 'soon'" in result.stderr
    assert not (tmp_path / "state").exists()
