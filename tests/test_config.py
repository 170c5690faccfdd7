from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from syndicate.config import load_settings, parse_settings
from syndicate.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_bundled_config_is_valid() -> None:
    settings = load_settings(ROOT / "config.toml")
    assert settings.translate.languages == ("es", "ca", "gl", "eo")
    assert settings.translate.engines == ("argos", "apertium")
    assert settings.translate.keep_verbatim == ("Rossiyskaya Gazeta",)
    assert settings.sources[0].type == "folder"
    assert settings.feeds_dir == ROOT / "feeds"


def test_every_problem_is_reported_at_once_with_key_and_value() -> None:
    bad = {
        "site": {"title": "T", "base_url": "ftp://example.org", "source_language": "english!"},
        "translate": {"languages": ["es", "??"], "engines": ["argos", "google"], "beam_size": 0},
        "sources": [{"name": "a", "type": "folder"}],
        "typo": 1,
    }
    with pytest.raises(ConfigError) as info:
        parse_settings(bad)
    problems = {key: (value, reason) for key, value, reason in info.value.problems}
    assert problems["site.base_url"][0] == "ftp://example.org"
    assert problems["site.source_language"][0] == "english!"
    assert "'??'" in problems["translate.languages"][1]
    assert problems["translate.engines[1]"][0] == "google"
    assert problems["translate.beam_size"][0] == 0
    assert problems["sources[0].path"][1] == "required key is missing"
    assert "unknown key" in problems["typo"][1]
    text = str(info.value)
    assert "translate.beam_size = 0" in text and "site.base_url = 'ftp://example.org'" in text


def test_duplicate_source_names_and_bad_attribution_pattern() -> None:
    data = {
        "site": {"title": "T", "base_url": "https://x.org"},
        "translate": {"languages": ["es"]},
        "extract": {"attribution_patterns": [r"\[(?P<label>x)\]"]},
        "sources": [
            {"name": "a", "type": "folder", "path": "x"},
            {"name": "a", "type": "folder", "path": "y"},
        ],
    }
    with pytest.raises(ConfigError) as info:
        parse_settings(data)
    keys = [key for key, _, _ in info.value.problems]
    assert "extract.attribution_patterns" in keys


def test_unique_sources_enforced() -> None:
    data = {
        "site": {"title": "T", "base_url": "https://x.org"},
        "translate": {"languages": ["es"]},
        "sources": [
            {"name": "a", "type": "folder", "path": "x"},
            {"name": "a", "type": "folder", "path": "y"},
        ],
    }
    with pytest.raises(ConfigError, match="repeated: a"):
        parse_settings(data)


def test_unreadable_and_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[site\ntitle = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken)


def test_cli_bad_config_exits_2_and_touches_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[site]\ntitle = "T"\nbase_url = "nope"\n[translate]\nlanguages = []\n')
    result = subprocess.run(
        [sys.executable, "-m", "syndicate", "once", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "site.base_url = 'nope'" in result.stderr
    assert "translate.languages" in result.stderr
    assert "sources" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_output_urls_follow_served_paths_not_file_system_paths() -> None:
    base = {"site": {"title": "T", "base_url": "https://news.example.org/"}, "translate": {"languages": ["es"]},
            "sources": [{"name": "a", "type": "folder", "path": "x"}]}
    default = parse_settings(base)
    assert default.feeds_url == "https://news.example.org/feeds/"
    nested = parse_settings({**base, "output": {"feeds_dir": "public/feeds", "translations_dir": "public/t"}})
    assert nested.feeds_url == "https://news.example.org/public/feeds/"
    outside = parse_settings({**base, "output": {"feeds_dir": "/srv/www/feeds", "translations_dir": "../site/translations"}})
    assert outside.feeds_url == "https://news.example.org/feeds/"
    assert outside.translations_url == "https://news.example.org/translations/"
