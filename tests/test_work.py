"""The three units of work (``syndicate.work``): poll, translate, publish, over one store.

With a fake engine and folder sources written the way a drop folder fills: what each unit
stores and returns, the problems it reports as records, what a poll with nothing new
costs (no file read), and two polls of one source at once on one store.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from syndicate.cli import main
from syndicate.config import load_settings
from syndicate.errors import Problem
from syndicate.models import Lang
from syndicate.store import Store
from syndicate.translate.engines import Engines
from syndicate.work import Work, once
from tests.conftest import Clock, write_config
from tests.fakes import FakeEngine, tagged


def article(n: int, words: str = "") -> str:
    body = words or f"Story number {n} is about the harbour, the ferries and the people who work there."
    return f"Harbour Story {n}\n\n{body}\n\nThe council will meet again next week to discuss it.\n"


def folder_of(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    for n in range(1, count + 1):
        (folder / f"story-{n:03}.txt").write_text(article(n), encoding="utf-8")
    return folder


def engines_for(settings, engine: FakeEngine | None = None) -> Engines:  # type: ignore[no-untyped-def]
    engine = engine or FakeEngine("apertium", {("en", "es")}, tagged)
    return Engines(settings, {"apertium": lambda _s: engine})


def test_poll_stores_and_a_poll_with_nothing_new_reads_no_file(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, articles=folder_of(tmp_path, 5)))
    folder = tmp_path / "articles"
    store = Store.open(settings.state_dir)
    try:
        work = Work(settings, store, engines_for(settings), clock=Clock())
        first = work.poll("sample")
        assert (first.outcome, len(first.new), first.problems) == ("ok", 5, ())
        assert sorted(first.article_ids) == sorted(a.id for a in store.articles.all())
        # The cursor is what the source wrote; how it was read is kept beside it.
        status = store.sources.get("sample")
        assert set(status.cursor) == {"files"} and status.reader

        # The same bytes in place, size and time unchanged: not read again. A file whose
        # content changed behind an unchanged size and mtime proves it (only a read would see it).
        victim = folder / "story-002.txt"
        info = victim.stat()
        victim.write_text(article(2).replace("harbour", "HARBOUR"), encoding="utf-8")
        os.utime(victim, ns=(info.st_atime_ns, info.st_mtime_ns))
        second = work.poll("sample")
        assert (second.outcome, second.items_seen, second.new, second.updated) == ("not-modified", 0, (), ())

        # A changed file (a new mtime) and a new one are read, and only they.
        victim.write_text(article(2, "The ferry timetable changes on Monday for the whole summer."), encoding="utf-8")
        os.utime(victim, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
        (folder / "story-006.txt").write_text(article(6), encoding="utf-8")
        third = work.poll("sample")
        assert (third.outcome, third.items_seen, len(third.new), len(third.updated)) == ("ok", 2, 1, 1)

        # Changed reading settings read every file again (stored articles get the new reading).
        changed = load_settings(write_config(tmp_path, extra='[extract]\nchrome_lines = ["Advertisement"]\n'))
        again = Work(changed, store, engines_for(changed), clock=Clock()).poll("sample")
        assert again.items_seen == 6
        assert again.status is not None and again.status.reader not in (None, status.reader)
        assert set(again.status.cursor) == {"files"}
    finally:
        store.close()


def test_problems_are_records_with_their_fields_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = folder_of(tmp_path, 2)
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02 not an article")
    config = write_config(tmp_path, articles=folder, languages=("es", "fr"))
    settings = load_settings(config)
    store = Store.open(settings.state_dir)
    try:
        work = Work(settings, store, engines_for(settings), clock=Clock())
        poll = work.poll("sample")
        assert poll.outcome == "partial" and len(poll.new) == 2
        by_item = {p.item: p for p in poll.problems}
        assert set(by_item) == {"empty.txt", "binary.txt"}
        empty = by_item["empty.txt"]
        assert (empty.stage, empty.source, empty.language) == ("extract", "sample", None)
        assert empty.message == "the file is empty" and empty.fix
        # The source's record counts from the records, and names the last one.
        assert poll.status is not None and poll.status.items_failed == 2
        assert poll.status.last_error == str(poll.problems[-1])

        french = work.translate("fr")  # no engine serves en->fr
        assert french.written == () and french.problems == ()
        (unserved,) = french.unserved
        assert (unserved.stage, unserved.language) == ("translate", "fr")
        assert "en->fr" in unserved.message and "syndicate models install en fr" in (unserved.fix or "")
        assert len(work.translate("es").written) == 2
    finally:
        store.close()

    # The CLI prints the same records: one line per failed item, the unserved pair apart.
    code = main(["once", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 1
    assert "2 item(s) failed:" in err
    assert "  [sample] empty.txt: the file is empty (fix: " in err
    assert "language not served: no engine can translate en->fr" in err


def test_two_polls_of_one_source_at_once_leave_no_duplicate(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, articles=folder_of(tmp_path, 40)))
    stores = [Store.open(settings.state_dir) for _ in range(2)]  # two processes' worth of connections
    outcomes: list[object] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def poll(store: Store) -> None:
        try:
            work = Work(settings, store, engines_for(settings), clock=Clock())
            start.wait()
            outcomes.append(work.poll("sample"))
        except BaseException as exc:  # noqa: BLE001 - the main thread re-raises what the worker met
            errors.append(exc)

    threads = [threading.Thread(target=poll, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        assert len(outcomes) == 2 and all(o.outcome in ("ok", "not-modified") for o in outcomes)  # type: ignore[attr-defined]
        assert all(not o.problems for o in outcomes)  # type: ignore[attr-defined]
        articles = stores[0].articles.all()
        assert len(articles) == 40
        assert len({(a.article.source, a.article.key) for a in articles}) == 40
        assert len({a.slug for a in articles}) == 40
        # Between them the two polls stored each article once as new.
        assert sum(len(o.new) for o in outcomes) == 40  # type: ignore[attr-defined]
    finally:
        for store in stores:
            store.close()


def test_translate_is_batched_and_idempotent(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, articles=folder_of(tmp_path, 12)))
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    store = Store.open(settings.state_dir)
    try:
        work = Work(settings, store, engines_for(settings, engine), clock=Clock())
        poll = work.poll("sample")
        first = work.translate("es", poll.article_ids)
        assert len(first.written) == 12 and first.segments_translated > 0
        calls = len(engine.calls)
        assert calls <= 2  # the batch's segments go in one call per group, not one per article
        again = work.translate("es")
        assert (again.written, again.segments_translated, len(engine.calls)) == ((), 0, calls)
        assert work.publish("es").files_written > 0
        assert work.publish("es").files_written == 0  # nothing changed: nothing written
    finally:
        store.close()


def test_a_pass_reads_as_many_articles_as_the_counts_say_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 23: a pass into a language asks the counts the store keeps how many articles
    wait, and reads the newest until it found that many: none when all are translated (or
    held back), a new one at the top, an edited old one further down; never a scan of the
    whole history."""
    from syndicate.store.articles import ArticleRepository

    settings = load_settings(write_config(tmp_path, articles=folder_of(tmp_path, 6)))
    engine = FakeEngine("apertium", {("en", "es")}, tagged)
    store = Store.open(settings.state_dir)
    scans: list[tuple[str, int | None]] = []
    whole, newest = ArticleRepository.pending_translation, ArticleRepository.newest_pending

    def scan(self: ArticleRepository, language: Lang, sources: object = None) -> list[int]:
        scans.append((language, None))
        return whole(self, language, sources)  # type: ignore[arg-type]

    def top(self: ArticleRepository, language: Lang, sources: object, count: int) -> list[int]:
        scans.append((language, count))
        return newest(self, language, sources, count)  # type: ignore[arg-type]

    monkeypatch.setattr(ArticleRepository, "pending_translation", scan)
    monkeypatch.setattr(ArticleRepository, "newest_pending", top)
    folder = tmp_path / "articles"
    try:
        work = Work(settings, store, engines_for(settings, engine), clock=Clock())
        work.poll("sample")
        assert len(work.translate("es").written) == 6 and scans == [("es", 6)]
        calls = len(engine.calls)
        # Nothing new: nothing read, no engine call.
        assert work.translate("es").written == () and not work.waiting("es")
        assert scans[-1] == ("es", 0) and len(engine.calls) == calls
        # One new and one edited old article: two wait, and both are found.
        (folder / "story-007.txt").write_text(article(7), encoding="utf-8")
        edited = folder / "story-003.txt"
        edited.write_text(article(3, "The ferry timetable changes on Monday for the whole summer."), encoding="utf-8")
        os.utime(edited, ns=(edited.stat().st_atime_ns, edited.stat().st_mtime_ns + 2_000_000_000))
        work.poll("sample")
        assert work.waiting("es")
        done = work.translate("es")
        assert len(done.written) == 2 and scans[-1] == ("es", 2)
        assert not work.waiting("es") and work.translate("es").written == () and scans[-1] == ("es", 0)
        assert ("es", None) not in scans
        # A pass asked for some articles (a cluster's task) translates those, not every one waiting.
        (folder / "story-009.txt").write_text(article(9), encoding="utf-8")
        (folder / "story-010.txt").write_text(article(10), encoding="utf-8")
        batch = sorted(work.poll("sample").article_ids)
        assert len(batch) == 2 and work.translate("es", batch[:1]).written == (batch[0],)
        assert work.translate("es").written == (batch[1],)
    finally:
        store.close()

    # A new article its source's filter holds back: waiting, but not taken, nor waited for.
    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + 'include = ["harbour"]\n', encoding="utf-8")
    filtered = load_settings(config)
    (folder / "story-008.txt").write_text("Ferry Story\n\nThe ferries run late again today.\n", encoding="utf-8")
    store = Store.open(filtered.state_dir)
    try:
        work = Work(filtered, store, engines_for(filtered, engine), clock=Clock())
        assert len(work.poll("sample").new) == 1
        assert work.translate("es").written == () and not work.waiting("es") and scans[-1] == ("es", 1)
    finally:
        store.close()


def test_a_source_added_without_a_language_of_its_own_checks_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 23: adding a source is routine; unless it declares a source language (or is
    translated by title only) it changes no translation already made, and checking every
    one of them again (loading each article, finding its names) cost minutes at 10,000
    articles in 20 languages. A source that declares a language still does."""
    settings = load_settings(write_config(tmp_path, articles=folder_of(tmp_path, 4)))
    store = Store.open(settings.state_dir)
    checked: list[str] = []
    real = Work._rules_changed

    def counting(self: Work, language: Lang) -> list[int]:
        checked.append(language)
        return real(self, language)

    monkeypatch.setattr(Work, "_rules_changed", counting)
    (tmp_path / "wire").mkdir()

    def with_source(extra: str) -> Work:
        config = write_config(tmp_path)
        text = (
            config.read_text(encoding="utf-8")
            + f'\n[[sources]]\nname = "wire"\ntype = "folder"\npath = "wire"\n{extra}'
        )
        config.write_text(text, encoding="utf-8")
        changed = load_settings(config)
        return Work(changed, store, engines_for(changed), clock=Clock())

    try:
        work = Work(settings, store, engines_for(settings), clock=Clock())
        work.poll("sample")
        assert len(work.translate("es").written) == 4 and checked == ["es"]  # the first pass checks
        assert with_source("").translate("es").written == () and checked == ["es"]
        # The fingerprint a release before this one stored (every source's name in it) is
        # taken as the same settings, and replaced.
        plain = Work(settings, store, engines_for(settings), clock=Clock())
        store.translations.settings_checked(Lang("es"), plain._translate_fingerprint(Lang("es"), every_source=True), [])
        assert plain.translate("es").written == () and checked == ["es"]
        assert not store.translations.settings_changed(Lang("es"), plain._translate_fingerprint(Lang("es")))
        # A source that declares its language: checked again.
        assert with_source('language = "de"\n').translate("es").written == () and checked == ["es", "es"]
    finally:
        store.close()


def test_a_corrected_source_language_redoes_its_articles_whatever_cuts_a_pass_short(tmp_path: Path) -> None:
    config = write_config(tmp_path, articles=folder_of(tmp_path, 3))
    settings = load_settings(config)
    es = Lang("es")
    store = Store.open(settings.state_dir)

    def made_from() -> dict[int, str]:
        return {aid: t.source_hash.rsplit(":", 1)[1] for aid, t in store.translations.for_language(es).items()}

    try:
        work = Work(settings, store, engines_for(settings), clock=Clock())
        ids = work.poll("sample").article_ids
        assert len(work.translate("es").written) == 3 and set(made_from().values()) == {"en"}
        assert not work.waiting(es)

        # The operator corrects the source's language: every article is to be translated
        # from German now, though none of them changed.
        config.write_text(config.read_text(encoding="utf-8") + 'language = "de"\n', encoding="utf-8")
        german = load_settings(config)
        engine = FakeEngine("apertium", {("en", "es"), ("de", "es")}, tagged)
        assert Work(german, store, engines_for(german, engine), clock=Clock()).waiting(es)

        # Some articles only (a cluster's batch): the others stay listed.
        just_one = Work(german, store, engines_for(german, engine), clock=Clock()).translate("es", ids[:1])
        assert just_one.written == ids[:1]
        assert store.translations.recheck(es) == sorted(ids[1:])
        # A pass asked to stop before it began, and one killed half-way (a ^C inside the
        # engine): nothing is lost from the list.
        stopping = Work(german, store, engines_for(german, engine), clock=Clock(), should_stop=lambda: True,
                        translate_grace=0.0).translate("es")  # fmt: skip
        assert stopping.stopped and store.translations.recheck(es) == sorted(ids[1:])

        def killed(_segment: str, _source: str, _target: str) -> str:
            raise KeyboardInterrupt

        dying = FakeEngine("apertium", {("en", "es"), ("de", "es")}, killed)
        with pytest.raises(KeyboardInterrupt):
            Work(german, store, engines_for(german, dying), clock=Clock()).translate("es")
        assert store.translations.recheck(es) == sorted(ids[1:])
        # A pass where German has no engine: they wait, listed, and the rest is unaffected.
        english_only = FakeEngine("apertium", {("en", "es")}, tagged)
        unserved = Work(german, store, engines_for(german, english_only), clock=Clock()).translate("es")
        assert unserved.unserved and store.translations.recheck(es) == sorted(ids[1:])

        # The next full pass redoes exactly the two left over, and then nothing is listed.
        rest = Work(german, store, engines_for(german, engine), clock=Clock()).translate("es")
        assert sorted(rest.written) == sorted(ids[1:]) and set(made_from().values()) == {"de"}
        assert store.translations.recheck(es) == []
        calls = len(engine.calls)
        after = Work(german, store, engines_for(german, engine), clock=Clock())
        assert not after.waiting(es)
        assert (after.translate("es").written, len(engine.calls)) == ((), calls)
    finally:
        store.close()


def test_once_closes_only_the_engines_it_opened(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, articles=folder_of(tmp_path, 2)))
    closed: list[str] = []

    class Closing(FakeEngine):
        def close(self) -> None:
            closed.append(self.name)

    engine = Closing("apertium", {("en", "es")}, tagged)
    store = Store.open(settings.state_dir)
    try:
        with Engines(settings, {"apertium": lambda _s: engine}) as engines:
            report = once(settings, store, engines=engines, clock=Clock())
            assert report.ok and report.articles_new == 2
            assert closed == []  # borrowed: still open for the next unit
        assert closed == ["apertium"]  # closed by its owner, at the end
    finally:
        store.close()


def test_a_problem_reads_like_the_error_it_came_from() -> None:
    from syndicate.errors import ItemError, SourceError

    item = ItemError("the file is empty", source="sample", item="a.txt", hint="write the article into it")
    assert str(item.problem("extract")) == str(item)
    source = SourceError("HTTP 404 Not Found", source="wire", hint="check the URL in config.toml")
    problem = source.problem("fetch")
    assert problem == Problem("fetch", "HTTP 404 Not Found", source="wire", fix="check the URL in config.toml")
    assert str(problem) == str(source)
