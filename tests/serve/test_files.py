"""The pure parts of serving: path segments, content negotiation, validators, kinds, cache."""

from __future__ import annotations

import gzip
import os
from email.utils import formatdate
from pathlib import Path

import pytest

from syndicate.serve.app import _accepts, _not_modified
from syndicate.serve.files import FileCache, OutputFolder, safe_segments


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("es/atom.xml", ["es", "atom.xml"]),
        ("es/archive/12.json", ["es", "archive", "12.json"]),
        ("", [""]),
        ("es/", ["es", ""]),
        ("pt-br/a_b-c.html", ["pt-br", "a_b-c.html"]),
        ("../x", None),
        ("es/../x", None),
        ("./es", None),
        ("es//atom.xml", None),
        ("/etc/passwd", None),
        (".hidden", None),
        ("es/.atom.xml.x.tmp", None),
        ("es\\atom.xml", None),
        ("es/atom.xml\x00", None),
        ("%2e%2e/x", None),
        ("es/atom.xml;x", None),
        ("C:/x", None),
        ("caf\u00e9.html", None),
        ("a" * 256, None),
    ],
)
def test_safe_segments(path: str, expected: list[str] | None) -> None:
    assert safe_segments(path) == expected


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("", None),
        ("gzip", "gzip"),
        ("gzip, deflate, br", "br"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0", None),
        ("*", "br"),
        ("*;q=0", None),
        ("identity", None),
        ("GZIP", "gzip"),
        ("gzip;q=bogus", None),
        ("x-gzip", "gzip"),
    ],
)
def test_accept_encoding(header: str, coding: str | None) -> None:
    assert _accepts(header) == coding


def cached(tmp_path: Path, name: str = "atom.xml", body: bytes = b"<feed>" + b"x" * 1000 + b"</feed>"):  # type: ignore[no-untyped-def]
    (tmp_path / "es").mkdir(exist_ok=True)
    (tmp_path / "es" / name).write_bytes(body)
    found = FileCache().lookup(OutputFolder(tmp_path, feeds=True), f"es/{name}")
    assert found.file is not None
    return found.file


def test_validators(tmp_path: Path) -> None:
    file = cached(tmp_path)
    tag = file.etag_for(None)
    assert _not_modified(file, {b"if-none-match": tag.encode()})
    assert _not_modified(file, {b"if-none-match": file.etag_for("gzip").encode()})
    assert _not_modified(file, {b"if-none-match": b'"a", ' + tag.encode()})
    assert not _not_modified(file, {b"if-none-match": b'"a"'})
    assert _not_modified(file, {b"if-modified-since": formatdate(file.mtime, usegmt=True).encode()})
    assert not _not_modified(file, {b"if-modified-since": formatdate(file.mtime - 1, usegmt=True).encode()})
    assert not _not_modified(file, {b"if-modified-since": b"not a date"})
    assert not _not_modified(
        file, {b"if-none-match": b'"a"', b"if-modified-since": formatdate(file.mtime, usegmt=True).encode()}
    )


def test_variants_are_deterministic(tmp_path: Path) -> None:
    file = cached(tmp_path)
    assert gzip.decompress(file.variant("gzip")) == file.body
    assert file.variant("gzip") == gzip.compress(file.body, compresslevel=9, mtime=0)
    assert file.variant("gzip") is file.variant("gzip")


@pytest.mark.parametrize(
    ("path", "kind", "media"),
    [
        ("es/atom.xml", "feed", "application/atom+xml"),
        ("es/rss.xml", "feed", "application/rss+xml"),
        ("es/feed.json", "feed", "application/feed+json"),
        ("es/archive/3.rss", "archive", "application/rss+xml"),
        ("opml.xml", "opml", "text/x-opml"),
        ("index.html", "page", "text/html"),
        ("es/other.xml", "asset", "application/xml"),
        ("es/archive/0.xml", "asset", "application/xml"),
        ("es/data.bin", "asset", "application/octet-stream"),
    ],
)
def test_kinds(path: str, kind: str, media: str) -> None:
    seen: list[tuple[str, int, str, int]] = []

    def is_full(language: str, number: int, fmt: str, size: int) -> bool:
        seen.append((language, number, fmt, size))
        return number == 3

    found = OutputFolder(Path("/nonexistent"), feeds=True, is_full=is_full).kind(path.split("/"), 10)
    assert (found.name, found.media_type) == (kind, media)
    if kind == "archive":
        assert found.immutable and seen == [("es", 3, "rss", 10)]
    else:
        assert not found.immutable


def test_cache_rereads_a_replaced_file_and_stays_bounded(tmp_path: Path) -> None:
    cache = FileCache(max_bytes=4000)
    folder = OutputFolder(tmp_path, feeds=False)
    (tmp_path / "a.html").write_bytes(b"one")
    first = cache.lookup(folder, "a.html").file
    assert first is not None and cache.lookup(folder, "a.html").file is first
    tmp = tmp_path / ".a.tmp"
    tmp.write_bytes(b"two")
    os.replace(tmp, tmp_path / "a.html")
    assert cache.lookup(folder, "a.html", load=False).stale
    second = cache.lookup(folder, "a.html").file
    assert second is not None and second.body == b"two" and second.etag != first.etag
    for n in range(10):
        (tmp_path / f"{n}.html").write_bytes(b"x" * 900)
        cache.lookup(folder, f"{n}.html")
    assert cache._size <= 4000
