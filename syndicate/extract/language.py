"""Source-language detection (py3langid), for articles whose source does not say."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import lxml.html

from syndicate.models import Article, Lang, lang

#: Below this normalised probability, or on less text than this, no guess is made.
MIN_PROBABILITY = 0.8
MIN_CHARS = 40


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(article: Article) -> Lang | None:
    """The article's language, or None when the text is too short or ambiguous."""
    body = " ".join(
        lxml.html.fragment_fromstring(p, create_parent="div").text_content() for p in article.paragraphs[:5]
    )
    text = f"{article.title}. {body}"[:5000]
    if len(text.strip()) < MIN_CHARS:
        return None
    code, probability = _identifier().classify(text)
    return lang(code) if probability >= MIN_PROBABILITY else None
