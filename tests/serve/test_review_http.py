"""The review page and API over HTTP: who may edit, what is refused, what is stored.

The app is the real one (``create_app``) over a store that ``once`` filled with a scripted
engine; requests go through Starlette's test client, so every refusal is checked without
a browser (the page in Chromium is tests/serve/test_review_browser.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from syndicate.config import Settings, load_settings
from syndicate.serve.app import create_app
from syndicate.serve.review import token_digest
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged

TOKEN = "ana-token-0123456789abcdef"
OTHER = "luis-token-0123456789abcdef"
STATUS = "status-token-0123456789abcdef"
ORIGIN = "http://testserver"

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


@dataclass
class Desk:
    client: TestClient
    store: Store
    settings: Settings
    changed: list[str]

    def api(self, token: str | None = TOKEN) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("SYNDICATE_EDITORS", f"luis:{OTHER}")
    config = write_config(
        tmp_path, extra=f'\n[review.editors]\nana = "{token_digest(TOKEN)}"\n\n[serve]\nstatus_token = "{STATUS}"\n'
    )
    settings = load_settings(config)
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    with Store.open(settings.state_dir) as store:
        report = once(
            settings, store, engines=Engines(settings, factories={"apertium": lambda s: engine}), clock=Clock()
        )
        assert report.ok, report.failures
        changed: list[str] = []
        app = create_app(settings, store=store, runs_daemon=True, on_review=changed.append)
        with TestClient(app, base_url=ORIGIN) as client:
            yield Desk(client, store, settings, changed)


def first_entry(desk: Desk) -> dict:
    queue = desk.client.get("/review/api/languages/es/entries", headers=desk.api()).json()
    return desk.client.get(
        f"/review/api/languages/es/entries/{queue['entries'][0]['article']}", headers=desk.api()
    ).json()


def test_the_api_corrects_approves_and_logs(desk: Desk) -> None:
    languages = desk.client.get("/review/api/languages", headers=desk.api()).json()
    assert languages == [
        {"language": "es", "mode": "after", "waiting": 7, "needs_review": 0, "approved": 0, "corrected": 0}
    ]
    entry = first_entry(desk)
    segment = entry["segments"][1]
    answer = desk.client.post(
        f"/review/api/languages/es/entries/{entry['article']}/corrections",
        headers=desk.api(),
        json={"segment": 1, "text": "Una frase corregida.", "expect": segment["target"]},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["saved"] is True and entry["article"] in answer.json()["republish"]
    assert desk.changed == ["es"]  # the daemon was asked to republish
    again = desk.client.get(f"/review/api/languages/es/entries/{entry['article']}", headers=desk.api()).json()
    assert again["segments"][1]["target"] == "Una frase corregida." and again["segments"][1]["origin"] == "human"

    # A stale "expect" (what another editor saw) is a conflict, not an overwrite.
    stale = desk.client.post(
        f"/review/api/languages/es/entries/{entry['article']}/corrections",
        headers=desk.api(OTHER),
        json={"segment": 1, "text": "Otra.", "expect": segment["target"]},
    )
    assert stale.status_code == 409 and "changed since" in stale.json()["error"]

    approved = desk.client.post(
        f"/review/api/languages/es/entries/{entry['article']}/approve", headers=desk.api(OTHER), json={}
    )
    assert approved.status_code == 200 and approved.json()["approved"] is True
    history = desk.client.get("/review/api/history", headers=desk.api()).json()["history"]
    assert [(h["editor"], h["action"], h["via"]) for h in history] == [
        ("luis", "approve", "api"),
        ("ana", "correct", "api"),
    ]
    assert history[1]["old"] == segment["target"] and history[1]["new"] == "Una frase corregida."


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token-0123456789"}, 401),
        ({"Authorization": f"Basic {TOKEN}"}, 401),
        ({"Authorization": f"Bearer {TOKEN}", "Origin": "https://evil.example"}, 403),
        ({"Authorization": f"Bearer {TOKEN}", "Sec-Fetch-Site": "cross-site"}, 403),
    ],
)
def test_unauthenticated_or_cross_site_edits_are_refused(desk: Desk, headers: dict[str, str], status: int) -> None:
    entry = first_entry(desk)
    answer = desk.client.post(
        f"/review/api/languages/es/entries/{entry['article']}/corrections",
        headers=headers,
        json={"segment": 0, "text": "Pirateado."},
    )
    assert answer.status_code == status, answer.text
    assert "error" in answer.json()
    assert desk.store.review.history() == []  # nothing stored, nothing logged
    assert desk.changed == []


def test_reading_needs_a_token_too(desk: Desk) -> None:
    assert desk.client.get("/review/api/languages").status_code == 401
    assert desk.client.get("/review/api/languages/es/entries/1").status_code == 401
    assert desk.client.get("/review/api/languages/es/xliff").status_code == 401


def test_bad_requests_get_clear_answers(desk: Desk) -> None:
    entry = first_entry(desk)
    base = f"/review/api/languages/es/entries/{entry['article']}"
    cases = [
        (
            desk.client.post(
                base + "/corrections", headers={**desk.api(), "Content-Type": "application/json"}, content=b"{not json"
            ),
            400,
            "not JSON",
        ),
        (desk.client.post(base + "/corrections", headers=desk.api(), json=["a"]), 400, "JSON object"),
        (desk.client.post(base + "/corrections", headers=desk.api(), json={"text": "x"}), 400, '"segment"'),
        (
            desk.client.post(base + "/corrections", headers=desk.api(), json={"segment": 999, "text": "x"}),
            400,
            "not 999",
        ),
        (desk.client.post(base + "/corrections", headers=desk.api(), json={"segment": 0, "text": ""}), 400, "empty"),
        (
            desk.client.post(
                base + "/corrections", headers=desk.api(), content=b'{"segment": 0, "text": "' + b"x" * 300_000 + b'"}'
            ),
            400,
            "larger than",
        ),
        (desk.client.get("/review/api/languages/xx/entries", headers=desk.api()), 404, "not a target language"),
        (desk.client.get("/review/api/languages/es/entries/99999", headers=desk.api()), 404, "no translation"),
        (desk.client.get("/review/api/languages/es/xliff?since=yesterday", headers=desk.api()), 400, "not a date"),
    ]
    for answer, status, words in cases:
        assert answer.status_code == status, (answer.status_code, answer.text)
        assert words in answer.json()["error"], answer.json()
        assert answer.headers["cache-control"] == "no-store"


def test_openapi_document_describes_every_route(desk: Desk) -> None:
    spec = desk.client.get("/review/api/openapi.json").json()
    openapi_spec_validator = pytest.importorskip("openapi_spec_validator")
    openapi_spec_validator.validate(spec)
    routes = {
        re.sub(r"\{(\w+)(:int)?\}", r"{\1}", r.path).removeprefix("/review/api")
        for r in desk.client.app.review.app.routes
        if r.path.startswith("/review/api/")
    }  # type: ignore[attr-defined]
    assert routes - {"/openapi.json"} == set(spec["paths"])


def _signed_in(desk: Desk, token: str = TOKEN) -> str:
    page = desk.client.post(
        "/review/login?next=/review/es", data={"token": token}, headers={"Origin": ORIGIN}, follow_redirects=False
    )
    assert page.status_code == 303 and page.headers["location"] == "/review/es"
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/review" in cookie
    return page.headers["location"]


def test_the_page_signs_in_and_saves_a_correction_with_plain_forms(desk: Desk) -> None:
    assert desk.client.get("/review/es", follow_redirects=False).headers["location"].startswith("/review/login")
    _signed_in(desk)
    queue = desk.client.get("/review/es")
    assert queue.status_code == 200 and "default-src 'none'" in queue.headers["content-security-policy"]
    article = int(re.search(r'href="/review/es/(\d+)"', queue.text).group(1))  # type: ignore[union-attr]
    page = desk.client.get(f"/review/es/{article}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    source = re.findall(r'name="source" value="([^"]+)"', page.text)[1]
    expect = re.findall(r'name="expect" value="([^"]*)"', page.text)[1]
    import html

    saved = desk.client.post(
        f"/review/es/{article}/correct",
        headers={"Origin": ORIGIN},
        follow_redirects=False,
        data={
            "csrf": csrf,
            "source": html.unescape(source),
            "expect": html.unescape(expect),
            "text": "Corregido en la página.",
            "action": "save",
        },
    )
    assert saved.status_code == 303 and "flash=Saved" in saved.headers["location"]
    shown = desk.client.get(saved.headers["location"])
    assert "Corregido en la página." in shown.text and "Saved. Published now" in shown.text
    assert desk.store.review.history()[0].via == "page"


def test_page_forms_without_the_csrf_token_or_from_another_site_are_refused(desk: Desk) -> None:
    _signed_in(desk)
    entry = first_entry(desk)
    form = {"source": entry["segments"][0]["source"], "text": "Pirateado.", "action": "save"}
    no_token = desk.client.post(f"/review/es/{entry['article']}/correct", data=form, follow_redirects=False)
    assert no_token.status_code == 403
    page = desk.client.get(f"/review/es/{entry['article']}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    foreign = desk.client.post(
        f"/review/es/{entry['article']}/correct",
        data={**form, "csrf": csrf},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert foreign.status_code == 403
    assert desk.store.review.history() == []


def test_a_bad_token_does_not_sign_in_and_is_never_logged(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("DEBUG"):
        page = desk.client.post("/review/login", data={"token": "not-a-real-token-xyz"}, headers={"Origin": ORIGIN})
        _signed_in(desk)
    assert page.status_code == 401 and "not an editor" in page.text
    assert "set-cookie" not in page.headers
    text = caplog.text
    assert "not-a-real-token-xyz" not in text and TOKEN not in text and OTHER not in text


def test_a_forged_session_cookie_is_not_a_sign_in(desk: Desk) -> None:
    import base64

    payload = base64.urlsafe_b64encode(json.dumps({"n": "ana", "e": 9e12, "d": token_digest(TOKEN)}).encode()).decode()
    desk.client.cookies.set("syndicate_review", f"{payload}.{'0' * 64}", path="/review")
    assert desk.client.get("/review/es", follow_redirects=False).status_code == 303


def test_xliff_round_trip_through_the_api(desk: Desk) -> None:
    pytest.importorskip("translate.storage.xliff2")
    entry = first_entry(desk)
    exported = desk.client.get(f"/review/api/languages/es/xliff?article={entry['article']}", headers=desk.api())
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/xliff+xml")
    source = entry["segments"][0]["target"]
    edited = exported.content.replace(
        f"<target>{source}</target>".encode(), "<target>Título revisado</target>".encode()
    )
    assert edited != exported.content
    answer = desk.client.post(
        "/review/api/xliff", headers={**desk.api(), "Content-Type": "application/xliff+xml"}, content=edited
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["corrected"] == 1 and answer.json()["articles"] == [entry["article"]]
    assert desk.store.review.history()[0].via == "xliff"
    bad = desk.client.post("/review/api/xliff", headers=desk.api(), content=b"<html>not xliff</html>")
    assert bad.status_code == 400


def test_status_and_metrics_show_the_review_queue(desk: Desk) -> None:
    entry = first_entry(desk)
    desk.client.post(f"/review/api/languages/es/entries/{entry['article']}/approve", headers=desk.api(), json={})
    status = desk.client.get("/status.json", headers={"Authorization": f"Bearer {STATUS}"}).json()
    review = status["languages"][0]["review"]
    assert review == {"mode": "after", "waiting": 6, "needs_review": 0, "approved": 1, "corrected": 0, "held": 0}
    page = desk.client.get("/status", headers={"Authorization": f"Bearer {STATUS}"}).text
    assert "6 waiting" in page and 'href="/review/es"' in page
    metrics = desk.client.get("/metrics", headers={"Authorization": f"Bearer {STATUS}"}).text
    assert 'syndicate_review_entries{language="es",state="waiting"} 6.0' in metrics
    assert 'syndicate_review_entries{language="es",state="approved"} 1.0' in metrics
    assert 'syndicate_review_held{language="es"} 0.0' in metrics
