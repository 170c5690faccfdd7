"""A regular expression from the config can never hang a run (issue 21, case 5).

``[extract] attribution_patterns`` are the operator's regular expressions. One that
backtracks catastrophically is refused when the config is loaded (probed on short
texts); one that still runs away on some real text is stopped after
``PATTERN_SECONDS`` on that paragraph, the item is named with the pattern and the fix,
the other items are stored, and later items do not spend the bound again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.config import ExtractSettings, load_settings, parse_settings
from syndicate.errors import ConfigError
from syndicate.extract import common
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged

#: A careless attribution pattern: "(o|oo)+" can split a run of o's in exponentially many ways.
RUNAWAY = r"(?P<label>Go(o|oo)+)al: (?P<source>.+)$"
#: A sports report that cheers: the pattern's "(o|oo)+" meets forty o's and no "al:" after.
CHEER = "Goo" + "o" * 40 + "!!! The home side scored in the last minute."


@pytest.fixture(autouse=True)
def _fresh_runaways() -> Iterator[None]:
    common._RUNAWAY.clear()
    yield
    common._RUNAWAY.clear()


def _config(**extract: object) -> dict[str, object]:
    return {
        "site": {"title": "x", "base_url": "https://news.example.org/", "source_language": "en"},
        "translate": {"languages": ["es"]},
        "extract": extract,
        "sources": [{"name": "sample", "type": "folder", "path": "/srv/drop"}],
    }


def test_a_pattern_that_backtracks_is_refused_when_the_config_is_loaded() -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        parse_settings(_config(attribution_patterns=[r"(?P<label>(a|aa)+)(?P<source>b)$"]))
    assert time.monotonic() - started < 2
    text = str(caught.value)
    assert "extract.attribution_patterns" in text and "backtracks catastrophically" in text


def test_the_default_patterns_and_ordinary_ones_load() -> None:
    settings = parse_settings(
        _config(
            attribution_patterns=[
                r"\[\s*(?P<label>Source attribution)\s*:\s*(?P<source>[^\]]+)\]",
                r"^(?P<label>Photo)\s*:\s*(?P<source>.+)$",
                RUNAWAY,  # the probes do not find its weak spot: the run-time bound is the backstop
            ]
        )
    )
    assert len(settings.extract.attribution_patterns) == 3


def test_a_pattern_that_runs_away_on_an_article_stops_that_article_only(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "match.txt").write_text(
        f"Late winner for the home side\n\n{CHEER}\n\nFans stayed to sing.\n", encoding="utf-8"
    )
    (folder / "rerun.txt").write_text(
        f"Highlights of the derby\n\n{CHEER}\n\nThe coach was pleased.\n", encoding="utf-8"
    )
    (folder / "council.txt").write_text(
        "Council approves the budget\n\nThe city council approved the budget on "
        "Monday. [Source attribution: City Desk]\n",
        encoding="utf-8",
    )
    config = write_config(tmp_path, articles=folder)
    settings = load_settings(config)
    extract = ExtractSettings.model_construct(
        **{**settings.extract.model_dump(), "attribution_patterns": (*settings.extract.attribution_patterns, RUNAWAY)}
    )
    settings = settings.model_copy(update={"extract": extract})
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    started = time.monotonic()
    with Store.open(settings.state_dir) as store:
        report = once(
            settings, store, engines=Engines(settings, factories={"apertium": lambda s: engine}), clock=Clock()
        )
        stored = {a.article.key for a in store.articles.many(range(1, 10))}
    elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed
    assert stored == {"council.txt"}
    failed = sorted(p.item for p in report.problems)
    assert failed == ["match.txt", "rerun.txt"]
    for problem in report.problems:
        assert "attribution_patterns" in problem.message and "backtracks catastrophically" in problem.message
        assert problem.fix and "read again on the next poll" in problem.fix
    assert {RUNAWAY} == common._RUNAWAY
