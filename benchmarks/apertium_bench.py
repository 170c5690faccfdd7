#!/usr/bin/env python3
"""Apertium throughput: syndicate's ApertiumTranslator against the raw Apertium stream.

Generates about 1,800 short news-like titles and sentences (deterministic, no network)
and, in one run on the same segments, measures:

  (a) the anchor: ``apertium -f none eng-spa`` fed all segments in one stream, each
      followed by a superblank marker (process start included), checking that every
      marker came back in place;
  (b) syndicate: ``ApertiumTranslator().translate(segments, "en", "es")`` on a fresh
      translator (pipeline start included), then once more on the running pipeline.

  (c) what determinism costs: (b) warm again with the HMM tagger left as Debian runs it
      (no ``-d``, never renewed: the behaviour before the renewal, whose output depends
      on what the process read before), and how many segments then come out differently
      when the same segments are sent in another order.

The measurements alternate over a few rounds and the best time of each counts, so a
busy machine slows all of them alike. Prints segments/s for each and the ratio (b)/(a)
(target: at least 0.5), then one JSON object as the last line.

``--corpus flores`` takes the 341 FLORES-200 WikiNews sentences of
``benchmarks/data/flores-wikinews`` (English for ``eng-*`` modes, else the mode's source
language) instead of the generated ones.

    python benchmarks/apertium_bench.py [--segments 1800] [--mode eng-spa] [--rounds 3] [--corpus flores]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WHO = [
    "City council",
    "Central bank",
    "Regional government",
    "Prime minister",
    "Union leaders",
    "Farmers",
    "Police",
    "Scientists",
    "Hospital staff",
    "Teachers",
    "The mayor",
    "Local residents",
    "Rail operator",
    "Energy regulator",
    "Opposition",
    "Court",
    "Airline",
    "Football club",
]
DOES = [
    "approves",
    "rejects",
    "delays",
    "announces",
    "questions",
    "backs",
    "plans",
    "opens",
    "cancels",
    "defends",
    "reviews",
    "promises",
]
WHAT = [
    "new bridge",
    "budget for next year",
    "higher taxes",
    "railway line",
    "plan for the old harbour",
    "school reform",
    "cheaper bus tickets",
    "a new hospital",
    "talks with the unions",
    "water prices",
    "the election date",
    "more police officers",
    "a ban on cars in the centre",
    "the museum project",
]
WHEN = ["", "", " after long talks", " on Monday", " despite protests", " for 2027", " in the north", " again"]
SENTENCES = [
    "The decision was announced on {day} evening.",
    "More than {n} people attended the meeting.",
    "Prices rose by {p} percent last month.",
    "The work should take about {n} weeks.",
    "Officials said the cost would reach {n} million euros.",
    "The vote is expected before the end of {month}.",
    "Critics say the plan does not go far enough.",
    "Schools will stay closed until {day}.",
    "The new line will open in {month}.",
    "Residents were asked to save water.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = ["January", "March", "April", "June", "September", "October", "November"]


def segments(count: int, seed: int = 1799) -> list[str]:
    """Short titles and sentences, two titles for every sentence."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % 3 == 2:
            out.append(
                rng.choice(SENTENCES).format(
                    day=rng.choice(DAYS), n=rng.randint(2, 900), p=rng.randint(2, 40), month=rng.choice(MONTHS)
                )
            )
        else:
            out.append(f"{rng.choice(WHO)} {rng.choice(DOES)} {rng.choice(WHAT)}{rng.choice(WHEN)}")
    return out


def raw_stream(lines: list[str], mode: str) -> tuple[float, int]:
    """Seconds for ``apertium -f none <mode>`` over all lines in one stream; markers back."""
    escape = re.compile(r"([\\\[\]^$/@<>{}])")
    stream = "".join(escape.sub(r"\\\1", line) + f"[<m{i}>]\n" for i, line in enumerate(lines))
    start = time.perf_counter()
    result = subprocess.run(
        ["apertium", "-f", "none", mode], input=stream.encode(), capture_output=True, check=True, timeout=600
    )
    elapsed = time.perf_counter() - start
    found = [int(m) for m in re.findall(rb"\[<m(\d+)>\]", result.stdout)]
    return elapsed, sum(1 for i, m in enumerate(found) if m == i)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=1800, help="how many segments (default 1800)")
    parser.add_argument("--mode", default="eng-spa", help="Apertium mode of the raw stream (default eng-spa)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best of each counts (default 3)")
    parser.add_argument(
        "--corpus",
        choices=("generated", "flores"),
        default="generated",
        help="generated titles (default) or the FLORES-200 WikiNews sentences",
    )
    args = parser.parse_args()

    from syndicate.models import Lang
    from syndicate.translate import apertium
    from syndicate.translate.apertium import ApertiumTranslator, _mode_pair

    pair = _mode_pair(args.mode)
    if pair is None:
        parser.error(f"--mode {args.mode}: not a default Apertium pair such as eng-spa")
    source, target = Lang(pair[0]), Lang(pair[1])
    if args.corpus == "flores":
        name = "src.en" if source == "en" else f"ref.{source}"
        path = ROOT / "benchmarks" / "data" / "flores-wikinews" / name
        if not path.exists():
            parser.error(f"--corpus flores: no {path.name} for {source}")
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        lines = segments(args.segments)
    print(
        f"{len(lines)} segments, {sum(map(len, lines))} characters, {args.mode} ({source}->{target}), "
        f"best of {args.rounds} interleaved rounds"
    )

    raw: list[float] = []
    cold: list[float] = []
    warm: list[float] = []
    unstable: list[float] = []
    outputs: list[list[str]] = []
    renewals = 0
    shuffled = list(range(len(lines)))
    random.Random(5).shuffle(shuffled)
    in_place = 0
    for round_ in range(1, max(args.rounds, 1) + 1):
        seconds, in_place = raw_stream(lines, args.mode)
        raw.append(seconds)
        translator = ApertiumTranslator()
        try:
            start = time.perf_counter()
            outputs.append(translator.translate(lines, source, target))
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            outputs.append(translator.translate(lines, source, target))
            warm.append(time.perf_counter() - start)
            back = translator.translate([lines[i] for i in shuffled], source, target)
            outputs.append([back[shuffled.index(i)] for i in range(len(lines))])
            renewals = sum(p.renewals for p in translator._pipelines.values()) // 3
        finally:
            translator.close()
        # (c) the tagger as Debian runs it: no -d, never renewed.
        watched = apertium._hmm_tagger
        apertium._hmm_tagger = lambda argv: False  # type: ignore[assignment]
        translator = ApertiumTranslator()
        try:
            first = translator.translate(lines, source, target)
            start = time.perf_counter()
            translator.translate(lines, source, target)
            unstable.append(time.perf_counter() - start)
            back = translator.translate([lines[i] for i in shuffled], source, target)
            # Against each segment as a fresh tagger reads it (what the renewal gives).
            differ = sum(
                1 for i in range(len(lines)) if first[i] != outputs[0][i] or back[shuffled.index(i)] != outputs[0][i]
            )
        finally:
            translator.close()
            apertium._hmm_tagger = watched  # type: ignore[assignment]
        print(
            f"  round {round_}: raw {raw[-1]:.2f} s, syndicate {cold[-1]:.2f} s cold, {warm[-1]:.2f} s warm, "
            f"{unstable[-1]:.2f} s warm without renewing the tagger"
        )
    aligned = all(len(o) == len(lines) and all(o) and o == outputs[0] for o in outputs)
    raw_sps, cold_sps, warm_sps, unstable_sps = (len(lines) / min(t) for t in (raw, cold, warm, unstable))
    print(
        f"raw stream  apertium -f none {args.mode}:  {min(raw):6.2f} s  {raw_sps:7.1f} segments/s"
        f"  ({in_place}/{len(lines)} markers back in place; process start included)"
    )
    print(
        f"syndicate   ApertiumTranslator, cold:  {min(cold):6.2f} s  {cold_sps:7.1f} segments/s  "
        "(pipeline start included)"
    )
    print(f"syndicate   ApertiumTranslator, warm:  {min(warm):6.2f} s  {warm_sps:7.1f} segments/s  (running pipeline)")
    print(
        f"ratio syndicate/raw: {cold_sps / raw_sps:.2f}x cold, {warm_sps / raw_sps:.2f}x warm (target >= 0.5x)"
        f"{'' if aligned else '  WARNING: outputs not aligned or not repeatable'}"
    )
    print(
        f"determinism: the tagger renewed {renewals} time(s) a pass (on average); every pass and order gave the "
        "same text: "
        f"{aligned}. Without renewing: {unstable_sps:7.1f} segments/s warm ({warm_sps / unstable_sps:.2f}x of it "
        f"with), and {differ} of {len(lines)} segments differ from what they are alone, in order or shuffled"
    )
    print(
        json.dumps(
            {
                "segments": len(lines),
                "mode": args.mode,
                "corpus": args.corpus,
                "raw_sps": round(raw_sps, 1),
                "syndicate_cold_sps": round(cold_sps, 1),
                "syndicate_warm_sps": round(warm_sps, 1),
                "ratio_cold": round(cold_sps / raw_sps, 3),
                "ratio_warm": round(warm_sps / raw_sps, 3),
                "markers_in_place": in_place,
                "aligned": aligned,
                "renewals": renewals,
                "unrenewed_warm_sps": round(unstable_sps, 1),
                "unrenewed_order_differs": differ,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
