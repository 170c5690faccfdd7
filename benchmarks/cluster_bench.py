#!/usr/bin/env python3
"""Cluster: translation throughput with 1 and with 2 worker processes (issue 12, "Measure").

Builds a folder source of ``--articles`` short English articles (the scale benchmark's
generator, no network) translated into ``es`` and ``ca`` with Apertium, starts a
throwaway Redis and PostgreSQL on 127.0.0.1 (tests/services.py), and for each worker
count in ``--workers``:

1. a fresh database; the source is polled into it in this process (not measured);
2. that many ``syndicate`` workers are started (``run_worker``: one child process of
   ``cluster.worker_threads = 1`` thread each, queues ``translate.es`` and
   ``translate.ca`` only) and waited for until they are ready;
3. the translation is enqueued as the scheduler's polls would: one
   ``translate(article_ids, lang)`` task per ``--chunk`` articles per language, all at
   once; the clock runs from the enqueue until no translate task is queued or running.

Sentences/s = segments the engines translated (the workers' own counts, from the
store's stats: translation-memory hits are not counted) / wall time. Prints a table,
the 2-worker / 1-worker ratio against the issue's 1.6x target, and a JSON line.

    python benchmarks/cluster_bench.py [--articles 400] [--chunk 50] [--workers 1,2] [--engine apertium|argos]

``--engine argos`` uses translate_bench's base-size model (6+6 layers, d512, int8, built
once into benchmarks/.cache) at beam 4, for en->es and en->ca.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LANGUAGES = ("es", "ca")


CACHE = ROOT / "benchmarks" / ".cache"


def argos_packages(base: Path) -> Path:
    """The base-size echo packages (translate_bench's model, en->es and en->ca), built
    once into benchmarks/.cache and installed into ``base``/packages."""
    from syndicate.translate.argos_packages import install_from_file

    packages = base / "packages"
    if packages.exists():
        return packages
    packages.mkdir(parents=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    corpus: Path | None = None
    for target in LANGUAGES:
        package = CACHE / f"translate-en_{target}-base-echo.argosmodel"
        if not package.exists():
            from benchmarks.corpus import training_text
            from tests.argos_fixture import build_package

            corpus = corpus or training_text(base / "corpus.txt")
            print(f"building the base-size echo package en->{target} (6+6 layers, d512, int8)...", flush=True)
            build_package(
                package,
                "en",
                target,
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
        install_from_file(package, packages)
    return packages


def write_config(
    base: Path, broker_url: str, store_url: str, articles: int, engine: str = "apertium", packages: Path | None = None
) -> Path:
    from benchmarks.scale_bench import article_text

    folder = base / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(articles):
        (folder / f"{index:06d}.txt").write_text(article_text(index), encoding="utf-8")
    cfg = base / "config.toml"
    cfg.write_text(
        f"""# written by benchmarks/cluster_bench.py
[site]
title = "Cluster Bench News"
base_url = "https://bench.example.org/"
source_language = "en"

[output]
feeds_dir = "out/feeds"
translations_dir = "out/translations"
state_dir = "state"

[translate]
languages = {json.dumps(list(LANGUAGES))}
engines = ["{engine}"]
{f'[translate.argos]{chr(10)}packages_dir = "{packages}"{chr(10)}' if packages else ""}
[cluster]
broker_url = "{broker_url}"
store_url = "{store_url}"
worker_threads = 1
visibility_timeout = "20m"
task_time_limit = "15m"

[[sources]]
name = "bench"
type = "folder"
path = "articles"
""",
        encoding="utf-8",
    )
    return cfg


def poll_into_store(cfg: Path) -> list[int]:
    from syndicate.config import load_settings
    from syndicate.store import Store
    from syndicate.translate.engines import Engines
    from syndicate.work import Work

    settings = load_settings(cfg)
    assert settings.cluster.store_url is not None
    with Store.from_url(settings.cluster.store_url) as store, Engines(settings) as engines:
        outcome = Work(settings, store, engines).poll("bench")
    return sorted(outcome.article_ids)


def translated_segments(store_url: str) -> int:
    """Segments the engines were given (translated, or translated and then rejected by
    a quality guard: the engine's work either way); memory hits excluded."""
    from syndicate.store import Store

    with Store.from_url(store_url) as store:
        totals = store.stats.all()
    print(json.dumps({f"{k[0]}/{k[1]}": v for k, v in totals.items()}), file=sys.stderr)
    return sum(counts.get("translated", 0) + counts.get("guard_failures", 0) for counts in totals.values())


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and every live descendant,
    including what their reaped children used."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15]) / ticks  # utime stime cutime cstime
    except OSError:
        return 0.0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        total += sum(tree_cpu_seconds(child) for child in children)
    return total


def busy(client: object) -> int:
    """Translate tasks queued or running."""
    queued = sum(client.llen(f"translate.{lang}") for lang in LANGUAGES)  # type: ignore[attr-defined]
    running = 0
    for raw in client.hvals("unacked"):  # type: ignore[attr-defined]
        if json.loads(raw)[2].startswith("translate."):
            running += 1
    return queued + running


def run(
    workers: int,
    work_dir: Path,
    broker_url: str,
    store_url: str,
    articles: int,
    chunk: int,
    engine: str = "apertium",
    packages: Path | None = None,
) -> dict[str, float]:
    """One measurement, in a process of its own (Celery's app keeps its first broker)."""
    import redis

    cfg = write_config(work_dir, broker_url, store_url, articles, engine, packages)
    ids = poll_into_store(cfg)
    client = redis.Redis.from_url(broker_url)
    client.flushdb()
    procs = []
    try:
        for n in range(workers):
            log = open(work_dir / f"worker-{n}.log", "wb")  # noqa: SIM115
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tests.cluster.launch",
                        "worker",
                        "--config",
                        str(cfg),
                        "--queues",
                        "translate",
                        "--concurrency",
                        "1",
                        "--hostname",
                        f"bench{n}@bench",
                    ],
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            log.close()
        deadline = time.monotonic() + 120
        while client.hlen("syndicate:workers") < workers:
            if time.monotonic() > deadline:
                raise SystemExit(f"workers did not start; see {work_dir}/worker-*.log")
            time.sleep(0.1)
        time.sleep(1.0)  # children forked and their engines opened (worker_process_init)
        from syndicate.cluster.app import configure
        from syndicate.cluster.queues import translate_queue
        from syndicate.config import load_settings

        configure(load_settings(cfg))
        from syndicate.cluster.tasks import translate

        started = time.monotonic()
        cpu_before = cpu_jiffies()
        own_before = sum(tree_cpu_seconds(p.pid) for p in procs)
        for i in range(0, len(ids), chunk):
            for language in LANGUAGES:
                translate.apply_async(args=(ids[i : i + chunk], language, None), queue=translate_queue(language))
        time.sleep(0.2)
        while busy(client):
            time.sleep(0.05)
        seconds = time.monotonic() - started
        cpu_after = cpu_jiffies()
        own_cpu = sum(tree_cpu_seconds(p.pid) for p in procs) - own_before
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        client.close()
    segments = translated_segments(store_url)
    # How busy the machine's cores were during the run (every process, ours and others').
    utilisation = (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1])
    return {
        "workers": workers,
        "seconds": seconds,
        "segments": segments,
        "rate": segments / seconds,
        "cpu_utilisation": utilisation,
        "workers_cpu_seconds": own_cpu,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--chunk", type=int, default=50, help="articles per translate task (one poll's worth)")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument(
        "--engine",
        choices=("apertium", "argos"),
        default="apertium",
        help="argos: the base-size benchmark model (built once into benchmarks/.cache), beam 4",
    )
    parser.add_argument("--packages", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    parser.add_argument("--one", nargs=3, metavar=("WORKERS", "BROKER", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        workers, broker_url, store_url = int(args.one[0]), args.one[1], args.one[2]
        assert args.keep is not None
        print(
            json.dumps(
                run(workers, args.keep, broker_url, store_url, args.articles, args.chunk, args.engine, args.packages)
            )
        )
        return 0
    if args.engine == "apertium" and shutil.which("apertium") is None:
        print("Apertium is not installed: `make setup`", file=sys.stderr)
        return 2
    from tests.services import PostgresServer, RedisServer

    base = args.keep or Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    results = []
    packages = argos_packages(base) if args.engine == "argos" else None
    try:
        with RedisServer() as redis_server, PostgresServer() as postgres_server:
            for workers in (int(w) for w in args.workers.split(",")):
                store_url = postgres_server.create_database(f"bench_{workers}")
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--articles",
                        str(args.articles),
                        "--chunk",
                        str(args.chunk),
                        "--engine",
                        args.engine,
                        *(["--packages", str(packages)] if packages else []),
                        "--keep",
                        str(base / f"workers-{workers}"),
                        "--one",
                        str(workers),
                        redis_server.url_for(workers),
                        store_url,
                    ],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    print(done.stdout, done.stderr, file=sys.stderr)
                    return 1
                result = json.loads(done.stdout.strip().splitlines()[-1])
                results.append(result)
                print(
                    f"{args.engine}: {workers} worker(s) x 1 thread: {result['segments']} segments in "
                    f"{result['seconds']:.1f} s "
                    f"= {result['rate']:.1f} sentences/s; cores busy {100 * result['cpu_utilisation']:.0f}% "
                    f"of {os.cpu_count()} (the workers' own: {result['workers_cpu_seconds'] / result['seconds']:.2f} "
                    f"cores)",
                    flush=True,
                )
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    summary: dict[str, object] = {
        "engine": args.engine,
        "articles": args.articles,
        "languages": list(LANGUAGES),
        "chunk": args.chunk,
        "cpus": os.cpu_count(),
        "results": results,
    }
    by = {r["workers"]: r["rate"] for r in results}
    if 1 in by and 2 in by:
        ratio = by[2] / by[1]
        summary["ratio"] = ratio
        print(f"ratio 2/1: {ratio:.2f}x (target >= 1.6x on 2 cores: {'met' if ratio >= 1.6 else 'NOT met'})")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
