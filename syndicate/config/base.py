"""What every part of the config shares: the frozen model base, language tags, durations,
URLs, the checks on user patterns, and the registries' machinery.
"""

from __future__ import annotations

import importlib
import math
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from syndicate.models import Lang, lang

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


def load_implementation(path: str) -> Any:
    """The object a settings class names as ``"package.module:Name"``, imported now.

    Stage factories call this when they make a source or an engine, so config itself
    never imports a stage.
    """
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


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
