"""Finding the names in an article, and putting Title Case headlines into sentence case.

A name is kept as the source writes it (persons, organisations, companies, brands,
products, titles of works, places the target language writes the same); engines,
left alone, translate "Tim Cook" to "Tim Cocinero" and "Home Depot" to "Depósito de la
Casa". What tells a name from a word, in order of weight:

- **capitalisation inside a sentence**: a run of capitalised words not at a sentence
  start ("Fort Worth", "Star Wars", "Bank of America"), with the titles before it left
  out ("President", "CEO") and a possessive after it ("Cook's") left to the engine;
- **the article as a whole**: a word capitalised inside some sentence is a name at the
  start of another ("Trump said ..."), a word the article also writes in lower case is a
  word; a name found once is a name everywhere in the article;
- **the source language's dictionary** (an :class:`~syndicate.translate.analysis.Analyser`,
  Apertium's, when installed): a capitalised word whose lower-case form is a dictionary
  word ("Cook", "Apple", "Trump") is a name there; one only the capitalised form of
  which the dictionary knows is a word English capitalises ("Monday", "American"); a
  multi-word proper noun the dictionary knows whole ("New York") and a place name it
  knows ("London") are left to the engine, which knows their target forms ("Nueva
  York", "Londres"), as are institutions ("White House", "Supreme Court",
  "Department of Justice"), which a newspaper translates;
- **the source's markup**: the article's authors are names;
- **CLDR** (through Babel): country and city names with their own form in the target
  language ("Germany" -> "Alemania") are given that form rather than kept.

No statistical named-entity model is used: the maintained ones (spaCy, Flair, GLiNER)
download their models at run time, which our machines cannot do, and the registry's
spaCy model packages are unofficial re-uploads.

The same evidence decides a Title Case headline's sentence case: "Volga Farmers Expect
Strong Wheat Harvest After Mild Spring" -> "Volga farmers expect strong wheat harvest
after mild spring", which an engine translates far better ("spring" the season, not the
mechanical part).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from syndicate.models import Lang, primary
from syndicate.translate.analysis import Lookup
from syndicate.translate.segments import split_sentences

# NAMES_REVISION (syndicate.translate.revisions): bump it when the rules below change
# what is protected; translations made under an older revision are redone.

#: Words: letters and digits, with inner apostrophes, hyphens and ampersands ("O'Hare",
#: "Chick-O-Stix", "AT&T"), or initials with periods ("U.S.", "D.A.").
_TOKEN = re.compile(
    r"(?:[^\W\d_]\.){2,}"  # U.S., D.A.
    r"|(?:St|Mt|Ft|Jr|Sr)\.(?=\s)"  # St. Louis, St. Martin's
    r"|[A-Z]\.(?=\s+[A-Z])"  # a middle initial: Donald J. Trump
    r"|[^\W_](?:[^\W_]|['’&.-](?=[^\W_]))*",
    re.UNICODE,
)
_OPENERS = "\"'“‘«([¿¡—–-"
_POSSESSIVE = re.compile(r"['’]s?$")

#: Languages whose capitalisation does not mark names (German capitalises every noun).
_NO_CASE_SIGNAL = frozenset({"de", "lb"})


@dataclass(frozen=True)
class LanguageWords:
    """What a source language's capitalisation rules need to know besides the dictionary."""

    #: Words that start sentences and never start names ("The", "But", "After").
    function: frozenset[str] = frozenset()
    #: Titles before a name, translated by the engine ("President", "CEO"); the name after
    #: one is a person's.
    titles: frozenset[str] = frozenset()
    #: Titles of two words, hyphen-joined ("prime-minister").
    two_word_titles: frozenset[str] = frozenset()
    #: Lower-case words that may join the capitalised words of one name ("Bank of America").
    connectors: frozenset[str] = frozenset()
    #: Head nouns of institutions a newspaper translates ("Supreme Court" -> "Tribunal Supremo").
    institutions: frozenset[str] = frozenset()
    #: Words a Title Case headline leaves in lower case (articles, short prepositions, conjunctions).
    title_lower: frozenset[str] = frozenset()
    #: Capitalised words that are no names and that CLDR does not list (months, days and
    #: languages come from CLDR): celestial bodies, feasts, scriptures.
    capitalised: frozenset[str] = frozenset()
    #: Compass words that make a nationality or region adjective ("South African").
    compass: frozenset[str] = frozenset()


_EN = LanguageWords(
    function=frozenset(
        """
        a an the and or but nor so yet if as at by for from in into of off on onto out over to up with
        about above across after against along among around before behind below beneath beside besides
        between beyond despite during except inside like near since than through throughout till toward
        towards under underneath unlike until upon via within without
        i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
        this that these those who whom whose which what where when why how whoever whatever
        is am are was were be been being do does did done have has had having will would shall should can
        could may might must ought
        not no yes all any both each every either neither few many much more most other others some such
        only own same too very just also even still already again ever never always often sometimes here
        there then now today tomorrow yesterday tonight however meanwhile instead indeed perhaps
        one two three four five six seven eight nine ten first second third last next
        according although because though unless whether while whereas once
        mr mrs ms dr
    """.split()
    ),
    titles=frozenset(
        """
        mr mrs ms miss dr prof president minister senator sen rep representative congressman
        congresswoman gov governor mayor judge justice chief general gen col colonel lt lieutenant sgt
        sergeant capt captain cmdr commander adm admiral pope king queen prince princess emperor empress
        chancellor secretary ambassador ceo cfo coo cto chairman chairwoman chair founder co-founder
        coach officer detective sheriff deputy commissioner director speaker leader attorney agent
        inspector superintendent professor doctor father rev reverend bishop archbishop cardinal rabbi
        imam sheikh ayatollah president-elect hurricane typhoon cyclone
    """.split()
    ),
    two_word_titles=frozenset(
        """
        prime-minister vice-president vice-chancellor chief-executive attorney-general secretary-general
        foreign-minister finance-minister defense-secretary defence-secretary home-secretary first-lady
        crown-prince supreme-leader chief-justice police-chief head-coach
    """.split()
    ),
    connectors=frozenset("of the for on de del la le las los van von der den da di du dos das y bin al el &".split()),
    institutions=frozenset(
        """
        department ministry court reserve committee council commission assembly administration agency
        authority bureau office parliament congress senate union nations party army navy service prize
        war day week festival observatory strip sea ocean islands lakes mountains river university
        airport police guard forces house group survey center centre organisation organization
        association institute foundation society federation alliance coalition movement command corps
        revolution accords accord agreement treaty act convention conference summit program programme
        initiative board tribunal cabinet government republic kingdom state states hospital museum library
        school academy stadium award awards medal cup championship championships
    """.split()
    ),
)

_EN = LanguageWords(
    function=_EN.function,
    titles=_EN.titles,
    two_word_titles=_EN.two_word_titles,
    connectors=_EN.connectors,
    institutions=_EN.institutions,
    title_lower=frozenset(
        """
        a an the and but or nor for yet so as at by in of off on per to up via vs from into onto over with than
        upon amid out
    """.split()
    ),
    capitalised=frozenset(
        """
        Earth Moon Sun Christmas Easter Thanksgiving Ramadan Passover Hanukkah Diwali Lent Advent God Bible Koran
        Quran Torah Internet Web
    """.split()
    ),
    compass=frozenset(
        (
            "north south east west northern southern eastern western central northeast northwest southeast southwest"
        ).split()
    ),
)

LANGUAGE_WORDS: Mapping[str, LanguageWords] = {"en": _EN}


@dataclass(frozen=True)
class Names:
    """What an article's names are: what to keep, what has a target form, how its
    Title Case texts read in sentence case."""

    #: Kept verbatim by every engine.
    keep: frozenset[str] = frozenset()
    #: Those of :attr:`keep` that are people's names.
    people: frozenset[str] = frozenset()
    #: Names with a CLDR form per language (country and city names): name -> CLDR key.
    places: Mapping[str, str] = field(default_factory=dict)
    #: Places the dictionary knows as proper nouns but CLDR does not name ("Middle East",
    #: "Las Vegas", "Volga", "Turkey"): kept, unless the engine's own dictionary knows them
    #: whole, when it has their target form ("Oriente Medio", "Turquía").
    known_places: frozenset[str] = frozenset()
    #: Title Case texts (headline, headings) -> the same in sentence case.
    recased: Mapping[str, str] = field(default_factory=dict)

    @property
    def candidates(self) -> frozenset[str]:
        """Every name an engine may be asked about (see :meth:`terms`)."""
        return self.known_places

    def terms(self, target: Lang, engine_knows: Callable[[str], bool] | None = None) -> dict[str, str]:
        """Protected terms for ``target``: kept names map to themselves, places with
        their own form in the target language to that form. ``engine_knows(name)`` says
        whether the engine translating into ``target`` knows a place of
        :attr:`known_places` as one proper noun (then it is left to the engine)."""
        out = {name: name for name in self.keep}
        for name in self.known_places:
            if engine_knows is None or not engine_knows(name):
                out[name] = name
        for name, key in self.places.items():
            out[name] = place_name(key, target) or name
        return out


@dataclass
class _Evidence:
    """What an article says about its words, across all its texts."""

    mid_caps: Counter[str] = field(default_factory=Counter)  # capitalised inside a sentence
    lower: set[str] = field(default_factory=set)  # written in lower case somewhere (casefolded)
    spans: set[tuple[str, ...]] = field(default_factory=set)  # multi-word names inside sentences


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    initial: bool  # starts a sentence (or a quotation, or a Title Case text)
    gap: str = ""  # what stands between it and the word before

    @property
    def capitalised(self) -> bool:
        """Written as a name is: a capital first ("Cook"), or inside ("iPhone"); a
        compound only when its last part is ("Spider-Man", not "US-backed")."""
        text = self.text.rsplit("-", 1)[-1] if "-" in self.text[1:] else self.text
        if not text:
            return False
        first = text[0]
        return (first.isupper() and first.isalpha()) or (first.islower() and any(c.isupper() for c in text[1:]))


class NameFinder:
    """Finds the names of articles written in ``language`` (see the module docs).

    :meth:`prepare` takes every article of a batch first, so the dictionary is asked
    about all their words in one call; :meth:`find` then decides per article.
    """

    def __init__(self, language: Lang, lookup: Lookup, terms: Iterable[str] = ()) -> None:
        self.language = language
        self.lookup = lookup
        self.words = LANGUAGE_WORDS.get(primary(language), LanguageWords())
        self.enabled = primary(language) not in _NO_CASE_SIGNAL
        #: The operator's terms (keep_verbatim, glossary): a headline keeps them as written.
        self.terms = [tuple(t.text for t in _tokens(term, title_case=True)) for term in terms if term.strip()]

    # -- one batch: ask the dictionary once ------------------------------------------------

    def prepare(self, articles: Iterable[Sequence[str]]) -> None:
        """Analyse, in one call, every word and candidate name of ``articles`` (each the
        plain texts of one article)."""
        if not self.enabled or not self.lookup.available:
            return
        items: set[str] = set()
        for texts in articles:
            for text in texts:
                for sentence in self._sentences(text):
                    tokens = _tokens(sentence, title_case=False)
                    for span in _raw_spans(tokens, self.words):
                        items.add(" ".join(t.text for t in span))
                    for i, token in enumerate(tokens):
                        if token.capitalised:
                            items.add(token.text)
                            items.add(_POSSESSIVE.sub("", token.text))
                            items.add(token.text.lower())
                            if token.initial and i + 1 < len(tokens):
                                items.add(tokens[i + 1].text)
        self.lookup.prefetch(items)

    # -- one article ----------------------------------------------------------------------

    def find(self, texts: Sequence[str], title_case: Sequence[str] = (), authors: Sequence[str] = ()) -> Names:
        """The names of one article from its plain ``texts``; those of ``title_case``
        that are Title Case are also given in sentence case."""
        if not self.enabled:
            return Names()
        recased: dict[str, str] = {}
        headlines = {t for t in title_case if is_title_case(t, self.words)}
        evidence = _Evidence()
        for words in self.terms:
            if len(words) > 1:
                evidence.spans.add(words)
            elif words:
                evidence.mid_caps[words[0]] += 1
        prose = [t for t in texts if t not in headlines]
        for text in prose:
            for sentence in self._sentences(text):
                self._gather(sentence, evidence)
        keep: set[str] = set()
        people: set[str] = set()
        places: dict[str, str] = {}
        known_places: set[str] = set()
        author_names = {a.strip() for a in authors if a.strip()}
        for name in author_names:
            if _TOKEN.search(name):
                keep.add(name)
                people.add(name)
        for headline in headlines:
            recased[headline] = self._sentence_case(headline, evidence)
        for text in [*prose, *recased.values()]:
            for sentence in self._sentences(text):
                if text in prose and is_title_case(sentence, self.words):
                    sentence = self._sentence_case(sentence, evidence)  # a byline, a caption
                self._decide(sentence, evidence, keep, people, places, known_places)
        # A person's surname alone ("Cook said") is the same person.
        for person in list(people):
            parts = person.split()
            if len(parts) > 1 and parts[-1] in keep:
                people.add(parts[-1])
        return Names(frozenset(keep), frozenset(people & keep), places, frozenset(known_places - keep), recased)

    def _sentences(self, text: str) -> list[str]:
        return [s for s, _ in split_sentences(text.strip()) if s.strip()]

    def _gather(self, sentence: str, evidence: _Evidence) -> None:
        """What one sentence says: its lower-case words, and the names inside it. A word
        counts as capitalised inside a sentence when it is a name alone ("President
        Trump said") or a person's surname ("Tim Cook"), not when it is part of a longer
        name ("United States" says nothing of "States must ...")."""
        tokens = _tokens(sentence, title_case=is_title_case(sentence, self.words))
        for token in tokens:
            if not token.capitalised and token.text[:1].isalpha():
                evidence.lower.add(token.text.casefold())
        for span in _raw_spans(tokens, self.words):
            for part in self._split_titles(span):
                trimmed = self._trim(part, evidence)
                # After a sentence's "The" the capitals are a name's ("The Home Depot said").
                after_article = part[0].initial and part[0].text.casefold() in self.words.function
                if not trimmed or (trimmed[0].initial and not after_article):
                    continue
                words = [t for t in trimmed if t.text.casefold() not in self.words.connectors]
                if len(trimmed) > 1:
                    evidence.spans.add(tuple(t.text for t in trimmed))
                if len(words) == 1 or (len(words) == 2 and self.lookup.word(words[0].text).given_name):
                    evidence.mid_caps[_POSSESSIVE.sub("", words[-1].text)] += 1

    def _split_titles(self, span: Sequence[_Token]) -> list[list[_Token]]:
        """A run of capitalised words cut before each title in it that a name follows:
        "Remarks of Vice President Joe Biden" is "Remarks" and "Vice President Joe
        Biden"; "MMQB's Peter King" is "MMQB's" and "Peter King"."""
        parts: list[list[_Token]] = [[]]
        in_title = False
        i = 0
        while i < len(span):
            token = span[i]
            lowered = token.text.casefold().rstrip(".")
            two = i + 2 < len(span) and f"{lowered}-{span[i + 1].text.casefold()}" in self.words.two_word_titles
            one = lowered in self.words.titles and i + 1 < len(span)
            if two or one:
                if parts[-1] and not in_title:
                    parts.append([])
                parts[-1].extend(span[i : i + (2 if two else 1)])
                in_title = True
                i += 2 if two else 1
                continue
            after_possessive = bool(parts[-1]) and _POSSESSIVE.search(parts[-1][-1].text) is not None
            if after_possessive and not in_title and self.lookup.word(token.text).given_name:
                parts.append([])  # "MMQB's Peter King", "Apple's Tim Cook": two names
            parts[-1].append(token)
            in_title = False
            i += 1
        out = []
        for part in parts:
            while part and part[-1].text.casefold() in self.words.connectors:
                part = part[:-1]
            if part:
                out.extend(self._split_person(part))
        return out

    def _split_person(self, span: list[_Token]) -> list[list[_Token]]:
        """A person's name does not run on through "of": "Pamela Ferguson of the
        University of Dundee" is a person and an institution."""
        # "of", "for", "on", "the": not a name's own particles ("Osama bin Laden", "van Gogh").
        connector = next((i for i, t in enumerate(span) if t.text in _PREPOSITIONS), None)
        if connector is None or connector == 0:
            return [span]
        first = span[0].text.casefold().rstrip(".")
        rest = span[connector:]
        while rest and rest[0].text in self.words.connectors:
            rest = rest[1:]
        person = first in self.words.titles or self.lookup.word(span[0].text).given_name
        # "Arly Velasquez of Mexico", "Gyöngyi Dani of Hungary": a name and where from.
        place = bool(rest) and (
            cldr_place(" ".join(t.text for t in rest)) is not None
            or (len(rest) == 1 and self.lookup.word(rest[0].text).place)
        )
        if not (person or place):
            return [span]
        return [span[:connector], *([rest] if rest else [])]

    def _trim(self, span: Sequence[_Token], evidence: _Evidence) -> list[_Token]:
        """A span less the titles and sentence-start words in front of its name: "The"
        ("The Home Depot"), a title ("President"), or a sentence's first word that the
        article or the dictionary has as an ordinary word ("Hundreds of Chicago O'Hare")."""
        out = list(span)
        dropped_function = False
        while out:
            first = out[0]
            lowered = first.text.casefold().rstrip(".")
            if lowered in self.words.titles:
                out.pop(0)
                continue
            if len(out) > 1 and f"{lowered}-{out[1].text.casefold()}" in self.words.two_word_titles:
                del out[:2]
                continue
            if first.initial and lowered in self.words.function:
                out.pop(0)
                dropped_function = True
                if out:  # "The Report opens": "Report" starts the sentence now
                    out[0] = replace(out[0], initial=True)
                continue
            if first.initial and len(out) > 1 and not dropped_function:
                known = tuple(t.text for t in out) in evidence.spans
                common = lowered in evidence.lower or self.lookup.word(first.text.lower()).lower_common
                if not known and first.text not in evidence.mid_caps and common:
                    out.pop(0)
                    while out and out[0].text.casefold() in self.words.connectors:
                        out.pop(0)
                    continue
            break
        while out and (out[0].text in self.words.connectors or not _has_letter(out[0].text)):
            out.pop(0)  # a connector or a number left in front ("About 35": "About" was dropped)
        while out and (
            out[-1].text in self.words.connectors
            or (
                len(out) > 1
                and out[-1].text.casefold().rstrip(".") in self.words.titles
                and _POSSESSIVE.search(out[-2].text)
            )
            or (len(out) > 1 and out[-1].text in _weekdays())
        ):
            out.pop()  # a connector, a title after a possessive ("Ring's CEO"), a day ("The London Thursday")
        return out

    def _decide(
        self,
        sentence: str,
        evidence: _Evidence,
        keep: set[str],
        people: set[str],
        places: dict[str, str],
        known_places: set[str],
    ) -> None:
        tokens = _tokens(sentence, title_case=False)
        following = {id(t): tokens[i + 1] if i + 1 < len(tokens) else None for i, t in enumerate(tokens)}
        spans = [span for whole in _raw_spans(tokens, self.words) for span in self._split_titles(whole)]
        for span in spans:
            titled = self._titled(span)
            trimmed = self._trim(span, evidence)
            if not trimmed:
                continue
            text = sentence[trimmed[0].start : trimmed[-1].end]
            text = _POSSESSIVE.sub("", text) if _POSSESSIVE.search(trimmed[-1].text) and len(text) > 3 else text
            verdict = self._verdict(trimmed, text, evidence, following.get(id(trimmed[-1])))
            if verdict == "keep":
                keep.add(text)
                if titled or self.lookup.word(trimmed[0].text).given_name:
                    people.add(text)
            elif verdict.startswith("place:"):
                places[text] = verdict[6:]
            elif verdict == "known-place":
                known_places.add(text)

    def _titled(self, span: Sequence[_Token]) -> bool:
        """Whether a span starts with a title, so the name after it is a person's."""
        first = span[0].text.casefold().rstrip(".")
        if first in self.words.titles:
            return True
        return len(span) > 2 and f"{first}-{span[1].text.casefold()}" in self.words.two_word_titles

    def _verdict(self, span: Sequence[_Token], text: str, evidence: _Evidence, after: _Token | None) -> str:
        """ "keep", "place:<CLDR key>", or "engine" (left to the engine).

        A country or city CLDR names gets CLDR's form in each language ("Tokyo" ->
        "Tokio", "New York" -> "Nueva York"), unless it is of several words the
        dictionary knows as one proper noun ("United States": the engine knows its form
        and the article it takes); a multi-word place CLDR does not name is kept (engines mangle
        them: Apertium gives "Las Vega"); a single-word place the dictionary knows is
        left to the engine."""
        key = cldr_place(text)
        if key is not None:
            unit = self.lookup.one_unit(text)
            several = len(span) > 1
            return "engine" if several and unit is not None and unit.proper else f"place:{key}"
        if len(span) == 1:
            return self._single(span[0], evidence, after)
        words = [
            _POSSESSIVE.sub("", t.text)
            for t in span
            if t.text[:1].isalpha() and t.text.casefold() not in self.words.connectors
        ]
        if words and all(
            w in _conventional_capitals() or w in self.words.capitalised or w in _TIME_ZONES or w in _CLOCK_WORDS
            for w in words
        ):
            return "engine"  # a date or a time: "April 11", "Monday January 5", "GMT Friday", "PM Wednesday"
        if (
            len(words) > 1
            and all(w.casefold() in self.words.compass for w in words[:-1])
            and (self.lookup.word(words[-1]).conventional or words[-1] in _conventional_capitals())
        ):
            return "engine"  # "South African", "North Korean": an adjective the engine translates
        if self._institution(span):
            return "engine"
        unit = self.lookup.one_unit(text)
        if unit is not None and unit.only_proper and unit.place:
            return "known-place"  # "Middle East": kept unless the engine knows it whole
        return "keep"

    def _single(self, token: _Token, evidence: _Evidence, after: _Token | None) -> str:
        word = _POSSESSIVE.sub("", token.text) if len(token.text) > 3 else token.text
        lowered = word.casefold()
        head = re.split(r"['’]", lowered, maxsplit=1)[0]
        if head in self.words.function or lowered in self.words.titles or len(word) < 2:
            return "engine"  # "I’m", "It’s", "Mr"
        if word in _conventional_capitals() or word in self.words.capitalised or lowered in self.words.institutions:
            return "engine"  # Monday, January, English; Congress, Parliament
        unit = self.lookup.word(word)
        if token.initial and word not in evidence.mid_caps:
            # A sentence's first word is a name when the article capitalises it inside a
            # sentence too, when the dictionary knows it only as a name, or not at all,
            # in either case, or when it can be a name and a verb follows it bare
            # ("Trump visited").
            if lowered in evidence.lower or not self.lookup.available:
                return "engine"
            lower_unit = self.lookup.word(word.lower())
            subject = (
                unit.proper
                and unit.singular
                and after is not None
                and _adjacent(after)
                and self.lookup.word(after.text).finite_verb
            )
            only_name = (unit.unknown or unit.only_proper) and (lower_unit.unknown or not lower_unit.lower_common)
            if not (only_name or subject):
                return "engine"
        if word.isupper():
            # An acronym the dictionary knows has a target form (UN -> ONU, LONDON ->
            # LONDRES); an ordinary word in capitals is a name (VICE), as is an unknown one.
            return "engine" if unit.acronym or unit.proper else "keep"
        if self.lookup.available:
            if unit.place:
                # London -> Londres, Turkey -> Turquía: the engine's, when it knows the place.
                return "known-place"
            if unit.conventional and not unit.lower_common:
                return "engine"  # a word the language capitalises (American, English, Olympic)
        return "keep"

    def _institution(self, span: Sequence[_Token]) -> bool:
        """An institution a newspaper translates: its head (the last word, or the word
        before "of": "Department of Justice", "Sporting Shooters Association of
        Australia") is an institution noun, and all its words are dictionary words, none
        a person's name only ("Clark Construction Group" is a company)."""
        texts = [t.text for t in span]
        connector = next((i for i, t in enumerate(texts) if t.casefold() in self.words.connectors), len(texts))
        head = _POSSESSIVE.sub("", texts[connector - 1]).casefold() if connector else ""
        words = [_POSSESSIVE.sub("", t) for t in texts if t.casefold() not in self.words.connectors]
        if head not in self.words.institutions:
            return False
        if head == "house" and words[:-1] != ["White"]:
            return False
        if not self.lookup.available:
            return False
        before = [_POSSESSIVE.sub("", t) for t in texts[:connector]]
        units = [self.lookup.word(w) for w in before]
        # Dictionary words only ("Alibaba Group", "SDCCU Stadium" are names), none of them a
        # person's name only ("Clark Construction Group" is a company named after someone).
        return all(not u.unknown and (u.common or u.place) for u in units)

    # -- headlines ----------------------------------------------------------------------------

    def _sentence_case(self, text: str, evidence: _Evidence) -> str:
        """A Title Case text in sentence case: names and words English always
        capitalises keep their capital, the rest is lowered."""
        tokens = _tokens(text, title_case=True)
        known = list(evidence.spans)
        protected: set[int] = set()
        words = [t.text for t in tokens]
        for span in sorted(known, key=len, reverse=True):
            n = len(span)
            for i in range(len(words) - n + 1):
                if tuple(words[i : i + n]) == span:
                    protected.update(range(i, i + n))
        out = []
        pos = 0
        first = True
        for i, token in enumerate(tokens):
            out.append(text[pos : token.start])
            word = token.text
            if "-" in word and i not in protected:
                # Each part of a compound on its own: "Two-Year" -> "two-year", "US-Backed" -> "US-backed".
                parts = word.split("-")
                out.append(
                    "-".join(
                        part
                        if (first and n == 0) or not part or self._headline_name(part, evidence)
                        else part[0].lower() + part[1:]
                        for n, part in enumerate(parts)
                    )
                )
            elif first or not token.capitalised or i in protected or self._headline_name(word, evidence):
                out.append(word)
            else:
                out.append(word[0].lower() + word[1:])
            first = False
            pos = token.end
            if re.search(r"[:.!?]\s*$", text[token.end : token.end + 2]):
                first = True  # "Analysis: Why ..." starts again after the colon
        out.append(text[pos:])
        return "".join(out)

    def _headline_name(self, word: str, evidence: _Evidence) -> bool:
        bare = _POSSESSIVE.sub("", word) if len(word) > 3 else word
        lowered = bare.casefold()
        if "-" in bare:  # "Two-Year", "US-Backed": each part on its own
            return any(self._headline_name(part, evidence) for part in bare.split("-") if part)
        if len(bare) > 1 and (bare.isupper() or any(c.isupper() for c in bare[1:])):
            return True  # an acronym, iPhone, McDonald
        if bare in evidence.mid_caps:
            return True
        if lowered in evidence.lower or lowered in self.words.function:
            return False
        if bare in _conventional_capitals():
            return True
        if not self.lookup.available:
            return False
        unit = self.lookup.word(bare)
        return unit.unknown or unit.only_proper or (unit.conventional and not unit.lower_common)


_PREPOSITIONS = frozenset({"of", "for", "on", "the"})
_TIME_ZONES = frozenset("GMT UTC BST CET CEST EET EST EDT CST CDT MST MDT PST PDT ET PT AEST AEDT JST IST".split())
_CLOCK_WORDS = frozenset("AM PM A.M. P.M.".split())


def _has_letter(text: str) -> bool:
    return any(c.isalpha() for c in text)


def is_title_case(text: str, words: LanguageWords | None = None) -> bool:
    """Whether ``text`` is written in Title Case, as many English headlines are: at
    least three capitalised words besides the first, and no lower-case word but those
    Title Case leaves small (articles, short prepositions, conjunctions)."""
    words = words or _EN
    tokens = [t for t in _TOKEN.findall(text) if t[:1].isalpha()]
    if len(tokens) < 4 or text.isupper():
        return False
    rest = tokens[1:]
    if any(t[0].islower() and t.casefold() not in words.title_lower and len(t) > 2 for t in rest):
        return False
    return sum(1 for t in rest if t[0].isupper() and t.casefold() not in words.title_lower) >= 3


def _tokens(sentence: str, *, title_case: bool) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    for match in _TOKEN.finditer(sentence):
        gap = sentence[pos : match.start()]
        before = sentence[: match.start()].rstrip()
        initial = title_case or not out or before.endswith((":", "—", "–")) or _quote_opens_sentence(before)
        out.append(_Token(match.group(0), match.start(), match.end(), initial, gap))
        pos = match.end()
    return out


_INSTITUTION_CONNECTORS = frozenset({"for", "on"})


def _quote_opens_sentence(before: str) -> bool:
    """Whether ``before`` ends with an opening quotation mark that starts a quoted
    sentence (after a colon, a comma or nothing: ``said: "The ...``), not a quoted name
    inside a sentence (``known as "Team LH"``)."""
    if not before or before[-1] not in "“‘\"'«(":
        return False
    if before[-1] == "'" and before[-2:-1].isalnum():
        return False  # an apostrophe
    ahead = before[:-1].rstrip()
    return not ahead or ahead[-1] in ',:;.!?…—–("“«'


def _raw_spans(tokens: Sequence[_Token], words: LanguageWords) -> list[list[_Token]]:
    """Runs of capitalised words separated by single spaces, joined by at most two
    connectors ("Heroes of the Storm"), with one short number after them ("Blade
    Runner 2049"); a comma, a dash or a possessive ends a run."""
    spans: list[list[_Token]] = []
    i = 0
    while i < len(tokens):
        if not tokens[i].capitalised:
            i += 1
            continue
        span = [tokens[i]]
        j = i + 1
        while j < len(tokens) and _adjacent(tokens[j]):
            if tokens[j].capitalised:
                span.append(tokens[j])
                j += 1
                continue
            k = j
            while (
                k < len(tokens) and k - j < 2 and tokens[k].text.casefold() in words.connectors and _adjacent(tokens[k])
            ):
                if (
                    tokens[k].text.casefold() in _INSTITUTION_CONNECTORS
                    and tokens[k - 1].text.casefold() not in words.institutions
                ):
                    break  # "for", "on" join only an institution's name: "Council on Foreign Relations"
                k += 1
            if j < k < len(tokens) and tokens[k].capitalised and _adjacent(tokens[k]):
                span.extend(tokens[j : k + 1])
                j = k + 1
                continue
            if tokens[j].text.isdigit() and len(tokens[j].text) <= 4 and not _POSSESSIVE.search(span[-1].text):
                span.append(tokens[j])  # "Blade Runner 2049", not "the Fed's 2 percent"
                j += 1
            break
        spans.append(span)
        i = j
    return spans


def _adjacent(token: _Token) -> bool:
    """Only a space (or two) before ``token``, or an ampersand ("Light & Magic"):
    other punctuation ends a name."""
    return (1 <= len(token.gap) <= 2 and not token.gap.strip()) or token.gap == " & "


# -- CLDR -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _conventional_capitals() -> frozenset[str]:
    """Words English capitalises that are no names: months, weekdays, languages (CLDR)."""
    from babel import Locale

    en = Locale("en")
    words: set[str] = set()
    for width in ("wide", "abbreviated"):  # "January", "Jan" (as in "Jan. 24")
        words.update(en.months["format"][width].values())
        words.update(en.days["format"][width].values())
    words.update(("Sept", "Tues", "Thur", "Thurs"))
    words.update(name for name in en.languages.values() if " " not in name)
    return frozenset(words)


@lru_cache(maxsize=1)
def _weekdays() -> frozenset[str]:
    """English weekdays, which follow a name without belonging to it ("at The London Thursday")."""
    from babel import Locale

    return frozenset(Locale("en").days["format"]["wide"].values())


@lru_cache(maxsize=1)
def _cldr_places() -> dict[str, str]:
    """English country and city names -> their CLDR key ("territory:DE",
    "city:America/New_York"): CLDR's territories, and the exemplar cities of the time
    zone database (named by their zone where CLDR has no English name of its own)."""
    import zoneinfo

    from babel import Locale

    en = Locale("en")
    out: dict[str, str] = {}
    for code, name in en.territories.items():
        if code.isalpha() and len(code) == 2:
            out.setdefault(name, f"territory:{code}")
    zones = set(en.time_zones) | {z for z in zoneinfo.available_timezones() if "/" in z}
    for zone in sorted(zones):
        if zone.startswith(("Etc/", "Antarctica/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")):
            continue
        city = en.time_zones.get(zone, {}).get("city") or zone.rsplit("/", 1)[-1].replace("_", " ")
        out.setdefault(city, f"city:{zone}")
    return out


def cldr_place(text: str) -> str | None:
    """The CLDR key of an English country or city name, or None."""
    return _cldr_places().get(unicodedata.normalize("NFC", text))


@lru_cache(maxsize=4096)
def place_name(key: str, target: Lang) -> str | None:
    """A place's name in ``target`` (CLDR), or None when CLDR has none for that language."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(primary(target))
    except (UnknownLocaleError, ValueError):
        return None
    kind, _, code = key.partition(":")
    if kind == "territory":
        return locale.territories.get(code)
    names = locale.time_zones.get(code, {})
    city = names.get("city")
    if city:
        return str(city)
    return code.rsplit("/", 1)[-1].replace("_", " ")


__all__ = ["LANGUAGE_WORDS", "NameFinder", "Names", "cldr_place", "is_title_case", "place_name"]
