#!/usr/bin/env python3
"""Translation throughput: argos's translate() vs syndicate vs the best plain CTranslate2.

Builds a base-size Argos package offline (6+6 layers, d_model 512, 8 heads, FFN 2048,
vocabulary 32,000, int8; weights that make it reproduce its input, so outputs stop at a
realistic length) and translates 200 news-like sentences in 40 five-sentence paragraphs,
each measurement in its own process:

  (a) argostranslate.translate.translate() once per paragraph, argos's defaults
      (needs the full argostranslate install: `make bench` puts it in .bench-venv);
  (b) syndicate's own translation path (sentence split, plan, batch, render), memory off;
  (c) the best plain CTranslate2 translate_batch found over a grid of batch sizes and
      thread layouts for this machine.

Prints sentences/s and peak RSS for each, beam 4 and greedy, and as the last line one
JSON object: {"argos_sps", "syndicate_sps", "ct2_sps", "syndicate_peak_rss_mb", ...}.

    python benchmarks/translate_bench.py [--argos-python .bench-venv/bin/python] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SENTENCES = 200
CACHE = ROOT / "benchmarks" / ".cache"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- children: each runs in its own process -------------------------------------------------


def child_argos(args: argparse.Namespace) -> dict[str, object]:
    import argostranslate.translate as at  # the heavy import (torch, stanza, spacy)

    paragraphs = json.loads(Path(args.paragraphs).read_text())
    at.translate("Warm up the model.", "en", "es")  # load model and sentence splitter
    start = time.perf_counter()
    outputs = [at.translate(p, "en", "es") for p in paragraphs]
    elapsed = time.perf_counter() - start
    exact = sum(o.strip() == p.strip() for o, p in zip(outputs, paragraphs, strict=True))
    return {"seconds": elapsed, "sps": SENTENCES / elapsed, "peak_rss_mb": peak_rss_mb(), "exact_paragraphs": exact}


class _NoMemory:
    """The translation memory's interface (``MemoryLike``), remembering nothing (memory disabled)."""

    def get(self, *a: object, **k: object) -> tuple[dict[str, str], set[str]]:
        return {}, set()

    def put(self, *a: object, **k: object) -> None:
        pass


def child_syndicate(args: argparse.Namespace) -> dict[str, object]:
    from datetime import UTC, datetime

    from syndicate.models import Article, Lang, Paragraph, StoredArticle
    from syndicate.translate import guards
    from syndicate.translate.argos import ArgosTranslator
    from syndicate.translate.service import ArticleTranslator, Counts, Leg

    paragraphs = json.loads(Path(args.paragraphs).read_text())
    engine = ArgosTranslator(packages_dir=Path(args.packages), beam_size=args.beam)
    engine.translate(["Warm up the model."], Lang("en"), Lang("es"))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    # One article per paragraph, translated as one batch: what a poll with 40 new items does.
    batch = [
        StoredArticle(i, f"a{i}", Article(source="bench", key=str(i), title="", blocks=(Paragraph(p),)), now, now)
        for i, p in enumerate(paragraphs)
    ]

    # The echo model's output *is* its input: keep every guard but "copy of the source".
    def guard(src: str, out: str, protect: object) -> str | None:
        reason = guards.check(src, out, protect)  # type: ignore[arg-type]
        return None if reason == "copy of the source" else reason

    translator = ArticleTranslator(
        _NoMemory(),
        [Leg(Lang("en"), Lang("es"), (engine,))],
        clock=lambda: now,
        counts=Counts(),
        guard=guard,  # type: ignore[arg-type]
    )
    start = time.perf_counter()
    translations, problems = translator.translate(batch)
    elapsed = time.perf_counter() - start
    exact = sum(t.paragraphs[0].strip() == p.strip() for t, p in zip(translations, paragraphs, strict=False))
    return {
        "seconds": elapsed,
        "sps": SENTENCES / elapsed,
        "peak_rss_mb": peak_rss_mb(),
        "exact_paragraphs": exact,
        "problems": len(problems),
        "threads": [engine.inter_threads, engine.intra_threads],
    }


def child_ct2(args: argparse.Namespace) -> dict[str, object]:
    import ctranslate2
    import sentencepiece as spm

    from syndicate.translate.segments import split_sentences

    paragraphs = json.loads(Path(args.paragraphs).read_text())
    sentences = [s for p in paragraphs for s, _ in split_sentences(p)]
    package = next(Path(args.packages).iterdir())
    sp = spm.SentencePieceProcessor(model_file=str(package / "sentencepiece.model"))
    tokens = [sp.encode(s, out_type=str) for s in sentences]
    translator = ctranslate2.Translator(
        str(package / "model"),
        device="cpu",
        compute_type="auto",
        inter_threads=args.inter,
        intra_threads=args.intra,
    )
    translator.translate_batch([tokens[0]], beam_size=args.beam)
    start = time.perf_counter()
    results = translator.translate_batch(
        tokens,
        beam_size=args.beam,
        max_batch_size=args.batch,
        batch_type="examples",
        max_decoding_length=3 * max(len(t) for t in tokens) + 10,
    )
    elapsed = time.perf_counter() - start
    decoded = [sp.decode_pieces(r.hypotheses[0]) for r in results]
    exact = sum(d.strip() == s.strip() for d, s in zip(decoded, sentences, strict=True))
    return {
        "seconds": elapsed,
        "sps": SENTENCES / elapsed,
        "peak_rss_mb": peak_rss_mb(),
        "exact_sentences": exact,
        "tokens_per_sentence": sum(map(len, tokens)) / len(tokens),
    }


CHILDREN = {"argos": child_argos, "syndicate": child_syndicate, "ct2": child_ct2}


# ---- the parent ----------------------------------------------------------------------------


def prepare(work: Path) -> tuple[Path, Path]:
    """Build (or reuse) the base-size package, install it, write the paragraphs."""
    from benchmarks.corpus import benchmark_paragraphs, training_text
    from syndicate.translate.argos_packages import install_from_file
    from tests.argos_fixture import build_package

    CACHE.mkdir(parents=True, exist_ok=True)
    package = CACHE / "translate-en_es-base-echo.argosmodel"
    if not package.exists():
        print("building the base-size echo package (6+6 layers, d512, FFN 2048, vocab 32k, int8)...", flush=True)
        corpus = training_text(work / "corpus.txt")
        build_package(
            package,
            "en",
            "es",
            kind="echo",
            layers=6,
            d_model=512,
            ffn=2048,
            vocab=32000,
            quantization="int8",
            sp_vocab=8000,
            sp_extra_files=[corpus],
            heads=8,
        )
    packages = work / "packages"
    packages.mkdir()
    install_from_file(package, packages)
    paragraphs = work / "paragraphs.json"
    paragraphs.write_text(json.dumps(benchmark_paragraphs(40, 5)))
    return packages, paragraphs


def run_child(
    python: str,
    kind: str,
    packages: Path,
    paragraphs: Path,
    beam: int,
    env_extra: dict[str, str] | None = None,
    **opts: int,
) -> dict[str, object]:
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--packages",
        str(packages),
        "--paragraphs",
        str(paragraphs),
        "--beam",
        str(beam),
    ]
    for key, value in opts.items():
        cmd += [f"--{key}", str(value)]
    env = {**os.environ, **(env_extra or {})}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """The run with the median throughput (peak RSS: the largest seen)."""
    ordered = sorted(runs, key=lambda r: float(r["sps"]))  # type: ignore[arg-type]
    middle = dict(ordered[len(ordered) // 2])
    middle["peak_rss_mb"] = max(float(r["peak_rss_mb"]) for r in runs)  # type: ignore[arg-type]
    return middle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", choices=sorted(CHILDREN))
    parser.add_argument("--packages")
    parser.add_argument("--paragraphs")
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--inter", type=int, default=1)
    parser.add_argument("--intra", type=int, default=0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument(
        "--argos-python",
        default=str(ROOT / ".bench-venv" / "bin" / "python"),
        help="a Python with the full argostranslate (torch, stanza) for measurement (a)",
    )
    parser.add_argument("--quick", action="store_true", help="smaller CTranslate2 grid, no greedy argos run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of syndicate and of the best CTranslate2 layout")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return 0

    cpus = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        home = work / "home"
        env = {
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "d"),
            "XDG_CONFIG_HOME": str(home / "c"),
            "XDG_CACHE_HOME": str(home / "k"),
        }
        os.environ.update(env)
        packages, paragraphs = prepare(work)
        results: dict[str, object] = {}
        me = sys.executable
        print(f"machine: {cpus} CPU(s); 200 sentences in 40 paragraphs of 5; base-size int8 echo model\n")

        for beam in (4, 1):
            label = "beam 4" if beam == 4 else "greedy (beam 1)"
            print(f"== {label} ==")
            # (c) the best plain CTranslate2 call on this machine
            layouts = sorted({(1, cpus), (cpus, 1), (max(1, cpus // 2), 2 if cpus >= 4 else 1)})
            batches = (16, 32) if args.quick else (8, 16, 32, 64)
            best: dict[str, object] | None = None
            for inter, intra in layouts:
                for batch in batches:
                    r = run_child(me, "ct2", packages, paragraphs, beam, inter=inter, intra=intra, batch=batch)
                    print(f"  ct2 inter={inter} intra={intra} max_batch_size={batch}: {r['sps']:.2f} sent/s")
                    if best is None or float(r["sps"]) > float(best["sps"]):  # type: ignore[arg-type]
                        best = {**r, "inter": inter, "intra": intra, "batch": batch}
            assert best is not None
            # Runs vary by 20% and more on a shared VM: measure syndicate and the best
            # CTranslate2 layout alternately, several times, and compare medians.
            syn_runs, ct2_runs = [], []
            for _ in range(args.repeats):
                syn_runs.append(run_child(me, "syndicate", packages, paragraphs, beam))
                ct2_runs.append(
                    run_child(
                        me,
                        "ct2",
                        packages,
                        paragraphs,
                        beam,
                        inter=int(best["inter"]),  # type: ignore[call-overload]
                        intra=int(best["intra"]),
                        batch=int(best["batch"]),
                    )
                )  # type: ignore[call-overload]
            syn = median_run(syn_runs)
            best = {**best, **median_run([*ct2_runs, best])}
            print(
                f"  repeats: syndicate {[round(float(r['sps']), 2) for r in syn_runs]}, "
                f"best ct2 {[round(float(r['sps']), 2) for r in ct2_runs]} sent/s"
            )
            argos: dict[str, object] | None = None
            if Path(args.argos_python).exists() and not (args.quick and beam == 1):
                argos_env = {"ARGOS_PACKAGES_DIR": str(packages), **({"ARGOS_BEAM_SIZE": "1"} if beam == 1 else {})}
                argos = run_child(args.argos_python, "argos", packages, paragraphs, beam, env_extra=argos_env)
            print(
                "  (a) argos translate() per paragraph: "
                + (
                    f"{argos['sps']:.2f} sent/s, peak RSS {argos['peak_rss_mb']:.0f} MB"
                    if argos
                    else f"skipped ({args.argos_python} missing: run `make bench`)"
                )
            )
            print(
                f"  (b) syndicate:                       {syn['sps']:.2f} sent/s, peak RSS {syn['peak_rss_mb']:.0f} MB "
                f"(threads inter/intra {syn['threads']}, {syn['exact_paragraphs']}/40 paragraphs exact)"
            )
            print(
                f"  (c) best CTranslate2:                {best['sps']:.2f} sent/s, "
                f"peak RSS {best['peak_rss_mb']:.0f} MB "
                f"(inter={best['inter']} intra={best['intra']} max_batch_size={best['batch']}, "
                f"{best['tokens_per_sentence']:.1f} tokens/sentence)"
            )
            if argos:
                print(f"  syndicate / argos = {float(syn['sps']) / float(argos['sps']):.2f}x", end="; ")
            print(f"syndicate / best ct2 = {float(syn['sps']) / float(best['sps']):.2f}x\n")
            suffix = "" if beam == 4 else "_greedy"
            results[f"argos_sps{suffix}"] = round(float(argos["sps"]), 3) if argos else None
            results[f"syndicate_sps{suffix}"] = round(float(syn["sps"]), 3)
            results[f"ct2_sps{suffix}"] = round(float(best["sps"]), 3)
            results[f"syndicate_peak_rss_mb{suffix}"] = round(float(syn["peak_rss_mb"]), 1)
            if beam == 4 and argos:
                results["argos_peak_rss_mb"] = round(float(argos["peak_rss_mb"]), 1)
        ordered = {k: results.get(k) for k in ("argos_sps", "syndicate_sps", "ct2_sps", "syndicate_peak_rss_mb")}
        ordered.update({k: v for k, v in results.items() if k not in ordered})
        print(json.dumps(ordered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
