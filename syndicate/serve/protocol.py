"""uvicorn's httptools protocol with the bounds a public server needs (issue 21, cases 2-3).

uvicorn bounds neither how long a client may take to send its request head nor how
large the head may be (its h11 option has a size bound, the faster httptools one has
none): one GET with a 165 MB header was read whole, and thousands of sockets that never
finished their headers held the connection limit so normal clients got 503. Here:

- a request head (request line and headers) may be at most :data:`MAX_HEAD` bytes:
  past it the answer is 431 and the connection is closed, after at most one more read;
- it must arrive within :data:`HEAD_TIMEOUT` seconds of the connection (or of the
  first byte of the next request on a kept-alive connection): past it, 408 and close.

A connection still sending its head is not counted against uvicorn's concurrency limit
(that limit is for requests the app is working on), so idle and trickling sockets cost a
file descriptor and a timer each until the timeout closes them, never a normal client's
request.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger(__name__)

#: The largest request head accepted, in bytes (nginx's default buffers are 8 KB x 4).
MAX_HEAD = 32 * 1024
#: Seconds a client has to send its whole request head (a test may shorten it through
#: SYNDICATE_TEST_HEAD_TIMEOUT, so it need not wait ten seconds).
HEAD_TIMEOUT = float(os.environ.get("SYNDICATE_TEST_HEAD_TIMEOUT", "") or 10.0)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with a size and a time bound on each request head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Checked after the parser had the chunk: a head and a body in one read is fine.
        if self._in_head and self._head_bytes > MAX_HEAD and not self.transport.is_closing():
            self._refuse(431, b"Request Header Fields Too Large", f"a request head may be at most {MAX_HEAD} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_head:  # the next request on a kept-alive connection
            self._start_head()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_head_timer()
        # uvicorn answers 503 when connections or running requests reach the limit; only
        # running requests count here (connections sending their head are bounded by time).
        limit = self.config.limit_concurrency
        self.limit_concurrency = limit if limit is not None and len(self.tasks) >= limit else None
        super().on_headers_complete()

    # -- the bounds -------------------------------------------------------------------

    def _start_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timeout)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, b"Request Timeout", f"the request head did not arrive within {HEAD_TIMEOUT:g} s")

    def _refuse(self, status: int, reason: bytes, message: str) -> None:
        body = (message + "\n").encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (status, reason, len(body), body)
        )
        self.transport.close()
        self._stop_head_timer()


__all__ = ["HEAD_TIMEOUT", "MAX_HEAD", "BoundedHttpToolsProtocol"]
