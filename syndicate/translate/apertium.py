"""Apertium (Debian packages) as a translation engine.

Each language pair runs as one long-lived pipeline of Apertium's own programs, built from
the pair's ``.mode`` file with null-flush (``-z``) added to every stage: a NUL written
after the input makes every stage flush, and the output is read back up to the NUL that
comes out. This avoids a process start per call (the ``apertium`` shell wrapper does not
flush, so it cannot be kept alive).

Input is handed over in Apertium's stream format rather than through a deformatter:
special characters are backslash-escaped and protected terms (``keep_verbatim``) are sent
as superblanks (``[<k0>]``), which every stage passes through untouched, so names come
back exactly as they went in wherever the engine moves them.

Speed. A flush passes through about ten processes, so segments are not sent one per
flush: a chunk of many segments goes as one stream, each segment followed by a sentence
end and a marker superblank (`` .[][<syndicate-seg-7>]``: the ``.[]`` Apertium's own text
deformatter puts at a paragraph end, after a space so a last "no" does not become the
abbreviation "No."), and the output is cut at the markers. A chunk
whose markers do not all come back once and in order is translated again one segment
per flush, so a lost marker costs time, never alignment.

Bounds. Input is written while output is read (non-blocking pipes), so no input size can
deadlock the pipes; every flush has a deadline (``timeout``), after which the pipeline is
killed and the call fails. A segment longer than ``max_piece_chars`` is sent in pieces
cut at whitespace (else anywhere), joined in the stream by a bare marker (no sentence
end), so a long segment spreads over several flushes, each with its deadline. A run of
``LONG_RUN_CHARS`` or more characters without whitespace passes through verbatim: it is
no word, Apertium would pass it through unchanged anyway, and its analyser takes minutes
over one (a 300 KB "word" took over four minutes).

Processes. syndicate starts the stages itself, without a shell, in a process group of
their own, each with ``PR_SET_PDEATHSIG`` (SIGKILL) on Linux: they die with syndicate even
when it is killed with SIGKILL, and ``close()`` or a timeout kills the whole group. The
death signal is armed by util-linux's ``setpriv --pdeathsig KILL``, which execs the stage:
a Python ``preexec_fn`` would make every start a full ``fork()`` of syndicate's heap (about
15 ms a stage at 200 MB, and a pair has 10-15 stages) where ``setpriv`` lets ``subprocess``
use ``vfork()``. Without ``setpriv`` the signal is armed by ``prctl`` in a ``preexec_fn``.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import logging
import os
import queue
import re
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from syndicate.config import machine_cache_dir
from syndicate.errors import ModelError, TranslationError
from syndicate.models import Lang, lang
from syndicate.translate.analysis import Unit
from syndicate.translate.base import EngineOutput, Protect, segment_terms

logger = logging.getLogger(__name__)

DEFAULT_MODES_DIR = Path("/usr/share/apertium/modes")

#: A segment longer than this (characters) is translated in pieces cut at whitespace.
MAX_PIECE_CHARS = 2_000
#: A run of this many non-space characters or more is no word: it passes through verbatim.
LONG_RUN_CHARS = 1_000
#: Words remembered per pair as changing its tagger (a handful in practice: "I", "near").
MAX_TAGGER_CHANGERS = 10_000
#: Source characters sent per flush (a chunk): about 2,000 short news titles, a few
#: seconds of work. A flush costs the stages tens of milliseconds of CPU, so fewer is faster.
CHUNK_CHARS = 100_000

# Apertium uses ISO 639-3 codes in newer pairs ("eng-spa"), ISO 639-1 in older ones.
_ISO3 = {
    "en": "eng",
    "es": "spa",
    "ca": "cat",
    "gl": "glg",
    "eo": "epo",
    "fr": "fra",
    "pt": "por",
    "it": "ita",
    "de": "deu",
    "nl": "nld",
    "oc": "oci",
    "an": "arg",
    "ro": "ron",
    "eu": "eus",
    "cy": "cym",
    "br": "bre",
    "nb": "nob",
    "nn": "nno",
    "sv": "swe",
    "da": "dan",
    "is": "isl",
    "ru": "rus",
    "uk": "ukr",
    "be": "bel",
    "kk": "kaz",
    "tt": "tat",
    "mt": "mlt",
    "ar": "ara",
    "hi": "hin",
    "ur": "urd",
    "sq": "sqi",
    "mk": "mkd",
    "bg": "bul",
    "sr": "srp",
    "hr": "hrv",
    "bs": "bos",
    "sl": "slv",
    "af": "afr",
    "id": "ind",
    "ms": "msa",
    "ga": "gle",
    "gd": "gla",
}
_ISO1 = {v: k for k, v in _ISO3.items()}


def debian_packages(pairs: Iterable[tuple[Lang, Lang]], available: Iterable[str]) -> tuple[list[str], list[str]]:
    """The Debian packages that give Apertium these language pairs: ``(packages, missing)``.

    Debian names a pair's package with ISO 639-3 or 639-1 codes, in either order
    (``apertium-eng-spa``, ``apertium-en-gl``, ``apertium-eo-en``), one package serving
    both directions; ``available`` is what the package index knows (``apt-cache pkgnames
    apertium-``). A pair none of them gives is in ``missing``, as ``src-tgt``.
    """
    known = set(available)
    found: list[str] = ["apertium"]
    missing: list[str] = []
    for source, target in pairs:
        a = [_ISO3.get(source, source), source]
        b = [_ISO3.get(target, target), target]
        names = [f"apertium-{x}-{y}" for x in a for y in b] + [f"apertium-{y}-{x}" for x in a for y in b]
        name = next((n for n in names if n in known), None)
        if name is None:
            missing.append(f"{source}-{target}")
        elif name not in found:
            found.append(name)
    return found, missing


def system_packages(pairs: Sequence[tuple[Lang, Lang]], pivot: str) -> tuple[list[str], list[str]]:
    """``syndicate models packages``: the Debian packages that give Apertium ``pairs``
    (through ``pivot`` where a pair has no package of its own), and the pairs none gives,
    as ``src-tgt``. Raises :class:`OSError` when the package index lists no Apertium
    package (``apt-get update`` was never run)."""
    try:
        names = subprocess.run(
            ["apt-cache", "pkgnames", "apertium-"], capture_output=True, text=True, timeout=60, check=False
        ).stdout.split()
    except subprocess.TimeoutExpired:
        names = []
    if not names:
        raise OSError("the package index lists no apertium-* package (fix: run `apt-get update`)")
    found, missing = debian_packages(pairs, names)
    if missing and pivot:  # a pair with no package of its own goes through the pivot language
        legs = sorted(
            {
                (lang(a), lang(b))
                for pair in missing
                for a, b in ((pair.split("-")[0], pivot), (pivot, pair.split("-")[1]))
                if a != b
            }
        )
        through, unreachable = debian_packages(legs, names)
        found += [name for name in through if name not in found]
        missing = [
            pair
            for pair in missing
            if f"{pair.split('-')[0]}-{pivot}" in unreachable or f"{pivot}-{pair.split('-')[1]}" in unreachable
        ]
    return found, missing


# Stages that understand -z (null flush). Anything else in a mode file is left alone.
_FLUSHABLE = (
    "lt-proc",
    "apertium-tagger",
    "apertium-pretransfer",
    "apertium-transfer",
    "apertium-interchunk",
    "apertium-postchunk",
    "lrx-proc",
    "cg-proc",
    "vislcg3",
    "apertium-posttransfer",
    "rtx-proc",
    "apertium-anaphora",
    "lsx-proc",
    "hfst-proc",
)
_SPECIAL = re.compile(r"([\\\[\]^$/@<>{}])")
_UNESCAPE = re.compile(r"\\(.)")
# Marks Apertium puts before words it could not handle: * unknown, # generation error,
# @ untranslated lemma. Only at a word start, never inside protected terms.
_MARKS = re.compile(r"(?<![\w\\])[*#@](?=\w)")
_PLACEHOLDER = re.compile(r"\[<k(\d+)>\]")
# After each segment of a chunk: a sentence end, so no rule of the engine joins two
# segments, then the marker superblank the output is cut at. Between the pieces of one
# long segment, the marker alone: the sentence goes on.
_SEGMENT_END = " .[][<syndicate-seg-{}>]"
# Before the first segment of a flush: the same sentence end and a marker, so the first
# segment has what every other has before it (some pairs' rules read the sentence start:
# en-eo wrote "aŭta bombo" first in a flush and "Aŭta bombo" after another segment).
_FLUSH_START = " .[][<syndicate-start>]"
_START_MARKER = "[<syndicate-start>]"
_PIECE_END = "[<syndicate-seg-{}>]"
_SEGMENT_MARKER = re.compile(r"\[<syndicate-seg-(\d+)>\]")
# What the sentence end comes back as, at the end of a segment's output.
_SENTENCE_END = re.compile(r"\.?\s*\[\]\s*$")
_LONG_RUN = rf"\S{{{LONG_RUN_CHARS},}}"
# What apertium-tagger -d says of a word of an ambiguity class it was not trained on.
_NEW_CLASS_WORD = re.compile(r"Word '(.*?)'\.?\n")
# Shell syntax a mode file may use: pipes only; anything else needs a shell we do not run.
_SHELL_SYNTAX = set("|;&<>()`")

PR_SET_PDEATHSIG = 1


def _code(code: str) -> str:
    return _ISO1.get(code, code)


def _mode_pair(name: str) -> tuple[Lang, Lang] | None:
    """'eng-spa' -> ('en', 'es'); variants ('eng-cat_valencia') are not default pairs."""
    parts = name.split("-")
    if len(parts) != 2 or not all(re.fullmatch(r"[a-z]{2,3}", p) for p in parts):
        return None
    return Lang(_code(parts[0])), Lang(_code(parts[1]))


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _stages(mode_file: Path) -> list[list[str]]:
    """The programs of a mode file's pipeline, each with null flush added where it knows it."""
    command = mode_file.read_text(encoding="utf-8").strip()
    lexer = shlex.shlex(command, posix=True, punctuation_chars="".join(sorted(_SHELL_SYNTAX)))
    lexer.whitespace_split = True
    stages: list[list[str]] = [[]]
    for token in lexer:
        if token == "|":
            stages.append([])
        elif token == "$1":  # the generator's option: -g, words it could not handle marked
            stages[-1].append("-g")  # (*unknown, @no translation, #no form): counted, then removed
        elif token == "$2":  # tagger extras: none
            continue
        elif set(token) <= _SHELL_SYNTAX or token.startswith("$"):
            raise ModelError(
                f"{mode_file}: unsupported shell syntax {token!r} in an Apertium mode file", engine="apertium"
            )
        else:
            stages[-1].append(token)
    if not all(stages):
        raise ModelError(f"{mode_file}: empty stage in an Apertium mode file", engine="apertium")
    for argv in stages:
        if os.path.basename(argv[0]) in _FLUSHABLE and "-z" not in argv:
            argv.insert(1, "-z")
        if _hmm_tagger(argv) and "-d" not in argv:
            argv.insert(1, "-d")  # it says when it meets a new ambiguity class (see _Pipeline)
    return stages


def _hmm_tagger(argv: Sequence[str]) -> bool:
    """``apertium-tagger -g`` with its hidden Markov model (not ``-x``, the perceptron)."""
    if os.path.basename(argv[0]) != "apertium-tagger":
        return False
    flags = [a for a in argv[1:] if a.startswith("-") and not a.startswith("--")]
    return any("g" in f for f in flags) and not any("x" in f for f in flags) and "--perceptron" not in argv


# -- processes that die with their parent ----------------------------------------------------


@functools.cache
def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):
        return None


@functools.cache
def _setpriv() -> str | None:
    """util-linux's ``setpriv`` when it can arm the parent-death signal (2.33 and later)."""
    if not sys.platform.startswith("linux"):
        return None
    path = shutil.which("setpriv")
    if path is None:
        return None
    try:
        probe = subprocess.run(
            [path, "--pdeathsig", "KILL", "--", "true"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return path if probe.returncode == 0 else None


def _die_with_parent(prctl: Callable[..., int], parent: int) -> None:
    """In the child, before exec: SIGKILL when the parent dies (kept across exec)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


_T = TypeVar("_T")


class _Spawner:
    """Runs process starts on one thread that lives as long as the process.

    ``PR_SET_PDEATHSIG`` fires when the *thread* that started a child ends, not the
    process: a pipeline started from a short-lived worker thread would be killed with it.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, job: Callable[[], _T]) -> _T:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="apertium-spawner", daemon=True)
                self._thread.start()
        future: Future[_T] = Future()
        self._jobs.put((job, future))
        return future.result()

    def _loop(self) -> None:
        while True:
            job, future = self._jobs.get()
            try:
                future.set_result(job())
            except BaseException as error:  # noqa: BLE001 - handed to the caller, who re-raises it
                future.set_exception(error)


_SPAWNER = _Spawner()


def _spawn(
    argv: Sequence[str], stdin: int | IO[bytes] | None, stdout: int, stderr: int, group: int
) -> subprocess.Popen[bytes]:
    """One stage, dying with us, in process group ``group`` (0: a new one it leads)."""
    setpriv = _setpriv()
    prefix: list[str] = [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []
    prctl = None if setpriv else _prctl()
    preexec = functools.partial(_die_with_parent, prctl, os.getpid()) if prctl is not None else None
    return subprocess.Popen(
        [*prefix, *argv], stdin=stdin, stdout=stdout, stderr=stderr, process_group=group, preexec_fn=preexec
    )


def _start(
    stages: Sequence[Sequence[str]], watched: int | None = None
) -> tuple[list[subprocess.Popen[bytes]], tuple[int, int]]:
    """Start the stages connected by pipes, in one new process group led by the first.

    Stage ``watched`` (if any) gets its stderr on a pipe, and we keep the ends of the
    pipes around it (returned: its input's read end, its output's write end), so it can
    be replaced by a fresh one between flushes (:meth:`_Pipeline.renew`)."""
    procs: list[subprocess.Popen[bytes]] = []
    kept: tuple[int, int] = (-1, -1)
    try:
        for index, argv in enumerate(stages):
            stdin: int | IO[bytes] | None = subprocess.PIPE if not procs else procs[-1].stdout
            stdout: int = subprocess.PIPE
            if watched is not None and index == watched - 1:  # feeds the watched stage: a pipe we keep
                read_end, write_end = os.pipe()
                kept = (read_end, kept[1])
                stdout = write_end
            elif watched is not None and index == watched:
                stdin = kept[0]
                read_end, write_end = os.pipe()
                kept = (kept[0], write_end)
                stdout = write_end
            elif watched is not None and index == watched + 1:
                stdin = read_end
            proc = _spawn(
                argv,
                stdin,
                stdout,
                subprocess.PIPE if index == watched else subprocess.DEVNULL,
                procs[0].pid if procs else 0,
            )
            if watched is not None and index == watched - 1:
                os.close(write_end)  # the stage before holds it now
            elif watched is not None and index == watched + 1:
                os.close(read_end)  # the stage after holds it now
            elif procs and procs[-1].stdout is not None:
                procs[-1].stdout.close()  # the next stage holds it now
            procs.append(proc)
    except BaseException:
        _kill(procs)
        for fd in kept:
            if fd >= 0:
                os.close(fd)
        raise
    return procs, kept


def _kill(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """Kill the group and every member we know, close our pipe ends, reap them all."""
    _signal(procs)
    _reap(procs)


def _signal(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    if procs:
        try:
            os.killpg(procs[0].pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for proc in procs:
        if proc.poll() is None:
            try:
                proc.kill()
            except ProcessLookupError:
                pass


def _signal_one(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def _reap(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()
        proc.wait()


# -- one pipeline -------------------------------------------------------------------------------


class _Pipeline:
    """One running pipeline of Apertium programs (a mode's, or an analyser alone).

    Its HMM tagger, if it has one, is watched. ``apertium-tagger -g`` (3.8) changes its
    own model when it meets a word of an ambiguity class it was not trained on: the
    class it falls back to overwrites the open class it gives unknown words (names,
    mostly), for as long as the process lives. What a segment becomes would then depend
    on what the process read before it (in one flush or an earlier one). The tagger runs
    with ``-d``, which makes it say so on stderr ("A new ambiguity class was found ...
    Word 'I'"); a flush after which it said so replaces the tagger with a fresh one
    before the next (a few milliseconds: the other stages and their pipes stay), and
    tells the caller the words (:meth:`run_reporting`), whose segments after the first
    that holds one were read by a changed tagger.
    """

    def __init__(self, stages: list[list[str]], label: str, timeout: float) -> None:
        self.stages = stages
        self.command = " | ".join(shlex.join(argv) for argv in self.stages)
        self.timeout = timeout
        # Reentrant: a flush that fails closes the pipeline while holding it.
        self.lock = threading.RLock()
        watched = [i for i, argv in enumerate(stages) if 0 < i < len(stages) - 1 and _hmm_tagger(argv)]
        #: The stage replaced after a flush that changed it (the HMM tagger), if any.
        self.watched: int | None = watched[0] if watched else None
        logger.debug("starting apertium pipeline: %s", self.command)
        try:
            self.procs, (self._feed, self._fed) = _SPAWNER.run(functools.partial(_start, self.stages, self.watched))
        except (OSError, subprocess.SubprocessError) as error:
            raise ModelError(
                f"cannot start the Apertium pipeline of {label}: {error}",
                engine="apertium",
                hint="apt-get install apertium (and the pair's package)",
            ) from error
        stdin, stdout = self.procs[0].stdin, self.procs[-1].stdout
        assert stdin is not None and stdout is not None
        self._in, self._out = stdin.fileno(), stdout.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)
        self._err = self._watch_errors()
        self._said = bytearray()  # what the watched stage wrote to stderr during the flush
        self._closed = False
        #: Times the watched stage was replaced (for tests and the benchmark).
        self.renewals = 0

    def _watch_errors(self) -> int:
        """The watched stage's stderr, non-blocking (-1: none watched)."""
        if self.watched is None:
            return -1
        err = self.procs[self.watched].stderr
        assert err is not None
        os.set_blocking(err.fileno(), False)
        return err.fileno()

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        """The first stage, leader of the pipeline's process group."""
        return self.procs[0]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def run(self, text: str) -> str:
        """One flush: write ``text`` and a NUL while reading the output up to its NUL."""
        return self.run_reporting(text)[0]

    def run_reporting(self, text: str) -> tuple[str, frozenset[str]]:
        """:meth:`run`, and the words that changed the watched tagger during it (empty:
        it is as it started); when there are any, the tagger is fresh again already."""
        data = text.replace("\0", " ").encode("utf-8", errors="replace") + b"\0"
        with self.lock:
            if self._closed:
                raise TranslationError("apertium pipeline was closed", engine="apertium")
            self._said.clear()
            out = self._exchange(data).decode("utf-8", errors="replace")
            self._drain()
            said = bytes(self._said).decode("utf-8", errors="replace")
            if "ambiguity class" not in said:
                return out, frozenset()
            words = frozenset(_NEW_CLASS_WORD.findall(said)) or frozenset({""})
            self.renew()
            return out, words

    def _drain(self) -> None:
        """Read what the watched stage wrote to stderr (all of it is there once the
        flush's NUL came out of the last stage: the stage wrote it before passing it on)."""
        while self._err >= 0:
            try:
                chunk = os.read(self._err, 1 << 16)
            except BlockingIOError:
                return
            if not chunk:
                return
            if len(self._said) < (1 << 20):
                self._said += chunk

    def renew(self) -> None:
        """Replace the watched stage with a fresh process on the same pipes (between
        flushes: nothing is in flight). A failure closes the pipeline (the next call
        starts a new one)."""
        with self.lock:
            if self.watched is None or self._closed:
                return
            old = self.procs[self.watched]
            _signal_one(old)
            _reap([old])
            try:
                new = _SPAWNER.run(
                    functools.partial(
                        _spawn, self.stages[self.watched], self._feed, self._fed, subprocess.PIPE, self.procs[0].pid
                    )
                )
            except (OSError, subprocess.SubprocessError) as error:
                logger.warning(
                    "apertium: cannot restart %s (%s); restarting the pipeline", self.stages[self.watched][0], error
                )
                self.close()
                return
            self.procs[self.watched] = new
            self._err = self._watch_errors()
            self.renewals += 1

    def _exchange(self, data: bytes) -> bytes:
        deadline = time.monotonic() + self.timeout
        limit = 16 * len(data) + (1 << 20)  # Apertium's output is a few times its input, at most
        view = memoryview(data)
        sent = 0
        out = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(self._out, selectors.EVENT_READ)
            selector.register(self._in, selectors.EVENT_WRITE)
            if self._err >= 0:  # read as it comes: a full stderr pipe would stall the stage
                selector.register(self._err, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.close()
                    raise TranslationError(f"apertium did not answer within {self.timeout:g}s", engine="apertium")
                for key, _ in selector.select(remaining):
                    if key.fd == self._in:
                        try:
                            sent += os.write(self._in, view[sent : sent + 65536])
                        except BlockingIOError:
                            continue
                        except OSError:  # EPIPE: a stage died
                            raise self._broken() from None
                        if sent == len(view):
                            selector.unregister(self._in)
                        continue
                    if key.fd == self._err:
                        self._drain()
                        continue
                    try:
                        chunk = os.read(self._out, 1 << 16)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        raise self._broken()
                    start = len(out)
                    out += chunk
                    if out.find(b"\0", start) >= 0:
                        result, _, rest = bytes(out).partition(b"\0")
                        if rest.strip(b"\0") or sent < len(view):
                            logger.warning("apertium sent unexpected output; restarting the pipeline")
                            self.close()
                        return result
                    if len(out) > limit:
                        self.close()
                        raise TranslationError(
                            f"apertium answered {len(out)} bytes to {len(data)}; stopped it", engine="apertium"
                        )

    def _broken(self) -> TranslationError:
        closed = self._closed
        self.close()
        return TranslationError(
            "apertium pipeline was closed" if closed else "apertium pipeline exited unexpectedly", engine="apertium"
        )

    def alive(self) -> bool:
        return not self._closed and all(p.poll() is None for p in self.procs)

    def close(self) -> None:
        """Kill the whole group. A flush running in another thread sees its output end
        at once and fails; it closes our pipe ends then (closing them under it would
        leave it waiting for its deadline)."""
        self._closed = True
        _signal(self.procs)
        if self.lock.acquire(blocking=False):
            try:
                _reap(self.procs)
                for fd in (self._feed, self._fed):
                    if fd >= 0:
                        os.close(fd)
                self._feed = self._fed = self._err = -1
            finally:
                self.lock.release()


# -- the engine -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """A segment, or a piece of a long one, ready for the stream."""

    segment: int  # index of the segment it belongs to
    joiner: str  # what stood between it and the previous piece ("" for the first, or a hard cut)
    last: bool  # the segment's last piece: a sentence end follows it in the stream
    encoded: str  # stream format, protected terms as superblanks
    used: tuple[str, ...]  # per superblank, the text that replaces it


@dataclass(frozen=True)
class _Raw:
    """A segment back from the pipeline: restored text and the marks counted in it."""

    text: str
    marked: int = 0  # words Apertium marked (*unknown, @untranslated lemma, #no form)
    unknown: tuple[str, ...] = ()  # the *unknown ones


@dataclass(frozen=True)
class _Shaped:
    """A segment as it goes into the pipeline.

    ``spaced`` is the segment with its hyphenated compounds that the analyser reads as
    several words spaced out (``two - year``), so the transfer rules see the hyphen as a
    word of its own and nothing comes back glued ("renovacióndedos años"); ``named`` is
    that text with protected names standing in as placeholder proper nouns (``Oslo``),
    so the rules treat a kept name as the noun phrase it is ("the Fort Worth hotel" ->
    "el hotel de Fort Worth", a subject keeps its verb) where a superblank would be
    punctuation the rules work around.
    """

    spaced: str
    named: str
    placeholders: tuple[tuple[str, str], ...]  # (placeholder, the text that replaces it)
    #: Protected names left in the text as they are: every word of them a proper noun the
    #: pair passes through, or a word it does not know (it copies those unchanged), so the
    #: rules see the sentence as it is ("Stephen Harper", "Mangola").
    passed: tuple[str, ...] = ()


#: Placeholder proper nouns, tried in this order: a pair uses those its dictionaries
#: read as proper nouns and give back unchanged in the probe sentences (:data:`_PROBE`).
#: Place names for organisations, brands and places; given names for people.
_PLACE_POOL = (
    "Oslo",
    "Dakar",
    "Lima",
    "Ankara",
    "Vilnius",
    "Denver",
    "Dublin",
    "Seattle",
    "Boston",
    "Toronto",
    "Hamburg",
    "Montreal",
    "Chicago",
    "Belgrade",
    "Madrid",
    "Tokyo",
    "Warsaw",
    "Moscow",
    "Prague",
    "Vienna",
)
_PERSON_POOL = (
    "Igor",
    "Olga",
    "Hugo",
    "Oscar",
    "Felix",
    "Elena",
    "Marta",
    "Pedro",
    "Diego",
    "Laura",
    "Emma",
    "Victor",
    "Ivan",
    "Carmen",
    "Sarah",
    "Henry",
    "Edward",
    "Richard",
    "Tanya",
    "Sophia",
)
_PROBE = "{0} visited the hotel on Monday. The {0} hotel was closed. {0}'s company grew. She met {0}."
_PROBE_USES = 4
#: What a probe's result depends on besides the pair's data (its package version).
_POOLS_DIGEST = hashlib.sha256(repr((_PLACE_POOL, _PERSON_POOL, _PROBE, _PROBE_USES)).encode()).hexdigest()[:12]


def _pools_file() -> Path:
    """Where probes are remembered across processes (a cron ``once`` probes no pair twice)."""
    return machine_cache_dir() / "apertium-placeholders.json"


def _remembered_pools(model: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """A pair's probed placeholders, if this version of it was probed before."""
    if "unknown" in model:  # not a Debian package: its data may change under the same name
        return None
    try:
        entry = json.loads(_pools_file().read_text(encoding="utf-8")).get(f"{model}|{_POOLS_DIGEST}")
        places, people = entry
        if set(places) <= set(_PLACE_POOL) and set(people) <= set(_PERSON_POOL):
            return tuple(places), tuple(people)
    except (OSError, ValueError, TypeError, AttributeError):
        pass  # none remembered, or a damaged file: probe again
    return None


def _remember_pools(model: str, pools: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    if "unknown" in model:
        return
    _update_cache(
        _pools_file(),
        f"{model}|{_POOLS_DIGEST}",
        [list(pools[0]), list(pools[1])],
        keep=lambda key: key.endswith(f"|{_POOLS_DIGEST}"),
    )  # older probes go


def _changers_file() -> Path:
    """Where the words that change a pair's tagger are remembered across processes."""
    return machine_cache_dir() / "apertium-tagger-changers.json"


def _remembered_changers(model: str) -> set[str]:
    """The words known to change this version of a pair's tagger (none if not known)."""
    if "unknown" in model:
        return set()
    try:
        entry = json.loads(_changers_file().read_text(encoding="utf-8")).get(model, [])
        return {str(word) for word in entry if isinstance(word, str) and word}
    except (OSError, ValueError, TypeError, AttributeError):
        return set()


def _remember_changers(model: str, words: Collection[str]) -> None:
    if "unknown" not in model:
        _update_cache(_changers_file(), model, sorted(words)[:MAX_TAGGER_CHANGERS])


def _update_cache(path: Path, key: str, value: object, keep: Callable[[str], bool] = lambda _key: True) -> None:
    """Set ``key`` in a JSON file of the machine cache, replaced whole (safe for several
    processes: the last writer wins, no reader sees half a file)."""
    try:
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
            known = known if isinstance(known, dict) else {}
        except (OSError, ValueError):
            known = {}
        known = {k: v for k, v in known.items() if keep(k)}
        known[key] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(known, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:  # a read-only home: learn again in every process
        logger.debug("apertium: cannot remember %s in %s: %s", key, path, error)


#: Words of a segment, for the share of them Apertium marked.
_WORDS = re.compile(r"[^\W_]+")
_HYPHENATED = re.compile(r"(?<![\w-])[\w.]+(?:-[\w.]+)+(?![\w-])")
_UNKNOWN_MARK = re.compile(r"(?<![^\W\d_\\])\*(\w[\w'-]*)")


class ApertiumTranslator:
    """Translator over Debian's Apertium language pairs."""

    name = "apertium"

    def __init__(
        self,
        modes_dir: Path = DEFAULT_MODES_DIR,
        *,
        timeout: float = 60.0,
        max_piece_chars: int = MAX_PIECE_CHARS,
        chunk_chars: int = CHUNK_CHARS,
    ) -> None:
        self.modes_dir = modes_dir
        self.timeout = timeout
        self.max_piece_chars = max(max_piece_chars, 1)
        self.chunk_chars = max(chunk_chars, 1)
        self._pipelines: dict[tuple[Lang, Lang], _Pipeline] = {}
        self._modes: dict[tuple[Lang, Lang], Path] | None = None
        self._model_ids: dict[tuple[Lang, Lang], str] = {}
        self._analysers: dict[tuple[str, ...], ApertiumAnalyser] = {}
        #: Per pair, the placeholder proper nouns it passes through: (places, people).
        self._pools: dict[tuple[Lang, Lang], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._probing: dict[tuple[Lang, Lang], threading.Lock] = {}  # one probe per pair at a time
        #: Per pair, words seen to change its HMM tagger: a flush ends after a segment
        #: holding one (see :meth:`_run_pieces`).
        self._changers: dict[tuple[Lang, Lang], set[str]] = {}
        self._lock = threading.Lock()
        # Counts close() calls: a translation that began before one stops instead of
        # starting the pipelines again (a later call may start them).
        self._generation = 0

    def _scan(self) -> dict[tuple[Lang, Lang], Path]:
        if self._modes is None:
            modes: dict[tuple[Lang, Lang], Path] = {}
            if shutil.which("lt-proc") and self.modes_dir.is_dir():
                for mode in sorted(self.modes_dir.glob("*.mode")):
                    pair = _mode_pair(mode.stem)
                    if pair and pair not in modes:
                        modes[pair] = mode
            self._modes = modes
        return self._modes

    def pairs(self) -> frozenset[tuple[Lang, Lang]]:
        return frozenset(self._scan())

    def model_id(self, source: Lang, target: Lang) -> str:
        key = (source, target)
        if key not in self._model_ids:
            mode = self._mode(source, target)
            self._model_ids[key] = f"apertium:{mode.stem}@{_package_version(mode)}"
        return self._model_ids[key]

    def _mode(self, source: Lang, target: Lang) -> Path:
        try:
            return self._scan()[(source, target)]
        except KeyError:
            raise ModelError(
                f"Apertium has no {source}->{target} pair installed",
                engine=self.name,
                source_language=source,
                target_language=target,
                hint=f"apt-get install apertium-{_ISO3.get(source, source)}-{_ISO3.get(target, target)} "
                f"(or apertium-{source}-{target}); `apt-cache search apertium` lists the pairs",
            ) from None

    def _pipeline(self, source: Lang, target: Lang, generation: int | None = None) -> _Pipeline:
        with self._lock:
            if generation is not None and generation != self._generation:
                raise TranslationError("apertium translator was closed during the call", engine=self.name)
            pipe = self._pipelines.get((source, target))
            if pipe is None or not pipe.alive():
                if pipe is not None:
                    pipe.close()  # a stage died: the others must not linger
                mode = self._mode(source, target)
                pipe = _Pipeline(_stages(mode), mode.name, self.timeout)
                self._pipelines[(source, target)] = pipe
            return pipe

    # -- analysers ------------------------------------------------------------------------

    def analyser(self, language: Lang) -> ApertiumAnalyser | None:
        """``language``'s morphological analyser, from the installed pair with the largest
        dictionary for it (the same one whatever the target), or None if none reads it."""
        candidates: list[tuple[int, str, Path, list[str]]] = []
        for (source, _), mode in sorted(self._scan().items()):
            if source != language:
                continue
            stage = _analyser_stage(mode)
            if stage is not None:
                size = Path(stage[-1]).stat().st_size if Path(stage[-1]).is_file() else 0
                candidates.append((-size, mode.name, mode, stage))
        if not candidates:
            return None
        _, _, mode, stage = min(candidates)
        return self._analyser(_dictionary_case(stage), language, mode)

    def pair_analyser(self, source: Lang, target: Lang) -> ApertiumAnalyser | None:
        """The analyser a pair's own pipeline starts with (it decides what the pair reads
        as one word)."""
        mode = self._mode(source, target)
        stage = _analyser_stage(mode)
        return self._analyser(stage, source, mode) if stage is not None else None

    def _analyser(self, stage: list[str], language: Lang, mode: Path) -> ApertiumAnalyser:
        key = tuple(stage)
        with self._lock:
            found = self._analysers.get(key)
            if found is None:
                identity = f"apertium:{Path(stage[-1]).name}@{_package_version(mode)}"
                found = ApertiumAnalyser(stage, language, identity, self.timeout)
                self._analysers[key] = found
            return found

    # -- translating --------------------------------------------------------------------------

    def translate(
        self,
        segments: Sequence[str],
        source: Lang,
        target: Lang,
        *,
        protect: Protect = (),
    ) -> list[str]:
        return [output.text for output in self.translate_scored(segments, source, target, protect=protect)]

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
        """Translate, each segment with its confidence: the share of its words Apertium
        did not mark as unknown (``*``), untranslatable (``@``) or ungenerated (``#``)."""
        generation = self._generation
        terms = segment_terms(len(segments), protect, per_segment)
        try:
            shaped = self._shape(segments, source, target, terms, generation, people)
            # Terms without a placeholder (not noun-like, or more than the pool) go as
            # superblanks; names passed through go as they are.
            named = self._run(
                [s.named if s is not None else "" for s in shaped],
                source,
                target,
                [_without(own, s.passed) if s is not None else own for own, s in zip(terms, shaped, strict=True)],
                generation,
            )
            out: list[EngineOutput | None] = []
            redo: list[int] = []
            for index, (segment, shape, raw) in enumerate(zip(segments, shaped, named, strict=True)):
                if shape is None:
                    out.append(EngineOutput(segment, None))
                    continue
                back = _put_back(raw.text, shape.placeholders)
                if back is None or not all(_present(term, back[0]) for term in shape.passed):
                    redo.append(index)  # a placeholder or name went missing or doubled: superblanks instead
                    out.append(None)
                    continue
                text, glued = back
                out.append(_output(segment, text, _Raw(raw.text, raw.marked + glued, raw.unknown), shape.passed))
            if redo:
                again = self._run(
                    [_spaced(shaped[i]) for i in redo], source, target, [terms[i] for i in redo], generation
                )
                for index, raw in zip(redo, again, strict=True):
                    out[index] = _output(segments[index], raw.text, raw)
        except TranslationError as error:
            error.source_language, error.target_language = source, target
            raise
        return [o if o is not None else EngineOutput(s) for o, s in zip(out, segments, strict=True)]

    def _shape(
        self,
        segments: Sequence[str],
        source: Lang,
        target: Lang,
        terms: Sequence[Mapping[str, str]],
        generation: int,
        known_people: Collection[str] = frozenset(),
    ) -> list[_Shaped | None]:
        """Each segment as the pipeline gets it (None for a blank one); see :class:`_Shaped`."""
        texts = [s.replace("\0", " ") if s.strip() else None for s in segments]
        patterns = [_protect_pattern(t) for t in terms]
        compounds: set[str] = set()
        names: set[str] = set()
        followers: set[str] = set()  # the word after each name (is the name a noun's modifier?)
        for text, pattern in zip(texts, patterns, strict=True):
            if text is None:
                continue
            spans = [m.span() for m in pattern.finditer(text)]
            for match in _HYPHENATED.finditer(text):
                if not any(a < match.end() and match.start() < b for a, b in spans):
                    compounds.add(match.group(0))
            for match in pattern.finditer(text):
                if _noun_like(match.group(0)):
                    names.add(match.group(0))
                    following = _NEXT_WORD.match(text, match.end())
                    if following:
                        followers.add(following.group(1))
        analyser = None
        if compounds or names:
            try:
                analyser = self.pair_analyser(source, target)
            except ModelError:
                analyser = None
        split = _several_words(analyser, compounds)
        people = _people(analyser, names - set(known_people)) | (names & set(known_people))
        passing = _passing(analyser, names)
        modifiers = _modifiers(analyser, followers)
        places, persons = self._pool(source, target, generation) if names else ((), ())
        out: list[_Shaped | None] = []
        for text, pattern, own in zip(texts, patterns, terms, strict=True):
            if text is None:
                out.append(None)
                continue
            spaced = _space_compounds(text, split, pattern) if split else text
            passed = tuple(
                t
                for t in own
                if t in passing and own[t] == t and _present(t, spaced) and not _modifies(t, spaced, modifiers)
            )
            named, held = _name_placeholders(spaced, pattern, _without(own, passed), places, persons, people)
            out.append(_Shaped(spaced, named, held, passed))
        return out

    def _pool(self, source: Lang, target: Lang, generation: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The placeholder proper nouns this pair gives back unchanged (probed once)."""
        key = (source, target)
        found = self._pools.get(key)
        if found is not None:
            return found
        with self._lock:
            probing = self._probing.setdefault(key, threading.Lock())
        with probing:  # a translation waits for the probe prepare() began
            found = self._pools.get(key)
            if found is not None:
                return found
            model = self.model_id(source, target)
            remembered = _remembered_pools(model)
            if remembered is not None:
                self._pools[key] = remembered
                return remembered
            probes = [_PROBE.format(word) for word in (*_PLACE_POOL, *_PERSON_POOL)]
            try:
                raws = self._run(probes, source, target, [{}] * len(probes), generation)
            except TranslationError as error:
                logger.warning(
                    "apertium %s->%s: cannot probe placeholder names (%s); protecting names as blanks",
                    source,
                    target,
                    error,
                )
                return (), ()
            good = {
                word
                for word, raw in zip((*_PLACE_POOL, *_PERSON_POOL), raws, strict=True)
                if len(re.findall(rf"(?<!\w){re.escape(word)}(?!\w)", raw.text)) == _PROBE_USES and not raw.marked
            }
            pools = (tuple(w for w in _PLACE_POOL if w in good), tuple(w for w in _PERSON_POOL if w in good))
            logger.debug("apertium %s->%s: %d place and %d person placeholders", source, target, *map(len, pools))
            self._pools[key] = pools
            _remember_pools(model, pools)
            return pools

    def _run(
        self,
        texts: Sequence[str],
        source: Lang,
        target: Lang,
        terms: Sequence[Mapping[str, str]],
        generation: int,
    ) -> list[_Raw]:
        """The pipeline over ``texts`` (blank ones come back as they are), each text's
        protected ``terms`` as superblanks, long texts in pieces, many texts per flush."""
        pieces: list[_Piece] = []
        for index, (text, own) in enumerate(zip(texts, terms, strict=True)):
            if not text.strip():
                continue
            pattern = _protect_pattern(own)
            spans = [m.span() for m in pattern.finditer(text)]
            cuts = _cut(text, self.max_piece_chars, spans)
            for number, (joiner, cut) in enumerate(cuts, 1):
                encoded, used = _protect(cut, pattern, own)
                pieces.append(_Piece(index, joiner, number == len(cuts), encoded, tuple(used)))
        raws = self._run_pieces(pieces, source, target, generation)
        parts: dict[int, list[str]] = {}
        marked: dict[int, int] = {}
        unknown: dict[int, list[str]] = {}
        for piece, raw in zip(pieces, raws, strict=True):
            marked[piece.segment] = marked.get(piece.segment, 0) + _counted_marks(raw)
            unknown.setdefault(piece.segment, []).extend(_UNKNOWN_MARK.findall(raw))
            restored = _restore(raw, list(piece.used)).strip()
            parts.setdefault(piece.segment, []).append(piece.joiner + restored)
        out = [_Raw(text) for text in texts]
        for index, translated in parts.items():
            text = re.sub(r"\s+", " ", "".join(translated)).strip()
            out[index] = _Raw(text, marked.get(index, 0), tuple(unknown.get(index, ())))
        return out

    def _run_pieces(self, pieces: Sequence[_Piece], source: Lang, target: Lang, generation: int) -> list[str]:
        """Every piece's output, many segments per flush, each segment read by a tagger
        as it was trained (see :class:`_Pipeline`): what a segment becomes depends on it
        alone, never on the batch or the order it came in.

        A flush ends after a segment holding a word already known to change the tagger
        (the tagger is renewed after it). When a flush reports such a word for the first
        time, the segments up to the first that holds one stand, and the rest go again
        to the renewed tagger. A segment in pieces longer than a chunk has flushes of
        its own, renewed before and after it."""
        known = self._changers.get((source, target))
        if known is None:
            known = self._changers[(source, target)] = _remembered_changers(self.model_id(source, target))
        groups: list[list[_Piece]] = []
        for piece in pieces:
            if groups and groups[-1][0].segment == piece.segment:
                groups[-1].append(piece)
            else:
                groups.append([piece])
        out: list[str] = []
        index = 0
        alone_until = 0  # segments before this index go one per flush (a change not placed)
        while index < len(groups):
            if _size(groups[index]) > self.chunk_chars:  # a segment of many flushes, alone
                said: set[str] = set()
                for chunk in _chunks(groups[index], self.chunk_chars):
                    texts, words = self._run_chunk(chunk, source, target, generation)
                    out.extend(texts)
                    said |= words
                index += 1
                self._learn(known, said, source, target)
                continue
            taken = [groups[index]] if index < alone_until else _take(groups, index, self.chunk_chars, known)
            texts, words = self._run_chunk([p for g in taken for p in g], source, target, generation)
            if not words or len(taken) == 1:
                self._learn(known, words, source, target)
                out.extend(texts)
                index += len(taken)
                continue
            self._learn(known, words, source, target)
            first = next((n for n, g in enumerate(taken) if any(_holds(p.encoded, words) for p in g)), None)
            if first is None:  # the word is not found as written: the first segment stands, the rest one by one
                first, alone_until = 0, index + len(taken)
            stand = sum(len(g) for g in taken[: first + 1])
            out.extend(texts[:stand])
            index += first + 1
        return out

    def _learn(self, known: set[str], words: Collection[str], source: Lang, target: Lang) -> None:
        """Remember words that change the tagger (for the next flushes' cuts, in this
        process and the next ones: the machine cache keeps them per model)."""
        new = {w for w in words if w} - known
        if new and len(known) < MAX_TAGGER_CHANGERS:
            known.update(new)
            _remember_changers(self.model_id(source, target), known)

    def _run_chunk(
        self,
        chunk: Sequence[_Piece],
        source: Lang,
        target: Lang,
        generation: int,
    ) -> tuple[list[str], frozenset[str]]:
        """Translate a chunk in one flush, one flush per piece if its markers went astray;
        with the words that changed the tagger meanwhile (see :class:`_Pipeline`)."""
        stream = _FLUSH_START + "".join(
            p.encoded + (_SEGMENT_END if p.last else _PIECE_END).format(i) for i, p in enumerate(chunk)
        )
        raw, words = self._pipeline(source, target, generation).run_reporting(stream)
        _head, started, raw = raw.partition(_START_MARKER)
        texts = _split_output(raw, [p.last for p in chunk]) if started else None
        if texts is not None:
            return texts, words
        logger.warning(
            "apertium %s->%s lost a segment marker in a chunk of %d segment(s); translating them one by one",
            source,
            target,
            len(chunk),
        )
        out: list[str] = []
        said = set(words)
        for piece in chunk:
            # A trailing newline lets the analyser see the end of the last word.
            text, more = self._pipeline(source, target, generation).run_reporting(piece.encoded + "\n")
            out.append(text)
            said |= more
        return out, frozenset(said)

    def prepare(self, source: Lang, target: Lang) -> None:
        """Start the pair's pipeline (its stages load their dictionaries while we go on)
        and probe its placeholder names."""
        generation = self._generation
        self._pipeline(source, target, generation)
        self._pool(source, target, generation)

    def close(self) -> None:
        with self._lock:
            self._generation += 1
            for pipe in self._pipelines.values():
                pipe.close()
            self._pipelines.clear()
            for analyser in self._analysers.values():
                analyser.close()
            self._analysers.clear()


class ApertiumAnalyser:
    """A language's morphological analyser: the first stage of a pair (``lt-proc`` on its
    ``automorf.bin``), kept running with null flush like the pipelines.

    Many items go in one flush, each followed by a marker superblank, so no multi-word
    unit spans two items; the output is cut at the markers.
    """

    def __init__(self, stage: list[str], language: Lang, identity: str, timeout: float = 60.0) -> None:
        self.stage = stage
        self.language = language
        self.identity = identity
        self.timeout = timeout
        self._pipe: _Pipeline | None = None
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Start ``lt-proc`` (it loads its dictionary while the caller goes on)."""
        self._running()

    def _running(self) -> _Pipeline:
        with self._lock:
            if self._pipe is None or not self._pipe.alive():
                if self._pipe is not None:
                    self._pipe.close()
                self._pipe = _Pipeline([list(self.stage)], Path(self.stage[-1]).name, self.timeout)
            return self._pipe

    def analyse(self, items: Sequence[str]) -> list[tuple[Unit, ...]]:
        out: list[tuple[Unit, ...]] = []
        for start in range(0, len(items), _ANALYSE_BATCH):
            batch = items[start : start + _ANALYSE_BATCH]
            stream = "".join(_escape(item.replace("\0", " ")) + _ITEM_END for item in batch)
            raw = self._running().run(stream)
            chunks = raw.split(_ITEM_END)
            if len(chunks) < len(batch):
                raise TranslationError(f"the {self.language} analyser lost its item markers", engine="apertium")
            out.extend(_units(chunk) for chunk in chunks[: len(batch)])
        return out

    def close(self) -> None:
        with self._lock:
            if self._pipe is not None:
                self._pipe.close()
                self._pipe = None


_ITEM_END = "[<syndicate-item>]"
_ANALYSE_BATCH = 5_000
_UNIT = re.compile(r"\^((?:\\.|[^\\$^])*)\$")
_SLASH = re.compile(r"(?<!\\)/")


def _units(chunk: str) -> tuple[Unit, ...]:
    units = []
    for match in _UNIT.finditer(chunk):
        surface, *readings = (_UNESCAPE.sub(r"\1", part) for part in _SLASH.split(match.group(1)))
        if readings and readings[0].startswith("*"):
            readings = []
        units.append(Unit(surface, tuple(readings)))
    return tuple(units)


def _analyser_stage(mode: Path) -> list[str] | None:
    """A mode's first stage when it is ``lt-proc`` on an analyser binary."""
    try:
        first = _stages(mode)[0]
    except (OSError, ModelError):
        return None
    if os.path.basename(first[0]) != "lt-proc" or not first[-1].endswith(".bin"):
        return None
    return first


def _dictionary_case(stage: list[str]) -> list[str]:
    """An analyser stage that gives lemmas as the dictionary writes them (``-w``): "Cook"
    reads ``cook<n>`` and "Monday" ``Monday<n>``, which tells a name from a word the
    language capitalises."""
    return stage if "-w" in stage else [stage[0], "-w", *stage[1:]]


def _several_words(analyser: ApertiumAnalyser | None, compounds: set[str]) -> set[str]:
    """The hyphenated compounds the pair's analyser reads as several units."""
    if analyser is None or not compounds:
        return set()
    ordered = sorted(compounds)
    try:
        analyses = analyser.analyse(ordered)
    except TranslationError as error:
        logger.warning("apertium: cannot analyse hyphenated words (%s); sending them as they are", error)
        return set()
    return {word for word, units in zip(ordered, analyses, strict=True) if len(units) > 1}


_NEXT_WORD = re.compile(r"\s+([a-z][\w'-]*)")


def _passing(analyser: ApertiumAnalyser | None, names: set[str]) -> set[str]:
    """The names the pair copies unchanged: each word a proper noun that is no place
    (places may have a target form: "Paris" -> "París") or a word it does not know
    ("Julia Gillard", "Liggins"). Left in the text, the rules see the sentence as it is
    ("el hospital Liggins", where a placeholder would read as a compound: "Liggins
    d'hospital"), unless the name modifies the noun after it (:func:`_modifies`)."""
    if analyser is None or not names:
        return set()
    words = {name: _WORDS.findall(name) for name in names}
    ordered = sorted({w for ws in words.values() for w in ws})
    try:
        analyses = dict(zip(ordered, analyser.analyse(ordered), strict=True))
    except TranslationError:
        return set()

    def copied(word: str) -> bool:
        units = analyses[word]
        if len(units) != 1:
            return False
        unit = units[0]
        return unit.unknown or (unit.only_proper and not unit.place)

    return {name for name, ws in words.items() if ws and all(copied(w) for w in ws)}


def _modifiers(analyser: ApertiumAnalyser | None, words: set[str]) -> set[str]:
    """Of ``words``, those that read as a noun or an adjective (a name before one modifies it)."""
    if analyser is None or not words:
        return set()
    ordered = sorted(words)
    try:
        analyses = analyser.analyse(ordered)
    except TranslationError:
        return set()
    nominal = re.compile(r"<(?:n|adj)>")
    return {
        word
        for word, units in zip(ordered, analyses, strict=True)
        if len(units) == 1 and any(nominal.search(r) for r in units[0].readings)
    }


def _modifies(term: str, text: str, modifiers: set[str]) -> bool:
    """A one-word name right before a noun or adjective ("Volga farmers"): as an unknown
    word it would stand outside the rules ("Volga labradores"); a placeholder proper noun
    lets them make "labradores de Volga"."""
    if " " in term.strip():
        return False
    for match in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", text):
        following = _NEXT_WORD.match(text, match.end())
        if following and following.group(1) in modifiers:
            return True
    return False


def _without(terms: Mapping[str, str], passed: Sequence[str]) -> Mapping[str, str]:
    return {t: r for t, r in terms.items() if t not in passed} if passed else terms


def _present(term: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text) is not None


def _people(analyser: ApertiumAnalyser | None, names: set[str]) -> set[str]:
    """The protected names that start with a given name: they get a person's placeholder."""
    if analyser is None or not names:
        return set()
    firsts = {name: name.split()[0] for name in names}
    ordered = sorted(set(firsts.values()))
    try:
        analyses = dict(zip(ordered, analyser.analyse(ordered), strict=True))
    except TranslationError:
        return set()
    return {name for name, first in firsts.items() if len(analyses[first]) == 1 and analyses[first][0].given_name}


def _space_compounds(text: str, split: set[str], pattern: re.Pattern[str]) -> str:
    spans = [m.span() for m in pattern.finditer(text)]

    def space(match: re.Match[str]) -> str:
        if match.group(0) not in split or any(a < match.end() and match.start() < b for a, b in spans):
            return match.group(0)
        return match.group(0).replace("-", " - ")

    return _HYPHENATED.sub(space, text)


def _noun_like(term: str) -> bool:
    """A protected term the rules may treat as a noun phrase: a capitalised name, or a
    money amount ("12.900 millones de dólares"); a bare number, a percentage, a time or
    a lower-case term stays a superblank, where the words around it stay put."""
    first = term.strip()[:1]
    return (first.isalpha() and first.isupper()) or bool(re.search(r"[$£€¥]", term))


def _name_placeholders(
    text: str,
    pattern: re.Pattern[str],
    terms: Mapping[str, str],
    places: Sequence[str],
    persons: Sequence[str],
    people: set[str],
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``text`` with each noun-like protected term replaced by a placeholder proper noun
    the text does not use; returns the new text and (placeholder, replacement) pairs."""
    if not (places or persons):
        return text, ()
    taken = {w.casefold() for w in _WORDS.findall(text)}
    free_places = [w for w in places if w.casefold() not in taken]
    free_persons = [w for w in persons if w.casefold() not in taken]
    held: list[tuple[str, str]] = []
    pieces: list[str] = []
    pos = 0
    for match in pattern.finditer(text):
        term = match.group(0)
        if not _noun_like(term):
            continue
        pool = free_persons if term in people and free_persons else free_places or free_persons
        if not pool:
            continue
        # The same first sound as what it stands for: Catalan, French and Italian elide
        # before a vowel or an h ("d'Oslo", "de Dakar"), and the engine elides for the placeholder.
        replacement = terms.get(term, term)
        same = [w for w in pool if _vowel_initial(w) == _vowel_initial(replacement)]
        placeholder = (same or pool)[0]
        pool.remove(placeholder)
        pieces.append(text[pos : match.start()])
        pieces.append(placeholder)
        held.append((placeholder, terms.get(term, term)))
        pos = match.end()
    if not held:
        return text, ()
    pieces.append(text[pos:])
    return "".join(pieces), tuple(held)


def _vowel_initial(text: str) -> bool:
    first = next((c for c in text if c.isalpha()), "")
    return first.casefold() in "aeiouhàáâäèéêëìíîïòóôöùúûüœæ"


def _put_back(text: str, placeholders: Sequence[tuple[str, str]]) -> tuple[str, int] | None:
    """Placeholders replaced by what they stand for, and how many came back glued to a
    word ending (eng-cat reads a sentence's first "X's" as "X has": "Osloha l'arma"):
    those are put back with a space, and counted against the segment's confidence.
    None unless each placeholder came back once."""
    glued = 0
    for placeholder, replacement in placeholders:
        # A generator that knows two forms writes both: "Diegon/Diego" (eo, accusative).
        body = re.escape(placeholder)
        text = re.sub(rf"(?<![\w/]){body}\w*(?:/{body}\w*)+(?![\w/])", placeholder, text, flags=re.IGNORECASE)
        found = list(re.finditer(rf"(?<!\w){body}(?!\w)", text, re.IGNORECASE))
        if not found:
            found = list(re.finditer(rf"(?<!\w){re.escape(placeholder)}(?=[^\W\d_]+)", text, re.IGNORECASE))
            glued += len(found)
            if len(found) == 1:
                start, end = found[0].span()
                text = text[:start] + replacement + " " + text[end:]
                continue
        if len(found) != 1:
            return None
        start, end = found[0].span()
        text = text[:start] + replacement + text[end:]
    return text, glued


def _spaced(shape: _Shaped | None) -> str:
    return shape.spaced if shape is not None else ""


def _output(segment: str, text: str, raw: _Raw, passed: Sequence[str] = ()) -> EngineOutput:
    if " - " in text and " - " not in segment:
        text = text.replace(" - ", "-")  # a spaced compound the rules left as it was
    words = max(len(_WORDS.findall(segment)), 1)
    # A protected name the pair did not know was copied as it should be: no mark against it.
    names = {w for term in passed for w in _WORDS.findall(term)}
    unknown = tuple(w for w in raw.unknown if w not in names)
    marked = raw.marked - (len(raw.unknown) - len(unknown))
    confidence = max(0.0, 1.0 - marked / words)
    return EngineOutput(text, round(confidence, 4), unknown)


def _split_output(raw: str, ends: Sequence[bool]) -> list[str] | None:
    """Cut a chunk's output at its markers, dropping the sentence ends we added (where
    ``ends`` says); None unless every marker came back once and in order."""
    parts = _SEGMENT_MARKER.split(raw)
    if parts[1::2] != [str(i) for i in range(len(ends))]:
        return None
    texts = []
    for text, sentence_end in zip(parts[0:-1:2], ends, strict=True):
        if sentence_end:
            end = _SENTENCE_END.search(text)
            if end is None or "[]" not in end.group(0):
                return None
            text = text[: end.start()]
        texts.append(text)
    return texts


def _size(pieces: Sequence[_Piece]) -> int:
    return sum(len(p.encoded) + len(_SEGMENT_END) for p in pieces)


def _holds(encoded: str, words: Collection[str]) -> bool:
    """Whether a piece of the stream holds one of ``words`` as a word of its own."""
    return any(word and re.search(rf"(?<![\w\\]){re.escape(word)}(?!\w)", encoded) for word in words)


def _take(
    groups: Sequence[Sequence[_Piece]], start: int, limit: int, changers: Collection[str]
) -> list[Sequence[_Piece]]:
    """The segments (groups of pieces) of the next flush from ``start``: as many as fit
    in ``limit``, ending after the first that holds a word known to change the tagger."""
    taken: list[Sequence[_Piece]] = []
    size = 0
    for group in groups[start:]:
        grown = size + _size(group)
        if taken and (grown > limit or _size(group) > limit):
            break
        taken.append(group)
        size = grown
        if changers and any(_holds(p.encoded, changers) for p in group):
            break
    return taken


def _chunks(pieces: Sequence[_Piece], limit: int) -> Iterator[Sequence[_Piece]]:
    start = size = 0
    for index, piece in enumerate(pieces):
        if size and size + len(piece.encoded) > limit:
            yield pieces[start:index]
            start = index
            size = 0
        size += len(piece.encoded) + len(_SEGMENT_END)
    if start < len(pieces):
        yield pieces[start:]


def _cut(text: str, limit: int, keep: Sequence[tuple[int, int]] = ()) -> list[tuple[str, str]]:
    """Cut ``text`` into (joiner, piece) of at most ``limit`` characters each.

    Cuts at the last whitespace that fits, never inside a span of ``keep`` (protected
    terms), else hard at ``limit`` characters. ``joiner`` is what stood between a piece
    and the previous one: a space, or "" after a hard cut.
    """
    out: list[tuple[str, str]] = []
    joiner = ""
    pos = 0
    while len(text) - pos > limit:
        end = pos + limit
        cut: tuple[int, int] | None = None
        for match in re.finditer(r"\s+", text[pos : end + 1]):
            start, stop = pos + match.start(), pos + match.end()
            if start > pos and not any(a < start < b for a, b in keep):
                cut = (start, stop)
        if cut is None:
            out.append((joiner, text[pos:end]))
            joiner, pos = "", end
        else:
            out.append((joiner, text[pos : cut[0]]))
            joiner, pos = " ", cut[1]
    if pos < len(text):
        out.append((joiner, text[pos:]))
    return out


@functools.lru_cache(maxsize=64)
def _protect_pattern_cached(terms: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = [
        (r"(?<!\w)" if re.match(r"\w", t) else "") + re.escape(t) + (r"(?!\w)" if re.search(r"\w$", t) else "")
        for t in sorted(terms, key=len, reverse=True)
    ]
    return re.compile("|".join([*alternatives, _LONG_RUN]))


def _protect_pattern(terms: Mapping[str, str]) -> re.Pattern[str]:
    """Protected terms (longest first), then runs too long to be words."""
    return _protect_pattern_cached(tuple(sorted(terms)))


def _protect(segment: str, pattern: re.Pattern[str], terms: Mapping[str, str]) -> tuple[str, list[str]]:
    """Escape ``segment`` for the stream format, turning protected text into superblanks.

    What the source itself marks becomes a superblank too, so that every mark in the
    output is the engine's: a #hashtag or an @mention whole (an identifier, never
    translated), a footnote's "*" alone.
    Returns the encoded text and, per superblank, the text that must replace it.
    """
    used: list[str] = []
    pieces: list[str] = []

    def plain(text: str) -> None:
        pos = 0
        for mark in _OWN_MARKS.finditer(text):
            pieces.append(_escape(text[pos : mark.start()]))
            pieces.append(f"[<k{len(used)}>]")
            used.append(mark.group(0))
            pos = mark.end()
        pieces.append(_escape(text[pos:]))

    pos = 0
    for match in pattern.finditer(segment):
        plain(segment[pos : match.start()])
        pieces.append(f"[<k{len(used)}>]")
        used.append(terms.get(match.group(0), match.group(0)))
        pos = match.end()
    plain(segment[pos:])
    return "".join(pieces), used


_OWN_MARKS = re.compile(r"(?<![\w\\])(?:[#@]\w+|\*(?=\w))")
# Apertium's marks: after a space, punctuation or a number ("1,000*th": the analyser cut
# the word), escaped or not (the generator writes "\@" for an untranslated lemma it escaped).
_ENGINE_MARKS = re.compile(r"(?<![^\W\d_\\])\\?[*#@](?=\w)")


def _counted_marks(raw: str) -> int:
    """Words Apertium marked in ``raw``."""
    return len(_ENGINE_MARKS.findall(raw))


def _restore(raw: str, used: list[str]) -> str:
    """Undo stream-format escaping, drop Apertium's word marks, put protected terms (and
    the source's own marks) back."""
    marks = _ENGINE_MARKS
    parts: list[str] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(raw):
        parts.append(_clean(raw[pos : match.start()], marks))
        index = int(match.group(1))
        parts.append(used[index] if index < len(used) else "")
        pos = match.end()
    parts.append(_clean(raw[pos:], marks))
    return "".join(parts)


def _clean(text: str, marks: re.Pattern[str] | None = _MARKS) -> str:
    return _UNESCAPE.sub(r"\1", marks.sub("", text) if marks is not None else text)


DPKG_STATUS = Path("/var/lib/dpkg/status")


def _installed_version(package: str) -> str | None:
    """``package``'s version if dpkg's status file lists it installed: the file is read
    (a few milliseconds) only when it changed, and no process is started."""
    try:
        stat = DPKG_STATUS.stat()
    except OSError:
        return None
    text = _status_text(stat.st_mtime_ns, stat.st_size)
    needle = f"\nPackage: {package}\n"
    start = text.find(needle)
    while start >= 0:
        end = text.find("\n\n", start + 1)
        fields = dict(
            line.split(": ", 1)
            for line in text[start + 1 : end if end >= 0 else None].splitlines()
            if ": " in line and not line.startswith(" ")
        )
        if fields.get("Status", "").endswith(" installed") and fields.get("Version"):
            return fields["Version"]
        start = text.find(needle, start + 1)  # another architecture's entry
    return None


@functools.lru_cache(maxsize=2)
def _status_text(_mtime_ns: int, _size: int) -> str:
    try:
        return "\n" + DPKG_STATUS.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _package_version(mode: Path) -> str:
    """The Debian version of the package that ships a mode, for the translation memory."""
    try:
        target = shlex.split(mode.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown"
    data_file = next((t for t in target if t.startswith("/usr/share/apertium/")), None)
    if not data_file:
        return "unknown"
    # Debian ships a pair's data in /usr/share/apertium/<package>/: that package's version
    # from dpkg's status file (no process started); only when no such package is
    # installed, ask dpkg which package owns the file (it reads every package's file list).
    guess = Path(data_file).parent.name
    found = _installed_version(guess)
    if found:
        return f"{guess}={found}"
    if not shutil.which("dpkg-query"):
        return "unknown"
    try:
        owner = subprocess.run(
            ["dpkg-query", "-S", data_file], capture_output=True, text=True, timeout=10, check=True
        ).stdout.split(":", 1)[0]
        version = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", owner], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return "unknown"
    return f"{owner}={version}" if version else "unknown"
