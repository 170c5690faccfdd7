"""`syndicate once` stopped by SIGTERM or Ctrl-C (issue 21, second trial): it printed only
"interrupted" (SIGINT) or nothing (SIGTERM), kept no source's place, and stored work was
left untranslated. Now the item in hand finishes, what was read is stored, translated and
published, the summary says so, and the next run goes on from there."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.sources.site import Route, TestSite, article_page, rss, story

pytestmark = pytest.mark.apertium

STORIES = 25


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_once_keeps_what_it_read_and_the_next_goes_on(tmp_path: Path, signum: int) -> None:
    stories = [story(n) for n in range(1, STORIES + 1)]
    with TestSite() as site:
        site.route(
            "/feed.xml", Route(rss(stories, site.base, full_content=False).encode(), content_type="application/rss+xml")
        )
        # Each linked page takes a quarter of a second, so the signal lands mid-run.
        pages = [site.route(s.path, Route(article_page(s, site.base).encode(), delay=0.25)) for s in stories]
        extra = (
            f'\n[[sources]]\nname = "wire"\ntype = "feed"\nurl = "{site.url("/feed.xml")}"\n'
            "allow_private_addresses = true\nretries = 0\n"
        )
        config = write_config(tmp_path, extra=extra)
        command = [sys.executable, "-m", "syndicate", "-q", "once", "--config", str(config)]
        process = subprocess.Popen(
            command,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 60
        while sum(1 for r in site.requests if r.path.startswith("/news/story-")) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 128 + signum, (out, err)
        assert "Traceback" not in err and "interrupted: what was read is stored and published" in err
        first = re.search(r"(\d+) item\(s\) read: (\d+) new", out)
        assert first, (out, err)
        new_first = int(first[2])
        assert 0 < new_first < 7 + STORIES  # some of what there is, not all of it
        assert (tmp_path / "feeds" / "es" / "atom.xml").is_file()  # published before it exited

        for page in pages:  # the next run is not interrupted: its pages need not be slow
            page.delay = 0.0
        again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=240)
        assert again.returncode == 0, again.stderr
        second = re.search(r"(\d+) item\(s\) read: (\d+) new", again.stdout)
        assert second and new_first + int(second[2]) == 7 + STORIES  # nothing lost, nothing twice


def test_the_summary_lists_twenty_failures_and_counts_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(60):
        (folder / f"empty-{n:02d}.txt").write_text("", encoding="utf-8")
    config = write_config(tmp_path, articles=folder)
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "-q", "once", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    listed = [line for line in result.stderr.splitlines() if line.startswith("  [")]
    assert "60 item(s) failed:" in result.stderr and len(listed) == 20
    assert "... and 40 more" in result.stderr
