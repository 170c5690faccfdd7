"""RFC 5005 archives: stable membership, full pages that never change, complete chains."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import text

from syndicate.models import Article, Lang, Paragraph
from syndicate.publish.formats import FORMATS
from syndicate.store import Store
from tests.conftest import Clock
from tests.publish import feedcheck
from tests.publish.helpers import chain_article, run, script_engine, scripted, url_path, write_feed_config

NS = {"a": feedcheck.ATOM}
ES = Lang("es")
WORDS = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Ivy", "Juniper"]


# -- the store: FeedHistory -------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "state")
    yield store
    store.close()


def _articles(store: Store, n: int) -> list[int]:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        store.articles.upsert(Article(source="s", key=f"k{i}", title=f"Title {i}", blocks=(Paragraph("p"),)), now)[0].id
        for i in range(n)
    ]


def test_overflow_fills_pages_oldest_first_and_opens_the_next_when_full(store: Store) -> None:
    history = store.history
    ids = _articles(store, 9)  # ids[0] is the oldest
    layout = history.place(ES, list(reversed(ids[:3])), feed_size=2)
    assert set(layout.current) == set(ids[1:3])
    assert [(p.number, p.article_ids, p.full) for p in layout.pages] == [(1, (ids[0],), False)]
    layout = history.place(ES, list(reversed(ids[:4])), feed_size=2)
    # Page 1 is full: page 2 is opened at once, empty, so page 1's next-archive is final.
    assert [(p.number, p.article_ids, p.full) for p in layout.pages] == [(1, (ids[0], ids[1]), True), (2, (), False)]
    assert set(layout.current) == set(ids[2:4])
    layout = history.place(ES, list(reversed(ids)), feed_size=2)
    assert [p.article_ids for p in layout.pages] == [(ids[0], ids[1]), (ids[2], ids[3]), (ids[4], ids[5]), (ids[6],)]
    assert set(layout.current) == set(ids[7:])
    # Placing the same entries again changes nothing.
    assert history.place(ES, list(reversed(ids)), feed_size=2) == layout


def test_membership_survives_backfill_reordering_and_a_new_feed_size(store: Store) -> None:
    history = store.history
    ids = _articles(store, 7)
    first = history.place(ES, list(reversed(ids[1:6])), feed_size=2)
    pages = {p.number: p.article_ids for p in first.pages}
    # ids[0] turns up late although it is the oldest: it joins the subscription feed (a
    # reader sees it there) and nothing already archived moves.
    later = history.place(ES, [*reversed(ids[1:6]), ids[0]], feed_size=2)
    assert {p.number: p.article_ids for p in later.pages}[1] == pages[1]
    assert ids[0] in later.current
    # Order of the input does not matter: membership is by first publication.
    assert history.place(ES, list(ids[:6]), feed_size=2) == later
    # A bigger feed_size keeps full pages as they are; new pages get the new capacity.
    bigger = history.place(ES, [ids[6], *reversed(ids[:6])], feed_size=3)
    assert [p.capacity for p in bigger.pages][:2] == [2, 2]
    assert [p.article_ids for p in bigger.pages if p.full] == [p.article_ids for p in later.pages if p.full]
    assert [p.capacity for p in bigger.pages] == [2, 2, 2]  # page 3 was opened at size 2
    # Languages are independent.
    assert history.place(Lang("el"), list(reversed(ids)), feed_size=50).pages == ()


def test_freeze_keeps_the_first_documents(store: Store) -> None:
    history = store.history
    assert history.frozen(ES, 1) == {}
    assert history.freeze(ES, 1, {"atom": b"first", "rss": b"r"}) == {"atom": b"first", "rss": b"r"}
    assert history.freeze(ES, 1, {"atom": b"second", "json": b"j"}) == {"atom": b"first", "rss": b"r", "json": b"j"}
    assert history.frozen(ES, 1) == {"atom": b"first", "rss": b"r", "json": b"j"}


def test_frozen_documents_are_stored_compressed_and_read_back_whole(store: Store) -> None:
    # A page of 50 entries with their whole content: the store keeps a fraction of it,
    # gives back the same bytes, and reports the document's own size (what is served).
    entry = "<entry><title>Ayuntamiento aprueba el presupuesto</title><content>{}</content></entry>"
    atom = "<?xml version='1.0'?><feed>" + "".join(entry.format("texto " * (40 + i)) for i in range(50)) + "</feed>"
    documents = {"atom": atom.encode(), "json": json.dumps({"items": list(range(500))}).encode()}
    store.history.freeze(ES, 1, documents)
    store.history.refreeze(ES, 2, documents)
    assert store.history.frozen(ES, 1) == documents == store.history.frozen(ES, 2)
    assert store.history.frozen_sizes(ES) == {(n, fmt): len(body) for n in (1, 2) for fmt, body in documents.items()}
    with store.engine.connect() as conn:
        held = conn.execute(text("SELECT sum(length(body)) FROM archive_documents WHERE page = 1")).scalar_one()
    assert held < sum(map(len, documents.values())) / 5


def test_documents_frozen_before_compression_are_read_as_they_are(store: Store) -> None:
    # Rows from before revision 0016 hold the document itself and no size.
    with store.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO archive_documents (language, page, format, body) VALUES ('es', 3, 'rss', :body)"),
            {"body": b"<rss>old</rss>"},
        )
    assert store.history.frozen(ES, 3) == {"rss": b"<rss>old</rss>"}
    assert store.history.frozen_sizes(ES) == {(3, "rss"): len(b"<rss>old</rss>")}
    assert store.history.freeze(ES, 3, {"rss": b"<rss>new</rss>", "atom": b"<feed/>"}) == {
        "rss": b"<rss>old</rss>",
        "atom": b"<feed/>",
    }


def test_two_publishers_at_once_agree(tmp_path: Path) -> None:
    setup = Store.open(tmp_path / "state")
    ids = _articles(setup, 12)
    setup.close()
    results: list[object] = []

    def publish() -> None:
        store = Store.open(tmp_path / "state")
        try:
            for n in range(3, 13):
                results.append(store.history.place(ES, list(reversed(ids[:n])), feed_size=2))
        except Exception as exc:  # noqa: BLE001  (reported below)
            results.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [r for r in results if isinstance(r, Exception)]
    store = Store.open(tmp_path / "state")
    final = store.history.place(ES, list(reversed(ids)), feed_size=2)
    store.close()
    placed = [i for p in final.pages for i in p.article_ids] + list(final.current)
    assert sorted(placed) == sorted(ids)  # every entry exactly once
    assert [len(p.article_ids) for p in final.pages] == [2, 2, 2, 2, 2, 0]


# -- the published documents over many runs ---------------------------------------------


def _add(folder: Path, titles: list[str], index: int, *, previous: bool = True) -> None:
    """Write article ``index`` of the chain ``titles`` (oldest first)."""
    title = titles[index]
    prev_title = titles[index - 1] if previous and index > 0 else None
    next_title = titles[index + 1] if index + 1 < len(titles) else None
    body = f"The {title.split()[-1]} story is told here. It has two sentences."
    (folder / f"{index:02d}.txt").write_text(chain_article(title, prev_title, next_title, body), encoding="utf-8")


def _walk(root: Path, fmt: str) -> list[tuple[Path, list[str]]]:
    """Follow prev-archive (JSON: next_url) from the subscription document: (doc, ids)."""
    path = root / "feeds" / "es" / FORMATS[fmt].file
    out: list[tuple[Path, list[str]]] = []
    seen: set[Path] = set()
    while True:
        assert path not in seen, f"prev-archive loop at {path}"
        seen.add(path)
        data = path.read_bytes()
        if fmt == "json":
            doc = json.loads(data)
            out.append((path, [i["id"] for i in doc["items"]]))
            older = doc.get("next_url")
        else:
            tree = etree.fromstring(data)
            query = "//a:entry/a:id/text()" if fmt == "atom" else "//item/guid/text()"
            ids = tree.xpath(query, namespaces=NS)
            out.append((path, [str(i) for i in ids]))
            hrefs = tree.xpath("//a:link[@rel='prev-archive']/@href", namespaces=NS)
            older = hrefs[0] if hrefs else None
        if not older:
            return out
        path = url_path(root, older)


def test_runs_over_time_never_change_a_full_archive_and_every_entry_is_reachable_once(tmp_path: Path) -> None:
    titles = [f"Harbour News {word}" for word in WORDS]  # oldest first
    backfill = "Harbour News Aardvark"  # older than all of them, arrives late
    folder = tmp_path / "articles"
    folder.mkdir()
    config = write_feed_config(tmp_path, languages=("es",), feed_size=2, articles=folder)
    clock = Clock()
    engine = script_engine("es")
    full_docs: dict[Path, bytes] = {}
    page_of: dict[str, Path] = {}

    def check_run(expected_entries: int) -> None:
        _, report = run(config, clock, engine)
        assert report.ok, report.failures
        clock.advance(hours=1)
        for fmt in FORMATS:
            walk = _walk(tmp_path, fmt)
            ids = [i for _, doc_ids in walk for i in doc_ids]
            assert len(ids) == len(set(ids)) == expected_entries, (fmt, ids)
            for path, doc_ids in walk:
                assert feedcheck.feed_problems(path) == [], path
                if path.parent.name == "archive":
                    for entry_id in doc_ids:
                        assert page_of.setdefault(f"{fmt}:{entry_id}", path) == path  # never moves
                    if len(doc_ids) == 2:  # full
                        assert full_docs.setdefault(path, path.read_bytes()) == path.read_bytes(), path
        for path, data in full_docs.items():
            assert path.read_bytes() == data, f"full archive document changed: {path}"

    for i in range(3):
        _add(folder, titles, i)
    check_run(3)
    _add(folder, titles, 3)
    check_run(4)
    for i in range(4, 7):
        _add(folder, titles, i)
    check_run(7)
    assert len(full_docs) >= 2 * 3  # pages 1 and 2, in three formats

    # Backfill: an article older than every other one shows up now.
    old_story = chain_article(backfill, None, titles[0], "The Aardvark story is old.")
    (folder / "zz.txt").write_text(old_story, encoding="utf-8")
    check_run(8)
    # It is in the subscription feed (readers see it), at the end: it is the oldest.
    current = etree.parse(str(tmp_path / "feeds" / "es" / "atom.xml")).getroot()
    # ("News Aardvark", capitalised after the sentence start, reads as a name: kept as it is.)
    assert current.xpath("a:entry/a:title/text()", namespaces=NS)[-1] == scripted("Harbour", "es") + " News Aardvark"
    # An edit to an archived article re-translates its page, but its full page stays.
    page = tmp_path / "translations" / "es"
    before = {str(p.relative_to(page)): p.read_bytes() for p in page.rglob("*") if p.is_file()}
    edited = (folder / "00.txt").read_text(encoding="utf-8").replace("two sentences", "three sentences")
    (folder / "00.txt").write_text(edited, encoding="utf-8")
    check_run(8)
    after = {str(p.relative_to(page)): p.read_bytes() for p in page.rglob("*") if p.is_file()}
    # Its page, and the sitemap that lists it with its new lastmod (and the index that
    # says that sitemap changed): nothing else.
    assert sorted(name for name in before if before[name] != after[name]) == [
        "harbour-news-alder.html",
        "sitemap-1.xml",
        "sitemap.xml",
    ]
    for i in range(7, 10):
        _add(folder, titles, i)
        check_run(8 + i - 6)
    assert len(full_docs) >= 4 * 3


def test_feed_size_is_validated_with_its_key(tmp_path: Path) -> None:
    from syndicate.config import load_settings
    from syndicate.errors import ConfigError

    assert load_settings(write_feed_config(tmp_path, languages=("es",))).output.feed_size == 50
    config = write_feed_config(tmp_path, languages=("es",), feed_size=0)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "output.feed_size" in str(caught.value)
