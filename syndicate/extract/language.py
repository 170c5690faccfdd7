"""Source-language detection (py3langid), for articles whose source does not say."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import mmap
import os
import sys
import tempfile
import unicodedata
from array import array
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import lxml.html

from syndicate.models import Article, Lang, lang

logger = logging.getLogger(__name__)

#: Below this normalised probability, or on less text than this, no guess is made.
MIN_PROBABILITY = 0.8
MIN_CHARS = 40


@lru_cache(maxsize=2)
def _identifier(cache: Path | None = None) -> Any:
    """py3langid's identifier. Its model ships LZMA-compressed, and decompressing it costs
    about a second per process; with ``cache`` (a folder of the state directory) the
    decompressed model is kept there and loaded in a fifth of that. Any trouble with the
    cache falls back to py3langid's own loading."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    if cache is not None:
        try:
            return _cached_identifier(cache)
        except Exception as exc:  # noqa: BLE001 - a cache is never worth a failure
            logger.debug("the language model cache in %s is not usable: %s", cache, exc)
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _cached_identifier(cache: Path) -> Any:
    import lzma
    import shutil
    from importlib import metadata

    import numpy as np
    from py3langid import modelio
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    cached = cache / f"py3langid-{metadata.version('py3langid')}.npz"
    if not cached.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=".langid-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out, lzma.open(MODEL_DIR / MODEL_FILE) as model:
                shutil.copyfileobj(model, out, length=1 << 20)
            os.replace(tmp, cached)  # whole or absent, whoever else fills it at the same time
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    # What py3langid's modelio.load_model makes of the same file, without the LZMA step.
    with np.load(cached, allow_pickle=False) as data:
        return LanguageIdentifier(
            np.asarray(data["ptc"]),
            np.asarray(data["pc"]),
            data["classes"].tolist(),
            modelio._to_array(data["nextmove"]),
            data["out_feat"].tolist(),
            norm_probs=True,
            tk_row=modelio._to_array(data["nextmove_row"]),
        )


# The mapped model: py3langid's model in a file the standard library reads.
#
# ``import py3langid`` imports numpy, which costs more than everything else detection
# does. So the first process that has py3langid's model loaded also writes it out as
# ``<cache>/py3langid-<version>.langid``, and later processes score with the standard
# library alone, memory-mapping that file (only the pages a text touches are read).
#
# Layout: MAGIC, the header's length (4 bytes, little-endian), the header (JSON: format,
# py3langid version, byte order, classes, nb_pc, the table's fixed-point encoding and each
# array's typecode, item size, length and offset), then the arrays, each 64-byte aligned:
#   nextmove  the DFA's distinct 256-entry transition rows (py3langid's tk_nextmove)
#   row       each state's row in nextmove (tk_row)
#   output    each state's feature, or -1 (tk_output)
#   ptc       the feature x class table, a row of unsigned integer fields (one per class)
#             per feature: (value - low) * scale, exact for py3langid's float16 table.
# A row read as one Python integer adds up with the others in one C-level addition, with
# no carry between fields (the writer picks fields wide enough for the sum of every row):
# the rows visited equally often are summed exactly, then weighted in float64.
#
# The file is only ever replaced (os.replace) or unlinked, never rewritten in place, so a
# process that maps it keeps a valid mapping while another one writes a new copy.

_MAGIC = b"syndicate py3langid model\n"
_FORMAT = 1
_ALIGN = 64
#: The arrays in file order, each with the typecodes it may have (the table's are unsigned).
_ARRAYS = {"nextmove": "HILQ", "row": "HILQ", "output": "ilq", "ptc": "HILQ"}
_BLOCK = 8192  # table rows converted at a time when writing
#: The table's typecodes, as the names ``memoryview.cast`` takes.
_UNSIGNED: dict[str, Literal["H", "I", "L", "Q"]] = {"H": "H", "I": "I", "L": "L", "Q": "Q"}


class MappedIdentifier:
    """py3langid's ``LanguageIdentifier(norm_probs=True).classify`` over a mapped model
    file, with the standard library only (no numpy). :func:`write_mapped_model` makes the
    file from py3langid's own identifier."""

    def __init__(self, path: Path, version: str) -> None:
        """Map ``path``; ValueError or OSError unless it is a whole model of py3langid ``version``."""
        self.path = path
        with open(path, "rb") as file:
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._read(memoryview(self._map), version)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"a malformed header: {exc!r}") from exc

    def _read(self, data: memoryview, version: str) -> None:
        start = len(_MAGIC) + 4
        if data[: len(_MAGIC)] != _MAGIC:
            raise ValueError("not a mapped language model")
        end = start + int.from_bytes(data[len(_MAGIC) : start], "little")
        header = json.loads(bytes(data[start:end]))
        if header["format"] != _FORMAT or header["py3langid"] != version:
            raise ValueError(f"format {header['format']} for py3langid {header['py3langid']}")
        if header["byteorder"] != sys.byteorder:
            raise ValueError(f"written on a {header['byteorder']}-endian machine")
        views: dict[str, memoryview] = {}
        for name, typecodes in _ARRAYS.items():
            spec = header["arrays"][name]
            typecode, itemsize, offset, length = spec["typecode"], spec["itemsize"], spec["offset"], spec["length"]
            if typecode not in typecodes or array(typecode).itemsize != itemsize or offset < end or length < 0:
                raise ValueError(f"{name}: {spec}")
            end = offset + length * itemsize
            if end > len(data):
                raise ValueError(f"truncated: {len(data)} bytes, {name} ends at {end}")
            views[name] = data[offset:end].cast(typecode)
        if end != len(data):
            raise ValueError(f"{len(data) - end} bytes after the last array")
        self.classes: list[str] = [str(c) for c in header["classes"]]
        self._pc: list[float] = [float(p) for p in header["pc"]]
        self._low, self._scale = float(header["table"]["low"]), float(header["table"]["scale"])
        self._nextmove, self._row, self._output = views["nextmove"], views["row"], views["output"]
        ptc, n = views["ptc"], len(self.classes)
        if (
            not n
            or len(self._pc) != n
            or len(ptc) % n
            or len(self._nextmove) % 256
            or len(self._row) != len(self._output)
        ):
            raise ValueError("inconsistent shapes")
        if not self._scale > 0:
            raise ValueError(f"a table scale of {self._scale}")
        self._typecode, self._ptc_offset, self._row_bytes = (
            _UNSIGNED[ptc.format],
            header["arrays"]["ptc"]["offset"],
            n * ptc.itemsize,
        )
        self._features = len(ptc) // n
        # py3langid's _set_alias_pairs: a label given twice (a script variant) folds into its first column.
        first: dict[str, int] = {}
        self._alias_pairs = [(first[c], i) for i, c in enumerate(self.classes) if first.setdefault(c, i) != i]

    def classify(self, text: str | bytes) -> tuple[str, float]:
        """(label, probability) as py3langid's classify with norm_probs=True gives them, up
        to float rounding (py3langid adds in float32; this adds exactly, then in float64)."""
        data = _encode(text)
        temperature = 1.0 / math.sqrt(len(data) or 1)  # py3langid's calibration across lengths
        scaled = [s * temperature for s in self._scores(data)]
        top = max(scaled)
        exps = [math.exp(s - top) for s in scaled]
        total = sum(exps)
        probabilities = [e / total for e in exps]
        for i, j in self._alias_pairs:
            probabilities[i] += probabilities[j]
            probabilities[j] = 0.0
        best = max(range(len(probabilities)), key=probabilities.__getitem__)  # the first of equals, as argmax
        return self.classes[best], probabilities[best]

    def _scores(self, data: bytes) -> list[float]:
        """py3langid's naive Bayes scores: nb_pc plus log1p(count) times each visited feature's row."""
        nextmove, row, output = self._nextmove, self._row, self._output
        state, features = 0, []
        for byte in data:  # py3langid's visit_counts
            state = nextmove[(row[state] << 8) + byte]
            feature = output[state]
            if feature >= 0:
                features.append(feature)
        if not features:
            return [0.0] * len(self.classes)  # py3langid's featureless scores: uniform, no prior
        # Rows visited equally often share a weight: add them up as packed integers first.
        sums: dict[int, int] = {}
        rows: dict[int, int] = {}
        table, base, width, from_bytes = self._map, self._ptc_offset, self._row_bytes, int.from_bytes
        for feature, count in Counter(features).items():
            if feature >= self._features:
                raise IndexError(f"feature {feature} of {self._features}")
            at = base + feature * width
            sums[count] = sums.get(count, 0) + from_bytes(table[at : at + width], sys.byteorder)
            rows[count] = rows.get(count, 0) + 1
        scores = self._pc
        for count, packed in sums.items():
            weight, low, scale = math.log1p(count), rows[count] * self._low, self._scale
            fields = memoryview(packed.to_bytes(width, sys.byteorder)).cast(self._typecode)
            scores = [s + weight * (f / scale + low) for s, f in zip(scores, fields, strict=False)]
        return scores


def _decode_trimmed(data: bytes) -> str | None:
    """py3langid's decode_trimmed: UTF-8, dropping up to three bytes of a cut last character."""
    for trim in range(4):
        chunk = data[: len(data) - trim] if trim else data
        try:
            return chunk.decode("utf8")
        except UnicodeDecodeError as e:
            if e.start < len(data) - 3:
                return None
    return None


def _encode(text: str | bytes) -> bytes:
    """py3langid's LanguageIdentifier._encode: the bytes its DFA reads."""
    if isinstance(text, bytes):
        decoded = _decode_trimmed(text)
        if decoded is None:
            return text
        text = decoded
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def write_mapped_model(identifier: Any, path: Path, version: str) -> None:
    """Write py3langid ``identifier``'s model for :class:`MappedIdentifier`, atomically
    (whole or absent, whoever else writes it at the same time). Needs numpy, as py3langid
    does; ValueError when the table has no exact fixed-point form."""
    import numpy as np

    ptc = np.asarray(identifier.nb_ptc)
    classes = [str(c) for c in identifier.nb_classes]
    if ptc.ndim != 2 or ptc.shape[1] != len(classes) or not ptc.size:
        raise ValueError(f"a table of shape {ptc.shape} for {len(classes)} classes")
    low = float(ptc.min())
    starts = range(0, len(ptc), _BLOCK)  # a block at a time: a float64 copy of it all is 100 MB

    def shifted(start: int) -> Any:
        return np.asarray(ptc[start : start + _BLOCK], dtype=np.float64) - low  # exact for float16

    bits = max(_grid_bits(shifted(start)) for start in starts)
    scale = 2.0**bits
    # A field holds one class's sum over every row of the table without a carry.
    widest = (float(ptc.max()) - low) * scale * len(ptc)
    field = next((t for t in "HIQ" if widest < 2 ** (8 * array(t).itemsize)), None)
    if field is None:
        raise ValueError("the table's sums do not fit 64 bits")
    dtype = np.dtype(f"=u{array(field).itemsize}")
    arrays = {
        name: _as_array(values)
        for name, values in (
            ("nextmove", identifier.tk_nextmove),
            ("row", identifier.tk_row),
            ("output", array("i", identifier.tk_output)),
        )
    }
    layout: dict[str, tuple[str, int, int]] = {
        name: (values.typecode, values.itemsize, len(values)) for name, values in arrays.items()
    }
    layout["ptc"] = (field, dtype.itemsize, ptc.size)
    header: dict[str, Any] = {
        "format": _FORMAT,
        "py3langid": version,
        "byteorder": sys.byteorder,
        "classes": classes,
        "pc": [float(p) for p in np.asarray(identifier.nb_pc, dtype=np.float32)],
        "table": {"low": low, "scale": scale},
        "arrays": {},
    }
    while True:  # the offsets follow the header, whose length follows the offsets
        text = json.dumps(header).encode()
        offset, placed = len(_MAGIC) + 4 + len(text), dict[str, dict[str, Any]]()
        for name, (typecode, itemsize, length) in layout.items():
            offset += -offset % _ALIGN
            placed[name] = {"typecode": typecode, "itemsize": itemsize, "length": length, "offset": offset}
            offset += itemsize * length
        if placed == header["arrays"]:
            break
        header["arrays"] = placed
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".langid-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_MAGIC + len(text).to_bytes(4, "little") + text)
            for name in layout:
                out.write(bytes(placed[name]["offset"] - out.tell()))
                if name == "ptc":
                    for start in starts:
                        out.write((shifted(start) * scale).astype(dtype).tobytes())
                else:
                    arrays[name].tofile(out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _grid_bits(values: Any) -> int:
    """The coarsest grid, 2**-bits, that every value lies on (float16 needs at most 2**-24)."""
    import numpy as np

    for bits in range(25):
        scaled = values * 2.0**bits
        if np.array_equal(scaled, np.rint(scaled)):
            return bits
    raise ValueError("the table has no exact fixed-point form")


def _as_array(values: Any) -> array[Any]:
    """py3langid's DFA transitions are stdlib arrays already; anything else becomes one."""
    return values if isinstance(values, array) else array("Q", values)


@lru_cache(maxsize=2)
def _mapped_identifier(cache: Path) -> MappedIdentifier | None:
    """The mapped model in ``cache``, written from py3langid's own model when it is missing
    or unusable (then this process imports numpy, once); None when it cannot be had."""
    try:
        from importlib import metadata

        version = metadata.version("py3langid")
        path = cache / f"py3langid-{version}.langid"
    except Exception as exc:  # noqa: BLE001 - py3langid's own loading says what is wrong
        logger.debug("py3langid's version is unknown: %s", exc)
        return None
    try:
        return MappedIdentifier(path, version)
    except Exception as exc:  # noqa: BLE001 - a cache is never worth a failure
        logger.debug("the mapped language model %s is missing or unusable (%s): writing it", path, exc)
    try:
        # From py3langid's own loading (its LZMA model, once): the decompressed .npz copy
        # is only for processes that cannot have this file, and one left by an earlier
        # version is removed (68 MB).
        write_mapped_model(_identifier(None), path, version)
        mapped = MappedIdentifier(path, version)
    except Exception as exc:  # noqa: BLE001
        logger.debug("the mapped language model %s could not be written: %s", path, exc)
        return None
    with contextlib.suppress(OSError):
        (cache / f"py3langid-{version}.npz").unlink(missing_ok=True)
    return mapped


def _classify(text: str, cache: Path | None) -> tuple[str, float]:
    """(label, probability) from the mapped model when there is one, else from py3langid."""
    mapped = _mapped_identifier(cache) if cache is not None else None
    if mapped is not None:
        try:
            return mapped.classify(text)
        except Exception as exc:  # noqa: BLE001 - damaged inside: py3langid answers, the file is made again
            logger.debug("the mapped language model in %s failed: %s", cache, exc)
            _mapped_identifier.cache_clear()
            with contextlib.suppress(OSError):
                mapped.path.unlink()
    label, probability = _identifier(cache).classify(text)
    return str(label), float(probability)


def detect_language(article: Article, *, cache: Path | None = None) -> Lang | None:
    """The article's language, or None when the text is too short or ambiguous.

    ``cache`` is a folder where the detector's model may be kept in a form that loads fast.
    """
    body = " ".join(
        lxml.html.fragment_fromstring(p, create_parent="div").text_content() for p in article.paragraphs[:5]
    )
    text = f"{article.title}. {body}"[:5000]
    if len(text.strip()) < MIN_CHARS:
        return None
    code, probability = _classify(text, cache)
    return lang(code) if probability >= MIN_PROBABILITY else None
