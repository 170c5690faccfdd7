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
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from syndicate.errors import ModelError, TranslationError
from syndicate.models import Lang
from syndicate.translate.base import Protect, protect_map

logger = logging.getLogger(__name__)

DEFAULT_MODES_DIR = Path("/usr/share/apertium/modes")

#: A segment longer than this (characters) is translated in pieces cut at whitespace.
MAX_PIECE_CHARS = 2_000
#: A run of this many non-space characters or more is no word: it passes through verbatim.
LONG_RUN_CHARS = 1_000
#: Source characters sent per flush (a chunk): about 2,000 short news titles, a few
#: seconds of work. A flush costs the stages tens of milliseconds of CPU, so fewer is faster.
CHUNK_CHARS = 100_000

# Apertium uses ISO 639-3 codes in newer pairs ("eng-spa"), ISO 639-1 in older ones.
_ISO3 = {
    "en": "eng", "es": "spa", "ca": "cat", "gl": "glg", "eo": "epo", "fr": "fra",
    "pt": "por", "it": "ita", "de": "deu", "nl": "nld", "oc": "oci", "an": "arg",
    "ro": "ron", "eu": "eus", "cy": "cym", "br": "bre", "nb": "nob", "nn": "nno",
    "sv": "swe", "da": "dan", "is": "isl", "ru": "rus", "uk": "ukr", "be": "bel",
    "kk": "kaz", "tt": "tat", "mt": "mlt", "ar": "ara", "hi": "hin", "ur": "urd",
    "sq": "sqi", "mk": "mkd", "bg": "bul", "sr": "srp", "hr": "hrv", "bs": "bos",
    "sl": "slv", "af": "afr", "id": "ind", "ms": "msa", "ga": "gle", "gd": "gla",
}
_ISO1 = {v: k for k, v in _ISO3.items()}

# Stages that understand -z (null flush). Anything else in a mode file is left alone.
_FLUSHABLE = (
    "lt-proc", "apertium-tagger", "apertium-pretransfer", "apertium-transfer",
    "apertium-interchunk", "apertium-postchunk", "lrx-proc", "cg-proc", "vislcg3",
    "apertium-posttransfer", "rtx-proc", "apertium-anaphora", "lsx-proc", "hfst-proc",
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
_PIECE_END = "[<syndicate-seg-{}>]"
_SEGMENT_MARKER = re.compile(r"\[<syndicate-seg-(\d+)>\]")
# What the sentence end comes back as, at the end of a segment's output.
_SENTENCE_END = re.compile(r"\.?\s*\[\]\s*$")
_LONG_RUN = r"\S{%d,}" % LONG_RUN_CHARS
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
        elif token == "$1":  # the generator's option: -n, no unknown-word marks (we remove them)
            stages[-1].append("-n")
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
    return stages


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
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10, check=False,
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
            except BaseException as error:  # handed to the caller, who re-raises it
                future.set_exception(error)


_SPAWNER = _Spawner()


def _start(stages: Sequence[Sequence[str]]) -> list[subprocess.Popen[bytes]]:
    """Start the stages connected by pipes, in one new process group led by the first."""
    setpriv = _setpriv()
    prefix: list[str] = [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []
    prctl = None if setpriv else _prctl()
    preexec = functools.partial(_die_with_parent, prctl, os.getpid()) if prctl is not None else None
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for argv in stages:
            stdin: int | IO[bytes] | None = subprocess.PIPE if not procs else procs[-1].stdout
            proc = subprocess.Popen(
                [*prefix, *argv],
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                process_group=procs[0].pid if procs else 0,
                preexec_fn=preexec,
            )
            if procs and procs[-1].stdout is not None:
                procs[-1].stdout.close()  # the next stage holds it now
            procs.append(proc)
    except BaseException:
        _kill(procs)
        raise
    return procs


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


def _reap(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()
        proc.wait()


# -- one pipeline -------------------------------------------------------------------------------


class _Pipeline:
    """One running Apertium pipeline for one mode."""

    def __init__(self, mode_file: Path, timeout: float) -> None:
        self.stages = _stages(mode_file)
        self.command = " | ".join(shlex.join(argv) for argv in self.stages)
        self.timeout = timeout
        # Reentrant: a flush that fails closes the pipeline while holding it.
        self.lock = threading.RLock()
        logger.debug("starting apertium pipeline: %s", self.command)
        try:
            self.procs = _SPAWNER.run(functools.partial(_start, self.stages))
        except (OSError, subprocess.SubprocessError) as error:
            raise ModelError(
                f"cannot start the Apertium pipeline of {mode_file.name}: {error}",
                engine="apertium",
                hint="apt-get install apertium (and the pair's package)",
            ) from error
        stdin, stdout = self.procs[0].stdin, self.procs[-1].stdout
        assert stdin is not None and stdout is not None
        self._in, self._out = stdin.fileno(), stdout.fileno()
        os.set_blocking(self._in, False)
        os.set_blocking(self._out, False)
        self._closed = False

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        """The first stage, leader of the pipeline's process group."""
        return self.procs[0]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def run(self, text: str) -> str:
        """One flush: write ``text`` and a NUL while reading the output up to its NUL."""
        data = text.replace("\0", " ").encode("utf-8", errors="replace") + b"\0"
        with self.lock:
            if self._closed:
                raise TranslationError("apertium pipeline was closed", engine="apertium")
            return self._exchange(data).decode("utf-8", errors="replace")

    def _exchange(self, data: bytes) -> bytes:
        deadline = time.monotonic() + self.timeout
        limit = 16 * len(data) + (1 << 20)  # Apertium's output is a few times its input, at most
        view = memoryview(data)
        sent = 0
        out = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(self._out, selectors.EVENT_READ)
            selector.register(self._in, selectors.EVENT_WRITE)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.close()
                    raise TranslationError(
                        f"apertium did not answer within {self.timeout:g}s", engine="apertium"
                    )
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
    own_marks: str  # mark characters the source itself uses (#hashtags, @mentions)


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
                pipe = _Pipeline(self._mode(source, target), self.timeout)
                self._pipelines[(source, target)] = pipe
            return pipe

    def translate(
        self,
        segments: Sequence[str],
        source: Lang,
        target: Lang,
        *,
        protect: Protect = (),
    ) -> list[str]:
        generation = self._generation
        terms = protect_map(protect)
        pattern = _protect_pattern(terms)
        pieces: list[_Piece] = []
        for index, segment in enumerate(segments):
            if not segment.strip():
                continue
            text = segment.replace("\0", " ")
            marks = _own_marks(text)
            spans = [m.span() for m in pattern.finditer(text)]
            cuts = _cut(text, self.max_piece_chars, spans)
            for number, (joiner, cut) in enumerate(cuts, 1):
                encoded, used = _protect(cut, pattern, terms)
                pieces.append(_Piece(index, joiner, number == len(cuts), encoded, tuple(used), marks))
        raws: list[str] = []
        try:
            for chunk in _chunks(pieces, self.chunk_chars):
                raws.extend(self._run_chunk(chunk, source, target, generation))
        except TranslationError as error:
            error.source_language, error.target_language = source, target
            raise
        parts: dict[int, list[str]] = {}
        for piece, raw in zip(pieces, raws, strict=True):
            restored = _restore(raw, list(piece.used), piece.own_marks).strip()
            parts.setdefault(piece.segment, []).append(piece.joiner + restored)
        out = list(segments)
        for index, translated in parts.items():
            out[index] = re.sub(r"\s+", " ", "".join(translated)).strip()
        return out

    def _run_chunk(self, chunk: Sequence[_Piece], source: Lang, target: Lang, generation: int) -> list[str]:
        """Translate a chunk in one flush; one flush per piece if its markers went astray."""
        stream = "".join(p.encoded + (_SEGMENT_END if p.last else _PIECE_END).format(i) for i, p in enumerate(chunk))
        texts = _split_output(self._pipeline(source, target, generation).run(stream), [p.last for p in chunk])
        if texts is not None:
            return texts
        logger.warning(
            "apertium %s->%s lost a segment marker in a chunk of %d segment(s); translating them one by one",
            source, target, len(chunk),
        )
        # A trailing newline lets the analyser see the end of the last word.
        return [self._pipeline(source, target, generation).run(p.encoded + "\n") for p in chunk]

    def prepare(self, source: Lang, target: Lang) -> None:
        """Start the pair's pipeline: its stages load their dictionaries while we go on."""
        self._pipeline(source, target, self._generation)

    def close(self) -> None:
        with self._lock:
            self._generation += 1
            for pipe in self._pipelines.values():
                pipe.close()
            self._pipelines.clear()


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

    Returns the encoded text and, per superblank, the text that must replace it.
    """
    used: list[str] = []
    pieces: list[str] = []
    pos = 0
    for match in pattern.finditer(segment):
        pieces.append(_escape(segment[pos : match.start()]))
        pieces.append(f"[<k{len(used)}>]")
        used.append(terms.get(match.group(0), match.group(0)))
        pos = match.end()
    pieces.append(_escape(segment[pos:]))
    return "".join(pieces), used


def _own_marks(segment: str) -> str:
    """Mark characters the source itself puts before words (#hashtags, @mentions)."""
    return "".join(sorted({m.group(0)[0] for m in _MARKS.finditer(segment)}))


@functools.lru_cache(maxsize=8)
def _marks_pattern(keep: str) -> re.Pattern[str] | None:
    drop = "".join(c for c in "*#@" if c not in keep)
    return re.compile(r"(?<![\w\\])[" + re.escape(drop) + r"](?=\w)") if drop else None


def _restore(raw: str, used: list[str], keep: str = "") -> str:
    """Undo stream-format escaping, drop Apertium's word marks (except the kinds the
    source had itself: ``keep``), put protected terms back."""
    marks = _marks_pattern(keep)
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


def _package_version(mode: Path) -> str:
    """The Debian version of the package that ships a mode, for the translation memory."""
    try:
        target = shlex.split(mode.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown"
    data_file = next((t for t in target if t.startswith("/usr/share/apertium/")), None)
    if not data_file or not shutil.which("dpkg-query"):
        return "unknown"
    # Debian ships a pair's data in /usr/share/apertium/<package>/: ask for that package's
    # version first (one quick query); only when no such package is installed, search the
    # owner of the file (dpkg-query -S reads every package's file list: ten times slower).
    guess = Path(data_file).parent.name
    try:
        found = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}\t${Version}", guess], capture_output=True, text=True, timeout=10
        )
        status, _, version = found.stdout.partition("\t")
        if found.returncode == 0 and status.endswith(" installed") and version.strip():
            return f"{guess}={version.strip()}"
        owner = subprocess.run(
            ["dpkg-query", "-S", data_file], capture_output=True, text=True, timeout=10, check=True
        ).stdout.split(":", 1)[0]
        version = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", owner], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return "unknown"
    return f"{owner}={version}" if version else "unknown"
