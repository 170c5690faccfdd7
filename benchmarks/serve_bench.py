"""``syndicate serve`` against nginx on the same folders: requests/s and p99 with wrk.

Publishes a 50-entry Atom feed (60 generated articles, ``feed_size = 50``; the articles
are written in Spanish and published in Spanish, so no engine runs), then starts
``syndicate serve`` and nginx (Debian's, with a generated config in a temporary folder)
on free 127.0.0.1 ports and measures each with ``wrk`` at 64 connections: a plain
``200`` of ``feeds/es/atom.xml`` and a conditional request (``If-None-Match`` with the
server's own ETag) answered ``304``. Prints both servers and syndicate's share of
nginx's rate. Then, unless ``--no-translation``, the same 304 against ``syndicate run
--serve`` while that process translates a batch of English articles with Apertium
(checked through ``/status.json``: translations are still pending after the run), and
its share of the idle rate. Everything stays on 127.0.0.1 and stops by itself.

    .venv/bin/python benchmarks/serve_bench.py [--seconds 10] [--connections 64] [--no-translation]

Targets (issue 11): at least 1,000 conditional requests/s with p99 under 50 ms, and
within 20% of that while a translation batch runs in the same process.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
FEED = "/news/feeds/es/atom.xml"
TARGET_RPS = 1000
TARGET_P99_MS = 50.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_site(root: Path, articles: int = 60) -> Path:
    """A config over ``articles`` generated Spanish articles, chained by previous/next."""
    folder = root / "articles"
    folder.mkdir(parents=True)
    titles = [f"Noticia número {n}: el ayuntamiento aprueba el presupuesto del barrio {n}" for n in range(articles)]
    for n, title in enumerate(titles):
        paragraphs = [
            f"El pleno municipal aprobó el martes la partida {n} para el barrio, con {n * 3 + 7} votos a favor. "
            "Los vecinos reclamaban desde hace años nuevas aceras, alumbrado y un centro de mayores. " * 3,
            "La concejala de urbanismo explicó que las obras empezarán en primavera y durarán ocho meses. "
            "El plan incluye también la renovación de la red de agua y la plantación de doscientos árboles. " * 2,
            f"La oposición criticó el retraso del proyecto número {n}, pero votó a favor de la propuesta final.",
        ]
        chain = ""
        if n > 0:
            chain += f"\n\nPrevious Article\n\n{titles[n - 1]}"
        if n + 1 < articles:
            chain += f"\n\nNext Article\n\n{titles[n + 1]}"
        (folder / f"{n:03d}.txt").write_text(title + "\n\n" + "\n\n".join(paragraphs) + chain + "\n", encoding="utf-8")
    config = root / "config.toml"
    config.write_text(
        textwrap.dedent(
            """
            [site]
            title = "Bench News"
            base_url = "https://news.example.org/news/"
            source_language = "es"

            [output]
            feeds_dir = "feeds"
            translations_dir = "translations"
            state_dir = "state"
            feed_size = 50

            [translate]
            languages = ["es"]
            engines = ["apertium"]

            [[sources]]
            name = "bench"
            type = "folder"
            path = "articles"
            language = "es"
            """
        ),
        encoding="utf-8",
    )
    return config


def add_english_source(config: Path, articles: int = 400) -> None:
    """A second source of English articles, so ``run --serve`` has a batch to translate."""
    folder = config.parent / "wire"
    folder.mkdir()
    for n in range(articles):
        body = "\n\n".join(
            f"The city council approved budget line {n}.{k} on Tuesday after a long debate about pavements, "
            f"street lighting and a new centre for older residents. Work starts in spring and lasts eight months; "
            f"the plan also renews the water network and plants two hundred trees along the river."
            for k in range(8)
        )
        (folder / f"{n:03d}.txt").write_text(f"Council approves neighbourhood budget {n}\n\n{body}\n", encoding="utf-8")
    with config.open("a", encoding="utf-8") as fh:
        fh.write('\n[[sources]]\nname = "wire"\ntype = "folder"\npath = "wire"\nlanguage = "en"\n')


def pending(base: str) -> int:
    data = httpx.get(base + "/status.json", timeout=10).json()
    return int(data["languages"][0]["pending_translations"])


def during_translation(config: Path, *, seconds: int, connections: int, threads: int) -> Result | str:
    """The 304 while ``syndicate run --serve`` translates; a string says why it could not."""
    add_english_source(config)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "syndicate", "-q", "run", "--serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(base + FEED, daemon)
        deadline = time.monotonic() + 60
        while pending(base) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)  # the wire source's first poll stores its articles
        before = pending(base)
        if before == 0:
            return "the translation batch never started"
        etag = httpx.get(base + FEED).headers["etag"]
        result = wrk(
            base + FEED, seconds=seconds, connections=connections, threads=threads, headers={"If-None-Match": etag}
        )
        after = pending(base)
        if after == 0:
            return f"the batch ended before the measurement did ({before} pending before it)"
        return result
    finally:
        stop(daemon)


def nginx_config(root: Path, port: int) -> Path:
    """nginx serving the same folders at the same paths, with its own validators."""
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    temp = root / "nginx"
    temp.mkdir()
    conf = temp / "nginx.conf"
    conf.write_text(
        f"""{user}worker_processes 1;
daemon off;
pid {temp}/nginx.pid;
error_log {temp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    types {{
        application/atom+xml xml;
        application/rss+xml rss;
        application/feed+json json;
        text/html html;
    }}
    charset utf-8;
    charset_types application/atom+xml application/rss+xml application/feed+json text/html;
    sendfile on;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        location /news/feeds/ {{ alias {root}/feeds/; add_header Cache-Control "public, max-age=300"; }}
        location /news/translations/ {{ alias {root}/translations/; }}
    }}
}}
""",
        encoding="utf-8",
    )
    return conf


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout}s")


@dataclass(frozen=True)
class Result:
    rps: float
    p99_ms: float
    errors: str


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk(url: str, *, seconds: int, connections: int, threads: int, headers: dict[str, str]) -> Result:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    match = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    p99 = float(match.group(1)) * _UNITS_MS[match.group(2)] if match else float("nan")
    errors = "; ".join(line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line)
    return Result(rps, p99, errors)


def measure(name: str, base: str, *, seconds: int, connections: int, threads: int) -> dict[str, Result]:
    url = base + FEED
    etag = httpx.get(url).headers["etag"]
    check = httpx.get(url, headers={"If-None-Match": etag})
    if check.status_code != 304:
        raise SystemExit(f"{name}: a conditional request got {check.status_code}, not 304")
    wrk(url, seconds=1, connections=connections, threads=threads, headers={})  # warm up
    return {
        "200": wrk(url, seconds=seconds, connections=connections, threads=threads, headers={}),
        "304": wrk(url, seconds=seconds, connections=connections, threads=threads, headers={"If-None-Match": etag}),
    }


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--no-translation", action="store_true", help="skip the run --serve measurement")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(f"{tool} is missing: run `make system-packages`", file=sys.stderr)
            return 2
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"

    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)  # nginx's workers run as nobody
        config = write_site(root)
        once = subprocess.run(
            [sys.executable, "-m", "syndicate", "-q", "once", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if once.returncode != 0:
            print(once.stdout, once.stderr, file=sys.stderr)
            return 1
        feed = (root / "feeds" / "es" / "atom.xml").read_bytes()
        entries = feed.count(b"<entry")
        print(f"feed: {FEED} with {entries} entries, {len(feed):,} bytes")

        ours = theirs = None
        try:
            port = free_port()
            ours = subprocess.Popen(
                [sys.executable, "-m", "syndicate", "-q", "serve", "--config", str(config), "--port", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            nginx_port = free_port()
            conf = nginx_config(root, nginx_port)
            theirs = subprocess.Popen(
                [nginx_bin, "-p", str(conf.parent), "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_until_up(f"http://127.0.0.1:{port}{FEED}", ours)
            wait_until_up(f"http://127.0.0.1:{nginx_port}{FEED}", theirs)
            opts = {"seconds": args.seconds, "connections": args.connections, "threads": args.threads}
            results = {
                "syndicate serve": measure("syndicate", f"http://127.0.0.1:{port}", **opts),
                "nginx": measure("nginx", f"http://127.0.0.1:{nginx_port}", **opts),
            }
        finally:
            stop(ours)
            stop(theirs)
        busy: Result | str | None = None
        if not args.no_translation:
            busy = during_translation(config, **opts)

    print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s on {os.cpu_count()} cores, 127.0.0.1")
    print(f"{'server':<16} {'request':<8} {'req/s':>10} {'p99 ms':>8}  notes")
    for name, by_kind in results.items():
        for kind, r in by_kind.items():
            print(f"{name:<16} {kind:<8} {r.rps:>10,.0f} {r.p99_ms:>8.2f}  {r.errors}")
    for kind in ("200", "304"):
        ratio = results["syndicate serve"][kind].rps / results["nginx"][kind].rps
        print(f"syndicate / nginx, {kind}: {ratio:.2f}")
    cond = results["syndicate serve"]["304"]
    met = cond.rps >= TARGET_RPS and cond.p99_ms < TARGET_P99_MS
    print(
        f"target (>= {TARGET_RPS:,} conditional req/s, p99 < {TARGET_P99_MS:.0f} ms): "
        f"{'met' if met else 'NOT met'} ({cond.rps:,.0f} req/s, p99 {cond.p99_ms:.2f} ms)"
    )
    if isinstance(busy, Result):
        share = busy.rps / cond.rps
        print(
            f"{'run --serve':<16} {'304':<8} {busy.rps:>10,.0f} {busy.p99_ms:>8.2f}  while translating "
            f"(Apertium, in the same process)"
        )
        print(f"while translating / idle, 304: {share:.2f} (target >= 0.80: {'met' if share >= 0.8 else 'NOT met'})")
    elif busy is not None:
        print(f"run --serve while translating: not measured: {busy}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
