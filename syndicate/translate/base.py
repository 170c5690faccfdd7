"""The Translator protocol every engine implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from syndicate.models import Lang


@runtime_checkable
class Translator(Protocol):
    """A translation engine.

    Engines translate *segments*: plain-text sentences (or short strings such as a title or
    an attribution label), many at once so they can batch. Segment order is preserved and
    the result has exactly one string per input segment.

    ``protect`` lists terms that must come through verbatim (``keep_verbatim``); an engine
    guarantees that every protected term present in a segment is present, unchanged, in its
    translation.
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
        protect: Sequence[str] = (),
    ) -> list[str]:
        """Translate ``segments`` from ``source`` to ``target``."""
        ...

    def close(self) -> None:
        """Release processes and models."""
        ...
