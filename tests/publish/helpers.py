"""Shared by the feed tests: script-changing fake translations, a runner, article files."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from syndicate.config import Settings, load_settings
from syndicate.models import RunReport
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import once
from tests.conftest import Clock
from tests.fakes import FakeEngine

BASE_URL = "https://news.example.org/"

_GREEK = dict(zip("abcdefghijklmnopqrstuvwxyz", "αβκδεφγηιξκλμνοπθρστυβωχψζ", strict=True))
_CYRILLIC = dict(zip("abcdefghijklmnopqrstuvwxyz", "абцдефгхийклмнопкрстувшхыз", strict=True))
_ACCENTS = dict(zip("aeiounAEIOU", "áéíóúñÁÉÍÓÚ", strict=True))


def _map(table: dict[str, str], text: str) -> str:
    out = []
    for ch in text:
        mapped = table.get(ch.lower())
        out.append(ch if mapped is None else (mapped.upper() if ch.isupper() else mapped))
    return "".join(out)


def scripted(text: str, target: str) -> str:
    """The fake 'translation' of ``text`` into ``target``, letter by letter.

    el -> Greek letters, ru -> Cyrillic, anything else -> accented Latin; lengths and
    word order are kept, so titles stay recognisable and reader listings stay aligned.
    """
    # FakeEngine's placeholders for protected terms (QZ0QZ) pass through untouched.
    parts = re.split(r"(QZ\d+QZ)", text, flags=re.IGNORECASE)
    return "".join(part if i % 2 else _script(part, target) for i, part in enumerate(parts))


def _script(text: str, target: str) -> str:
    if target == "el":
        return _map(_GREEK, text)
    if target == "ru":
        return _map(_CYRILLIC, text)
    return "".join(_ACCENTS.get(ch, ch) for ch in text)


def script_engine(*targets: str) -> FakeEngine:
    """A fake engine from English into ``targets`` (keep_verbatim terms stay Latin)."""
    return FakeEngine("script", {("en", t) for t in targets}, lambda segment, source, target: scripted(segment, target))


def write_feed_config(
    directory: Path,
    *,
    languages: tuple[str, ...],
    feed_size: int = 50,
    articles: Path | None = None,
    rights: str = "",
    source_base_url: str | None = None,
) -> Path:
    """A config.toml like tests.conftest.write_config, with feed settings."""
    from tests.conftest import write_config

    config = write_config(directory, languages=languages, engines=("apertium",), articles=articles)
    text = config.read_text(encoding="utf-8")
    text = text.replace('state_dir = "state"', f'state_dir = "state"\nfeed_size = {feed_size}')
    if rights:
        text = text.replace('author = "Test desk"', f'author = "Test desk"\nrights = "{rights}"')
    if source_base_url:
        text = text.replace('path = "articles"', f'path = "articles"\nbase_url = "{source_base_url}"')
    config.write_text(text, encoding="utf-8")
    return config


def run(config: Path, clock: Clock, engine: FakeEngine | None = None) -> tuple[Settings, RunReport]:
    """One pipeline pass; with ``engine``, it stands in for every configured engine."""
    settings = load_settings(config)
    store = Store.open(settings.state_dir)
    try:
        pool = None
        if engine is not None:
            pool = Engines(settings, factories={name: (lambda _s: engine) for name in settings.translate.engines})
        return settings, once(settings, store, clock=clock, engines=pool)
    finally:
        store.close()


def url_path(root: Path, url: str) -> Path:
    """The file under ``root`` that a published URL names."""
    assert url.startswith(BASE_URL), url
    return root / url[len(BASE_URL) :]


def chain_article(title: str, previous: str | None, following: str | None, body: str) -> str:
    """An article file in the sample's plain-text format."""
    parts = [title, "", f"{body} [Source attribution: Wire {title.split()[-1]}]", ""]
    if previous:
        parts += ["Previous Article", "", previous, ""]
    if following:
        parts += ["Next Article", "", following, ""]
    parts += ["Write a Comment", ""]
    return "\n".join(parts)


# -- a real feed reader: sfeed ------------------------------------------------------------

SFEED_LINE = re.compile(r"^[ N] (\d{4}-\d{2}-\d{2} \d{2}:\d{2})  (\S+)\s+(.*?)\s+(https?://\S+)$")


def sfeed_plain_title(title: str, width: int = 70) -> str:
    """How sfeed_plain shows a title: cut to ``width`` columns, ending in an ellipsis."""
    return title if len(title) <= width else title[: width - 1] + "\u2026"


def sfeed_tools() -> dict[str, str] | None:
    """Paths of sfeed_update, sfeed_plain and curl (sfeed_update fetches with curl)."""
    tools = {name: shutil.which(name) for name in ("sfeed_update", "sfeed_plain", "curl")}
    return {k: v for k, v in tools.items() if v} if all(tools.values()) else None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on 127.0.0.1 (a free port); yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def sfeed_listing(root: Path, feeds: dict[str, str], work: Path) -> dict[str, list[tuple[str, str, str]]]:
    """Fetch ``feeds`` ({name: path under root}) with sfeed_update from a local server,
    then list them with sfeed_plain under a UTF-8 locale: {name: [(date, title, link)]}.

    sfeed_update keeps items sorted by date by default; most sample articles have no
    date of their own (they share their arrival time), so the sfeedrc keeps each feed's
    own order instead: the chain order the feeds are written in.
    """
    tools = sfeed_tools()
    assert tools, "sfeed/curl missing: `make system-packages` installs them"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    store = work / "sfeed"
    work.mkdir(parents=True, exist_ok=True)
    with serve(root) as base:
        lines = "\n".join(f'\tfeed "{name}" "{base}{path}"' for name, path in feeds.items())
        rc = work / "sfeedrc"
        rc.write_text(
            f'sfeedpath="{store}"\n'
            'merge() { cat "$3"; }  # keep the fetched document as it is\n'
            "order() { cat; }  # in the feed's own order\n"
            f"feeds() {{\n{lines}\n}}\n",
            encoding="utf-8",
        )
        update = subprocess.run([tools["sfeed_update"], str(rc)], env=env, capture_output=True, text=True, timeout=120)
    assert update.returncode == 0, update.stderr
    out: dict[str, list[tuple[str, str, str]]] = {}
    for name in feeds:
        plain = subprocess.run([tools["sfeed_plain"], str(store / name)], env=env, capture_output=True, timeout=60)
        assert plain.returncode == 0, plain.stderr
        rows = []
        for line in plain.stdout.decode("utf-8").splitlines():
            match = SFEED_LINE.match(line)
            assert match, f"unexpected sfeed_plain line: {line!r}"
            date, feed, title, link = match.groups()
            assert feed == name
            rows.append((date, title, link))
        out[name] = rows
    return out
