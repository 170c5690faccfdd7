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
    base = {
        "site": {"title": "T", "base_url": "https://news.example.org/"},
        "translate": {"languages": ["es"]},
        "sources": [{"name": "a", "type": "folder", "path": "x"}],
    }
    default = parse_settings(base)
    assert default.feeds_url == "https://news.example.org/feeds/"
    nested = parse_settings({**base, "output": {"feeds_dir": "public/feeds", "translations_dir": "public/t"}})
    assert nested.feeds_url == "https://news.example.org/public/feeds/"
    outside = parse_settings(
        {**base, "output": {"feeds_dir": "/srv/www/feeds", "translations_dir": "../site/translations"}}
    )
    assert outside.feeds_url == "https://news.example.org/feeds/"
    assert outside.translations_url == "https://news.example.org/translations/"


BASE = {
    "site": {"title": "T", "base_url": "https://news.example.org/"},
    "translate": {"languages": ["es", "ca"]},
    "sources": [{"name": "a", "type": "folder", "path": "in"}],
}


def _problems(data: dict[str, object], root: Path = Path("/srv/project")) -> dict[str, tuple[object, str]]:
    """Every problem by key; a key with several problems gets their reasons joined."""
    with pytest.raises(ConfigError) as info:
        parse_settings(data, root=root)
    problems: dict[str, tuple[object, str]] = {}
    for key, value, reason in info.value.problems:
        problems[key] = (value, f"{problems[key][1]} | {reason}" if key in problems else reason)
    return problems


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("interval", "999999999999d"),  # timedelta itself would overflow
        ("interval", "400d"),
        ("interval", 1e300),
        ("jitter", "99999999999h"),
        ("timeout", "999999999s"),
        ("retry_backoff", "100000d"),
    ],
)
def test_absurd_durations_are_refused_with_their_key(key: str, value: object) -> None:
    source = {"name": "w", "type": "feed", "url": "https://x.org/feed.xml", key: value}
    problems = _problems({**BASE, "sources": [source]})
    assert problems[f"sources[0].{key}"][0] == value
    assert "at most" in problems[f"sources[0].{key}"][1]


def test_not_a_number_duration_is_refused() -> None:
    source = {"name": "w", "type": "feed", "url": "https://x.org/feed.xml", "interval": float("nan")}
    assert "sources[0].interval" in _problems({**BASE, "sources": [source]})


def test_sane_durations_still_load() -> None:
    source = {"name": "w", "type": "feed", "url": "https://x.org/feed.xml", "interval": "30d", "timeout": "2m"}
    settings = parse_settings({**BASE, "sources": [source]})
    assert settings.sources[0].interval is not None and settings.sources[0].interval.days == 30


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("sources[0].max_bytes", 10**15, "source"),
        ("output.feed_size", 10**12, "output"),
    ],
)
def test_absurd_sizes_are_refused_with_their_key(key: str, value: int, where: str) -> None:
    if where == "source":
        data = {**BASE, "sources": [{"name": "w", "type": "feed", "url": "https://x.org/f", "max_bytes": value}]}
    else:
        data = {**BASE, "output": {"feed_size": value}}
    problems = _problems(data)
    assert problems[key][0] == value and "less than or equal" in problems[key][1]


@pytest.mark.parametrize("key", ["feeds_dir", "translations_dir", "state_dir"])
def test_empty_output_paths_are_refused(key: str) -> None:
    problems = _problems({**BASE, "output": {key: "  "}})
    assert problems[f"output.{key}"][0] == "  "
    assert "empty" in problems[f"output.{key}"][1]


@pytest.mark.parametrize(
    ("output", "sources", "key", "other"),
    [
        ({"feeds_dir": ".syndicate"}, None, "output.feeds_dir", "output.state_dir"),  # would publish the database
        ({"feeds_dir": "public", "state_dir": "public/.state"}, None, "output.feeds_dir", "output.state_dir"),
        ({"state_dir": "feeds/state"}, None, "output.feeds_dir", "output.state_dir"),
        ({"translations_dir": "/srv/project/.syndicate/pages"}, None, "output.translations_dir", "output.state_dir"),
        ({"translations_dir": "feeds"}, None, "output.translations_dir", "output.feeds_dir"),
        ({"translations_dir": "feeds/pages"}, None, "output.translations_dir", "output.feeds_dir"),
        ({"feeds_dir": "in/feeds"}, None, "output.feeds_dir", "sources[0].path"),  # our index.html read back
        ({"feeds_dir": "."}, None, "output.feeds_dir", "output.state_dir"),
        (
            {"translations_dir": "drop"},
            [{"name": "b", "type": "folder", "path": "drop/"}],
            "output.translations_dir",
            "sources[1].path",
        ),
        ({}, [{"name": "b", "type": "folder", "path": "/srv"}], "output.feeds_dir", "sources[1].path"),
    ],
)
def test_overlapping_folders_are_refused_naming_both_keys(
    output: dict[str, str], sources: list[dict[str, str]] | None, key: str, other: str
) -> None:
    data = {**BASE, "output": output, "sources": BASE["sources"] + (sources or [])}  # type: ignore[operator]
    problems = _problems(data)
    assert key in problems, problems
    value, reason = problems[key]
    assert value == output.get(key.removeprefix("output."), value)
    assert other in reason
    assert "separate" in reason  # the fix


def test_overlap_is_reported_with_the_other_problems() -> None:
    problems = _problems({**BASE, "site": {"title": "T", "base_url": "nope"}, "output": {"feeds_dir": ".syndicate"}})
    assert "site.base_url" in problems and "output.feeds_dir" in problems


def test_overlap_follows_symlinks(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "public").symlink_to(tmp_path / "state")
    problems = _problems({**BASE, "output": {"feeds_dir": "public", "state_dir": "state"}}, root=tmp_path)
    assert "output.feeds_dir" in problems


def test_separate_folders_load() -> None:
    settings = parse_settings(
        {
            **BASE,
            "output": {"feeds_dir": "public/feeds", "translations_dir": "public/translations", "state_dir": "var"},
        },
        root=Path("/srv/project"),
    )
    assert settings.feeds_dir == Path("/srv/project/public/feeds")


def test_bilingual_languages_default_empty_and_must_be_targets() -> None:
    assert parse_settings(BASE).translate.bilingual == ()
    settings = parse_settings({**BASE, "translate": {"languages": ["es", "ca"], "bilingual": ["ca"]}})
    assert settings.translate.bilingual == ("ca",)
    problems = _problems({**BASE, "translate": {"languages": ["es", "ca"], "bilingual": ["ca", "fr"]}})
    assert problems["translate.bilingual"][0] == ["ca", "fr"]
    assert "'fr'" in problems["translate.bilingual"][1] and "translate.languages" in problems["translate.bilingual"][1]
    assert "translate.bilingual" in _problems({**BASE, "translate": {"languages": ["es"], "bilingual": "es"}})


def test_a_config_that_is_not_a_regular_file_is_refused_before_reading(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    result: list[BaseException] = []

    def load() -> None:
        try:
            load_settings(fifo)
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            result.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # unblock the reader so the test process can end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("load_settings hangs on a FIFO")
    assert isinstance(result[0], ConfigError) and "not a regular file" in str(result[0])
    for special in (Path("/dev/zero"), tmp_path):
        with pytest.raises(ConfigError, match="not a regular file"):
            load_settings(special)


def test_a_huge_config_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "config.toml"
    with huge.open("wb") as fh:
        fh.truncate(2_000_000)  # sparse: 2 MB of NULs
    with pytest.raises(ConfigError, match="larger than"):
        load_settings(huge)


_MINIMAL = {
    "site": {"title": "T", "base_url": "https://news.example.org/"},
    "translate": {"languages": ["es"]},
    "sources": [{"name": "a", "type": "feed", "url": "https://up.example.org/feed.xml"}],
}


def test_websub_settings_default_off_and_validated() -> None:
    settings = parse_settings(dict(_MINIMAL))
    assert settings.publish.websub_hubs == ()
    assert settings.websub.callback_url is None  # subscribing is off until a callback is set
    settings = parse_settings(
        {
            **_MINIMAL,
            "publish": {"websub_hubs": ["https://hub.example.net/", "https://hub.example.net/", "http://h2.example/x"]},
            "websub": {"callback_url": "https://news.example.org/websub", "lease": "2d", "poll_multiplier": 10},
        }
    )
    assert settings.publish.websub_hubs == ("https://hub.example.net/", "http://h2.example/x")  # repeats dropped
    assert settings.websub.callback_url == "https://news.example.org/websub/"
    assert settings.websub.lease.total_seconds() == 2 * 86400
    assert settings.websub.poll_multiplier == 10

    problems = _problems(
        {
            **_MINIMAL,
            "publish": {"websub_hubs": ["ftp://hub.example.net/", "hub.example.net"]},
            "websub": {"callback_url": "/websub/", "lease": "10s", "poll_multiplier": 0.5, "max_delivery_bytes": 10},
        }
    )
    assert "ftp://hub.example.net/" in problems["publish.websub_hubs"][1]
    assert "'hub.example.net'" in problems["publish.websub_hubs"][1]
    assert problems["websub.callback_url"][0] == "/websub/"
    assert problems["websub.lease"][0] == "10s"
    assert problems["websub.poll_multiplier"][0] == 0.5
    assert problems["websub.max_delivery_bytes"][0] == 10
    assert "unknown key" in _problems({**_MINIMAL, "publish": {"websub_hub": []}})["publish.websub_hub"][1]


def test_the_shipped_config_uses_no_legacy_key() -> None:
    # The bundled config.toml is what operators copy: it shows each key where it belongs
    # now ([translate.argos] beam_size), not where older files had it.
    import tomllib

    from syndicate.config import ENGINE_TYPES, load_settings

    root = Path(__file__).resolve().parent.parent
    data = tomllib.loads((root / "config.toml").read_text(encoding="utf-8"))
    legacy = {old for kind in ENGINE_TYPES.values() for old in kind.legacy_keys}
    assert not legacy & set(data["translate"]), sorted(legacy & set(data["translate"]))
    assert load_settings(root / "config.toml").translate.beam_size == data["translate"]["argos"]["beam_size"]
