"""Fake engines for tests: real Translator protocol implementations with scripted output."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

from syndicate.models import Lang
from syndicate.translate.base import EngineOutput, Protect, segment_terms


class FakeEngine:
    """Translates with a function; honours ``protect`` by placeholder substitution.

    ``calls`` records every batch it was given, so tests can see what was (not) sent.
    """

    def __init__(
        self,
        name: str,
        pairs: set[tuple[str, str]],
        fn: Callable[[str, str, str], str],
        *,
        model: str = "1",
        honour_protect: bool = True,
        confidence: float | None = None,
    ) -> None:
        self.name = name
        self._pairs = frozenset((Lang(a), Lang(b)) for a, b in pairs)
        self.fn = fn
        self.model = model
        self.honour_protect = honour_protect
        #: What it says of its confidence in every output (None: it cannot say).
        self.confidence = confidence
        self.calls: list[list[str]] = []
        #: Pairs :meth:`prepare` was asked to start.
        self.prepared: list[tuple[Lang, Lang]] = []

    def pairs(self) -> frozenset[tuple[Lang, Lang]]:
        return self._pairs

    def model_id(self, source: Lang, target: Lang) -> str:
        return f"{self.name}:{source}-{target}@{self.model}"

    def translate(self, segments: Sequence[str], source: Lang, target: Lang, *, protect: Protect = ()) -> list[str]:
        return [o.text for o in self.translate_scored(segments, source, target, protect=protect)]

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
        self.calls.append(list(segments))
        every = segment_terms(len(segments), protect, per_segment)
        out = []
        for segment, own in zip(segments, every, strict=True):
            terms = own if self.honour_protect else {}
            held: dict[str, str] = {}
            for i, (term, replacement) in enumerate(sorted(terms.items(), key=lambda kv: -len(kv[0]))):
                if term in segment:
                    key = f"QZ{i}QZ"
                    segment = segment.replace(term, key)
                    held[key.lower()] = replacement
            result = self.fn(segment, source, target)
            for key, replacement in held.items():
                result = result.replace(key, replacement).replace(key.upper(), replacement)
            out.append(EngineOutput(result, self.confidence))
        return out

    def prepare(self, source: Lang, target: Lang) -> None:
        self.prepared.append((source, target))

    def close(self) -> None:
        pass


def reverse_upper(segment: str, source: str, target: str) -> str:
    """A reordering 'translation': words reversed and upper-cased (punctuation kept at the end)."""
    core = segment.rstrip(".!?")
    tail = segment[len(core) :]
    return " ".join(reversed(core.split())).upper() + tail


def tagged(segment: str, source: str, target: str) -> str:
    """An obviously translated form that keeps word order: «word» -> «word-xx»."""
    return " ".join(w if not w[:1].isalpha() else f"{w}~{target}" for w in segment.split())


class Recording:
    """A translate function for :class:`FakeEngine` (:func:`tagged`) that remembers
    (target, segment) of every call: what was, and was not, sent to the engine."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []

    def __call__(self, segment: str, source: str, target: str) -> str:
        self.log.append((target, segment))
        return tagged(segment, source, target)

    def since(self, mark: int) -> list[tuple[str, str]]:
        return self.log[mark:]


def once_with(config: Path, engine: FakeEngine | None = None) -> None:
    """``once`` over ``config`` with ``engine`` as its Apertium (default: en->es and
    en->ca by :func:`tagged`), at the tests' fixed clock; the pass must go well."""
    from syndicate.config import load_settings
    from syndicate.store import Store
    from syndicate.translate.engines import Engines
    from syndicate.work import once
    from tests.conftest import Clock

    engine = engine or FakeEngine("apertium", {("en", "es"), ("en", "ca")}, tagged)
    settings = load_settings(config)
    with Store.open(settings.state_dir) as store:
        report = once(
            settings, store, engines=Engines(settings, factories={"apertium": lambda _s: engine}), clock=Clock()
        )
    assert report.ok, report.problems
