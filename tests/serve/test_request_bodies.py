"""Request bodies are bounded in time and size (issue 21: "every network read ... a
served request's headers and body"): the review page's forms and API read theirs within
BODY_SECONDS and MAX_BODY, so a client that trickles a body, or sends none after its
head, cannot hold a request (one of the 4,096 in flight) for ever."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from syndicate.config import load_settings
from syndicate.serve import app as app_module
from syndicate.serve.app import create_app
from syndicate.store import Store
from tests.conftest import write_config


def _scope(path: str, length: int) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(length).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8080),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
    }


def _call(app: Any, scope: dict[str, Any], chunks: list[bytes], *, then_wait: bool) -> tuple[int, bytes, float]:
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        queue = list(chunks)

        async def receive() -> dict[str, Any]:
            if queue:
                chunk = queue.pop(0)
                return {"type": "http.request", "body": chunk, "more_body": bool(queue) or then_wait}
            await anyio.sleep(3600)  # a client that never sends the rest
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)

    started = time.monotonic()
    anyio.run(run)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, time.monotonic() - started


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(app_module, "BODY_SECONDS", 0.5)
    settings = load_settings(write_config(tmp_path))
    store = Store.open(settings.state_dir)
    yield create_app(settings, store=store)
    store.close()


def test_a_body_that_never_comes_is_408_within_the_deadline(app: Any) -> None:
    status, body, elapsed = _call(app, _scope("/review/login", 100), [b"token=abc"], then_wait=True)
    assert status == 408 and b"did not arrive" in body and elapsed < 3


def test_a_body_over_the_limit_is_413_unread(app: Any) -> None:
    status, _body, elapsed = _call(app, _scope("/review/login", app_module.MAX_BODY + 1), [], then_wait=True)
    assert status == 413 and elapsed < 1
    big = [b"x" * 65536] * (app_module.MAX_BODY // 65536 + 2)  # no Content-Length promise: counted as it comes
    status, _, _ = _call(app, _scope("/review/login", 0), big, then_wait=False)
    assert status == 413


def test_an_ordinary_form_reaches_the_review_page(app: Any) -> None:
    status, _, _ = _call(app, _scope("/review/login", 11), [b"token=wrong"], then_wait=False)
    assert status not in (408, 413, 500)


def test_serving_files_never_makes_a_store(tmp_path: Path) -> None:
    # The retired-languages check (410 Gone) reads the store; with none there, a plain
    # `serve` of copied folders must not create one as a side effect of a file request.
    from starlette.testclient import TestClient

    settings = load_settings(write_config(tmp_path))
    (settings.feeds_dir / "es").mkdir(parents=True)
    (settings.feeds_dir / "es" / "atom.xml").write_text("<feed xmlns='http://www.w3.org/2005/Atom'/>")
    app = create_app(settings)
    try:
        assert TestClient(app).get("/feeds/es/atom.xml").status_code == 200
        assert not (settings.state_dir / "syndicate.db").exists()
    finally:
        app.service.close()
