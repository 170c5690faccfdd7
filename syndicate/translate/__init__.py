"""Translation: the Translator protocol, its engines, sentence segmentation.

Engines are looked up by name in :data:`ENGINES`; their modules import heavy libraries
lazily, so importing this package stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from syndicate.translate.base import Translator

if TYPE_CHECKING:
    from syndicate.config import Settings


def _argos(settings: Settings) -> Translator:
    from syndicate.translate.argos import ArgosTranslator

    return ArgosTranslator(
        packages_dir=settings.resolve(settings.translate.argos_packages_dir)
        if settings.translate.argos_packages_dir
        else None,
        beam_size=settings.translate.beam_size,
    )


def _apertium(settings: Settings) -> Translator:
    from syndicate.translate.apertium import ApertiumTranslator

    return ApertiumTranslator()


#: Engine registry: config name -> factory.
ENGINES: dict[str, Callable[[Settings], Translator]] = {
    "argos": _argos,
    "apertium": _apertium,
}

__all__ = ["ENGINES", "Translator"]
