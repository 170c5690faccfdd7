"""Publishing a change alone (issue 23, part 2): what a publish reads when little changed.

A publish that finds something changed plans the whole history of each language
(:func:`~syndicate.publish.plan.plan_edition`): every light row of every language,
ordered and digested. That costs the history times the languages. This module plans only
what the change reaches, and gives the same files, byte for byte, as that whole plan
would; the publisher falls back to the whole plan whenever that cannot be shown:

- **What changed** is read by the change numbers every write stamps: the articles whose
  row or any translation was written after the language's last publish (at most
  :data:`LIMIT` of them; more, and the whole history is planned).
- **Every stored translation is published** (no keyword filter holds an article back, no
  source is kept out of a language, no language holds back low-confidence or unreviewed
  entries): an entry never leaves an edition, and an entry's versions in the other
  languages only change when one of them is written.
- **No article names a neighbour**, now or at the language's last publish (the marker
  :func:`marker` leaves in the store): the order is then the sort by date (which the
  database does for the news window), so an unchanged article keeps its place among the
  others and every input of its page.
- The language's settings, its output folders (see
  :meth:`~syndicate.publish.publisher.FeedPublisher._unmoved`) and the languages
  published together are as the last publish left them.

Then the entries to look at are: the changed ones (their pages), the subscription
document's, those of the archive pages a change can reach (the newest two, those that
filled since the last publish, those holding a changed entry), those of the sitemap files
that hold a changed or new entry, and those of the news sitemap (the newest two days).
Everything else was published from the same inputs before, and its digest is on record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from syndicate.config import Settings
from syndicate.models import Lang
from syndicate.publish import sitemaps
from syndicate.publish.edition import Edition, edition_header
from syndicate.publish.ordering import rank
from syndicate.publish.plan import _second, listed_entry, scope_fingerprint
from syndicate.store.archive import FeedHistory, FeedLayout
from syndicate.store.publication import ArticleLine, PublicationRepository, PublishState, TranslationLine

logger = logging.getLogger(__name__)

#: Articles changed since a language's last publish beyond which its whole history is planned.
LIMIT = 500
#: Articles whose translations are read at a time while looking for the news window.
_CHUNK = 200


@dataclass(frozen=True)
class Marker:
    """What a publish leaves for the next one to check (``publish_state.plan``)."""

    publishing: tuple[str, ...]  # the languages published together
    links: bool  # whether any article named a neighbour
    page: int  # the language's newest archive page then
    seq: int  # the sequence number of its newest entry then

    def dump(self) -> str:
        return json.dumps(
            {"publishing": list(self.publishing), "links": self.links, "page": self.page, "seq": self.seq},
            sort_keys=True,
        )

    @classmethod
    def load(cls, text: str) -> Marker | None:
        """The marker ``text`` holds; None when there is none (a store from before, or an
        unreadable one: the whole history is planned, and a marker written after)."""
        try:
            found = json.loads(text) if text else None
            if not isinstance(found, dict):
                return None
            return cls(
                tuple(str(code) for code in found["publishing"]),
                bool(found["links"]),
                int(found["page"]),
                int(found["seq"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


def marker(publishing: Sequence[Lang], links: bool, history: FeedHistory, language: Lang) -> str:
    """The marker a publish of ``language`` leaves, read after it placed its entries."""
    last = history.last_seq(language)
    pages = history.newest_page(language)
    return Marker(tuple(publishing), links, pages, last).dump()


def publishes_everything(settings: Settings, languages: Sequence[Lang], held: Collection[int]) -> bool:
    """No rule holds a stored translation back from ``languages``' editions (see
    :func:`~syndicate.publish.publisher._without_held`)."""
    if held:
        return False
    for language in languages:
        if settings.sources_into(language) is not None or settings.translate.review_mode(language) == "before":
            return False
        rule = settings.translate.quality.of(language)
        if rule.action == "hold" and rule.threshold > 0:
            return False
    return True


@dataclass(frozen=True)
class Window:
    """What a publish of one language looks at when only ``candidates`` changed."""

    edition: Edition  # the entries looked at, newest first; size: the whole edition's
    candidates: tuple[int, ...]  # the changed entries of the language: their pages are checked
    layout: FeedLayout  # the archive pages a change can reach, and the subscription document
    parts: tuple[int, ...]  # the sitemap files to plan (their entries are all in the edition)
    lines: Mapping[int, ArticleLine]


class Change:
    """A change small enough to publish alone, shared by the languages of one publish.

    Made by :func:`change` when every condition of the module docstring holds; each
    language's :meth:`window` then reads what its change reaches.
    """

    def __init__(
        self,
        settings: Settings,
        publication: PublicationRepository,
        history: FeedHistory,
        *,
        configured: Sequence[Lang],
        publishing: Sequence[Lang],
        sizes: Mapping[Lang, int],
        touched: Collection[int],
        fingerprint: str,
    ) -> None:
        self.settings = settings
        self.publication = publication
        self.history = history
        self.configured = list(configured)
        self.publishing = list(publishing)
        self.sizes = dict(sizes)
        self.touched = frozenset(touched)
        self.fingerprint = fingerprint
        self._lines: dict[int, ArticleLine] = {}
        self._newest: dict[int, list[int]] = {}
        self._translated: dict[int, dict[Lang, TranslationLine]] = {}
        self._pages: dict[int, tuple[tuple[Lang, str], ...]] = {}

    # -- shared by the languages ---------------------------------------------------------

    def pages(self, aid: int, slug: str, translated: Mapping[Lang, TranslationLine]) -> tuple[tuple[Lang, str], ...]:
        """(language, page URL) of every translation of ``aid``, in the configured order
        (made once for every language: each takes its siblings from it)."""
        found = self._pages.get(aid)
        if found is None:
            pages_url = self.settings.translations_url
            found = self._pages[aid] = tuple((other, f"{pages_url}{other}/{slug}.html") for other in translated)
        return found

    def lines(self, ids: Collection[int]) -> dict[int, ArticleLine]:
        """The light columns of the articles ``ids`` (each read once for every language)."""
        missing = [aid for aid in ids if aid not in self._lines]
        if missing:
            self._lines.update((line.id, line) for line in self.publication.article_lines(missing))
        return {aid: self._lines[aid] for aid in ids}

    def newest(self, start: int) -> list[int]:
        """Articles newest first, :data:`_CHUNK` from ``start`` (each chunk read once)."""
        chunk = self._newest.get(start)
        if chunk is None:
            chunk = self._newest[start] = self.publication.newest(start, _CHUNK)
        return chunk

    def translations(self, ids: Collection[int]) -> dict[int, dict[Lang, TranslationLine]]:
        """{article: {language: translation}} of ``ids``, every configured language (each
        article read once for every language)."""
        missing = [aid for aid in ids if aid not in self._translated]
        if missing:
            found = self.publication.translation_lines(self.configured, missing)
            for aid in missing:
                self._translated[aid] = {}
            for language, lines in found.items():  # configured order: the order of siblings
                for aid, line in lines.items():
                    self._translated[aid][language] = line
        return {aid: self._translated[aid] for aid in ids}

    # -- one language --------------------------------------------------------------------

    def window(self, language: Lang, before: Marker) -> Window:
        """``language``'s entries a publish of this change looks at (see the module docstring).

        Places the language's new entries in its feed history (as the whole plan's
        :meth:`~syndicate.store.archive.FeedHistory.place` does).
        """
        settings = self.settings
        changed = [aid for aid, versions in self.translations(self.touched).items() if language in versions]
        lines = self.lines(changed)
        # New entries take their sequence numbers oldest first, as a whole plan gives them.
        oldest_first = sorted(changed, key=lambda aid: rank(lines[aid]), reverse=True)
        layout = self.history.advance(language, oldest_first, settings.output.feed_size, changed, before.page)
        last = self.history.last_seq(language)
        parts = {sitemaps.part_of(layout.seqs[aid]) for aid in changed}
        parts.update(range(sitemaps.part_of(before.seq) if before.seq else 1, sitemaps.part_of(last) + 1))
        wanted: set[int] = {*changed, *layout.current}
        for page in layout.pages:
            wanted.update(page.article_ids)
        seqs = dict(layout.seqs)
        for number in sorted(parts):
            for seq, aid in self.history.by_seq(language, *sitemaps.part_seqs(number)):
                seqs[aid] = seq
                wanted.add(aid)
        wanted.update(self._news(language))
        versions = self.translations(wanted)
        lines = self.lines(wanted)
        fingerprint = scope_fingerprint(self.fingerprint, language)
        pages_url = settings.translations_url
        base = f"{pages_url}{language}/"
        listing = []
        for aid in sorted(wanted, key=lambda i: rank(lines[i])):
            line = lines[aid]
            translated = versions[aid]
            siblings = tuple(page for page in self.pages(aid, line.slug, translated) if page[0] != language)
            listing.append(listed_entry(line, translated[language], base, siblings, fingerprint=fingerprint))
        edition = edition_header(settings, language, self.publishing, listing, size=self.sizes[language])
        return Window(edition, tuple(sorted(changed)), replace(layout, seqs=seqs), tuple(sorted(parts)), lines)

    def _news(self, language: Lang) -> list[int]:
        """The language's entries published in the two days up to its newest (the news
        sitemap's, at most :data:`~syndicate.publish.sitemaps.NEWS_MAX`): a prefix of the
        order by date, read a chunk at a time."""
        found: list[int] = []
        since: datetime | None = None
        start = 0
        while chunk := self.newest(start):
            start += len(chunk)
            versions = self.translations(chunk)
            lines = self.lines(chunk)
            for aid in chunk:
                if language not in versions[aid]:
                    continue
                line = lines[aid]
                published = _second(line.published or line.first_seen)
                if since is None:
                    since = published - sitemaps.NEWS_WINDOW
                if published < since or len(found) >= sitemaps.NEWS_MAX:
                    return found
                found.append(aid)
        return found


def _whole(reason: str) -> tuple[Change, dict[Lang, Marker]] | None:
    """No change to publish alone: the whole history is planned, for ``reason``."""
    logger.debug("planning the whole history: %s", reason)
    return None


def change(
    settings: Settings,
    publication: PublicationRepository,
    history: FeedHistory,
    *,
    languages: Sequence[Lang],
    configured: Sequence[Lang],
    fingerprint: str,
    states: Mapping[Lang, PublishState | None],
    held: Collection[int],
) -> tuple[Change, dict[Lang, Marker]] | None:
    """The change since ``languages``' last publishes, when it can be published alone
    (see the module docstring), with each language's marker; None otherwise."""
    if not publishes_everything(settings, configured, held):
        return _whole("a rule holds entries back")
    markers: dict[Lang, Marker] = {}
    for language in languages:
        state = states.get(language)
        if state is None or state.fingerprint != scope_fingerprint(fingerprint, language):
            return _whole(f"{language}: first publish, or its settings changed")
        found = Marker.load(state.plan)
        if found is None or found.links:
            return _whole(f"{language}: its last publish left no marker, or its articles named neighbours")
        markers[language] = found
    counts = publication.translated_counts()
    sizes = {language: counts.get(language, 0) for language in configured}
    publishing = [language for language in configured if sizes[language]]
    if any(list(m.publishing) != publishing for m in markers.values()):
        # A language first published, or none any more: its links change everywhere.
        return _whole("the languages published together changed")
    if publication.any_links():
        return _whole("articles name their neighbours")
    since = min(state.seq for state in states.values() if state is not None)
    touched = publication.changed_since(since, LIMIT)
    if touched is None:
        return _whole(f"more than {LIMIT} articles changed")
    return (
        Change(
            settings,
            publication,
            history,
            configured=configured,
            publishing=publishing,
            sizes=sizes,
            touched=touched,
            fingerprint=fingerprint,
        ),
        markers,
    )


__all__ = ["LIMIT", "Change", "Marker", "Window", "change", "marker", "publishes_everything"]
