"""Translating articles: names, segments, memory, engine chain, guards, finishing, quality.

For one language pair, :class:`ArticleTranslator` turns a batch of stored articles into
:class:`~syndicate.models.Translation` records:

- every article's **names** are found first (:mod:`syndicate.translate.names`: persons,
  companies, brands, places kept; Title Case headlines and headings put into sentence
  case), with the article as a whole as evidence;
- every article is planned into segments (title sentences, body sentences via
  :mod:`syndicate.translate.markup`, attribution labels, tags, ``title``/``alt``
  attributes); each segment carries the **protected terms** found in it: its names,
  ``keep_verbatim`` terms, glossary entries, text in ``<code>``, and its money amounts,
  percentages and times with their target-language form (:mod:`syndicate.translate.numbers`);
- all new segments of the batch go to an engine in one call (what makes Argos fast);
- the segment memory answers what was translated before, per engine, model, language
  pair and the protected terms the segment had (so a change of names, glossary or
  engine redoes exactly the segments it touches);
- quality guards reject bad output; rejected segments go to the next engine of the
  chain; a rejection is remembered so it is not retried every run;
- with no direct pair, the route pivots through English if both legs exist;
- every segment is then finished for the target language (:mod:`syndicate.translate.polish`:
  debris, spacing, quotes, ¿¡, glued words; plain numbers with the target's separators),
  and its numbers are compared with the source's;
- each translation carries its **quality**: the engine's own confidence per segment,
  lowered where a check found a problem, summed over the article, with the counts of
  what was found (unknown words, numbers that differ, glued words repaired);
- bodies are sanitised with nh3 before they leave this module.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

import lxml.html

from syndicate import metrics, progress
from syndicate.errors import Problem, TranslationError
from syndicate.extract.decode import clean_bytes_text
from syndicate.models import (
    Attribution,
    Block,
    Heading,
    Lang,
    SegmentRecord,
    StoredArticle,
    Translation,
    map_text,
    source_key,
    texts,
)
from syndicate.sanitize import sanitize
from syndicate.translate import guards
from syndicate.translate.analysis import Lookup
from syndicate.translate.base import EngineOutput, Leg, Translator
from syndicate.translate.markup import Fixed, ParagraphPlan
from syndicate.translate.names import NameFinder, Names
from syndicate.translate.numbers import localise, number_terms, numbers_agree
from syndicate.translate.polish import Polisher
from syndicate.translate.revisions import NAMES_REVISION, NUMBERS_REVISION, POLISH_REVISION, SHAPING_REVISION

logger = logging.getLogger(__name__)

# SHAPING_REVISION (syndicate.translate.revisions): bump it when what the engines are
# given changes for the same segment and terms (how protected terms are sent, how
# compounds are spaced); memory entries made before are not reused, and stored
# translations are redone.

#: A segment's protected terms, (term, what must stand for it) sorted: part of its identity.
Terms = tuple[tuple[str, str], ...]
#: A segment to translate: its text and its protected terms.
Key = tuple[str, Terms]

#: The engine name a segment made by an editor's correction carries.
HUMAN = "human"
#: How alike a changed source segment must be to the one a correction was made for to
#: inherit its "needs review" mark (difflib's ratio).
REVIEW_SIMILARITY = 0.6

#: What lowers a segment's confidence, per problem a check found in it.
PENALTIES = {"numbers": 0.5, "glued": 0.9, "debris": 0.95}


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
class MemoryEntry:
    """A segment as the memory keeps it: the engine's output (protected terms in
    place) and the engine's own confidence."""

    text: str
    confidence: float | None = None
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Done:
    """A segment translated and finished."""

    text: str
    engine: str
    confidence: float | None = None
    unknown: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


def rules_digest(terms: Terms) -> str:
    """What a segment's translation depends on besides its text, engine and model: its
    protected terms and how engines are given them (part of its memory key)."""
    data = json.dumps([SHAPING_REVISION, terms], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:24]


#: Marks around a segment no engine could translate while rendering; replaced by a
#: ``<span lang=... class="untranslated">`` in HTML and dropped from plain text.
_UNTRANSLATED_OPEN, _UNTRANSLATED_CLOSE = "\ue000", "\ue001"
#: An article is held back from a language only when more than this share of its text
#: (by characters of its segments) failed every engine.
MAX_UNTRANSLATED_SHARE = 0.5


class _View(Mapping[str, str]):
    """One article's translations by segment text (its terms looked up per segment);
    records what it was asked for, and marks what is missing when ``lenient``."""

    def __init__(self, done: Mapping[Key, _Done], plan: _Plan, *, lenient: bool = False) -> None:
        self.done = done
        self.plan = plan
        self.lenient = lenient
        self.used: set[Key] = set()
        self.missing: set[str] = set()

    def get(self, key: str, default: object = None) -> str | None:  # type: ignore[override]
        found = self.done.get(self.plan.key(key))
        if found is not None:
            self.used.add(self.plan.key(key))
            return Fixed(found.text) if found.engine == HUMAN else found.text
        if self.lenient:
            self.missing.add(key)
            return f"{_UNTRANSLATED_OPEN}{key}{_UNTRANSLATED_CLOSE}"
        return None

    def __getitem__(self, key: str) -> str:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (self.lenient or self.plan.key(key) in self.done)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _overlaps(span: tuple[int, int], others: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


class _Plan:
    """How one article splits into segments and how translations rebuild it.

    Every human-readable text becomes one :class:`ParagraphPlan` ("slot"), in a fixed
    order: the title, every text of the body blocks (:func:`syndicate.models.texts`),
    the attribution labels, the tags, the summary and the lead image's ``alt``. Plain
    texts are escaped into a fragment and read back as text. Title Case texts (the
    title, headings) are planned in sentence case (``names.recased``).
    """

    def __init__(
        self,
        stored: StoredArticle,
        names: Names,
        terms: Mapping[str, str],
        source: Lang,
        target: Lang,
        fixed: Collection[str] = (),
        *,
        title_only: bool = False,
    ) -> None:
        self.stored = stored
        self.source = source
        self.target = target
        #: Only the title is a slot (``[[sources]] title_only``); the rest stays the original's.
        self.title_only = title_only
        article = stored.article
        recased = names.recased
        title = recased.get(article.title, article.title)
        if title_only:
            body: list[tuple[str, bool]] = []
            plain = [title]
        else:
            body = [(_recase(value, plain, recased), plain) for value, plain in texts(article.blocks)]
            plain = [
                title,
                *(a.label for a in article.attributions),
                *article.meta.tags,
                article.meta.summary,
                article.meta.image.alt if article.meta.image else "",
            ]
        self.n_body = len(body)
        self.n_labels = 0 if title_only else len(article.attributions)
        self.n_tags = 0 if title_only else len(article.meta.tags)
        slots: list[tuple[str, bool]] = [(plain[0], True), *body, *((p, True) for p in plain[1:])]
        self.plain = [is_plain for _, is_plain in slots]
        sources = [html.escape(value, quote=False) if is_plain else value for value, is_plain in slots]
        self.paragraphs = [ParagraphPlan(value) for value in sources]
        # The article's terms (names, keep_verbatim, glossary) and the text in <code>: only
        # those that occur in it (a glossary of 10,000 terms made a pattern of 10,000
        # alternatives for every article, two seconds each to compile).
        text = "\n".join(sources)
        self.terms = {
            term: value for term, value in terms.items() if term in text or html.escape(term, quote=False) in text
        }
        self.fixed = set(fixed)
        for paragraph in self.paragraphs:
            self.terms.update({t: t for t in paragraph.protected if t.strip()})
            self.fixed.update(t for t in paragraph.protected if t.strip())
        self._pattern = _terms_pattern(tuple(sorted(self.terms)))
        self._keys: dict[str, Key] = {}

    def key(self, segment: str) -> Key:
        """A segment with the protected terms found in it (and its numbers' target forms)."""
        found = self._keys.get(segment)
        if found is None:
            terms: dict[str, str] = {}
            numbers = number_terms(segment, self.source, self.target)
            cut = [m.span() for term in numbers for m in re.finditer(re.escape(term), segment)]
            taken: list[tuple[int, int]] = []
            if self._pattern is not None:
                for match in self._pattern.finditer(segment):
                    term = match.group(0)
                    if term not in self.fixed and _overlaps(match.span(), cut):
                        continue  # a name found in the text never cuts a number ("PM Wednesday", "Fed's 2")
                    terms[term] = self.terms[term]
                    taken.append(match.span())
            for term, form in numbers.items():  # the operator's terms win over numbers
                if not any(_overlaps(m.span(), taken) for m in re.finditer(re.escape(term), segment)):
                    terms[term] = form
            found = (segment, tuple(sorted(terms.items())))
            self._keys[segment] = found
        return found

    def segments(self) -> set[str]:
        out: set[str] = set()
        for plan in self.paragraphs:
            out |= plan.segments()
        return out

    def slot_kind(self, index: int) -> str:
        """What slot ``index`` holds: "title", "text", "label", "tag", "summary" or "alt"."""
        if index == 0:
            return "title"
        index -= 1
        for kind, n in (("text", self.n_body), ("label", self.n_labels), ("tag", self.n_tags), ("summary", 1)):
            if index < n:
                return kind
            index -= n
        return "alt"

    def records(self, done: Mapping[Key, _Done], used: Collection[Key]) -> list[SegmentRecord]:
        """Every segment the rendering used and its translation, in reading order."""
        out: list[SegmentRecord] = []
        seen: set[Key] = set()
        ordered = [(self.slot_kind(i), s) for i, plan in enumerate(self.paragraphs) for s in plan.ordered()]
        ordered += [("text", key[0]) for key in sorted(used)]  # pieces a fallback rendering needed
        for kind, segment in ordered:
            key = self.key(segment)
            if key in seen or key not in used:
                continue
            seen.add(key)
            found = done[key]
            human = found.engine == HUMAN
            out.append(
                SegmentRecord(
                    source=segment,
                    target=found.text,
                    origin="human" if human else "machine",
                    confidence=None if found.confidence is None else round(found.confidence, 4),
                    flags=() if human else found.flags,
                    slot=kind,
                )
            )
        return out

    def wanted(self, done: Mapping[Key, _Done] | None) -> set[Key]:
        """Segments still needed (all of them when ``done`` is None)."""
        if done is None:
            return {self.key(s) for s in self.segments()}
        view = _View(done, self)
        out: set[Key] = set()
        for paragraph in self.paragraphs:
            out |= {self.key(s) for s in paragraph.render(view)[1]}
        return out

    def rules(self) -> str:
        """What the article's translation depends on besides its text and model: the terms
        its texts protect and the revisions of the code that finds and finishes them."""
        used: set[tuple[str, str]] = set()
        for segment in self.segments():
            used.update(self.key(segment)[1])
        rules: list[Any] = [SHAPING_REVISION, NAMES_REVISION, NUMBERS_REVISION, POLISH_REVISION, sorted(used)]
        if self.title_only:  # switching the mode on or off redoes the source's translations
            rules.append("title-only")
        data = json.dumps(rules, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def render(self, view: _View) -> tuple[list[str], set[str]]:
        """Every slot rendered (HTML for body texts, plain text for the rest), and what was missing."""
        missing: set[str] = set()
        out = []
        for plan, is_plain in zip(self.paragraphs, self.plain, strict=True):
            body, more = plan.render(view)
            missing |= more
            out.append(_plain_text(body) if is_plain else body)
        return out, missing

    def build(
        self, rendered: list[str], source_language: str
    ) -> tuple[str, tuple[Block, ...], list[str], list[str], str, str]:
        """(title, blocks, labels, tag labels, summary, image alt) from rendered slots."""
        marked = f'<span lang="{html.escape(source_language)}" class="untranslated">'

        def body_text(value: str, plain: bool) -> str:
            return next(body_iter)

        def fix_plain(value: str) -> str:
            return value.replace(_UNTRANSLATED_OPEN, "").replace(_UNTRANSLATED_CLOSE, "")

        title = fix_plain(rendered[0])
        if self.title_only:  # the rest is published as the original has it
            article = self.stored.article
            return (
                title,
                article.blocks,
                [a.label for a in article.attributions],
                list(article.meta.tags),
                article.meta.summary,
                article.meta.image.alt if article.meta.image else "",
            )
        body = [
            fix_plain(value)
            if self.plain[1 + i]
            else sanitize(value.replace(_UNTRANSLATED_OPEN, marked).replace(_UNTRANSLATED_CLOSE, "</span>"))
            for i, value in enumerate(rendered[1 : 1 + self.n_body])
        ]
        body_iter = iter(body)
        blocks = map_text(self.stored.article.blocks, body_text)
        rest = [fix_plain(v) for v in rendered[1 + self.n_body :]]
        labels = rest[: self.n_labels]
        tags = rest[self.n_labels : self.n_labels + self.n_tags]
        summary, alt = rest[self.n_labels + self.n_tags :]
        return title, blocks, labels, tags, summary, alt


def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """Any of ``terms`` as a whole word, longest first."""
    if not terms:
        return None
    alternatives = [
        (r"(?<!\w)" if re.match(r"\w", t) else "") + re.escape(t) + (r"(?!\w)" if re.search(r"\w$", t) else "")
        for t in sorted(terms, key=len, reverse=True)
    ]
    return re.compile("|".join(alternatives))


def _plain_text(fragment: str) -> str:
    if "<" not in fragment and "&" not in fragment:
        return fragment
    return str(lxml.html.fragment_fromstring(f"<div>{fragment}</div>").text_content())


def article_texts(stored: StoredArticle) -> tuple[list[str], list[str], list[str]]:
    """An article's plain texts (title first), the ones that may be in Title Case (its
    title and headings), and its authors: what the name finder reads."""
    article = stored.article
    body = [value if plain else _plain_text(value) for value, plain in texts(article.blocks)]
    headings = [_plain_text(b.html) for b in article.blocks if isinstance(b, Heading)]
    plain = [
        article.title,
        *body,
        *(a.label for a in article.attributions),
        *article.meta.tags,
        article.meta.summary,
        article.meta.image.alt if article.meta.image else "",
    ]
    return [t for t in plain if t.strip()], [article.title, *headings], [a.name for a in article.meta.authors]


def _recase(value: str, plain: bool, recased: Mapping[str, str]) -> str:
    """A body text in sentence case when it is a Title Case heading."""
    if not recased:
        return value
    text = value if plain else _plain_text(value)
    new = recased.get(text)
    if new is None or new == text:
        return value
    if plain or ("<" not in value and "&" not in value):
        return new
    # Inline markup: lower the same words in the fragment's text nodes, in order.
    lowered = [b for a, b in zip(re.findall(r"\S+", text), re.findall(r"\S+", new), strict=False) if a != b]
    root = lxml.html.fragment_fromstring(value, create_parent="div")
    todo = list(lowered)
    for node in root.iter():
        for attr in ("text", "tail"):
            piece = getattr(node, attr)
            if not piece or not todo:
                continue
            words = piece.split(" ")
            for i, word in enumerate(words):
                if todo and word == todo[0][0].upper() + todo[0][1:]:
                    words[i] = todo.pop(0)
            setattr(node, attr, " ".join(words))
    return html.escape(root.text or "", quote=False) + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in root
    )


class ArticleTranslator:
    """Translates batches of articles for one language pair (see module docs).

    ``names`` finds the source language's names (None: only ``keep_verbatim`` and the
    glossary are protected); ``polisher`` finishes output for the target (None: a plain
    one without a dictionary); ``fresh`` translates again what the memory holds (and
    replaces it), for ``syndicate retranslate``.
    """

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
        names: NameFinder | None = None,
        polisher: Polisher | None = None,
        pair_lookup: Lookup | None = None,
        fresh: bool = False,
        corrections: Callable[[Collection[str]], Mapping[str, str]] | None = None,
        title_only: Collection[str] = (),
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
        self.names = names
        self.polisher = polisher or Polisher(self.source, self.target)
        #: The first engine's own dictionary of the source language, when it has one:
        #: places it reads whole are left to it (see :meth:`Names.terms`).
        self.pair_lookup = pair_lookup if pair_lookup is not None and pair_lookup.available else None
        self.fresh = fresh
        #: Editors' corrections: segment -> the human translation, which wins over every
        #: engine and the memory (``store.review``); None: none are used.
        self.corrections = corrections
        #: The sources whose articles have only their title translated ([[sources]] title_only).
        self.title_only = frozenset(title_only)
        #: The names found that are people's, across the batch (a hint for the engines).
        self.people: frozenset[str] = frozenset()

    @property
    def pivot(self) -> Lang | None:
        return self.route[0].target if len(self.route) > 1 else None

    # -- planning ---------------------------------------------------------------------------

    def plans(self, batch: Sequence[StoredArticle]) -> list[_Plan]:
        """Each article's plan: its names found (the dictionary asked once for the batch)
        and its protected terms for this target language."""
        read = [article_texts(stored) for stored in batch]
        if self.names is not None:
            self.names.prepare([plain for plain, _, _ in read])
        fixed = {t: t for t in self.keep_verbatim}
        fixed.update(self.glossary)
        found = [
            self.names.find(plain, title_case, authors) if self.names is not None else Names()
            for plain, title_case, authors in read
        ]
        knows: Callable[[str], bool] | None = None
        if self.pair_lookup is not None:
            pair = self.pair_lookup
            pair.prefetch({name for names in found for name in names.candidates})

            def engine_knows(name: str) -> bool:
                # As a proper noun ("Middle East"), or as the adjective a place is too
                # ("Arctic": "rutas del Ártico"); a known place has no common reading.
                unit = pair.one_unit(name)
                return unit is not None and (unit.proper or any("<adj>" in r for r in unit.readings))

            knows = engine_knows

        plans = []
        people: set[str] = set(self.people)
        for stored, names in zip(batch, found, strict=True):
            people |= names.people
            terms = {**names.terms(self.target, knows), **fixed}  # the operator's terms win over found names
            plans.append(
                _Plan(
                    stored,
                    names,
                    terms,
                    self.source,
                    self.target,
                    fixed,
                    title_only=stored.article.source in self.title_only,
                )
            )
        self.people = frozenset(people)
        return plans

    def rules(self, batch: Sequence[StoredArticle]) -> dict[int, str]:
        """Article id -> what its translation would depend on now (see :meth:`_Plan.rules`),
        with the model serving the route: what a changed rule is found by."""
        label = self.model_label()
        out = {}
        for plan in self.plans(batch):
            out[plan.stored.id] = hashlib.sha256(f"{plan.rules()}|{label}".encode()).hexdigest()[:32]
        return out

    # -- translating ------------------------------------------------------------------------

    def translate(
        self, batch: Sequence[StoredArticle], previous: Mapping[int, Translation] | None = None
    ) -> tuple[list[Translation], list[Problem]]:
        """Translations for the articles that could be fully translated, and problems.

        ``previous`` (article id -> its stored translation) says where an editor's
        correction stood: a corrected segment whose source text changed is machine
        translated again and marked "needs review" with the old correction beside it."""
        previous = previous or {}
        plans = self.plans(batch)
        done: dict[Key, _Done] = {}
        failed: dict[Key, str] = {}
        wanted: set[Key] = set()
        for plan in plans:
            wanted |= plan.wanted(None)
        for _round in range(4):  # first round, then fallback pieces (nested markup: a few)
            todo = sorted(k for k in wanted if k not in done and k not in failed)
            if todo and self.corrections is not None:
                corrected = self.corrections({k[0] for k in todo})
                for key in todo:
                    if key[0] in corrected:
                        done[key] = _Done(corrected[key[0]], HUMAN, 1.0)
                todo = [k for k in todo if k not in done]
            if todo and not self.stopped:
                got, lost = self._translate_route(todo)
                done.update(self._finish(got))
                failed.update(lost)
            wanted = set()
            for plan in plans:
                wanted |= plan.wanted(done)
            if self.stopped or not wanted - failed.keys():
                break

        label = self.model_label()
        translations: list[Translation] = []
        problems: list[Problem] = []
        for plan in plans:
            view = _View(done, plan)
            rendered, missing = plan.render(view)
            untranslated: set[str] = set()
            if missing and self.stopped:
                continue  # interrupted, not failed: translated on the next run
            if missing:
                view = _View(done, plan, lenient=True)
                rendered, _ = plan.render(view)
                untranslated = view.missing
                share = sum(len(m) for m in untranslated) / max(sum(len(s) for s in plan.segments()), 1)
                reasons = sorted({failed.get(plan.key(m), "not translated") for m in untranslated})
                what = f"{len(untranslated)} segment(s) failed every engine for {self.target} ({'; '.join(reasons)})"
                if share > MAX_UNTRANSLATED_SHARE:
                    problems.append(
                        Problem(
                            "translate",
                            f"{what}: most of the article, so it is not published in {self.target}",
                            source=plan.stored.article.source,
                            item=plan.stored.article.key,
                            language=self.target,
                            fix="check the engine's log; another engine or model for the pair may serve it",
                        )
                    )
                    continue
                what = f"[{plan.stored.article.source}] {plan.stored.article.key}: {what}"
                logger.warning("%s: published with them in the original language", what)
            used = [done[k] for k in view.used]
            engines = Counter(d.engine for d in used if d.engine != HUMAN)
            engine = engines.most_common(1)[0][0] if engines else self.route[-1].engines[0].name
            records = _needs_review(plan.records(done, view.used), previous.get(plan.stored.id))
            if untranslated:
                self.counts.add(self.target, engine, "untranslated", len(untranslated))
            notes = []
            if self.pivot:
                notes.append(f"pivot:{self.pivot}")
            if len(engines) > 1:
                notes.append("engines:" + ",".join(sorted(engines)))
            if untranslated:
                notes.append(f"untranslated:{len(untranslated)}")
            confidence, quality = _quality(view.used, done, untranslated)
            for name, n in quality:
                if name in PENALTIES:  # what the checks found, counted per run as the engines' counters are
                    self.counts.add(self.target, engine, name, n)
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
                    title_only=plan.title_only,
                    confidence=confidence,
                    quality=quality,
                    rules=hashlib.sha256(f"{plan.rules()}|{label}".encode()).hexdigest()[:32],
                    segments=tuple(records),
                    corrected=sum(1 for r in records if r.origin == "human"),
                    needs_review=sum(1 for r in records if r.needs_review),
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

    def _finish(self, raw: Mapping[Key, _Done]) -> dict[Key, _Done]:
        """Every translated segment finished for the target language and checked."""
        keys = list(raw)
        items = [(key[0], localise(raw[key].text, key[0], self.source, self.target)) for key in keys]
        polished = self.polisher.polish_all(items)
        out: dict[Key, _Done] = {}
        for key, (text, flags) in zip(keys, polished, strict=True):
            found = raw[key]
            flags = tuple(dict.fromkeys((*found.flags, *flags)))
            if not numbers_agree(key[0], text, self.source, self.target):
                flags = (*flags, "numbers")
            confidence = found.confidence
            if confidence is not None:
                for flag in flags:
                    confidence *= PENALTIES.get(flag, 1.0)
            out[key] = _Done(text, found.engine, confidence, found.unknown, flags)
        return out

    # -- segments through the route ---------------------------------------------------------------

    def _translate_route(self, keys: Sequence[Key]) -> tuple[dict[Key, _Done], dict[Key, str]]:
        """Each key through every leg of the route: on the first leg its terms map to their
        target forms; later legs keep those forms verbatim."""
        current: dict[Key, tuple[str, Terms]] = {k: (k[0], k[1]) for k in keys}
        engines: dict[Key, str] = {}
        confidence: dict[Key, float | None] = dict.fromkeys(keys, 1.0)
        unknown: dict[Key, tuple[str, ...]] = dict.fromkeys(keys, ())
        failed: dict[Key, str] = {}
        for index, leg in enumerate(self.route):
            if index:
                current = {k: (text, tuple(sorted({(r, r) for _, r in terms}))) for k, (text, terms) in current.items()}
            items = sorted(set(current.values()))
            out, lost = self._translate_leg(leg, items)
            for key, item in list(current.items()):
                if item in lost:
                    failed[key] = lost[item]
                    del current[key]
                    continue
                entry, engine = out[item]
                previous = confidence[key]
                confidence[key] = None if previous is None or entry.confidence is None else previous * entry.confidence
                unknown[key] = (*unknown[key], *entry.unknown)
                engines[key] = engine
                current[key] = (entry.text, item[1])
        done = {key: _Done(text, engines[key], confidence[key], unknown[key]) for key, (text, _) in current.items()}
        return done, failed

    def _translate_leg(
        self, leg: Leg, items: Sequence[tuple[str, Terms]]
    ) -> tuple[dict[tuple[str, Terms], tuple[MemoryEntry, str]], dict[tuple[str, Terms], str]]:
        """Through the leg's engines in order; returns ({item: (entry, engine)}, failures)."""
        language = leg.target
        remaining = list(items)
        out: dict[tuple[str, Terms], tuple[MemoryEntry, str]] = {}
        reasons: dict[tuple[str, Terms], str] = {}
        for engine in leg.engines:
            if not remaining:
                break
            model = engine.model_id(leg.source, leg.target)
            keyed = {(text, rules_digest(terms)): (text, terms) for text, terms in remaining}
            if self.fresh:
                hits: dict[tuple[str, str], MemoryEntry] = {}
                rejected: set[tuple[str, str]] = set()
            else:
                hits, rejected = self.memory.get(engine.name, model, leg.source, leg.target, list(keyed))
            self.counts.add(language, engine.name, "memory_hits", len(hits))
            for mkey, entry in hits.items():
                out[keyed[mkey]] = (entry, engine.name)
            todo = [item for mkey, item in keyed.items() if mkey not in hits and mkey not in rejected]
            for mkey in rejected:
                reasons.setdefault(keyed[mkey], f"{engine.name}: rejected earlier")
            if todo:
                logger.info("translating %d segment(s) %s->%s with %s", len(todo), leg.source, leg.target, engine.name)
                try:
                    results = self._run_engine(engine, todo, leg, self.should_stop, self.people)
                except _Stopped as stop:
                    self.stopped = True
                    todo, results = todo[: len(stop.results)], stop.results  # keep the finished chunks
                except Exception as exc:
                    if isinstance(exc, TranslationError | OSError):  # the engine's own failure, in its words
                        logger.error("%s failed on %s->%s: %s", engine.name, leg.source, leg.target, exc)
                    else:  # nothing expected this: our bug, or the engine library's
                        logger.exception(
                            "%s failed on %s->%s with an unexpected %s (a bug: please report it with this traceback)",
                            engine.name,
                            leg.source,
                            leg.target,
                            type(exc).__name__,
                        )
                        metrics.record_bug("engine")
                    self.counts.add(language, engine.name, "engine_errors")
                    for item in todo:
                        reasons[item] = f"{engine.name}: {exc}"
                    remaining = [item for item in remaining if item not in out]
                    continue
                good: list[tuple[tuple[str, Terms], MemoryEntry]] = []
                bad: dict[tuple[str, Terms], str] = {}
                for item, result in zip(todo, results, strict=True):
                    text, terms = item
                    reason = self.guard(text, result.text, dict(terms))
                    entry = MemoryEntry(result.text.strip(), result.confidence, result.unknown)
                    if reason is None:
                        good.append((item, entry))
                    else:
                        bad[item] = reason
                        reasons[item] = f"{engine.name}: {reason}"
                        logger.warning(
                            "guard (%s) rejected %s output for %r: %r", reason, engine.name, text[:80], result.text[:80]
                        )
                        metrics.record_guard_rejection(language, engine.name, reason)
                self.counts.add(language, engine.name, "translated", len(good))
                self.counts.add(language, engine.name, "guard_failures", len(bad))
                self.counts.add(language, engine.name, "unknown_words", sum(len(e.unknown) for _, e in good))
                rows = [((text, rules_digest(terms)), entry, "") for (text, terms), entry in good]
                rows += [
                    ((item[0], rules_digest(item[1])), MemoryEntry(result.text), bad[item])
                    for item, result in zip(todo, results, strict=True)
                    if item in bad
                ]
                self.memory.put(engine.name, model, leg.source, leg.target, rows, self.clock(), replace=self.fresh)
                for item, entry in good:
                    out[item] = (entry, engine.name)
            remaining = [item for item in remaining if item not in out]
            if self.stopped:
                break
        failed = {item: reasons.get(item, "interrupted" if self.stopped else "no engine") for item in remaining}
        return out, failed

    @staticmethod
    def _run_engine(
        engine: Translator,
        todo: list[tuple[str, Terms]],
        leg: Leg,
        should_stop: Callable[[], bool] | None = None,
        people: frozenset[str] = frozenset(),
    ) -> list[EngineOutput]:
        """One engine call, or several when someone watches a progress bar or may stop us.

        With a stop check, segments go in chunks (from :data:`STOP_CHUNK`, doubled while
        a chunk takes under a second, so a fast engine still gets large batches) and the
        check runs between them; a stop raises :class:`_Stopped` with the finished ones.
        """
        show = progress.reporter()
        size = show.chunk or (STOP_CHUNK if should_stop else len(todo)) or 1
        results: list[EngineOutput] = []
        with show.task(f"{engine.name} {leg.source}->{leg.target}", len(todo)) as task:
            start = 0
            while start < len(todo):
                if should_stop is not None and start and should_stop():
                    raise _Stopped(results)
                chunk = todo[start : start + size]
                began = time.monotonic()
                outputs = engine.translate_scored(
                    [text for text, _ in chunk],
                    leg.source,
                    leg.target,
                    per_segment=[dict(terms) for _, terms in chunk],
                    people=people,
                )
                # An engine's output is input too: nothing that is never text goes further.
                results.extend(EngineOutput(clean_bytes_text(o.text), o.confidence, o.unknown) for o in outputs)
                task.advance(len(chunk))
                start += len(chunk)
                if should_stop is not None and not show.chunk and time.monotonic() - began < 1.0:
                    size *= 2
        return results


def _needs_review(records: list[SegmentRecord], previous: Translation | None) -> list[SegmentRecord]:
    """``records`` with the "needs review" marks: where the previous translation had an
    editor's correction (or a mark not yet seen) for a source segment that is gone, the
    most alike new segment of the same kind carries the old correction."""
    if previous is None or not previous.segments:
        return records
    sources = {r.source for r in records}
    # Marks not yet seen whose segment is still there stay as they were.
    kept = {r.source: r for r in previous.segments if r.previous is not None and r.source in sources}
    lost = [r for r in previous.segments if r.source not in sources and (r.origin == "human" or r.previous is not None)]
    out = [
        replace(r, previous=kept[r.source].previous, previous_source=kept[r.source].previous_source)
        if r.source in kept and r.origin == "machine"
        else r
        for r in records
    ]
    for old in lost:
        text = old.target if old.origin == "human" else old.previous
        best, score = None, REVIEW_SIMILARITY
        for i, r in enumerate(out):
            if r.origin != "machine" or r.previous is not None or r.slot != old.slot:
                continue
            ratio = difflib.SequenceMatcher(None, old.source, r.source, autojunk=False).ratio()
            if ratio >= score:
                best, score = i, ratio
        if best is not None:
            out[best] = replace(
                out[best], previous=text, previous_source=old.source if old.origin == "human" else old.previous_source
            )
    return out


def _quality(
    used: set[Key], done: Mapping[Key, _Done], untranslated: set[str]
) -> tuple[float | None, tuple[tuple[str, int], ...]]:
    """An article's confidence (its segments' confidences, weighted by length; None when
    no engine said) and the counts of what the checks found in it."""
    weight = 0.0
    total = 0.0
    counts: Counter[str] = Counter()
    for key in used:
        found = done[key]
        counts["segments"] += 1
        counts["unknown_words"] += len(found.unknown)
        for flag in found.flags:
            counts[flag] += 1
        if found.confidence is not None:
            weight += len(key[0])
            total += len(key[0]) * found.confidence
    if untranslated:
        counts["untranslated"] += len(untranslated)
        weight += sum(len(s) for s in untranslated)  # counted at confidence 0
    confidence = round(total / weight, 4) if weight else None
    return confidence, tuple(sorted((k, v) for k, v in counts.items() if v))


#: Segments per engine call when the caller may ask to stop (the daemon): small enough
#: that SIGTERM is honoured within seconds on the slowest engine, large enough to batch.
STOP_CHUNK = 16


class _Stopped(Exception):
    """The stop check said stop between two engine chunks; ``results`` are the finished ones."""

    def __init__(self, results: list[EngineOutput]) -> None:
        super().__init__("stopped")
        self.results = results


class MemoryLike(Protocol):
    """The part of the store translation needs: the segment memory (``store.memory``).

    Items are (segment, rules digest) pairs (:func:`rules_digest`)."""

    def get(
        self, engine: str, model: str, source: str, target: str, items: Sequence[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], MemoryEntry], set[tuple[str, str]]]: ...

    def put(
        self,
        engine: str,
        model: str,
        source: str,
        target: str,
        rows: Sequence[tuple[tuple[str, str], MemoryEntry, str]],
        now: datetime,
        *,
        replace: bool = False,
    ) -> None: ...


__all__ = ["ArticleTranslator", "Counts", "Leg", "MemoryEntry", "MemoryLike", "rules_digest", "sanitize"]
