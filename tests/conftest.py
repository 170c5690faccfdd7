"""Shared fixtures: configs over the bundled sample, a fixed clock, isolated homes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "articles"
DATA = Path(__file__).resolve().parent / "data"

#: The bundled sample's chain, newest first, as its previous/next links give it
#: (examples/articles/README.md lists the files).
SAMPLE_CHAIN = [
    "City Library Reopens After Two-Year Renovation",
    "Volga Farmers Expect Strong Wheat Harvest After Mild Spring",
    "Cuatro Expands Its Lineup With New Comedy and Political Drama",
    "Russia Sees US-Backed Japan Militarization as Global Risk",
    "Official Statement on Immunostimulant Drug Access and Safety",
    "Moscow Hosts International Conference on Arctic Shipping Routes",
    "Regional Rail Operator Announces Winter Timetable Changes",
]


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """argostranslate creates folders under HOME/XDG dirs on import: keep them in tmp."""
    home = tmp_path_factory.mktemp("home")
    saved = {
        k: os.environ.get(k)
        for k in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "ARGOS_PACKAGES_DIR")
    }
    os.environ["HOME"] = str(home)
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")
    os.environ["ARGOS_PACKAGES_DIR"] = str(home / "argos-packages")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def write_config(
    directory: Path,
    *,
    languages: tuple[str, ...] = ("es",),
    engines: tuple[str, ...] = ("apertium",),
    articles: Path | None = None,
    keep_verbatim: tuple[str, ...] = ("Rossiyskaya Gazeta",),
    extra: str = "",
) -> Path:
    """Write a config.toml in ``directory`` over a copy of ``articles`` (default: the sample)."""
    folder = directory / "articles"
    if not folder.exists():
        shutil.copytree(articles or EXAMPLES, folder)
    quoted = lambda items: "[" + ", ".join(f'"{i}"' for i in items) + "]"  # noqa: E731
    text = f"""
[site]
title = "Test News"
base_url = "https://news.example.org/"
source_language = "en"
author = "Test desk"

[output]
feeds_dir = "feeds"
translations_dir = "translations"
state_dir = "state"

[translate]
languages = {quoted(languages)}
engines = {quoted(engines)}
beam_size = 2
keep_verbatim = {quoted(keep_verbatim)}
{extra}

[[sources]]
name = "sample"
type = "folder"
path = "articles"
"""
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    def make(**kwargs: object) -> Path:
        return write_config(tmp_path, **kwargs)  # type: ignore[arg-type]

    return make


def snapshot(*dirs: Path) -> dict[str, bytes]:
    """Every file under ``dirs`` with its bytes."""
    out: dict[str, bytes] = {}
    for d in dirs:
        for p in sorted(d.rglob("*")):
            if p.is_file():
                out[str(p)] = p.read_bytes()
    return out


# Real Redis and PostgreSQL servers (started on first use, skipped only when not installed).
from tests.services import (  # noqa: E402,F401 - pytest fixtures
    fresh_postgres_url,
    fresh_redis_url,
    postgres_server,
    postgres_url,
    redis_server,
    redis_url,
)
