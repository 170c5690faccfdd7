"""WebSub, publishing side: tell our hubs which subscription feeds a publish changed.

The W3C WebSub Recommendation leaves the publisher-to-hub ping to the hub; what hubs
accept is a form POST with ``hub.mode=publish`` and the topic's URL, as ``hub.topic``
(WebSub hubs) or ``hub.url`` (PubSubHubbub 0.4 hubs): we send both, one topic a request.
The hub then fetches the topic itself (it must find our ``rel="hub"``/``rel="self"``
links there) and distributes it to its subscribers.

Pings run in one background thread per process, never in the publish: a publish only
queues the URLs it changed. Each ping is retried with exponential backoff (tenacity),
within a bounded number of attempts and time; a hub that stays down is logged, counted in
``/metrics`` and recorded in the store for ``/status``, and never fails a publish.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import ClassVar

import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from syndicate import __version__, metrics
from syndicate.models import public_url
from syndicate.store import Store
from syndicate.store.websub import WebSubStore

logger = logging.getLogger(__name__)

#: Attempts per ping (the first and its retries), the first retry's wait (doubling each
#: time, at most :data:`MAX_WAIT`), and the longest one ping may keep retrying.
ATTEMPTS = 5
BACKOFF = 1.0
MAX_WAIT = 30.0
MAX_SECONDS = 120.0
#: One request's limit.
TIMEOUT = 10.0
#: How long process exit waits for queued pings.
EXIT_GRACE = 10.0


class PingError(Exception):
    """A ping the hub did not accept and that is worth retrying (network, 5xx, 429)."""


class PingRefused(Exception):
    """A ping the hub refused for good (4xx): retrying would not help."""


class HubNotifier:
    """Queues changed feed URLs and pings every hub about them from a background thread.

    Call it with the URLs (``notifier(urls)``): it returns at once. ``wait_idle`` waits
    (bounded) until everything queued so far has been sent or given up.
    """

    _shared: ClassVar[dict[tuple[tuple[str, ...], str], HubNotifier]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        hubs: Sequence[str],
        store: Store | None = None,
        *,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
        max_seconds: float = MAX_SECONDS,
        timeout: float = TIMEOUT,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.hubs = tuple(hubs)
        self.records = WebSubStore(store) if store is not None else None
        self.attempts = attempts
        self.backoff = backoff
        self.max_seconds = max_seconds
        self.clock = clock
        self.timeout = timeout
        # No kept-alive connection: post_bounded's watchdog cuts each request's own socket.
        self._client = client or httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"User-Agent": f"syndicate/{__version__} (WebSub publisher)"},
        )
        self._queue: queue.Queue[tuple[str, ...]] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @classmethod
    def shared(cls, hubs: Sequence[str], store: Store) -> HubNotifier:
        """The process's notifier for these hubs and this store (one thread, however many
        publishers the process makes)."""
        key = (tuple(hubs), str(store.engine.url))
        with cls._shared_lock:
            notifier = cls._shared.get(key)
            if notifier is None:
                notifier = cls._shared[key] = cls(hubs, store)
                atexit.register(notifier.finish, EXIT_GRACE)
            return notifier

    def __call__(self, urls: Sequence[str]) -> None:
        if not urls or not self.hubs:
            return
        with self._idle:
            self._pending += 1
        self._queue.put(tuple(dict.fromkeys(urls)))
        self._ensure_thread()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued ping is done; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def finish(self, grace: float = EXIT_GRACE) -> bool:
        """At exit: wait up to ``grace`` for the queued pings; those still unanswered are
        left undone, said in the log and recorded per hub (``/status``, ``status``)."""
        if self.wait_idle(grace):
            return True
        with self._idle:
            pending = self._pending
        logger.warning(
            "WebSub: %d ping(s) of %s still unanswered after %g s at exit: left undone; the hubs "
            "learn of these feeds with the next publish that changes them",
            pending,
            ", ".join(public_url(hub) for hub in self.hubs),
            grace,
        )
        for hub in self.hubs:
            metrics.record_websub_notification(hub, "failed")
            if self.records is not None:
                try:
                    self.records.record_ping(
                        hub,
                        ok=False,
                        when=self.clock(),
                        error=f"did not answer within {grace:g} s before the process exited",
                    )
                except Exception as exc:  # noqa: BLE001 - a broken store at exit: the log line stands
                    logger.error("WebSub: cannot record the ping of %s: %s", public_url(hub), exc)
        return False

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="websub-ping", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:  # what queued up meanwhile goes out in the same round
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            urls = tuple(dict.fromkeys(url for urls in batch for url in urls))
            try:
                for hub in self.hubs:
                    self._ping_hub(hub, urls)
            except Exception:
                logger.exception("WebSub: pinging hubs failed unexpectedly")
            finally:
                with self._idle:
                    self._pending -= len(batch)
                    self._idle.notify_all()

    def _ping_hub(self, hub: str, urls: Sequence[str]) -> None:
        errors: list[str] = []
        for url in urls:
            try:
                self._ping(hub, url)
            except (PingError, PingRefused) as exc:
                errors.append(f"{url}: {exc}")
                metrics.record_websub_notification(hub, "failed")
            else:
                metrics.record_websub_notification(hub, "ok")
        if errors:
            logger.warning(
                "WebSub hub %s was not told of %d changed feed(s): %s", public_url(hub), len(errors), errors[-1]
            )
        else:
            logger.info("WebSub hub %s told of %d changed feed(s)", public_url(hub), len(urls))
        if self.records is not None:
            try:
                self.records.record_ping(hub, ok=not errors, when=self.clock(), error=errors[-1] if errors else None)
            except Exception as exc:  # noqa: BLE001 - a broken store must not stop the pings
                logger.error("WebSub: cannot record the ping of %s: %s", public_url(hub), exc)

    def _ping(self, hub: str, url: str) -> None:
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.max_seconds),
            wait=wait_exponential(multiplier=self.backoff, max=MAX_WAIT),
            retry=retry_if_exception_type(PingError),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self._post(hub, url)

    def _post(self, hub: str, url: str) -> None:
        from syndicate.sources.http import post_bounded

        try:  # a total deadline and a bounded read, however the hub answers
            response = post_bounded(
                self._client, hub, {"hub.mode": "publish", "hub.topic": url, "hub.url": url}, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise PingError(f"{type(exc).__name__}: {exc}") from None
        if response.is_success:
            return
        reason = f"HTTP {response.status} {response.text[:200].strip()}".strip()
        if response.status == 429 or response.status >= 500:
            raise PingError(reason)
        raise PingRefused(reason)


__all__ = ["HubNotifier"]
