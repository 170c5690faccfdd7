"""A small change is published alone (issue 23, part 2): the publisher reads what the
change reaches, not the history, and the files are byte for byte what a publish of the
whole history makes.

A seeded history of news (new articles, late and edited translations, articles whose
date moves, backfills, a third language that starts late) is published step by step; after
every step a copy of the store is published from scratch and every file compared. The
copy keeps the feed history (archive membership is the store's, by design) and forgets
what was published.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicate.config import Settings, parse_settings
from syndicate.models import Article, Lang, Paragraph, Ref, Translation
from syndicate.publish import FeedPublisher, sitemaps
from syndicate.store import Store
from syndicate.store.publication import PublicationRepository
from tests.conftest import snapshot

T0 = datetime(2026, 3, 1, tzinfo=UTC)
LANGUAGES = ("es", "el", "ca")


def settings_for(root: Path, languages: tuple[str, ...] = LANGUAGES, **translate: object) -> Settings:
    (root / "articles").mkdir(parents=True, exist_ok=True)
    return parse_settings(
        {
            "site": {"title": "Delta News", "base_url": "https://news.example.org/", "author": "Desk"},
            "output": {"feeds_dir": "feeds", "translations_dir": "translations", "state_dir": "state", "feed_size": 3},
            "translate": {"languages": list(languages), "engines": ["apertium"], **translate},
            "sources": [{"name": "desk", "type": "folder", "path": "articles"}],
        },
        root=root,
    )


class History:
    """The store's side of a newsroom: articles and their translations, by number."""

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.rng = rng
        self.ids: dict[int, int] = {}  # article number -> id
        self.hours: dict[int, float] = {}  # article number -> published, hours after T0
        self.edits: dict[tuple[int, str], int] = {}
        self.clock = 0.0

    def article(self, n: int, prev: int | None = None) -> Article:
        return Article(
            source="desk",
            key=f"story-{n}",
            title=f"Harbour story {n}",
            blocks=(Paragraph(f"The ferry {n} left at {n % 24} o'clock."), Paragraph(f"{n} people waited.")),
            url=f"https://desk.example.org/{n}.html",
            prev=Ref(f"https://desk.example.org/{prev}.html", f"Harbour story {prev}") if prev is not None else None,
            published=T0 + timedelta(hours=self.hours[n]),
        )

    def add(self, n: int, hours: float, languages: tuple[str, ...], prev: int | None = None) -> None:
        self.clock += 1
        self.hours[n] = hours
        stored, _ = self.store.articles.upsert(self.article(n, prev), T0 + timedelta(hours=self.clock))
        self.ids[n] = stored.id
        for language in languages:
            self.translate(n, language)

    def translate(self, n: int, language: str) -> None:
        self.clock += 1
        edit = self.edits.get((n, language), 0)
        source = self.article(n)
        self.store.translations.put(
            Translation(
                article_id=self.ids[n],
                language=Lang(language),
                engine="fake",
                title=f"[{language}{edit or ''}] {source.title}",
                blocks=tuple(Paragraph(f"[{language}] {b.html}") for b in source.blocks),  # type: ignore[attr-defined]
                attributions=(),
                source_hash=source.content_hash,
                updated=T0 + timedelta(hours=self.clock),
            )
        )

    def edit(self, n: int, language: str) -> None:
        self.edits[(n, language)] = self.edits.get((n, language), 0) + 1
        self.translate(n, language)

    def redate(self, n: int, hours: float) -> None:
        """The source corrects an article's date (and so its place in the order)."""
        self.clock += 1
        self.hours[n] = hours
        self.store.articles.upsert(self.article(n), T0 + timedelta(hours=self.clock))


def _from_scratch(root: Path, scratch: Path) -> dict[str, bytes]:
    (scratch / "state").mkdir(parents=True)
    with (
        sqlite3.connect(root / "state" / "syndicate.db") as src,
        sqlite3.connect(scratch / "state" / "syndicate.db") as dst,
    ):
        src.backup(dst)
    with sqlite3.connect(scratch / "state" / "syndicate.db") as conn:
        conn.execute("DELETE FROM publish_state")
        conn.execute("DELETE FROM published_file")
    settings = settings_for(scratch)
    store = Store.open(settings.state_dir)
    try:
        publisher = FeedPublisher(settings, store, notify=lambda urls: None)
        publisher.publish([Lang(code) for code in LANGUAGES])
        assert publisher.last_plan == "history"
    finally:
        store.close()
    return _outputs(scratch)


def _outputs(root: Path) -> dict[str, bytes]:
    files = snapshot(root / "feeds", root / "translations")
    return {str(Path(k).relative_to(root)): v for k, v in files.items()}


@pytest.fixture
def small_sitemaps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(sitemaps, "PART_URLS", 4)  # several files, a new one every few steps
    yield


def test_a_history_published_change_by_change_is_what_a_publish_from_scratch_makes(
    tmp_path: Path, small_sitemaps: None
) -> None:
    rng = random.Random(23)
    root = tmp_path / "site"
    settings = settings_for(root)
    store = Store.open(settings.state_dir)
    plans: list[tuple[int, str]] = []  # (step, how it was planned)
    try:
        history = History(store, rng)
        for n in range(6):
            history.add(n, n, ("es", "el"))
        publisher = FeedPublisher(settings, store, notify=lambda urls: None)
        publisher.publish([Lang(code) for code in LANGUAGES])
        assert publisher.last_plan == "history"
        n = 6
        for step in range(30):
            action = rng.choice(["new", "new", "new", "late", "edit", "redate", "backfill", "two"])
            if action == "new":
                history.add(n, n + rng.random(), ("es", "el"))
                n += 1
            elif action == "two":  # two at once, one only in Spanish for now
                history.add(n, n + 0.5, ("es", "el"))
                history.add(n + 1, n + 0.2, ("es",))
                n += 2
            elif action == "late":  # a language catches up on an older article
                history.translate(rng.randrange(n), rng.choice(("el", "ca")))
            elif action == "edit":
                history.edit(rng.randrange(n), rng.choice(("es", "el")))
            elif action == "redate":
                history.redate(rng.randrange(n), rng.uniform(-5, n + 1))
            else:  # an old story arrives late
                history.add(n, rng.uniform(-10, n / 2), ("es", "el", "ca"))
                n += 1
            publisher = FeedPublisher(settings, store, notify=lambda urls: None)
            if step % 3 == 1:  # as the orchestrator does: one language at a time
                for code in LANGUAGES:
                    publisher.publish([Lang(code)])
                    plans.append((step, publisher.last_plan))
            else:
                publisher.publish([Lang(code) for code in LANGUAGES])
                plans.append((step, publisher.last_plan))
            if publisher.publish([Lang(code) for code in LANGUAGES]) != 0:
                pytest.fail(f"step {step} ({action}): a second publish changed files")
            store.close()
            fresh = _from_scratch(root, tmp_path / f"scratch-{step}")
            mine = _outputs(root)
            assert sorted(mine) == sorted(fresh), f"step {step} ({action})"
            differ = [k for k in mine if mine[k] != fresh[k]]
            assert differ == [], f"step {step} ({action}): {differ}"
            store = Store.open(settings.state_dir)
            history.store = store
    finally:
        store.close()
    # The third language starts late: the step that first has it plans everything (every
    # page's alternates change); every other step is a change published alone.
    whole = {step for step, plan in plans if plan == "history"}
    assert len(whole) == 1 and {plan for step, plan in plans if step not in whole} <= {"change", ""}
    assert sum(plan == "change" for _, plan in plans) >= 30


def test_articles_a_removed_filter_releases_are_published_as_a_whole_plan_would(
    tmp_path: Path, small_sitemaps: None
) -> None:
    """While a keyword filter holds articles back, the whole history is planned; once the
    filter is gone, its articles come back as a change (their change numbers were stamped)
    and land where a publish from scratch puts them."""
    root = tmp_path / "site"
    settings = settings_for(root, languages=("es", "el"))
    store = Store.open(settings.state_dir)
    languages = [Lang("es"), Lang("el")]
    try:
        history = History(store, random.Random(5))
        for n in range(12):
            history.add(n, n, ("es", "el"))
        held = [history.ids[n] for n in (3, 7, 11)]
        slugs = [store.articles.get(aid).slug for aid in held]  # type: ignore[union-attr]
        store.filters.decide(
            {aid: ("rules", store.articles.get(aid).article.content_hash, False, "exclude") for aid in held}  # type: ignore[union-attr]
        )
        publisher = FeedPublisher(settings, store, notify=lambda urls: None)
        publisher.publish(languages)
        assert publisher.last_plan == "history"
        history.add(12, 12, ("es", "el"))  # published while three are held back
        publisher = FeedPublisher(settings, store, notify=lambda urls: None)
        publisher.publish(languages)
        assert publisher.last_plan == "history"
        assert not any((root / "translations" / "es" / f"{slug}.html").exists() for slug in slugs)
        store.filters.forget(set())  # the filter is taken out of the config
        history.add(13, 13, ("es", "el"))
        publisher = FeedPublisher(settings, store, notify=lambda urls: None)
        publisher.publish(languages)
        assert publisher.last_plan == "change"
        assert all((root / "translations" / "es" / f"{slug}.html").exists() for slug in slugs)
    finally:
        store.close()
    fresh, mine = _from_scratch(root, tmp_path / "scratch"), _outputs(root)
    assert sorted(mine) == sorted(fresh)
    assert [k for k in mine if mine[k] != fresh[k]] == []


def test_a_change_alone_renders_what_it_reaches_and_reads_no_history(tmp_path: Path, small_sitemaps: None) -> None:
    settings = settings_for(tmp_path, languages=("es", "el"))
    store = Store.open(settings.state_dir)
    try:
        history = History(store, random.Random(1))
        for n in range(40):
            history.add(n, n, ("es", "el"))
        publisher = FeedPublisher(settings, store, notify=lambda urls: None)
        publisher.publish([Lang("es"), Lang("el")])
        history.add(40, 40, ("es", "el"))
        reads: list[str] = []
        publication = PublicationRepository(store)
        for name in ("translation_lines", "files"):
            real = getattr(publication, name)

            def spy(*args: object, _real: object = real, _name: str = name, **kwargs: object) -> object:
                whole = (_name == "translation_lines" and len(args) < 2 and "ids" not in kwargs) or (
                    _name == "files" and len(args) < 2 and "paths" not in kwargs and args[0] != ""
                )
                if whole:
                    reads.append(_name)
                return _real(*args, **kwargs)  # type: ignore[operator]

            setattr(publication, name, spy)
        rendered: list[str] = []
        publisher = FeedPublisher(settings, store, notify=lambda urls: None)
        publisher.publication = publication
        real_write = publisher.writer.write

        def write(path: Path, data: bytes) -> bool:
            rendered.append(str(path.relative_to(tmp_path)))
            return real_write(path, data)

        publisher.writer.write = write  # type: ignore[method-assign]
        assert publisher.publish([Lang("es"), Lang("el")]) > 0
        assert publisher.last_plan == "change" and reads == []
        slug = store.articles.get(history.ids[40]).slug  # type: ignore[union-attr]
        for code in ("es", "el"):
            mine = sorted(p for p in rendered if p.startswith((f"translations/{code}/", f"feeds/{code}/")))
            # The new page, the subscription documents (the oldest entry moves to the open
            # archive page), the front index page and the open archive pages, the sitemap
            # file it joins, the news sitemap and the index; no other page.
            pages = [p for p in mine if p.startswith(f"translations/{code}/") and "/archive/" not in p]
            assert [p for p in pages if not p.rsplit("/", 1)[1].startswith(("sitemap", "index"))] == [
                f"translations/{code}/{slug}.html"
            ]
            assert len(mine) <= 3 + 3 + 2 + 2 + 3, mine
    finally:
        store.close()


def _five_then_one(settings: Settings, seed: int) -> tuple[Store, History, FeedPublisher]:
    """Five Spanish articles published, then a sixth: the store (open), the history, and
    the publisher that published the sixth (its ``last_plan`` says how)."""
    store = Store.open(settings.state_dir)
    history = History(store, random.Random(seed))
    for n in range(5):
        history.add(n, n, ("es",))
    FeedPublisher(settings, store, notify=lambda urls: None).publish([Lang("es")])
    history.add(5, 5, ("es",))
    publisher = FeedPublisher(settings, store, notify=lambda urls: None)
    publisher.publish([Lang("es")])
    return store, history, publisher


def test_a_chain_of_links_plans_the_whole_history(tmp_path: Path) -> None:
    store, history, publisher = _five_then_one(settings_for(tmp_path, languages=("es",)), 2)
    try:
        assert publisher.last_plan == "change"
        history.add(6, 6, ("es",), prev=5)  # the source starts naming neighbours
        publisher.publish([Lang("es")])
        assert publisher.last_plan == "history"
        history.add(7, 7, ("es",))
        publisher.publish([Lang("es")])
        assert publisher.last_plan == "history"  # while any article names one
    finally:
        store.close()


@pytest.mark.parametrize(
    "rule",
    [{"review": {"es": "before"}}, {"quality": {"threshold": 0.5, "action": "hold"}}],
    ids=["reviewed before publishing", "low confidence held"],
)
def test_a_rule_that_holds_entries_back_plans_the_whole_history(tmp_path: Path, rule: dict[str, object]) -> None:
    """An entry held back can join the edition later, between older ones: only the whole
    plan places it. Without the rule, the same change is published alone."""
    for held in (False, True):
        settings = settings_for(tmp_path / str(held), languages=("es",), **(rule if held else {}))
        store, _, publisher = _five_then_one(settings, 4)
        store.close()
        assert publisher.last_plan == ("history" if held else "change")


def test_nothing_new_after_a_change_alone_reads_nothing(tmp_path: Path) -> None:
    store, _, publisher = _five_then_one(settings_for(tmp_path, languages=("es",)), 3)
    try:
        assert publisher.last_plan == "change"
        assert publisher.publish([Lang("es")]) == 0 and publisher.last_plan == ""
    finally:
        store.close()


def test_a_change_alone_on_postgresql_is_what_a_publish_from_scratch_makes(
    fresh_postgres_url: str, tmp_path: Path, small_sitemaps: None
) -> None:
    from sqlalchemy import text

    languages = (Lang("es"), Lang("el"))
    root = tmp_path / "incremental"
    settings = settings_for(root, languages)
    store = Store.from_url(fresh_postgres_url)
    try:
        history = History(store, random.Random(99))
        plans = []
        for n in range(16):
            if n % 5 == 4:
                history.edit(n - 2, "es")
            history.add(n, n - 8.5 if n % 7 == 6 else n, ("es", "el"))  # some are backfills
            publisher = FeedPublisher(settings, store, notify=lambda urls: None)
            publisher.publish(languages)
            plans.append(publisher.last_plan)
        assert plans[0] == "history" and set(plans[1:]) == {"change"}
        # From scratch: the same store, its feed history kept, what was published forgotten.
        with store.transaction() as conn:
            conn.execute(text("DELETE FROM publish_state"))
            conn.execute(text("DELETE FROM published_file"))
        scratch = tmp_path / "scratch"
        publisher = FeedPublisher(settings_for(scratch, languages), store, notify=lambda urls: None)
        publisher.publish(languages)
        assert publisher.last_plan == "history"
    finally:
        store.close()
    mine, fresh = _outputs(root), _outputs(scratch)
    assert sorted(mine) == sorted(fresh)
    assert [k for k in mine if mine[k] != fresh[k]] == []
