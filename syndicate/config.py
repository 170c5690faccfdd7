"""config.toml -> frozen, validated :class:`Settings`.

Every problem is reported at once with its key path and the bad value; nothing here
exits or prints (only ``cli.py`` does). Checks that compare fields run on the raw
document, so they are reported beside any field's own problem.

This is the bottom layer: it imports no stage. Each source type and each translation
engine declares its settings class here and registers it in :data:`SOURCE_TYPES` or
:data:`ENGINE_TYPES`, the only lists of their names; a settings class names its
implementation by import path (``"syndicate.sources.folder:FolderSource"``), which the
stage's factory imports when it makes one. Adding a source type or an engine is one
settings class, one registry entry and the implementation module.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin
from urllib.parse import SplitResult, parse_qs, urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from syndicate.errors import ConfigError
from syndicate.models import Lang, lang, public_url

DEFAULT_CONFIG = Path("config.toml")

# BCP 47, simplified: primary language subtag plus optional subtags.
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")

#: The default attribution pattern covers "[Source attribution: Rossiyskaya Gazeta]".
#: A pattern must define the named groups ``label`` and ``source``.
DEFAULT_ATTRIBUTION_PATTERNS = (
    r"\[\s*(?P<label>Source attribution|Source|Attribution|Via)\s*:\s*(?P<source>[^\[\]]+?)\s*\]",
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _check_lang(value: str) -> Lang:
    code = lang(value)
    if not _LANG_RE.match(code):
        raise ValueError("not a BCP 47 language tag such as 'es' or 'pt-br'")
    return code


class SiteSettings(_Frozen):
    """``[site]``: what the published feeds say about themselves."""

    #: The site's name, in every feed and page.
    title: str = Field(min_length=1)
    #: Where `feeds/` and `translations/` are served: published links start with it.
    base_url: str
    #: The language of sources that do not say (BCP 47).
    source_language: Lang = Lang("en")
    #: The feeds' subtitle.
    description: str = ""
    #: The feeds' author, when an article names none.
    author: str = ""
    #: The feeds' copyright line.
    rights: str = ""

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an absolute http(s) URL such as 'https://news.example.org/'")
        parts = urlsplit(value)
        if parts.query or parts.fragment or "?" in value or "#" in value:
            # Published links are base_url + a path: a query or fragment would end up in the
            # middle of every one of them ("...?ref=x#top/translations/es/").
            raise ValueError("must have no query (?...) or fragment (#...): every published link starts with it")
        if parts.username or parts.password:
            raise ValueError("must not hold a user name or password: every published link starts with it")
        return value if value.endswith("/") else value + "/"

    @field_validator("source_language", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> Lang:
        if not isinstance(value, str):
            raise ValueError("must be a language tag string")
        return _check_lang(value)


class OutputSettings(_Frozen):
    """``[output]``: where files go. Relative paths are relative to the config file."""

    #: Where the per-language feeds, archives, feed index and OPML are written.
    feeds_dir: Path = Path("feeds")
    #: Where the translated pages and each language's index are written.
    translations_dir: Path = Path("translations")
    #: The SQLite store and other state (never inside an output folder).
    state_dir: Path = Path(".syndicate")
    #: Where the language detector's model (a 97 MB file made once) is kept, shared by
    #: every state folder and process; unset: ``$XDG_CACHE_HOME/syndicate`` (``~/.cache/syndicate``).
    cache_dir: Path | None = None
    #: Entries in each language's subscription feed; older ones move to RFC 5005
    #: archive pages of this many entries (see the docs, "Feeds").
    feed_size: Annotated[int, Field(ge=1, le=10_000)] = 50

    @field_validator("feeds_dir", "translations_dir", "state_dir", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        # Path("") is Path("."): an empty value would silently mean the config's folder.
        if isinstance(value, str) and not value.strip():
            raise ValueError(
                "must not be empty (it would mean the config file's own folder); name a folder such as 'feeds'"
            )
        return value


def load_implementation(path: str) -> Any:
    """The object a settings class names as ``"package.module:Name"``, imported now.

    Stage factories call this when they make a source or an engine, so config itself
    never imports a stage.
    """
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class EngineSettings(_Frozen):
    """What every ``[translate.<engine>]`` table shares, and what the rest of the code asks
    of an engine. Each engine subclasses it with its own options and is registered in
    :data:`ENGINE_TYPES` (or by :func:`register_engine`): ``models list``, the install
    hints, the cluster's thread limits and :func:`syndicate.translate.make_engine` read it."""

    #: The engine's name (the registry key); set from the table's name, never written.
    engine: str
    #: ``"module:Class"`` of the :class:`~syndicate.translate.base.Translator`.
    implementation: ClassVar[str]
    #: What people call it (``syndicate models list``).
    label: ClassVar[str] = ""
    #: Keys that older config files put in ``[translate]`` itself -> this table's key.
    legacy_keys: ClassVar[Mapping[str, str]] = {}
    #: ``"module:function"`` naming the system packages that serve language pairs,
    #: ``(pairs, pivot language) -> (package names, pairs none serves)``, for
    #: ``syndicate models packages``; "" when the engine needs none.
    system_packages: ClassVar[str] = ""

    def options(self, resolve: Callable[[Path], Path]) -> dict[str, Any]:
        """Keyword arguments for the implementation's constructor (paths resolved)."""
        return {}

    def thread_options(self, threads: int) -> dict[str, Any]:
        """Constructor arguments that hold the engine to ``threads`` native threads (a
        cluster worker child's share of the machine); {} when it starts none of its own."""
        return {}

    def install_hint(self, source: str, target: str) -> str:
        """How an operator gives this engine the pair ``source``-``target``."""
        return f"a model of the {self.engine} engine for {source}->{target}"

    def describe(self, engine: Any) -> str:
        """What ``models list`` says of a made engine beside its pairs (where its models are)."""
        return ""


class ArgosSettings(EngineSettings):
    """``[translate.argos]``: Argos Translate (OpenNMT models on CTranslate2)."""

    engine: Literal["argos"] = "argos"
    implementation: ClassVar[str] = "syndicate.translate.argos:ArgosTranslator"
    label: ClassVar[str] = "Argos Translate"
    legacy_keys: ClassVar[Mapping[str, str]] = {"beam_size": "beam_size", "argos_packages_dir": "packages_dir"}

    #: Beam width of CTranslate2's search: wider is slower and sometimes better.
    beam_size: Annotated[int, Field(ge=1, le=16)] = 4
    #: Where Argos packages live; default: Argos's own (ARGOS_PACKAGES_DIR or
    #: ~/.local/share/argos-translate/packages).
    packages_dir: Path | None = None

    def options(self, resolve: Callable[[Path], Path]) -> dict[str, Any]:
        return {"packages_dir": resolve(self.packages_dir) if self.packages_dir else None, "beam_size": self.beam_size}

    def thread_options(self, threads: int) -> dict[str, Any]:
        # One translation at a time per child, on its share of the cores.
        return {"inter_threads": 1, "intra_threads": threads}

    def install_hint(self, source: str, target: str) -> str:
        return (
            f"`syndicate models install {source} {target}` (online) or "
            f"`syndicate models install --file translate-{source}_{target}.argosmodel`"
        )

    def describe(self, engine: Any) -> str:
        return f"packages in {engine.packages_dir}"


class ApertiumSettings(EngineSettings):
    """``[translate.apertium]``: Apertium's rule-based pipelines (Debian packages)."""

    engine: Literal["apertium"] = "apertium"
    implementation: ClassVar[str] = "syndicate.translate.apertium:ApertiumTranslator"
    label: ClassVar[str] = "Apertium"
    system_packages: ClassVar[str] = "syndicate.translate.apertium:system_packages"

    def install_hint(self, source: str, target: str) -> str:
        return f"the Debian package for Apertium's {source}-{target} pair (`apt-cache search apertium-`)"

    def describe(self, engine: Any) -> str:
        return f"language pairs in {engine.modes_dir} (Debian packages apertium-*)"


#: Engine registry: the name in ``translate.engines`` and ``[translate.<name>]`` -> its
#: settings class, which carries everything the rest of the code asks of an engine (its
#: implementation, label, install hint, thread options, what ``models list`` shows). The
#: only list of engine names; :func:`register_engine` adds one at run time.
ENGINE_TYPES: dict[str, type[EngineSettings]] = {
    "argos": ArgosSettings,
    "apertium": ApertiumSettings,
}

#: A configured engine name (checked against :data:`ENGINE_TYPES` when a config loads).
EngineName = str
#: One ``[translate.<engine>]`` table's settings, of its registered class.
AnyEngineSettings = SerializeAsAny[EngineSettings]


def _registered_engine(value: str) -> str:
    """``value`` names a registered engine."""
    if value not in ENGINE_TYPES:
        raise ValueError(f"must be one of {', '.join(ENGINE_TYPES)}")
    return value


_cached_adapters: dict[tuple[str, tuple[type[BaseModel], ...]], TypeAdapter[Any]] = {}


def _adapter(shape: str, classes: tuple[type[BaseModel], ...], tag: str) -> TypeAdapter[Any]:
    """A validator for ``shape`` ("sources": a non-empty list; "engines": a table by name)
    of the registered ``classes``, picked by their ``tag`` field: built when a registry
    changed, so a type registered at run time is read like the built-in ones."""
    key = (shape, classes)
    if key not in _cached_adapters:
        one: Any = classes[0] if len(classes) == 1 else Annotated[Union[classes], Field(discriminator=tag)]  # noqa: UP007
        whole: Any = Annotated[tuple[one, ...], Field(min_length=1)] if shape == "sources" else dict[str, one]
        _cached_adapters[key] = TypeAdapter(whole)
    return _cached_adapters[key]


class LanguageQuality(_Frozen):
    """What publishing does with a language's translations it cannot trust."""

    #: Confidence (0 to 1) under which a translation is low: the engines' own confidence
    #: lowered by what the checks found (see the docs, "What readers read"). 0: none is.
    threshold: float = Field(default=0.0, ge=0.0, le=1.0)
    #: "mark": published with a visible notice and marked in the feeds; "hold": not
    #: published until a better translation is made (a new engine or model, a correction).
    action: Literal["mark", "hold"] = "mark"


class QualitySettings(LanguageQuality):
    """``[translate.quality]``: the threshold and action for every language, and per
    language in ``[translate.quality.languages.<lang>]``."""

    #: Per target language, its own `threshold` and `action` ([translate.quality.languages.eo]).
    languages: dict[Lang, LanguageQuality] = Field(default_factory=dict)

    @field_validator("languages", mode="before")
    @classmethod
    def _languages(cls, value: Any) -> dict[Lang, Any]:
        if not isinstance(value, dict):
            raise ValueError("must be tables such as [translate.quality.languages.eo] threshold = 0.7")
        return {_check_lang(str(code)): table for code, table in value.items()}

    def of(self, language: str) -> LanguageQuality:
        """The rule for ``language`` (its own table, else the general one)."""
        return self.languages.get(lang(language)) or LanguageQuality(threshold=self.threshold, action=self.action)


class TranslateSettings(_Frozen):
    """``[translate]``: target languages and the engines that serve them.

    Each engine's options are its own table, ``[translate.argos]``; the keys older files
    gave in ``[translate]`` itself (``beam_size``, ``argos_packages_dir``) still load.
    """

    #: The target languages (BCP 47): one feed set and page folder each.
    languages: tuple[Lang, ...] = Field(min_length=1)
    #: Tried in this order for each language pair (default: every registered engine).
    engines: tuple[Annotated[EngineName, AfterValidator(_registered_engine)], ...] = Field(
        default_factory=lambda: tuple(ENGINE_TYPES)
    )
    #: Every registered engine's settings, by name (defaults where no table is given).
    engine_settings: dict[str, AnyEngineSettings] = Field(default_factory=dict)
    #: Terms never translated (names of outlets, brands) wherever they occur.
    keep_verbatim: tuple[str, ...] = ()
    #: Per target language: source term -> required translation ([translate.glossary.es]).
    glossary: dict[Lang, dict[str, str]] = Field(default_factory=dict)
    #: Translate through this language when no engine has a pair directly ("" disables).
    pivot_language: str = "en"
    #: Detect the language of articles whose source does not declare one.
    detect_language: bool = True
    #: Target languages whose pages also show the original beside the translation.
    bilingual: tuple[Lang, ...] = ()
    #: What is done with translations the engines and checks cannot vouch for.
    quality: QualitySettings = QualitySettings()
    #: Per target language, when editors review ([translate.review] es = "before"):
    #: "after" (the default) publishes machine translations at once and editors correct
    #: them later; "before" publishes an entry only once an editor approved it.
    review: dict[Lang, Literal["after", "before"]] = Field(default_factory=dict)

    def review_mode(self, language: str) -> str:
        """ "before" or "after" for ``language``."""
        return self.review.get(lang(language), "after")

    @field_validator("review", mode="before")
    @classmethod
    def _review(cls, value: Any) -> dict[Lang, str]:
        if not isinstance(value, dict):
            raise ValueError('must be a table such as [translate.review] es = "before"')
        out: dict[Lang, str] = {}
        for code, mode in value.items():
            if mode not in ("after", "before"):
                raise ValueError(
                    f'review.{code} must be "after" (publish, then review) or "before" '
                    f"(publish once approved), not {mode!r}"
                )
            out[_check_lang(str(code))] = mode
        return out

    @model_validator(mode="before")
    @classmethod
    def _engine_tables(cls, data: Any) -> Any:
        """``[translate.<engine>]`` tables and their legacy keys -> ``engine_settings``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        data.pop("engine_settings", None)  # not a key of config.toml: only tables are
        tables: dict[str, Any] = {}
        for name, kind in ENGINE_TYPES.items():
            table = data.pop(name, {})
            legacy = {new: data.pop(old) for old, new in kind.legacy_keys.items() if old in data}
            # Both spellings of one key are a cross-field problem (reported by parse_settings).
            tables[name] = {**legacy, **table, "engine": name} if isinstance(table, dict) else table
        data["engine_settings"] = tables
        return data

    @field_validator("engine_settings", mode="wrap")
    @classmethod
    def _engine_classes(cls, value: Any, handler: Any, info: ValidationInfo) -> dict[str, EngineSettings]:
        """Each table read by its engine's registered settings class."""
        adapter = _adapter("engines", tuple(ENGINE_TYPES.values()), "engine")
        return dict(adapter.validate_python(value, context=info.context))

    def engine(self, name: str) -> EngineSettings:
        """The settings of the engine registered as ``name``."""
        return self.engine_settings[name]

    @property
    def beam_size(self) -> int:
        """Argos's beam size (``translate.argos.beam_size``), for callers of the old key."""
        return self._argos.beam_size

    @property
    def argos_packages_dir(self) -> Path | None:
        """Argos's packages folder (``translate.argos.packages_dir``), for callers of the old key."""
        return self._argos.packages_dir

    @property
    def _argos(self) -> ArgosSettings:
        settings = self.engine_settings["argos"]
        assert isinstance(settings, ArgosSettings)
        return settings

    @field_validator("glossary", mode="before")
    @classmethod
    def _glossary(cls, value: Any) -> dict[Lang, dict[str, str]]:
        if not isinstance(value, dict):
            raise ValueError(
                'must be tables such as [translate.glossary.es] "Security Council" = "Consejo de Seguridad"'
            )
        out: dict[Lang, dict[str, str]] = {}
        for code, terms in value.items():
            if not isinstance(terms, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip() for k, v in terms.items()
            ):
                raise ValueError(f"glossary.{code} must map non-empty source terms to non-empty translations")
            out[_check_lang(code)] = dict(terms)
        return out

    @field_validator("languages", mode="before")
    @classmethod
    def _langs(cls, value: Any) -> tuple[Lang, ...]:
        if not isinstance(value, list | tuple):
            raise ValueError('must be a list of language tags, e.g. ["es", "ca"]')
        out: list[Lang] = []
        bad: list[str] = []
        for item in value:
            try:
                code = _check_lang(str(item))
            except ValueError:
                bad.append(repr(item))
                continue
            if code not in out:
                out.append(code)
        if bad:
            raise ValueError(f"not BCP 47 language tags: {', '.join(bad)}")
        return tuple(out)

    @field_validator("bilingual", mode="before")
    @classmethod
    def _bilingual(cls, value: Any) -> tuple[Lang, ...]:
        # Whether each is in translate.languages is a cross-field check (_bilingual_problems).
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
            raise ValueError('must be a list of target language codes, e.g. ["es"]')
        return tuple(dict.fromkeys(lang(item) for item in value))

    @field_validator("engines")
    @classmethod
    def _engines(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError(f"list at least one engine of {list(ENGINE_TYPES)}")
        if len(set(value)) != len(value):
            raise ValueError("lists an engine twice")
        return value

    @field_validator("keep_verbatim")
    @classmethod
    def _verbatim(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not term.strip() for term in value):
            raise ValueError("contains an empty term")
        return value


class ExtractSettings(_Frozen):
    """``[extract]``: how attribution lines and page chrome are recognised."""

    #: Regular expressions (the `regex` engine, time-bounded) with named groups `label` and `source` that
    #: find attribution lines such as "[Source attribution: X]".
    attribution_patterns: tuple[str, ...] = DEFAULT_ATTRIBUTION_PATTERNS
    #: Lines of page chrome dropped from plain-text articles ("Write a Comment", "Share this article", ...).
    chrome_lines: tuple[str, ...] = (
        "Write a Comment",
        "Leave a Comment",
        "Leave a Reply",
        "Share this article",
        "Related Articles",
    )

    @field_validator("attribution_patterns")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
            if not {"label", "source"} <= set(compiled.groupindex):
                raise ValueError(f"{pattern!r} must define the named groups (?P<label>...) and (?P<source>...)")
            if (runaway := _backtracks(pattern)) is not None:
                raise ValueError(
                    f"{pattern!r} backtracks catastrophically (it ran past {PROBE_SECONDS:g} s on "
                    f"{runaway!r}); rewrite it without overlapping repeats such as (a|aa)+"
                )
        return value


#: How many terms one ``include`` or ``exclude`` list may have (each is tried on every article).
MAX_FILTER_TERMS = 500

#: How long a configured pattern may take on one probe text when the config is loaded.
PROBE_SECONDS = 0.05


def _backtracks(pattern: str) -> str | None:
    """A short text on which ``pattern`` runs away (exponential backtracking), or None.

    Probes are runs of each character the pattern names literally, of a space, a letter
    and a digit, each with and without a character that makes the match fail at the end;
    a pattern that survives them can still explode on some text, which the run-time bound
    (extract.common.PATTERN_SECONDS) stops, naming the item."""
    import regex

    compiled = regex.compile(pattern, regex.V0)
    literal = [
        c
        for c in dict.fromkeys(re.sub(r"\\.|\(\?P<\w+>", "", pattern))
        if c.isprintable() and c not in "()[]{}|*+?^$.\\"
    ]
    for char in [*literal[:12], " ", "a", "1"]:
        for text in (char * 40, char * 40 + "\x00", (char + " ") * 25):
            try:
                compiled.sub("", text, timeout=PROBE_SECONDS)
            except TimeoutError:
                return text
    return None


_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


#: No duration in config.toml is meant to be longer than a year; a longer one is a typo
#: (and past about 2.7 million years timedelta itself overflows).
MAX_DURATION = timedelta(days=365)


def parse_duration(value: Any) -> timedelta:
    """``"30s"``, ``"15m"``, ``"1h"``, ``"1d"``, ``"250ms"`` (or a number of seconds) -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, float) and math.isnan(value):  # TOML's nan: no duration at all
        raise ValueError('must be a duration such as "30s", "15m", "1h" or "1d", not nan')
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Compared before float(): a huge TOML integer would overflow the conversion.
        seconds = float(value) if value <= MAX_DURATION.total_seconds() else math.inf
    elif isinstance(value, str) and (match := _DURATION_RE.match(value.strip())):
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    else:
        raise ValueError('must be a duration such as "30s", "15m", "1h" or "1d"')
    if math.isnan(seconds):
        raise ValueError('must be a duration such as "30s", "15m", "1h" or "1d"')
    if seconds < 0:
        raise ValueError("must not be negative")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"must be at most {MAX_DURATION.days}d")
    return timedelta(seconds=seconds)


#: A duration written as ``"15m"`` in config.toml.
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

#: How often a source is polled when it gives neither ``interval`` nor ``cron``.
DEFAULT_INTERVAL = timedelta(minutes=15)


#: The longest a single HTTP request may take (``timeout``).
MAX_TIMEOUT = timedelta(hours=1)
#: The largest response a source may accept (``max_bytes``): 1 GB, read into memory.
MAX_RESPONSE_BYTES = 1_000_000_000


def _check_http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
        raise ValueError("must be an absolute http(s) URL such as 'https://example.org/feed.xml'")
    return value


class _SourceBase(_Frozen):
    """What every source has: a name, a language and a schedule for ``syndicate run``.

    Each source type subclasses it with ``type: Literal["<name>"]`` and its own keys,
    names its implementation in ``implementation`` and is registered in
    :data:`SOURCE_TYPES`.
    """

    #: ``"module:Class"`` of the source; made with ``(settings, root, **options)``.
    implementation: ClassVar[str]

    #: The source's name: letters, digits, `_.-`; unique.
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    #: The language of this source's articles; unset: their own declaration, else detection, else
    #: site.source_language.
    language: Lang | None = None
    #: The target languages this source's articles go into (each one of ``[translate]
    #: languages``); unset: all of them.
    languages: tuple[Lang, ...] | None = None
    #: Publish only the articles whose title or text has one of these terms: words or phrases matched as
    #: whole words in any case, or regular expressions written `"re:..."` (time-bounded); empty: every article.
    include: tuple[str, ...] = ()
    #: Leave out the articles whose title or text has any of these terms (written as for ``include``, which
    #: it overrides).
    exclude: tuple[str, ...] = ()
    #: Translate only the titles: the text is published as it is, marked as being in the original language.
    title_only: bool = False
    #: Poll every ``interval`` ("15m"), or at the times of a 5-field ``cron`` expression
    #: ("*/30 6-22 * * *", UTC), not both; neither means every 15 minutes.
    interval: Duration | None = None
    #: Poll at the times of this 5-field cron line (UTC) instead of an interval.
    cron: str | None = None
    #: Random delay added to each poll; default 10% of the interval (at most 5 minutes),
    #: 30 seconds for cron schedules.
    jitter: Duration | None = None

    @field_validator("language", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> Lang | None:
        return None if value is None else _check_lang(str(value))

    def page_selectors(self) -> PageSelectors | None:
        """Where this source's pages keep their parts, for extraction; None: extraction finds them."""
        return None

    @field_validator("languages", mode="before")
    @classmethod
    def _langs(cls, value: Any) -> Any:
        if value is None or not isinstance(value, list | tuple):
            return value
        return tuple(dict.fromkeys(_check_lang(str(code)) for code in value))

    @field_validator("include", "exclude")
    @classmethod
    def _terms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import regex

        from syndicate.filters import REGEX_PREFIX, term_pattern

        if len(value) > MAX_FILTER_TERMS:
            raise ValueError(f"has {len(value)} terms; at most {MAX_FILTER_TERMS} are allowed")
        for term in value:
            if not term.strip() or term.strip() == REGEX_PREFIX:
                raise ValueError("contains an empty term")
            if len(term) > 1000:
                raise ValueError(f"term {term[:40]!r}... is longer than 1000 characters")
            try:
                term_pattern(term)
            except regex.error as exc:
                raise ValueError(f"{term!r} is not a valid regular expression: {exc}") from None
            if term.startswith(REGEX_PREFIX) and (runaway := _backtracks(term[len(REGEX_PREFIX) :])) is not None:
                raise ValueError(
                    f"{term!r} backtracks catastrophically (it ran past {PROBE_SECONDS:g} s on "
                    f"{runaway!r}); rewrite it without overlapping repeats such as (a|aa)+"
                )
        return tuple(dict.fromkeys(value))

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        # Giving interval too is a cross-field check (_schedule_problems).
        if value is None:
            return None
        from syndicate.cron import (
            cron_trigger,  # a leaf; APScheduler parses it exactly as it will run
        )

        try:
            cron_trigger(value)
        except ValueError as exc:
            raise ValueError(f"not a 5-field cron expression (minute hour day month weekday): {exc}") from None
        return value

    @property
    def poll_interval(self) -> timedelta | None:
        """The interval between polls, or None for a cron schedule."""
        if self.cron is not None:
            return None
        return self.interval or DEFAULT_INTERVAL

    @property
    def poll_jitter(self) -> timedelta:
        if self.jitter is not None:
            return self.jitter
        interval = self.poll_interval
        if interval is None:
            return timedelta(seconds=30)
        return min(interval / 10, timedelta(minutes=5))


class FolderSourceSettings(_SourceBase):
    """``[[sources]] type = "folder"``: article files (.txt, .html) in a local folder."""

    type: Literal["folder"]
    implementation: ClassVar[str] = "syndicate.sources.folder:FolderSource"
    #: The folder of article files (`.txt`, `.html`; not recursive).
    path: Path
    #: Where the originals are published, if anywhere (for links to them).
    base_url: str | None = None  # where the originals are published, if anywhere


class _HttpSourceBase(_SourceBase):
    """What every source that fetches over HTTP shares: limits, retries, identity."""

    #: Whole-request limit (connect, headers and body together) for one attempt.
    timeout: Duration = timedelta(seconds=20)
    #: A response larger than this is abandoned while it streams in.
    max_bytes: int = Field(default=10_000_000, ge=1, le=MAX_RESPONSE_BYTES)
    #: Redirects followed per request.
    max_redirects: int = Field(default=5, ge=0, le=30)
    #: Further attempts after a 5xx, 429 or network error within one poll.
    retries: int = Field(default=2, ge=0, le=10)
    #: Wait before the first retry; doubles each time (jittered, at most 1 minute).
    retry_backoff: Duration = timedelta(seconds=2)
    #: Default: ``syndicate/<version> (+<site.base_url>)``, so publishers know who polls.
    user_agent: str | None = Field(default=None, min_length=1)
    #: Links found in fetched content may lead to loopback, private or link-local hosts
    #: (otherwise only when the source's own URL is on such a host).
    allow_private_addresses: bool = False

    @property
    def address(self) -> str:
        """The configured URL the source starts from."""
        raise NotImplementedError

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be more than 0s")
        if value > MAX_TIMEOUT:
            raise ValueError("must be at most 1h (a request that slow holds up the whole poll)")
        return value


class FeedSourceSettings(_HttpSourceBase):
    """``[[sources]] type = "feed"``: an RSS or Atom feed; entries without full content are
    completed from their linked pages."""

    type: Literal["feed"]
    implementation: ClassVar[str] = "syndicate.sources.feed:FeedSource"
    #: The RSS or Atom feed's URL.
    url: str

    @property
    def address(self) -> str:
        return self.url

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_http_url(value)


class PageSelectors(_Frozen):
    """``[sources.selectors]``: where a page keeps its parts. CSS selectors (lxml's
    cssselect); a selector that starts with ``xpath:`` is XPath instead."""

    title: str | None = None
    body: str | None = None
    attribution: str | None = None
    prev: str | None = None
    next: str | None = None

    @field_validator("title", "body", "attribution", "prev", "next")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from syndicate.selectors import compile_selector  # a leaf: lxml only

        try:
            compile_selector(value)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        return value


class PagesSourceSettings(_HttpSourceBase):
    """``[[sources]] type = "pages"``: article pages linked by previous/next links."""

    type: Literal["pages"]
    implementation: ClassVar[str] = "syndicate.sources.page:PageSource"
    #: The newest article page; older ones are reached through its previous links.
    start_url: str
    #: How many older articles to fetch by following previous links (once, then kept).
    backfill: int = Field(default=10, ge=0, le=100_000)
    #: Where the site's pages keep their parts (CSS, or XPath after "xpath:"); unset: found by reading the
    #: page.
    selectors: PageSelectors | None = None

    @property
    def address(self) -> str:
        return self.start_url

    def page_selectors(self) -> PageSelectors | None:
        return self.selectors

    @field_validator("start_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_http_url(value)


class ServeSettings(_Frozen):
    """``[serve]``: ``syndicate serve`` and ``syndicate run --serve``. The URL path prefix
    comes from ``site.base_url`` (``https://x.org/news/`` serves ``/news/feeds/...``)."""

    #: The address `serve` and `run --serve` listen on (`--host`).
    host: str = Field(default="127.0.0.1", min_length=1)
    #: The port they listen on (`--port`).
    port: int = Field(default=8080, ge=1, le=65535)
    #: When set, /status, /status.json and /metrics answer any client that sends
    #: ``Authorization: Bearer <token>``; when unset, only loopback clients.
    status_token: str | None = Field(default=None, min_length=16)
    #: ``Cache-Control: max-age`` of subscription feeds and pages (full archive pages
    #: are immutable whatever this says).
    max_age: Duration = timedelta(minutes=5)


class ReviewSettings(_Frozen):
    """``[review]``: who may correct and approve translations (the review page, its API).

    Editors are named with the SHA-256 of their token (``syndicate review token NAME``
    makes one and prints the line), here or in the environment variable ``editors_env``
    (``NAME:TOKEN,NAME:TOKEN``, tokens in the clear there only). No editor: no one may
    edit over HTTP (the command line still can)."""

    #: name -> "sha256:<hex digest of the token>"
    editors: dict[str, str] = Field(default_factory=dict)
    #: An environment variable with more editors, ``NAME:TOKEN`` separated by commas.
    editors_env: str = "SYNDICATE_EDITORS"
    #: Origins (scheme://host[:port]) besides ``site.base_url``'s and the server's own
    #: that may send edits from a browser (a desk's own tool, say).
    allowed_origins: tuple[str, ...] = ()
    #: How long a sign-in on the review page lasts.
    session: Duration = timedelta(hours=12)

    @field_validator("editors", mode="before")
    @classmethod
    def _editors(cls, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise ValueError('must be a table such as [review.editors] alice = "sha256:..."')
        out: dict[str, str] = {}
        for name, digest in value.items():
            if not re.fullmatch(r"[\w.@-]{1,100}", str(name)):
                raise ValueError(f"editor name {name!r}: letters, digits, '.', '@', '-', '_' only")
            if not isinstance(digest, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest.strip()):
                raise ValueError(
                    f'editors.{name} must be "sha256:<64 hex digits>" (a token\'s digest: '
                    f"`syndicate review token {name}` makes one); never the token itself"
                )
            out[str(name)] = digest.strip()
        return out

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, str) and re.fullmatch(r"https?://[^/\s]+", v.strip().rstrip("/")) for v in value
        ):
            raise ValueError('must be a list of origins such as ["https://desk.example.org"] (no path)')
        return tuple(v.strip().rstrip("/").lower() for v in value)


class PublishSettings(_Frozen):
    """``[publish]``: what publishing announces to others, and how pages look."""

    #: WebSub hubs (W3C WebSub): every subscription feed names each one (``rel="hub"``)
    #: beside its ``rel="self"``, and each is pinged after a publish that changed a feed.
    websub_hubs: tuple[str, ...] = ()
    #: A folder of the operator's page templates (``page.html``, ``language.html``,
    #: ``index.html``): each one there replaces the bundled one of that name.
    templates_dir: Path | None = None

    @property
    def public_hubs(self) -> tuple[str, ...]:
        """The hubs as feeds and Link headers name them: without the ``user:password@``
        a hub URL may carry for our pings."""
        return tuple(public_url(hub) for hub in self.websub_hubs)

    @field_validator("websub_hubs", mode="before")
    @classmethod
    def _hubs(cls, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
            raise ValueError('must be a list of hub URLs, e.g. ["https://hub.example.org/"]')
        bad = [item for item in value if not re.match(r"^https?://[^/\s]+\S*$", item.strip(), re.IGNORECASE)]
        if bad:
            raise ValueError(f"not absolute http(s) URLs: {', '.join(repr(_redacted(item)) for item in bad)}")
        return tuple(dict.fromkeys(item.strip() for item in value))


class WebSubSettings(_Frozen):
    """``[websub]``: subscribing to the hubs upstream feeds name. Off while
    ``callback_url`` is unset; needs ``syndicate run --serve`` (the callbacks are its routes)."""

    #: Where hubs reach this syndicate's callbacks, publicly: ``<callback_url><source>``
    #: must arrive at ``<site.base_url's path>websub/<source>`` of ``run --serve``.
    callback_url: str | None = None
    #: The lease asked of the hub (hubs may grant another); renewed before it ends.
    lease: Duration = timedelta(days=7)
    #: A subscribed source is still polled, this many times less often (the fallback).
    poll_multiplier: float = Field(default=6.0, ge=1.0, le=1000.0)
    #: Larger deliveries are refused (413) before they are read.
    max_delivery_bytes: int = Field(default=1_000_000, ge=1024, le=MAX_RESPONSE_BYTES)
    #: Deliveries accepted per subscription per minute (more are answered 429).
    deliveries_per_minute: int = Field(default=30, ge=1, le=10_000)

    @field_validator("callback_url")
    @classmethod
    def _callback(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+\S*$", value, re.IGNORECASE):
            raise ValueError("must be an absolute http(s) URL such as 'https://news.example.org/websub/'")
        return value if value.endswith("/") else value + "/"

    @field_validator("lease")
    @classmethod
    def _lease(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("must be at least 1m")
        return value


def _url_parts(value: str, example: str) -> SplitResult:
    """``urlsplit`` with a readable error (a bad port raises inside ``.port``) that never
    repeats a password the URL holds."""
    try:
        parts = urlsplit(value)
    except ValueError as exc:  # "Invalid IPv6 URL", a bracket that does not close
        raise ValueError(f"is not a URL ({exc}); write it like {example!r}") from None
    try:
        parts.port  # noqa: B018 -- parsed for its ValueError
    except ValueError:
        host = parts.netloc.rpartition("@")[2]
        raise ValueError(f"has a bad port in {host!r} (1-65535); write it like {example!r}") from None
    return parts


def _redis_url(value: str, example: str = "redis://127.0.0.1:6379/0") -> str:
    parts = _url_parts(value, example)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(
            f"must be a redis:// URL (rediss:// for TLS) such as {example!r}, not {parts.scheme or 'no'} scheme "
            f"(host {parts.hostname!r})"
        )
    if not parts.hostname:
        raise ValueError(f"names no Redis host; write it like {example!r}")
    return value


class ClusterSettings(_Frozen):
    """``[cluster]``: running the stages as Celery tasks on Redis, the store on PostgreSQL.

    Unset (the default), syndicate runs on one machine: APScheduler, the SQLite state
    file, no broker. URLs are checked for shape only; nothing connects while loading.
    """

    #: The Celery broker, ``redis://host:6379/0`` (``rediss://`` for TLS); unset: no cluster.
    broker_url: str | None = Field(default=None, repr=False)
    #: Where task results go; default: the broker's Redis.
    result_backend: str | None = Field(default=None, repr=False)
    #: The shared store, ``postgresql://user@host/db`` (stored as ``postgresql+psycopg://``,
    #: the driver syndicate uses); unset: the SQLite file in ``output.state_dir``.
    store_url: str | None = Field(default=None, repr=False)
    #: How long Redis waits for a taken task's acknowledgement before it hands the task to
    #: another worker; longer than ``task_time_limit``, or a slow task runs twice at once.
    visibility_timeout: Duration = timedelta(hours=2)
    #: A task running longer than this is killed (and counts as one failed delivery).
    task_time_limit: Duration = timedelta(hours=1)
    #: Deliveries of one task before it is given up and its failure recorded in the store
    #: and the status (a task that kills its worker is not requeued forever).
    max_redeliveries: int = Field(default=3, ge=1, le=100)
    #: Translate tasks one worker child holds at once, counting the one it runs (Celery's
    #: ``worker_prefetch_multiplier`` on the ``translate.<lang>`` queues, with late
    #: acknowledgement). 1: a child takes the next batch only when it finishes this one, so
    #: a busy child never sits on batches an idle one could run, and a killed child loses
    #: only the batch it was running, which is redelivered.
    translate_prefetch: int = Field(default=1, ge=1, le=16)
    #: CTranslate2 threads in each worker child; children times threads should not exceed
    #: the machine's cores.
    worker_threads: int = Field(default=1, ge=1, le=64)

    @field_validator("broker_url", "result_backend")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        return None if value is None else _redis_url(value)

    @field_validator("store_url")
    @classmethod
    def _postgres(cls, value: str | None) -> str | None:
        if value is None:
            return None
        example = "postgresql://syndicate@127.0.0.1:5432/syndicate"
        parts = _url_parts(value, example)
        if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
            raise ValueError(
                f"must be a postgresql:// URL such as {example!r}, not {parts.scheme or 'no'} scheme "
                f"(host {parts.hostname!r}); unset it for the SQLite file in output.state_dir"
            )
        if not parts.hostname and "host" not in parse_qs(parts.query):
            raise ValueError(f"names no PostgreSQL host; write it like {example!r}")
        if not parts.path.strip("/"):
            raise ValueError(f"names no database (host {parts.hostname!r}); write it like {example!r}")
        return urlunsplit(parts._replace(scheme="postgresql+psycopg"))

    @field_validator("visibility_timeout", "task_time_limit")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value

    @property
    def enabled(self) -> bool:
        """Whether the stages run as tasks on a broker (``syndicate run --role ...``)."""
        return self.broker_url is not None

    @property
    def results_url(self) -> str | None:
        """Where task results go: ``result_backend``, else the broker."""
        return self.result_backend or self.broker_url


#: Source registry: ``[[sources]] type`` -> its settings class, which names its
#: implementation. The only list of source type names; :func:`register_source` adds one
#: at run time.
SOURCE_TYPES: dict[str, type[_SourceBase]] = {
    "folder": FolderSourceSettings,
    "feed": FeedSourceSettings,
    "pages": PagesSourceSettings,
}

#: One ``[[sources]]`` table's settings, of the class its ``type`` is registered with.
SourceSettings = SerializeAsAny[_SourceBase]
HttpSourceSettings = FeedSourceSettings | PagesSourceSettings


def _is_literal(annotation: object, value: str) -> bool:
    """Whether ``annotation`` is ``Literal[value]``."""
    return get_origin(annotation) is Literal and get_args(annotation) == (value,)


def _check_registries() -> None:
    """Each registry key is the name its settings class answers to (caught at import)."""
    for key, source in SOURCE_TYPES.items():
        if not _is_literal(source.model_fields["type"].annotation, key):
            raise TypeError(f"SOURCE_TYPES[{key!r}]: {source.__name__}.type must be Literal[{key!r}]")
    for key, engine in ENGINE_TYPES.items():
        if not _is_literal(engine.model_fields["engine"].annotation, key):
            raise TypeError(f"ENGINE_TYPES[{key!r}]: {engine.__name__}.engine must be Literal[{key!r}]")


_check_registries()


def _tag(kind: type[BaseModel], field: str) -> str:
    """The name a settings class answers to: its ``Literal["name"]`` tag field."""
    annotation = kind.model_fields[field].annotation if field in kind.model_fields else None
    values = get_args(annotation) if get_origin(annotation) is Literal else ()
    if len(values) != 1 or not isinstance(values[0], str):
        raise TypeError(f"{kind.__name__}.{field} must be Literal['<name>'] (the name config files use)")
    return values[0]


def _check_implementation(kind: type[BaseModel]) -> None:
    implementation = getattr(kind, "implementation", None)
    if not isinstance(implementation, str) or ":" not in implementation:
        raise TypeError(f"{kind.__name__}.implementation must name its class as 'package.module:Class'")


def register_source(kind: type[_SourceBase]) -> None:
    """Make ``[[sources]] type = "<name>"`` read by ``kind``: a subclass of the sources'
    base settings with ``type: Literal["<name>"]`` and an ``implementation``. A source
    type is this and its own module (what the built-in ones are: see :data:`SOURCE_TYPES`)."""
    if not (isinstance(kind, type) and issubclass(kind, _SourceBase)):
        raise TypeError(f"{kind!r} is not a source settings class")
    _check_implementation(kind)
    SOURCE_TYPES[_tag(kind, "type")] = kind


def register_engine(kind: type[EngineSettings]) -> None:
    """Make ``translate.engines = ["<name>"]`` and ``[translate.<name>]`` use ``kind``: a
    subclass of :class:`EngineSettings` with ``engine: Literal["<name>"]`` and an
    ``implementation`` (its ``label``, ``install_hint``, ``thread_options`` and
    ``inventory`` have defaults). An engine is this and its own module."""
    if not (isinstance(kind, type) and issubclass(kind, EngineSettings)):
        raise TypeError(f"{kind!r} is not an engine settings class")
    _check_implementation(kind)
    ENGINE_TYPES[_tag(kind, "engine")] = kind


class Settings(_Frozen):
    """The whole validated configuration."""

    site: SiteSettings
    output: OutputSettings = OutputSettings()
    translate: TranslateSettings
    extract: ExtractSettings = ExtractSettings()
    serve: ServeSettings = ServeSettings()
    publish: PublishSettings = PublishSettings()
    review: ReviewSettings = ReviewSettings()
    websub: WebSubSettings = WebSubSettings()
    cluster: ClusterSettings = ClusterSettings()
    sources: tuple[SourceSettings, ...] = Field(min_length=1)
    #: Directory the config file lives in; relative paths resolve against it.
    root: Path = Path(".")

    @model_validator(mode="before")
    @classmethod
    def _default_user_agent(cls, data: Any) -> Any:
        """HTTP sources introduce themselves with the site they publish for."""
        if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
            return data
        from syndicate import __version__

        site = data.get("site")
        base_url = site.get("base_url") if isinstance(site, dict) else None
        agent = f"syndicate/{__version__}" + (f" (+{base_url})" if isinstance(base_url, str) and base_url else "")
        sources = [
            {**s, "user_agent": agent}
            if isinstance(s, dict) and _fetches_over_http(s.get("type")) and "user_agent" not in s
            else s
            for s in data["sources"]
        ]
        return {**data, "sources": sources}

    @field_validator("sources", mode="wrap")
    @classmethod
    def _source_classes(cls, value: Any, handler: Any, info: ValidationInfo) -> tuple[_SourceBase, ...]:
        """Each ``[[sources]]`` table read by the settings class its ``type`` is registered with."""
        adapter = _adapter("sources", tuple(SOURCE_TYPES.values()), "type")
        return tuple(adapter.validate_python(value, context=info.context))

    @model_validator(mode="after")
    def _cross_checked(self, info: ValidationInfo) -> Settings:
        """Settings made without :func:`parse_settings` get its cross-field checks too."""
        if not (info.context or {}).get("cross_checked"):
            problems = _cross_field_problems(self.model_dump(mode="json"))
            if problems:
                raise ValueError("; ".join(f"{key} = {value!r}: {reason}" for key, value, reason in problems))
        return self

    def article_language(self, source: str, declared: str | None) -> Lang:
        """An article's language: its source's configured one, else its own, else the site's."""
        for settings in self.sources:
            if settings.name == source and settings.language:
                return settings.language
        return lang(declared) if declared else self.site.source_language

    def source_languages(self, source: str) -> tuple[Lang, ...]:
        """The target languages ``source``'s articles go into (``[[sources]] languages``,
        else every one of ``[translate] languages``), in the site's order."""
        for settings in self.sources:
            if settings.name == source and settings.languages is not None:
                return tuple(code for code in self.translate.languages if code in settings.languages)
        return tuple(self.translate.languages)

    def sources_into(self, language: Lang) -> tuple[str, ...] | None:
        """The sources whose articles go into ``language``; None when every source's do
        (the usual case: no filter needed)."""
        if all(s.languages is None or language in s.languages for s in self.sources):
            return None
        return tuple(s.name for s in self.sources if s.languages is None or language in s.languages)

    def resolve(self, path: Path) -> Path:
        """Resolve a configured path against the config file's directory."""
        return path if path.is_absolute() else (self.root / path)

    @property
    def feeds_url(self) -> str:
        """Where ``feeds_dir`` is served: ``base_url`` + its path (see :meth:`_url_path`)."""
        return self.site.base_url + _url_path(self.output.feeds_dir)

    @property
    def translations_url(self) -> str:
        return self.site.base_url + _url_path(self.output.translations_dir)

    @property
    def feeds_dir(self) -> Path:
        return self.resolve(self.output.feeds_dir)

    @property
    def translations_dir(self) -> Path:
        return self.resolve(self.output.translations_dir)

    @property
    def state_dir(self) -> Path:
        return self.resolve(self.output.state_dir)

    @property
    def cache_dir(self) -> Path:
        """The machine's cache folder (``[output] cache_dir``, else :func:`machine_cache_dir`)."""
        return self.resolve(self.output.cache_dir) if self.output.cache_dir else machine_cache_dir()


#: What a running daemon and server cannot take from a reloaded config: where they listen,
#: where the state and the outputs are, the URL paths they serve, the cluster's services,
#: the WebSub callback hubs were given. (section, key) pairs.
RESTART_KEYS: tuple[tuple[str, str], ...] = (
    ("serve", "host"),
    ("serve", "port"),
    ("output", "state_dir"),
    ("output", "feeds_dir"),
    ("output", "translations_dir"),
    ("site", "base_url"),
    ("cluster", "broker_url"),
    ("cluster", "result_backend"),
    ("cluster", "store_url"),
    ("websub", "callback_url"),
)


def reloadable(running: Settings, new: Settings) -> tuple[Settings, list[str]]:
    """``new`` with the values of :data:`RESTART_KEYS` kept as ``running`` has them, and
    the names of those that differ (they take effect at the next start)."""
    kept: dict[str, dict[str, Any]] = {}
    changed: list[str] = []
    for section, key in RESTART_KEYS:
        before, after = getattr(getattr(running, section), key), getattr(getattr(new, section), key)
        if before != after:
            changed.append(f"{section}.{key}")
            kept.setdefault(section, {})[key] = before
    if running.root != new.root:
        changed.append("the config file's folder")
    update: dict[str, Any] = {
        section: getattr(new, section).model_copy(update=values) for section, values in kept.items()
    }
    update["root"] = running.root
    return new.model_copy(update=update), changed


def machine_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/syndicate``, else ``~/.cache/syndicate``: one per user and machine,
    shared by every state folder and process (what is written there is written whole)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "syndicate"


def _fetches_over_http(source_type: object) -> bool:
    """Whether the registered source type of that name is an HTTP source."""
    kind = SOURCE_TYPES.get(source_type) if isinstance(source_type, str) else None
    return kind is not None and issubclass(kind, _HttpSourceBase)


def _url_path(directory: Path) -> str:
    """The URL path an output folder is served under, relative to ``base_url``.

    A relative folder inside the project ("feeds", "public/feeds") is served at that
    path; an absolute one or one outside ("/srv/www/feeds", "../public/feeds") is taken
    to be served at its own name ("feeds/"), never at its file-system path.
    """
    if directory.is_absolute() or ".." in directory.parts:
        return directory.name + "/"
    return directory.as_posix().strip("/") + "/"


def _key_path(loc: tuple[int | str, ...], data: dict[str, Any]) -> tuple[str, object]:
    """Turn a pydantic error location into ``sources[1].path`` and fetch the bad value."""
    parts: list[str] = []
    value: object = data
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            if item in ("function-after", "function-before") or item.startswith("function-"):
                continue
            parts.append(("." if parts else "") + item)
        try:
            value = value[item]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            value = "<missing>"
    return "".join(parts) or "<root>", value


#: Why two folders must not overlap, by the kind of the second one.
_OVERLAP_HARM = {
    "state": "the state (its database) would be published with the outputs, or swept with them",
    "output": "the two outputs would overwrite each other's index.html and files",
    "source": "the next poll would read syndicate's own pages back as articles",
}


def _folder_problems(data: dict[str, Any], root: Path) -> list[tuple[str, object, str]]:
    """Output folders that are the state folder, a folder source or each other, or inside
    or around one: each one's key, its value and the folder it collides with.

    Checked on the raw document, so these are reported beside any other problem; values
    of the wrong type are left to the schema's own messages.
    """
    output = data.get("output")
    output = output if isinstance(output, dict) else {}
    folders: dict[str, tuple[str, Path]] = {}
    for name in ("feeds_dir", "translations_dir", "state_dir"):
        value = output.get(name, str(OutputSettings.model_fields[name].default))
        if isinstance(value, str) and value.strip():
            folders[f"output.{name}"] = (value, _absolute(root, value))
    sources = data.get("sources")
    for index, source in enumerate(sources if isinstance(sources, list) else []):
        value = source.get("path") if isinstance(source, dict) and source.get("type") == "folder" else None
        if isinstance(value, str) and value.strip():
            folders[f"sources[{index}].path"] = (value, _absolute(root, value))

    problems: list[tuple[str, object, str]] = []
    outputs = ["output.feeds_dir", "output.translations_dir"]
    pairs = [(key, "output.state_dir", "state") for key in outputs]
    pairs.append(("output.translations_dir", "output.feeds_dir", "output"))
    pairs += [(key, other, "source") for key in outputs for other in folders if other.startswith("sources[")]
    for key, other, kind in pairs:
        if key not in folders or other not in folders:
            continue
        (value, mine), (other_value, theirs) = folders[key], folders[other]
        if mine == theirs:
            where = "is the same folder as"
        elif mine.is_relative_to(theirs):
            where = "is inside"
        elif theirs.is_relative_to(mine):
            where = "contains"
        else:
            continue
        problems.append(
            (
                key,
                value,
                f"{where} {other} ({other_value!r}, {theirs}): {_OVERLAP_HARM[kind]}; give each a separate folder, "
                "neither inside the other",
            )
        )
    return problems


def _absolute(root: Path, value: str) -> Path:
    """A configured folder as the file system will see it (symlinks followed where they exist)."""
    return (root / value).resolve()


Problem = tuple[str, object, str]


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _source_tables(data: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    sources = data.get("sources")
    if not isinstance(sources, list | tuple):
        return []
    return [(index, source) for index, source in enumerate(sources) if isinstance(source, Mapping)]


def _unique_name_problems(data: Mapping[str, Any]) -> list[Problem]:
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for index, source in _source_tables(data):
        name = source.get("name")
        if not isinstance(name, str):
            continue  # the schema reports it
        if name in first:
            problems.append(
                (
                    f"sources[{index}].name",
                    name,
                    f"source names must be unique; repeated: {name} (first at sources[{first[name]}])",
                )
            )
        else:
            first[name] = index
    return problems


def _schedule_problems(data: Mapping[str, Any]) -> list[Problem]:
    return [
        (f"sources[{index}].cron", source["cron"], "give either interval or cron, not both")
        for index, source in _source_tables(data)
        if source.get("cron") is not None and source.get("interval") is not None
    ]


def _bilingual_problems(data: Mapping[str, Any]) -> list[Problem]:
    translate = _table(data, "translate")
    targets, bilingual = translate.get("languages"), translate.get("bilingual")
    if not isinstance(targets, list | tuple) or not isinstance(bilingual, list | tuple):
        return []
    if not all(isinstance(code, str) for code in (*targets, *bilingual)):
        return []  # the schema reports it
    known = {lang(code) for code in targets}
    unknown = [code for code in bilingual if lang(code) not in known]
    if not unknown:
        return []
    return [
        (
            "translate.bilingual",
            bilingual,
            f"{', '.join(map(repr, unknown))} not in translate.languages {list(targets)}; "
            "add it there or remove it here",
        )
    ]


def _source_language_problems(data: Mapping[str, Any]) -> list[Problem]:
    """``[[sources]] languages`` names only languages of ``[translate] languages``, and at
    least one."""
    targets = _table(data, "translate").get("languages")
    sources = data.get("sources")
    if not isinstance(targets, list | tuple) or not isinstance(sources, list):
        return []
    if not all(isinstance(code, str) for code in targets):
        return []
    try:
        known = {lang(code) for code in targets}
    except ValueError:
        return []  # the schema reports it
    problems: list[Problem] = []
    for n, source in enumerate(sources):
        chosen = source.get("languages") if isinstance(source, dict) else None
        if not isinstance(chosen, list | tuple) or not all(isinstance(code, str) for code in chosen):
            continue
        try:
            unknown = [code for code in chosen if _check_lang(code) not in known]
        except ValueError:
            continue  # the schema reports the bad code
        if unknown:
            problems.append(
                (
                    f"sources[{n}].languages",
                    list(chosen),
                    f"{', '.join(map(repr, unknown))} not in translate.languages {list(targets)}; "
                    "add it there or remove it here",
                )
            )
        elif not chosen:
            problems.append((f"sources[{n}].languages", [], "names no language; leave it out for every language"))
    return problems


def _review_problems(data: Mapping[str, Any]) -> list[Problem]:
    """[translate.review] names only languages syndicate translates into."""
    translate = _table(data, "translate")
    targets, review = translate.get("languages"), translate.get("review")
    if not isinstance(targets, list | tuple) or not isinstance(review, dict):
        return []
    try:
        known = {lang(str(code)) for code in targets}
        unknown = [code for code in review if lang(str(code)) not in known]
    except ValueError:
        return []  # the schema reports it
    if not unknown:
        return []
    return [
        (
            "translate.review",
            review,
            f"{', '.join(map(repr, unknown))} not in translate.languages {list(targets)}; "
            "add it there or remove it here",
        )
    ]


def _glossary_problems(data: Mapping[str, Any]) -> list[Problem]:
    """[translate.glossary.<lang>] names only languages syndicate translates into (one for
    another language would be ignored without a word)."""
    translate = _table(data, "translate")
    targets, glossary = translate.get("languages"), translate.get("glossary")
    if not isinstance(targets, list | tuple) or not isinstance(glossary, dict):
        return []
    try:
        known = {lang(str(code)) for code in targets}
        unknown = [code for code in glossary if lang(str(code)) not in known]
    except ValueError:
        return []  # the schema reports it
    return [
        (
            f"translate.glossary.{code}",
            "(table)",
            f"{code!r} is not in translate.languages {list(targets)}: its glossary would never be used; "
            "add the language there or remove the table",
        )
        for code in unknown
    ]


def _engine_key_problems(data: Mapping[str, Any]) -> list[Problem]:
    """An engine option given both the old way (``[translate]``) and in its own table."""
    translate = _table(data, "translate")
    problems: list[Problem] = []
    for name, kind in ENGINE_TYPES.items():
        table = _table(translate, name)
        for old, new in kind.legacy_keys.items():
            if old in translate and new in table:
                problems.append(
                    (
                        f"translate.{old}",
                        translate[old],
                        f"also given as translate.{name}.{new} = {table[new]!r}; keep only translate.{name}.{new}",
                    )
                )
    return problems


def _cluster_problems(data: Mapping[str, Any]) -> list[Problem]:
    cluster = _table(data, "cluster")
    problems: list[Problem] = []
    try:
        visibility = parse_duration(
            cluster.get("visibility_timeout", ClusterSettings.model_fields["visibility_timeout"].default)
        )
        limit = parse_duration(cluster.get("task_time_limit", ClusterSettings.model_fields["task_time_limit"].default))
    except ValueError:
        pass  # the schema reports it
    else:
        if visibility <= limit:
            problems.append(
                (
                    "cluster.visibility_timeout",
                    cluster.get("visibility_timeout", _human_duration(visibility)),
                    (
                        f"must be longer than cluster.task_time_limit ({_human_duration(limit)}), or Redis hands a "
                        "task that is still running to a second worker"
                    ),
                )
            )
    if cluster.get("result_backend") is not None and cluster.get("broker_url") is None:
        problems.append(
            (
                "cluster.result_backend",
                _redacted(cluster["result_backend"]),
                "set cluster.broker_url too (results are only kept for tasks on a broker)",
            )
        )
    return problems


def _human_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    for unit in ("d", "h", "m"):
        if seconds and seconds % _DURATION_UNITS[unit] == 0:
            return f"{int(seconds // _DURATION_UNITS[unit])}{unit}"
    return f"{seconds:g}s"


#: Checks that compare fields (or read one field against another's); each takes the raw
#: document, skips values of the wrong type (the schema reports those) and so runs
#: whatever else is wrong.
_CROSS_FIELD_CHECKS: tuple[Callable[[Mapping[str, Any]], list[Problem]], ...] = (
    _unique_name_problems,
    _schedule_problems,
    _bilingual_problems,
    _source_language_problems,
    _review_problems,
    _glossary_problems,
    _engine_key_problems,
    _cluster_problems,
)


def _cross_field_problems(data: Mapping[str, Any]) -> list[Problem]:
    return [problem for check in _CROSS_FIELD_CHECKS for problem in check(data)]


def parse_settings(data: dict[str, Any], *, path: str = "config.toml", root: Path = Path(".")) -> Settings:
    """Validate a parsed TOML document; raise :class:`ConfigError` listing every problem."""
    cross = [*_cross_field_problems(data), *_folder_problems(data, root)]
    try:
        settings = Settings.model_validate({**data, "root": root}, context={"cross_checked": True})
    except ValidationError as exc:
        raise ConfigError(path, [*_validation_problems(exc, data), *cross]) from None
    if cross:
        raise ConfigError(path, cross)
    return settings


#: Keys whose values may carry a password, which a problem report must not repeat.
_SECRET_URL_KEYS = frozenset({"cluster.broker_url", "cluster.result_backend", "cluster.store_url"})


def _has_password(value: object) -> bool:
    """A URL (or a list of them) that may carry ``user:password@``: never repeated whole."""
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and _USERINFO.match(v.strip()) for v in values)


_USERINFO = re.compile(r"(?i)^(?:https?|ftps?|wss?|rediss?|amqps?|postgres(?:ql)?(?:\+\w+)?)://[^/@\s]*@")


def _redacted(value: object) -> object:
    """A URL with its password replaced by ``***``."""
    if not isinstance(value, str):
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- a bad port or bracket: mask by hand below
    except ValueError:
        return re.sub(r"(?<=://)[^@/]*@", "***@", value)  # whatever stands before "@" may be a secret
    if parts.password is None:
        return value
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _engine_loc(loc: tuple[int | str, ...], data: dict[str, Any]) -> tuple[int | str, ...]:
    """``translate.engine_settings.argos.argos.x`` -> ``translate.argos.x``, or the legacy
    ``translate.<old key>`` when that is where the file gave the value."""
    name = loc[2]
    rest = loc[4:] if len(loc) > 3 and loc[3] == name else loc[3:]
    kind = ENGINE_TYPES.get(str(name))
    translate = _table(data, "translate")
    if kind is not None and rest and rest[0] not in _table(translate, str(name)):
        for old, new in kind.legacy_keys.items():
            if new == rest[0] and old in translate:
                return ("translate", old, *rest[1:])
    return ("translate", name, *rest)


def _validation_problems(exc: ValidationError, data: dict[str, Any]) -> list[tuple[str, object, str]]:
    """pydantic's errors as (key path, bad value, reason), the way config.toml spells them."""
    problems: list[tuple[str, object, str]] = []
    errors = exc.errors(include_url=False)
    bad_sources = any(len(e["loc"]) > 1 and e["loc"][0] == "sources" for e in errors)
    for err in errors:
        loc = tuple(err["loc"])
        if bad_sources and loc == ("sources",) and err["type"] == "too_short":
            continue  # "no valid source" only echoes the errors of each source
        # Sources are a tagged list: drop pydantic's union-branch marker ("feed") from
        # the path, so it reads sources[1].url; a bad or missing tag is the `type` key's.
        if len(loc) > 2 and loc[0] == "sources" and loc[2] in SOURCE_TYPES:
            loc = loc[:2] + loc[3:]
        if len(loc) > 2 and loc[:2] == ("translate", "engine_settings"):
            loc = _engine_loc(loc, data)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "type")
            err["msg"] = f"must be one of {', '.join(SOURCE_TYPES)}"
            if err["type"] == "union_tag_not_found":
                err["type"] = "missing"
        key, value = _key_path(loc, data)
        if key in _SECRET_URL_KEYS or _has_password(value):
            value = [_redacted(v) for v in value] if isinstance(value, list) else _redacted(value)
        if key.startswith("review.editors") or key == "serve.status_token":
            value = "<not shown: may hold a token>"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            value, msg = "<missing>", "required key is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against docs/configuration.md)"
        problems.append((key, value, msg))
    return problems


#: A config file is a few kilobytes; anything this large is not one (``/dev/zero``, a log).
MAX_CONFIG_BYTES = 1_000_000


def load_settings(path: Path = DEFAULT_CONFIG) -> Settings:
    """Read and validate ``config.toml``."""
    return parse_settings(_parse_toml(_read_config(path), path), path=str(path), root=path.resolve().parent)


def _read_config(path: Path) -> bytes:
    """The config file's bytes; only a regular file of sane size is opened and read.

    A FIFO would block the open until something writes to it, and ``/dev/zero`` would be
    read until memory runs out: both are refused from their ``stat`` alone.
    """

    def problem(reason: str) -> ConfigError:
        return ConfigError(str(path), [("<file>", str(path), reason)])

    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise problem("not a regular file (a directory, device or pipe); give the path of a config.toml")
        if info.st_size > MAX_CONFIG_BYTES:
            raise problem(f"larger than {MAX_CONFIG_BYTES:,} bytes ({info.st_size:,}); is this really the config file?")
        # O_NONBLOCK: should the path have become a FIFO since the stat, the open still returns.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise problem("not a regular file (a directory, device or pipe); give the path of a config.toml")
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise problem(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise problem(f"larger than {MAX_CONFIG_BYTES:,} bytes; is this really the config file?")
    return raw


def _parse_toml(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [("<file>", str(path), f"not UTF-8: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [("<file>", str(path), f"not valid TOML: {exc}")]) from None
