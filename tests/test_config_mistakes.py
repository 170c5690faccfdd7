"""Mistakes in the config get a message that names the key, and never a secret (issue 21,
cases 8 and 9): a password in a URL is never printed, whatever is wrong with the URL (a
bad port, a bracket that does not close, a port that is a word); a nan duration is
called nan; a glossary for a language not translated into is not silently ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.cli import EXIT_CONFIG, main

SECRET = "S3cretPassw0rd"


@pytest.mark.parametrize(
    "key, url",
    [
        ("broker_url", f"redis://:{SECRET}@127.0.0.1:99999/0"),
        ("broker_url", f"redis://user:{SECRET}@[::1/0"),
        ("broker_url", f"redis://user:{SECRET}@host:port/0"),
        ("broker_url", f"http://user:{SECRET}@127.0.0.1:6379/0"),
        ("store_url", f"postgresql://syndicate:{SECRET}@127.0.0.1:99999/syndicate"),
        ("store_url", f"postgresql://syndicate:{SECRET}@[fe80::1/syndicate"),
        ("result_backend", f"redis://:{SECRET}@127.0.0.1:-1/1"),
    ],
)
def test_a_bad_url_is_reported_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, url: str
) -> None:
    (tmp_path / "drop").mkdir()
    broker = url if key == "broker_url" else "redis://127.0.0.1:6379/0"
    extra = "" if key == "broker_url" else f'{key} = "{url}"\n'
    (tmp_path / "config.toml").write_text(
        '[site]\ntitle = "x"\nbase_url = "https://news.example.org/"\n\n[translate]\nlanguages = ["es"]\n\n'
        f'[cluster]\nbroker_url = "{broker}"\n{extra}\n'
        '[[sources]]\nname = "drop"\ntype = "folder"\npath = "drop"\n',
        encoding="utf-8",
    )
    code = main(["status", "--config", str(tmp_path / "config.toml")])
    out = capsys.readouterr()
    assert code == EXIT_CONFIG
    assert f"cluster.{key}" in out.err
    assert SECRET not in out.err + out.out
    assert "Traceback" not in out.err


def _parse(extra: dict[str, object]) -> str:
    from syndicate.config import parse_settings
    from syndicate.errors import ConfigError

    data: dict[str, object] = {
        "site": {"title": "x", "base_url": "https://news.example.org/"},
        "translate": {"languages": ["es"]},
        "sources": [{"name": "wire", "type": "feed", "url": "https://origin.example/feed.xml", "timeout": "10s"}],
    }
    for key, value in extra.items():
        table, _, name = key.partition(".")
        if table == "sources":
            data["sources"][0][name] = value  # type: ignore[index]
        else:
            data[table] = {**data[table], name: value}  # type: ignore[dict-item]
    with pytest.raises(ConfigError) as caught:
        parse_settings(data)
    return str(caught.value)


def test_a_nan_duration_is_called_what_it_is() -> None:
    text = _parse({"sources.timeout": float("nan")})
    assert "sources[0].timeout" in text and "not nan" in text and "365d" not in text


def test_a_glossary_for_a_language_not_translated_into_is_refused() -> None:
    text = _parse({"translate.glossary": {"es": {"harbour": "puerto"}, "eo": {"harbour": "haveno"}}})
    assert "translate.glossary.eo" in text and "would never be used" in text and "glossary.es" not in text


@pytest.mark.parametrize(
    "base_url",
    [
        "https://news.example.org/news?ref=x#top",
        "https://news.example.org/?a=1",
        "https://news.example.org/#top",
        "https://editor:pw@news.example.org/",
    ],
)
def test_a_base_url_with_a_query_fragment_or_password_is_refused(tmp_path: Path, base_url: str) -> None:
    # issue 21 (second trial): "?ref=x#top" ended up inside every published link.
    from syndicate.config import load_settings
    from syndicate.errors import ConfigError
    from tests.conftest import write_config

    config = write_config(tmp_path)
    config.write_text(config.read_text().replace('base_url = "https://news.example.org/"', f'base_url = "{base_url}"'))
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert "site.base_url" in str(info.value) and "pw" not in str(info.value)
