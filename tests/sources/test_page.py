"""The pages source: reading one page (data-driven) and walking previous/next links."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.config import ExtractSettings, PageSelectors, PagesSourceSettings
from syndicate.errors import ItemError, SourceError
from syndicate.extract import extract
from syndicate.models import Article, RawItem
from syndicate.sources.base import Checkpoint, FetchResult, FetchState
from syndicate.sources.http import Fetched
from syndicate.sources.page import PageSource, read_page
from tests.conftest import DATA
from tests.sources.events import drain, extracted
from tests.sources.site import Route, Story, TestSite, article_page, story

CASES = DATA / "sources"


def _as_expected(article: Article) -> dict[str, object]:
    return {
        "title": article.title,
        "paragraphs": list(article.paragraphs),
        "attributions": [[a.label, a.source, a.paragraph] for a in article.attributions],
        "prev": article.prev.url if article.prev else None,
        "next": article.next.url if article.next else None,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
    }


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("selectors_page", "https://port.example/stories/42"),
        ("soup_page", "https://coast.example/news/lighthouse-keeper"),
    ],
)
def test_read_page_cases(name: str, url: str) -> None:
    selectors_file = CASES / f"{name}.toml"
    selectors = PageSelectors(**tomllib.loads(selectors_file.read_text())) if selectors_file.exists() else None
    fetched = Fetched(
        url=url, status=200, content=(CASES / f"{name}.html").read_bytes(), headers={"content-type": "text/html"}
    )
    page = read_page(fetched, source="s")
    expected = json.loads((CASES / f"{name}.expected.json").read_text())
    assert _as_expected(extract(page.item, ExtractSettings(), selectors)) == expected
    assert page.key == url


def test_charset_from_the_http_header() -> None:
    body = "<html><body><article><h1>Привет</h1><p>Новости дня.</p></article></body></html>".encode("cp1251")
    fetched = Fetched(
        url="https://ru.example/a",
        status=200,
        content=body,
        headers={"content-type": "text/html; charset=windows-1251"},
    )
    article = extract(read_page(fetched, source="s").item, ExtractSettings())
    assert (article.title, article.paragraphs) == ("Привет", ("Новости дня.",))


def test_bad_selector_is_a_config_error_naming_the_key() -> None:
    from syndicate.config import parse_settings
    from syndicate.errors import ConfigError

    data = {
        "site": {"title": "T", "base_url": "https://x.org"},
        "translate": {"languages": ["es"]},
        "sources": [
            {
                "name": "p",
                "type": "pages",
                "start_url": "https://x.org/a",
                "selectors": {"body": "div[", "next": "xpath://a[@"},
            }
        ],
    }
    with pytest.raises(ConfigError) as info:
        parse_settings(data)
    keys = {key: value for key, value, _ in info.value.problems}
    assert keys == {"sources[0].selectors.body": "div[", "sources[0].selectors.next": "xpath://a[@"}


# -- walking a site ------------------------------------------------------------------------


@pytest.fixture
def site() -> Iterator[TestSite]:
    with TestSite() as s:
        yield s


def publish_chain(site: TestSite, stories: list[Story], *, semantic: bool = True) -> None:
    """Serve ``stories`` oldest first, each linking its neighbours."""
    for i, s in enumerate(stories):
        prev = stories[i - 1] if i else None
        nxt = stories[i + 1] if i + 1 < len(stories) else None
        site.page(s.path, article_page(s, site.base, prev=prev, next=nxt, semantic=semantic))


def settings(site: TestSite, start: Story, **kwargs: object) -> PagesSourceSettings:
    return PagesSourceSettings(
        name="harbour", type="pages", start_url=site.url(start.path), retries=0, timeout="2s", **kwargs
    )  # type: ignore[arg-type]


def poll(
    source_settings: PagesSourceSettings, state: FetchState | None = None
) -> tuple[list[RawItem | ItemError], FetchResult]:
    return drain(
        PageSource(source_settings, Path(".")).fetch(state or FetchState()), extracted(source_settings.selectors)
    )


def titles(items: list[RawItem | ItemError]) -> list[str]:
    return [extract(i, ExtractSettings()).title for i in items if isinstance(i, RawItem)]


def test_walk_newer_then_backfill_then_only_what_is_new(site: TestSite) -> None:
    stories = [story(n) for n in range(1, 7)]
    publish_chain(site, stories[:5])
    config = settings(site, stories[2], backfill=1)

    items, source = poll(config)
    assert titles(items) == [s.title for s in (stories[2], stories[3], stories[4], stories[1])]
    assert source.state.cursor["newest"] == site.url(stories[4].path)
    assert source.state.cursor["backfilled"] == 1 and source.state.etag

    # Nothing new: one conditional GET of the newest page, answered 304.
    before = len(site.requests)
    items, again = poll(config, source.state)
    assert items == [] and again.not_modified
    assert [r.path for r in site.requests[before:]] == [stories[4].path]
    assert site.requests[-1].headers["if-none-match"] == source.state.etag

    # A new article: the newest page now links it.
    publish_chain(site, stories)
    items, third = poll(config, again.state)
    assert titles(items) == [stories[4].title, stories[5].title]
    assert third.state.cursor["newest"] == site.url(stories[5].path)

    # Raising backfill carries on where it stopped.
    items, fourth = poll(settings(site, stories[2], backfill=5), third.state)
    assert titles(items) == [stories[0].title]
    assert fourth.state.cursor["oldest_prev"] is None


def test_div_soup_pages_without_selectors_use_trafilatura(site: TestSite) -> None:
    stories = [story(n) for n in range(1, 4)]
    publish_chain(site, stories, semantic=False)
    items, _ = poll(settings(site, stories[0]))
    articles = [extract(i, ExtractSettings()) for i in items if isinstance(i, RawItem)]
    assert [a.title for a in articles] == [s.title for s in stories]
    assert all(len(a.paragraphs) == 3 for a in articles)
    assert not any("Share this article" in p or "Most read" in p for a in articles for p in a.paragraphs)
    assert articles[1].prev is not None and articles[1].prev.url == site.url(stories[0].path)


def test_a_broken_link_in_the_chain_is_retried_from_there(site: TestSite) -> None:
    stories = [story(n) for n in range(1, 5)]
    publish_chain(site, stories)
    site.route(stories[2].path, Route(status=500))
    config = settings(site, stories[0])
    items, source = poll(config)
    assert titles(items) == [stories[0].title, stories[1].title]
    errors = [i for i in items if isinstance(i, ItemError)]
    assert len(errors) == 1 and "HTTP 500" in str(errors[0]) and errors[0].item == site.url(stories[2].path)
    assert source.state.cursor["newest"] == site.url(stories[1].path)

    publish_chain(site, stories)  # the site recovers
    items, again = poll(config, source.state)
    assert titles(items)[-2:] == [stories[2].title, stories[3].title]
    assert again.state.cursor["newest"] == site.url(stories[3].path)


def test_next_links_in_a_circle_end_the_walk(site: TestSite) -> None:
    a, b = story(1), story(2)
    site.page(a.path, article_page(a, site.base, next=b))
    site.page(b.path, article_page(b, site.base, prev=a, next=a))
    items, source = poll(settings(site, a))
    assert titles(items) == [a.title, b.title]
    assert source.state.cursor["newest_next"] is None


def test_start_page_failure_fails_the_source(site: TestSite) -> None:
    with pytest.raises(SourceError, match="HTTP 404"):
        poll(settings(site, story(9)))


def test_a_start_page_extraction_refuses_is_read_again_from_the_start(site: TestSite) -> None:
    """Extraction, which reads the page (once), refuses one without text; the walk keeps
    no place, so the next poll starts over at start_url."""
    site.page("/feed-not-page", "<html><body></body></html>")
    config = PagesSourceSettings(name="p", type="pages", start_url=site.url("/feed-not-page"))
    items, end = poll(config)
    assert len(items) == 1 and isinstance(items[0], RawItem)
    with pytest.raises(ItemError, match=r"no text|no body"):
        extract(items[0], ExtractSettings())
    assert end.state == FetchState()


def test_stopping_mid_walk_keeps_a_state_that_points_at_stored_items(site: TestSite) -> None:
    stories = [story(n) for n in range(1, 6)]
    publish_chain(site, stories)
    source = PageSource(settings(site, stories[0]), Path("."))
    walk = source.fetch(FetchState())
    first = next(walk)
    checkpoint = walk.send(extracted()(first))  # the first page is stored: the walk may move past it
    second = next(walk)
    assert isinstance(first, RawItem) and isinstance(second, RawItem) and isinstance(checkpoint, Checkpoint)
    walk.close()  # stopped while the second item was in hand: it may not be stored
    assert checkpoint.state.cursor["newest"] == site.url(stories[0].path)
    items, resumed = poll(settings(site, stories[0]), checkpoint.state)
    # The newest stored page answers 304; the walk resumes at the item that was in hand.
    assert titles(items) == [s.title for s in stories[1:]]
    assert resumed.state.cursor["newest"] == site.url(stories[4].path)


def test_each_page_is_parsed_once_by_extraction(site: TestSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk follows the links extraction read (issue 22, item 3): before, the source
    parsed every page for its links and extraction parsed it again."""
    import syndicate.extract.html as html

    parsed: list[str] = []
    real = html.parse_html

    def counting(data: bytes, **kwargs: object) -> object:
        parsed.append(str(kwargs.get("key")))
        return real(data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(html, "parse_html", counting)
    stories = [story(n) for n in range(1, 5)]
    publish_chain(site, stories)
    items, _ = poll(settings(site, stories[0]))
    assert titles(items) == [s.title for s in stories]  # titles() extracts again: counted apart
    pages = [site.url(s.path) for s in stories]
    assert parsed[: len(pages)] == pages  # one parse per page while walking, in walking order
    assert len(parsed) == 2 * len(pages)  # then one each for titles()
