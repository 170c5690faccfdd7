"""Numbers, money, percentages and clock times: never changed in value, written as the
target language writes them.

Engines get these wrong in ways that change what a reader understands: Apertium turns
"$12.9bn" into "12.9 billones de dólares" (a Spanish *billón* is 10^12, a thousand times
too much), "12:21 AM" into "12:21 SOY", "15 per cent" into "15 por céntimo", and leaves
"3,500" and "7.50" in English notation. So:

- :func:`number_terms` finds money amounts, numbers with a scale word (bn, billion, m,
  million, ...), percentages and clock times in a source segment and gives each its
  target-language form, built from CLDR through Babel: the compact long number forms
  ("12,9 mil millones", "12,9 miliardoj"), the percent format ("15 %"), the short time
  format ("0:21", or "12:21 AM" where the language keeps a.m./p.m.); money names its
  currency in words where we know the language's words, else CLDR's currency format.
  These go to the engine as protected terms, so it never sees them.
- :func:`localise` rewrites the plain numbers an engine copied through ("3,500",
  "7.50") with the target's separators ("3.500", "7,50").
- :func:`numbers_agree` compares the values of a source segment and its translation
  (scale words, times and separators understood on both sides): a translation whose
  numbers differ is flagged.

Source-side patterns exist for English (the language of our sources so far); other
source languages get the check and the separators, read with their CLDR symbols.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import time
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from syndicate.models import Lang, primary

# NUMBERS_REVISION (syndicate.translate.revisions): bump it when what these functions
# produce changes; translations made by an older revision are redone.

_SCALES_EN = {
    "k": 3,
    "thousand": 3,
    "m": 6,
    "mn": 6,
    "mln": 6,
    "million": 6,
    "millions": 6,
    "bn": 9,
    "b": 9,
    "billion": 9,
    "billions": 9,
    "tn": 12,
    "trillion": 12,
    "trillions": 12,
}
_SYMBOLS = {"$": "USD", "US$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY"}
_CURRENCY_WORDS_EN = {
    "dollar": "USD",
    "dollars": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "yen": "JPY",
}
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONEY = re.compile(
    r"(?<![\w$£€¥])(?P<cur>US\$|[$£€¥])\s?(?P<num>" + _NUM + r")"
    r"(?:\s?(?P<scale>bn|mn|mln|tn|[kmb]|thousand|million|billion|trillion)(?![\w]))?",
)
_SCALED = re.compile(
    r"(?<![\w.,])(?P<num>" + _NUM + r")\s(?P<scale>thousand|million|billion|trillion)(?![\w])"
    r"(?:\s(?P<cur>dollars|euros|pounds|yen)(?![\w]))?",
)
_PERCENT = re.compile(r"(?<![\w.,])(?P<num>" + _NUM + r")\s?(?P<sign>%|per\s?cent(?![\w])|percent(?![\w]))")
_CLOCK = re.compile(
    r"(?<![\w:.])(?:(?P<h0>\d{1,2})(?::(?P<m0>\d{2}))?\s?[-–]\s?)?"  # the start of a range: "10:00-11:00 pm"
    r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s?"
    # "a.m." takes its last point; "am" leaves a point after it to the sentence.
    r"(?P<ap>[AaPp])(?:\.\s?[Mm]\.(?!\w)|\s?[Mm](?![\w.])|\s?[Mm](?=\.(?:\s|$)))",
)
_ZONE_AFTER = re.compile(r"\s?(?:GMT|UTC|BST|CET|CEST|EST|EDT|CST|CDT|PST|PDT|ET|PT|hrs?|h)\b")
#: Plain numbers with a group separator or a decimal part (not years, not versions).
_PLAIN_EN = re.compile(r"(?<![\w.,:/-])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+)(?![\w]|[.,]\d)")

#: A currency's name per language, singular and plural, where news writes the word.
_CURRENCY_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "es": {"USD": ("dólar", "dólares"), "EUR": ("euro", "euros"), "GBP": ("libra", "libras"), "JPY": ("yen", "yenes")},
    "ca": {"USD": ("dòlar", "dòlars"), "EUR": ("euro", "euros"), "GBP": ("lliura", "lliures"), "JPY": ("ien", "iens")},
    "gl": {"USD": ("dólar", "dólares"), "EUR": ("euro", "euros"), "GBP": ("libra", "libras"), "JPY": ("ien", "iens")},
    "pt": {"USD": ("dólar", "dólares"), "EUR": ("euro", "euros"), "GBP": ("libra", "libras"), "JPY": ("iene", "ienes")},
    "fr": {"USD": ("dollar", "dollars"), "EUR": ("euro", "euros"), "GBP": ("livre", "livres"), "JPY": ("yen", "yens")},
    "it": {
        "USD": ("dollaro", "dollari"),
        "EUR": ("euro", "euro"),
        "GBP": ("sterlina", "sterline"),
        "JPY": ("yen", "yen"),
    },
    "eo": {"USD": ("dolaro", "dolaroj"), "EUR": ("eŭro", "eŭroj"), "GBP": ("pundo", "pundoj"), "JPY": ("eno", "enoj")},
    "de": {"USD": ("Dollar", "Dollar"), "EUR": ("Euro", "Euro"), "GBP": ("Pfund", "Pfund"), "JPY": ("Yen", "Yen")},
    "en": {"USD": ("dollar", "dollars"), "EUR": ("euro", "euros"), "GBP": ("pound", "pounds"), "JPY": ("yen", "yen")},
}
#: How a scaled amount names its currency: "12,9 mil millones de dólares", "12,9 miliardoj da dolaroj".
_OF = {
    "es": " de ",
    "ca": " de ",
    "gl": " de ",
    "pt": " de ",
    "fr": " de ",
    "it": " di ",
    "eo": " da ",
    "de": " ",
    "en": " ",
}


def _locale(target: Lang) -> str | None:
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(target.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        try:
            return str(Locale.parse(primary(target)))
        except (UnknownLocaleError, ValueError):
            return None


def _value(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def format_number(value: Decimal, target: Lang, decimals: int | None = None) -> str:
    """``value`` with ``target``'s separators (CLDR), its decimals kept."""
    from babel.numbers import format_decimal

    locale = _locale(target)
    if locale is None:
        return str(value)
    if decimals is not None:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return str(format_decimal(value, format=pattern, locale=locale, decimal_quantization=False))
    return str(format_decimal(value, locale=locale, decimal_quantization=False))


def _scaled(value: Decimal, exponent: int, decimals: int, target: Lang) -> str:
    """A number and its scale word in ``target`` ("12,9 mil millones"), value kept exactly."""
    from babel.numbers import format_compact_decimal

    locale = _locale(target)
    whole = value * (Decimal(10) ** exponent)
    if locale is not None:
        for digits in range(decimals, decimals + 4):
            text = str(format_compact_decimal(whole, format_type="long", locale=locale, fraction_digits=digits))
            if parse_values(text, target) == [whole]:
                return text
    return format_number(whole, target)


def _money(value: Decimal, exponent: int, decimals: int, code: str, target: Lang) -> str:
    from babel.numbers import format_currency

    words = _CURRENCY_WORDS.get(primary(target), {}).get(code)
    if words is not None:
        one, many = words
        if exponent:
            return _scaled(value, exponent, decimals, target) + _OF.get(primary(target), " ") + many
        name = one if value == 1 else many
        return f"{format_number(value, target, decimals)} {name}"
    locale = _locale(target)
    whole = value * (Decimal(10) ** exponent)
    if locale is None:
        return f"{whole} {code}"
    return str(format_currency(whole, code, locale=locale, currency_digits=False, decimal_quantization=False))


def _percent(value: Decimal, decimals: int, target: Lang) -> str:
    from babel.numbers import format_percent

    locale = _locale(target)
    if locale is None:
        return f"{value}%"
    pattern = None
    if decimals:
        from babel import Locale

        base = Locale.parse(locale).percent_formats[None].pattern
        pattern = base.replace("#,##0", "#,##0." + "0" * decimals, 1)
    return str(format_percent(value / 100, format=pattern, locale=locale, decimal_quantization=False))


def _clock(hour: int, minute: int, pm: bool, target: Lang) -> str | None:
    from babel.dates import format_time

    if not 1 <= hour <= 12 or not 0 <= minute <= 59:
        return None
    hour = hour % 12 + (12 if pm else 0)
    locale = _locale(target)
    if locale is None:
        return None
    return str(format_time(time(hour, minute), format="short", locale=locale))


def number_terms(segment: str, source: Lang, target: Lang) -> dict[str, str]:
    """Money amounts, scaled numbers, percentages and clock times of ``segment``, each
    mapped to its form in ``target`` (see the module docs). Empty for a source language
    without patterns, or when the text has none."""
    if primary(source) != "en" or not any(c.isdigit() for c in segment):
        return {}
    out: dict[str, str] = {}
    taken: list[tuple[int, int]] = []

    def free(match: re.Match[str]) -> bool:
        start, end = match.span()
        if any(a < end and start < b for a, b in taken):
            return False
        taken.append((start, end))
        return True

    for match in _MONEY.finditer(segment):
        num, scale = match.group("num"), (match.group("scale") or "").lower()
        if scale == "m" and not match.group("cur"):
            continue
        try:
            value = _value(num)
        except InvalidOperation:
            continue
        if free(match):
            out[match.group(0)] = _money(
                value, _SCALES_EN.get(scale, 0), _decimals(num), _SYMBOLS[match.group("cur")], target
            )
    for match in _SCALED.finditer(segment):
        num = match.group("num")
        try:
            value = _value(num)
        except InvalidOperation:
            continue
        if not free(match):
            continue
        exponent = _SCALES_EN[match.group("scale").lower()]
        currency = match.group("cur")
        if currency:
            out[match.group(0)] = _money(value, exponent, _decimals(num), _CURRENCY_WORDS_EN[currency.lower()], target)
        elif exponent >= 9:  # "billion" is where engines go wrong (a Spanish billón is 10^12)
            out[match.group(0)] = _scaled(value, exponent, _decimals(num), target)
        else:
            taken.pop()
    for match in _PERCENT.finditer(segment):
        num = match.group("num")
        try:
            value = _value(num)
        except InvalidOperation:
            continue
        if free(match):
            out[match.group(0)] = _percent(value, _decimals(num), target)
    for match in _CLOCK.finditer(segment):
        pm = match.group("ap").lower() == "p"
        text = _clock(int(match.group("h")), int(match.group("m") or 0), pm, target)
        if match.group("h0") and text is not None:
            start = _clock(int(match.group("h0")), int(match.group("m0") or 0), pm, target)
            text = f"{start}–{text}" if start is not None else None
        if text is not None and free(match):
            key = match.group(0)
            if key.endswith(".") and _ends_sentence(segment, match.end()):
                key = key[:-1]  # "opened at 10 a.m. The building": the point is also the sentence's
            out[key] = text
    return out


#: Capitalised words that follow a clock time inside a sentence ("7 a.m. Friday", "8
#: p.m. Eastern"); any other capital after "a.m." starts a new sentence.
_AFTER_TIME = frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday Mon Tue Tues Wed Thu Thurs Fri Sat Sun "
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "Eastern Central Mountain Pacific Atlantic Greenwich British Moscow GMT UTC BST CET CEST EST EDT CST CDT "
    "MST MDT PST PDT ET CT MT PT local".split()
)
_NEXT_WORD = re.compile(r"\s+[\"“‘'(]?([A-Z][\w]*)")


def _ends_sentence(segment: str, end: int) -> bool:
    """Whether the point that ends "a.m." at ``end`` also ends the sentence: nothing but
    closing marks after it, or a capitalised word that does not belong to the time."""
    rest = segment[end:]
    if not rest.strip(" \t\n\"'”’)]»"):
        return True
    following = _NEXT_WORD.match(rest)
    return following is not None and following.group(1) not in _AFTER_TIME


def localise(output: str, source_segment: str, source: Lang, target: Lang) -> str:
    """``output`` with the plain numbers it copied from the English source ("3,500",
    "7.50") written with ``target``'s separators."""
    if primary(source) != "en" or primary(target) == "en" or not any(c.isdigit() for c in output):
        return output
    wanted = {}
    for match in _PLAIN_EN.finditer(source_segment):
        head = source_segment[: match.start()].rstrip()
        before = head.rsplit(" ", 1)[-1]
        named = (before[:1].isupper() and " " in head) or any(c.isupper() for c in before[1:])
        if named or before.lower() in ("v", "version"):
            continue  # "iOS 17.2", "Web 2.0": versions, not quantities
        if _ZONE_AFTER.match(source_segment, match.end()):
            continue  # "12.00 GMT": a time written with a point
        text = match.group(1)
        try:
            wanted[text] = format_number(_value(text), target, _decimals(text))
        except InvalidOperation:
            continue
    if not wanted:
        return output
    pattern = re.compile(
        r"(?<![\w.,])(" + "|".join(re.escape(t) for t in sorted(wanted, key=len, reverse=True)) + r")(?![\w]|[.,]\d)"
    )
    return pattern.sub(lambda m: wanted[m.group(1)], output)


# -- the check --------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _symbols(language: str) -> tuple[str, str]:
    """(group, decimal) symbols of a language (CLDR)."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    locale = _locale(Lang(language)) or "en"
    return get_group_symbol(locale), get_decimal_symbol(locale)


@lru_cache(maxsize=64)
def _scale_words(language: str) -> tuple[tuple[str, int], ...]:
    """Scale words of a language with their powers of ten, longest first: CLDR's long
    compact forms ("mil millones" 9, "millones" 6), and English's abbreviations."""
    from babel import Locale

    words: dict[str, int] = {}
    if primary(Lang(language)) == "en":
        words.update(_SCALES_EN)
    locale = _locale(Lang(language))
    if locale is not None:
        formats = Locale.parse(locale).compact_decimal_formats.get("long", {})
        for forms in formats.values():  # per plural form: {magnitude: pattern}
            for magnitude, pattern in forms.items():
                exponent = len(str(magnitude)) - 1
                zeros = len(re.findall(r"0", pattern.pattern))
                word = re.sub(r"[0#.,\s\u00a0]+", " ", pattern.pattern).strip()
                if word and zeros:
                    words.setdefault(word.lower(), exponent - (zeros - 1))
    return tuple(sorted(words.items(), key=lambda kv: -len(kv[0])))


_TIME_VALUE = re.compile(
    r"(?<![\w:.,])(\d{1,2})(?:[:.h](\d{2}))?\s?([AaPp])\.?\s?[Mm](?:\.|(?![\w.]))"
    r"|(?<![\w:.,])(\d{1,2}):(\d{2})(?![\w:])"
)


def parse_values(text: str, language: Lang) -> list[Decimal]:
    """The quantities written in ``text``: numbers with ``language``'s separators, times
    as minutes after midnight, a number followed by a scale word multiplied out."""
    group, decimal = _symbols(primary(language))
    values: list[Decimal] = []
    rest = text
    for match in _TIME_VALUE.finditer(text):
        if match.group(3):
            hour, minute, ap = int(match.group(1)), int(match.group(2) or 0), match.group(3)
        else:
            hour, minute, ap = int(match.group(4)), int(match.group(5)), None
        if hour > 24 or minute > 59:
            continue
        if ap:
            hour = hour % 12 + (12 if ap.lower() == "p" else 0)
        values.append(Decimal(hour * 60 + minute) * -1)  # negative: a time, not a quantity
        rest = rest.replace(match.group(0), " ", 1)
    groups = {group, "\u00a0", "\u202f"} | ({" "} if group in ("\u00a0", "\u202f") else set())
    group_class = "".join(re.escape(g) for g in groups)
    number = re.compile(
        rf"(?<![\w{re.escape(decimal)}])(\d{{1,3}}(?:[{group_class}]\d{{3}})+(?:{re.escape(decimal)}\d+)?|\d+(?:{re.escape(decimal)}\d+)?)(?!\d|{re.escape(decimal)}\d)"
    )
    scales = _scale_words(primary(language))
    for match in number.finditer(rest):
        raw = match.group(1)
        for g in groups:
            raw = raw.replace(g, "")
        try:
            value = Decimal(raw.replace(decimal, "."))
        except InvalidOperation:
            continue
        after = rest[match.end() : match.end() + 24].lstrip().lower()
        for word, exponent in scales:
            if after.startswith(word) and not after[len(word) : len(word) + 1].isalpha():
                value *= Decimal(10) ** exponent
                break
        values.append(value.normalize())
    return values


def numbers_agree(source_segment: str, output: str, source: Lang, target: Lang) -> bool:
    """Whether ``output`` says the same quantities as ``source_segment`` (every number of
    the source is in the output; numbers spelled out in words are not compared)."""
    if not any(c.isdigit() for c in source_segment):
        return True
    wanted = Counter(v.normalize() for v in parse_values(source_segment, source))
    got = Counter(v.normalize() for v in parse_values(output, target))
    return not (wanted - got)
