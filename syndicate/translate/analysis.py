"""What a language's morphological analyser says about words, engine-independently.

The name finder, headline casing and output checks ask one question of a language:
which readings does this word (or multi-word string) have in its dictionary? A
*reading* is a lemma with tags, Apertium style (``Trump<n><sg>``, ``New York<np><loc>``);
a word the dictionary does not know has none. :class:`Analyser` is the protocol;
Apertium's analysers (``lt-proc`` on a pair's ``automorf.bin``) implement it in
:mod:`syndicate.translate.apertium`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from syndicate.models import Lang

_TAG = re.compile(r"<([^<>]+)>")


@dataclass(frozen=True)
class Unit:
    """One lexical unit of an analysed string: its surface form and its readings."""

    surface: str
    readings: tuple[str, ...] = ()

    @property
    def unknown(self) -> bool:
        """The dictionary has no reading for it."""
        return not self.readings

    def _tags(self) -> list[list[str]]:
        return [_TAG.findall(r) for r in self.readings]

    @property
    def proper(self) -> bool:
        """Some reading is a proper noun."""
        return any("np" in tags for tags in self._tags())

    @property
    def only_proper(self) -> bool:
        """Every reading is a proper noun (``Microsoft``, ``Madrid``; not ``Apple``)."""
        tags = self._tags()
        return bool(tags) and all("np" in t for t in tags)

    @property
    def place(self) -> bool:
        """Some reading is a place name (``loc``/``top``)."""
        return any("np" in t and ("loc" in t or "top" in t) for t in self._tags())

    @property
    def person(self) -> bool:
        """Some reading is a person's name (``ant`` given name, ``cog`` surname)."""
        return any("np" in t and ("ant" in t or "cog" in t) for t in self._tags())

    @property
    def given_name(self) -> bool:
        return any("np" in t and "ant" in t for t in self._tags())

    @property
    def common(self) -> bool:
        """Some reading is an ordinary word: not a proper noun, not punctuation, not a number."""
        skip = {"np", "sent", "cm", "lpar", "rpar", "lquest", "guio", "apos", "num", "punct", "quot"}
        return any(t and not (skip & set(t)) for t in self._tags())

    def _common_lemmas(self) -> list[str]:
        skip = {"np", "sent", "cm", "lpar", "rpar", "lquest", "guio", "apos", "num", "punct", "quot"}
        return [r.split("<", 1)[0] for r in self.readings if not (skip & set(_TAG.findall(r)))]

    @property
    def conventional(self) -> bool:
        """Some ordinary reading's lemma is capitalised in the dictionary: a word the
        language always capitalises (``Monday``, ``American``), read with dictionary case."""
        return any(lemma[:1].isupper() for lemma in self._common_lemmas())

    @property
    def lower_common(self) -> bool:
        """Some ordinary reading's lemma is lower case (``cook``, ``apple``, ``trump``)."""
        return any(lemma[:1].islower() for lemma in self._common_lemmas())

    @property
    def singular(self) -> bool:
        return any("sg" in t or "sp" in t for t in self._tags())

    @property
    def finite_verb(self) -> bool:
        """Some reading is a verb in the past or the third person singular present."""
        return any(
            ("vblex" in t or "vbser" in t or "vbhaver" in t or "vbmod" in t)
            and ("past" in t or ("pri" in t and "p3" in t))
            for t in self._tags()
        )

    @property
    def acronym(self) -> bool:
        return any("acr" in t for t in self._tags())


class Analyser(Protocol):
    """A language's morphological analyser."""

    language: Lang
    #: What it is made from (dictionary file and version): part of what decides which
    #: names are protected, so a new dictionary re-checks the articles it affects.
    identity: str

    def analyse(self, items: Sequence[str]) -> list[tuple[Unit, ...]]:
        """Each item (a word, or a few words) as the units the dictionary reads in it."""
        ...


class Lookup:
    """Memoised questions over an analyser (None: no analyser; every answer is "unknown")."""

    def __init__(self, analyser: Analyser | None) -> None:
        self.analyser = analyser
        self._cache: dict[str, tuple[Unit, ...]] = {}

    @property
    def available(self) -> bool:
        return self.analyser is not None

    def prefetch(self, items: Sequence[str] | set[str]) -> None:
        """Analyse every item not asked before, in one call."""
        todo = sorted({i for i in items if i and i not in self._cache})
        if not todo:
            return
        if self.analyser is None:
            for item in todo:
                self._cache[item] = ()
            return
        for item, units in zip(todo, self.analyser.analyse(todo), strict=True):
            self._cache[item] = units

    def units(self, item: str) -> tuple[Unit, ...]:
        if item not in self._cache:
            self.prefetch([item])
        return self._cache[item]

    def word(self, word: str) -> Unit:
        """The analysis of a single word (an unknown unit when it reads as several)."""
        units = self.units(word)
        return units[0] if len(units) == 1 else Unit(word)

    def one_unit(self, text: str) -> Unit | None:
        """The unit, when the dictionary reads all of ``text`` as one (``New York``)."""
        units = self.units(text)
        return units[0] if len(units) == 1 and not units[0].unknown else None

    def known(self, word: str) -> bool:
        return not self.word(word).unknown
