"""The ASGI application: published files under ``site.base_url``'s path, operator pages.

Two parts behind one small dispatcher:

- :class:`OutputApp`, a plain ASGI app for the files (``feeds/`` and ``translations/``
  at the URLs publishing links to). It is the hot path, so it answers from the
  in-memory :class:`~syndicate.serve.files.FileCache` with raw ASGI messages; anything
  slow (reading a changed file, compressing it, asking the store whether an archive
  page is full) runs in a worker thread, never on the event loop.
- :class:`~syndicate.serve.review.ReviewApp` for ``/review``: the editors' review page
  and its JSON API (:mod:`syndicate.serve.review`);
- a Starlette app for ``/status``, ``/status.json``, ``/metrics``, ``/healthz`` and
  ``/readyz``. Status and metrics answer loopback clients only, or any client with
  ``Authorization: Bearer <[serve] status_token>`` when a token is configured.

Why Starlette on uvicorn: both are maintained, small, typed and ASGI-native; uvicorn
with httptools and uvloop serves thousands of small responses a second on one core, and
an asyncio server can share the process with the daemon, whose polls and translations
run in their own threads (CTranslate2 releases the GIL while it translates).
"""

from __future__ import annotations

import gc
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio.to_thread
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from syndicate import metrics
from syndicate.config import Settings
from syndicate.serve.files import STREAM_CHUNK, BigFile, CachedFile, FileCache, OutputFolder, brotli_available
from syndicate.serve.headers import CORS_KINDS, preflight_headers, resource_headers
from syndicate.serve.status import STATUS_CSS, ProcessInfo, StatusService, duration
from syndicate.store import Store

if TYPE_CHECKING:
    from syndicate.sources.websub import WebSubSubscriber

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Operator endpoints, at the server's root whatever ``base_url``'s path is.
OPERATOR_PATHS = frozenset({"/status", "/status.json", "/status.css", "/metrics", "/healthz", "/readyz"})
#: A request body (the review page's forms and API) must arrive within this many
#: seconds and be at most MAX_BODY bytes (408 and 413 past them).
BODY_SECONDS = 10.0
MAX_BODY = 1024 * 1024
#: Seconds the server trusts its list of retired languages before reading it again.
RETIRED_TTL = 5.0
#: A WebSub delivery's body must arrive within this many seconds (408 past it).
DELIVERY_SECONDS = 10.0
#: Bytes of delivery bodies held at once, across connections (503 past it, the hub retries).
DELIVERY_BUDGET = 16 * 1024 * 1024
#: The status page refreshes itself this often (seconds).
STATUS_REFRESH = 30

STATUS_CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
_LOOPBACK_NAMES = frozenset({"localhost"})
_NOT_FOUND = b"not found\n"


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _accepts(header: str) -> str | None:
    """The content coding to use for an Accept-Encoding value: "br", "gzip" or None."""
    offered: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        offered[name.strip().lower()] = q
    wildcard = offered.get("*", 0.0)
    # The client's preference decides (RFC 9110 12.5.3); on a tie brotli, the smaller.
    choices = {"gzip": offered.get("gzip", offered.get("x-gzip", wildcard))}
    if brotli_available():
        choices["br"] = offered.get("br", wildcard)
    best = max(choices.values())
    if best <= 0:
        return None
    return "br" if choices.get("br") == best else "gzip"


def _since(value: str) -> float:
    """An If-Modified-Since date as a timestamp (-1 when it cannot be read)."""
    try:
        found = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return -1.0
    return found.timestamp() if found is not None and found.tzinfo is not None else -1.0


def _not_modified(file: CachedFile, headers: dict[bytes, bytes]) -> bool:
    """RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only without it."""
    inm = headers.get(b"if-none-match")
    if inm is not None:
        value = inm.decode("latin-1")
        return value.strip() == "*" or any(file.matches(tag) for tag in value.split(","))
    ims = headers.get(b"if-modified-since")
    if ims is not None:
        try:
            since = parsedate_to_datetime(ims.decode("latin-1"))
        except (TypeError, ValueError, IndexError):
            return False
        if since is None or since.tzinfo is None:
            return False
        return file.mtime <= since.timestamp()
    return False


class OutputApp:
    """Serves the output folders at their published URL paths (GET, HEAD, CORS preflight)."""

    def __init__(
        self,
        folders: list[tuple[str, OutputFolder]],
        *,
        max_age: int,
        site_root: str = "/",
        home: str | None = None,
        hubs: Sequence[str] = (),
        origin: str = "",
    ) -> None:
        #: (URL path prefix ending in "/", folder), longest prefix first.
        self.folders = sorted(folders, key=lambda item: len(item[0]), reverse=True)
        #: WebSub: subscription feeds name their hubs and themselves in Link headers
        #: (``origin`` + the request path is the topic URL, as the feed's rel="self").
        self.hubs = tuple(hubs)
        self.origin = origin
        self.max_age = max_age
        self.site_root = site_root  # base_url's path
        self.home = home  # where the site root redirects (the feeds index)
        self.cache = FileCache()
        self._codings: dict[bytes, str | None] = {}
        #: Languages retired (no longer configured; their outputs removed): ``410 Gone``.
        #: Read from the store at most every RETIRED_TTL seconds, off the event loop.
        self.retired_source: Callable[[], frozenset[str]] | None = None
        self._retired: tuple[float, frozenset[str]] = (-RETIRED_TTL, frozenset())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        for prefix, folder in self.folders:  # noqa: B007 - the folder found is used after the loop
            if path.startswith(prefix) or path == prefix[:-1]:
                break
        else:
            if self.home is not None and path in ("/", self.site_root, self.site_root.rstrip("/")):
                await self._plain(send, 302, b"", route="redirect", extra=[(b"location", self.home.encode())])
                return
            await self._plain(send, 404, _NOT_FOUND, route="missing")
            return
        if path == prefix[:-1]:
            await self._plain(send, 301, b"", route="redirect", extra=[(b"location", prefix.encode())])
            return
        if method not in ("GET", "HEAD", "OPTIONS"):
            await self._plain(
                send, 405, b"method not allowed\n", route="rejected", extra=[(b"allow", b"GET, HEAD, OPTIONS")]
            )
            return
        rest = path[len(prefix) :]
        if self.retired_source is not None and rest.partition("/")[0] in await self._retired_now():
            await self._plain(send, 410, b"gone: this language is no longer published\n", route="missing")
            return
        found = self.cache.lookup(folder, rest, load=False)
        if found.stale:
            found = await anyio.to_thread.run_sync(self.cache.lookup, folder, rest)
        if found.redirect:
            location = path + "/"
            await self._plain(send, 301, b"", route="redirect", extra=[(b"location", location.encode("utf-8"))])
            return
        if found.big is not None:
            await self._stream(found.big, scope, send, path)
            return
        file = found.file
        if file is None:
            await self._plain(send, 404, _NOT_FOUND, route="missing")
            return
        route = file.kind.name
        if method == "OPTIONS":
            # A CORS preflight for a feed; other files only say which methods they allow.
            allowed = [(b"allow", b"GET, HEAD, OPTIONS")]
            extra = preflight_headers() if file.kind.name in CORS_KINDS else allowed
            await self._plain(send, 204, b"", route=route, extra=extra)
            return
        headers = dict(scope["headers"])
        compressible = file.compressible()
        coding = self._coding(headers.get(b"accept-encoding", b"")) if compressible else None
        if _not_modified(file, headers):
            cached = file.headers.get(coding)
            base = cached[0] if cached else self._headers(file, coding, None, path)[0]
            await send({"type": "http.response.start", "status": 304, "headers": base})
            await send({"type": "http.response.body", "body": b""})
            metrics.record_http(route, 304)
            return
        if coding is None:
            body = file.body
        elif coding in file.variants:
            body = file.variants[coding]
        else:
            body = await anyio.to_thread.run_sync(file.variant, coding)
        cached = file.headers.get(coding)
        full = cached[1] if cached and cached[1] is not None else self._headers(file, coding, body, path)[1]
        await send({"type": "http.response.start", "status": 200, "headers": full})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
        metrics.record_http(route, 200)

    async def _retired_now(self) -> frozenset[str]:
        when, retired = self._retired
        now = time.monotonic()
        if now - when >= RETIRED_TTL and self.retired_source is not None:
            self._retired = (now, retired)  # one refresh at a time; the others use what is known
            try:
                retired = await anyio.to_thread.run_sync(self.retired_source)
            except Exception as exc:  # noqa: BLE001 - a store that does not answer: keep what is known
                logger.debug("cannot read the retired languages: %s", exc)
            self._retired = (now, retired)
        return retired

    async def _stream(self, big: BigFile, scope: Scope, send: Send, path: str) -> None:
        """A file too large to cache: read from disk a chunk at a time (in worker threads),
        sent as it is; validators from its identity (mtime, size, inode)."""
        route = big.kind.name
        if scope["method"] == "OPTIONS":
            extra = preflight_headers() if route in CORS_KINDS else [(b"allow", b"GET, HEAD, OPTIONS")]
            await self._plain(send, 204, b"", route=route, extra=extra)
            return
        headers = dict(scope["headers"])
        base = [
            (b"etag", big.etag.encode()),
            (b"last-modified", big.last_modified.encode()),
            *resource_headers(big.kind, self.max_age, compressible=False),
        ]
        match = headers.get(b"if-none-match", b"").decode("latin-1")
        since = headers.get(b"if-modified-since", b"").decode("latin-1")
        if (match and big.etag in [t.strip() for t in match.split(",")]) or (
            not match and since and _since(since) >= big.mtime
        ):
            await send({"type": "http.response.start", "status": 304, "headers": base})
            await send({"type": "http.response.body", "body": b""})
            metrics.record_http(route, 304)
            return
        try:
            fd = await anyio.to_thread.run_sync(os.open, big.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            await self._plain(send, 404, _NOT_FOUND, route="missing")
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        *base,
                        (b"content-type", big.kind.content_type.encode()),
                        (b"content-length", str(big.size).encode()),
                    ],
                }
            )
            left = big.size if scope["method"] == "GET" else 0
            while left > 0:
                chunk = await anyio.to_thread.run_sync(os.read, fd, min(STREAM_CHUNK, left))
                if not chunk:
                    break  # the file shrank meanwhile: the client sees a short body, never garbage
                left -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": left > 0})
            if left > 0 or scope["method"] == "HEAD":
                await send({"type": "http.response.body", "body": b""})
        finally:
            os.close(fd)
        metrics.record_http(route, 200)

    def _coding(self, accept: bytes) -> str | None:
        """Accept-Encoding -> coding, remembered per distinct header value (there are few)."""
        try:
            return self._codings[accept]
        except KeyError:
            coding = _accepts(accept.decode("latin-1"))
            if len(self._codings) < 512:
                self._codings[accept] = coding
            return coding

    def _headers(
        self, file: CachedFile, coding: str | None, body: bytes | None, path: str
    ) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]] | None]:
        """A file's 304 headers and (once its body in ``coding`` is known) its 200 headers,
        built once per representation and kept on the cached file."""
        base = [
            (b"etag", file.etag_for(coding).encode()),
            (b"last-modified", file.last_modified.encode()),
            *resource_headers(file.kind, self.max_age, compressible=file.compressible()),
        ]
        if self.hubs and file.kind.name == "feed":
            links = [f'<{hub}>; rel="hub"' for hub in self.hubs] + [f'<{self.origin}{path}>; rel="self"']
            base.append((b"link", ", ".join(links).encode("utf-8")))
        full = None
        if body is not None:
            full = [
                *base,
                (b"content-type", file.kind.content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ]
            if coding is not None:
                full.append((b"content-encoding", coding.encode()))
        file.headers[coding] = (base, full)
        return base, full

    async def _plain(
        self, send: Send, status: int, body: bytes, *, route: str, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-store" if status >= 400 else b"public, max-age=60"),
            *(extra or []),
        ]
        if status != 204:  # a 204 has no content, not even its length
            headers += [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        metrics.record_http(route, status)


def _unavailable() -> Response:
    return PlainTextResponse(
        "the store cannot be read: see the server's log\n", 503, headers={"Cache-Control": "no-store"}
    )


def _origin(url: str) -> str:
    """``https://news.example.org`` of ``https://news.example.org/news/``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _url_paths(settings: Settings) -> tuple[str, str, str]:
    """The site prefix and the URL paths of the two output folders (each ends in "/")."""
    return (
        urlsplit(settings.site.base_url).path or "/",
        urlsplit(settings.feeds_url).path,
        urlsplit(settings.translations_url).path,
    )


class SyndicateApp:
    """The whole server: operator endpoints, else the published files."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        runs_daemon: bool = False,
        websub: WebSubSubscriber | None = None,
        on_review: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.service = StatusService(settings, ProcessInfo(os.getpid(), time.time(), runs_daemon), store)
        prefix, feeds_path, pages_path = _url_paths(settings)
        self.prefix = prefix
        #: WebSub callbacks (``<prefix>websub/<source>``): the daemon's subscriber, when
        #: this process runs it (``run --serve`` with ``[websub] callback_url``).
        self.websub = websub
        self.websub_path = prefix + "websub/"
        #: Bytes of delivery bodies being received now (the event loop's only: no lock).
        self._delivery_bytes = 0
        self.files = OutputApp(
            [
                (feeds_path, OutputFolder(settings.feeds_dir, feeds=True, is_full=self.service.is_full)),
                (pages_path, OutputFolder(settings.translations_dir, feeds=False, is_full=self.service.is_full)),
            ],
            max_age=int(settings.serve.max_age.total_seconds()),
            site_root=prefix,
            home=feeds_path,
            hubs=settings.publish.public_hubs,
            origin=_origin(settings.site.base_url),
        )
        self.files.retired_source = self.service.retired
        self.templates = Environment(
            loader=PackageLoader("syndicate.serve", "templates"), autoescape=select_autoescape(["html"])
        )
        self.templates.filters["duration"] = duration
        #: The review page and its API (``/review``): editors' corrections and approvals;
        #: ``on_review`` (the daemon's) republishes a language at once after a change.
        from syndicate.serve.review import ReviewApp

        self.review = ReviewApp(
            settings, lambda: self.service.store, self.templates, on_change=on_review, runs_daemon=runs_daemon
        )
        self.operator = Starlette(
            routes=[
                Route("/status", self._status_page, methods=["GET"]),
                Route("/status.json", self._status_json, methods=["GET"]),
                Route("/status.css", self._status_css, methods=["GET"]),
                Route("/metrics", self._metrics, methods=["GET"]),
                Route("/healthz", self._healthz, methods=["GET"]),
                Route("/readyz", self._readyz, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    def reconfigure(self, settings: Settings) -> None:
        """A reloaded configuration (``run --serve`` on SIGHUP): the status page, the
        metrics, the review desk and the files' caching and hub headers use it from the
        next request; connections and requests in flight are untouched. Where the files
        are and the URL paths they are served at need a restart (see :func:`syndicate.config.reloadable`)."""
        self.settings = settings
        self.service.settings = settings
        self.service._snapshot = None
        self.review.reconfigure(settings)
        self.files.max_age = int(settings.serve.max_age.total_seconds())
        self.files.hubs = settings.publish.public_hubs

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        logger.info(
            "serving %s and %s at %s and %s",
            self.settings.feeds_dir,
            self.settings.translations_dir,
            *_url_paths(self.settings)[1:],
        )
        # What is loaded by now lives as long as the process: keep it out of the
        # collector's full passes, which otherwise show up as latency spikes.
        gc.collect()
        gc.freeze()
        yield
        await anyio.to_thread.run_sync(self.service.close)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == "/review" or scope["path"].startswith("/review/")):
            if scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
                replay = await self._bounded_body(scope, receive, send)
                if replay is None:
                    return  # answered 408 or 413
                receive = replay
            await self.review(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] not in OPERATOR_PATHS:
            if scope["path"].startswith(self.websub_path):
                await self._websub(scope, receive, send)
                return
            await self.files(scope, receive, send)
            return
        if scope["type"] not in ("http", "lifespan"):
            return  # no websockets
        if scope["type"] == "http":
            route = "health" if scope["path"] in ("/healthz", "/readyz") else "status"
            if scope["path"] == "/metrics":
                route = "metrics"

            async def counted(message: Message) -> None:
                if message["type"] == "http.response.start":
                    metrics.record_http(route, int(message["status"]))
                await send(message)

            await self.operator(scope, receive, counted)
            return
        await self.operator(scope, receive, send)

    # -- WebSub callbacks -----------------------------------------------------------

    async def _bounded_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Read a request's body within :data:`BODY_SECONDS` and :data:`MAX_BODY` bytes and
        hand it on as a receive callable; or answer 408/413 and return None. A client
        that trickles a body (or sends none after its head) cannot hold a request for
        ever, and counts against the requests in flight only that long."""
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        body = bytearray()
        problem: tuple[int, bytes] | None = None
        if declared.isdigit() and int(declared) > MAX_BODY:
            problem = (413, f"a request body may be at most {MAX_BODY} bytes\n".encode())
        else:
            try:
                with anyio.fail_after(BODY_SECONDS):
                    while True:
                        message = await receive()
                        if message["type"] != "http.request":
                            return None  # the client went away
                        body += message.get("body", b"")
                        if len(body) > MAX_BODY:
                            problem = (413, f"a request body may be at most {MAX_BODY} bytes\n".encode())
                            break
                        if not message.get("more_body", False):
                            break
            except TimeoutError:
                problem = (408, f"the request body did not arrive within {BODY_SECONDS:g} s\n".encode())
        if problem is not None:
            status, text = problem
            metrics.record_http("review", status)
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [*headers, (b"content-length", str(len(text)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": text})
            return None
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # after the body: the disconnect, when it comes

        return replay

    async def _websub(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A hub's verification (GET) or delivery (POST); the subscriber decides, in a
        worker thread (it reads the store); a delivery's body is bounded as it streams in."""
        request = Request(scope, receive)
        source = scope["path"][len(self.websub_path) :]
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        response: Response
        if self.websub is None:
            response = PlainTextResponse(
                "WebSub callbacks are answered by `syndicate run --serve` with [websub] callback_url set\n",
                503,
                headers=headers,
            )
        elif not source or "/" in source:
            response = PlainTextResponse("not found\n", 404, headers=headers)
        elif request.method == "GET":
            answer = await anyio.to_thread.run_sync(self.websub.verify, source, dict(request.query_params))
            response = PlainTextResponse(answer.body, answer.status, headers=headers)
        elif request.method == "POST":
            limit = self.settings.websub.max_delivery_bytes
            declared = request.headers.get("content-length", "")
            body = bytearray()
            too_large = declared.isdigit() and int(declared) > limit
            too_slow = busy = False
            if not too_large:
                # Deliveries being received share a memory budget, and each must arrive within
                # a deadline: connections that hold bodies open cannot pile up megabytes.
                try:
                    with anyio.fail_after(DELIVERY_SECONDS):
                        async for chunk in request.stream():
                            if self._delivery_bytes + len(chunk) > DELIVERY_BUDGET:
                                busy = True
                                break
                            body += chunk
                            self._delivery_bytes += len(chunk)
                            if len(body) > limit:
                                too_large = True
                                break
                except TimeoutError:
                    too_slow = True
            try:
                response = await self._delivered(
                    source, request, body, headers, limit, too_slow=too_slow, busy=busy, too_large=too_large
                )
            finally:
                self._delivery_bytes -= len(body)  # held until the subscriber is done with it
        else:
            response = PlainTextResponse("method not allowed\n", 405, headers={**headers, "Allow": "GET, POST"})
        metrics.record_http("websub", response.status_code)
        await response(scope, receive, send)

    async def _delivered(
        self,
        source: str,
        request: Request,
        body: bytearray,
        headers: dict[str, str],
        limit: int,
        *,
        too_slow: bool,
        busy: bool,
        too_large: bool,
    ) -> Response:
        """The answer to a delivery whose body was read (or refused while reading)."""
        assert self.websub is not None
        known = source if source in self.websub.feeds else "<unknown>"
        if too_slow:
            metrics.record_websub_delivery(known, "too-slow")
            return PlainTextResponse(
                f"the delivery did not arrive within {DELIVERY_SECONDS:g} s\n",
                408,
                headers={**headers, "Connection": "close"},
            )
        if busy:
            metrics.record_websub_delivery(known, "busy")
            return PlainTextResponse(
                "too many deliveries being received; retry later\n", 503, headers={**headers, "Retry-After": "5"}
            )
        if too_large:
            metrics.record_websub_delivery(known, "too-large")
            logger.warning("[%s] WebSub: refused a delivery larger than %d bytes", known, limit)
            return PlainTextResponse(f"a delivery may be at most {limit} bytes\n", 413, headers=headers)
        answer = await anyio.to_thread.run_sync(
            self.websub.deliver, source, request.headers.get("x-hub-signature"), bytes(body)
        )
        return PlainTextResponse(answer.body, answer.status, headers=headers)

    # -- operator endpoints --------------------------------------------------------

    def _denied(self, request: Request) -> Response | None:
        """None when the client may see status and metrics."""
        token = self.settings.serve.status_token
        if token:
            given = request.headers.get("authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
                return None
            return PlainTextResponse(
                "a bearer token is required\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="syndicate"'},
            )
        if _is_loopback(request.client.host if request.client else None):
            return None
        return PlainTextResponse("status and metrics answer loopback clients only (or set [serve] status_token)\n", 403)

    async def _status_page(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        data = await anyio.to_thread.run_sync(self.service.snapshot)
        if data is None:
            return _unavailable()
        html = self.templates.get_template("status.html").render(
            s=data, refresh=STATUS_REFRESH, css_url="/status.css", json_url="/status.json", metrics_url="/metrics"
        )
        return Response(
            html,
            media_type="text/html; charset=utf-8",
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": STATUS_CSP,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    async def _status_json(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        data = await anyio.to_thread.run_sync(self.service.snapshot)
        if data is None:
            return _unavailable()
        return JSONResponse(data, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    async def _status_css(self, _request: Request) -> Response:
        return Response(
            STATUS_CSS,
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    async def _metrics(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        # The quality histogram reads the store: off the event loop, like the status page.
        metrics.QUALITY.source = self.service.quality
        metrics.REVIEW.source = self.service.review
        metrics.HEALTH.source = self.service.health
        await anyio.to_thread.run_sync(self.service.refresh_cluster)
        body = await anyio.to_thread.run_sync(metrics.render)
        return Response(body, headers={"Content-Type": metrics.CONTENT_TYPE, "Cache-Control": "no-store"})

    async def _healthz(self, _request: Request) -> Response:
        return PlainTextResponse("ok\n", headers={"Cache-Control": "no-store"})

    async def _readyz(self, _request: Request) -> Response:
        ok, details = await anyio.to_thread.run_sync(self.service.ready)
        return JSONResponse(
            {"ready": ok, **details}, status_code=200 if ok else 503, headers={"Cache-Control": "no-store"}
        )


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    runs_daemon: bool = False,
    websub: WebSubSubscriber | None = None,
    on_review: Callable[[str], None] | None = None,
) -> SyndicateApp:
    """The ASGI app for ``settings``; pass the daemon's ``store`` (its WebSub subscriber,
    and what republishes after an editor's change) when it runs in-process."""
    return SyndicateApp(settings, store=store, runs_daemon=runs_daemon, websub=websub, on_review=on_review)


__all__ = ["OPERATOR_PATHS", "SyndicateApp", "create_app"]
