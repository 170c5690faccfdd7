#!/usr/bin/env python3
"""Review: how long an editor's fix takes to reach readers, as the history grows (issue 18).

For each N in ``--sizes`` this builds the scale benchmark's folder of N articles
(benchmarks/scale_bench.py: seeded, news-like English, es and ca with Apertium), fills it
with one ``syndicate once``, and then fixes one wrong word in a published sentence two
ways, side by side, each ``--repeats`` times on a different article:

  the editor    ``syndicate run --serve`` is running; a correction of that sentence is
                POSTed to the review API; the clock stops when the served page of the
                entry carries it (published with its feed in the same pass; the entry
                may sit on an archive page, not the subscription feed). Issue 18 asks
                for under 2 s;
  the anchor    what an operator could do before: a glossary entry for the word is added
                to config.toml and ``syndicate once`` run (its whole process), the clock
                stopping when it ends (then a page on disk must carry the fix). (Without the daemon: a
                running daemon would need a restart to read the config.)

Prints a table and one JSON object as its last line.

    python benchmarks/review_bench.py [--sizes 200,2000] [--repeats 5] [--python PY] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.scale_bench import run_once, write_article, write_config  # noqa: E402

TOKEN = "bench-editor-token-0123456789"
TARGET_S = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(base: Path, n: int, python: str) -> Path:
    (base / "articles").mkdir(parents=True)
    for index in range(n):
        write_article(base / "articles", index)
    cfg = write_config(base)
    started = time.perf_counter()
    run_once(python, cfg, progress_every=30, state=base / "state", label=f"fill {n}")
    print(f"  N={n}: filled in {time.perf_counter() - started:.0f} s", flush=True)
    return cfg


def editor_route(cfg: Path, python: str, repeats: int) -> list[float]:
    """Corrections through the API of a running ``run --serve``: seconds to the served feed."""
    port = free_port()
    env = dict(os.environ, SYNDICATE_EDITORS=f"bench:{TOKEN}", PYTHONUNBUFFERED="1")
    log = open(cfg.parent / "serve.log", "wb")  # noqa: SIM115 - the child's
    proc = subprocess.Popen(
        [python, "-m", "syndicate", "--config", str(cfg), "run", "--serve", "--port", str(port)],
        cwd=cfg.parent,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    times: list[float] = []
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"run --serve did not start: {(cfg.parent / 'serve.log').read_text()[-2000:]}")
                time.sleep(0.1)
            # Its start: a pass over what a crash could have left, then the first poll (N
            # files stat'ed); an editor comes to a daemon that has started.
            # An editor comes to a daemon that has started: its catch-up pass done, its
            # sources scheduled (the log says so), its first poll (if due) over.
            while b"scheduled bench" not in (cfg.parent / "serve.log").read_bytes():
                if time.monotonic() > deadline + 300:
                    raise SystemExit("the daemon did not finish starting")
                time.sleep(0.2)
            time.sleep(2)
            entries = client.get("/review/api/languages/es/entries?limit=50", headers=auth).json()["entries"]
            for i in range(repeats):
                article = entries[i]["article"]
                entry = client.get(f"/review/api/languages/es/entries/{article}", headers=auth).json()
                # The entry's page (it may be on an archive page of the feed, not its first page).
                page = urlsplit(entry["page_url"]).path
                text = f"Corrección número {i} de la redacción."
                started = time.perf_counter()
                answer = client.post(
                    f"/review/api/languages/es/entries/{article}/corrections",
                    headers=auth,
                    json={"segment": 1, "text": text, "expect": entry["segments"][1]["target"]},
                )
                answer.raise_for_status()
                while text not in client.get(page).text:
                    if time.perf_counter() - started > 60:
                        raise SystemExit("a correction did not reach the feed in 60 s")
                    time.sleep(0.01)
                times.append(time.perf_counter() - started)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return times


def anchor_route(cfg: Path, python: str, repeats: int) -> list[float]:
    """A glossary entry and a whole ``once``: seconds until the feed file carries the fix."""
    times: list[float] = []
    original = cfg.read_text(encoding="utf-8")
    # Words of the generated sentences that Apertium translates; each repeat forces one of
    # them to a marked form, as an operator fixing a word with the glossary would.
    words = ["meeting", "customers", "families", "project", "decision", "vote", "work", "line"]
    try:
        for i in range(repeats):
            word = words[i % len(words)]
            marked = f"{word}-fijado-{i}"
            cfg.write_text(
                original.replace("[[sources]]", f'[translate.glossary.es]\n"{word}" = "{marked}"\n\n[[sources]]'),
                encoding="utf-8",
            )
            started = time.perf_counter()
            run_once(python, cfg, label="anchor")
            elapsed = time.perf_counter() - started
            pages = (cfg.parent / "out" / "translations" / "es").glob("*.html")
            times.append(elapsed if any(marked in p.read_text(encoding="utf-8") for p in pages) else float("nan"))
    finally:
        cfg.write_text(original, encoding="utf-8")
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200,2000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--keep", type=Path, help="keep the built folders here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    root = args.keep or Path(tempfile.mkdtemp(prefix="review-bench-"))
    results = []
    try:
        for n in sizes:
            base = root / f"n{n}"
            if base.exists():
                shutil.rmtree(base)
            cfg = build(base, n, args.python)
            editor = editor_route(cfg, args.python, args.repeats)
            anchor = anchor_route(cfg, args.python, args.repeats)
            results.append(
                {
                    "n": n,
                    "editor_s": editor,
                    "anchor_s": anchor,
                    "editor_median_s": round(statistics.median(editor), 3),
                    "editor_max_s": round(max(editor), 3),
                    "anchor_median_s": round(statistics.median(anchor), 3),
                }
            )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(f"{'articles':>9} | {'editor: save -> served page':>28} | {'anchor: glossary + once':>24} | target")
    print(f"{'':>9} | {'median':>13} {'max':>14} | {'median':>24} |")
    for r in results:
        ok = "ok" if r["editor_max_s"] < TARGET_S else "MISSED"
        print(
            f"{r['n']:>9} | {r['editor_median_s']:>12.3f}s {r['editor_max_s']:>13.3f}s | "
            f"{r['anchor_median_s']:>23.3f}s | < {TARGET_S:.0f} s {ok}"
        )
    print(json.dumps({"target_s": TARGET_S, "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
