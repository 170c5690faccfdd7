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

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import nh3

from syndicate import progress
from syndicate.models import Attribution, Lang, StoredArticle, Translation, source_key
from syndicate.translate import guards
from syndicate.translate.base import Translator
from syndicate.translate.markup import ParagraphPlan
from syndicate.translate.segments import normalize, split_sentences

logger = logging.getLogger(__name__)

#: What survives in a published body: inline markup only, safe attributes, safe URLs.
ALLOWED_TAGS = {"p", "a", "em", "strong", "b", "i", "span", "sup", "sub", "br", "code", "pre", "q", "abbr", "cite",
                "mark", "small", "s", "u", "kbd", "samp", "var", "img"}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang", "lang"},
    "abbr": {"title"},
    "span": {"lang", "translate", "title", "class"},
    "code": {"translate"},
    "img": {"src", "alt", "title"},
    "*": {"lang"},
}


def sanitize(fragment: str) -> str:
    """Strip anything dangerous: scripts, styles, event handlers, javascript: URLs."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
    )


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


class _Plan:
    """How one article splits into segments and how translations rebuild it."""

    def __init__(self, stored: StoredArticle) -> None:
        self.stored = stored
        article = stored.article
        self.title = split_sentences(article.title)
        self.paragraphs = [ParagraphPlan(p) for p in article.paragraphs]
        self.labels = [a.label for a in article.attributions]

    def segments(self) -> set[str]:
        out = {normalize(s) for s, _ in self.title if normalize(s)}
        for plan in self.paragraphs:
            out |= plan.segments()
        out |= {normalize(label) for label in self.labels if normalize(label)}
        return out

    def render(self, done: Mapping[str, str]) -> tuple[str, list[str], list[str], set[str]]:
        missing: set[str] = set()

        def sentence(s: str) -> str:
            key = normalize(s)
            if not key:
                return s
            if key not in done:
                missing.add(key)
                return s
            return done[key]

        title = "".join(sentence(s) + gap for s, gap in self.title).strip()
        paragraphs = []
        for plan in self.paragraphs:
            body, more = plan.render(done)
            missing |= more
            paragraphs.append(body)
        labels = [sentence(label) for label in self.labels]
        return title, paragraphs, labels, missing


def _wanted(plans: Sequence[_Plan], done: Mapping[str, str] | None) -> dict[str, frozenset[str]]:
    """Segments still needed (all of them when ``done`` is None), each with the verbatim
    terms of the paragraphs it comes from."""
    out: dict[str, set[str]] = {}
    for plan in plans:
        if done is None:
            for s, _ in plan.title:
                if normalize(s):
                    out.setdefault(normalize(s), set())
            for label in plan.labels:
                if normalize(label):
                    out.setdefault(normalize(label), set())
        else:
            for key in plan.render(done)[3]:
                out.setdefault(key, set())
        for paragraph in plan.paragraphs:
            segments = paragraph.segments() if done is None else paragraph.render(done)[1]
            for segment in segments:
                out.setdefault(segment, set()).update(paragraph.protected)
    return {segment: frozenset(terms) for segment, terms in out.items()}


class ArticleTranslator:
    """Translates batches of articles for one language pair (see module docs)."""

    def __init__(
        self,
        store: StoreLike,
        route: Sequence[Leg],
        *,
        keep_verbatim: Sequence[str] = (),
        glossary: Mapping[str, str] | None = None,
        clock: Callable[[], datetime],
        counts: Counts,
        guard: Callable[[str, str, Mapping[str, str] | None], str | None] = guards.check,
    ) -> None:
        if not route:
            raise ValueError("empty route")
        self.store = store
        self.route = list(route)
        self.keep_verbatim = list(keep_verbatim)
        self.glossary = dict(glossary or {})
        self.clock = clock
        self.counts = counts
        self.guard = guard
        self.target = route[-1].target
        self.source = route[0].source

    @property
    def pivot(self) -> Lang | None:
        return self.route[0].target if len(self.route) > 1 else None

    def translate(self, batch: Sequence[StoredArticle]) -> tuple[list[Translation], list[str]]:
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
                got, engines, lost = self._translate_route(new, set(terms))
                done.update(got)
                used.update(engines)
                failed.update(lost)
            wanted = _wanted(plans, done)
            if not wanted.keys() - failed.keys():
                break

        translations: list[Translation] = []
        problems: list[str] = []
        for plan in plans:
            title, paragraphs, labels, missing = plan.render(done)
            if missing:
                reasons = sorted({failed.get(m, "not translated") for m in missing})
                problems.append(
                    f"article {plan.stored.article.key!r} ({plan.stored.article.source}) not published in "
                    f"{self.target}: {len(missing)} segment(s) failed every engine ({'; '.join(reasons)})"
                )
                continue
            segs = plan.segments()
            engines = Counter(used.get(s, self.route[-1].engines[0].name) for s in segs)
            engine = engines.most_common(1)[0][0] if engines else self.route[-1].engines[0].name
            notes = []
            if self.pivot:
                notes.append(f"pivot:{self.pivot}")
            if len(engines) > 1:
                notes.append("engines:" + ",".join(sorted(engines)))
            translations.append(
                Translation(
                    article_id=plan.stored.id,
                    language=self.target,
                    engine=engine,
                    model=self._model_label(engine),
                    title=title,
                    paragraphs=tuple(sanitize(p) for p in paragraphs),
                    attributions=tuple(
                        Attribution(label, a.source, a.paragraph)
                        for a, label in zip(plan.stored.article.attributions, labels, strict=True)
                    ),
                    source_hash=source_key(plan.stored.article, self.source),
                    updated=self.clock(),
                    notes=tuple(notes),
                )
            )
        return translations, problems

    def _model_label(self, engine_name: str) -> str:
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
            hits, rejected = self.store.memory_get(engine.name, model, leg.source, leg.target, remaining)
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
                    results = self._run_engine(engine, todo, leg, terms)
                except Exception as exc:  # noqa: BLE001 - an engine failure moves on to the next engine
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
                self.counts.add(language, engine.name, "translated", len(good))
                self.counts.add(language, engine.name, "guard_failures", len(bad))
                self.store.memory_put(
                    engine.name, model, leg.source, leg.target,
                    good + [(s, t) for s, t in zip(todo, results, strict=True) if s in bad],
                    self.clock(), rejected=bad,
                )
                for s, t in good:
                    out[s], by_engine[s] = t, engine.name
            remaining = [s for s in remaining if s not in out]
        failed = {s: reasons.get(s, "no engine") for s in remaining}
        return out, by_engine, failed


    @staticmethod
    def _run_engine(engine: Translator, todo: list[str], leg: Leg, terms: Mapping[str, str]) -> list[str]:
        """One engine call, or several when someone watches a progress bar."""
        show = progress.reporter()
        size = show.chunk or len(todo)
        results: list[str] = []
        with show.task(f"{engine.name} {leg.source}->{leg.target}", len(todo)) as task:
            for start in range(0, len(todo), size):
                chunk = todo[start : start + size]
                results.extend(engine.translate(chunk, leg.source, leg.target, protect=terms))
                task.advance(len(chunk))
        return results


class StoreLike(Protocol):
    """The part of the store translation needs (the segment memory)."""

    def memory_get(
        self, engine: str, model: str, source: str, target: str, segments: Sequence[str]
    ) -> tuple[dict[str, str], set[str]]: ...

    def memory_put(
        self, engine: str, model: str, source: str, target: str, pairs: Sequence[tuple[str, str]], now: datetime,
        *, rejected: Mapping[str, str] | None = None,
    ) -> None: ...


__all__ = ["ArticleTranslator", "Counts", "Leg", "StoreLike", "sanitize"]
