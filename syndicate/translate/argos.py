"""The Argos Translate engine: installed Argos packages, run directly through CTranslate2.

Argos packages are used as data (a CTranslate2 model, a tokenizer, metadata) read with
argostranslate's own ``Package`` class; argostranslate's ``translate`` module is never
imported. It would pull in torch and stanza, its sentence splitter downloads models at run
time, and it sends one paragraph at a time to the model, where batching every new
sentence of a language pair into one ``translate_batch`` call is several times faster.
Syndicate splits sentences itself, so segments arrive here already split.

ctranslate2 and argostranslate are imported inside the methods that need them, so
importing this module (and ``syndicate --help``) stays cheap.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.errors import ModelError, TranslationError
from syndicate.models import Lang, lang
from syndicate.translate.argos_packages import PackageInfo, default_packages_dir, list_installed
from syndicate.translate.base import EngineOutput, Protect, segment_terms

if TYPE_CHECKING:
    import ctranslate2
    from argostranslate.package import Package

logger = logging.getLogger(__name__)

#: Sentences per CTranslate2 batch (counted in examples, not tokens: Argos's default of
#: 32 *tokens* makes nearly every sentence its own batch).
MAX_BATCH_SIZE = 32
#: Argos's own length penalty, kept so our output matches what Argos would produce.
LENGTH_PENALTY = 0.2
#: Decoding stops after this many target tokens per source token (plus a margin): a real
#: translation is rarely more than twice as long, a degenerate model would never stop.
DECODING_LENGTH_RATIO = 3
DECODING_LENGTH_MARGIN = 10


def default_threads(cpus: int | None) -> tuple[int, int]:
    """CTranslate2 ``(inter_threads, intra_threads)`` for a machine with ``cpus`` CPUs.

    Two translation workers, each using its share of the cores: measured on a 2-core VM
    with a base-size model, inter 2 / intra 1 was about 35% faster than Argos's default
    (inter 1, intra 0 = all cores in one worker), since batches are small.
    """
    cpus = max(1, cpus or 1)
    inter = min(2, cpus)
    return inter, max(1, cpus // inter)


@dataclass
class _Loaded:
    """A package and its CTranslate2 model, loaded once per process per pair."""

    info: PackageInfo
    package: Package
    translator: ctranslate2.Translator


class ArgosTranslator:
    """Translates with the Argos packages installed in ``packages_dir``.

    ``packages_dir`` defaults to argostranslate's own folder (see
    :func:`~syndicate.translate.argos_packages.default_packages_dir`). ``inter_threads`` and
    ``intra_threads`` default to :func:`default_threads` of ``os.cpu_count()``. Models are
    loaded lazily, once per language pair, at the first translation (never before a fork:
    CTranslate2 is not fork-safe).
    """

    name = "argos"

    def __init__(
        self,
        packages_dir: Path | None = None,
        beam_size: int = 4,
        *,
        inter_threads: int | None = None,
        intra_threads: int | None = None,
        device: str = "cpu",
        compute_type: str = "auto",
        max_batch_size: int | None = None,
    ) -> None:
        default_inter, default_intra = default_threads(os.cpu_count())
        self.packages_dir = packages_dir if packages_dir is not None else default_packages_dir()
        self.beam_size = beam_size
        self.inter_threads = inter_threads if inter_threads is not None else default_inter
        self.intra_threads = intra_threads if intra_threads is not None else default_intra
        self.device = device
        self.compute_type = compute_type
        #: Upper bound on sentences per batch; None: 16 with beam search, 32 greedy (the
        #: sizes that measured fastest here, see benchmarks/translate_bench.py).
        self.max_batch_size = max_batch_size or (MAX_BATCH_SIZE // 2 if beam_size > 1 else MAX_BATCH_SIZE)
        self._loaded: dict[tuple[Lang, Lang], _Loaded] = {}
        self._lock = threading.Lock()
        #: The installed packages and the folder fingerprint they were read at.
        self._listing: tuple[tuple[object, ...], list[PackageInfo]] | None = None

    # ---- Translator protocol ---------------------------------------------------------

    def pairs(self) -> frozenset[tuple[Lang, Lang]]:
        """Pairs served by the packages installed now."""
        return frozenset((lang(p.from_code), lang(p.to_code)) for p in self.installed())

    def installed(self) -> list[PackageInfo]:
        """The installed packages, read again only when the packages folder changed.

        The fingerprint is a ``stat`` of the folder and of each package's metadata file:
        cheap next to reading every package, and any install, removal or upgrade
        (``syndicate models install`` replaces a package folder) changes it.
        """
        fingerprint = _fingerprint(self.packages_dir)
        if self._listing is None or self._listing[0] != fingerprint:
            self._listing = (fingerprint, list_installed(self.packages_dir))
        return self._listing[1]

    def model_id(self, source: Lang, target: Lang) -> str:
        """``argos:<from>-<to>@<package_version>`` of the package serving the pair."""
        loaded = self._loaded.get((lang(source), lang(target)))
        info = loaded.info if loaded is not None else self._find(source, target)
        return f"argos:{info.from_code}-{info.to_code}@{info.package_version}"

    def translate(
        self,
        segments: Sequence[str],
        source: Lang,
        target: Lang,
        *,
        protect: Protect = (),
    ) -> list[str]:
        """Translate sentences, one output per input, in order.

        Blank segments come back unchanged without touching the model; identical segments
        are translated once. Every ``protect`` term found in a segment is present, verbatim,
        in its translation (see :meth:`_enforce_protected`).
        """
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
        """:meth:`translate`, each output with the model's confidence: the hypothesis
        score as the geometric mean of its tokens' probabilities."""
        terms = segment_terms(len(segments), protect, per_segment)
        todo = list(dict.fromkeys(s for s in segments if s.strip()))
        if not todo:
            return [EngineOutput(s) for s in segments]
        loaded = self._load(lang(source), lang(target))
        logger.debug("argos %s->%s: %s unique segments of %s", source, target, len(todo), len(segments))
        translated = dict(zip(todo, self._run(loaded, todo, source, target), strict=True))
        # Protected terms are enforced per segment and set of terms (usually one set per
        # article); whatever must be re-translated goes to the model in one more batch.
        jobs = list(
            dict.fromkeys(
                (segment, tuple(sorted(own.items())))
                for segment, own in zip(segments, terms, strict=True)
                if segment.strip() and own
            )
        )
        redone = self._enforce_protected(
            loaded, [(segment, translated[segment][0], dict(key)) for segment, key in jobs], source, target
        )
        fixed = {job: text for job, text in zip(jobs, redone, strict=True) if text is not None}
        out = []
        for segment, own in zip(segments, terms, strict=True):
            if not segment.strip():
                out.append(EngineOutput(segment))
                continue
            text, confidence = translated[segment]
            out.append(EngineOutput(fixed.get((segment, tuple(sorted(own.items()))), text), confidence))
        return out

    def prepare(self, source: Lang, target: Lang) -> None:
        """Load the pair's model (in this process, after any fork)."""
        self._load(lang(source), lang(target))

    def close(self) -> None:
        """Drop the loaded models (they are reloaded if the translator is used again)."""
        with self._lock:
            self._loaded.clear()

    # ---- internals -------------------------------------------------------------------

    def _find(self, source: Lang, target: Lang) -> PackageInfo:
        """The installed package for the pair (highest version if several), or ModelError."""
        from packaging.version import InvalidVersion, Version

        def version(info: PackageInfo) -> Version:
            try:
                return Version(info.package_version)
            except InvalidVersion:
                return Version("0")

        pair = (lang(source), lang(target))
        matches = [p for p in self.installed() if (lang(p.from_code), lang(p.to_code)) == pair]
        if not matches:
            raise ModelError(
                f"no Argos package for {pair[0]}->{pair[1]} is installed in {self.packages_dir}",
                engine=self.name,
                source_language=pair[0],
                target_language=pair[1],
                hint=f"syndicate models install {pair[0]} {pair[1]} "
                "(offline: syndicate models install --file FILE.argosmodel)",
            )
        return max(matches, key=version)

    def _load(self, source: Lang, target: Lang) -> _Loaded:
        with self._lock:
            loaded = self._loaded.get((source, target))
            if loaded is not None:
                return loaded
            info = self._find(source, target)
            import ctranslate2
            from argostranslate.package import Package

            try:
                package = Package(info.path)
                translator = ctranslate2.Translator(
                    str(info.path / "model"),
                    device=self.device,
                    compute_type=self.compute_type,
                    inter_threads=self.inter_threads,
                    intra_threads=self.intra_threads,
                )
            except (OSError, ValueError, RuntimeError) as exc:
                raise ModelError(
                    f"cannot load the Argos package at {info.path}: {exc}",
                    engine=self.name,
                    source_language=source,
                    target_language=target,
                    hint=f"reinstall it: syndicate models install {source} {target}",
                ) from exc
            logger.info(
                "loaded Argos model %s %s from %s (inter_threads=%s, intra_threads=%s)",
                info.name,
                info.package_version,
                info.path,
                self.inter_threads,
                self.intra_threads,
            )
            loaded = _Loaded(info, package, translator)
            self._loaded[(source, target)] = loaded
            return loaded

    def _run(self, loaded: _Loaded, texts: Sequence[str], source: Lang, target: Lang) -> list[tuple[str, float | None]]:
        """One ``translate_batch`` call over ``texts`` (all non-blank): (text, confidence) each."""
        if not texts:
            return []
        package = loaded.package
        prefix: str = package.target_prefix
        tokens = [package.tokenizer.encode(text) for text in texts]
        longest = max(len(t) for t in tokens)
        try:
            results = loaded.translator.translate_batch(
                tokens,
                target_prefix=[[prefix]] * len(tokens) if prefix else None,
                max_batch_size=self._batch_size(len(tokens)),
                batch_type="examples",
                beam_size=self.beam_size,
                num_hypotheses=1,
                length_penalty=LENGTH_PENALTY,
                replace_unknowns=True,
                max_decoding_length=DECODING_LENGTH_RATIO * longest + DECODING_LENGTH_MARGIN,
                return_scores=True,
            )
        except (RuntimeError, ValueError) as exc:
            raise TranslationError(
                f"CTranslate2 failed on {len(texts)} segments with {loaded.info.path}: {exc}",
                engine=self.name,
                source_language=source,
                target_language=target,
            ) from exc
        return [
            (self._decode(package, result.hypotheses[0], prefix), _confidence(result, prefix)) for result in results
        ]

    def _batch_size(self, count: int) -> int:
        """Even batches, a multiple of ``inter_threads`` of them, none over the maximum.

        CTranslate2 runs ``inter_threads`` batches in parallel: 200 sentences in batches of
        32 make 7 batches, and one worker idles through the last; 8 batches of 25 keep
        both busy to the end.
        """
        per_round = self.max_batch_size * self.inter_threads
        batches = self.inter_threads * max(1, -(-count // per_round))
        return max(1, -(-count // batches))

    @staticmethod
    def _decode(package: Package, pieces: list[str], prefix: str) -> str:
        from argostranslate.tokenizer import SentencePieceTokenizer

        if prefix and pieces[:1] == [prefix]:
            pieces = pieces[1:]
        tokenizer = package.tokenizer
        if isinstance(tokenizer, SentencePieceTokenizer):
            # Not tokenizer.decode(): Argos's version also turns every "_" into a space,
            # which corrupts identifiers, URLs and file names in the text.
            text: str = tokenizer.lazy_processor().decode_pieces(pieces)
        else:
            text = tokenizer.decode(pieces)
        if prefix and text.startswith(prefix):
            text = text[len(prefix) :]
        return text[1:] if text.startswith(" ") else text

    def _enforce_protected(
        self,
        loaded: _Loaded,
        jobs: Sequence[tuple[str, str, Mapping[str, str]]],
        source: Lang,
        target: Lang,
    ) -> list[str | None]:
        """For each (source segment, its translation, its terms): the translation with
        every protected term in its required form, or None when it already has them.

        ``terms`` maps each protected source term to the text that must stand for it
        (itself for names and keep_verbatim, the target form for a glossary entry or a
        number).

        A neural model gives no guarantee about names: it may translate, inflect or
        transliterate "Rossiyskaya Gazeta" even when asked nicely, and placeholder tricks
        (replacing the term with a token) are unreliable because the model may drop or
        mangle the placeholder too. So a translation is kept whenever it already contains
        every protected term of its source. One that copied a term the target writes
        otherwise ("$14.5 million", "Security Council" left in English) gets the required
        form in place of the copy. Only the rest are redone by splitting the source around
        the terms, translating the pieces between them (all pieces of all such segments in
        one batch) and stitching piece + term + piece. That costs some fluency in the few
        segments concerned, but the terms are then verbatim by construction.
        """
        results: list[str | None] = [None] * len(jobs)
        redo: dict[int, tuple[list[str], Mapping[str, str]]] = {}
        for index, (text, output, terms) in enumerate(jobs):
            pattern = _terms_pattern(tuple(sorted(terms, key=len, reverse=True)))
            wanted = Counter(terms[m.group(0)] for m in pattern.finditer(text))
            if not wanted or _has_all(output, wanted):
                continue
            copied = {term: form for term, form in terms.items() if term != form}
            if copied:
                swapped = _terms_pattern(tuple(sorted(copied, key=len, reverse=True))).sub(
                    functools.partial(_copied_form, copied), output
                )
                if _has_all(swapped, wanted):
                    results[index] = swapped
                    continue
            redo[index] = (pattern.split(text), terms)  # text, term, text, term, ..., text
        if not redo:
            return results
        logger.debug("argos: re-translating %s segments around protected terms", len(redo))
        pieces = list(dict.fromkeys(part.strip() for parts, _ in redo.values() for part in parts[0::2] if part.strip()))
        pieces_out = {
            piece: text for piece, (text, _) in zip(pieces, self._run(loaded, pieces, source, target), strict=True)
        }
        for index, (parts, terms) in redo.items():
            out: list[str] = []
            for i, part in enumerate(parts):
                if i % 2:
                    out.append(terms[part])  # a protected term: its required form
                    continue
                if not part.strip():
                    out.append(part)  # bare whitespace
                    continue
                core = part.strip()
                lead = part[: len(part) - len(part.lstrip())]
                trail = part[len(part.rstrip()) :]
                out.append(lead + pieces_out[core] + trail)
            results[index] = "".join(out)
        return results


def _has_all(output: str, wanted: Counter[str]) -> bool:
    """Whether ``output`` has every required form at least as often as wanted."""
    got = Counter(m.group(0) for m in _terms_pattern(tuple(sorted(wanted, key=len, reverse=True))).finditer(output))
    return all(got[form] >= count for form, count in wanted.items())


def _confidence(result: object, prefix: str) -> float | None:
    """A hypothesis score as a probability per token: CTranslate2 gives the sum of the
    tokens' log-probabilities divided by ``length ** length_penalty``; undone, divided by
    the length and exponentiated, it is their geometric mean (1: certain)."""
    scores = getattr(result, "scores", None)
    hypotheses = getattr(result, "hypotheses", None)
    if not scores or not hypotheses:
        return None
    length = max(len([t for t in hypotheses[0] if t != prefix]), 1) + 1  # the end token counts
    total = float(scores[0]) * length**LENGTH_PENALTY
    return round(min(1.0, math.exp(total / length)), 4)


def _copied_form(copied: Mapping[str, str], match: re.Match[str]) -> str:
    """The form a protected term is to be written in, for the term ``match`` found."""
    return copied[match.group(0)]


@functools.lru_cache(maxsize=1024)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Match any term (longest first) as a whole word: "AI" is not in "MAIN"."""
    alternatives = []
    for term in terms:
        body = re.escape(term)
        before = r"(?<!\w)" if re.match(r"\w", term) else ""
        after = r"(?!\w)" if re.search(r"\w$", term) else ""
        alternatives.append(before + body + after)
    return re.compile("(" + "|".join(alternatives) + ")")


def _fingerprint(packages_dir: Path) -> tuple[object, ...]:
    try:
        top = packages_dir.stat()
        entries = sorted(packages_dir.iterdir())
    except OSError:
        return ("missing",)
    parts: list[object] = [top.st_mtime_ns, top.st_ino]
    for entry in entries:
        try:
            meta = (entry / "metadata.json").stat()
            parts.append((entry.name, meta.st_mtime_ns, meta.st_size, meta.st_ino))
        except OSError:
            parts.append((entry.name, None))
    return tuple(parts)
