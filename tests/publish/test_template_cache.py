"""Compiled templates kept in the state folder (``<state>/cache/templates``).

A ``once`` that renders one page would otherwise compile every template it uses first.
The cache must be a cache: a damaged file is compiled again, a folder that cannot be
made means no cache, and what is rendered never depends on it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.publish import pages


@pytest.fixture(autouse=True)
def fresh_environments() -> Iterator[None]:
    pages._env.cache_clear()
    yield
    pages._env.cache_clear()


def _no_compiling(env: object) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("compiled although a current compiled copy was kept")

    env.compile = refuse  # type: ignore[attr-defined]


def test_a_second_process_loads_templates_compiled_by_the_first(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = pages._env(state).get_template("page.html")
    kept = sorted((state / "cache" / "templates").iterdir())
    assert kept, "the first load keeps the compiled template"

    pages._env.cache_clear()  # as a new process would start
    env = pages._env(state)
    _no_compiling(env)
    second = env.get_template("page.html")
    assert second is not first
    assert second.name == "page.html"


def test_a_damaged_compiled_copy_is_compiled_again(tmp_path: Path) -> None:
    state = tmp_path / "state"
    pages._env(state).get_template("index.html")
    for cached in (state / "cache" / "templates").iterdir():
        cached.write_bytes(b"\x00 half-written by a killed run")

    pages._env.cache_clear()
    template = pages._env(state).get_template("index.html")
    html = template.render(
        editions=[],
        site_title="Harbour Gazette",
        source_language="en",
        opml_url="https://news.example.org/feeds/opml.xml",
    )
    assert "Harbour Gazette" in html


def test_no_cache_where_the_state_folder_cannot_hold_one(tmp_path: Path) -> None:
    blocked = tmp_path / "state"
    blocked.write_text("a file where the state folder should be", encoding="utf-8")
    env = pages._env(blocked)
    assert env.bytecode_cache is None
    assert env.get_template("page.html").name == "page.html"


def test_a_state_folder_that_cannot_keep_compiled_templates_never_fails_a_publish(tmp_path: Path) -> None:
    """Found on a full state disk: Jinja2 raised the cache's ENOSPC from inside
    get_template, and `once` ended on "error: [Errno 28]" without its summary. The cache
    is a saving only; here its folder is gone, so every write to it fails."""
    pages._env.cache_clear()
    env = pages._env(tmp_path / "state", "en")
    shutil.rmtree(tmp_path / "state" / "cache" / "templates")
    try:
        assert env.get_template("index.html") is not None  # compiled, not kept
    finally:
        pages._env.cache_clear()
