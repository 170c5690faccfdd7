"""The Translator protocol every engine implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from syndicate.models import Lang


#: Protected terms: term -> required output text, or a sequence of verbatim terms.
Protect = Mapping[str, str] | Sequence[str]


def protect_map(protect: Protect) -> dict[str, str]:
    """Normalise ``protect`` to a term -> replacement dict without empty terms."""
    if isinstance(protect, Mapping):
        return {k: v for k, v in protect.items() if k.strip()}
    return {t: t for t in protect if t.strip()}


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

    def prepare(self, source: Lang, target: Lang) -> None:
        """Start what serving the pair takes (a process, a model) so that a first
        translation does not wait for it. Called from a helper thread while the caller
        does other work; a failure is left for :meth:`translate` to report."""
        ...

    def close(self) -> None:
        """Release processes and models."""
        ...
