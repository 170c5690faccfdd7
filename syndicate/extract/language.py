"""Source-language detection (py3langid), for articles whose source does not say."""

from __future__ import annotations

import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

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
            np.asarray(data["ptc"]), np.asarray(data["pc"]), data["classes"].tolist(),
            modelio._to_array(data["nextmove"]), data["out_feat"].tolist(),
            norm_probs=True, tk_row=modelio._to_array(data["nextmove_row"]),
        )


def detect_language(article: Article, *, cache: Path | None = None) -> Lang | None:
    """The article's language, or None when the text is too short or ambiguous.

    ``cache`` is a folder where the detector's model may be kept decompressed.
    """
    body = " ".join(
        lxml.html.fragment_fromstring(p, create_parent="div").text_content() for p in article.paragraphs[:5]
    )
    text = f"{article.title}. {body}"[:5000]
    if len(text.strip()) < MIN_CHARS:
        return None
    code, probability = _identifier(cache).classify(text)
    return lang(code) if probability >= MIN_PROBABILITY else None
