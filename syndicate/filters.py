"""Which of a source's articles are published: its keyword filters.

``[[sources]] include`` keeps only the articles whose title or text has one of its terms;
``exclude`` leaves out those that have any of its terms (exclude wins). A term is a word
or phrase, matched as whole words in any case and without regard to diacritics ("EU"
finds "the EU's budget", not "EUR"; "human rights" finds "Human  Rights"; "Ελλάδα" finds
"ΕΛΛΑΔΑ"); a term starting with ``re:`` is a regular expression (the `regex` engine,
``re`` syntax, case-insensitive), run with a time bound per article, so a pattern that
backtracks catastrophically holds that article back (named in the log) instead of
stalling the run.

The decision is stored per article (:class:`syndicate.store.filters.FilterRepository`):
publishing reads it without loading a body, and it is taken again only when the
article's content or its source's filters change.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import regex

from syndicate.models import Article, texts

if TYPE_CHECKING:
    from syndicate.config import SourceSettings

logger = logging.getLogger(__name__)

#: What starts a term that is a regular expression.
REGEX_PREFIX = "re:"
#: Seconds one regular-expression term may run on one article (a news article takes
#: microseconds): past it the article is held back and the pattern named.
PATTERN_SECONDS = 0.25
#: Bumped when what a term matches changes (the text read, the word boundaries): every
#: filtered article is decided again on the next run.
FILTER_REVISION = 1

#: Scripts written without spaces between words.
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]")
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<br\s*/?>|</?(?:p|div|li|td|th|h\d)\b[^>]*>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Decision:
    """Whether an article is published, and why not (the term that left it out)."""

    kept: bool
    reason: str = ""


def term_pattern(term: str) -> regex.Pattern[str]:
    """``term`` compiled: a regular expression after ``re:``, else whole words, any case.

    Raises ``regex.error`` for an invalid expression (the config names it)."""
    if term.startswith(REGEX_PREFIX):
        return regex.compile(term[len(REGEX_PREFIX) :], regex.V0 | regex.IGNORECASE)
    term = fold(term).strip()
    words = [regex.escape(word) for word in term.split()]
    # Whole words: no letter, digit or underscore right before or after (works for terms
    # that start or end with a sign, "C++", "#tag"). Scripts written without spaces
    # between words (Chinese, Japanese, Thai...) have no such edge: a term in them is
    # found inside the run of text it stands in.
    before = "" if _UNSPACED.match(term[0]) else r"(?<!\w)"
    after = "" if _UNSPACED.match(term[-1]) else r"(?!\w)"
    return regex.compile(before + r"\s+".join(words) + after, regex.V0 | regex.IGNORECASE | regex.FULLCASE)


def fold(text: str) -> str:
    """``text`` without its diacritics (what the words are matched on: "Ελλάδα" is
    "ΕΛΛΑΔΑ" in capitals, "Nuñez" is often "Nunez"); both sides are folded alike."""
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed.isascii():
        return decomposed
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def article_text(article: Article) -> str:
    """What the filters read: the title, the summary and every text of the body, plain."""
    parts = [article.title, article.meta.summary]
    for value, plain in texts(article.blocks):
        parts.append(value if plain else html.unescape(_TAG.sub("", _BREAK.sub(" ", value))))
    return unicodedata.normalize("NFC", "\n".join(p for p in parts if p))


class SourceFilter:
    """One source's ``include`` and ``exclude`` terms, compiled once."""

    def __init__(self, source: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> None:
        self.source = source
        self.include = include
        self.exclude = exclude
        self._include = [(term, term_pattern(term)) for term in include]
        self._exclude = [(term, term_pattern(term)) for term in exclude]

    @classmethod
    def of(cls, settings: SourceSettings) -> SourceFilter | None:
        """The filter of a ``[[sources]]`` table; None when it sets no terms."""
        if not settings.include and not settings.exclude:
            return None
        return cls(settings.name, tuple(settings.include), tuple(settings.exclude))

    @cached_property
    def digest(self) -> str:
        """Names the terms (in order: a change of either list decides every article again)."""
        data = json.dumps([FILTER_REVISION, list(self.include), list(self.exclude)], ensure_ascii=False)
        return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def decide(self, article: Article) -> Decision:
        """Whether ``article`` is published under these terms."""
        text = article_text(article)
        folded = fold(text)  # words are matched without diacritics, expressions on the text as it is
        for term, pattern in self._exclude:
            found = self._search(pattern, term, text if term.startswith(REGEX_PREFIX) else folded, article)
            if found is None:
                return Decision(False, f"the filter term {term!r} ran past {PATTERN_SECONDS:g} s on it")
            if found:
                return Decision(False, f"excluded by {term!r} ({found!r})")
        if not self._include:
            return Decision(True)
        for term, pattern in self._include:
            found = self._search(pattern, term, text if term.startswith(REGEX_PREFIX) else folded, article)
            if found is None:
                return Decision(False, f"the filter term {term!r} ran past {PATTERN_SECONDS:g} s on it")
            if found:
                return Decision(True)
        return Decision(False, "no include term in its title or text")

    def _search(self, pattern: regex.Pattern[str], term: str, text: str, article: Article) -> str | None:
        """The text ``pattern`` found ("" when none), or None when it ran out of time."""
        try:
            match = pattern.search(text, timeout=PATTERN_SECONDS)
        except TimeoutError:
            logger.warning(
                "[%s] %s: the filter term %r ran for more than %g s on it (it backtracks catastrophically): "
                "the article is held back; rewrite the term in [[sources]] include/exclude",
                self.source,
                article.key,
                term,
                PATTERN_SECONDS,
            )
            return None
        if match is None:
            return ""
        return _SPACE.sub(" ", match.group(0))[:80] or " "
