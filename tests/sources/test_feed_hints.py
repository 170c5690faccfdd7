"""A page linked from a feed entry that is gone: the hint points at the feed, not config.toml."""

from __future__ import annotations

import pytest

from syndicate.errors import ItemError
from tests.sources.site import Route, TestSite, article_page, rss, story
from tests.sources.test_feed import feed_settings, poll, site  # noqa: F401 - site is a fixture


@pytest.mark.parametrize("status", [404, 410])
def test_a_missing_linked_page_blames_the_feed_entry(site: TestSite, status: int) -> None:  # noqa: F811
    stories = [story(n) for n in range(1, 3)]
    site.page(stories[0].path, article_page(stories[0], site.base))
    site.route(stories[1].path, Route(status=status))
    site.page("/feed.xml", rss(stories, site.base, full_content=False))
    items, _ = poll(feed_settings(site))
    errors = [i for i in items if isinstance(i, ItemError)]
    assert len(errors) == 1 and f"HTTP {status}" in str(errors[0])
    hint = errors[0].hint or ""
    assert "config.toml" not in hint
    assert "feed entry" in hint and site.url(stories[1].path) in str(errors[0])
