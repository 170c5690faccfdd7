"""The translation engines' settings and their registry (:data:`ENGINE_TYPES`): one
settings class per engine says everything the rest of the code asks of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, SerializeAsAny

from syndicate.config.base import _check_implementation, _Frozen, _tag


class EngineSettings(_Frozen):
    """What every ``[translate.<engine>]`` table shares, and what the rest of the code asks
    of an engine. Each engine subclasses it with its own options and is registered in
    :data:`ENGINE_TYPES` (or by :func:`register_engine`): ``models list``, the install
    hints, the cluster's thread limits and :func:`syndicate.translate.make_engine` read it."""

    #: The engine's name (the registry key); set from the table's name, never written.
    engine: str
    #: ``"module:Class"`` of the :class:`~syndicate.translate.base.Translator`.
    implementation: ClassVar[str]
    #: What people call it (``syndicate models list``).
    label: ClassVar[str] = ""
    #: Keys that older config files put in ``[translate]`` itself -> this table's key.
    legacy_keys: ClassVar[Mapping[str, str]] = {}
    #: ``"module:function"`` naming the system packages that serve language pairs,
    #: ``(pairs, pivot language) -> (package names, pairs none serves)``, for
    #: ``syndicate models packages``; "" when the engine needs none.
    system_packages: ClassVar[str] = ""

    def options(self, resolve: Callable[[Path], Path]) -> dict[str, Any]:
        """Keyword arguments for the implementation's constructor (paths resolved)."""
        return {}

    def thread_options(self, threads: int) -> dict[str, Any]:
        """Constructor arguments that hold the engine to ``threads`` native threads (a
        cluster worker child's share of the machine); {} when it starts none of its own."""
        return {}

    def install_hint(self, source: str, target: str) -> str:
        """How an operator gives this engine the pair ``source``-``target``."""
        return f"a model of the {self.engine} engine for {source}->{target}"

    def describe(self, engine: Any) -> str:
        """What ``models list`` says of a made engine beside its pairs (where its models are)."""
        return ""


class ArgosSettings(EngineSettings):
    """``[translate.argos]``: Argos Translate (OpenNMT models on CTranslate2)."""

    engine: Literal["argos"] = "argos"
    implementation: ClassVar[str] = "syndicate.translate.argos:ArgosTranslator"
    label: ClassVar[str] = "Argos Translate"
    legacy_keys: ClassVar[Mapping[str, str]] = {"beam_size": "beam_size", "argos_packages_dir": "packages_dir"}

    #: Beam width of CTranslate2's search: wider is slower and sometimes better.
    beam_size: Annotated[int, Field(ge=1, le=16)] = 4
    #: Where Argos packages live; default: Argos's own (ARGOS_PACKAGES_DIR or
    #: ~/.local/share/argos-translate/packages).
    packages_dir: Path | None = None

    def options(self, resolve: Callable[[Path], Path]) -> dict[str, Any]:
        return {"packages_dir": resolve(self.packages_dir) if self.packages_dir else None, "beam_size": self.beam_size}

    def thread_options(self, threads: int) -> dict[str, Any]:
        # One translation at a time per child, on its share of the cores.
        return {"inter_threads": 1, "intra_threads": threads}

    def install_hint(self, source: str, target: str) -> str:
        return (
            f"`syndicate models install {source} {target}` (online) or "
            f"`syndicate models install --file translate-{source}_{target}.argosmodel`"
        )

    def describe(self, engine: Any) -> str:
        return f"packages in {engine.packages_dir}"


class ApertiumSettings(EngineSettings):
    """``[translate.apertium]``: Apertium's rule-based pipelines (Debian packages)."""

    engine: Literal["apertium"] = "apertium"
    implementation: ClassVar[str] = "syndicate.translate.apertium:ApertiumTranslator"
    label: ClassVar[str] = "Apertium"
    system_packages: ClassVar[str] = "syndicate.translate.apertium:system_packages"

    def install_hint(self, source: str, target: str) -> str:
        return f"the Debian package for Apertium's {source}-{target} pair (`apt-cache search apertium-`)"

    def describe(self, engine: Any) -> str:
        return f"language pairs in {engine.modes_dir} (Debian packages apertium-*)"


#: Engine registry: the name in ``translate.engines`` and ``[translate.<name>]`` -> its
#: settings class, which carries everything the rest of the code asks of an engine (its
#: implementation, label, install hint, thread options, what ``models list`` shows). The
#: only list of engine names; :func:`register_engine` adds one at run time.
ENGINE_TYPES: dict[str, type[EngineSettings]] = {
    "argos": ArgosSettings,
    "apertium": ApertiumSettings,
}

#: A configured engine name (checked against :data:`ENGINE_TYPES` when a config loads).
EngineName = str
#: One ``[translate.<engine>]`` table's settings, of its registered class.
AnyEngineSettings = SerializeAsAny[EngineSettings]


def _registered_engine(value: str) -> str:
    """``value`` names a registered engine."""
    if value not in ENGINE_TYPES:
        raise ValueError(f"must be one of {', '.join(ENGINE_TYPES)}")
    return value


def register_engine(kind: type[EngineSettings]) -> None:
    """Make ``translate.engines = ["<name>"]`` and ``[translate.<name>]`` use ``kind``: a
    subclass of :class:`EngineSettings` with ``engine: Literal["<name>"]`` and an
    ``implementation`` (its ``label``, ``install_hint``, ``thread_options``, ``describe``
    and ``system_packages`` have defaults). An engine is this and its own module."""
    if not (isinstance(kind, type) and issubclass(kind, EngineSettings)):
        raise TypeError(f"{kind!r} is not an engine settings class")
    _check_implementation(kind)
    ENGINE_TYPES[_tag(kind, "engine")] = kind
