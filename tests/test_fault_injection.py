"""Fault injection: a real ``syndicate run`` killed (SIGKILL) at seeded random moments,
then resumed, ends in the same state as a run that was never interrupted (issue 9).

Same local site as tests/test_daemon.py (a pages chain and a summary-only feed, Apertium
into Spanish). Compared: the stored articles, their translations (titles), and the
entries of every published feed (by link, since article ids follow arrival order).
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import feedparser
import pytest

from tests.sources.site import TestSite
from tests.test_daemon import (  # noqa: F401
    TOTAL,
    assert_outputs_complete,
    query,
    site,
    start,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.apertium

SEED = 9
KILLS = 3


def state(directory: Path) -> dict[str, object]:
    db = directory / "state" / "syndicate.db"
    feeds = {}
    for path in sorted((directory / "feeds").rglob("*.xml")):
        parsed = feedparser.parse(path.read_bytes())
        if parsed.version:
            feeds[str(path.relative_to(directory))] = sorted(e.get("link", "") for e in parsed.entries)
    return {
        "articles": sorted(query(db, "SELECT source, key, title, url FROM articles")),
        "translations": sorted(
            query(
                db,
                "SELECT a.source, a.key, t.language, t.title FROM translations t "
                "JOIN articles a ON a.id = t.article_id",
            )
        ),
        "feeds": feeds,
    }


def run_until_done(directory: Path) -> None:
    config = directory / "config.toml"
    db = directory / "state" / "syndicate.db"
    log = directory / "daemon.log"
    daemon = start(config, log)
    try:
        wait_for(lambda: query(db, "SELECT count(*) FROM translations") == [(TOTAL,)], 60, "every article translated")
        wait_for(
            lambda: (
                {r[0] for r in query(db, "SELECT outcome FROM source_state")} <= {"ok", "not-modified"}
                and len(query(db, "SELECT outcome FROM source_state WHERE outcome IS NOT NULL")) == 2
            ),
            30,
            "both sources to poll cleanly",
        )
        time.sleep(0.5)  # the publish after the last translation
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    assert daemon.returncode == 0, log.read_text()[-3000:]


def test_killed_at_random_moments_ends_like_an_uninterrupted_run(site: TestSite, tmp_path: Path) -> None:  # noqa: F811
    calm, hurt = tmp_path / "calm", tmp_path / "hurt"
    for directory in (calm, hurt):
        directory.mkdir()
        write_config(site, directory)
    run_until_done(calm)

    rng = random.Random(SEED)
    for _ in range(KILLS):
        daemon = start(hurt / "config.toml", hurt / "daemon.log")
        time.sleep(rng.uniform(0.2, 4.0))  # mid-fetch, mid-translation or mid-publish
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)
    run_until_done(hurt)

    assert_outputs_complete(hurt)
    expected, got = state(calm), state(hurt)
    assert len(expected["articles"]) == TOTAL  # type: ignore[arg-type]
    assert got == expected
