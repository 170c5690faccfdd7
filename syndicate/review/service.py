"""The review desk: what an editor can do, whichever way they come in (the review page,
its JSON API, ``syndicate review``, an XLIFF file back from a CAT tool).

One model underneath: a correction is a translation of one source segment into one
language, stored with who made it, when, and the source text it corrects
(:mod:`syndicate.store.review`). It wins over every engine and the memory, wherever the
segment occurs in that language, and survives re-polls, retranslation, engine and rule
changes, and upgrades (it lives in the store, not in output files). Saving one lists
the articles holding the segment for translation again; ``on_change`` is then told the
language, so a daemon republishes at once (without one, the next run does).

An approval marks one entry's current version (its source text) as seen by an editor;
a language reviewed "before" publishing ([translate.review]) publishes only approved
entries.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from syndicate.config import Settings
from syndicate.errors import ReviewError
from syndicate.models import Lang, SegmentRecord, StoredArticle, Translation, lang
from syndicate.store import Store
from syndicate.store.review import LogEntry, QueueLine

logger = logging.getLogger(__name__)

#: The longest correction accepted, in characters (a sentence, a caption, a cell).
MAX_CORRECTION = 20_000
#: Entries per queue page.
PAGE = 50
#: Segments under this confidence are shown as low (the language's quality threshold
#: when it has one).
LOW_CONFIDENCE = 0.6

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


@dataclass(frozen=True)
class SegmentView:
    """One segment of an entry as an editor sees it."""

    index: int
    record: SegmentRecord
    low: bool  # under the language's threshold, or flagged by a check
    #: The record shows a correction saved (or withdrawn) since the entry was last
    #: translated: published by the next pass.
    pending: bool = False

    @property
    def source(self) -> str:
        return self.record.source

    @property
    def target(self) -> str:
        return self.record.target


@dataclass(frozen=True)
class EntryView:
    """One translated entry with its segments, source beside target."""

    article: StoredArticle
    translation: Translation
    source_language: str
    segments: tuple[SegmentView, ...]
    mode: str  # the language's review mode

    @property
    def article_id(self) -> int:
        return self.article.id

    @property
    def language(self) -> str:
        return self.translation.language


@dataclass
class ImportReport:
    """What an XLIFF file brought back."""

    corrected: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    articles: set[int] = field(default_factory=set)


def parse_date(value: str | None, name: str) -> datetime | None:
    """A ``--since``/``since`` bound: YYYY-MM-DD or an ISO 8601 time (UTC when no zone)."""
    if not value:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise ReviewError(
            f"{name} {value!r} is not a date", item=name, hint="write it as YYYY-MM-DD or an ISO 8601 time"
        ) from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def clean_text(text: str) -> str:
    """A correction as it is stored: NFC, no control characters, single-line ends trimmed."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", text).strip()


class ReviewDesk:
    """Editors' operations over the store (see module docs)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Callable[[], datetime],
        on_change: Callable[[Lang], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.on_change = on_change

    # -- reading -------------------------------------------------------------------------

    @property
    def languages(self) -> tuple[Lang, ...]:
        return self.settings.translate.languages

    def language(self, code: str) -> Lang:
        """``code`` as a configured target language, or a ReviewError naming the others."""
        try:
            wanted = lang(code)
        except ValueError:
            wanted = None
        if wanted not in self.languages:
            raise ReviewError(
                f"{code!r} is not a target language here", item=code, hint=f"one of {', '.join(self.languages)}"
            )
        return wanted

    def threshold(self, language: str) -> float:
        rule = self.settings.translate.quality.of(language)
        return rule.threshold or LOW_CONFIDENCE

    def queue(
        self, language: str, *, waiting_only: bool = False, limit: int = PAGE, offset: int = 0
    ) -> list[QueueLine]:
        """Entries to review, those needing it most first (see ``ReviewRepository.queue``)."""
        return self.store.review.queue(
            self.language(language), waiting_only=waiting_only, limit=max(1, min(limit, 500)), offset=max(0, offset)
        )

    def counts(self) -> dict[Lang, dict[str, int]]:
        return self.store.review.counts(self.languages)

    def entry(self, language: str, article_id: int) -> EntryView:
        """One entry with its segments; a ReviewError when it has no translation."""
        code = self.language(language)
        translation = self.store.translations.get(article_id, code)
        found = self.store.articles.many([article_id])
        if translation is None or not found:
            raise ReviewError(
                f"article {article_id} has no translation into {code}",
                item=str(article_id),
                hint=f"pick one from `syndicate review list {code}`",
            )
        article = found[0]
        low = self.threshold(code)
        source = self.settings.article_language(article.article.source, article.article.language)
        # Corrections saved since the entry was translated show as they will be published.
        saved = self.store.review.corrections_for(source, code, [r.source for r in translation.segments])
        segments = []
        for i, r in enumerate(translation.segments):
            pending = False
            if r.source in saved and (r.origin != "human" or saved[r.source].target_text != r.target):
                r, pending = (
                    replace(
                        r,
                        target=saved[r.source].target_text,
                        origin="human",
                        flags=(),
                        previous=None,
                        previous_source=None,
                    ),
                    True,
                )
            elif r.origin == "human" and r.source not in saved:
                pending = True  # withdrawn: the engines' translation comes with the next pass
            is_low = r.origin == "machine" and ((r.confidence is not None and r.confidence < low) or bool(r.flags))
            segments.append(SegmentView(i, r, is_low, pending))
        return EntryView(article, translation, source, tuple(segments), self.settings.translate.review_mode(code))

    def history(
        self, *, language: str | None = None, article_id: int | None = None, limit: int = 100
    ) -> list[LogEntry]:
        code = self.language(language) if language else None
        return self.store.review.history(language=code, article_id=article_id, limit=max(1, min(limit, 10_000)))

    # -- changing ------------------------------------------------------------------------

    def correct(
        self,
        language: str,
        article_id: int,
        *,
        text: str,
        editor: str,
        via: str,
        segment: int | None = None,
        source: str | None = None,
        expect: str | None = None,
    ) -> list[int]:
        """Make ``text`` the translation of one segment of an entry (named by its index or
        its source text), for every article of the language that holds it. ``expect``: the
        target text the editor saw; when it has changed since (another editor, a new
        translation), nothing is saved. Returns the articles to republish."""
        entry = self.entry(language, article_id)
        record = self._segment(entry, segment, source)
        text = clean_text(text)
        if not text:
            raise ReviewError(
                "a correction cannot be empty",
                item=f"{article_id}/{record.source[:60]}",
                hint="to go back to the engines' translation, withdraw the correction",
            )
        if len(text) > MAX_CORRECTION:
            raise ReviewError(
                f"a correction may be at most {MAX_CORRECTION} characters, this one has {len(text)}",
                item=f"{article_id}/{record.source[:60]}",
            )
        if expect is not None and clean_text(expect) != record.target:
            raise ReviewError(
                "the translation changed since it was shown (another editor or a new translation)",
                item=f"{article_id}/{record.source[:60]}",
                hint="reload the entry and correct it again",
            )
        if text == record.target and record.origin == "human":
            return []
        affected = self.store.review.save_correction(
            source_language=entry.source_language,
            target_language=entry.language,
            source_text=record.source,
            target_text=text,
            editor=editor,
            now=self.clock(),
            article_id=article_id,
            via=via,
            old_text=record.target,
        )
        logger.info(
            "%s corrected a segment of article %d in %s (%s): %d article(s) to republish",
            editor,
            article_id,
            entry.language,
            via,
            len(affected),
        )
        self._changed(entry.translation.language)
        return affected

    def withdraw(
        self,
        language: str,
        article_id: int,
        *,
        editor: str,
        via: str,
        segment: int | None = None,
        source: str | None = None,
    ) -> list[int]:
        """Remove an editor's correction of a segment: the engines' translation comes back."""
        entry = self.entry(language, article_id)
        record = self._segment(entry, segment, source)
        affected = self.store.review.withdraw_correction(
            source_language=entry.source_language,
            target_language=entry.language,
            source_text=record.source,
            editor=editor,
            now=self.clock(),
            article_id=article_id,
            via=via,
        )
        if affected:
            self._changed(entry.translation.language)
        return affected

    def approve(self, language: str, article_id: int, *, editor: str, via: str, approved: bool = True) -> None:
        """Approve the entry's current version (or reopen it)."""
        code = self.language(language)
        if not self.store.review.approve(code, article_id, editor=editor, now=self.clock(), via=via, approved=approved):
            raise ReviewError(
                f"article {article_id} has no translation into {code}",
                item=str(article_id),
                hint=f"pick one from `syndicate review list {code}`",
            )
        logger.info(
            "%s %s article %d in %s (%s)", editor, "approved" if approved else "reopened", article_id, code, via
        )
        self._changed(code)

    def _segment(self, entry: EntryView, index: int | None, source: str | None) -> SegmentRecord:
        if source is not None:
            wanted = clean_text(source)
            for view in entry.segments:
                if view.source == wanted or view.source == source:
                    return view.record
            raise ReviewError(
                f"article {entry.article_id} in {entry.language} has no segment {source[:80]!r} "
                "(its source changed since it was shown?)",
                item=str(entry.article_id),
                hint="reload the entry",
            )
        if index is None or not 0 <= index < len(entry.segments):
            raise ReviewError(
                f"article {entry.article_id} in {entry.language} has segments 0 to "
                f"{len(entry.segments) - 1}, not {index}",
                item=str(entry.article_id),
                hint=f"`syndicate review show {entry.language} {entry.article_id}` lists them",
            )
        return entry.segments[index].record

    def _changed(self, language: Lang) -> None:
        if self.on_change is not None:
            try:
                self.on_change(language)
            except Exception:  # the change is saved; the next pass publishes it
                logger.exception("could not ask for %s to be republished now; the next pass will", language)

    # -- CAT tools -----------------------------------------------------------------------

    def export_units(
        self,
        language: str,
        *,
        article_ids: Sequence[int] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        waiting_only: bool = False,
        limit: int = 10_000,
    ) -> list[EntryView]:
        """The entries an XLIFF export holds: those named, else the queue's (published in
        [since, until) when given), in queue order."""
        code = self.language(language)
        if article_ids:
            ids = list(dict.fromkeys(article_ids))
        else:
            lines = self.store.review.queue(code, waiting_only=waiting_only, limit=limit)
            ids = [line.article_id for line in lines]
        entries = []
        for aid in ids:
            try:
                entry = self.entry(code, aid)
            except ReviewError:
                if article_ids:
                    raise
                continue
            published = entry.article.article.published or entry.article.first_seen
            if (since and published < since) or (until and published >= until):
                continue
            entries.append(entry)
        return entries

    def export_xliff(self, language: str, **options: object) -> bytes:
        """An XLIFF 2.0 file of the entries (see :meth:`export_units`) for a CAT tool."""
        from syndicate.review.formats import ExportUnit, to_xliff

        entries = self.export_units(language, **options)  # type: ignore[arg-type]
        units = []
        source_language = entries[0].source_language if entries else self.settings.site.source_language
        for entry in entries:
            for view in entry.segments:
                r = view.record
                state = "final" if entry.translation.approved else "reviewed" if r.origin == "human" else "translated"
                notes = [f"article: {entry.article.article.title}"[:500]]
                if r.confidence is not None and r.origin == "machine":
                    notes.append(f"confidence {r.confidence:.2f}")
                if r.flags:
                    notes.append("checks: " + ", ".join(r.flags))
                if r.previous is not None:
                    notes.append(f"previous correction (for {r.previous_source!r}): {r.previous}")
                units.append(
                    ExportUnit(
                        f"a{entry.article_id}-s{view.index}", entry.article_id, r.source, r.target, state, tuple(notes)
                    )
                )
        return to_xliff(
            units,
            primary_or(source_language),
            self.language(language),
            original=f"{self.settings.site.base_url}#{language}",
        )

    def import_xliff(self, data: bytes, *, editor: str, name: str = "the file", via: str = "xliff") -> ImportReport:
        """Every unit whose target differs from the entry's current translation becomes a
        correction, by the same rules as the review page; a unit whose source no longer
        matches the entry (it changed upstream since the export) is skipped and listed."""
        from syndicate.review.formats import from_xliff

        document = from_xliff(data, name=name)
        if document.target_language is None:
            raise ReviewError(
                f"{name} names no target language (trgLang)",
                item=name,
                hint="export the file again with `syndicate review export`",
            )
        language = self.language(document.target_language)
        report = ImportReport()
        entries: dict[int, EntryView | None] = {}
        for unit in document.units:
            if unit.article_id is None:
                report.skipped.append(f"{unit.id}: not a unit syndicate exported")
                continue
            if unit.article_id not in entries:
                try:
                    entries[unit.article_id] = self.entry(language, unit.article_id)
                except ReviewError:
                    entries[unit.article_id] = None
            entry = entries[unit.article_id]
            if entry is None:
                report.skipped.append(f"{unit.id}: article {unit.article_id} has no translation into {language}")
                continue
            target = clean_text(unit.target)
            match = next((v for v in entry.segments if v.source == clean_text(unit.source)), None)
            if match is None:
                report.skipped.append(f"{unit.id}: its source text changed since the export")
                continue
            if not target or target == match.target:
                report.unchanged += 1
                continue
            self.store.review.save_correction(
                source_language=entry.source_language,
                target_language=language,
                source_text=match.source,
                target_text=target,
                editor=editor,
                now=self.clock(),
                article_id=entry.article_id,
                via=via,
                old_text=match.target,
            )
            report.corrected += 1
            report.articles.add(entry.article_id)
        if report.corrected:
            logger.info("%s imported %d correction(s) into %s from %s", editor, report.corrected, language, name)
            self._changed(language)
        return report

    def export_tmx(self, language: str) -> bytes:
        """The language's corrections as a TMX memory (what editors wrote, with who and when)."""
        from syndicate.review.formats import to_tmx

        code = self.language(language)
        rows = self.store.review.all_corrections(code)
        source = rows[0].source_language if rows else primary_or(self.settings.site.source_language)
        return to_tmx([(c.source_text, c.target_text, c.editor, c.updated) for c in rows], source, code)


def primary_or(code: str) -> str:
    return code.split("-")[0].lower() if code else "und"


__all__ = ["EntryView", "ImportReport", "ReviewDesk", "SegmentView", "clean_text", "parse_date"]
