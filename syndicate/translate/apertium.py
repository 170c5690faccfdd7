"""Apertium (Debian packages) as a translation engine.

Each language pair runs as one long-lived pipeline of Apertium's own programs, built from
the pair's ``.mode`` file with null-flush (``-z``) added to every stage: a segment is
written followed by NUL and its translation is read back up to the next NUL. This avoids a
process start per call (the ``apertium`` shell wrapper does not flush, so it cannot be
kept alive).

Input is handed over in Apertium's stream format rather than through a deformatter:
special characters are backslash-escaped and protected terms (``keep_verbatim``) are sent
as superblanks (``[<k0>]``), which every stage passes through untouched, so names come
back exactly as they went in wherever the engine moves them.
"""

from __future__ import annotations

import logging
import os
import re
import select
import shlex
import shutil
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from syndicate.errors import ModelError, TranslationError
from syndicate.models import Lang
from syndicate.translate.base import Protect, protect_map

logger = logging.getLogger(__name__)

DEFAULT_MODES_DIR = Path("/usr/share/apertium/modes")

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


class _Pipeline:
    """One running Apertium pipeline for one mode."""

    def __init__(self, mode_file: Path, timeout: float) -> None:
        command = mode_file.read_text(encoding="utf-8").strip()
        # $1: generator option (-n: no unknown-word marks, done by us); $2: tagger extras.
        command = command.replace("$1", "-n").replace("$2", "")
        command = re.sub(
            r"(^|\|\s*)(" + "|".join(map(re.escape, _FLUSHABLE)) + r")(\s)",
            lambda m: f"{m.group(1)}{m.group(2)} -z{m.group(3)}",
            command,
        )
        self.command = command
        self.timeout = timeout
        self.lock = threading.Lock()
        logger.debug("starting apertium pipeline: %s", command)
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def translate(self, text: str) -> str:
        with self.lock:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            # A trailing newline lets the analyser see the end of the last word.
            os.write(self.proc.stdin.fileno(), text.encode("utf-8") + b"\n\0")
            buf = bytearray()
            fd = self.proc.stdout.fileno()
            while b"\0" not in buf:
                ready, _, _ = select.select([fd], [], [], self.timeout)
                if not ready:
                    self.close()
                    raise TranslationError(f"apertium did not answer within {self.timeout:.0f}s", engine="apertium")
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.close()
                    raise TranslationError("apertium pipeline exited unexpectedly", engine="apertium")
                buf += chunk
            out, _, rest = bytes(buf).partition(b"\0")
            if rest.strip(b"\0"):
                logger.warning("apertium sent unexpected trailing output; restarting the pipeline")
                self.close()
            return out.decode("utf-8", errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
        self.proc.wait()


class ApertiumTranslator:
    """Translator over Debian's Apertium language pairs."""

    name = "apertium"

    def __init__(self, modes_dir: Path = DEFAULT_MODES_DIR, *, timeout: float = 60.0) -> None:
        self.modes_dir = modes_dir
        self.timeout = timeout
        self._pipelines: dict[tuple[Lang, Lang], _Pipeline] = {}
        self._modes: dict[tuple[Lang, Lang], Path] | None = None

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
        mode = self._mode(source, target)
        return f"apertium:{mode.stem}@{_package_version(mode)}"

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

    def _pipeline(self, source: Lang, target: Lang) -> _Pipeline:
        pipe = self._pipelines.get((source, target))
        if pipe is None or not pipe.alive():
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
        terms = protect_map(protect)
        out: list[str] = []
        for segment in segments:
            if not segment.strip():
                out.append(segment)
                continue
            encoded, used = _protect(segment, terms)
            raw = self._pipeline(source, target).translate(encoded)
            out.append(re.sub(r"\s+", " ", _restore(raw, used, _own_marks(segment))).strip())
        return out

    def close(self) -> None:
        for pipe in self._pipelines.values():
            pipe.close()
        self._pipelines.clear()


def _protect(segment: str, terms: Mapping[str, str]) -> tuple[str, list[str]]:
    """Escape ``segment`` for the stream format, turning protected terms into superblanks.

    Returns the encoded text and, per superblank, the text that must replace it.
    """
    used: list[str] = []
    if not terms:
        return _escape(segment), used
    pattern = re.compile(
        "|".join(
            (r"(?<!\w)" if re.match(r"\w", t) else "") + re.escape(t) + (r"(?!\w)" if re.search(r"\w$", t) else "")
            for t in sorted(terms, key=len, reverse=True)
        )
    )
    pieces: list[str] = []
    pos = 0
    for match in pattern.finditer(segment):
        pieces.append(_escape(segment[pos : match.start()]))
        pieces.append(f"[<k{len(used)}>]")
        used.append(terms[match.group(0)])
        pos = match.end()
    pieces.append(_escape(segment[pos:]))
    return "".join(pieces), used


def _own_marks(segment: str) -> str:
    """Mark characters the source itself puts before words (#hashtags, @mentions)."""
    return "".join(sorted({m.group(0)[0] for m in _MARKS.finditer(segment)}))


def _restore(raw: str, used: list[str], keep: str = "") -> str:
    """Undo stream-format escaping, drop Apertium's word marks (except the kinds the
    source had itself: ``keep``), put protected terms back."""
    marks = re.compile(r"(?<![\w\\])[" + re.escape("".join(c for c in "*#@" if c not in keep)) + r"](?=\w)") if keep != "#*@" else None
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
