"""config.toml -> frozen, validated :class:`Settings`.

Every problem is reported at once with its key path and the bad value; nothing here
exits or prints (only ``cli.py`` does).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from syndicate.errors import ConfigError
from syndicate.models import Lang, lang

DEFAULT_CONFIG = Path("config.toml")

#: Known engines and source types; the registries in translate/ and sources/ match these.
ENGINE_NAMES = ("argos", "apertium")
SOURCE_TYPES = ("folder",)

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

    title: str = Field(min_length=1)
    base_url: str
    source_language: Lang = Lang("en")
    description: str = ""
    author: str = ""
    rights: str = ""

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an absolute http(s) URL such as 'https://news.example.org/'")
        return value if value.endswith("/") else value + "/"

    @field_validator("source_language", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> Lang:
        if not isinstance(value, str):
            raise ValueError("must be a language tag string")
        return _check_lang(value)


class OutputSettings(_Frozen):
    """``[output]``: where files go. Relative paths are relative to the config file."""

    feeds_dir: Path = Path("feeds")
    translations_dir: Path = Path("translations")
    state_dir: Path = Path(".syndicate")


class TranslateSettings(_Frozen):
    """``[translate]``: target languages and the engines that serve them."""

    languages: tuple[Lang, ...] = Field(min_length=1)
    engines: tuple[Literal["argos", "apertium"], ...] = ("argos", "apertium")
    beam_size: Annotated[int, Field(ge=1, le=16)] = 4
    keep_verbatim: tuple[str, ...] = ()
    #: Where Argos packages live; default: Argos's own (ARGOS_PACKAGES_DIR or
    #: ~/.local/share/argos-translate/packages).
    argos_packages_dir: Path | None = None

    @field_validator("languages", mode="before")
    @classmethod
    def _langs(cls, value: Any) -> tuple[Lang, ...]:
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of language tags, e.g. [\"es\", \"ca\"]")
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

    @field_validator("engines")
    @classmethod
    def _engines(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError(f"list at least one engine of {list(ENGINE_NAMES)}")
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

    attribution_patterns: tuple[str, ...] = DEFAULT_ATTRIBUTION_PATTERNS
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
        return value


class FolderSourceSettings(_Frozen):
    """``[[sources]] type = "folder"``: article files (.txt, .html) in a local folder."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["folder"]
    path: Path
    language: Lang | None = None
    base_url: str | None = None  # where the originals are published, if anywhere

    @field_validator("language", mode="before")
    @classmethod
    def _lang(cls, value: Any) -> Lang | None:
        return None if value is None else _check_lang(str(value))


SourceSettings = FolderSourceSettings


class Settings(_Frozen):
    """The whole validated configuration."""

    site: SiteSettings
    output: OutputSettings = OutputSettings()
    translate: TranslateSettings
    extract: ExtractSettings = ExtractSettings()
    sources: tuple[SourceSettings, ...] = Field(min_length=1)
    #: Directory the config file lives in; relative paths resolve against it.
    root: Path = Path(".")

    @model_validator(mode="after")
    def _unique_sources(self) -> Settings:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        return self

    def resolve(self, path: Path) -> Path:
        """Resolve a configured path against the config file's directory."""
        return path if path.is_absolute() else (self.root / path)

    @property
    def feeds_dir(self) -> Path:
        return self.resolve(self.output.feeds_dir)

    @property
    def translations_dir(self) -> Path:
        return self.resolve(self.output.translations_dir)

    @property
    def state_dir(self) -> Path:
        return self.resolve(self.output.state_dir)


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


def parse_settings(data: dict[str, Any], *, path: str = "config.toml", root: Path = Path(".")) -> Settings:
    """Validate a parsed TOML document; raise :class:`ConfigError` listing every problem."""
    try:
        return Settings.model_validate({**data, "root": root})
    except ValidationError as exc:
        problems: list[tuple[str, object, str]] = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            # Sources are a tagged list: drop pydantic's union-branch marker from the path.
            loc = tuple(p for p in loc if p not in ("folder",))
            key, value = _key_path(loc, data)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                value, msg = "<missing>", "required key is missing"
            elif err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling against the README's config reference)"
            problems.append((key, value, msg))
        raise ConfigError(path, problems) from None


def load_settings(path: Path = DEFAULT_CONFIG) -> Settings:
    """Read and validate ``config.toml``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), [("<file>", str(path), f"cannot read: {exc.strerror or exc}")]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [("<file>", str(path), f"not UTF-8: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [("<file>", str(path), f"not valid TOML: {exc}")]) from None
    return parse_settings(data, path=str(path), root=path.resolve().parent)
