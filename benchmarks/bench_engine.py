#!/usr/bin/env python3
"""``syndicate`` with one more engine, ``bench``: a fast, deterministic stand-in that
serves every pair, for benchmarks that fill a long history in many languages (issue 23:
"a fast deterministic engine is fine for filling the history, as long as the publish and
store code is the real one").

It is a plug-in as any package would write one (a settings class and a Translator,
registered with :func:`syndicate.config.register_engine`); everything else is the real
program. Run it in place of ``python -m syndicate``:

    python benchmarks/bench_engine.py --config cfg.toml once
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import ClassVar, Literal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from languages import MANY_LANGUAGES  # noqa: E402  # this folder: sys.path[0] when run

from syndicate.config import EngineSettings, register_engine  # noqa: E402
from syndicate.models import Lang  # noqa: E402
from syndicate.translate.base import EngineOutput, Protect, segment_terms  # noqa: E402

#: The languages it serves, to and from each other: English and the benchmarks' twenty.
CODES = tuple(Lang(code) for code in ("en", *MANY_LANGUAGES))


class BenchSettings(EngineSettings):
    """``[translate.bench]``: no options."""

    engine: Literal["bench"] = "bench"
    implementation: ClassVar[str] = f"{__name__}:BenchEngine"  # this very module
    label: ClassVar[str] = "benchmark stand-in"


class BenchEngine:
    """Every word gets the target language's tag (``harbour`` -> ``harbour·es``); kept
    terms stay as they are. Same input, same output; microseconds a segment."""

    name = "bench"

    def pairs(self) -> frozenset[tuple[Lang, Lang]]:
        return frozenset((a, b) for a in CODES for b in CODES if a != b)

    def model_id(self, source: Lang, target: Lang) -> str:
        return f"bench:{source}-{target}@1"

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
        out = []
        for segment, terms in zip(segments, segment_terms(len(segments), protect, per_segment), strict=True):
            held: dict[str, str] = {}
            for i, (term, replacement) in enumerate(sorted(terms.items(), key=lambda kv: -len(kv[0]))):
                if term in segment:  # a protected term stands as the text it must become
                    segment = segment.replace(term, f"QZ{i}QZ")
                    held[f"QZ{i}QZ"] = replacement
            text = " ".join(w if not w[:1].isalpha() or w[:2] == "QZ" else f"{w}·{target}" for w in segment.split())
            for key, replacement in held.items():
                text = text.replace(key, replacement)
            out.append(EngineOutput(text, None))
        return out

    def prepare(self, source: Lang, target: Lang) -> None:
        pass

    def close(self) -> None:
        pass


register_engine(BenchSettings)

if __name__ == "__main__":
    from syndicate.cli import main

    raise SystemExit(main(sys.argv[1:]))
