"""The sources' settings and their registry (:data:`SOURCE_TYPES`): one settings class
per ``[[sources]] type``, naming its implementation.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SerializeAsAny, field_validator

from syndicate.config.base import (
    DEFAULT_INTERVAL,
    MAX_FILTER_TERMS,
    MAX_RESPONSE_BYTES,
    MAX_TIMEOUT,
    PROBE_SECONDS,
    Duration,
    _backtracks,
    _check_http_url,
    _check_implementation,
    _check_lang,
    _Frozen,
    _tag,
)
from syndicate.models import Lang


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
    #: Where each article file is moved once it is stored: a folder (relative to ``path``,
    #: or absolute), made if missing. A poll then lists and checks only what was dropped
    #: since, however many articles the folder took before; a file dropped again under
    #: the same name updates its article. Unset: files stay, and every poll checks each.
    move_to: Path | None = None

    @field_validator("move_to")
    @classmethod
    def _move_to(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute() and value.parts in ((), (".",)):
            raise ValueError('must be another folder than the drop folder itself (e.g. "imported")')
        return value


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


def register_source(kind: type[_SourceBase]) -> None:
    """Make ``[[sources]] type = "<name>"`` read by ``kind``: a subclass of the sources'
    base settings with ``type: Literal["<name>"]`` and an ``implementation``. A source
    type is this and its own module (what the built-in ones are: see :data:`SOURCE_TYPES`)."""
    if not (isinstance(kind, type) and issubclass(kind, _SourceBase)):
        raise TypeError(f"{kind!r} is not a source settings class")
    _check_implementation(kind)
    SOURCE_TYPES[_tag(kind, "type")] = kind
