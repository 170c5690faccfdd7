"""The drop-folder source on a folder filled the way editors and exports fill one.

Files arrive in any order, next to hidden files, editors' swap and partial copies, notes,
images and sub-folders. The source yields article files in name order, reads a file only
when its size or modification time moved since it was stored, and says which other files
it leaves alone.
"""

from __future__ import annotations

import logging
import os
import shutil
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


def _moving(folder: Path, move_to: str) -> FolderSource:
    settings = FolderSourceSettings(name="desk", type="folder", path=folder, move_to=Path(move_to))
    return FolderSource(settings, folder.parent)


def test_with_move_to_stored_files_leave_the_folder_and_a_file_dropped_again_is_read(desk: Path) -> None:
    source = _moving(desk, "imported")
    items, first = drain(source.fetch(FetchState()), stored=lambda item: item.key != "2026-12-02-budget.txt")
    assert sorted(i.key for i in items if isinstance(i, RawItem)) == [
        "2026-11-30-ferries.html",
        "2026-12-01-harbour.TXT",
        "2026-12-02-budget.txt",
    ]
    imported = desk / "imported"
    assert sorted(p.name for p in imported.iterdir()) == ["2026-11-30-ferries.html", "2026-12-01-harbour.TXT"]
    # What the store refused stays, to be read again; notes and partial copies stay untouched.
    assert (desk / "2026-12-02-budget.txt").exists() and (desk / "README.md").exists()
    assert (desk / "2026-12-03-election.txt.partial").exists()
    assert first.state.cursor["files"] == {}  # nothing left to check file by file

    again, second = drain(source.fetch(first.state))
    assert [i.key for i in again if isinstance(i, RawItem)] == ["2026-12-02-budget.txt"]
    assert not (desk / "2026-12-02-budget.txt").exists() and second.state.cursor["files"] == {}

    # The same name dropped again (a corrected version): read, and it replaces the old file.
    (desk / "2026-12-01-harbour.TXT").write_text(_story("Harbour, corrected"), encoding="utf-8")
    third, end = drain(source.fetch(second.state))
    assert [i.key for i in third if isinstance(i, RawItem)] == ["2026-12-01-harbour.TXT"]
    assert "corrected" in (imported / "2026-12-01-harbour.TXT").read_text(encoding="utf-8")
    nothing, last = drain(source.fetch(end.state))
    assert nothing == [] and last.not_modified


def test_move_to_set_later_moves_what_was_stored_without_reading_it_again(desk: Path, tmp_path: Path) -> None:
    _, first = drain(_source(desk).fetch(FetchState()))
    elsewhere = tmp_path / "done"  # an absolute folder, made by the poll
    items, end = drain(_moving(desk, str(elsewhere)).fetch(first.state))
    assert items == [] and end.not_modified
    assert sorted(p.name for p in elsewhere.iterdir()) == sorted(first.state.cursor["files"])
    assert end.state.cursor["files"] == {}


def test_a_move_to_that_cannot_be_used_is_named(desk: Path, caplog: pytest.LogCaptureFixture) -> None:
    from syndicate.errors import SourceError

    (desk.parent / "taken").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(SourceError, match=r"move_to .*taken is a file, not a folder") as raised:
        drain(_moving(desk, "../taken").fetch(FetchState()))
    assert "sources.move_to" in str(raised.value.hint) and list(desk.glob("*.txt"))  # nothing read or moved
    with pytest.raises(SourceError, match="is the drop folder itself"):
        drain(_moving(desk, str(desk)).fetch(FetchState()))
    with pytest.raises(ValueError, match="another folder than the drop folder"):
        FolderSourceSettings(name="desk", type="folder", path=desk, move_to=Path("."))

    # A file that cannot be moved (its name is taken by a folder there) is stored, kept in
    # the cursor like any stored file, and moved by a later poll once the way is clear.
    blocked = desk / "imported" / "2026-12-02-budget.txt"
    (blocked / "inside").mkdir(parents=True)
    (blocked / "inside" / "x").write_text("x", encoding="utf-8")
    source = _moving(desk, "imported")
    with caplog.at_level(logging.WARNING, logger="syndicate.sources.folder"):
        _, first = drain(source.fetch(FetchState()))
    assert list(first.state.cursor["files"]) == ["2026-12-02-budget.txt"]
    assert any("2026-12-02-budget.txt is stored but could not be moved" in r.getMessage() for r in caplog.records)
    shutil.rmtree(blocked)
    _, second = drain(source.fetch(first.state))
    assert second.state.cursor["files"] == {} and (desk / "imported" / "2026-12-02-budget.txt").is_file()
