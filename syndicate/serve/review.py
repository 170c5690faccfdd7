"""The review page and its JSON API, under ``/review`` (see :mod:`syndicate.review.service`).

Who may edit: editors named in ``[review] editors`` (a token's SHA-256) or in the
environment variable ``[review] editors_env`` (``NAME:TOKEN,...``). The API takes
``Authorization: Bearer <token>``; the page signs an editor in with the token once and
keeps a session cookie (HttpOnly, SameSite=Strict, signed with a key kept in the state
folder). Tokens never reach a log.

Cross-site requests are refused: every request that changes something must come with no
``Origin`` or one this server answers for (its own, ``site.base_url``'s, ``[review]
allowed_origins``), and not with ``Sec-Fetch-Site: cross-site``; the page's forms carry
a token bound to the session as well. The API answers no CORS preflight.

The page works without JavaScript: plain forms, each answered with a redirect back
(Post/Redirect/Get), a layout that folds to one column on a phone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import anyio.to_thread
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from syndicate import metrics
from syndicate.config import Settings
from syndicate.errors import ReviewError, SyndicateError
from syndicate.publish.edition import page_url
from syndicate.review.service import EntryView, ReviewDesk, parse_date
from syndicate.store import Store
from syndicate.store.review import LogEntry, QueueLine

logger = logging.getLogger(__name__)

PREFIX = "/review"
COOKIE = "syndicate_review"
#: The largest JSON request body (a correction is at most 20,000 characters).
MAX_JSON = 256 * 1024
REVIEW_CSP = "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

REVIEW_CSS = """\
:root { color-scheme: light dark; --low: #9a6700; --bad: #cf222e; --ok: #1a7f37; }
body { font: 16px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 0.75rem; }
h1 { font-size: 1.35rem; margin: 0.2rem 0 0.6rem; } h2 { font-size: 1.1rem; }
nav, .meta { color: GrayText; font-size: 0.9rem; } .flash { padding: 0.4rem; border-left: 4px solid var(--ok); }
.flash.error { border-color: var(--bad); }
table { border-collapse: collapse; width: 100%; } td, th { padding: 0.3rem; border-bottom: 1px solid #8884;
  text-align: left; vertical-align: top; }
.seg { display: grid; grid-template-columns: 1fr 1fr; gap: 0.6rem; border-bottom: 1px solid #8884; padding: 0.5rem 0; }
.seg.low { background: #ffd33d22; border-left: 4px solid var(--low); padding-left: 0.4rem; }
.seg.review { border-left: 4px solid var(--bad); padding-left: 0.4rem; }
.seg.human .target-label::after { content: " (editor)"; color: var(--ok); }
.source { white-space: pre-wrap; overflow-wrap: anywhere; }
textarea { width: 100%; box-sizing: border-box; min-height: 3.2rem; font: inherit; }
button { font: inherit; padding: 0.25rem 0.8rem; } .kind { font-size: 0.8rem; color: GrayText; }
.previous { font-size: 0.9rem; color: var(--bad); }
form.inline { display: inline; }
@media (max-width: 40rem) { .seg { grid-template-columns: 1fr; }
                            td:nth-child(n+4), th:nth-child(n+4) { display: none; } }
"""


def token_digest(token: str) -> str:
    """What ``[review] editors`` holds for a token."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def editors_of(settings: Settings, environ: dict[str, str] | None = None) -> dict[str, str]:
    """digest -> editor name, from the config and the environment variable."""
    out = {digest: name for name, digest in settings.review.editors.items()}
    raw = (environ if environ is not None else os.environ).get(settings.review.editors_env, "")
    for item in raw.split(","):
        name, sep, token = item.strip().partition(":")
        if sep and name.strip() and len(token.strip()) >= 16:
            out[token_digest(token.strip())] = name.strip()
        elif item.strip():
            logger.warning(
                "%s: an entry is not NAME:TOKEN with a token of 16 characters or more; ignored",
                settings.review.editors_env,
            )
    return out


class ReviewApp:
    """The Starlette app for ``/review`` (mounted by :class:`~syndicate.serve.app.SyndicateApp`)."""

    def __init__(
        self,
        settings: Settings,
        store: Callable[[], Store],
        templates: Environment,
        *,
        on_change: Callable[[str], None] | None = None,
        runs_daemon: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self._store = store
        self._desk: ReviewDesk | None = None
        self.templates = templates
        self.on_change = on_change
        self.runs_daemon = runs_daemon
        self.clock = clock
        self.editors = editors_of(settings)
        self._key: bytes | None = None
        base = urlsplit(settings.site.base_url)
        self.origins = {f"{base.scheme}://{base.netloc}".lower(), *settings.review.allowed_origins}
        api = PREFIX + "/api"
        self.app = Starlette(
            routes=[
                Route(PREFIX, self.index, methods=["GET"]),
                Route(PREFIX + "/", self.index, methods=["GET"]),
                Route(PREFIX + "/review.css", self.css, methods=["GET"]),
                Route(PREFIX + "/login", self.login, methods=["GET", "POST"]),
                Route(PREFIX + "/logout", self.logout, methods=["POST"]),
                Route(api + "/openapi.json", self.openapi, methods=["GET"]),
                Route(api + "/languages", self.api_languages, methods=["GET"]),
                Route(api + "/languages/{language}/entries", self.api_queue, methods=["GET"]),
                Route(api + "/languages/{language}/entries/{article:int}", self.api_entry, methods=["GET"]),
                Route(
                    api + "/languages/{language}/entries/{article:int}/corrections", self.api_correct, methods=["POST"]
                ),
                Route(
                    api + "/languages/{language}/entries/{article:int}/withdraw", self.api_withdraw, methods=["POST"]
                ),
                Route(api + "/languages/{language}/entries/{article:int}/approve", self.api_approve, methods=["POST"]),
                Route(api + "/languages/{language}/xliff", self.api_export, methods=["GET"]),
                Route(api + "/languages/{language}/tmx", self.api_tmx, methods=["GET"]),
                Route(api + "/xliff", self.api_import, methods=["POST"]),
                Route(api + "/history", self.api_history, methods=["GET"]),
                Route(PREFIX + "/{language}", self.queue_page, methods=["GET"]),
                Route(PREFIX + "/{language}/{article:int}", self.entry_page, methods=["GET"]),
                Route(PREFIX + "/{language}/{article:int}/correct", self.correct_form, methods=["POST"]),
                Route(PREFIX + "/{language}/{article:int}/approve", self.approve_form, methods=["POST"]),
            ]
        )

    def reconfigure(self, settings: Settings) -> None:
        """A reloaded configuration: editors, allowed origins and review modes from now on
        (a revoked editor's token stops working at the next request)."""
        self.settings = settings
        self.editors = editors_of(settings)
        base = urlsplit(settings.site.base_url)
        self.origins = {f"{base.scheme}://{base.netloc}".lower(), *settings.review.allowed_origins}
        self._desk = None  # made again with the new settings on first use

    @property
    def desk(self) -> ReviewDesk:
        if self._desk is None:
            self._desk = ReviewDesk(self.settings, self._store(), clock=self.clock, on_change=self.on_change)
        return self._desk

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counted(message: Any) -> None:
            if message["type"] == "http.response.start":
                metrics.record_http("review", int(message["status"]))
            await send(message)

        await self.app(scope, receive, counted)

    # -- who is asking ---------------------------------------------------------------------

    def _bearer(self, request: Request) -> str | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        digest = token_digest(value.strip())
        for known, name in self.editors.items():
            if hmac.compare_digest(known, digest):
                return name
        return None

    def _signing_key(self) -> bytes:
        """The key sessions are signed with: kept in the state folder (0600), so a restart
        keeps editors signed in; made on first use."""
        if self._key is None:
            path = Path(self.settings.state_dir) / "review-session.key"
            try:
                self._key = path.read_bytes()
            except OSError:
                key = secrets.token_bytes(32)
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as out:
                        out.write(key)
                except FileExistsError:
                    key = path.read_bytes()
                except OSError as exc:  # a read-only state folder: sessions last as long as the process
                    logger.warning(
                        "review: cannot keep the session key in %s (%s): sign-ins end with the process", path, exc
                    )
                self._key = key
            if len(self._key) < 32:
                self._key = hashlib.sha256(self._key).digest()
        return self._key

    def _sign(self, payload: str) -> str:
        return hmac.new(self._signing_key(), payload.encode(), hashlib.sha256).hexdigest()

    def _session(self, request: Request) -> str | None:
        """The editor the session cookie names, while it is valid and the editor still known."""
        raw = request.cookies.get(COOKIE, "")
        payload, _, signature = raw.rpartition(".")
        if not payload or not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload.encode() + b"=" * (-len(payload) % 4)))
            name, expires, digest = str(data["n"]), float(data["e"]), str(data["d"])
        except (ValueError, KeyError, TypeError):
            return None
        if expires < time.time() or self.editors.get(digest) != name:
            return None  # expired, or the editor's token was revoked
        return name

    def _csrf(self, request: Request) -> str:
        return self._sign("csrf|" + request.cookies.get(COOKIE, ""))

    def _cross_site(self, request: Request) -> str | None:
        """Why a state-changing request is refused as cross-site, or None."""
        if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
            return "a cross-site request"
        origin = request.headers.get("origin")
        if origin is None:
            return None  # not a browser's cross-origin request (curl, a CAT tool's plug-in)
        own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
        if origin.lower().rstrip("/") in self.origins | {own}:
            return None
        return f"origin {origin!r} is not allowed"

    def _api_editor(self, request: Request, *, changes: bool) -> str | Response:
        if not self.editors:
            return _problem(
                403,
                "no editor is configured",
                f"add [review] editors (`syndicate review token NAME`) or set {self.settings.review.editors_env}",
            )
        name = self._bearer(request)
        if name is None:
            return _problem(
                401,
                "an editor's bearer token is required",
                "send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": 'Bearer realm="syndicate review"'},
            )
        if changes and (why := self._cross_site(request)) is not None:
            logger.warning(
                "review: refused %s %s from %s: %s",
                request.method,
                request.url.path,
                request.client.host if request.client else "?",
                why,
            )
            return _problem(403, f"refused: {why}", "edit from the review page or a client on this server's origin")
        return name

    async def _json(self, request: Request) -> dict[str, Any]:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_JSON:
                raise ReviewError(f"the request body is larger than {MAX_JSON} bytes", item="request")
        try:
            data = json.loads(bytes(body) or b"{}")
        except ValueError as exc:
            raise ReviewError(
                f"the request body is not JSON: {exc}",
                item="request",
                hint="send Content-Type: application/json with an object",
            ) from None
        if not isinstance(data, dict):
            raise ReviewError("the request body must be a JSON object", item="request")
        return data

    async def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

    # -- JSON API --------------------------------------------------------------------------

    async def _api(self, request: Request, changes: bool, work: Callable[[str], Any]) -> Response:
        editor = self._api_editor(request, changes=changes)
        if isinstance(editor, Response):
            return editor
        try:
            result = await work(editor)
        except ReviewError as exc:
            status = (
                404
                if "has no translation" in exc.message or "not a target language" in exc.message
                else 409
                if "changed since" in exc.message
                else 400
            )
            return _problem(status, exc.message, exc.hint)
        except SyndicateError as exc:
            logger.error("review: %s", exc)
            return _problem(503, str(exc), "check the store")
        if isinstance(result, Response):
            return result
        return JSONResponse(result, headers=_HEADERS)

    async def api_languages(self, request: Request) -> Response:
        async def work(_editor: str) -> Any:
            counts = await self._run(self.desk.counts)
            return [
                {"language": code, "mode": self.settings.translate.review_mode(code), **counts[code]}
                for code in self.desk.languages
            ]

        return await self._api(request, False, work)

    async def api_queue(self, request: Request) -> Response:
        language = request.path_params["language"]
        waiting = request.query_params.get("waiting", "") in ("1", "true", "yes")
        limit, offset = _int(request.query_params.get("limit"), 50), _int(request.query_params.get("offset"), 0)

        async def work(_editor: str) -> Any:
            lines = await self._run(self.desk.queue, language, waiting_only=waiting, limit=limit, offset=offset)
            return {"language": language, "entries": [_line_json(line) for line in lines]}

        return await self._api(request, False, work)

    async def api_entry(self, request: Request) -> Response:
        language, article = request.path_params["language"], request.path_params["article"]

        async def work(_editor: str) -> Any:
            entry = await self._run(self.desk.entry, language, article)
            return {**_entry_json(entry), "page_url": page_url(self.settings, entry.language, entry.article.slug)}

        return await self._api(request, False, work)

    async def api_correct(self, request: Request) -> Response:
        language, article = request.path_params["language"], request.path_params["article"]

        async def work(editor: str) -> Any:
            data = await self._json(request)
            text, segment, source, expect = (
                data.get("text"),
                data.get("segment"),
                data.get("source"),
                data.get("expect"),
            )
            if not isinstance(text, str) or (segment is None and not isinstance(source, str)):
                raise ReviewError(
                    'give "text" and the segment: "segment" (its index) or "source" (its text)',
                    item=f"{language}/{article}",
                )
            if segment is not None and not isinstance(segment, int):
                raise ReviewError('"segment" must be an integer index', item=f"{language}/{article}")
            affected = await self._run(
                self.desk.correct,
                language,
                article,
                text=text,
                editor=editor,
                via="api",
                segment=segment,
                source=source if isinstance(source, str) else None,
                expect=expect if isinstance(expect, str) else None,
            )
            return {"saved": True, "republish": affected, "published": self._when()}

        return await self._api(request, True, work)

    async def api_withdraw(self, request: Request) -> Response:
        language, article = request.path_params["language"], request.path_params["article"]

        async def work(editor: str) -> Any:
            data = await self._json(request)
            segment, source = data.get("segment"), data.get("source")
            affected = await self._run(
                self.desk.withdraw,
                language,
                article,
                editor=editor,
                via="api",
                segment=segment if isinstance(segment, int) else None,
                source=source if isinstance(source, str) else None,
            )
            return {"withdrawn": bool(affected), "republish": affected, "published": self._when()}

        return await self._api(request, True, work)

    async def api_approve(self, request: Request) -> Response:
        language, article = request.path_params["language"], request.path_params["article"]

        async def work(editor: str) -> Any:
            data = await self._json(request)
            approved = data.get("approved", True)
            if not isinstance(approved, bool):
                raise ReviewError('"approved" must be true or false', item=f"{language}/{article}")
            await self._run(self.desk.approve, language, article, editor=editor, via="api", approved=approved)
            return {"approved": approved, "published": self._when()}

        return await self._api(request, True, work)

    async def api_history(self, request: Request) -> Response:
        language = request.query_params.get("language") or None
        article = _int(request.query_params.get("article"), None)
        limit = _int(request.query_params.get("limit"), 100)

        async def work(_editor: str) -> Any:
            entries = await self._run(self.desk.history, language=language, article_id=article, limit=limit)
            return {"history": [_log_json(e) for e in entries]}

        return await self._api(request, False, work)

    async def api_export(self, request: Request) -> Response:
        language = request.path_params["language"]
        query = request.query_params
        ids = [int(a) for a in query.getlist("article") if a.isdigit()]
        waiting = query.get("waiting", "") in ("1", "true", "yes")

        async def work(_editor: str) -> Any:
            since, until = parse_date(query.get("since"), "since"), parse_date(query.get("until"), "until")
            data = await self._run(
                self.desk.export_xliff,
                language,
                article_ids=ids or None,
                since=since,
                until=until,
                waiting_only=waiting,
            )
            return Response(
                data,
                media_type="application/xliff+xml",
                headers={**_HEADERS, "Content-Disposition": f'attachment; filename="syndicate-{quote(language)}.xlf"'},
            )

        return await self._api(request, False, work)

    async def api_tmx(self, request: Request) -> Response:
        language = request.path_params["language"]

        async def work(_editor: str) -> Any:
            data = await self._run(self.desk.export_tmx, language)
            return Response(
                data,
                media_type="application/x-tmx+xml",
                headers={**_HEADERS, "Content-Disposition": f'attachment; filename="syndicate-{quote(language)}.tmx"'},
            )

        return await self._api(request, False, work)

    async def api_import(self, request: Request) -> Response:
        from syndicate.review.formats import MAX_XLIFF_BYTES

        async def work(editor: str) -> Any:
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_XLIFF_BYTES:
                    raise ReviewError(f"an XLIFF file may be at most {MAX_XLIFF_BYTES} bytes", item="request")
            report = await self._run(
                self.desk.import_xliff, bytes(body), editor=editor, name="the uploaded file", via="xliff"
            )
            return {
                "corrected": report.corrected,
                "unchanged": report.unchanged,
                "skipped": report.skipped,
                "articles": sorted(report.articles),
                "published": self._when(),
            }

        return await self._api(request, True, work)

    async def openapi(self, _request: Request) -> Response:
        return JSONResponse(
            openapi_document(self.settings), headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        )

    def _when(self) -> str:
        """When a change reaches the published files."""
        return "now" if self.on_change is not None else "on the next run"

    # -- the page ----------------------------------------------------------------------------

    def _page(self, name: str, request: Request, status: int = 200, **context: Any) -> Response:
        html = self.templates.get_template(name).render(
            prefix=PREFIX,
            css_url=PREFIX + "/review.css",
            languages=self.desk.languages if self.editors else (),
            **context,
        )
        return Response(
            html,
            status_code=status,
            media_type="text/html; charset=utf-8",
            headers={**_HEADERS, "Content-Security-Policy": REVIEW_CSP},
        )

    def _page_editor(self, request: Request) -> str | Response:
        name = self._session(request)
        if name is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{PREFIX}/login?{urlencode({'next': target})}", 303, headers=_HEADERS)
        return name

    async def css(self, _request: Request) -> Response:
        return Response(
            REVIEW_CSS,
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    async def login(self, request: Request) -> Response:
        next_url = request.query_params.get("next", PREFIX)
        if not next_url.startswith(PREFIX) or next_url.startswith("//"):
            next_url = PREFIX
        if request.method == "GET":
            return self._page(
                "review_login.html",
                request,
                next=next_url,
                configured=bool(self.editors),
                env=self.settings.review.editors_env,
            )
        if (why := self._cross_site(request)) is not None:
            return PlainTextResponse(f"refused: {why}\n", 403, headers=_HEADERS)
        form = await request.form(max_files=0, max_fields=4)
        token = str(form.get("token", "")).strip()
        digest = token_digest(token) if token else ""
        name = next((n for d, n in self.editors.items() if hmac.compare_digest(d, digest)), None)
        if name is None:
            logger.warning(
                "review: a sign-in with an unknown token from %s", request.client.host if request.client else "?"
            )
            return self._page(
                "review_login.html",
                request,
                status=401,
                next=next_url,
                configured=bool(self.editors),
                env=self.settings.review.editors_env,
                error="That token is not an editor's.",
            )
        expires = time.time() + self.settings.review.session.total_seconds()
        # Unpadded: a cookie value with "=" in it would be sent quoted.
        payload = (
            base64.urlsafe_b64encode(json.dumps({"n": name, "e": expires, "d": digest}).encode()).decode().rstrip("=")
        )
        response = RedirectResponse(next_url, 303, headers=_HEADERS)
        response.set_cookie(
            COOKIE,
            f"{payload}.{self._sign(payload)}",
            max_age=int(expires - time.time()),
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        logger.info("review: %s signed in", name)
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse(f"{PREFIX}/login", 303, headers=_HEADERS)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    async def index(self, request: Request) -> Response:
        editor = self._page_editor(request)
        if isinstance(editor, Response):
            return editor
        counts = await self._run(self.desk.counts)
        rows = [
            {"language": code, "mode": self.settings.translate.review_mode(code), **counts[code]}
            for code in self.desk.languages
        ]
        return self._page("review_index.html", request, editor=editor, rows=rows, csrf=self._csrf(request))

    async def queue_page(self, request: Request) -> Response:
        editor = self._page_editor(request)
        if isinstance(editor, Response):
            return editor
        language = request.path_params["language"]
        waiting = request.query_params.get("waiting", "1") != "0"
        page = max(1, _int(request.query_params.get("page"), 1) or 1)
        try:
            lines: list[QueueLine] = await self._run(
                self.desk.queue, language, waiting_only=waiting, limit=51, offset=(page - 1) * 50
            )
        except ReviewError as exc:
            return self._page(
                "review_index.html",
                request,
                status=404,
                editor=editor,
                rows=[],
                error=str(exc),
                csrf=self._csrf(request),
            )
        return self._page(
            "review_queue.html",
            request,
            editor=editor,
            language=language,
            lines=lines[:50],
            more=len(lines) > 50,
            page=page,
            waiting=waiting,
            csrf=self._csrf(request),
            mode=self.settings.translate.review_mode(language),
        )

    async def entry_page(self, request: Request) -> Response:
        editor = self._page_editor(request)
        if isinstance(editor, Response):
            return editor
        language, article = request.path_params["language"], request.path_params["article"]
        try:
            entry: EntryView = await self._run(self.desk.entry, language, article)
        except ReviewError as exc:
            return self._page(
                "review_index.html",
                request,
                status=404,
                editor=editor,
                rows=[],
                error=str(exc),
                csrf=self._csrf(request),
            )
        history: list[LogEntry] = await self._run(self.desk.history, language=language, article_id=article, limit=20)
        return self._page(
            "review_entry.html",
            request,
            editor=editor,
            entry=entry,
            history=history,
            page_url=page_url(self.settings, entry.language, entry.article.slug),
            csrf=self._csrf(request),
            flash=request.query_params.get("flash", "")[:300],
            error=request.query_params.get("error", "")[:300],
            when=self._when(),
        )

    async def _form(self, request: Request) -> tuple[str, Any] | Response:
        editor = self._page_editor(request)
        if isinstance(editor, Response):
            return editor
        if (why := self._cross_site(request)) is not None:
            logger.warning("review: refused a form from %s: %s", request.client.host if request.client else "?", why)
            return PlainTextResponse(f"refused: {why}\n", 403, headers=_HEADERS)
        try:
            form = await request.form(max_files=0, max_fields=16, max_part_size=MAX_JSON)
        except Exception:  # noqa: BLE001 - starlette's MultiPartException and friends: a bad form, not our bug
            return PlainTextResponse("the form could not be read\n", 400, headers=_HEADERS)
        if not hmac.compare_digest(str(form.get("csrf", "")), self._csrf(request)):
            logger.warning(
                "review: refused a form without a valid CSRF token from %s",
                request.client.host if request.client else "?",
            )
            return PlainTextResponse(
                "refused: the form's token does not match the session (reload the page)\n", 403, headers=_HEADERS
            )
        return editor, form

    def _back(self, language: str, article: int, **message: str) -> Response:
        query = urlencode({k: v for k, v in message.items() if v})
        return RedirectResponse(
            f"{PREFIX}/{quote(language)}/{article}" + (f"?{query}" if query else ""), 303, headers=_HEADERS
        )

    async def correct_form(self, request: Request) -> Response:
        got = await self._form(request)
        if isinstance(got, Response):
            return got
        editor, form = got
        language, article = request.path_params["language"], request.path_params["article"]
        action = str(form.get("action", "save"))
        try:
            if action == "withdraw":
                await self._run(
                    self.desk.withdraw, language, article, editor=editor, via="page", source=str(form.get("source", ""))
                )
                return self._back(language, article, flash="Correction withdrawn: the engine's translation is back.")
            affected = await self._run(
                self.desk.correct,
                language,
                article,
                text=str(form.get("text", "")),
                editor=editor,
                via="page",
                source=str(form.get("source", "")),
                expect=str(form.get("expect")) if form.get("expect") is not None else None,
            )
        except ReviewError as exc:
            return self._back(language, article, error=str(exc))
        others = len([a for a in affected if a != article])
        return self._back(
            language,
            article,
            flash=f"Saved. Published {self._when()}"
            + (f"; also used in {others} other entr{'y' if others == 1 else 'ies'}." if others else "."),
        )

    async def approve_form(self, request: Request) -> Response:
        got = await self._form(request)
        if isinstance(got, Response):
            return got
        editor, form = got
        language, article = request.path_params["language"], request.path_params["article"]
        approved = str(form.get("action", "approve")) != "reopen"
        try:
            await self._run(self.desk.approve, language, article, editor=editor, via="page", approved=approved)
        except ReviewError as exc:
            return self._back(language, article, error=str(exc))
        return self._back(language, article, flash="Approved." if approved else "Reopened for review.")


def _problem(status: int, message: str, hint: str | None = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if hint:
        body["fix"] = hint
    return JSONResponse(body, status_code=status, headers={**_HEADERS, **(headers or {})})


def _int(value: str | None, default: int | None) -> Any:
    try:
        return int(value) if value is not None and value.strip() else default
    except ValueError:
        return default


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _line_json(line: QueueLine) -> dict[str, Any]:
    return {
        "article": line.article_id,
        "title": line.title,
        "confidence": line.confidence,
        "corrected": line.corrected,
        "needs_review": line.needs_review,
        "approved": line.approved,
        "reviewed_by": line.reviewed_by,
        "reviewed_at": _iso(line.reviewed_at),
        "updated": _iso(line.updated),
    }


def _entry_json(entry: EntryView) -> dict[str, Any]:
    t = entry.translation
    return {
        "article": entry.article_id,
        "language": entry.language,
        "source_language": entry.source_language,
        "mode": entry.mode,
        "url": entry.article.article.url,
        "source_title": entry.article.article.title,
        "title": t.title,
        "engine": t.engine,
        "model": t.model,
        "confidence": t.confidence,
        "approved": t.approved,
        "reviewed_by": t.reviewed_by,
        "reviewed_at": _iso(t.reviewed_at),
        "corrected": t.corrected,
        "needs_review": t.needs_review,
        "updated": _iso(t.updated),
        "segments": [
            {
                "index": v.index,
                "kind": v.record.slot,
                "source": v.source,
                "target": v.target,
                "origin": v.record.origin,
                "confidence": v.record.confidence,
                "flags": list(v.record.flags),
                "low": v.low,
                "needs_review": v.record.needs_review,
                "previous": v.record.previous,
                "previous_source": v.record.previous_source,
            }
            for v in entry.segments
        ],
    }


def _log_json(e: LogEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": _iso(e.at),
        "editor": e.editor,
        "action": e.action,
        "language": e.language,
        "article": e.article_id,
        "source": e.source_text,
        "old": e.old_text,
        "new": e.new_text,
        "via": e.via,
    }


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The API's OpenAPI 3.1 description (served at /review/api/openapi.json)."""
    from syndicate import __version__

    error = {"$ref": "#/components/schemas/Error"}
    lang_param = {
        "name": "language",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "a target language (BCP 47), one of translate.languages",
    }
    article_param = {"name": "article", "in": "path", "required": True, "schema": {"type": "integer"}}

    def answers(ok: dict[str, Any], *codes: int) -> dict[str, Any]:
        out: dict[str, Any] = {"200": ok}
        texts = {
            400: "bad request",
            401: "no or unknown bearer token",
            403: "cross-site, or no editors configured",
            404: "no such language or entry",
            409: "the translation changed since it was shown",
        }
        for code in (401, 403, *codes):
            out[str(code)] = {"description": texts[code], "content": {"application/json": {"schema": error}}}
        return out

    def json_ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    segment_ref = {"oneOf": [{"required": ["segment"]}, {"required": ["source"]}]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "syndicate review API",
            "version": __version__,
            "description": "Correct and approve translations. A correction is stored as a human translation "
            "of one source segment and used wherever that segment occurs in the language.",
        },
        "servers": [{"url": "/review/api"}],
        "security": [{"editorToken": []}],
        "components": {
            "securitySchemes": {
                "editorToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an editor's token ([review] editors)",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}, "fix": {"type": "string"}},
                },
                "Segment": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer"},
                        "kind": {"type": "string"},
                        "source": {"type": "string"},
                        "target": {"type": "string"},
                        "origin": {"enum": ["machine", "human"]},
                        "confidence": {"type": ["number", "null"]},
                        "flags": {"type": "array", "items": {"type": "string"}},
                        "low": {"type": "boolean"},
                        "needs_review": {"type": "boolean"},
                        "previous": {"type": ["string", "null"]},
                        "previous_source": {"type": ["string", "null"]},
                    },
                },
                "Entry": {
                    "type": "object",
                    "properties": {
                        "article": {"type": "integer"},
                        "language": {"type": "string"},
                        "title": {"type": "string"},
                        "confidence": {"type": ["number", "null"]},
                        "approved": {"type": "boolean"},
                        "segments": {"type": "array", "items": {"$ref": "#/components/schemas/Segment"}},
                    },
                },
            },
        },
        "paths": {
            "/languages": {
                "get": {
                    "summary": "Target languages, their review mode and queue counts",
                    "responses": answers(json_ok({"type": "array"})),
                }
            },
            "/languages/{language}/entries": {
                "get": {
                    "summary": "The review queue: needing review first, then lowest confidence",
                    "parameters": [
                        lang_param,
                        {"name": "waiting", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 500}},
                        {"name": "offset", "in": "query", "schema": {"type": "integer"}},
                    ],
                    "responses": answers(json_ok({"type": "object"}), 404),
                }
            },
            "/languages/{language}/entries/{article}": {
                "get": {
                    "summary": "One entry, source and target per segment",
                    "parameters": [lang_param, article_param],
                    "responses": answers(json_ok({"$ref": "#/components/schemas/Entry"}), 404),
                }
            },
            "/languages/{language}/entries/{article}/corrections": {
                "post": {
                    "summary": "Correct one segment (by index or source text); used in every entry holding it",
                    "parameters": [lang_param, article_param],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["text"],
                                    **segment_ref,
                                    "properties": {
                                        "text": {"type": "string", "maxLength": 20000},
                                        "segment": {"type": "integer"},
                                        "source": {"type": "string"},
                                        "expect": {"type": "string", "description": "the target text the editor saw"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": answers(json_ok({"type": "object"}), 400, 404, 409),
                }
            },
            "/languages/{language}/entries/{article}/withdraw": {
                "post": {
                    "summary": "Withdraw a correction: the engines' translation comes back",
                    "parameters": [lang_param, article_param],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    **segment_ref,
                                    "properties": {"segment": {"type": "integer"}, "source": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": answers(json_ok({"type": "object"}), 400, 404),
                }
            },
            "/languages/{language}/entries/{article}/approve": {
                "post": {
                    "summary": "Approve the entry's current version (approved=false reopens it)",
                    "parameters": [lang_param, article_param],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"approved": {"type": "boolean", "default": True}},
                                }
                            }
                        }
                    },
                    "responses": answers(json_ok({"type": "object"}), 404),
                }
            },
            "/languages/{language}/xliff": {
                "get": {
                    "summary": "Export entries as XLIFF 2.0 for a CAT tool",
                    "parameters": [
                        lang_param,
                        {
                            "name": "article",
                            "in": "query",
                            "schema": {"type": "array", "items": {"type": "integer"}},
                            "style": "form",
                            "explode": True,
                        },
                        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}},
                        {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"}},
                        {"name": "waiting", "in": "query", "schema": {"type": "boolean"}},
                    ],
                    "responses": answers({"description": "XLIFF 2.0", "content": {"application/xliff+xml": {}}}, 404),
                }
            },
            "/languages/{language}/tmx": {
                "get": {
                    "summary": "The language's corrections as a TMX 1.4b memory",
                    "parameters": [lang_param],
                    "responses": answers({"description": "TMX 1.4b", "content": {"application/x-tmx+xml": {}}}, 404),
                }
            },
            "/xliff": {
                "post": {
                    "summary": "Import an XLIFF 2.0/2.1 file back: changed targets become corrections",
                    "requestBody": {
                        "required": True,
                        "content": {"application/xliff+xml": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "responses": answers(json_ok({"type": "object"}), 400),
                }
            },
            "/history": {
                "get": {
                    "summary": "The audit log, newest first",
                    "parameters": [
                        {"name": "language", "in": "query", "schema": {"type": "string"}},
                        {"name": "article", "in": "query", "schema": {"type": "integer"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    ],
                    "responses": answers(json_ok({"type": "object"})),
                }
            },
        },
    }


__all__ = ["PREFIX", "ReviewApp", "editors_of", "openapi_document", "token_digest"]
