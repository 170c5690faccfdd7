"""The pages' own words in the reader's language: gettext catalogues, CLDR dates and plurals.

Messages are marked in the templates (``_()``, ``ngettext()``) and in this module; their
translations live in ``syndicate/publish/locale/<lang>/LC_MESSAGES/syndicate.po``, compiled
to ``.mo`` by ``make catalogs`` (Babel) and shipped compiled with the package, so nothing
is compiled while publishing. A language without a catalogue gets English words; dates,
numbers and plural rules come from CLDR (Babel) for every language Babel knows.

:func:`words` gives a language's :class:`Words`: what a template needs to say things in it.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from syndicate.models import primary

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "syndicate"


def _locale_name(language: str) -> str:
    """The Babel locale for a BCP 47 tag ("pt-BR" -> "pt_BR"), or "en" when Babel has none."""
    from babel import Locale, UnknownLocaleError

    for candidate in (language.replace("-", "_"), primary(language)):
        try:
            return str(Locale.parse(candidate))
        except (UnknownLocaleError, ValueError):
            continue
    return "en"


@lru_cache(maxsize=64)
def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled catalogue for ``language`` (its region's, else its language's), or
    English (the messages themselves) when there is none."""
    name = _locale_name(language)
    candidates = list(dict.fromkeys([name, name.split("_")[0]]))
    try:
        return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=candidates)
    except OSError:
        return gettext.NullTranslations()


@dataclass(frozen=True)
class Words:
    """What templates need to write in one language."""

    language: str

    @property
    def _catalogue(self) -> gettext.NullTranslations:
        return catalogue(self.language)

    def gettext(self, message: str, **values: object) -> str:
        text = self._catalogue.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = self._catalogue.ngettext(singular, plural, n)
        return text % {"num": n, **values}

    def date(self, value: datetime) -> str:
        """A date as the language writes it in full (CLDR's long format)."""
        from babel.dates import format_date

        return str(format_date(value.date(), format="long", locale=_locale_name(self.language)))

    def percent(self, value: float) -> str:
        from babel.numbers import format_percent

        return str(format_percent(value, locale=_locale_name(self.language)))

    def language_name(self, code: str) -> str:
        """``code``'s name in this language ("en" in Spanish: "inglés"), from CLDR."""
        from babel import Locale, UnknownLocaleError

        try:
            name = Locale.parse(_locale_name(self.language)).languages.get(primary(code))
        except (UnknownLocaleError, ValueError):
            name = None
        return str(name) if name else code

    @property
    def translated(self) -> bool:
        """Whether this language has a catalogue of its own (else the words are English)."""
        return type(self._catalogue) is not gettext.NullTranslations


@lru_cache(maxsize=64)
def words(language: str) -> Words:
    return Words(language)


def describe_model(model: str) -> str:
    """A model label as readers read it: "apertium:eng-spa@apertium-eng-spa=0.8.1-2" ->
    "Apertium eng-spa (apertium-eng-spa 0.8.1-2)", "argos:en-es@1.9" -> "Argos Translate
    en-es 1.9"; a pivot route joins its legs with " + "."""
    out = []
    for leg in model.split(" + "):
        engine, _, rest = leg.partition(":")
        pair, _, version = rest.partition("@")
        if engine == "apertium":
            package = version.replace("=", " ") if version and version != "unknown" else ""
            out.append(f"Apertium {pair}" + (f" ({package})" if package else ""))
        elif engine == "argos":
            out.append(f"Argos Translate {pair}" + (f" {version}" if version else ""))
        else:
            out.append(leg)
    return " + ".join(out)


def engine_iri(tag_authority: str, model: str) -> str:
    """The IRI that names a model in ITS 2.0 annotations (``its-annotators-ref``): a tag
    URI (RFC 4151) under the site's host, since engines publish none of their own."""
    from urllib.parse import quote

    return f"tag:{tag_authority},2026:mt/{quote(model, safe=':@=.-_+')}"


__all__ = ["DOMAIN", "LOCALE_DIR", "Words", "catalogue", "describe_model", "engine_iri", "words"]
