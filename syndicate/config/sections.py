"""The config file's sections: ``[site]``, ``[output]``, ``[translate]``, ``[extract]``,
``[serve]``, ``[review]``, ``[publish]``, ``[websub]`` and ``[cluster]``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, parse_qs, urlsplit, urlunsplit

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from syndicate.config.base import (
    DEFAULT_ATTRIBUTION_PATTERNS,
    MAX_RESPONSE_BYTES,
    PROBE_SECONDS,
    Duration,
    _adapter,
    _backtracks,
    _check_lang,
    _Frozen,
    _redacted,
)
from syndicate.config.engines import (
    ENGINE_TYPES,
    AnyEngineSettings,
    ArgosSettings,
    EngineName,
    EngineSettings,
    _registered_engine,
)
from syndicate.models import Lang, lang, public_url


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
