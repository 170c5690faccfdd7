"""Feed validators for the tests: each returns a list of problems (empty = valid).

- Atom: the RELAX NG schema of RFC 4287 Appendix B (tests/data/schema/atom.rng, with
  ``xmllint --relaxng``) plus what the schema cannot say: the two Schematron rules of
  Appendix B (an author on every entry or on the feed; content or an alternate link on
  every entry), RFC 3339 dates with a time zone, at most one alternate link per type and
  hreflang, unique entry ids.
- RSS 2.0: the required channel and item elements, RFC 822 dates, a ``rel="self"``
  atom:link, a guid on every item.
- JSON Feed 1.1: the required top-level and item fields, RFC 3339 dates.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from lxml import etree

SCHEMA = Path(__file__).resolve().parent.parent / "data" / "schema" / "atom.rng"
ATOM = "http://www.w3.org/2005/Atom"
NS = {"a": ATOM}

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# RFC 822 / RFC 5322 date-time as RSS 2.0 uses it (four-digit years allowed).
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} (GMT|UT|[+-]\d{4})$"
)


def xmllint() -> str | None:
    return shutil.which("xmllint")


def relaxng_problems(data: bytes) -> list[str]:
    """Validate against RFC 4287's RELAX NG schema with xmllint."""
    tool = xmllint()
    assert tool, "xmllint is missing: `make system-packages` installs libxml2-utils"
    result = subprocess.run(
        [tool, "--noout", "--relaxng", str(SCHEMA), "-"], input=data, capture_output=True, timeout=60
    )
    if result.returncode == 0:
        return []
    return [line for line in result.stderr.decode("utf-8", "replace").splitlines() if line.strip()]


def atom_problems(data: bytes) -> list[str]:
    """Everything wrong with an Atom document."""
    problems = relaxng_problems(data)
    root = etree.fromstring(data)
    if root.tag != f"{{{ATOM}}}feed":
        return [*problems, f"root is {root.tag}, not atom:feed"]
    feed_has_author = bool(root.findall("a:author", NS))
    dates = root.xpath("//a:updated | //a:published", namespaces=NS)
    problems += [f"not RFC 3339: {d.text!r}" for d in dates if not RFC3339.match(d.text or "")]
    problems += _alternate_clashes(root, "feed")
    ids = []
    for entry in root.findall("a:entry", NS):
        entry_id = entry.findtext("a:id", namespaces=NS)
        ids.append(entry_id)
        if not feed_has_author and not entry.findall("a:author", NS) and not entry.findall("a:source/a:author", NS):
            problems.append(f"{entry_id}: no atom:author on the entry or the feed")
        has_alternate = entry.xpath("a:link[@rel='alternate' or not(@rel)]", namespaces=NS)
        if not has_alternate and entry.find("a:content", NS) is None:
            problems.append(f"{entry_id}: neither atom:content nor an alternate link")
        problems += _alternate_clashes(entry, entry_id or "entry")
    problems += [f"entry id repeated: {i}" for i, n in Counter(ids).items() if n > 1]
    return problems


def _alternate_clashes(element: Any, where: str) -> list[str]:
    """RFC 4287 4.1.1/4.1.2: no two alternate links with the same type and hreflang."""
    pairs = Counter(
        (link.get("type"), link.get("hreflang"))
        for link in element.xpath("a:link[@rel='alternate' or not(@rel)]", namespaces=NS)
    )
    return [f"{where}: {n} alternate links with type/hreflang {key}" for key, n in pairs.items() if n > 1]


def rss_problems(data: bytes) -> list[str]:
    """Everything wrong with an RSS 2.0 document."""
    problems: list[str] = []
    root = etree.fromstring(data)
    if root.tag != "rss" or root.get("version") != "2.0":
        return [f"root is <{root.tag} version={root.get('version')!r}>, not <rss version='2.0'>"]
    channels = root.findall("channel")
    if len(channels) != 1:
        return [f"{len(channels)} channel elements"]
    channel = channels[0]
    for name in ("title", "link", "description"):
        if not (channel.findtext(name) or "").strip():
            problems.append(f"channel has no {name}")
    if not channel.xpath("a:link[@rel='self'][@href]", namespaces=NS):
        problems.append("channel has no atom:link rel=self")
    for name in ("lastBuildDate", "pubDate"):
        for date in channel.findall(name):
            problems += _rfc822(date.text, f"channel {name}")
    guids = []
    for item in channel.findall("item"):
        if not ((item.findtext("title") or "").strip() or (item.findtext("description") or "").strip()):
            problems.append("item has neither title nor description")
        guid = item.findtext("guid")
        if not guid:
            problems.append(f"item {item.findtext('title')!r} has no guid")
        guids.append(guid)
        for date in item.findall("pubDate"):
            problems += _rfc822(date.text, f"item {guid} pubDate")
        for link in item.xpath("a:link", namespaces=NS):
            if not link.get("href") or not link.get("rel"):
                problems.append(f"item {guid}: atom:link without href or rel")
    problems += [f"guid repeated: {g}" for g, n in Counter(guids).items() if n > 1]
    return problems


def _rfc822(text: str | None, where: str) -> list[str]:
    if not text or not RFC822.match(text):
        return [f"{where} is not an RFC 822 date: {text!r}"]
    if parsedate_to_datetime(text).tzinfo is None:
        return [f"{where} has no time zone: {text!r}"]
    return []


def json_feed_problems(data: bytes) -> list[str]:
    """Everything wrong with a JSON Feed 1.1 document."""
    problems: list[str] = []
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"not UTF-8 JSON: {exc}"]
    if doc.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append(f"version is {doc.get('version')!r}")
    for key in ("title", "feed_url", "home_page_url", "language"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            problems.append(f"no {key}")
    if doc.get("next_url") is not None and doc.get("next_url") == doc.get("feed_url"):
        problems.append("next_url is feed_url")
    for author in doc.get("authors", []):
        if not isinstance(author, dict) or not author.get("name"):
            problems.append(f"bad author {author!r}")
    items = doc.get("items")
    if not isinstance(items, list):
        return [*problems, "items is not a list"]
    ids = []
    for item in items:
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            problems.append(f"item without a string id: {item!r:.80}")
        ids.append(item_id)
        if not item.get("content_html") and not item.get("content_text"):
            problems.append(f"{item_id}: no content_html or content_text")
        for key in ("date_published", "date_modified"):
            if key in item and not RFC3339.match(item[key]):
                problems.append(f"{item_id}: {key} is not RFC 3339: {item[key]!r}")
    problems += [f"item id repeated: {i}" for i, n in Counter(ids).items() if n > 1]
    return problems


def feed_problems(path: Path) -> list[str]:
    """Validate a feed file by its name: .json is JSON Feed, .rss / rss.xml RSS, else Atom."""
    data = path.read_bytes()
    if path.suffix == ".json":
        return json_feed_problems(data)
    if path.suffix == ".rss" or path.name == "rss.xml":
        return rss_problems(data)
    return atom_problems(data)
