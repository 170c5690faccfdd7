"""The drop-folder source on a folder filled the way editors and exports fill one.

Files arrive in any order, next to hidden files, editors' swap and partial copies, notes,
images and sub-folders. The source yields article files in name order, reads a file only
when its size or modification time moved since it was stored, and says which other files
it leaves alone.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from syndicate.config import FolderSourceSettings
from syndicate.errors import ItemError
from syndicate.models import RawItem
from syndicate.sources.base import FetchState
from syndicate.sources.folder import FolderSource
from tests.sources.events import drain


def _source(folder: Path) -> FolderSource:
    settings = FolderSourceSettings(name="desk", type="folder", path=folder)
    return FolderSource(settings, folder.parent)


def _story(title: str) -> str:
    return f"{title}\n\nThe regional council met on Thursday evening to vote on the budget.\n"


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    folder = tmp_path / "desk"
    folder.mkdir()
    # Written out of name order, as a sync tool or a script would.
    for name in ("2026-12-02-budget.txt", "2026-11-30-ferries.html", "2026-12-01-harbour.TXT"):
        body = (
            _story(name)
            if not name.endswith(".html")
            else (
                "<!doctype html><html><head><title>Ferries</title></head><body><article><h1>Ferries</h1>"
                "<p>The ferry company cut two crossings from the winter timetable.</p></article></body></html>"
            )
        )
        (folder / name).write_text(body, encoding="utf-8")
    (folder / ".2026-12-02-budget.txt.swp").write_bytes(b"\x00vim swap")
    (folder / "2026-12-03-election.txt.partial").write_text("half a copy", encoding="utf-8")
    (folder / "README.md").write_text("Drop articles here.", encoding="utf-8")
    (folder / "front-page.jpg").write_bytes(b"\xff\xd8\xff\xe0 not an article")
    (folder / "archive.txt").mkdir()  # a folder with an article's name is no article
    return folder


def test_articles_come_in_name_order_and_other_files_are_left_alone(
    desk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="syndicate.sources.folder"):
        items, end = drain(_source(desk).fetch(FetchState()))
    assert [i.key for i in items if isinstance(i, RawItem)] == [
        "2026-11-30-ferries.html",
        "2026-12-01-harbour.TXT",
        "2026-12-02-budget.txt",
    ]
    assert [i.media_type for i in items if isinstance(i, RawItem)] == ["text/html", "text/plain", "text/plain"]
    skipped = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert skipped == [
        "[desk] skipping front-page.jpg: not a .txt or .html article"
    ]  # notes and partial copies pass quietly
    assert sorted(end.state.cursor["files"]) == [
        "2026-11-30-ferries.html",
        "2026-12-01-harbour.TXT",
        "2026-12-02-budget.txt",
    ]
    assert not end.not_modified


def test_only_new_and_changed_files_are_read_again(desk: Path) -> None:
    source = _source(desk)
    _, first = drain(source.fetch(FetchState()))
    (desk / "2026-12-04-storm.txt").write_text(_story("Storm"), encoding="utf-8")
    edited = desk / "2026-12-01-harbour.TXT"
    info = edited.stat()
    edited.write_text(_story("Harbour, corrected"), encoding="utf-8")
    os.utime(edited, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))

    items, second = drain(source.fetch(first.state))
    assert [i.key for i in items if isinstance(i, RawItem)] == ["2026-12-01-harbour.TXT", "2026-12-04-storm.txt"]
    assert len(second.state.cursor["files"]) == 4

    items, third = drain(source.fetch(second.state))
    assert items == [] and third.not_modified
    assert third.state.cursor == second.state.cursor


def test_a_file_that_was_not_stored_is_read_again_and_an_oversized_one_is_named(desk: Path) -> None:
    (desk / "2026-12-05-dump.txt").write_bytes(b"x" * (5 * 1024 * 1024 + 1))
    source = _source(desk)
    items, end = drain(source.fetch(FetchState()), stored=lambda item: item.key != "2026-12-02-budget.txt")
    errors = [i for i in items if isinstance(i, ItemError)]
    assert [(e.item, "too large" in str(e)) for e in errors] == [("2026-12-05-dump.txt", True)]
    assert "2026-12-02-budget.txt" not in end.state.cursor["files"]  # the store said no: tried again next time
    again, _ = drain(source.fetch(end.state))
    assert [i.key for i in again if isinstance(i, RawItem)] == ["2026-12-02-budget.txt"]


def test_links_out_of_the_folder_are_never_read(tmp_path: Path) -> None:
    # issue 21 (second trial): `ln -s /etc/shadow drop/shadow.txt` published the file.
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "config.toml").write_text('store_url = "postgresql://u:S3cret@db/x"\n', encoding="utf-8")
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "story.txt").write_text(_story("A real story"), encoding="utf-8")
    (folder / "cfg.txt").symlink_to(outside / "config.toml")
    (folder / "shadow.txt").symlink_to("/etc/shadow")
    (folder / "up.txt").symlink_to("../secret/config.toml")
    (folder / "same.txt").symlink_to("story.txt")  # inside the folder: an ordinary article
    items, _ = drain(_source(folder).fetch(FetchState()))
    read = {i.key: i.data for i in items if isinstance(i, RawItem)}
    refused = {i.item: str(i) for i in items if isinstance(i, ItemError)}
    assert sorted(read) == ["same.txt", "story.txt"] and read["same.txt"] == read["story.txt"]
    assert sorted(refused) == ["cfg.txt", "shadow.txt", "up.txt"]
    assert all("outside the folder" in message and "copy the file" in message for message in refused.values())
    assert not any(b"S3cret" in data or b"root:" in data for data in read.values())
