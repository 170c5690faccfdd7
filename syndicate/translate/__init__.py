"""Translation: the Translator protocol, its engines, sentence segmentation.

Engines are registered with their settings classes in
:data:`syndicate.config.ENGINE_TYPES` (the only list of their names); each settings
class names its implementation by import path, imported here only when an engine is
made, so importing this package stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING

from syndicate.config import ENGINE_TYPES, load_implementation
from syndicate.translate.base import Translator

if TYPE_CHECKING:
    from syndicate.config import Settings


def make_engine(name: str, settings: Settings) -> Translator:
    """The engine registered as ``name``, built from its ``[translate.<name>]`` settings."""
    engine_settings = settings.translate.engine(name)
    implementation = load_implementation(type(engine_settings).implementation)
    translator: Translator = implementation(**engine_settings.options(settings.resolve))
    return translator


#: Engine factories by config name, one per entry of :data:`~syndicate.config.ENGINE_TYPES`.
ENGINES: Mapping[str, Callable[[Settings], Translator]] = {name: partial(make_engine, name) for name in ENGINE_TYPES}

__all__ = ["ENGINES", "Translator", "make_engine"]
