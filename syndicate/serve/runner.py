"""uvicorn wiring: ``syndicate serve`` in the foreground, or a server thread for ``run --serve``.

uvicorn uses httptools and uvloop when they are installed (they are dependencies): the
C HTTP parser and libuv loop roughly double the requests a second one core answers.
"""

from __future__ import annotations

import errno
import importlib.util
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import uvicorn

from syndicate.config import Settings
from syndicate.errors import ServeError
from syndicate.serve.app import create_app
from syndicate.store import Store

if TYPE_CHECKING:
    from syndicate.sources.websub import WebSubSubscriber

logger = logging.getLogger(__name__)


def check_address(host: str, port: int) -> None:
    """Raise :class:`ServeError` naming the setting when the server could not listen on
    ``host``:``port`` (found before uvicorn tries, which would only say it failed)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ServeError(
            f"[serve] host {host!r} (or --host) cannot be resolved: {exc.strerror}",
            hint="give an address of this machine, such as 127.0.0.1 or 0.0.0.0",
        ) from None
    family, kind, proto, _, address = found[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except PermissionError:
            raise ServeError(
                f"[serve] port {port} (or --port): ports below 1024 need privileges",
                hint='use a port above 1023 and a proxy in front (see docs/serving.md, "nginx instead")',
            ) from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(
                    f"[serve] port {port} (or --port) on {host} is in use by another program",
                    hint="stop that program, or choose another port",
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise ServeError(
                    f"[serve] host {host!r} (or --host) is not an address of this machine",
                    hint="give an address of this machine, such as 127.0.0.1 or 0.0.0.0",
                ) from None
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _config(
    settings: Settings,
    host: str,
    port: int,
    *,
    store: Store | None,
    runs_daemon: bool,
    websub: WebSubSubscriber | None = None,
    on_review: Callable[[str], None] | None = None,
) -> uvicorn.Config:
    app = create_app(settings, store=store, runs_daemon=runs_daemon, websub=websub, on_review=on_review)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        # httptools with bounds on each request head's size and time (see serve/protocol.py);
        # h11 (without httptools) has a size bound of its own, set below.
        http=_http_protocol(),
        lifespan="on",
        access_log=False,  # one line per request would dwarf the daemon's log
        server_header=False,
        # X-Forwarded-For is believed from a proxy on this machine only (nginx in front).
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1,::1",
        log_config=None,  # the CLI configured logging
        timeout_keep_alive=15,
        # Requests the app works on at once (503 past it); connections still sending their
        # head are bounded by time instead (serve/protocol.py), so idle sockets never count.
        limit_concurrency=4096,
        h11_max_incomplete_event_size=16 * 1024,
    )


def _http_protocol() -> Any:
    if importlib.util.find_spec("httptools") is None:
        return "h11"
    from syndicate.serve.protocol import BoundedHttpToolsProtocol

    return BoundedHttpToolsProtocol


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn handles both and shuts down gracefully)."""
    on_review = None
    if settings.cluster.broker_url:  # beside a cluster: an editor's change becomes a translate task
        from syndicate.cluster.tasks import review_changed

        on_review = review_changed(settings)
    host = host if host is not None else settings.serve.host
    port = port if port is not None else settings.serve.port
    check_address(host, port)
    config = _config(settings, host, port, store=None, runs_daemon=False, on_review=on_review)
    logger.info("syndicate serve on http://%s:%d/", config.host, config.port)
    # uvicorn handles SIGINT/SIGTERM while it runs and re-raises the signal once it has
    # shut down; these handlers then take it, so a requested stop exits 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: None)
    try:
        uvicorn.Server(config).run()
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        if exc.code:
            raise ServeError(
                f"cannot serve on {config.host}:{config.port}", hint="is another server using the port?"
            ) from None


#: How much nicer than the server the daemon's work runs under ``run --serve``.
BATCH_NICENESS = 10


def deprioritize_batch_work(increment: int = BATCH_NICENESS) -> None:
    """Lower the CPU priority of the calling thread and of every thread and process it
    starts from now on (Linux keeps a nice value per thread, and new threads and child
    processes inherit their creator's).

    Called by ``run --serve`` after the server thread has started: the scheduler's
    threads, the translation engines and Apertium's pipelines then yield the CPU to the
    server, so a translation batch does not slow the feeds down.
    """
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment))
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: serve anyway
        logger.debug("cannot lower the daemon's priority: %s", exc)


class ServerThread:
    """uvicorn in a thread of its own (its own event loop), beside the daemon's threads."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        host: str | None = None,
        port: int | None = None,
        *,
        websub: WebSubSubscriber | None = None,
        on_review: Callable[[str], None] | None = None,
    ) -> None:
        host = host if host is not None else settings.serve.host
        port = port if port is not None else settings.serve.port
        check_address(host, port)
        config = _config(settings, host, port, store=store, runs_daemon=True, websub=websub, on_review=on_review)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="serve", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout / 0.05)):
            if self.server.started or not self.thread.is_alive():
                break
            deadline.wait(0.05)
        if not self.server.started:
            raise ServeError(f"the server did not start on {self.server.config.host}:{self.server.config.port}")
        logger.info("serving on http://%s:%d/", self.server.config.host, self.server.config.port)

    def reconfigure(self, settings: Settings) -> None:
        """A reloaded configuration for the app, from its next request (see SyndicateApp.reconfigure)."""
        self.server.config.app.reconfigure(settings)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


__all__ = ["ServeError", "ServerThread", "deprioritize_batch_work", "serve"]
