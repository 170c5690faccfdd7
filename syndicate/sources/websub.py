"""WebSub, subscribing side: upstream feeds that name a hub push their changes to us.

A ``feed`` source whose feed names a hub (``rel="hub"`` and ``rel="self"``, in its Link
headers or the feed itself; :func:`syndicate.sources.feed.websub_links` records them in
the source's state) is subscribed when ``[websub] callback_url`` is set:

1. **Subscribe**: a fresh random secret per subscription is stored, with the mode asked
   for (``pending``), *before* the request goes to the hub, which may verify at once.
2. **Verify intent**: the hub GETs ``<callback_url><source>``; the challenge is echoed
   only when that source's row asks for exactly that topic and mode; anything else 404.
3. **Deliveries**: a POST to the callback is read up to ``max_delivery_bytes``, its
   ``X-Hub-Signature`` (sha1, sha256, sha384 or sha512) checked as an HMAC of the raw
   body with the subscription's secret, before anything parses it. A missing or wrong
   signature is logged and ignored: answered 202 as the Recommendation allows (so a
   forger learns nothing), the body dropped. A valid one makes the daemon poll that
   source now (the poll fetches, translates and publishes it; the body itself is never
   stored), at most ``deliveries_per_minute`` times a minute (then 429).
4. **Leases** are renewed before they end (:meth:`WebSubSubscriber.maintain`, a daemon
   job); a source removed from config.toml is unsubscribed.

Polling goes on as the fallback, ``poll_multiplier`` times less often while subscribed.
The callbacks are routes of ``syndicate run --serve`` (see serve/app.py).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import httpx

from syndicate import __version__, metrics
from syndicate.config import Settings
from syndicate.models import public_url
from syndicate.store import Store
from syndicate.store.websub import Subscription

logger = logging.getLogger(__name__)

#: The signature methods of the Recommendation (7.1); a hub picks one.
SIGNATURE_METHODS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
#: A hub that has not verified a request by then is asked again.
VERIFY_WAIT = timedelta(minutes=10)
#: A refused or failed subscription is tried again after this long.
RETRY_AFTER = timedelta(hours=1)
#: A hub that denied a subscription is asked again this much later (a denial may have
#: been a passing refusal; the upkeep runs every few minutes).
RETRY_DENIED = timedelta(minutes=10)
#: Seconds between two warnings about forged or unsigned deliveries to one source.
FORGED_LOG_EVERY = 60.0
#: Renew when this share of the lease is left (at least a minute, at most a day early).
RENEW_SHARE = 0.1
#: Seconds a request to a hub may take in all (connect, answer, body).
TIMEOUT = 10.0

_LINK_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def link_header_rels(value: str) -> dict[str, list[str]]:
    """``Link: <a>; rel="hub", <b>; rel="self"`` -> {"hub": ["a"], "self": ["b"]}."""
    rels: dict[str, list[str]] = {}
    for match in _LINK_RE.finditer(value):
        href, params = match.group(1).strip(), match.group(2)
        rel = re.search(r';\s*rel\s*=\s*"?([^";]+)"?', params, re.IGNORECASE)
        if rel:
            for name in rel.group(1).split():
                rels.setdefault(name.lower(), []).append(href)
    return rels


def check_signature(header: str | None, secret: str, body: bytes) -> str:
    """``"ok"``, ``"unsigned"`` or ``"bad-signature"`` for a delivery's raw ``body``."""
    if not header:
        return "unsigned"
    method, _, digest = header.strip().partition("=")
    algorithm = SIGNATURE_METHODS.get(method.strip().lower())
    if algorithm is None or not digest:
        return "bad-signature"
    expected = hmac.new(secret.encode("utf-8"), body, algorithm).hexdigest()
    return "ok" if hmac.compare_digest(expected, digest.strip().lower()) else "bad-signature"


@dataclass(frozen=True)
class Answer:
    """What the callback route answers: a status, a plain-text body, the outcome counted."""

    status: int
    body: str = ""
    outcome: str = ""


class _Bucket:
    """A token bucket: ``rate`` a minute, as a burst of at most ``rate``."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.tokens = float(rate)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate / 60)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _noop(*_args: object) -> None:
    return None


class WebSubSubscriber:
    """Subscriptions of the configured feed sources to their hubs, and their callbacks."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        on_delivery: Callable[[str], None] = _noop,
        on_push_change: Callable[[str, bool], None] = _noop,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        assert settings.websub.callback_url, "WebSub subscribing is off without [websub] callback_url"
        self.settings = settings
        self.base = settings.websub.callback_url
        self.records = store.websub
        self.states = store.sources
        self.on_delivery = on_delivery
        self.on_push_change = on_push_change
        self.clock = clock
        self.feeds = {s.name for s in settings.sources if s.type == "feed"}
        # No kept-alive connection: each request's socket is its own, so post_bounded's
        # watchdog can cut it at the deadline.
        self._client = client or httpx.Client(
            timeout=TIMEOUT,
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"User-Agent": f"syndicate/{__version__} (WebSub subscriber; +{settings.site.base_url})"},
        )
        self._buckets: dict[str, _Bucket] = {}
        #: Per source: when forged deliveries were last logged, and how many since.
        self._forged: dict[str, tuple[float, int]] = {}
        #: One upkeep at a time (held across requests to hubs); ``_lock`` guards row
        #: changes only, never a request: a hub verifies while we wait for its answer.
        self._upkeep = threading.Lock()
        self._lock = threading.Lock()

    def reconfigure(self, settings: Settings) -> None:
        """A reloaded configuration: the sources it subscribes for, the lease it asks for.
        Subscriptions live in the store, so none is lost; the next upkeep subscribes new
        feeds and unsubscribes removed ones. A changed ``callback_url`` needs a restart."""
        with self._lock:
            self.settings = settings
            self.feeds = {s.name for s in settings.sources if s.type == "feed"}

    def callback(self, source: str) -> str:
        """The callback URL the hub is given for ``source``."""
        return self.base + quote(source, safe="")

    def pushed(self) -> set[str]:
        """Sources with an active subscription (polled less often)."""
        return {name for name, sub in self.records.all().items() if sub.state == "active" and name in self.feeds}

    # -- subscription lifecycle (the daemon's worker threads) ----------------------------

    def maintain(self) -> None:
        """Subscribe what the feeds advertise, renew leases about to end, retry what
        failed, unsubscribe sources no longer configured."""
        for name, sub in self.records.all().items():
            if name not in self.feeds:
                self._unsubscribe(sub)
        for name in sorted(self.feeds):
            try:
                self.maintain_source(name)
            except Exception:  # noqa: BLE001 - one source's hub must not stop the others
                logger.exception("[%s] WebSub upkeep failed", name)

    def maintain_source(self, name: str) -> None:
        """Subscribe (or renew, or retry) one source as its state asks."""
        if name not in self.feeds:
            return
        hint = self.states.get(name).cursor.get("websub")
        if not isinstance(hint, Mapping) or not hint.get("hub") or not hint.get("self"):
            return  # the feed names no hub: polled as usual
        hub, topic = str(hint["hub"]), str(hint["self"])
        if not self._may_reach(name, hub):
            return
        now = self.clock()
        with self._upkeep:
            sub = self.records.get(name)
            if sub is None or (sub.hub, sub.topic) != (hub, topic):
                if sub is not None and sub.state == "active":
                    self._request(sub, "unsubscribe")  # best effort: the old lease runs out anyway
                self._subscribe(name, hub, topic, secrets.token_hex(32), previous=None)
                return
            due = next_attempt(sub, self.settings.websub.lease)
            if sub.state == "active" and sub.pending is None and sub.expires is not None:
                if due is not None and now >= due:
                    self._subscribe(
                        name, hub, topic, sub.secret, previous=sub
                    )  # the same secret: in-flight deliveries stay valid
            elif sub.pending == "subscribe" and now >= (due or now):
                # The hub took the request but never came to verify it: most often the
                # callback URL does not reach this server. Say so where operators look.
                note = (
                    (
                        f"the hub accepted the request at {sub.requested:%Y-%m-%d %H:%M}Z but never verified it at "
                        f"{public_url(self.callback(name))}; check that [websub] callback_url reaches this server "
                        "from the hub "
                        "(asked again)"
                    )
                    if sub.requested
                    else None
                )
                logger.warning("[%s] WebSub: %s", name, note)
                self._subscribe(
                    name, hub, topic, sub.secret, previous=sub if sub.state == "active" else None, note=note
                )
            elif sub.state in ("failed", "denied") and now >= (due or now):
                self._subscribe(name, hub, topic, secrets.token_hex(32), previous=None)
            elif sub.state == "active" and sub.expires is not None and now >= sub.expires:
                self.records.update(name, state="failed", last_error="the lease ran out before it was renewed")
                self.on_push_change(name, False)

    def _may_reach(self, name: str, hub: str) -> bool:
        """A hub on a loopback or private host only for a source allowed such addresses
        (or itself on one): a feed must not make us POST into our own network."""
        from syndicate.sources.http import is_private_host

        source = next(s for s in self.settings.sources if s.name == name)
        if not is_private_host(urlsplit(hub).hostname or ""):
            return True
        assert source.type == "feed"
        return source.allow_private_addresses or is_private_host(urlsplit(source.url).hostname or "")

    def _subscribe(
        self, name: str, hub: str, topic: str, secret: str, *, previous: Subscription | None, note: str | None = None
    ) -> None:
        now = self.clock()
        renewing = previous is not None and previous.state == "active"
        sub = Subscription(
            source=name,
            hub=hub,
            topic=topic,
            secret=secret,
            state="active" if renewing else "subscribing",
            pending="subscribe",
            requested=now,
            lease_seconds=previous.lease_seconds if previous else None,
            expires=previous.expires if previous else None,
            last_delivery=previous.last_delivery if previous else None,
            deliveries=previous.deliveries if previous else 0,
            last_error=note,
        )
        self.records.put(sub)  # before the request: the hub may verify before it answers
        logger.info("[%s] WebSub: %s %s at %s", name, "renewing" if renewing else "subscribing to", topic, hub)
        error = self._request(sub, "subscribe")
        if error is not None:
            logger.warning("[%s] WebSub: the hub %s refused the subscription: %s", name, hub, error)
            with self._lock:
                current = self.records.get(name)
                if current is not None and current.pending == "subscribe":
                    self.records.update(name, state="active" if renewing else "failed", pending=None, last_error=error)

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._upkeep:
            if sub.pending == "unsubscribe" and sub.requested and self.clock() - sub.requested < VERIFY_WAIT:
                return  # asked already; waiting for the hub
            logger.info("[%s] WebSub: the source is gone from the config: unsubscribing from %s", sub.source, sub.hub)
            self.records.update(sub.source, state="unsubscribing", pending="unsubscribe", requested=self.clock())
            error = self._request(sub, "unsubscribe")
            if error is not None or (sub.pending == "unsubscribe"):
                # Refused, or asked twice without an answer: forget it; the lease runs out.
                if error:
                    logger.warning("[%s] WebSub: unsubscribing failed (%s); the lease will run out", sub.source, error)
                self.records.remove(sub.source)

    def _request(self, sub: Subscription, mode: str) -> str | None:
        """Send a (un)subscription request; None when the hub accepted it (2xx)."""
        data = {"hub.mode": mode, "hub.topic": sub.topic, "hub.callback": self.callback(sub.source)}
        if mode == "subscribe":
            data["hub.lease_seconds"] = str(int(self.settings.websub.lease.total_seconds()))
            data["hub.secret"] = sub.secret
        from syndicate.sources.http import post_bounded

        try:  # at most TIMEOUT seconds, however the hub (named by a feed) trickles its answer
            response = post_bounded(self._client, sub.hub, data, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if response.is_success:
            return None
        return f"HTTP {response.status} {response.text[:200].strip()}".strip()

    # -- the callback (the server's worker threads) ------------------------------------

    def verify(self, source: str, query: Mapping[str, str]) -> Answer:
        """A hub's GET to the callback: intent verification, or a denial."""
        mode, topic = query.get("hub.mode", ""), query.get("hub.topic", "")
        with self._lock:
            sub = self.records.get(source) if source in self.feeds or mode == "unsubscribe" else None
            if mode == "denied":
                if sub is None or sub.topic != topic:
                    return Answer(404, "no such subscription\n", "unknown")
                if sub.pending != "subscribe":
                    # A denial is unsigned: for a subscription the hub verified and we did not
                    # just ask about, it may come from anyone. Ask the hub again (the next
                    # upkeep renews): it verifies, or denies while our request is pending.
                    logger.warning(
                        "[%s] WebSub: a denial of the verified subscription at %s that we did not ask "
                        "about; asking the hub again",
                        source,
                        sub.hub,
                    )
                    self.records.update(source, expires=self.clock())
                    metrics.record_websub_verification(mode, "rechecking")
                    return Answer(200, "", "rechecking")
                reason = query.get("hub.reason", "no reason given")[:500]
                logger.warning("[%s] WebSub: the hub %s denied the subscription: %s", source, sub.hub, reason)
                self.records.update(source, state="denied", pending=None, last_error=f"denied by the hub: {reason}")
                self.on_push_change(source, False)
                metrics.record_websub_verification(mode, "noted")
                return Answer(200, "", "noted")
            challenge = query.get("hub.challenge")
            if (
                mode not in ("subscribe", "unsubscribe")
                or not challenge
                or sub is None
                or sub.topic != topic
                or sub.pending != mode
            ):
                logger.info(
                    "[%s] WebSub: refused a %s verification we did not ask for (topic %s)", source, mode or "?", topic
                )
                metrics.record_websub_verification(mode if mode in ("subscribe", "unsubscribe") else "other", "refused")
                return Answer(404, "no such subscription request\n", "refused")
            if mode == "subscribe":
                lease = _int(query.get("hub.lease_seconds")) or int(self.settings.websub.lease.total_seconds())
                self.records.update(
                    source,
                    state="active",
                    pending=None,
                    lease_seconds=lease,
                    expires=self.clock() + timedelta(seconds=lease),
                    last_error=None,
                )
                logger.info("[%s] WebSub: subscribed to %s at %s for %ds", source, topic, sub.hub, lease)
                self.on_push_change(source, True)
            else:
                self.records.remove(source)
                logger.info("[%s] WebSub: unsubscribed from %s at %s", source, topic, sub.hub)
            metrics.record_websub_verification(mode, "confirmed")
            return Answer(200, challenge, "confirmed")

    def deliver(self, source: str, signature: str | None, body: bytes) -> Answer:
        """A hub's POST: a content distribution (``body`` already bounded by the route)."""
        sub = self.records.get(source) if source in self.feeds else None
        if sub is None or sub.state != "active":
            return self._count(source, Answer(410, "no such subscription\n", "unknown"))
        verdict = check_signature(signature, sub.secret, body)
        if verdict != "ok":
            self._log_forged(source, verdict, len(body))
            # 7.1: ignore it, yet acknowledge: a forger learns nothing from the answer.
            return self._count(source, Answer(202, "", verdict))
        with self._lock:
            bucket = self._buckets.setdefault(source, _Bucket(self.settings.websub.deliveries_per_minute))
            allowed = bucket.take()
        if not allowed:
            logger.warning("[%s] WebSub: too many deliveries; this one waits for the hub's retry", source)
            return self._count(source, Answer(429, "too many deliveries\n", "rate-limited"))
        self.records.update(source, last_delivery=self.clock(), deliveries=sub.deliveries + 1)
        logger.info("[%s] WebSub: delivery of %d bytes: polling now", source, len(body))
        self.on_delivery(source)
        return self._count(source, Answer(202, "", "accepted"))

    def _log_forged(self, source: str, verdict: str, size: int) -> None:
        """One warning per source and minute for deliveries that fail the signature check,
        with the count of those it stands for (a flood of forgeries must not flood the
        log; the metric counts every one)."""
        now = time.monotonic()
        with self._lock:
            last, held = self._forged.get(source, (-FORGED_LOG_EVERY, 0))
            if now - last < FORGED_LOG_EVERY:
                self._forged[source] = (last, held + 1)
                return
            self._forged[source] = (now, 0)
        more = f"; {held} more since the last warning" if held else ""
        logger.warning(
            "[%s] WebSub: ignored a delivery with %s (%d bytes)%s",
            source,
            "no signature" if verdict == "unsigned" else "a wrong signature",
            size,
            more,
        )

    def _count(self, source: str, answer: Answer) -> Answer:
        metrics.record_websub_delivery(source if source in self.feeds else "<unknown>", answer.outcome)
        return answer

    def close(self) -> None:
        self._client.close()


def next_attempt(sub: Subscription, lease: timedelta) -> datetime | None:
    """When the upkeep next acts on ``sub`` by itself: asks a silent hub again, retries a
    failed or denied subscription, renews a lease (``lease``: the configured one)."""
    if sub.state == "active" and sub.pending is None and sub.expires is not None:
        length = timedelta(seconds=sub.lease_seconds) if sub.lease_seconds else lease
        return sub.expires - min(max(length * RENEW_SHARE, timedelta(minutes=1)), timedelta(days=1), length / 2)
    if sub.requested is None:
        return None
    if sub.pending == "subscribe":
        return sub.requested + VERIFY_WAIT
    if sub.state == "failed":
        return sub.requested + RETRY_AFTER
    if sub.state == "denied":
        return sub.requested + RETRY_DENIED
    return None


def _int(value: str | None) -> int | None:
    try:
        n = int(str(value))
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


__all__ = ["Answer", "WebSubSubscriber", "check_signature", "link_header_rels", "next_attempt"]
