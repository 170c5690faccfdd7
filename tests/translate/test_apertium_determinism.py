"""The same segment gives the same text whatever came before it (issue 24, part 2).

Debian's ``apertium-tagger`` (3.8) rewrites its own model when it meets a word of an
ambiguity class it was not trained on ("I" in eng-spa, "como" in gl-en): the class it
falls back to overwrites the open class it gives unknown words, for the life of the
process. Before the fix, 18 of these 341 sentences came out differently in eng-spa when
the batch was shuffled ("Danius Dijo" / "Danius Dicho"). Against Debian's real pairs, on
the FLORES-200 WikiNews sentences of ``benchmarks/data/flores-wikinews`` (CC BY-SA 4.0,
see its SOURCE.md).
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from syndicate.models import Lang
from syndicate.translate.apertium import ApertiumTranslator, _stages

pytestmark = pytest.mark.apertium

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "flores-wikinews"
MODES = Path("/usr/share/apertium/modes")


def sentences(name: str) -> list[str]:
    return [line.strip() for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def translated(
    segments: list[str], source: str, target: str, order: list[int] | None = None, batch: int | None = None
) -> list[str]:
    """``segments`` translated by a new translator, in ``order`` and batches of ``batch``;
    returned in the segments' own order."""
    order = order if order is not None else list(range(len(segments)))
    engine = ApertiumTranslator()
    try:
        out: dict[int, str] = {}
        size = batch or len(order)
        for start in range(0, len(order), size):
            chosen = order[start : start + size]
            for index, text in zip(
                chosen, engine.translate([segments[i] for i in chosen], Lang(source), Lang(target)), strict=True
            ):
                out[index] = text
        return [out[i] for i in range(len(segments))]
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("source", "target", "name", "count"),
    [
        ("en", "es", "src.en", None),  # the 341 sentences
        ("gl", "en", "ref.gl", 100),  # a tagger that changes on most sentences ("como", "cando", "ben")
    ],
)
def test_any_order_and_batching_gives_the_same_text(source: str, target: str, name: str, count: int | None) -> None:
    if not (MODES / ("eng-spa.mode" if source == "en" else "gl-en.mode")).exists():
        pytest.skip(f"the {source}-{target} pair is not installed")
    segments = sentences(name)[:count]
    straight = translated(segments, source, target)
    order = list(range(len(segments)))
    random.Random(7).shuffle(order)
    assert translated(segments, source, target, order) == straight
    assert translated(segments, source, target, list(reversed(order)), batch=11) == straight
    # Each alone, in a process of its own: what the segment is, with no history at all.
    alone = [translated([segments[i]], source, target)[0] for i in order[:15]]
    assert alone == [straight[i] for i in order[:15]]


def test_a_tagger_that_changed_is_replaced_and_says_which_word() -> None:
    """The mechanism: a flush reports the word that changed the HMM tagger, and the next
    flush has a fresh one (a name after it is tagged as by a fresh process)."""
    mode = MODES / "eng-spa.mode"
    if not mode.exists():
        pytest.skip("eng-spa is not installed")
    from syndicate.translate.apertium import _Pipeline

    pipe = _Pipeline(_stages(mode), mode.name, timeout=30)
    try:
        assert pipe.watched is not None and "-d" in pipe.stages[pipe.watched]
        _calm, words = pipe.run_reporting("The council met on Monday .[][<m0>]")
        assert words == frozenset() and pipe.renewals == 0
        _, words = pipe.run_reporting("Numbers are not known .[][<m0>]")
        assert words == {"known"} and pipe.renewals == 1
        after, _ = pipe.run_reporting("Dr. Tony Moll discovered the strain .[][<m0>]")
    finally:
        pipe.close()
    fresh = _Pipeline(_stages(mode), mode.name, timeout=30)
    try:
        alone, _ = fresh.run_reporting("Dr. Tony Moll discovered the strain .[][<m0>]")
    finally:
        fresh.close()
    assert after == alone and "descubrió" in alone  # "discovered" read as a past tense, not a participle


def test_the_upstream_defect_is_still_there_without_the_renewal() -> None:
    """Guards the reason for all this: Debian's tagger alone, one process, two flushes.
    If a new Apertium fixes it, this fails and the renewal can be reconsidered."""
    base = Path("/usr/share/apertium/apertium-eng-spa")
    if not (base / "eng-spa.prob").exists():
        pytest.skip("eng-spa is not installed")

    def tag(*segments: str) -> list[str]:
        data = "".join(s + "\0" for s in segments).encode()
        morph = subprocess.run(
            ["lt-proc", "-z", str(base / "eng-spa.automorf.bin")], input=data, capture_output=True, check=True
        )
        tagged = subprocess.run(
            ["apertium-tagger", "-z", "-g", str(base / "eng-spa.prob")],
            input=morph.stdout,
            capture_output=True,
            check=True,
        )
        return tagged.stdout.decode().split("\0")

    after = tag("Numbers are not known.", "Dr. Tony Moll discovered it.")[1]
    alone = tag("Dr. Tony Moll discovered it.")[0]
    assert "discover<vblex><pp>" in after and "discover<vblex><past>" in alone
