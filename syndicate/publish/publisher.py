"""The incremental publisher: per-language feeds and archives, translated pages, indexes
and sitemaps, from the store.

A publish costs what changed (see :mod:`syndicate.publish.plan`): the store's change
numbers say whether anything a language is made from changed since its last publish;
if something did, the language is planned from light columns only, and just the files
whose input digest moved (or that vanished from disk) are rendered, with the bodies of
just the entries they show.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate import metrics
from syndicate.config import Settings
from syndicate.errors import PublishError, StoreError
from syndicate.models import Lang
from syndicate.publish.edition import (
    Edition,
    FeedEntry,
    ListedEntry,
    feed_entry,
)
from syndicate.publish.formats import FORMATS
from syndicate.publish.history import INDEX_FORMAT, FeedPage, feed_pages, index_path
from syndicate.publish.plan import (
    feed_digest,
    language_index_digest,
    plan_edition,
    scope_fingerprint,
    settings_fingerprint,
    site_digest,
    site_editions,
    sitemap_digest,
)
from syndicate.publish.writer import FileWriter
from syndicate.store import FeedHistory, Store
from syndicate.store.publication import (
    ArticleLine,
    PublicationRepository,
    PublishedFile,
    PublishState,
    TranslationLine,
)

if TYPE_CHECKING:
    from syndicate.publish import delta

logger = logging.getLogger(__name__)

#: The publish scope of the site-wide files (feeds/index.html, feeds/opml.xml).
SITE = ""
#: The digest recorded for a full archive page: its documents are frozen in the store.
FROZEN = "frozen"
#: Entries whose bodies are loaded at a time: memory stays flat however long the history.
BATCH = 200


@dataclass(frozen=True)
class Renderers:
    """The functions that turn records into bytes; a test passes counting ones."""

    page: Callable[[Settings, Edition, FeedEntry], bytes]
    language_index: Callable[[Settings, FeedPage], bytes]  # a page of translations/<lang>/'s index
    index: Callable[[Settings, Sequence[Edition]], bytes]
    opml: Callable[[Settings, Sequence[Edition]], bytes]
    feeds: Mapping[str, Callable[[Settings, FeedPage], bytes]]  # format -> renderer


def default_renderers() -> Renderers:
    """Jinja2 pages and feedgen documents (imported here: both are heavy)."""
    from syndicate.publish.formats import renderers
    from syndicate.publish.pages import (
        index_bytes,
        language_index_bytes,
        opml_bytes,
        page_bytes,
    )

    return Renderers(page_bytes, language_index_bytes, index_bytes, opml_bytes, renderers())


def _without_held(
    settings: Settings,
    translated: dict[Lang, dict[int, TranslationLine]],
    articles: Sequence[ArticleLine] = (),
    filtered: Collection[int] = (),
) -> dict[Lang, dict[int, TranslationLine]]:
    """Each language's translations less those held back: of an article its source's
    keyword filters leave out (``filtered``, [[sources]] include / exclude), of a source
    whose articles do not go into the language ([[sources]] languages), under the language's confidence
    threshold where its action is "hold" ([translate.quality]), and not yet approved by
    an editor where it is reviewed "before" publishing ([translate.review])."""
    out: dict[Lang, dict[int, TranslationLine]] = {}
    source_of = (
        {line.id: line.source for line in articles} if any(s.languages is not None for s in settings.sources) else {}
    )
    for language, lines in translated.items():
        if filtered:
            lines = {aid: line for aid, line in lines.items() if aid not in filtered}
        into = settings.sources_into(language)
        if into is not None:
            allowed = set(into)
            lines = {aid: line for aid, line in lines.items() if source_of.get(aid) in allowed}
        if settings.translate.review_mode(language) == "before":
            lines = {aid: line for aid, line in lines.items() if line.approved}
        rule = settings.translate.quality.of(language)
        if rule.action != "hold" or rule.threshold <= 0:
            out[language] = lines
            continue
        out[language] = {  # an editor's approval vouches for it whatever the engines said
            aid: line
            for aid, line in lines.items()
            if line.approved or line.confidence is None or line.confidence >= rule.threshold
        }
    return out


def check_history(settings: Settings, store: Store) -> None:
    """Raise :class:`~syndicate.errors.HistoryLostError` when a language's feeds are on
    disk (a subscription feed, archive pages) but the store has no record of ever
    publishing it: the store was emptied, replaced or is another one than before."""
    from syndicate.errors import HistoryLostError

    publication = PublicationRepository(store)
    lost = []
    retired = publication.retired()  # configured again: its history is in the store
    for language in settings.translate.languages:
        folder = settings.feeds_dir / language
        if publication.state(language) is not None or language in retired or not folder.is_dir():
            continue
        pages = list((folder / "archive").glob("*.xml")) if (folder / "archive").is_dir() else []
        if pages or (folder / "atom.xml").exists():
            lost.append(f"{language} ({folder}: {len(pages)} archive page(s))")
    if lost:
        raise HistoryLostError(
            f"the store ({store.engine.url.render_as_string(hide_password=True)}) has no record of publishing "
            f"{', '.join(lost)}, whose feeds are on disk: it was emptied, replaced or is not the one that "
            "published them, and publishing now would rewrite archives readers already have",
            path=settings.feeds_dir,
            hint="restore the store from a backup (or point the config at the right one); to start the history "
            "over, run once with --reinitialise",
        )


@dataclass(frozen=True)
class _Snapshot:
    """What one publish of the whole history read of the store: light columns only."""

    watermark: int
    fingerprint: str
    lines: Mapping[int, ArticleLine]  # by id, in id order
    translated: Mapping[Lang, Mapping[int, TranslationLine]]  # configured order
    publishing: Sequence[Lang]
    links: bool  # whether any article names a neighbour


class FeedPublisher:
    """Rebuilds the outputs of the given languages from the store, rendering only what changed.

    Safe to run twice at once and idempotent: each file is rendered from stored data only
    and renamed into place; archive membership and the documents of full archive pages
    come from the store (:class:`FeedHistory`), so they never change once written.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        writer: FileWriter | None = None,
        *,
        notify: Callable[[Sequence[str]], None] | None = None,
        renderers: Renderers | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.writer = writer or FileWriter()
        self.history = FeedHistory(store)
        self.publication = PublicationRepository(store)
        self._renderers = renderers
        #: Whether the language being published has its folders as its last publish left them.
        self._trusted = False
        self._feeds_root, self._pages_root = str(settings.feeds_dir), str(settings.translations_dir)
        #: Told the URLs of the subscription feeds a publish changed (WebSub pings); by
        #: default the configured hubs' :class:`~syndicate.publish.websub.HubNotifier`.
        self.notify = notify if notify is not None else _default_notifier(settings, store)
        #: The subscription-feed URLs whose bytes the last :meth:`publish` changed.
        self.changed_feeds: tuple[str, ...] = ()
        #: How the last :meth:`publish` planned: "change" (what changed alone, see
        #: :mod:`syndicate.publish.delta`), "history" (everything), "" (nothing to do).
        self.last_plan = ""

    @property
    def renderers(self) -> Renderers:
        if self._renderers is None:
            self._renderers = default_renderers()
        return self._renderers

    def publish_language(self, language: Lang) -> int:
        """Publish one language (the orchestrator's unit of work); see :meth:`publish`."""
        return self.publish([language])

    def publish(self, languages: Sequence[Lang]) -> int:
        """Write feeds, archives and pages for ``languages``, and the site index and OPML;
        return the number of files changed.

        When nothing they are made from changed since their last publish (the store's
        change number and the settings fingerprint are the same, every file recorded is
        on disk at its size), this renders nothing and reads no output file.

        A :class:`PublishError` is recorded in the store for each language before it is
        raised (``/status``, ``syndicate status`` and ``/metrics`` show it), and the
        next publish that succeeds records the recovery.
        """
        wanted = list(dict.fromkeys(languages))
        try:
            changed = self._publish(wanted)
        except PublishError as exc:
            metrics.record_publish_failure()
            try:
                self.publication.record_failure(wanted, str(exc), datetime.now(UTC))
            except StoreError as store_exc:  # the store's disk is full too: the log still says it
                logger.warning("could not record the failed publish in the store: %s", store_exc)
            raise
        self.publication.record_success(wanted, datetime.now(UTC))
        return changed

    def _publish(self, languages: Sequence[Lang]) -> int:
        started = time.monotonic()
        self._feeds_root, self._pages_root = str(self.settings.feeds_dir), str(self.settings.translations_dir)
        wanted = list(dict.fromkeys(languages))
        # The indexes and alternates span every configured language that publishes.
        configured = list(dict.fromkeys([*self.settings.translate.languages, *wanted]))
        fingerprint = settings_fingerprint(self.settings, configured)
        watermark = self.publication.watermark()
        changed = self._retire([*self.settings.translate.languages, *wanted])
        changed_feeds: list[str] = []
        if not all(self._in_place(scope, watermark, fingerprint) for scope in [*wanted, SITE]):
            held = self.store.filters.held_back()
            found = self._change(wanted, configured, fingerprint, held)
            if found is not None:  # a small change: planned and published alone
                change, markers = found
                self.last_plan = "change"
                for language in wanted:
                    changed += self._publish_change(language, change, markers[language], watermark, changed_feeds)
                changed += self._publish_site(watermark, fingerprint, change.sizes, change.publishing)
            else:
                self.last_plan = "history"
                with _paused_gc():
                    lines = self.publication.article_lines()
                    translated = _without_held(
                        self.settings, self.publication.translation_lines(configured), lines, held
                    )
                snapshot = _Snapshot(
                    watermark=watermark,
                    fingerprint=fingerprint,
                    lines={line.id: line for line in lines},
                    translated=translated,
                    publishing=[language for language in configured if translated[language]],
                    links=self.publication.any_links(),
                )
                for language in wanted:
                    changed += self._publish_language(language, snapshot, changed_feeds)
                sizes = {language: len(lines) for language, lines in translated.items()}
                changed += self._publish_site(watermark, fingerprint, sizes, snapshot.publishing)
        else:
            self.last_plan = ""
        metrics.record_publish(time.monotonic() - started, changed)
        self.changed_feeds = tuple(changed_feeds)
        if changed_feeds and self.notify is not None:
            self.notify(self.changed_feeds)  # queues the pings: never blocks or fails the publish
        return changed

    # -- is everything in place? ------------------------------------------------------

    def _in_place(self, scope: str, watermark: int, fingerprint: str) -> bool:
        """Nothing ``scope`` is made from changed, and its files are all there.

        The output folders' modification times, as the last publish left them, say that
        no file in them was added, removed or replaced since (a stat per folder); when one
        moved, every file recorded is checked (a stat each) and a missing one re-rendered.
        """
        state = self.publication.state(scope)
        if state != PublishState(watermark, scope_fingerprint(fingerprint, scope)):
            return False
        assert state is not None
        folders = self._folder_times(self._folders(scope))
        if state.folders and state.folders == folders:
            return True
        size = self.writer.size
        if not all(size(self._where(key)) == expected for key, expected in self.publication.sizes(scope)):
            return False
        # Every file is where it was left: the folders as they are now stand for that.
        self.publication.save_state(scope, PublishState(state.seq, state.fingerprint, folders, state.plan))
        return True

    def _folders(self, scope: str) -> list[str]:
        """The output folders ``scope``'s files are in (as recorded keys' roots)."""
        if scope == SITE:
            return ["feeds"]
        return [f"feeds/{scope}", f"feeds/{scope}/archive", f"pages/{scope}", f"pages/{scope}/archive"]

    def _folder_times(self, folders: Iterable[str]) -> dict[str, int]:
        """{folder: mtime_ns} of those that exist."""
        out = {}
        for folder in folders:
            try:
                out[folder] = os.stat(self._where(folder)).st_mtime_ns
            except OSError:
                continue
        return out

    def _where(self, key: str) -> str:
        """A recorded file's path: "feeds/..." under feeds_dir, "pages/..." under
        translations_dir (a string: tens of thousands are checked per publish)."""
        root, _, rest = key.partition("/")
        return f"{self._feeds_root if root == 'feeds' else self._pages_root}{os.sep}{rest}"

    def _path(self, key: str) -> Path:
        return Path(self._where(key))

    def _current(self, known: Mapping[str, tuple[str, int]], key: str, digest: str) -> bool:
        """``key`` was written from ``digest`` and is still on disk as written (a stat,
        unless :meth:`_unmoved` said no file in its folder was added, removed or replaced)."""
        found = known.get(key)
        if found is None or found[0] != digest:
            return False
        return self._trusted or self.writer.size(self._where(key)) == found[1]

    def _unmoved(self, scope: str) -> bool:
        """The output folders of ``scope`` are as its last completed publish left them
        (their modification times say so: a stat per folder), so every file it recorded
        is still in place and need not be stat'ed one by one."""
        return self._left_as(scope, self.publication.state(scope))

    def _left_as(self, scope: str, state: PublishState | None) -> bool:
        """:meth:`_unmoved`, with the state of ``scope`` the caller read."""
        if state is None or not state.folders:
            return False
        return state.folders == self._folder_times(self._folders(scope))

    def _write(self, key: str, data: bytes, digest: str, article_id: int | None = None) -> tuple[bool, PublishedFile]:
        return self.writer.write(self._path(key), data), PublishedFile(key, digest, len(data), article_id)

    # -- languages no longer configured ----------------------------------------------

    def _retire(self, configured: Sequence[Lang]) -> int:
        """Remove the outputs of every language published before and configured no more
        (the files its publishes recorded, then its folders if that leaves them empty),
        and record it as retired: ``serve`` answers its URLs ``410 Gone`` and ``status``
        lists it. The site index and OPML drop it with this publish (their inputs changed).
        Returns the number of files removed."""
        stale = sorted(self.publication.published_languages() - set(configured))
        removed = 0
        for language in stale:
            files = self.publication.files(language)
            removed += sum(self.writer.remove(self._path(key)) for key in files)
            for folder in (
                f"feeds/{language}/archive",
                f"feeds/{language}",
                f"pages/{language}/archive",
                f"pages/{language}",
            ):
                with contextlib.suppress(OSError):  # not empty (someone else's files), or gone
                    os.rmdir(self._where(folder))
            self.publication.retire(language, datetime.now(UTC), len(files))
            logger.info(
                "retired %s (no longer configured): %d file(s) removed; its translations stay in the store",
                language,
                len(files),
            )
        return removed

    # -- one language -----------------------------------------------------------------

    def _publish_language(self, language: Lang, snapshot: _Snapshot, changed_feeds: list[str]) -> int:
        fingerprint = scope_fingerprint(snapshot.fingerprint, language)
        with _paused_gc():
            edition = plan_edition(
                self.settings,
                language,
                tuple(snapshot.lines.values()),
                snapshot.translated,
                snapshot.publishing,
                fingerprint,
            )
            known = self.publication.files(language)
        if not known:  # a first publish, or a language configured again after it was retired
            self.publication.unretire([language])
        produced: set[str] = set()
        changed = 0
        self._trusted = self._unmoved(language)  # before this publish writes anything
        try:
            changed, seqs = self._publish_edition(edition, fingerprint, known, produced, changed_feeds)
            if edition.listing:
                changed += self._publish_sitemaps(edition, fingerprint, known, produced, snapshot.lines, seqs)
        finally:
            self._trusted = False
        gone = [key for key in known if key not in produced]
        if gone:
            # The page of an entry this language no longer publishes (its source's articles
            # no longer go into it, or it is held back now) leaves the folder; a page only
            # renamed (a new slug) stays where readers found it.
            listed = {entry.article_id for entry in edition.listing}
            for key, article_id in self.publication.articles_of(language, gone).items():
                if article_id is not None and article_id not in listed:
                    changed += self.writer.remove(self._path(key))
        self.publication.forget_files(language, gone)
        folders = self._folder_times(self._folders(language))
        from syndicate.publish import delta  # (lxml: loaded when something is published)

        plan = delta.marker(snapshot.publishing, snapshot.links, self.history, language)
        self.publication.save_state(language, PublishState(snapshot.watermark, fingerprint, folders, plan))
        return changed

    # -- one language, a small change ----------------------------------------------------

    def _change(
        self, wanted: Sequence[Lang], configured: Sequence[Lang], fingerprint: str, held: Collection[int]
    ) -> tuple[delta.Change, dict[Lang, delta.Marker]] | None:
        """The change to publish alone (see :mod:`syndicate.publish.delta`), or None: the
        whole history is planned. Each language's folders must be as its last publish
        left them, and its sitemap files on record with their dates."""
        from syndicate.publish import delta

        states = {language: self.publication.state(language) for language in wanted}
        for language, state in states.items():
            if self._left_as(language, state):
                continue
            if state is None or state.folders or self._folder_times(self._folders(language)):
                return None
            # A language with nothing published yet has no folders to trust: nothing to
            # publish again either (the change path leaves an empty language as it is).
        from syndicate.publish.sitemaps import part_number

        for language in wanted:
            recorded = self.publication.sitemap_files(language, f"pages/{language}/sitemap-")
            if any(
                lastmod is None and part_number(key.rsplit("/", 1)[1]) is not None
                for key, (_, lastmod) in recorded.items()
            ):
                return None  # files written before their dates were recorded: the whole plan records them
        return delta.change(
            self.settings,
            self.publication,
            self.history,
            languages=wanted,
            configured=configured,
            fingerprint=fingerprint,
            states=states,
            held=held,
        )

    def _publish_change(
        self,
        language: Lang,
        change: delta.Change,
        before: delta.Marker,
        watermark: int,
        changed_feeds: list[str],
    ) -> int:
        """Publish ``language`` where ``change`` reaches it: the changed entries' pages, the
        documents and index pages that can hold them, the sitemap files that do."""
        from syndicate.publish import delta

        fingerprint = scope_fingerprint(change.fingerprint, language)
        if not change.sizes[language]:  # no entry yet (nor before: its first one plans everything)
            state = PublishState(
                watermark, fingerprint, {}, delta.marker(change.publishing, False, self.history, language)
            )
            self.publication.save_state(language, state)
            return 0
        with _paused_gc():
            window = change.window(language, before)
        edition = window.edition
        by_id = {entry.article_id: entry for entry in edition.listing}
        pages = feed_pages(edition, window.layout)
        keys = [f"pages/{language}/{by_id[aid].slug}.html" for aid in window.candidates]
        for page in pages:
            keys.extend(f"feeds/{language}/{page.path(fmt)}" for fmt in FORMATS)
            keys.append(f"pages/{language}/{index_path(page.number)}")
        keys.extend(f"pages/{language}/{name}" for name in ("sitemap.xml", "sitemap-news.xml"))
        known = self.publication.files(language, keys)
        produced: set[str] = set()
        self._trusted = True  # _change saw the folders as the last publish left them
        try:
            changed = self._publish_pages(edition, [by_id[aid] for aid in window.candidates], known, produced)
            changed += self._publish_feeds(pages, fingerprint, known, produced, changed_feeds)
            changed += self._publish_indexes(pages, fingerprint, known, produced)
            if edition.listing:
                changed += self._publish_sitemaps(
                    edition, fingerprint, known, produced, window.lines, window.layout.seqs, only=window.parts
                )
        finally:
            self._trusted = False
        folders = self._folder_times(self._folders(language))
        plan = delta.marker(change.publishing, False, self.history, language)
        self.publication.save_state(language, PublishState(watermark, fingerprint, folders, plan))
        logger.info(
            "published %s: %d changed entr(y/ies) of %d, %d file(s) changed",
            language,
            len(window.candidates),
            edition.size,
            changed,
        )
        return changed

    def _publish_edition(
        self,
        edition: Edition,
        fingerprint: str,
        known: Mapping[str, tuple[str, int]],
        produced: set[str],
        changed_feeds: list[str],
    ) -> tuple[int, Mapping[int, int]]:
        """The whole edition's pages, feeds and index pages; the number of files changed,
        and each entry's sequence number in the feed history."""
        language = edition.language
        changed = 0
        if not edition.listing:
            return 0, {}
        self._sweep(language)
        changed += self._publish_pages(edition, edition.listing, known, produced)
        with _paused_gc():
            layout = self.history.place(
                language, [item.article_id for item in edition.listing], self.settings.output.feed_size
            )
            pages = feed_pages(edition, layout)
        changed += self._publish_feeds(pages, fingerprint, known, produced, changed_feeds)
        changed += self._publish_indexes(pages, fingerprint, known, produced)
        logger.info("published %s: %d entries, %d file(s) changed", language, len(edition.listing), changed)
        return changed, layout.seqs

    def _publish_indexes(
        self, pages: Sequence[FeedPage], fingerprint: str, known: Mapping[str, tuple[str, int]], produced: set[str]
    ) -> int:
        """The language's page index, page for page with its feed (see
        :func:`~syndicate.publish.history.index_path`): the front page and the open
        archive page when what they list changed; a full page rendered once, frozen in
        the store beside its feed documents, and from then on only put back if its file
        went missing, or frozen again once when a language it links to first exists."""
        language = pages[0].edition.language  # the subscription document's page is always there
        changed = 0
        records: list[PublishedFile] = []
        render = self.renderers.language_index
        for page in pages:
            key = f"pages/{language}/{index_path(page.number)}"
            produced.add(key)
            if page.full:
                assert page.number is not None
                languages = tuple(sorted(page.edition.siblings))
                digest = f"{FROZEN}:{','.join(languages)}"
                grew = _grown(known.get(key), languages)
                if not grew and self._current(known, key, digest):
                    continue
                if grew:
                    data = self.history.refreeze(language, page.number, {INDEX_FORMAT: render(self.settings, page)})
                else:
                    data = self.history.frozen(language, page.number, [INDEX_FORMAT]) or self.history.freeze(
                        language, page.number, {INDEX_FORMAT: render(self.settings, page)}
                    )
                written, record = self._write(key, data[INDEX_FORMAT], digest)
            else:
                digest = language_index_digest(fingerprint, page)
                if self._current(known, key, digest):
                    continue
                written, record = self._write(key, render(self.settings, page), digest)
            changed += written
            records.append(record)
        self.publication.record_files(language, records)
        return changed

    def _publish_sitemaps(
        self,
        edition: Edition,
        fingerprint: str,
        known: Mapping[str, tuple[str, int]],
        produced: set[str],
        lines: Mapping[int, ArticleLine],
        seqs: Mapping[int, int],
        only: Collection[int] | None = None,
    ) -> int:
        """The language's sitemap index, sitemap files and news sitemap (see
        :mod:`syndicate.publish.sitemaps`), each rendered only when an entry it lists
        changed; files a smaller history no longer needs are removed.

        With ``only``, the edition lists part of the language (a change published alone):
        the sitemap files ``only`` are planned from it, and the index names the others as
        they are on record."""
        from syndicate.publish import sitemaps

        language = edition.language
        prefix = f"pages/{language}/"
        base = f"{self.settings.translations_url}{language}/"
        changed = 0
        records: list[PublishedFile] = []
        listed: dict[int, tuple[str, str]] = {}  # file number -> (digest, lastmod)
        recorded = self.publication.sitemap_files(language, f"{prefix}sitemap-")
        if only is not None:
            for key, (digest, lastmod) in recorded.items():
                number = sitemaps.part_number(key[len(prefix) :])
                if number is not None and number not in only and lastmod is not None:
                    listed[number] = (digest, lastmod)
        for number, entries in sitemaps.parts(edition, seqs, only=only):
            key = f"{prefix}{sitemaps.part_name(number)}"
            digest = sitemap_digest(fingerprint, "sitemap", (entry.digest for entry in entries))
            lastmod = sitemaps.w3c(max(entry.updated for entry in entries))
            produced.add(key)
            listed[number] = (digest, lastmod)
            if self._current(known, key, digest):
                if recorded.get(key, (None, None))[1] != lastmod:  # on record with its date, for the index
                    records.append(PublishedFile(key, digest, known[key][1], lastmod=lastmod))
                continue
            originals = {
                entry.article_id: sitemaps.Original(
                    lines[entry.article_id].url,
                    self.settings.article_language(lines[entry.article_id].source, lines[entry.article_id].language),
                )
                for entry in entries
            }
            written, record = self._write(key, sitemaps.urlset_bytes(language, entries, originals), digest)
            changed += written
            records.append(PublishedFile(record.path, record.digest, record.size, lastmod=lastmod))
        index = [(f"{base}{sitemaps.part_name(number)}", listed[number][1]) for number in sorted(listed)]
        digests = [listed[number][0] for number in sorted(listed)]
        news = sitemaps.news_entries(edition)
        news_key = f"{prefix}{sitemaps.NEWS_NAME}"
        if news:
            digest = sitemap_digest(fingerprint, "news", (entry.digest for entry in news))
            produced.add(news_key)
            index.append((f"{base}{sitemaps.NEWS_NAME}", sitemaps.w3c(max(entry.updated for entry in news))))
            digests.append(digest)
            if not self._current(known, news_key, digest):
                written, record = self._write(
                    news_key, sitemaps.news_bytes(language, self.settings.site.title, news), digest
                )
                changed += written
                records.append(record)
        index_key = f"{prefix}{sitemaps.INDEX_NAME}"
        digest = sitemap_digest(fingerprint, "sitemap-index", digests)
        produced.add(index_key)
        if not self._current(known, index_key, digest):
            written, record = self._write(index_key, sitemaps.index_bytes(index), digest)
            changed += written
            records.append(record)
        if only is None:
            # Files of a longer history, or a news sitemap with nothing recent: gone.
            stale = [key for key in known if key.startswith(f"{prefix}sitemap") and key not in produced]
            for key in stale:
                changed += self.writer.remove(self._path(key))
        self.publication.record_files(language, records)
        return changed

    def _sweep(self, language: Lang) -> None:
        """Temporary files a killed writer left in the folders this publish writes to."""
        feeds = self.settings.feeds_dir
        pages = self.settings.translations_dir / language
        folders = (feeds, feeds / language, feeds / language / "archive", pages, pages / "archive")
        if removed := self.writer.sweep(*folders, recursive=False):
            logger.info("removed %d temporary file(s) left by an interrupted run", removed)

    def _entries(self, language: Lang, listed: Sequence[ListedEntry]) -> Iterator[FeedEntry]:
        """The whole entries of ``listed``, in its order, loaded :data:`BATCH` at a time;
        one deleted meanwhile is left out."""
        for start in range(0, len(listed), BATCH):
            batch = listed[start : start + BATCH]
            bodies = self.publication.bodies(language, [item.article_id for item in batch])
            for item in batch:
                if item.article_id in bodies:
                    sa, t = bodies[item.article_id]
                    yield feed_entry(self.settings, language, item, sa, t)

    def _publish_pages(
        self,
        edition: Edition,
        listing: Sequence[ListedEntry],
        known: Mapping[str, tuple[str, int]],
        produced: set[str],
    ) -> int:
        """The pages of the entries of ``listing`` whose inputs changed (or whose file is gone)."""
        language = edition.language
        prefix = f"pages/{language}/"
        keys = [f"{prefix}{item.slug}.html" for item in listing]
        produced.update(keys)
        if self._trusted:  # no stat: a dictionary look-up per page
            get = known.get
            todo = [
                item
                for key, item in zip(keys, listing, strict=True)
                if (found := get(key)) is None or found[0] != item.digest
            ]
        else:
            todo = [item for key, item in zip(keys, listing, strict=True) if not self._current(known, key, item.digest)]
        digest_of = {item.article_id: item.digest for item in todo}
        changed = 0
        records: list[PublishedFile] = []
        for entry in self._entries(language, todo):
            key = f"pages/{language}/{entry.slug}.html"
            data = self.renderers.page(self.settings, edition, entry)
            written, record = self._write(key, data, digest_of[entry.article_id], entry.article_id)
            changed += written
            records.append(record)
            if len(records) >= BATCH:
                self.publication.record_files(language, records)
                records = []
        self.publication.record_files(language, records)
        return changed

    def _publish_feeds(
        self,
        pages: Sequence[FeedPage],
        fingerprint: str,
        known: Mapping[str, tuple[str, int]],
        produced: set[str],
        changed_feeds: list[str],
    ) -> int:
        """A language's archive pages (oldest first), then its subscription documents.

        Archives first: a reader fetching in between sees an entry twice, never not at all.
        Only documents whose members, entries or links changed are rendered; a full page
        is rendered once, frozen in the store, and from then on only put back if its file
        went missing, or rendered and frozen again once when a language it links to first
        exists (see :func:`_linked_languages`).
        """
        changed = 0
        for page in pages:
            language = page.edition.language
            grew = False
            if page.full:
                # A full page is frozen with the other languages it links to; one that
                # first exists afterwards (added to the config, or a language whose work
                # was given up and done late) is linked from it once, as it would have
                # been had it been there all along.
                languages = _linked_languages(page)
                digest = f"{FROZEN}:{','.join(languages)}"
                grew = any(_grown(known.get(f"feeds/{language}/{page.path(fmt)}"), languages) for fmt in FORMATS)
            else:
                digest = feed_digest(fingerprint, page)
            keys = {fmt: f"feeds/{language}/{page.path(fmt)}" for fmt in FORMATS}
            produced.update(keys.values())
            if not grew and all(self._current(known, key, digest) for key in keys.values()):
                continue
            records = []
            for fmt, data in self._documents(page, again=grew).items():
                written, record = self._write(keys[fmt], data, digest)
                records.append(record)
                if written:
                    changed += 1
                    if not page.is_archive:
                        changed_feeds.append(page.url(fmt))
            self.publication.record_files(language, records)
        return changed

    def _documents(self, page: FeedPage, *, again: bool = False) -> dict[str, bytes]:
        """A page's documents: rendered, or a full page's as frozen in the store (rendered
        and frozen anew when ``again``: a language it links to first exists)."""
        language = page.edition.language
        renderers = self.renderers.feeds
        if not page.full:
            whole = page.with_entries(list(self._entries(language, page.members)))
            return {fmt: render(self.settings, whole) for fmt, render in renderers.items()}
        assert page.number is not None
        if again:
            whole = page.with_entries(list(self._entries(language, page.members)))
            logger.info(
                "archive page %s/%d links a language that first exists now: frozen again", language, page.number
            )
            return self.history.refreeze(
                language, page.number, {fmt: render(self.settings, whole) for fmt, render in renderers.items()}
            )
        stored = self.history.frozen(language, page.number)
        if any(fmt not in stored for fmt in renderers):
            whole = page.with_entries(list(self._entries(language, page.members)))
            missing = {fmt: render(self.settings, whole) for fmt, render in renderers.items() if fmt not in stored}
            logger.info("archive page %s/%d is full: frozen", language, page.number)
            stored = self.history.freeze(language, page.number, missing)
        return {fmt: stored[fmt] for fmt in renderers}

    # -- the site-wide files ----------------------------------------------------------

    def _publish_site(
        self, watermark: int, fingerprint: str, sizes: Mapping[Lang, int], publishing: Sequence[Lang]
    ) -> int:
        """``feeds/index.html`` and ``feeds/opml.xml``: every publishing language and its size."""
        scope = scope_fingerprint(fingerprint, SITE)
        editions = site_editions(self.settings, sizes, publishing)
        digest = site_digest(scope, editions)
        known = self.publication.files(SITE)
        changed = 0
        records: list[PublishedFile] = []
        for key, render in (("feeds/index.html", self.renderers.index), ("feeds/opml.xml", self.renderers.opml)):
            if self._current(known, key, digest):
                continue
            written, record = self._write(key, render(self.settings, editions), digest)
            changed += written
            records.append(record)
        self.publication.record_files(SITE, records)
        self.publication.save_state(SITE, PublishState(watermark, scope, self._folder_times(self._folders(SITE))))
        return changed


def _linked_languages(page: FeedPage) -> tuple[str, ...]:
    """The other languages a feed page links to: the edition's feeds and its entries' versions."""
    found = set(page.edition.siblings)
    for entry in page.members:
        found.update(code for code, _ in entry.siblings)
    return tuple(sorted(found))


def _grown(recorded: tuple[str, int] | None, languages: Sequence[str]) -> bool:
    """Whether a full page recorded as frozen with some languages links to one more now.
    A page frozen before the languages were recorded ("frozen") is taken as current."""
    if recorded is None or not recorded[0].startswith(f"{FROZEN}:"):
        return False
    before = set(filter(None, recorded[0][len(FROZEN) + 1 :].split(",")))
    return not set(languages) <= before


@contextlib.contextmanager
def _paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off while a changed publish plans (never while it
    renders, which may leave cycles): planning builds 10,000s of small records (rows,
    lines, listed entries) that hold none, and the collections their allocation triggers
    rescan the whole heap again and again (a fifth of the publish at 10,000 articles).
    Back on as it was afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _default_notifier(settings: Settings, store: Store) -> Callable[[Sequence[str]], None] | None:
    if not settings.publish.websub_hubs:
        return None
    from syndicate.publish.websub import HubNotifier

    return HubNotifier.shared(settings.publish.websub_hubs, store)


__all__ = ["FeedPublisher", "Renderers", "check_history", "default_renderers"]
