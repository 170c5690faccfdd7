"""The whole config: :class:`Settings`, reading and validating config.toml, and what a
reload may change.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from syndicate.config.base import DEFAULT_CONFIG, _adapter, _Frozen, _tag
from syndicate.config.engines import ENGINE_TYPES
from syndicate.config.problems import _cross_field_problems, _folder_problems, _validation_problems
from syndicate.config.sections import (
    ClusterSettings,
    ExtractSettings,
    OutputSettings,
    PublishSettings,
    ReviewSettings,
    ServeSettings,
    SiteSettings,
    TranslateSettings,
    WebSubSettings,
)
from syndicate.config.sources import SOURCE_TYPES, SourceSettings, _HttpSourceBase, _SourceBase
from syndicate.errors import ConfigError
from syndicate.models import Lang, lang


def _check_registries() -> None:
    """Each registry key is the name its settings class answers to (caught at import)."""
    for registry, field, kinds in (("SOURCE_TYPES", "type", SOURCE_TYPES), ("ENGINE_TYPES", "engine", ENGINE_TYPES)):
        for key, kind in kinds.items():
            if _tag(kind, field) != key:
                raise TypeError(f"{registry}[{key!r}]: {kind.__name__}.{field} must be Literal[{key!r}]")


_check_registries()


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
