"""``[serve]``: defaults, and every bad key reported with its path and value."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from syndicate.config import parse_settings
from syndicate.errors import ConfigError
from syndicate.serve.app import _url_paths


def data(**serve: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "site": {"title": "T", "base_url": "https://x.org/news"},
        "translate": {"languages": ["es"]},
        "sources": [{"name": "a", "type": "folder", "path": "articles"}],
    }
    if serve:
        doc["serve"] = serve
    return doc


def test_defaults() -> None:
    settings = parse_settings(data())
    assert (settings.serve.host, settings.serve.port, settings.serve.status_token) == ("127.0.0.1", 8080, None)
    assert settings.serve.max_age == timedelta(minutes=5)
    assert _url_paths(settings) == ("/news/", "/news/feeds/", "/news/translations/")


def test_values() -> None:
    settings = parse_settings(data(host="0.0.0.0", port=9000, status_token="x" * 16, max_age="30s"))
    assert (settings.serve.host, settings.serve.port, settings.serve.max_age) == (
        "0.0.0.0",
        9000,
        timedelta(seconds=30),
    )


def test_bad_values_name_their_keys() -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(data(port=70000, status_token="short", max_age="soon", colour="blue"))
    keys = {key for key, _value, _reason in info.value.problems}
    assert keys == {"serve.port", "serve.status_token", "serve.max_age", "serve.colour"}
    assert ("serve.port", 70000) in {(k, v) for k, v, _ in info.value.problems}
