"""``syndicate once`` on broken disks: a message, the summary of what was done, exit 3."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.tmpfs import mounted_tmpfs

SAMPLE_ITEMS = 7


def once(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syndicate", "-q", "once", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=config.parent,
        timeout=240,
    )


def summary(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    match = re.search(r"(\d+) item\(s\) read: (\d+) new, (\d+) updated", result.stdout)
    assert match, (result.stdout, result.stderr)
    return {"read": int(match[1]), "new": int(match[2]), "updated": int(match[3])}


def assert_fatal_with_summary(result: subprocess.CompletedProcess[str], fix: str) -> None:
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert summary(result)["read"] == SAMPLE_ITEMS
    assert re.search(r"^error: cannot write .*/feeds/", result.stderr, re.MULTILINE), result.stderr
    assert fix in result.stderr


def test_a_file_where_the_feeds_folder_should_be(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "feeds").write_text("not a folder\n")
    result = once(config)
    assert_fatal_with_summary(result, f"{tmp_path / 'feeds'} is a file where an output folder is expected")
    assert summary(result)["new"] == SAMPLE_ITEMS  # stored before publishing failed


def test_a_read_only_feeds_folder(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with mounted_tmpfs(tmp_path / "feeds", read_only=True):
        result = once(config)
    assert_fatal_with_summary(result, "read-only file system")


def test_a_full_feeds_folder(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with mounted_tmpfs(tmp_path / "feeds", size="48k") as feeds:
        result = once(config)
        assert not list(feeds.rglob(".*.tmp"))  # no half-written file left behind
    assert_fatal_with_summary(result, "is full")


def _stored_articles(state: Path) -> int:
    try:
        with sqlite3.connect(f"file:{state / 'syndicate.db'}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.Error:
        return 0


# The empty store takes 256 KB of the tmpfs (the schema after migration 0011), its WAL more:
# these leave room for some articles, not all.
@pytest.mark.parametrize("size", ["372k", "420k"])
def test_a_full_state_folder_counts_what_was_really_stored(tmp_path: Path, size: str) -> None:
    config = write_config(tmp_path)
    with mounted_tmpfs(tmp_path / "state", size=size) as state:
        result = once(config)
        stored = _stored_articles(state)
    assert result.returncode in (1, 3), (result.stdout, result.stderr)  # the disk did fill up
    assert "Traceback" not in result.stderr
    assert "disk is full" in result.stderr
    counts = summary(result)
    assert stored > 0  # the disk filled up midway, not before the first article
    assert counts["new"] == stored  # not "0 new" when articles were stored
    assert SAMPLE_ITEMS >= counts["read"] >= stored


def _sharing(tmp_path: Path, name: str) -> Path:
    """A project with its own state and sources but the shared output folders."""
    project = tmp_path / name
    project.mkdir()
    config = write_config(project)
    text = config.read_text()
    text = text.replace('feeds_dir = "feeds"', f'feeds_dir = "{tmp_path / "www" / "feeds"}"')
    text = text.replace(
        'translations_dir = "translations"', f'translations_dir = "{tmp_path / "www" / "translations"}"'
    )
    config.write_text(text)
    return config


def test_two_configurations_with_separate_state_never_share_an_output_folder(tmp_path: Path) -> None:
    first, second = _sharing(tmp_path, "one"), _sharing(tmp_path, "two")
    owner = once(first)
    assert owner.returncode in (0, 1), owner.stderr  # 1 would be an item of the sample, not the folders
    feeds = tmp_path / "www" / "feeds"
    before = {p: p.read_bytes() for p in feeds.rglob("*") if p.is_file()}
    result = once(second)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert str(tmp_path / "one" / "state") in result.stderr and str(tmp_path / "two" / "state") in result.stderr
    assert str(feeds) in result.stderr and "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in feeds.rglob("*") if p.is_file()} == before  # nothing touched
    assert not (tmp_path / "two" / "state" / "syndicate.db").exists()
    assert once(first).returncode in (0, 1)  # the owner still publishes
