"""A real feed reader (Debian's sfeed) fetches our feeds over HTTP and lists them right."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Clock
from tests.publish.helpers import (
    BASE_URL,
    run,
    script_engine,
    sfeed_listing,
    sfeed_plain_title,
    sfeed_tools,
    write_feed_config,
)
from tests.publish.site import CHAIN, Site

pytestmark = pytest.mark.skipif(sfeed_tools() is None, reason="sfeed/curl missing: run `make system-packages`")


def test_sfeed_lists_translated_titles_in_chain_order_with_scripts_intact(tmp_path: Path) -> None:
    # es: accented Latin; el: Greek; ru: Cyrillic (a fake engine that changes script).
    config = write_feed_config(tmp_path, languages=("es", "el", "ru"))
    _, report = run(config, Clock(), script_engine("es", "el", "ru"))
    assert report.ok, report.failures
    languages = ("es", "el", "ru")
    feeds = {f"{language}-{fmt}": f"feeds/{language}/{fmt}.xml" for language in languages for fmt in ("atom", "rss")}
    listing = sfeed_listing(tmp_path, feeds, tmp_path / "reader")
    slugs = {
        "City Library Reopens After Two-Year Renovation": "city-library-reopens-after-two-year-renovation",
    }
    stored = Site(tmp_path, languages).titles  # what the store holds: the feeds must list exactly that
    for name, rows in listing.items():
        language = name.split("-")[0]
        titles = [title for _, title, _ in rows]
        assert titles == [sfeed_plain_title(stored[language][t]) for t in CHAIN], name
        assert all(date for date, _, _ in rows)  # every date understood (RFC 822 / RFC 3339)
        assert "2024-01-24 00:00" in {date for date, _, _ in rows}  # the one article with its own date
        assert rows[0][2] == f"{BASE_URL}translations/{language}/{slugs[CHAIN[0]]}.html"
    greek = {title for _, title, _ in listing["el-atom"]}
    # (The headline goes to the engine in sentence case.)
    assert "Κιτψ λιβραρψ ρεοπενσ αφτερ τωο-ψεαρ ρενοβατιον" in greek
    assert "Cíty líbráry réópéñs áftér twó-yéár réñóvátíóñ" in {title for _, title, _ in listing["es-rss"]}
