"""The error tree. Every error syndicate raises derives from :class:`SyndicateError`.

Errors carry context (source, item, language, key) the way httpx exceptions carry their
request, so a message can name exactly what failed and what fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from syndicate.models import RunReport


#: Where in the pipeline a problem arose.
Stage = Literal["fetch", "extract", "store", "translate", "publish", "poll"]


@dataclass(frozen=True)
class Problem:
    """One problem a unit of work met and went on past, with its context as fields.

    Built from the error that raised it (:meth:`SyndicateError.problem`), kept as it is
    up to the CLI, the status page and the source's record: counts come from these
    fields, never from parsing the message.
    """

    stage: Stage
    message: str
    source: str | None = None
    item: str | None = None
    language: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        where = f"[{self.source}] " if self.source else ""
        item = f"{self.item}: " if self.item else ""
        fix = f" (fix: {self.fix})" if self.fix else ""
        return f"{where}{item}{self.message}{fix}"


class SyndicateError(Exception):
    """Base class of every syndicate error."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (fix: {self.hint})"
        return self.message

    def problem(self, stage: Stage, *, source: str | None = None, language: str | None = None) -> Problem:
        """This error as a :class:`Problem` record (its context fields kept as fields)."""
        return Problem(
            stage=stage,
            message=self.message,
            source=getattr(self, "source", None) or source,
            item=getattr(self, "item", None),
            language=getattr(self, "target_language", None) or language,
            fix=self.hint,
        )


class ConfigError(SyndicateError):
    """The configuration is invalid. ``problems`` lists every (key, value, reason)."""

    def __init__(self, path: str, problems: list[tuple[str, object, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"{path}: {len(problems)} problem(s) in the configuration:"]
        for key, value, reason in problems:
            lines.append(f"  {key} = {value!r}: {reason}")
        super().__init__("\n".join(lines))


class ItemError(SyndicateError):
    """One item (an article file, a feed entry, a page) could not be read or extracted."""

    def __init__(self, message: str, *, source: str, item: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.source = source
        self.item = item

    def __str__(self) -> str:
        return f"[{self.source}] {self.item}: {super().__str__()}"


class SourceError(SyndicateError):
    """A whole source failed (unreachable, missing folder, not a feed)."""

    def __init__(self, message: str, *, source: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.source = source

    def __str__(self) -> str:
        return f"[{self.source}] {super().__str__()}"


class TranslationError(SyndicateError):
    """An engine failed to translate, or no engine serves a language pair."""

    def __init__(
        self,
        message: str,
        *,
        engine: str | None = None,
        source_language: str | None = None,
        target_language: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.engine = engine
        self.source_language = source_language
        self.target_language = target_language


class ModelError(TranslationError):
    """A translation model is missing, unreadable or cannot be installed."""


class StoreError(SyndicateError):
    """The state store cannot be opened or written."""


class PublishError(SyndicateError):
    """An output file could not be produced. ``path`` is the file or folder at fault."""

    def __init__(self, message: str, *, path: Path | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.path = path


class OutputClaimedError(PublishError):
    """An output folder belongs to another configuration's state (its marker file says so)."""

    def __init__(self, folder: Path, *, owner: str, claimant: Path | str, marker: Path) -> None:
        super().__init__(
            f"the output folder {folder} is published by the configuration whose state is {owner}, "
            f"not by this one (state {claimant}): the two would overwrite each other's feeds",
            path=folder,
            hint=f"give this configuration its own output folder; if its state really moved from {owner}, "
            f"delete {marker}",
        )
        self.folder = folder
        self.owner = owner
        self.claimant = claimant
        self.marker = marker


class PatternTimeout(SyndicateError):
    """A regular expression from the config ran past its time bound on one text (it
    backtracks catastrophically): the item it was reading is stopped and named."""

    def __init__(self, pattern: str, key: str, seconds: float) -> None:
        super().__init__(
            f"{key} pattern {pattern!r} ran for more than {seconds:g} s on one paragraph: it backtracks "
            "catastrophically (overlapping repeats such as (a|aa)+ or (\\w+\\s?)+)",
            hint=f"rewrite it in [extract] {key}; the items it stopped are read again on the next poll",
        )
        self.pattern = pattern
        self.key = key


class ServeError(SyndicateError):
    """The server cannot listen where it was told (an unknown host, a port in use or
    privileged): a setting to change, named in the message."""


class ReviewError(SyndicateError):
    """An editor's request cannot be carried out: an unknown entry or segment, a file from
    a CAT tool that cannot be read, a correction that breaks a rule. ``item`` names what."""

    def __init__(self, message: str, *, item: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.item = item


class HistoryLostError(PublishError):
    """The store has no record of having published a language whose published history is
    on disk: it was emptied, replaced or is not the one the config names. Publishing
    would rewrite archives readers already have; nothing is done until the operator says
    so (``--reinitialise``)."""


class RunAborted(SyndicateError):
    """A pass stopped midway because the store or the outputs failed.

    ``cause`` is that failure (this error says what it says); ``done`` is the report of
    what the pass had finished before it (articles stored stay stored), so a summary
    counts what was really done.
    """

    def __init__(self, cause: SyndicateError | OSError, done: RunReport) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.done = done
