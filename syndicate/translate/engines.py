"""The process's translation engines: opened lazily, once, and closed at exit.

:class:`Engines` is a context manager held by whoever owns the process (the CLI for
``once``, the daemon, a cluster worker child): a unit of work borrows it and never
closes it, so Argos models stay loaded and Apertium pipelines stay running across polls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from syndicate.config import Settings
from syndicate.errors import SyndicateError
from syndicate.models import Lang, lang, primary
from syndicate.translate.base import Translator

if TYPE_CHECKING:
    from syndicate.translate.analysis import Analyser
    from syndicate.translate.apertium import ApertiumTranslator
    from syndicate.translate.base import Leg

logger = logging.getLogger(__name__)

Factory = Callable[[Settings], Translator]


def install_hint(settings: Settings, source: str, target: str) -> str:
    """How to get a model for a language pair (a missing one disables the pair): each
    configured engine's way first, then the other registered engines' (one of those is
    added to ``translate.engines`` too)."""
    from syndicate.config import ENGINE_TYPES

    names = [*settings.translate.engines, *(name for name in ENGINE_TYPES if name not in settings.translate.engines)]
    return ", or ".join(settings.translate.engine(name).install_hint(source, target) for name in names)


class Engines:
    """Engines by name, created on first use; an engine that cannot start serves nothing.

    ``factories`` defaults to the engine registry; tests pass fakes.
    """

    def __init__(self, settings: Settings, factories: Mapping[str, Factory] | None = None) -> None:
        if factories is None:
            from syndicate.translate import engine_factories

            factories = engine_factories()
        self.settings = settings
        self.factories = factories
        self._engines: dict[str, Translator | None] = {}
        #: Engine name -> why it is unavailable.
        self.problems: dict[str, str] = {}
        # A daemon's polling threads may ask for an engine while its translation runs.
        self._lock = threading.RLock()
        #: Threads started by prepare(); close() waits for them.
        self._preparing: list[threading.Thread] = []
        #: Morphological analysers by language (None: no dictionary reads it).
        self._analysers: dict[Lang, Analyser | None] = {}
        self._dictionaries: ApertiumTranslator | None = None

    def __enter__(self) -> Engines:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def get(self, name: str) -> Translator | None:
        with self._lock:
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
        from syndicate.translate.base import Leg

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

    def prepare(self, pairs: Iterable[tuple[Lang, Lang]]) -> None:
        """Start, in a helper thread, the engine that will serve each pair (its route's
        first engine per leg), and return at once: Apertium's stages load their
        dictionaries, an Argos model loads, then the analysers the translation reads with
        start, while the caller goes on (a poll detecting languages and storing
        articles). A pair no engine serves is skipped; a failure
        is only logged, and reported by the translation that needs the engine."""
        pairs = list(pairs)
        jobs: dict[tuple[str, Lang, Lang], Translator] = {}
        for source, target in pairs:
            if primary(source) == primary(target):
                continue
            for leg in self.route(source, target):
                if leg.engines:
                    jobs.setdefault((leg.engines[0].name, leg.source, leg.target), leg.engines[0])
        if not jobs:
            return
        wanted = [(s, t) for s, t in pairs if primary(s) != primary(t)]
        thread = threading.Thread(
            target=self._prepare, args=(list(jobs.items()), wanted), name="engines-prepare", daemon=True
        )
        with self._lock:  # started under the lock: close() never joins a thread not yet started
            self._preparing = [t for t in self._preparing if t.is_alive()]
            self._preparing.append(thread)
            thread.start()

    def _prepare(self, jobs: list[tuple[tuple[str, Lang, Lang], Translator]], pairs: list[tuple[Lang, Lang]]) -> None:
        for (name, source, target), engine in jobs:
            try:
                engine.prepare(source, target)
            except Exception as exc:  # noqa: BLE001 - the translation that needs it reports it
                logger.debug("engine %s could not prepare %s->%s: %s", name, source, target, exc)
        # Then the dictionaries the translation reads with: names in the source, the
        # target's words, the places the pair knows.
        for source, target in pairs:
            try:
                found = [self.analyser(source), self.analyser(target), self.pair_analyser(source, target)]
                for analyser in found:
                    if analyser is not None and hasattr(analyser, "prepare"):
                        analyser.prepare()
            except Exception as exc:  # noqa: BLE001 - the translation that needs it reports it
                logger.debug("dictionaries for %s->%s could not start: %s", source, target, exc)

    def analyser(self, language: Lang) -> Analyser | None:
        """``language``'s morphological analyser: the dictionary of an installed Apertium
        pair that reads it (whichever engines translate), or None. Names, headlines and
        glued words are judged with it; without one, capitalisation alone decides."""
        code = primary(language)
        with self._lock:
            if code not in self._analysers:
                self._analysers[code] = self._make_analyser(code)
            return self._analysers[code]

    def _make_analyser(self, language: Lang) -> Analyser | None:
        from syndicate.translate.apertium import ApertiumTranslator

        if self._dictionaries is None:
            configured = self.get("apertium") if "apertium" in self.factories else None
            self._dictionaries = configured if isinstance(configured, ApertiumTranslator) else ApertiumTranslator()
        try:
            return self._dictionaries.analyser(language)
        except (OSError, SyndicateError) as exc:
            logger.warning("no %s dictionary: %s", language, exc)
            return None

    def pair_analyser(self, source: Lang, target: Lang) -> Analyser | None:
        """The analyser the engine translating ``source`` -> ``target`` reads with, when it
        is an Apertium pair (it knows some places whole: "Middle East"), else None."""
        from syndicate.translate.apertium import ApertiumTranslator

        route = self.route(source, target)
        if not route or not route[0].engines:
            return None
        engine = route[0].engines[0]
        if not isinstance(engine, ApertiumTranslator):
            return None
        try:
            return engine.pair_analyser(route[0].source, route[0].target)
        except (OSError, SyndicateError):
            return None

    def analyser_identity(self, language: Lang) -> str:
        """What ``language``'s analyser is made from ("" for none): part of the rules."""
        found = self.analyser(language)
        return found.identity if found is not None else ""

    def close(self) -> None:
        """Stop every engine that was started (models unloaded, Apertium stopped)."""
        with self._lock:
            preparing, self._preparing = self._preparing, []
        for thread in preparing:  # nothing may start after the engines are closed
            thread.join()
        engines, self._engines = self._engines, {}
        for engine in engines.values():
            if engine is not None:
                engine.close()
        dictionaries, self._dictionaries = self._dictionaries, None
        self._analysers = {}
        if dictionaries is not None and dictionaries not in engines.values():
            dictionaries.close()
