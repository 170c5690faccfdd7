"""The Translator protocol every engine implements, and what an engine returns."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from syndicate.models import Lang

#: Protected terms: term -> required output text, or a sequence of verbatim terms.
Protect = Mapping[str, str] | Sequence[str]


def protect_map(protect: Protect) -> dict[str, str]:
    """Normalise ``protect`` to a term -> replacement dict without empty terms."""
    if isinstance(protect, Mapping):
        return {k: v for k, v in protect.items() if k.strip()}
    return {t: t for t in protect if t.strip()}


def segment_terms(
    count: int, protect: Protect = (), per_segment: Sequence[Mapping[str, str]] | None = None
) -> list[dict[str, str]]:
    """Each of ``count`` segments' protected terms: ``protect`` and its own."""
    common = protect_map(protect)
    if per_segment is None:
        return [common] * count
    if len(per_segment) != count:
        raise ValueError(f"per_segment has {len(per_segment)} entries for {count} segments")
    return [{**common, **protect_map(own)} if own else common for own in per_segment]


@dataclass(frozen=True)
class EngineOutput:
    """One segment as an engine translated it, with what the engine itself knows of it.

    ``confidence`` is the engine's own, from 0 to 1 (None: the engine cannot say):
    Apertium's share of words it knew (read from its unknown-word marks before they are
    removed), CTranslate2's hypothesis score as a per-token probability. ``unknown`` are
    the source words the engine did not know and passed through untranslated.
    """

    text: str
    confidence: float | None = None
    unknown: tuple[str, ...] = ()


@runtime_checkable
class Translator(Protocol):
    """A translation engine.

    Engines translate *segments*: plain-text sentences (or short strings such as a title or
    an attribution label), many at once so they can batch. Segment order is preserved and
    the result has exactly one string per input segment.

    ``protect`` maps terms to the exact text that must stand for them in the translation:
    a ``keep_verbatim`` name maps to itself, a glossary term to its target-language form
    (a plain sequence of terms means "verbatim"). An engine guarantees that for every
    protected term present in a segment, its replacement is present in the translation.
    """

    name: str

    def pairs(self) -> frozenset[tuple[Lang, Lang]]:
        """Language pairs this engine can translate right now (installed models)."""
        ...

    def model_id(self, source: Lang, target: Lang) -> str:
        """Identity of the model serving a pair (package version, Apertium data version)."""
        ...

    def translate(
        self,
        segments: Sequence[str],
        source: Lang,
        target: Lang,
        *,
        protect: Protect = (),
    ) -> list[str]:
        """Translate ``segments`` from ``source`` to ``target``."""
        ...

    def translate_scored(
        self,
        segments: Sequence[str],
        source: Lang,
        target: Lang,
        *,
        protect: Protect = (),
        per_segment: Sequence[Mapping[str, str]] | None = None,
        people: Collection[str] = frozenset(),
    ) -> list[EngineOutput]:
        """:meth:`translate`, each output with the engine's own confidence in it.

        ``per_segment`` gives each segment protected terms of its own (the names of the
        article it comes from, its numbers' target forms), besides ``protect``;
        ``people`` says which protected terms are people's names (an engine that treats
        names by kind, as Apertium's placeholders do, may use it).
        """
        ...

    def prepare(self, source: Lang, target: Lang) -> None:
        """Start what serving the pair takes (a process, a model) so that a first
        translation does not wait for it. Called from a helper thread while the caller
        does other work; a failure is left for :meth:`translate` to report."""
        ...

    def close(self) -> None:
        """Release processes and models."""
        ...


@dataclass(frozen=True)
class Leg:
    """One hop of a route: a language pair and the engines that serve it, in order."""

    source: Lang
    target: Lang
    engines: tuple[Translator, ...]
