"""Polite, bounded HTTP GETs for the feed and pages sources (httpx + tenacity).

One :class:`HttpFetcher` per poll. Every request: http/https only, a clear User-Agent,
a conditional GET when validators are known, a whole-request deadline, a body size cap
enforced while streaming, redirects followed by hand (bounded, loops named), and retries
with jittered exponential backoff on 5xx, 429 and network errors (``Retry-After`` is
honoured up to a minute). Everything else is a :class:`FetchError` at once.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx
import tenacity

from syndicate.config import FeedSourceSettings, PagesSourceSettings
from syndicate.errors import SourceError
from syndicate.models import public_url
from syndicate.sources.base import StopCheck, never_stop

logger = logging.getLogger(__name__)

#: A ``Retry-After`` longer than this ends the poll instead of holding it.
MAX_RETRY_AFTER = 60.0
#: Longest wait between two attempts.
MAX_BACKOFF = 60.0
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})

FEED_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"


class FetchError(SourceError):
    """A GET failed for good (after its retries): carries the URL and the HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        url: str,
        status: int | None = None,
        hint: str | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message, source=source, hint=hint)
        self.url = url
        self.status = status
        #: A network error or 5xx: worth retrying (within the poll, and on the next one).
        self.transient = transient

    def __str__(self) -> str:
        text = f"[{self.source}] {self.message} ({self.url})"
        return f"{text} (fix: {self.hint})" if self.hint else text


class _Retry(Exception):
    """Raised inside an attempt for a failure worth another attempt."""

    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class Fetched:
    """A completed response: the final URL (after redirects), status, body and headers."""

    url: str
    status: int
    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True)
class Posted:
    """What :func:`post_bounded` got: the status and the start of the body."""

    status: int
    text: str

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300


def post_bounded(
    client: httpx.Client, url: str, data: Mapping[str, str], *, timeout: float, keep: int = 2000
) -> Posted:
    """POST ``data`` with a total deadline and a bound on what is read back.

    For requests to WebSub hubs, which a feed names (so they may be anyone's): httpx's
    timeout bounds each read, so a hub that trickles its answer would hold the request for
    ever; a watchdog cuts the socket at the deadline, as :class:`HttpFetcher` does. Only
    the first ``keep`` bytes of the body are read (an error message; an endless body is
    never loaded). ``client`` must keep no connection alive (a pooled one would escape the
    watchdog). Raises :class:`httpx.HTTPError` (a :class:`httpx.ReadTimeout` at the deadline).
    """
    deadline = time.monotonic() + timeout
    clean, auth = split_credentials(url)  # the URL httpx logs is clean; the password goes as auth
    try:
        with (
            _cut_at(deadline) as trace,
            client.stream(
                "POST",
                clean,
                data=dict(data),
                timeout=httpx.Timeout(timeout),
                auth=auth,
                extensions={"trace": trace},
            ) as resp,
        ):
            body = bytearray()
            for chunk in resp.iter_raw():  # raw: a compressed answer is never inflated
                body += chunk
                if len(body) >= keep or time.monotonic() > deadline:
                    break
            return Posted(resp.status_code, bytes(body[:keep]).decode("utf-8", "replace"))
    except httpx.TransportError:
        if time.monotonic() >= deadline:
            raise httpx.ReadTimeout(f"no complete answer within {timeout:g}s") from None
        raise


@contextlib.contextmanager
def _cut_at(deadline: float) -> Iterator[Callable[..., None]]:
    """An httpx ``trace`` hook that notes the request's sockets, and a watchdog that shuts
    them down at ``deadline`` (``time.monotonic()``): ``shutdown`` wakes a blocked read,
    which httpx's per-read timeouts never bound as a whole."""
    sockets: list[socket.socket] = []

    def trace(event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete" and info.get("return_value") is not None:
            sock = info["return_value"].get_extra_info("socket")
            if sock is not None:
                sockets.append(sock)

    def cut() -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield trace
    finally:
        watchdog.cancel()


def split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """``url`` without its ``user:password@``, and those as HTTP Basic auth (None without)."""
    clean = public_url(url)
    if clean == url:
        return url, None
    parts = urlsplit(url)
    return clean, httpx.BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))


def strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(fragment=""))


def is_private_host(host: str) -> bool:
    """Whether ``host`` is, or resolves to, a non-public address (unresolvable: no)."""
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False  # the request itself will fail with a clear network error
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            return True
    return False


class HttpFetcher:
    """GETs with limits and retries; see the module docstring. Use as a context manager."""

    def __init__(
        self,
        *,
        source: str,
        user_agent: str,
        timeout: float = 20.0,
        max_bytes: int = 10_000_000,
        max_redirects: int = 5,
        retries: int = 2,
        backoff: float = 2.0,
        should_stop: StopCheck = never_stop,
        transport: httpx.BaseTransport | None = None,
        allow_private: bool = True,
    ) -> None:
        self.source = source
        #: False: refuse hosts that resolve to loopback, private, link-local or reserved
        #: addresses (a hostile feed linking to http://169.254.169.254/ or to the
        #: operator's own services must not make syndicate fetch and publish them).
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.retries = retries
        self.backoff = backoff
        self.should_stop = should_stop
        # No kept-alive connections: each request opens its own, so the deadline's watchdog
        # (see _once) knows the socket to cut. A poll makes few requests per host.
        self._client = httpx.Client(
            headers={"User-Agent": user_agent},
            follow_redirects=False,
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        #: Requests actually sent (attempts and redirect hops), for politeness checks.
        self.requests = 0
        #: Credentials a configured URL carried (``https://user:pass@host/feed``), by host:
        #: sent as HTTP Basic auth to that host only, and never part of a URL that is
        #: stored, published or logged (every Fetched.url is without them).
        self._auth: dict[str, httpx.BasicAuth] = {}

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # -- the public call -------------------------------------------------------------

    def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None, accept: str = PAGE_ACCEPT
    ) -> Fetched:
        """GET ``url``; a 304 comes back as ``Fetched.not_modified``; failures raise FetchError."""
        url = self._credentials(url)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempts = self.retries + 1

        def stop(state: tenacity.RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            too_long = isinstance(exc, _Retry) and (exc.retry_after or 0) > MAX_RETRY_AFTER
            return state.attempt_number >= attempts or too_long or self.should_stop()

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            logger.debug(
                "[%s] GET %s failed (%s); retry %d of %d in %.1fs",
                self.source,
                url,
                exc,
                state.attempt_number,
                self.retries,
                state.next_action.sleep if state.next_action else 0.0,
            )

        retrying = tenacity.Retrying(
            stop=stop,
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_Retry),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        failures: list[FetchError] = []

        def attempt() -> Fetched:
            if failures and self.should_stop():
                raise failures[-1]  # shutting down: report the last failure, do not retry
            try:
                return self._attempt(url, headers)
            except _Retry as exc:
                failures.append(exc.error)
                raise

        try:
            return retrying(attempt)
        except _Retry as exc:
            tries = retrying.statistics.get("attempt_number", 1)
            error = exc.error
            if tries > 1:
                error.message += f" (after {tries} attempts)"
            raise error from None

    def _credentials(self, url: str) -> str:
        """``url`` without its ``user:password@``, which is kept as the host's Basic auth."""
        clean, auth = split_credentials(url)
        if auth is not None:
            self._auth[(urlsplit(url).hostname or "").lower()] = auth
        return clean

    # -- one attempt ------------------------------------------------------------------

    def _attempt(self, url: str, headers: dict[str, str]) -> Fetched:
        deadline = time.monotonic() + self.timeout
        chain = [url]
        current = url
        for _hop in range(self.max_redirects + 1):
            self._check_scheme(current, url)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Retry(self._error(f"timed out after {self.timeout:g}s", current, transient=True))
            try:
                fetched = self._once(current, headers, deadline, remaining)
            except httpx.TimeoutException:
                raise _Retry(self._error(f"timed out after {self.timeout:g}s", current, transient=True)) from None
            except httpx.RemoteProtocolError as exc:
                raise _Retry(
                    self._error(f"the connection broke mid-response: {exc}", current, transient=True)
                ) from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise self._error(f"cannot request this URL: {exc}", current) from None
            except httpx.DecodingError as exc:  # e.g. "Content-Encoding: gzip" over plain bytes
                raise self._error(f"the response body cannot be decoded: {exc}", current) from None
            except httpx.TransportError as exc:
                raise _Retry(
                    self._error(f"network error: {exc or type(exc).__name__}", current, transient=True)
                ) from None
            if isinstance(fetched, str):  # a redirect: follow it by hand
                target = strip_fragment(fetched)
                if target in chain:
                    loop = " -> ".join([*chain[chain.index(target) :], target])
                    raise self._error(
                        f"redirect loop: {loop}",
                        url,
                        status=None,
                        hint="the server redirects in a circle; check the URL",
                    )
                chain.append(target)
                current = target
                continue
            return fetched
        raise self._error(
            f"more than {self.max_redirects} redirects: {' -> '.join(chain)}",
            url,
            hint="use the final URL in config.toml, or raise max_redirects",
        )

    def _once(self, url: str, headers: dict[str, str], deadline: float, remaining: float) -> Fetched | str:
        """One request. Returns the response, or the absolute target of a redirect.

        httpx's timeouts bound each read, not the request: a server that trickles its
        status line and headers a byte at a time would hold it for ever. A watchdog cuts
        the request's socket at the deadline (``shutdown``, which wakes a blocked read)."""
        self.requests += 1
        try:
            with _cut_at(deadline) as trace:
                return self._exchange(url, headers, deadline, remaining, trace)
        except httpx.TransportError:
            if time.monotonic() >= deadline:  # the watchdog cut it: the server was too slow
                raise httpx.ReadTimeout("the response did not arrive in time") from None
            raise

    def _exchange(
        self, url: str, headers: dict[str, str], deadline: float, remaining: float, trace: Callable[..., None]
    ) -> Fetched | str:
        auth = self._auth.get((urlsplit(url).hostname or "").lower()) if self._auth else None
        with self._client.stream(
            "GET", url, headers=headers, timeout=httpx.Timeout(remaining), extensions={"trace": trace}, auth=auth
        ) as resp:
            status = resp.status_code
            if status in REDIRECT_CODES and "location" in resp.headers:
                return self._credentials(urljoin(url, resp.headers["location"]))
            if status == 304:
                return Fetched(url=str(resp.url), status=304, content=b"", headers=_headers(resp))
            if status >= 500 or status == 429:
                error = self._error(f"HTTP {status} {resp.reason_phrase}".strip(), url, status=status, transient=True)
                raise _Retry(error, _retry_after(resp.headers.get("retry-after")))
            if status >= 400:
                hint = "check the URL in config.toml" if status in (404, 410) else None
                raise self._error(f"HTTP {status} {resp.reason_phrase}".strip(), url, status=status, hint=hint)
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise self._too_large(url, f"{int(declared)} bytes announced")
            body = bytearray()
            for chunk in resp.iter_bytes():  # decoded, so a gzip bomb hits the cap too
                body += chunk
                if len(body) > self.max_bytes:
                    raise self._too_large(url, f"more than {self.max_bytes} bytes received")
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the body did not arrive in time")
            return Fetched(url=str(resp.url), status=status, content=bytes(body), headers=_headers(resp))

    # -- helpers ----------------------------------------------------------------------

    def _check_scheme(self, current: str, original: str) -> None:
        scheme = urlsplit(current).scheme.lower()
        if scheme not in ("http", "https"):
            where = "" if current == original else f" (redirected from {original})"
            raise self._error(f"only http and https are fetched, not {scheme or 'a relative URL'}{where}", current)
        if not self.allow_private and is_private_host(urlsplit(current).hostname or ""):
            where = "" if current == original else f" (redirected from {original})"
            raise self._error(
                f"refusing a link to a private or local address{where}",
                current,
                hint="set allow_private_addresses = true for this source if it is meant to reach internal hosts",
            )

    def _error(
        self, message: str, url: str, *, status: int | None = None, hint: str | None = None, transient: bool = False
    ) -> FetchError:
        return FetchError(message, source=self.source, url=url, status=status, hint=hint, transient=transient)

    def _too_large(self, url: str, detail: str) -> FetchError:
        return self._error(
            f"response too large ({detail}; max_bytes is {self.max_bytes})",
            url,
            hint="raise max_bytes for this source if the upstream is really that large",
        )

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.retry_after is not None:
            return exc.retry_after
        # Exponential with jitter: backoff, 2x, 4x ... plus up to one backoff at random.
        exponential: float = self.backoff * 2.0 ** (state.attempt_number - 1) + random.uniform(0, self.backoff)
        return min(exponential, MAX_BACKOFF)

    def _sleep(self, seconds: float) -> None:
        """Sleep between attempts, but wake up when the daemon is stopping."""
        end = time.monotonic() + seconds
        while not self.should_stop():
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.1))


class HttpSource:
    """What the feed and pages sources share: settings, the stop check and the fetcher."""

    def __init__(
        self,
        settings: FeedSourceSettings | PagesSourceSettings,
        root: Path,
        *,
        should_stop: StopCheck = never_stop,
        fetcher: HttpFetcher | None = None,
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self.should_stop = should_stop
        self._fetcher = fetcher

    def _http(self) -> HttpFetcher:
        """The injected fetcher (tests), else one configured from the source's settings."""
        s = self.settings
        return self._fetcher or HttpFetcher(
            source=self.name,
            user_agent=s.user_agent or "syndicate",
            timeout=s.timeout.total_seconds(),
            max_bytes=s.max_bytes,
            max_redirects=s.max_redirects,
            retries=s.retries,
            backoff=s.retry_backoff.total_seconds(),
            should_stop=self.should_stop,
            # Links found in content may reach only public hosts, unless the operator
            # pointed this source at an internal host or allowed it explicitly.
            allow_private=s.allow_private_addresses or is_private_host(urlsplit(s.address).hostname or ""),
        )


def _headers(resp: httpx.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in resp.headers.items()}


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
