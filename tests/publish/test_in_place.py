"""A publish with nothing new checks its output folders, not every file it wrote.

The folders' modification times, as the last publish left them, stand for "no file in
them was added, removed or replaced since"; when one moved, every recorded file is
checked and a missing one comes back.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from syndicate.publish.writer import FileWriter
from tests.publish.test_incremental import EL, ES, Site, filled, site  # noqa: F401 - the fixture


class CountingWriter(FileWriter):
    """A real writer that counts the per-file checks asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.checked = 0

    def size(self, path: str) -> int | None:
        self.checked += 1
        return super().size(path)


def test_nothing_new_checks_folders_not_files(site: Site) -> None:
    filled(site)
    writer = CountingWriter()
    assert site.publisher(writer=writer).publish([ES, EL]) == 0
    assert writer.checked == 0  # 20 pages and 18 feed documents, none looked at one by one


def test_a_file_removed_behind_its_back_moves_its_folder_and_comes_back(site: Site) -> None:
    ids = filled(site)
    page = site.root / "translations" / "el" / f"{site.slug(ids[4])}.html"
    before = page.read_bytes()
    page.unlink()
    writer = CountingWriter()
    assert site.publisher(writer=writer).publish([ES, EL]) == 1
    assert page.read_bytes() == before
    assert writer.checked > 0  # the moved folder sent it to the files themselves


def test_a_state_without_folder_times_checks_every_file(site: Site) -> None:
    filled(site)
    with sqlite3.connect(site.settings.state_dir / "syndicate.db") as conn:  # as revision 0002 left it
        conn.execute("UPDATE publish_state SET folders = '{}'")
    writer = CountingWriter()
    assert site.publisher(writer=writer).publish([ES, EL]) == 0
    assert writer.checked >= 38
    feed = site.root / "feeds" / "es" / "atom.xml"
    writer = CountingWriter()
    assert site.publisher(writer=writer).publish([ES, EL]) == 0
    assert writer.checked == 0  # the check above recorded the folders as it found them
    os.utime(feed.parent, ns=(0, 0))  # a folder that moved for any reason: the files are checked
    writer = CountingWriter()
    assert site.publisher(writer=writer).publish([ES, EL]) == 0
    assert writer.checked > 0
