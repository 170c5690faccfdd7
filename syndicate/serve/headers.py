"""Response headers per kind of resource: caching, CORS, content security.

- Subscription feeds, the OPML list and pages change whenever a publish changes them:
  a short ``max-age`` (``[serve] max_age``), revalidated with the ETag after that.
- Full RFC 5005 archive pages never change again: ``immutable`` for a year. The newest
  (open) archive page still grows, so it is treated like a subscription feed.
- Feeds may be read by any partner site's JavaScript: ``Access-Control-Allow-Origin: *``.
- Pages are static HTML with no script: a Content-Security-Policy that allows none, and
  ``nosniff`` everywhere so nothing is reinterpreted as another type.
"""

from __future__ import annotations

from syndicate.serve.files import Kind

IMMUTABLE = "public, max-age=31536000, immutable"

#: Translated pages and indexes: no script, no plugin, no framing; images from the
#: page's own site or the originals' (https), styles from our own origin only.
PAGE_CSP = (
    "default-src 'none'; img-src 'self' https: data:; style-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
#: Feeds, OPML and other documents are never rendered as pages of ours.
DOCUMENT_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

CORS_KINDS = frozenset({"feed", "archive", "opml"})
_CORS = (
    (b"access-control-allow-origin", b"*"),
    # ETag and Link (the WebSub hub and self) are not CORS-safelisted response headers:
    # let partner scripts read them.
    (b"access-control-expose-headers", b"ETag, Link"),
)


def cache_control(kind: Kind, max_age: int) -> str:
    if kind.immutable:
        return IMMUTABLE
    return f"public, max-age={max_age}"


def resource_headers(kind: Kind, max_age: int, *, compressible: bool) -> list[tuple[bytes, bytes]]:
    """Headers every response for a file of this kind carries (200, 304 and HEAD alike)."""
    headers = [
        (b"cache-control", cache_control(kind, max_age).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", (PAGE_CSP if kind.name == "page" else DOCUMENT_CSP).encode()),
    ]
    if compressible:
        headers.append((b"vary", b"Accept-Encoding"))
    if kind.name in CORS_KINDS:
        headers.extend(_CORS)
    if kind.name == "page":
        headers.append((b"referrer-policy", b"strict-origin-when-cross-origin"))
    return headers


def preflight_headers() -> list[tuple[bytes, bytes]]:
    """The answer to a CORS preflight for a feed (a script sending If-None-Match)."""
    return [
        *_CORS,
        (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
        (b"access-control-allow-headers", b"If-None-Match, If-Modified-Since"),
        (b"access-control-max-age", b"86400"),
        (b"allow", b"GET, HEAD, OPTIONS"),
    ]


__all__ = ["IMMUTABLE", "PAGE_CSP", "cache_control", "preflight_headers", "resource_headers"]
