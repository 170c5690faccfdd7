"""A publish costs what changed: nothing new renders and writes nothing; one change
renders the files it touches, and the result is what a publish from scratch makes.

The store is filled directly (articles chained newest -> previous, translations into
es and el); renders are counted by wrapping the real renderers (the publisher's
``renderers`` seam), writes by a recording writer, body loads by wrapping the
publication repository.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import Settings, parse_settings
from syndicate.errors import PublishError
from syndicate.models import Article, Lang, Paragraph, Ref, Translation
from syndicate.publish import FeedPublisher, Renderers, default_renderers
from syndicate.publish.writer import FileWriter
from syndicate.store import Store
from tests.conftest import snapshot
from tests.publish import feedcheck

ES, EL = Lang("es"), Lang("el")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FEED_SIZE = 3


def settings_for(root: Path, languages: tuple[str, ...] = ("es", "el"), **site: str) -> Settings:
    (root / "articles").mkdir(parents=True, exist_ok=True)
    return parse_settings(
        {
            "site": {"title": "Inc News", "base_url": "https://news.example.org/", "author": "Desk", **site},
            "output": {
                "feeds_dir": "feeds",
                "translations_dir": "translations",
                "state_dir": "state",
                "feed_size": FEED_SIZE,
            },
            "translate": {"languages": list(languages), "engines": ["apertium"]},
            "sources": [{"name": "inc", "type": "folder", "path": "articles"}],
        },
        root=root,
    )


def article(n: int) -> Article:
    return Article(
        source="inc",
        key=f"k{n}",
        title=f"Story number {n}",
        blocks=(Paragraph(f"Story {n} happened on day {n}."), Paragraph(f"It had {n} witnesses.")),
        url=f"https://source.example.org/{n}.html",
        prev=Ref(f"https://source.example.org/{n - 1}.html", f"Story number {n - 1}") if n else None,
        published=T0 + timedelta(hours=n),
    )


def translate(store: Store, article_id: int, n: int, language: str, *, title: str | None = None, at: int = 0) -> None:
    source = article(n)
    store.translations.put(
        Translation(
            article_id=article_id,
            language=Lang(language),
            engine="fake",
            title=title or f"[{language}] {source.title}",
            blocks=tuple(Paragraph(f"[{language}] {b.html}") for b in source.blocks),  # type: ignore[attr-defined]
            attributions=(),
            source_hash=source.content_hash,
            updated=T0 + timedelta(hours=n + at),
        )
    )


def add(store: Store, n: int, languages: tuple[str, ...] = ("es", "el")) -> int:
    sa, _ = store.articles.upsert(article(n), T0 + timedelta(hours=n))
    for language in languages:
        translate(store, sa.id, n, language)
    return sa.id


class RecordingWriter(FileWriter):
    """A real writer that remembers every write asked of it and which changed a file."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Path] = []
        self.changed: list[Path] = []

    def write(self, path: Path, data: bytes) -> bool:
        self.asked.append(path)
        changed = super().write(path, data)
        if changed:
            self.changed.append(path)
        return changed


@dataclass
class Counted:
    """The real renderers, counting calls: pages by (language, slug), the rest by name."""

    pages: Counter[tuple[str, str]] = field(default_factory=Counter)
    others: Counter[str] = field(default_factory=Counter)

    def renderers(self) -> Renderers:
        real = default_renderers()

        def page(settings: Settings, edition: Any, entry: Any) -> bytes:
            self.pages[(edition.language, entry.slug)] += 1
            return real.page(settings, edition, entry)

        def counted(name: str, render: Callable[..., bytes]) -> Callable[..., bytes]:
            def wrapper(*args: Any) -> bytes:
                subject = args[1]  # an Edition, a FeedPage (of an edition) or a list of editions
                language = getattr(subject, "language", None) or getattr(
                    getattr(subject, "edition", None), "language", ""
                )
                self.others[f"{name}:{language}" if language else name] += 1
                return render(*args)

            return wrapper

        return Renderers(
            page=page,
            language_index=counted("language_index", real.language_index),
            index=counted("index", real.index),
            opml=counted("opml", real.opml),
            feeds={fmt: counted(f"feed.{fmt}", render) for fmt, render in real.feeds.items()},
        )

    @property
    def total(self) -> int:
        return sum(self.pages.values()) + sum(self.others.values())


@dataclass
class Site:
    root: Path
    settings: Settings
    store: Store

    def publisher(self, counted: Counted | None = None, writer: FileWriter | None = None) -> FeedPublisher:
        return FeedPublisher(
            self.settings,
            self.store,
            writer,
            notify=lambda urls: None,
            renderers=counted.renderers() if counted else None,
        )

    def publish(self) -> tuple[int, Counted, RecordingWriter, list[int]]:
        """A publish with counting renderers, a recording writer and recorded body loads."""
        counted, writer = Counted(), RecordingWriter()
        publisher = self.publisher(counted, writer)
        loaded: list[int] = []
        bodies = publisher.publication.bodies

        def recording(language: Lang, ids: Any) -> Any:
            loaded.extend(ids)
            return bodies(language, ids)

        publisher.publication.bodies = recording  # type: ignore[method-assign]
        return publisher.publish([ES, EL]), counted, writer, loaded

    def rel(self, paths: list[Path]) -> set[str]:
        return {str(p.relative_to(self.root)) for p in paths}

    def slug(self, article_id: int) -> str:
        found = self.store.articles.get(article_id)
        assert found is not None
        return found.slug


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    settings = settings_for(tmp_path)
    store = Store.open(settings.state_dir)
    try:
        yield Site(tmp_path, settings, store)
    finally:
        store.close()


def filled(site: Site, n: int = 10) -> list[int]:
    ids = [add(site.store, i) for i in range(n)]
    site.publisher().publish([ES, EL])
    return ids


def test_a_publish_with_nothing_new_renders_writes_and_reads_nothing(site: Site) -> None:
    filled(site)
    changed, counted, writer, loaded = site.publish()
    assert changed == 0
    assert counted.total == 0, (counted.pages, counted.others)
    assert writer.asked == []  # the writer is the only reader of output files: none read
    assert loaded == []  # no body loaded


def test_one_new_article_renders_only_the_files_it_touches(site: Site) -> None:
    ids = filled(site)
    newest = site.slug(ids[-1])
    new_id = add(site.store, len(ids))
    new = site.slug(new_id)
    changed, counted, writer, loaded = site.publish()
    # Its page and its older neighbour's (whose "next" now points to it), in each language.
    assert set(counted.pages) == {(lang, slug) for lang in ("es", "el") for slug in (new, newest)}
    assert all(n == 1 for n in counted.pages.values())
    touched = {f"translations/{lang}/{slug}.html" for lang in ("es", "el") for slug in (new, newest)}
    feeds = {f"feeds/{lang}/{name}" for lang in ("es", "el") for name in ("atom.xml", "rss.xml", "feed.json")}
    indexes = {"translations/es/index.html", "translations/el/index.html", "feeds/index.html"}
    # 11 entries, feed_size 3: the one that left the subscription feed joined the open page 3.
    # So did the open page of each page index, which lists the same entries.
    archive = {f"feeds/{lang}/archive/3{ext}" for lang in ("es", "el") for ext in (".xml", ".rss", ".json")}
    archive |= {f"translations/{lang}/archive/3.html" for lang in ("es", "el")}
    # The last sitemap (oldest first: the new entry goes at its end), the news sitemap and the index.
    sitemaps = {
        f"translations/{lang}/{name}"
        for lang in ("es", "el")
        for name in ("sitemap-1.xml", "sitemap-news.xml", "sitemap.xml")
    }
    assert site.rel(writer.changed) == touched | feeds | indexes | archive | sitemaps
    assert changed == len(writer.changed)
    # Bodies: the two pages, and the members of the documents rendered (never the history).
    assert len(set(loaded)) <= 2 + 2 * FEED_SIZE
    assert counted.others["opml"] == 1  # the site index's inputs changed (a size): OPML is checked, not rewritten
    assert "feeds/opml.xml" not in site.rel(writer.changed)
    for path in writer.changed:
        if path.suffix in (".xml", ".rss", ".json") and not path.name.startswith("sitemap"):
            assert feedcheck.feed_problems(path) == [], path


def test_an_edited_title_re_renders_its_neighbours_links(site: Site) -> None:
    ids = filled(site)
    middle = 4
    translate(site.store, ids[middle], middle, "es", title="A brand new title", at=1)
    _, counted, _, _ = site.publish()
    expected = {("es", site.slug(ids[i])) for i in (middle - 1, middle, middle + 1)}
    assert set(counted.pages) == expected  # no Greek page: their links did not change
    older = (site.root / "translations" / "es" / f"{site.slug(ids[middle - 1])}.html").read_text(encoding="utf-8")
    assert "A brand new title →" in older


def test_a_new_language_of_an_article_re_renders_its_other_pages(site: Site) -> None:
    ids = [add(site.store, i, ("es", "el") if i != 5 else ("es",)) for i in range(8)]
    site.publisher().publish([ES, EL])
    translate(site.store, ids[5], 5, "el")
    _, counted, _, _ = site.publish()
    slug = site.slug(ids[5])
    # Its Spanish page gains an alternate; in Greek it is new, and so are its neighbours' links.
    assert ("es", slug) in counted.pages
    assert {s for lang, s in counted.pages if lang == "es"} == {slug}
    assert {s for lang, s in counted.pages if lang == "el"} == {site.slug(ids[i]) for i in (4, 5, 6)}
    page = (site.root / "translations" / "es" / f"{slug}.html").read_text(encoding="utf-8")
    assert f'hreflang="el" href="https://news.example.org/translations/el/{slug}.html"' in page


def test_a_language_added_to_the_configuration_re_renders_everything_once(site: Site) -> None:
    filled(site, 5)
    site.settings = settings_for(site.root, ("es", "el", "ru"))
    _, counted, _, _ = site.publish()
    assert len(counted.pages) == 10  # the fingerprint changed: every page is rendered (bytes compared)
    _, counted, writer, _ = site.publish()
    assert counted.total == 0 and writer.asked == []


def test_deleted_files_come_back_and_only_they_are_rendered(site: Site) -> None:
    ids = filled(site)
    slug = site.slug(ids[2])
    feeds = site.root / "feeds" / "es"
    lost = [site.root / "translations" / "es" / f"{slug}.html", feeds / "atom.xml", feeds / "archive" / "1.rss"]
    before = {p: p.read_bytes() for p in lost}
    for path in lost:
        path.unlink()
    changed, counted, writer, _ = site.publish()
    assert changed == 3 and set(writer.changed) == set(lost)
    assert {p: p.read_bytes() for p in lost} == before
    assert set(counted.pages) == {("es", slug)}
    # The subscription documents are rendered again (one is gone); the full page comes
    # back from the store, unrendered.
    assert {k for k in counted.others if k.startswith("feed.")} == {"feed.atom:es", "feed.rss:es", "feed.json:es"}


def _copy_store(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    with sqlite3.connect(source / "syndicate.db") as src, sqlite3.connect(target / "syndicate.db") as dst:
        src.backup(dst)
    with sqlite3.connect(target / "syndicate.db") as conn:
        conn.execute("DELETE FROM publish_state")
        conn.execute("DELETE FROM published_file")


def test_many_incremental_publishes_equal_one_from_scratch(site: Site, tmp_path: Path) -> None:
    ids: list[int] = []
    for step in range(12):
        ids.append(add(site.store, len(ids), ("es", "el") if step % 4 else ("es",)))
        if step % 3 == 2:  # an edit of an older article's Spanish title, and a late Greek one
            translate(site.store, ids[step - 2], step - 2, "es", title=f"Edited {step}", at=step)
            translate(site.store, ids[step - 1], step - 1, "el", at=step)
        publisher = site.publisher()
        if step % 2:  # as the orchestrator does: one language at a time
            publisher.publish_language(ES)
            publisher.publish_language(EL)
        else:
            publisher.publish([ES, EL])
    assert site.publisher().publish([ES, EL]) == 0
    site.store.close()

    scratch = tmp_path / "scratch"
    _copy_store(site.root / "state", scratch / "state")
    settings = settings_for(scratch)
    store = Store.open(settings.state_dir)
    try:
        FeedPublisher(settings, store, notify=lambda urls: None).publish([ES, EL])
    finally:
        store.close()

    def outputs(root: Path) -> dict[str, bytes]:
        files = snapshot(root / "feeds", root / "translations")
        return {str(Path(k).relative_to(root)): v for k, v in files.items()}

    incremental, fresh = outputs(site.root), outputs(scratch)
    assert sorted(incremental) == sorted(fresh)
    assert [k for k in incremental if incremental[k] != fresh[k]] == []
    site.store = Store.open(site.settings.state_dir)  # for the fixture's close


def test_a_changed_setting_that_shows_re_renders_and_one_that_does_not_does_not(site: Site) -> None:
    filled(site, 4)
    # A translation setting shows in no output.
    translate = site.settings.translate.model_copy(update={"beam_size": 1})
    site.settings = site.settings.model_copy(update={"translate": translate})
    _, counted, _, _ = site.publish()
    assert counted.total == 0
    site.settings = settings_for(site.root, rights="CC BY 4.0")
    _, counted, _, _ = site.publish()
    assert len(counted.pages) == 8
    page = site.root / "translations" / "es" / f"{site.slug(1)}.html"
    assert "CC BY 4.0" in page.read_text(encoding="utf-8")


def test_an_output_folder_that_is_a_file_is_a_publish_error(site: Site) -> None:
    filled(site, 2)
    add(site.store, 2)
    folder = site.root / "translations" / "el"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    folder.write_bytes(b"not a folder")
    with pytest.raises(PublishError) as info:
        site.publisher().publish([ES, EL])
    assert info.value.path is not None and str(folder) in str(info.value.path)


def test_a_sweep_that_cannot_remove_a_stale_file_is_a_publish_error(tmp_path: Path) -> None:
    folder = tmp_path / "es"
    folder.mkdir()
    (folder / ".atom.xml.x.tmp").mkdir()  # a folder where a stale temp file is: unlink fails
    with pytest.raises(PublishError) as info:
        FileWriter().sweep(folder, now=10**12, recursive=False)
    assert info.value.path == folder / ".atom.xml.x.tmp"


def test_publishing_works_on_postgresql(fresh_postgres_url: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store = Store.from_url(fresh_postgres_url)
    try:
        for i in range(5):
            add(store, i)
        publisher = FeedPublisher(settings, store, notify=lambda urls: None)
        assert publisher.publish([ES, EL]) > 0
        assert publisher.publish([ES, EL]) == 0
        add(store, 5)
        assert publisher.publish([ES, EL]) > 0
        assert (tmp_path / "translations" / "el" / f"{store.articles.get(6).slug}.html").is_file()  # type: ignore[union-attr]
    finally:
        store.close()


def test_bodies_are_loaded_a_bounded_batch_at_a_time(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays flat however long the history: never every body of a language at once."""
    import syndicate.publish.publisher

    monkeypatch.setattr(syndicate.publish.publisher, "BATCH", 4)
    for i in range(13):
        add(site.store, i)
    publisher = site.publisher()
    calls: list[int] = []
    bodies = publisher.publication.bodies

    def recording(language: Lang, ids: Any) -> Any:
        calls.append(len(ids))
        return bodies(language, ids)

    publisher.publication.bodies = recording  # type: ignore[method-assign]
    publisher.publish([ES, EL])
    assert calls and max(calls) <= 4
    assert len(list((site.root / "translations" / "es").glob("*.html"))) == 13 + 1  # every page, and the index


# -- nothing new: the output folders stand for the files in them --------------------


class CountingWriter(FileWriter):
    """A real writer that counts the per-file checks asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.checked = 0

    def size(self, path: str) -> int | None:
        self.checked += 1
        return super().size(path)


def test_nothing_new_checks_folders_not_files(site: Site) -> None:
    filled(site)
    writer = CountingWriter()
    assert site.publisher(writer=writer).publish([ES, EL]) == 0
    assert writer.checked == 0  # 20 pages and 18 feed documents, none looked at one by one


def test_a_file_removed_behind_its_back_moves_its_folder_and_comes_back(site: Site) -> None:
    ids = filled(site)
    page = site.root / "translations" / "el" / f"{site.slug(ids[4])}.html"
    before = page.read_bytes()
    page.unlink()
    writer = CountingWriter()
    assert site.publisher(writer=writer).publish([ES, EL]) == 1
    assert page.read_bytes() == before
    assert writer.checked > 0  # the moved folder sent it to the files themselves


def test_a_state_without_folder_times_checks_every_file(site: Site) -> None:
    filled(site)
    with sqlite3.connect(site.settings.state_dir / "syndicate.db") as conn:  # as revision 0002 left it
        conn.execute("UPDATE publish_state SET folders = '{}'")
    writer = CountingWriter()
    assert site.publisher(writer=writer).publish([ES, EL]) == 0
    assert writer.checked >= 38
    feed = site.root / "feeds" / "es" / "atom.xml"
    writer = CountingWriter()
    assert site.publisher(writer=writer).publish([ES, EL]) == 0
    assert writer.checked == 0  # the check above recorded the folders as it found them
    os.utime(feed.parent, ns=(0, 0))  # a folder that moved for any reason: the files are checked
    writer = CountingWriter()
    assert site.publisher(writer=writer).publish([ES, EL]) == 0
    assert writer.checked > 0
