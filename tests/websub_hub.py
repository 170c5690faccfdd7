"""A real WebSub hub and a partner subscriber on 127.0.0.1, for the WebSub tests.

The hub is flask-websub's (``flask_websub.hub``), a maintained implementation of the
W3C Recommendation: subscription requests, intent verification, signed content
distribution (``X-Hub-Signature``), leases. It queues its work as Celery tasks; here
Celery runs them eagerly, in the hub's own request threads (``task_always_eager``), so
no broker or worker process is needed. Its publish endpoint (``hub.mode=publish``,
``PUBLISH_SUPPORTED``) fetches the topic and requires its ``rel="hub"``/``rel="self"``
Link headers, as the spec's content distribution does.

:class:`PartnerSubscriber` is a plain subscriber (a partner site ingesting our feeds):
it asks the hub for a subscription with a secret, echoes the challenge only for what it
asked for, and keeps the deliveries whose signature matches.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalHub:
    """flask-websub's hub served on 127.0.0.1 (see the module docstring)."""

    url: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)


@contextmanager
def local_hub(state: Path, *, algorithm: str = "sha512", min_lease: int = 1) -> Iterator[LocalHub]:
    """Start a hub (its subscriptions in ``state``/hub.db); stop it after the block."""
    from celery import Celery
    from flask import Flask
    from flask_websub.hub import Hub, SQLite3HubStorage
    from werkzeug.serving import make_server

    celery = Celery(f"hub{id(state)}", broker="memory://", backend="cache+memory://")
    celery.conf.update(task_always_eager=True, task_eager_propagates=False)
    app = Flask(f"hub{id(state)}")
    app.config.update(PUBLISH_SUPPORTED=True, HUB_MIN_LEASE_SECONDS=min_lease)
    hub = Hub(
        SQLite3HubStorage(str(state / "hub.db")),
        celery,
        PUBLISH_SUPPORTED=True,
        SIGNATURE_ALGORITHM=algorithm,
        REQUEST_TIMEOUT=5,
        MAX_ATTEMPTS=2,
        BACKOFF_BASE=0.1,
    )
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="websub-hub", daemon=True)
    thread.start()
    running = LocalHub(f"http://127.0.0.1:{server.server_port}/hub", server, thread)
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Delivery:
    body: bytes
    signature: str | None
    valid: bool
    received: float = field(default_factory=time.monotonic)


class PartnerSubscriber:
    """A partner's subscriber: its callback server, its subscriptions, its deliveries."""

    def __init__(self) -> None:
        self.secret = secrets.token_hex(16)
        self.wanted: dict[str, str] = {}  # topic -> mode asked for
        self.verified: list[tuple[str, str]] = []  # (mode, topic)
        self.deliveries: list[Delivery] = []
        self.arrived = threading.Condition()
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                mode, topic = query.get("hub.mode", ""), query.get("hub.topic", "")
                if subscriber.wanted.get(topic) != mode or "hub.challenge" not in query:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                subscriber.verified.append((mode, topic))
                body = query["hub.challenge"].encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                signature = self.headers.get("X-Hub-Signature")
                valid = False
                if signature and "=" in signature:
                    method, digest = signature.split("=", 1)
                    expected = hmac.new(subscriber.secret.encode(), body, getattr(hashlib, method)).hexdigest()
                    valid = hmac.compare_digest(expected, digest)
                with subscriber.arrived:
                    subscriber.deliveries.append(Delivery(body, signature, valid))
                    subscriber.arrived.notify_all()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.callback = f"http://127.0.0.1:{self.server.server_port}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, name="partner", daemon=True)

    def __enter__(self) -> PartnerSubscriber:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(10)

    def subscribe(self, hub: str, topic: str, lease: int = 3600) -> None:
        """Subscribe (the hub verifies before it answers, its tasks being eager)."""
        self.wanted[topic] = "subscribe"
        response = httpx.post(
            hub,
            data={
                "hub.mode": "subscribe",
                "hub.topic": topic,
                "hub.callback": self.callback,
                "hub.lease_seconds": str(lease),
                "hub.secret": self.secret,
            },
            timeout=10,
        )
        assert response.status_code == 202, response.text
        assert ("subscribe", topic) in self.verified, "the hub did not verify the partner's subscription"

    def wait_delivery(self, timeout: float, *, after: int = 0) -> Delivery | None:
        """The first valid delivery past the first ``after`` ones, within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                valid = [d for d in self.deliveries[after:] if d.valid]
                if valid:
                    return valid[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.arrived.wait(left)
