"""The feed formats' registry (``syndicate/publish/formats.py``) is the one list of them:
every entry complete and distinct, and everything that publishes, lists or serves a
feed reads it, so a format half added fails here."""

from __future__ import annotations

import re

import pytest

from syndicate.publish.formats import FORMATS, OPML_FORMAT, FeedFormat, renderers
from syndicate.publish.history import archive_path
from syndicate.publish.pages import PAGE_FEEDS
from syndicate.serve.files import _ARCHIVE_RE, ARCHIVE_SUFFIXES, SUBSCRIPTION_FILES


@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=lambda f: f.name)
def test_each_format_is_complete(fmt: FeedFormat) -> None:
    assert FORMATS[fmt.name] is fmt and fmt.label
    assert re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", fmt.file) and not fmt.file.endswith(".html")
    assert re.fullmatch(r"\.[a-z0-9]+", fmt.suffix) and fmt.suffix != ".html"
    assert re.fullmatch(r"application/[a-z0-9.+-]+", fmt.media_type)
    assert callable(fmt.render())
    # Everything else reads the entry: the renderers, the pages' list, serve's tables.
    assert renderers()[fmt.name] is fmt.render()
    assert (fmt.name, fmt.media_type, fmt.label) in PAGE_FEEDS
    assert SUBSCRIPTION_FILES[fmt.file] == fmt.media_type
    assert ARCHIVE_SUFFIXES[fmt.suffix] == (fmt.name, fmt.media_type)
    assert _ARCHIVE_RE.match(archive_path(7, fmt.name).split("/")[-1])


def test_formats_are_distinct_and_opml_subscribes_to_one() -> None:
    files = [f.file for f in FORMATS.values()]
    suffixes = [f.suffix for f in FORMATS.values()]
    assert len(set(files)) == len(files) and len(set(suffixes)) == len(suffixes)
    assert OPML_FORMAT in FORMATS
    assert [fmt for fmt, _, _ in PAGE_FEEDS] == list(FORMATS)  # the order pages list them
