"""HttpFetcher against a real local server: validators, limits, redirects, retries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.sources.http import FetchError, HttpFetcher
from tests.sources.site import Route, TestSite


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    with TestSite() as s:
        yield s


def fetcher(**kwargs: object) -> HttpFetcher:
    options: dict[str, object] = {
        "source": "t",
        "user_agent": "syndicate-test/1 (+https://news.example.org/)",
        "timeout": 2.0,
        "retries": 2,
        "backoff": 0.01,
    }
    options.update(kwargs)
    return HttpFetcher(**options)  # type: ignore[arg-type]


def test_get_sends_user_agent_and_honours_etag_with_304(site: TestSite) -> None:
    site.route("/v.xml", Route(body=b"<rss/>", etag='"v1"', last_modified="Sat, 28 Feb 2026 10:00:00 GMT"))
    with fetcher() as http:
        first = http.get(site.url("/v.xml"))
        assert (first.status, first.content, first.etag) == (200, b"<rss/>", '"v1"')
        assert first.last_modified == "Sat, 28 Feb 2026 10:00:00 GMT"
        again = http.get(site.url("/v.xml"), etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.content == b""
    sent = [r.headers for r in site.requests if r.path == "/v.xml"]
    assert sent[0]["user-agent"] == "syndicate-test/1 (+https://news.example.org/)"
    assert "if-none-match" not in sent[0]
    assert sent[1]["if-none-match"] == '"v1"' and sent[1]["if-modified-since"] == "Sat, 28 Feb 2026 10:00:00 GMT"


def test_last_modified_alone_gives_304(site: TestSite) -> None:
    site.route("/lm.xml", Route(body=b"x", last_modified="Sun, 01 Mar 2026 08:00:00 GMT"))
    with fetcher() as http:
        first = http.get(site.url("/lm.xml"))
        assert first.etag is None
        assert http.get(site.url("/lm.xml"), last_modified=first.last_modified).not_modified


def test_404_fails_at_once_without_retrying(site: TestSite) -> None:
    site.route("/gone.xml", Route(status=404))
    with fetcher() as http, pytest.raises(FetchError) as info:
        http.get(site.url("/gone.xml"))
    assert info.value.status == 404 and not info.value.transient
    assert "HTTP 404" in str(info.value) and site.url("/gone.xml") in str(info.value)
    assert site.hits("/gone.xml") == 1


def test_500_is_retried_with_backoff_then_reported(site: TestSite) -> None:
    site.route("/err.xml", Route(status=500))
    with fetcher(retries=2) as http, pytest.raises(FetchError) as info:
        http.get(site.url("/err.xml"))
    assert info.value.status == 500 and info.value.transient
    assert "after 3 attempts" in str(info.value)
    assert site.hits("/err.xml") == 3


def test_transient_failures_then_success(site: TestSite) -> None:
    site.route("/flaky.xml", Route(body=b"ok", fail_first=2))  # 503 + Retry-After: 0, twice
    with fetcher(retries=2) as http:
        assert http.get(site.url("/flaky.xml")).content == b"ok"
    assert site.hits("/flaky.xml") == 3


def test_slow_response_times_out_within_the_deadline(site: TestSite) -> None:
    site.route("/slow.xml", Route(body=b"late", delay=3.0))
    started = time.monotonic()
    with fetcher(timeout=0.3, retries=1) as http, pytest.raises(FetchError, match=r"timed out after 0\.3s"):
        http.get(site.url("/slow.xml"))
    assert time.monotonic() - started < 2.0
    assert site.hits("/slow.xml") == 2


def test_redirects_are_followed_and_bounded(site: TestSite) -> None:
    site.route("/final.xml", Route(body=b"here"))
    site.route("/r1", Route(location="/r2", status=301))
    site.route("/r2", Route(location=site.url("/final.xml")))
    with fetcher() as http:
        got = http.get(site.url("/r1"))
    assert got.content == b"here" and got.url == site.url("/final.xml")
    with fetcher(max_redirects=1) as http, pytest.raises(FetchError, match="more than 1 redirects"):
        http.get(site.url("/r1"))


def test_redirect_loop_is_named(site: TestSite) -> None:
    site.route("/loop-a", Route(location="/loop-b"))
    site.route("/loop-b", Route(location="/loop-a"))
    with fetcher() as http, pytest.raises(FetchError, match=r"redirect loop: .*/loop-a -> .*/loop-b -> .*/loop-a"):
        http.get(site.url("/loop-a"))


def test_only_http_and_https(site: TestSite) -> None:
    site.route("/to-file", Route(location="file:///etc/passwd"))
    with fetcher() as http:
        with pytest.raises(FetchError, match="only http and https are fetched, not file"):
            http.get(site.url("/to-file"))
        with pytest.raises(FetchError, match="not ftp"):
            http.get("ftp://127.0.0.1/feed.xml")


def test_oversized_body_is_abandoned_whether_announced_or_streamed(site: TestSite) -> None:
    big = b"<rss>" + b"x" * 3_000_000
    site.route("/big-announced.xml", Route(body=big))
    site.route("/big-streamed.xml", Route(body=big, stream=True))
    with fetcher(max_bytes=100_000) as http:
        with pytest.raises(FetchError, match=r"too large \(3000005 bytes announced; max_bytes is 100000\)"):
            http.get(site.url("/big-announced.xml"))
        with pytest.raises(FetchError, match="more than 100000 bytes received"):
            http.get(site.url("/big-streamed.xml"))
    assert site.hits("/big-streamed.xml") == 1  # too large is not worth a retry


def test_truncated_body_is_a_network_error_and_retried(site: TestSite) -> None:
    site.route("/cut.xml", Route(body=b"<rss>" + b"y" * 5000, truncate_to=1000))
    with fetcher(retries=1) as http, pytest.raises(FetchError, match="broke mid-response") as info:
        http.get(site.url("/cut.xml"))
    assert info.value.transient
    assert site.hits("/cut.xml") == 2


def test_connection_refused_is_a_network_error() -> None:
    with fetcher(retries=0) as http, pytest.raises(FetchError, match="network error"):
        http.get("http://127.0.0.1:9/feed.xml")


def test_stop_request_cuts_retries_short(site: TestSite) -> None:
    site.route("/down.xml", Route(status=502))
    stopping = {"now": False}

    def should_stop() -> bool:
        return stopping["now"]

    with fetcher(retries=5, backoff=5.0, should_stop=should_stop) as http:
        stopping["now"] = True
        started = time.monotonic()
        with pytest.raises(FetchError, match="HTTP 502"):
            http.get(site.url("/down.xml"))
    assert time.monotonic() - started < 1.0
    assert site.hits("/down.xml") == 1


def test_undecodable_body_is_a_clear_fetch_error(site: TestSite) -> None:
    site.route("/bad-gzip.html", Route(body=b"this is not gzip at all", headers={"Content-Encoding": "gzip"}))
    with fetcher() as http, pytest.raises(FetchError) as info:
        http.get(site.url("/bad-gzip.html"))
    assert "cannot be decoded" in str(info.value)


def test_private_addresses_are_refused_unless_allowed(site: TestSite) -> None:
    site.route("/internal.html", Route(body=b"<p>secret</p>"))
    with fetcher(allow_private=False) as http, pytest.raises(FetchError) as info:
        http.get(site.url("/internal.html"))
    assert "private or local address" in str(info.value) and "allow_private_addresses" in str(info.value)
    site.route("/hop.html", Route(status=302, location=site.url("/internal.html")))
    with fetcher(allow_private=True) as http:
        assert http.get(site.url("/hop.html")).content == b"<p>secret</p>"


def test_a_public_feed_linking_to_a_local_address_is_not_followed() -> None:
    """The per-source rule: content-discovered links reach private hosts only when the
    source itself is configured on one (or allow_private_addresses is set)."""
    from syndicate.config import FeedSourceSettings
    from syndicate.sources.feed import FeedSource

    public = FeedSource(FeedSourceSettings(name="w", type="feed", url="https://93.184.215.14/feed.xml"), Path("."))
    assert public._http().allow_private is False
    local = FeedSource(FeedSourceSettings(name="l", type="feed", url="http://127.0.0.1:8080/feed.xml"), Path("."))
    assert local._http().allow_private is True
    opted = FeedSource(
        FeedSourceSettings(name="o", type="feed", url="https://93.184.215.14/f.xml", allow_private_addresses=True),
        Path("."),
    )
    assert opted._http().allow_private is True
