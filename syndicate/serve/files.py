"""The output folders as HTTP resources: safe lookup, kinds, cached bytes and validators.

Nothing outside the configured output folders can be reached. A URL path is checked
segment by segment against a whitelist (letters, digits, ``_.-``, no leading dot, so
no ``..``, no hidden or temporary files, no backslash, NUL, colon or percent sign left
after decoding, which rules out double encoding), then joined to its folder, resolved
with ``realpath`` (a symlink that leads outside is refused) and opened without following
a final symlink. Directories are never listed: a folder URL serves its ``index.html``
or nothing.

Each file's bytes, strong ETag and compressed variants are cached in memory keyed by
(path, mtime, size, inode), so a repeated or conditional request costs one ``stat``.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

from syndicate.publish.formats import FORMATS
from syndicate.publish.history import INDEX_FORMAT

logger = logging.getLogger(__name__)

#: One path segment of a published file or folder (slugs, language tags, file names).
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$")

#: Media types by file suffix; text types get ``; charset=utf-8``.
MEDIA_TYPES: dict[str, str] = {
    ".html": "text/html",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".json": "application/json",
    ".opml": "text/x-opml",
    ".txt": "text/plain",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_TEXTUAL = (
    "text/",
    "application/xml",
    "application/atom+xml",
    "application/rss+xml",
    "application/json",
    "application/feed+json",
    "image/svg+xml",
)

#: Subscription documents of a language folder: file name -> media type.
SUBSCRIPTION_FILES = {fmt.file: fmt.media_type for fmt in FORMATS.values()}
#: Archive page suffixes -> (format name as the store keeps it, media type).
ARCHIVE_SUFFIXES = {fmt.suffix: (fmt.name, fmt.media_type) for fmt in FORMATS.values()}
_ARCHIVE_RE = re.compile(r"^([1-9][0-9]{0,8})(" + "|".join(re.escape(suffix) for suffix in ARCHIVE_SUFFIXES) + r")$")
#: An archive page of a language's page index (``translations/<lang>/archive/<n>.html``).
_INDEX_PAGE_RE = re.compile(r"^([1-9][0-9]{0,8})\.html$")

#: Smallest body worth compressing.
MIN_COMPRESS = 256

try:  # the maintained Brotli bindings; without them only gzip is offered
    import brotli as _brotli
except ImportError:  # pragma: no cover - brotli is a declared dependency
    _brotli = None


@dataclass(frozen=True)
class Kind:
    """What a published file is, which decides its headers."""

    name: str  # "feed", "archive", "opml", "page", "asset"
    media_type: str
    immutable: bool = False  # a full RFC 5005 archive page, or a full page of a page index

    @property
    def content_type(self) -> str:
        textual = self.media_type.startswith(_TEXTUAL)
        return f"{self.media_type}; charset=utf-8" if textual else self.media_type


@dataclass
class CachedFile:
    """A file's bytes as last read, with its validators and compressed variants."""

    key: tuple[int, int, int, int]  # (mtime_ns, size, inode, device)
    body: bytes
    etag: str  # strong, of the identity bytes: "<sha256 prefix>"
    last_modified: str  # IMF-fixdate
    mtime: int  # whole seconds, for If-Modified-Since
    kind: Kind
    variants: dict[str, bytes] = field(default_factory=dict)  # coding -> compressed bytes
    #: coding -> (304 headers, 200 headers or None until the body is known), built by the app
    headers: dict[str | None, tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]] | None]] = field(
        default_factory=dict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def etag_for(self, coding: str | None) -> str:
        """A strong ETag per representation: each content coding has its own."""
        return f'"{self.etag}"' if coding is None else f'"{self.etag}-{coding}"'

    def matches(self, tag: str) -> bool:
        """Whether an If-None-Match tag names any representation of these bytes."""
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        return tag in (f'"{self.etag}"', f'"{self.etag}-gzip"', f'"{self.etag}-br"')

    def compressible(self) -> bool:
        return len(self.body) >= MIN_COMPRESS and self.kind.media_type.startswith(_TEXTUAL)

    def variant(self, coding: str) -> bytes:
        """The body in ``coding`` ("gzip" or "br"), compressed once and kept."""
        found = self.variants.get(coding)
        if found is not None:
            return found
        with self.lock:
            found = self.variants.get(coding)
            if found is None:
                if coding == "br":
                    assert _brotli is not None
                    found = _brotli.compress(self.body, quality=9)
                else:
                    # mtime=0: the same bytes every time, so the variant's ETag is honest.
                    found = gzip.compress(self.body, compresslevel=9, mtime=0)
                self.variants[coding] = found
        return found


def brotli_available() -> bool:
    return _brotli is not None


def safe_segments(path: str) -> list[str] | None:
    """The segments of a decoded URL path below a folder, or None when any is unsafe.

    ``""`` (the folder itself) gives ``[]``; a trailing slash gives a final ``""``.
    """
    if "\x00" in path or "\\" in path or "%" in path:
        return None
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part == "" and i == len(parts) - 1:
            continue  # trailing slash: a folder
        if not _SEGMENT_RE.match(part):
            return None
    return parts


#: Tells whether archive page ``number`` of ``language`` in ``fmt`` is full (never changes).
FullPageCheck = Callable[[str, int, str, int], bool]


def _no_full_pages(_language: str, _number: int, _fmt: str, _size: int) -> bool:
    return False


class OutputFolder:
    """One output folder (``feeds/`` or ``translations/``) and how its files are kinds."""

    def __init__(self, root: Path, *, feeds: bool, is_full: FullPageCheck = _no_full_pages) -> None:
        self.root = root
        self.feeds = feeds
        self.is_full = is_full

    def real_root(self) -> str | None:
        try:
            real = os.path.realpath(self.root, strict=True)
        except OSError:
            return None
        return real if os.path.isdir(real) else None

    def kind(self, parts: list[str], size: int) -> Kind:
        name = parts[-1]
        suffix = os.path.splitext(name)[1].lower()
        if self.feeds:
            if len(parts) == 2 and name in SUBSCRIPTION_FILES:
                return Kind("feed", SUBSCRIPTION_FILES[name])
            if len(parts) == 3 and parts[1] == "archive" and (m := _ARCHIVE_RE.match(name)):
                fmt, media = ARCHIVE_SUFFIXES[m.group(2)]
                return Kind("archive", media, immutable=self.is_full(parts[0], int(m.group(1)), fmt, size))
            if parts == ["opml.xml"]:
                return Kind("opml", "text/x-opml")
        elif len(parts) == 3 and parts[1] == "archive" and (m := _INDEX_PAGE_RE.match(name)):
            return Kind("page", "text/html", immutable=self.is_full(parts[0], int(m.group(1)), INDEX_FORMAT, size))
        media = MEDIA_TYPES.get(suffix, "application/octet-stream")
        return Kind("page" if media == "text/html" else "asset", media)


@dataclass(frozen=True)
class Found:
    """The outcome of a lookup: a file, a redirect to the folder URL, or nothing."""

    file: CachedFile | None = None
    redirect: bool = False
    stale: bool = False  # the file changed (or is new) and must be read: see FileCache.lookup
    #: A file too large to hold in memory: streamed from disk as it is (see :data:`STREAM_ABOVE`).
    big: BigFile | None = None


@dataclass(frozen=True)
class BigFile:
    """A file larger than :data:`STREAM_ABOVE`: never read whole, never compressed."""

    path: str
    size: int
    last_modified: str
    mtime: int
    etag: str  # weak, from the file's identity (hashing it would mean reading it)
    kind: Kind


#: Files larger than this are streamed from disk in chunks, uncompressed and uncached:
#: a request costs :data:`STREAM_CHUNK` of memory however large the file (syndicate's own
#: feeds and pages are far smaller; a large file is someone else's, or an export).
STREAM_ABOVE = 8 * 1024 * 1024
STREAM_CHUNK = 256 * 1024


class FileCache:
    """Cached files by real path; bounded in total bytes (least recently used go first)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._files: OrderedDict[str, CachedFile] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def lookup(self, folder: OutputFolder, path: str, *, load: bool = True) -> Found:
        """Find ``path`` (decoded, relative to the folder) safely; read it if changed.

        With ``load=False`` a changed or new file is not read but reported ``stale``, so
        the event loop can hand the read (and hashing) to a worker thread.
        """
        parts = safe_segments(path)
        if parts is None:
            return Found()
        root = folder.real_root()
        if root is None:
            return Found()
        want_index = not parts or parts[-1] == ""
        if want_index:
            parts = [*parts[:-1], "index.html"] if parts else ["index.html"]
        candidate = os.path.join(root, *parts)
        real = os.path.realpath(candidate)
        if os.path.commonpath([root, real]) != root or real == root:
            return Found()  # a symlink that leads outside the folder
        try:
            st = os.stat(real)
        except (OSError, ValueError):
            return Found()
        if stat.S_ISDIR(st.st_mode):
            # "/feeds/es" -> "/feeds/es/" when that folder has an index page.
            has_index = os.path.isfile(os.path.join(real, "index.html"))
            return Found(redirect=has_index and not want_index)
        if not stat.S_ISREG(st.st_mode):
            return Found()
        key = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)
        if st.st_size > STREAM_ABOVE:
            mtime = int(st.st_mtime)
            return Found(
                big=BigFile(
                    real,
                    st.st_size,
                    formatdate(mtime, usegmt=True),
                    mtime,
                    f'W/"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"',
                    folder.kind(parts, st.st_size),
                )
            )
        with self._lock:
            cached = self._files.get(real)
            if cached is not None and cached.key == key:
                self._files.move_to_end(real)
                self.hits += 1
                return Found(file=cached)
        if not load:
            return Found(stale=True)
        self.misses += 1
        loaded = self._load(folder, parts, real)
        return Found(file=loaded)

    def _load(self, folder: OutputFolder, parts: list[str], real: str) -> CachedFile | None:
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            body = b"".join(chunks)
        except OSError:
            return None
        finally:
            os.close(fd)
        # The key is the opened file's own: a rename in between is caught next time.
        key = (st.st_mtime_ns, len(body), st.st_ino, st.st_dev)
        mtime = int(st.st_mtime)
        entry = CachedFile(
            key=key,
            body=body,
            etag=hashlib.sha256(body).hexdigest()[:32],
            last_modified=formatdate(mtime, usegmt=True),
            mtime=mtime,
            kind=folder.kind(parts, len(body)),
        )
        if len(body) <= self.max_bytes // 4:
            with self._lock:
                old = self._files.pop(real, None)
                if old is not None:
                    self._size -= len(old.body)
                self._files[real] = entry
                self._size += len(body)
                while self._size > self.max_bytes and self._files:
                    _, dropped = self._files.popitem(last=False)
                    self._size -= len(dropped.body)
        return entry


__all__ = ["BigFile", "CachedFile", "FileCache", "Found", "Kind", "OutputFolder", "brotli_available", "safe_segments"]
