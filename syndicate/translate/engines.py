"""The process's translation engines: opened lazily, once, and closed at exit.

:class:`Engines` is a context manager held by whoever owns the process (the CLI for
``once``, the daemon, a cluster worker child): a unit of work borrows it and never
closes it, so Argos models stay loaded and Apertium pipelines stay running across polls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from syndicate.config import Settings
from syndicate.errors import SyndicateError
from syndicate.models import Lang, lang, primary
from syndicate.translate.base import Translator

if TYPE_CHECKING:
    from syndicate.translate.service import Leg

logger = logging.getLogger(__name__)

Factory = Callable[[Settings], Translator]


def install_hint(source: str, target: str) -> str:
    """How to get a model for a language pair (a missing one disables the pair)."""
    return (
        f"`syndicate models install {source} {target}` (online) or "
        f"`syndicate models install --file translate-{source}_{target}.argosmodel`, "
        f"or the Debian package for Apertium's {source}-{target} pair (`apt-cache search apertium-`)"
    )


class Engines:
    """Engines by name, created on first use; an engine that cannot start serves nothing.

    ``factories`` defaults to the engine registry; tests pass fakes.
    """

    def __init__(self, settings: Settings, factories: Mapping[str, Factory] | None = None) -> None:
        if factories is None:
            from syndicate.translate import ENGINES

            factories = ENGINES
        self.settings = settings
        self.factories = factories
        self._engines: dict[str, Translator | None] = {}
        #: Engine name -> why it is unavailable.
        self.problems: dict[str, str] = {}

    def __enter__(self) -> Engines:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def get(self, name: str) -> Translator | None:
        if name not in self._engines:
            try:
                self._engines[name] = self.factories[name](self.settings)
            except (ImportError, OSError, SyndicateError) as exc:
                self.problems[name] = str(exc)
                logger.warning("engine %s is unavailable: %s", name, exc)
                self._engines[name] = None
        return self._engines[name]

    def pairs(self, name: str) -> frozenset[tuple[Lang, Lang]]:
        engine = self.get(name)
        if engine is None:
            return frozenset()
        try:
            return engine.pairs()
        except (ImportError, OSError, SyndicateError) as exc:
            self.problems[name] = str(exc)
            logger.warning("engine %s cannot list its models: %s", name, exc)
            return frozenset()

    def chain(self, source: Lang, target: Lang) -> list[Translator]:
        """Engines that have exactly this pair, in configured order."""
        out = []
        for name in self.settings.translate.engines:
            engine = self.get(name)
            if engine is not None and (source, target) in self.pairs(name):
                out.append(engine)
        return out

    def route(self, source: Lang, target: Lang) -> list[Leg]:
        """Engines for a pair: direct if any engine has it, else through the pivot language.

        Language tags match exactly first, then by primary subtag (an ``en-GB`` article
        goes to an engine's ``en`` model).
        """
        from syndicate.translate.service import Leg

        for src, tgt in dict.fromkeys(((source, target), (primary(source), primary(target)))):
            direct = self.chain(src, tgt)
            if direct:
                return [Leg(src, tgt, tuple(direct))]
        src, tgt = primary(source), primary(target)
        pivot_language = self.settings.translate.pivot_language
        pivot = lang(pivot_language) if pivot_language else None
        if pivot and pivot not in (src, tgt):
            first, second = self.chain(src, pivot), self.chain(pivot, tgt)
            if first and second:
                return [Leg(src, pivot, tuple(first)), Leg(pivot, tgt, tuple(second))]
        return []

    def close(self) -> None:
        """Stop every engine that was started (models unloaded, Apertium stopped)."""
        engines, self._engines = self._engines, {}
        for engine in engines.values():
            if engine is not None:
                engine.close()
