"""Translation: the Translator protocol, its engines, sentence segmentation.

Engines are registered with their settings classes in
:data:`syndicate.config.ENGINE_TYPES` (the only list of their names); each settings
class names its implementation by import path, imported here only when an engine is
made, so importing this package stays cheap, and says what else the code asks of it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from syndicate.config import ENGINE_TYPES, load_implementation
from syndicate.translate.base import Translator

if TYPE_CHECKING:
    from syndicate.config import Settings


def make_engine(name: str, settings: Settings, *, threads: int | None = None) -> Translator:
    """The engine registered as ``name``, built from its ``[translate.<name>]`` settings
    (held to ``threads`` native threads when given: a cluster worker child's share)."""
    engine_settings = settings.translate.engine(name)
    options = engine_settings.options(settings.resolve)
    if threads is not None:
        options.update(engine_settings.thread_options(threads))
    implementation = load_implementation(type(engine_settings).implementation)
    translator: Translator = implementation(**options)
    return translator


def engine_factories(threads: int | None = None) -> dict[str, Callable[[Settings], Translator]]:
    """A factory per engine registered now (see :data:`~syndicate.config.ENGINE_TYPES`),
    each holding its engine to ``threads`` native threads when given."""
    return {name: partial(make_engine, name, threads=threads) for name in ENGINE_TYPES}


__all__ = ["Translator", "engine_factories", "make_engine"]
