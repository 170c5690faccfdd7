"""Translating articles: segments, memory, engine chain, guards, pivot, reassembly.

For one language pair, :class:`ArticleTranslator` turns a batch of stored articles into
:class:`~syndicate.models.Translation` records:

- every article is planned into segments (title sentences, body sentences via
  :mod:`syndicate.translate.markup`, attribution labels, ``title``/``alt`` attributes);
- all new segments of the batch go to an engine in one call (what makes Argos fast);
- the segment memory in the store answers what was translated before, per engine, model
  and language pair, so a re-run translates nothing;
- quality guards reject bad output; rejected segments go to the next engine of the
  chain; a rejection is remembered so it is not retried every run;
- with no direct pair, the route pivots through English if both legs exist;
- bodies are sanitised with nh3 before they leave this module.
"""

from __future__ import annotations

import html
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import lxml.html

from syndicate import metrics, progress
from syndicate.errors import Problem
from syndicate.extract.decode import clean_bytes_text
from syndicate.models import (
    Attribution,
    Block,
    Lang,
    StoredArticle,
    Translation,
    map_text,
    source_key,
    texts,
)
from syndicate.sanitize import sanitize
from syndicate.translate import guards
from syndicate.translate.base import Translator
from syndicate.translate.markup import ParagraphPlan

logger = logging.getLogger(__name__)

@dataclass
class Counts:
    """Per (language, engine) counters of one run; added to the store's totals."""

    values: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def add(self, language: str, engine: str, name: str, n: int = 1) -> None:
        if n:
            self.values[(language, engine, name)] += n

    def total(self, name: str) -> int:
        return sum(v for (_, _, n), v in self.values.items() if n == name)


@dataclass(frozen=True)
class Leg:
    """One hop of a route: a language pair and the engines that serve it, in order."""

    source: Lang
    target: Lang
    engines: tuple[Translator, ...]


#: Marks around a segment no engine could translate while rendering; replaced by a
#: ``<span lang=... class="untranslated">`` in HTML and dropped from plain text.
_UNTRANSLATED_OPEN, _UNTRANSLATED_CLOSE = "\ue000", "\ue001"
#: An article is held back from a language only when more than this share of its text
#: (by characters of its segments) failed every engine.
MAX_UNTRANSLATED_SHARE = 0.5


class _Lenient(Mapping[str, str]):
    """Translations, with a marked original for any segment that has none."""

    def __init__(self, done: Mapping[str, str]) -> None:
        self.done = done
        self.used: set[str] = set()

    def __getitem__(self, key: str) -> str:
        found = self.done.get(key)
        if found is not None:
            return found
        self.used.add(key)
        return f"{_UNTRANSLATED_OPEN}{key}{_UNTRANSLATED_CLOSE}"

    def get(self, key: str, default: object = None) -> str:  # type: ignore[override]
        return self[key]

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.done)

    def __len__(self) -> int:
        return len(self.done)


class _Plan:
    """How one article splits into segments and how translations rebuild it.

    Every human-readable text becomes one :class:`ParagraphPlan` ("slot"), in a fixed
    order: the title, every text of the body blocks (:func:`syndicate.models.texts`),
    the attribution labels, the tags, the summary and the lead image's ``alt``. Plain
    texts are escaped into a fragment and read back as text.
    """

    def __init__(self, stored: StoredArticle) -> None:
        self.stored = stored
        article = stored.article
        body = texts(article.blocks)
        plain = [article.title, *(a.label for a in article.attributions), *article.meta.tags,
                 article.meta.summary, article.meta.image.alt if article.meta.image else ""]
        self.n_body = len(body)
        self.n_labels = len(article.attributions)
        self.n_tags = len(article.meta.tags)
        slots: list[tuple[str, bool]] = [(plain[0], True), *body, *((p, True) for p in plain[1:])]
        self.plain = [is_plain for _, is_plain in slots]
        self.paragraphs = [ParagraphPlan(html.escape(value, quote=False) if is_plain else value) for value, is_plain in slots]

    def segments(self) -> set[str]:
        out: set[str] = set()
        for plan in self.paragraphs:
            out |= plan.segments()
        return out

    def render(self, done: Mapping[str, str]) -> tuple[list[str], set[str]]:
        """Every slot rendered (HTML for body texts, plain text for the rest), and what was missing."""
        missing: set[str] = set()
        out = []
        for plan, is_plain in zip(self.paragraphs, self.plain, strict=True):
            body, more = plan.render(done)
            missing |= more
            out.append(_plain_text(body) if is_plain else body)
        return out, missing

    def build(self, rendered: list[str], source_language: str) -> tuple[str, tuple[Block, ...], list[str], list[str], str, str]:
        """(title, blocks, labels, tag labels, summary, image alt) from rendered slots."""
        marked = f'<span lang="{html.escape(source_language)}" class="untranslated">'

        def body_text(value: str, plain: bool) -> str:
            return next(body_iter)

        def fix_plain(value: str) -> str:
            return value.replace(_UNTRANSLATED_OPEN, "").replace(_UNTRANSLATED_CLOSE, "")

        title = fix_plain(rendered[0])
        body = [
            fix_plain(value) if self.plain[1 + i] else sanitize(value.replace(_UNTRANSLATED_OPEN, marked).replace(_UNTRANSLATED_CLOSE, "</span>"))
            for i, value in enumerate(rendered[1 : 1 + self.n_body])
        ]
        body_iter = iter(body)
        blocks = map_text(self.stored.article.blocks, body_text)
        rest = [fix_plain(v) for v in rendered[1 + self.n_body :]]
        labels = rest[: self.n_labels]
        tags = rest[self.n_labels : self.n_labels + self.n_tags]
        summary, alt = rest[self.n_labels + self.n_tags :]
        return title, blocks, labels, tags, summary, alt


def _plain_text(fragment: str) -> str:
    if "<" not in fragment and "&" not in fragment:
        return fragment
    return str(lxml.html.fragment_fromstring(f"<div>{fragment}</div>").text_content())


def _wanted(plans: Sequence[_Plan], done: Mapping[str, str] | None) -> dict[str, frozenset[str]]:
    """Segments still needed (all of them when ``done`` is None), each with the verbatim
    terms of the text they come from."""
    out: dict[str, set[str]] = {}
    for plan in plans:
        for paragraph in plan.paragraphs:
            segments = paragraph.segments() if done is None else paragraph.render(done)[1]
            for segment in segments:
                out.setdefault(segment, set()).update(paragraph.protected)
    return {segment: frozenset(terms) for segment, terms in out.items()}


class ArticleTranslator:
    """Translates batches of articles for one language pair (see module docs)."""

    def __init__(
        self,
        memory: MemoryLike,
        route: Sequence[Leg],
        *,
        keep_verbatim: Sequence[str] = (),
        glossary: Mapping[str, str] | None = None,
        clock: Callable[[], datetime],
        counts: Counts,
        guard: Callable[[str, str, Mapping[str, str] | None], str | None] = guards.check,
        source: Lang | None = None,
        target: Lang | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        if not route:
            raise ValueError("empty route")
        #: Checked between engine chunks: on shutdown the batch stops there, its finished
        #: segments are kept in the memory and its finished articles returned; the rest
        #: waits for the next run.
        self.should_stop = should_stop
        self.stopped = False
        self.memory = memory
        self.route = list(route)
        self.keep_verbatim = list(keep_verbatim)
        self.glossary = dict(glossary or {})
        self.clock = clock
        self.counts = counts
        self.guard = guard
        # The languages as the article and config say them ("en-GB", "pt-BR"); the legs
        # may use the engines' primary subtags ("en", "pt").
        self.target = target or route[-1].target
        self.source = source or route[0].source

    @property
    def pivot(self) -> Lang | None:
        return self.route[0].target if len(self.route) > 1 else None

    def translate(self, batch: Sequence[StoredArticle]) -> tuple[list[Translation], list[Problem]]:
        """Translations for the articles that could be fully translated, and problems."""
        plans = [_Plan(stored) for stored in batch]
        done: dict[str, str] = {}
        used: dict[str, str] = {}  # segment -> engine that produced its final leg
        failed: dict[str, str] = {}
        wanted = _wanted(plans, None)
        for _round in range(4):  # first round, then fallback pieces (nested markup: a few)
            # Segments are grouped by the verbatim text (code, translate="no") of the
            # paragraph they come from: a `<code>a</code>` in one article must not make
            # the word "a" untouchable in every other article of the batch.
            groups: dict[frozenset[str], list[str]] = {}
            for segment, terms in sorted(wanted.items()):
                if segment not in done and segment not in failed:
                    groups.setdefault(terms, []).append(segment)
            for terms, new in groups.items():
                if self.stopped:
                    break
                got, engines, lost = self._translate_route(new, set(terms))
                done.update(got)
                used.update(engines)
                failed.update(lost)
            wanted = _wanted(plans, done)
            if self.stopped or not wanted.keys() - failed.keys():
                break

        translations: list[Translation] = []
        problems: list[Problem] = []
        for plan in plans:
            rendered, missing = plan.render(done)
            untranslated: set[str] = set()
            if missing and self.stopped:
                continue  # interrupted, not failed: translated on the next run
            if missing:
                lenient = _Lenient(done)
                rendered, _ = plan.render(lenient)
                untranslated = lenient.used
                share = sum(len(m) for m in untranslated) / max(sum(len(s) for s in plan.segments()), 1)
                reasons = sorted({failed.get(m, "not translated") for m in untranslated})
                what = (f"{len(untranslated)} segment(s) failed every engine for {self.target} "
                        f"({'; '.join(reasons)})")
                if share > MAX_UNTRANSLATED_SHARE:
                    problems.append(Problem(
                        "translate", f"{what}: most of the article, so it is not published in {self.target}",
                        source=plan.stored.article.source, item=plan.stored.article.key, language=self.target,
                        fix="check the engine's log; another engine or model for the pair may serve it",
                    ))
                    continue
                what = f"[{plan.stored.article.source}] {plan.stored.article.key}: {what}"
                logger.warning("%s: published with them in the original language", what)
            segs = plan.segments() - untranslated
            engines = Counter(used.get(s, self.route[-1].engines[0].name) for s in segs)
            engine = engines.most_common(1)[0][0] if engines else self.route[-1].engines[0].name
            if untranslated:
                self.counts.add(self.target, engine, "untranslated", len(untranslated))
            notes = []
            if self.pivot:
                notes.append(f"pivot:{self.pivot}")
            if len(engines) > 1:
                notes.append("engines:" + ",".join(sorted(engines)))
            if untranslated:
                notes.append(f"untranslated:{len(untranslated)}")
            title, blocks, labels, tags, summary, alt = plan.build(rendered, self.source)
            translations.append(
                Translation(
                    article_id=plan.stored.id,
                    language=self.target,
                    engine=engine,
                    model=self.model_label(engine),
                    title=title,
                    blocks=blocks,
                    attributions=tuple(
                        Attribution(label, a.source, a.paragraph)
                        for a, label in zip(plan.stored.article.attributions, labels, strict=True)
                    ),
                    source_hash=source_key(plan.stored.article, self.source),
                    updated=self.clock(),
                    notes=tuple(notes),
                    tag_labels=tuple(tags),
                    summary=summary,
                    image_alt=alt,
                    untranslated=len(untranslated),
                )
            )
        return translations, problems

    def model_label(self, engine_name: str | None = None) -> str:
        """The models serving this route (for ``engine_name``, else the first engine)."""
        engine_name = engine_name or self.route[-1].engines[0].name
        parts = []
        for leg in self.route:
            for engine in leg.engines:
                if engine.name == engine_name or len(self.route) > 1:
                    parts.append(engine.model_id(leg.source, leg.target))
                    break
        return " + ".join(parts)

    # -- segments through the route ---------------------------------------------------------------

    def _protect(self, leg_index: int, segments: Sequence[str], protected_text: set[str]) -> dict[str, str]:
        """Protected terms for a leg: verbatim names, code text, and the glossary.

        The glossary maps source-language terms to the final target language, so it
        applies on the first leg; later legs keep its output verbatim.
        """
        terms: dict[str, str] = {t: t for t in self.keep_verbatim}
        terms.update({t: t for t in protected_text})
        if leg_index == 0:
            terms.update(self.glossary)
        else:
            terms.update({v: v for v in self.glossary.values()})
        return {t: r for t, r in terms.items() if any(t in s for s in segments)}

    def _translate_route(
        self, segments: Sequence[str], protected_text: set[str]
    ) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        current = {s: s for s in segments}
        engines: dict[str, str] = {}
        failed: dict[str, str] = {}
        for index, leg in enumerate(self.route):
            inputs = sorted(set(current.values()))
            protect = self._protect(index, inputs, protected_text)
            out, by_engine, lost = self._translate_leg(leg, inputs, protect)
            for original, text in list(current.items()):
                if text in lost:
                    failed[original] = lost[text]
                    del current[original]
                else:
                    current[original] = out[text]
                    engines[original] = by_engine[text]
        return current, engines, failed

    def _translate_leg(
        self, leg: Leg, segments: Sequence[str], protect: Mapping[str, str]
    ) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """Through the leg's engines in order; returns (translations, engine per segment, failures)."""
        language = leg.target
        remaining = list(segments)
        out: dict[str, str] = {}
        by_engine: dict[str, str] = {}
        reasons: dict[str, str] = {}
        for engine in leg.engines:
            if not remaining:
                break
            model = engine.model_id(leg.source, leg.target)
            hits, rejected = self.memory.get(engine.name, model, leg.source, leg.target, remaining)
            self.counts.add(language, engine.name, "memory_hits", len(hits))
            for s, t in hits.items():
                out[s], by_engine[s] = t, engine.name
            todo = [s for s in remaining if s not in hits and s not in rejected]
            for s in remaining:
                if s in rejected:
                    reasons.setdefault(s, f"{engine.name}: rejected earlier")
            if todo:
                terms = {t: r for t, r in protect.items() if any(t in s for s in todo)}
                logger.info("translating %d segment(s) %s->%s with %s", len(todo), leg.source, leg.target, engine.name)
                try:
                    results = self._run_engine(engine, todo, leg, terms, self.should_stop)
                except _Stopped as stop:
                    self.stopped = True
                    todo, results = todo[: len(stop.results)], stop.results  # keep the finished chunks
                except Exception as exc:
                    logger.error("%s failed on %s->%s: %s", engine.name, leg.source, leg.target, exc)
                    self.counts.add(language, engine.name, "engine_errors")
                    for s in todo:
                        reasons[s] = f"{engine.name}: {exc}"
                    remaining = [s for s in remaining if s not in out]
                    continue
                good: list[tuple[str, str]] = []
                bad: dict[str, str] = {}
                for s, t in zip(todo, results, strict=True):
                    reason = self.guard(s, t, {k: v for k, v in terms.items() if k in s})
                    if reason is None:
                        good.append((s, t.strip()))
                    else:
                        bad[s] = reason
                        reasons[s] = f"{engine.name}: {reason}"
                        logger.warning("guard (%s) rejected %s output for %r: %r", reason, engine.name, s[:80], t[:80])
                        metrics.record_guard_rejection(language, engine.name, reason)
                self.counts.add(language, engine.name, "translated", len(good))
                self.counts.add(language, engine.name, "guard_failures", len(bad))
                self.memory.put(
                    engine.name, model, leg.source, leg.target,
                    good + [(s, t) for s, t in zip(todo, results, strict=True) if s in bad],
                    self.clock(), rejected=bad,
                )
                for s, t in good:
                    out[s], by_engine[s] = t, engine.name
            remaining = [s for s in remaining if s not in out]
            if self.stopped:
                break
        failed = {s: reasons.get(s, "interrupted" if self.stopped else "no engine") for s in remaining}
        return out, by_engine, failed


    @staticmethod
    def _run_engine(
        engine: Translator, todo: list[str], leg: Leg, terms: Mapping[str, str],
        should_stop: Callable[[], bool] | None = None,
    ) -> list[str]:
        """One engine call, or several when someone watches a progress bar or may stop us.

        With a stop check, segments go in chunks (from :data:`STOP_CHUNK`, doubled while
        a chunk takes under a second, so a fast engine still gets large batches) and the
        check runs between them; a stop raises :class:`_Stopped` with the finished ones.
        """
        show = progress.reporter()
        size = show.chunk or (STOP_CHUNK if should_stop else len(todo)) or 1
        results: list[str] = []
        with show.task(f"{engine.name} {leg.source}->{leg.target}", len(todo)) as task:
            start = 0
            while start < len(todo):
                if should_stop is not None and start and should_stop():
                    raise _Stopped(results)
                chunk = todo[start : start + size]
                began = time.monotonic()
                # An engine's output is input too: nothing that is never text goes further.
                results.extend(clean_bytes_text(t) for t in engine.translate(chunk, leg.source, leg.target, protect=terms))
                task.advance(len(chunk))
                start += len(chunk)
                if should_stop is not None and not show.chunk and time.monotonic() - began < 1.0:
                    size *= 2
        return results


#: Segments per engine call when the caller may ask to stop (the daemon): small enough
#: that SIGTERM is honoured within seconds on the slowest engine, large enough to batch.
STOP_CHUNK = 16


class _Stopped(Exception):
    """The stop check said stop between two engine chunks; ``results`` are the finished ones."""

    def __init__(self, results: list[str]) -> None:
        super().__init__("stopped")
        self.results = results


class MemoryLike(Protocol):
    """The part of the store translation needs: the segment memory (``store.memory``)."""

    def get(
        self, engine: str, model: str, source: str, target: str, segments: Sequence[str]
    ) -> tuple[dict[str, str], set[str]]: ...

    def put(
        self, engine: str, model: str, source: str, target: str, pairs: Sequence[tuple[str, str]], now: datetime,
        *, rejected: Mapping[str, str] | None = None,
    ) -> None: ...


__all__ = ["ArticleTranslator", "Counts", "Leg", "MemoryLike", "sanitize"]
