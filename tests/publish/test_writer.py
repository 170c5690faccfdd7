from __future__ import annotations

import os
from pathlib import Path

import pytest

from syndicate.publish.writer import FileWriter


def test_writes_atomically_and_skips_identical(tmp_path: Path) -> None:
    writer = FileWriter()
    target = tmp_path / "feeds" / "es" / "atom.xml"
    assert writer.write(target, b"one")
    mtime = target.stat().st_mtime_ns
    assert not writer.write(target, b"one")
    assert target.stat().st_mtime_ns == mtime
    assert writer.write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["atom.xml"]  # no temp files left


def test_failed_write_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "rss.xml"
    target.write_bytes(b"old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        FileWriter().write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["rss.xml"]


def test_sweep_removes_only_stale_temporary_files(tmp_path: Path) -> None:
    writer = FileWriter()
    (tmp_path / "es").mkdir()
    stale = tmp_path / "es" / ".atom.xml.abc123.tmp"
    fresh = tmp_path / "es" / ".rss.xml.def456.tmp"
    kept = tmp_path / "es" / "atom.xml"
    for path in (stale, fresh, kept):
        path.write_bytes(b"x")
    old = stale.stat().st_mtime - 7200
    os.utime(stale, (old, old))
    assert writer.sweep(tmp_path, tmp_path / "missing") == 1
    assert not stale.exists() and fresh.exists() and kept.exists()
