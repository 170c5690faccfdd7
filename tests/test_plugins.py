"""A plug-in is its own module plus one registry line (issue 22, item 1).

This module is such a module: a source type (``type = "notes"``, news items kept as
blocks in one text file) and an engine (``shout``: upper-cases what it translates),
each a settings class naming its implementation, registered with one call. Nothing else
in the code knows them, yet they load from config.toml, show in ``models list`` and the
install hints, are made for a cluster child, and a whole ``once`` reads, translates and
publishes through them. A half-registered plug-in is refused when it is registered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import feedparser
import pytest

from syndicate.config import (
    ENGINE_TYPES,
    SOURCE_TYPES,
    EngineSettings,
    FolderSourceSettings,
    load_settings,
    register_engine,
    register_source,
)
from syndicate.errors import ConfigError
from syndicate.models import RawItem
from syndicate.sources.base import Events, FetchResult, FetchState
from syndicate.store import Store
from syndicate.work import once
from tests.conftest import Clock
from tests.fakes import FakeEngine

# ---------------------------------------------------------------- the plug-in module


class NotesSourceSettings(FolderSourceSettings):
    """``[[sources]] type = "notes"``: one text file, items separated by a line of ``%``."""

    type: Literal["notes"]  # type: ignore[assignment]  # the registry key, as each source type has
    implementation: ClassVar[str] = "tests.test_plugins:NotesSource"


class NotesSource:
    """Each block of the file is an item: a title line, a blank line, its text."""

    def __init__(self, settings: NotesSourceSettings, root: Path, **_options: Any) -> None:
        self.name = settings.name
        self.path = root / settings.path

    def fetch(self, state: FetchState) -> Events:
        for block in self.path.read_text(encoding="utf-8").split("\n%\n"):
            if block.strip():
                key = hashlib.sha256(block.encode()).hexdigest()[:12]
                yield RawItem(self.name, key, block.strip().encode(), "text/plain")
        return FetchResult(state)


class ShoutSettings(EngineSettings):
    """``[translate.shout]``: an engine that upper-cases; ``suffix`` marks the target."""

    engine: Literal["shout"] = "shout"
    implementation: ClassVar[str] = "tests.test_plugins:ShoutEngine"
    label: ClassVar[str] = "Shouting engine"

    suffix: str = "!"

    def options(self, resolve: Callable[[Path], Path]) -> dict[str, Any]:
        return {"suffix": self.suffix}

    def thread_options(self, threads: int) -> dict[str, Any]:
        return {"threads": threads}

    def install_hint(self, source: str, target: str) -> str:
        return f"shout cannot do {source}->{target}: it only shouts into es"


class ShoutEngine(FakeEngine):
    """A Translator (the tests' :class:`FakeEngine`, which honours kept names) that shouts."""

    def __init__(self, suffix: str, threads: int | None = None) -> None:
        super().__init__("shout", {("en", "es")}, lambda segment, _s, _t: f"{segment.upper()} {suffix}")
        self.suffix, self.threads = suffix, threads


# ---------------------------------------------------------------- the tests


@pytest.fixture
def registered() -> Iterator[None]:
    """The two plug-ins registered (one line each), and the registries as they were after."""
    sources, engines = dict(SOURCE_TYPES), dict(ENGINE_TYPES)
    register_source(NotesSourceSettings)
    register_engine(ShoutSettings)
    try:
        yield
    finally:
        SOURCE_TYPES.clear()
        SOURCE_TYPES.update(sources)
        ENGINE_TYPES.clear()
        ENGINE_TYPES.update(engines)


NOTES = """Harbour ferry returns

The ferry returned to the harbour this morning after repairs. Rossiyskaya Gazeta reported it first.
%
Library opens late

The city library stays open until ten on Thursdays from next week.
"""


def _config(tmp_path: Path, engines: str = '["shout"]') -> Path:
    (tmp_path / "notes.txt").write_text(NOTES, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[site]
title = "Plug-in News"
base_url = "https://news.example.org/"
source_language = "en"

[output]
state_dir = "state"

[translate]
languages = ["es"]
engines = {engines}
keep_verbatim = ["Rossiyskaya Gazeta"]

[translate.shout]
suffix = "(es)"

[[sources]]
name = "desk"
type = "notes"
path = "notes.txt"
""",
        encoding="utf-8",
    )
    return config


def test_a_registered_source_and_engine_run_end_to_end(registered: None, tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path))
    assert type(settings.sources[0]).__name__ == "NotesSourceSettings"
    assert settings.translate.engine("shout").options(settings.resolve) == {"suffix": "(es)"}
    with Store.open(settings.state_dir) as store:
        report = once(settings, store, clock=Clock())  # the engines made from the registry, as the CLI does
    assert report.ok, report.problems
    assert report.articles_new == 2 and report.translations_written == 2
    feed = feedparser.parse((tmp_path / "feeds" / "es" / "atom.xml").read_bytes())
    titles = sorted(entry.title for entry in feed.entries)
    assert titles == ["HARBOUR FERRY RETURNS (es)", "LIBRARY OPENS LATE (es)"]
    page = next((tmp_path / "translations" / "es").glob("harbour*.html")).read_text(encoding="utf-8")
    assert "THE FERRY RETURNED TO THE HARBOUR THIS MORNING AFTER REPAIRS. (es)" in page
    assert "Rossiyskaya Gazeta REPORTED IT FIRST. (es)" in page  # the kept name, as the engine honoured it


def test_a_registered_engine_shows_where_engines_are_listed(
    registered: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from syndicate.cli import main
    from syndicate.cluster.runtime import thread_limited_engines
    from syndicate.translate.engines import install_hint

    config = _config(tmp_path, engines='["shout", "apertium"]')
    assert main(["models", "list", "--config", str(config)]) == 0
    listing = capsys.readouterr().out
    assert "shout (Shouting engine)" in listing and "shout:en-es@1" in listing
    settings = load_settings(config)
    hint = install_hint(settings, "en", "fr")
    assert hint.startswith("shout cannot do en->fr") and "apertium-" in hint  # each configured engine, in order
    child: Any = thread_limited_engines(2)["shout"](settings)
    assert (child.suffix, child.threads) == ("(es)", 2)


def test_an_unregistered_name_is_a_config_error_naming_what_is_registered(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(_config(tmp_path))
    problems = {key: reason for key, _value, reason in error.value.problems}
    assert "folder" in problems["sources[0].type"] and "notes" not in problems["sources[0].type"]
    assert "apertium" in problems["translate.engines[0]"]


def test_a_half_registered_plug_in_is_refused_when_registered() -> None:
    class Nameless(EngineSettings):  # no Literal name: config files could not ask for it
        implementation: ClassVar[str] = "tests.test_plugins:ShoutEngine"

    class Homeless(EngineSettings):  # no implementation to make
        engine: Literal["homeless"] = "homeless"

    class Untyped(FolderSourceSettings):
        type: str  # type: ignore[assignment]
        implementation: ClassVar[str] = "tests.test_plugins:NotesSource"

    before = (dict(SOURCE_TYPES), dict(ENGINE_TYPES))
    with pytest.raises(TypeError, match=r"Nameless\.engine must be Literal"):
        register_engine(Nameless)
    with pytest.raises(TypeError, match=r"Homeless\.implementation must name"):
        register_engine(Homeless)
    with pytest.raises(TypeError, match=r"Untyped\.type must be Literal"):
        register_source(Untyped)
    with pytest.raises(TypeError, match="is not a source settings class"):
        register_source(ShoutSettings)  # type: ignore[arg-type]
    assert (dict(SOURCE_TYPES), dict(ENGINE_TYPES)) == before
