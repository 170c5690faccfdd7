"""config.toml -> frozen, validated :class:`Settings`.

Every problem is reported at once with its key path and the bad value; nothing here
exits or prints (only ``cli.py`` does). Checks that compare fields run on the raw
document, so they are reported beside any field's own problem.

This is the bottom layer: it imports no stage. By concern:

- :mod:`~syndicate.config.settings`: :class:`Settings`, :func:`load_settings`,
  :func:`parse_settings`, :func:`reloadable`;
- :mod:`~syndicate.config.sections`: ``[site]``, ``[output]``, ``[translate]``,
  ``[extract]``, ``[serve]``, ``[review]``, ``[publish]``, ``[websub]``, ``[cluster]``;
- :mod:`~syndicate.config.sources` and :mod:`~syndicate.config.engines`: each source type
  and each translation engine is a settings class registered in :data:`SOURCE_TYPES` or
  :data:`ENGINE_TYPES` (the only lists of their names), naming its implementation by
  import path (``"syndicate.sources.folder:FolderSource"``), which the stage's factory
  imports when it makes one; :func:`register_source` and :func:`register_engine` add one;
- :mod:`~syndicate.config.problems`: pydantic's errors and the cross-field checks in the
  words of config.toml;
- :mod:`~syndicate.config.base`: what they share (durations, language tags, URLs).

Everything public is importable from ``syndicate.config`` itself.
"""

from __future__ import annotations

from syndicate.config.base import (
    DEFAULT_ATTRIBUTION_PATTERNS,
    DEFAULT_CONFIG,
    DEFAULT_INTERVAL,
    MAX_DURATION,
    MAX_FILTER_TERMS,
    MAX_RESPONSE_BYTES,
    MAX_TIMEOUT,
    PROBE_SECONDS,
    Duration,
    load_implementation,
    parse_duration,
)
from syndicate.config.engines import (
    ENGINE_TYPES,
    AnyEngineSettings,
    ApertiumSettings,
    ArgosSettings,
    EngineName,
    EngineSettings,
    register_engine,
)
from syndicate.config.sections import (
    ClusterSettings,
    ExtractSettings,
    LanguageQuality,
    OutputSettings,
    PublishSettings,
    QualitySettings,
    ReviewSettings,
    ServeSettings,
    SiteSettings,
    TranslateSettings,
    WebSubSettings,
)
from syndicate.config.settings import (
    MAX_CONFIG_BYTES,
    RESTART_KEYS,
    Settings,
    load_settings,
    machine_cache_dir,
    parse_settings,
    reloadable,
)
from syndicate.config.sources import (
    SOURCE_TYPES,
    FeedSourceSettings,
    FolderSourceSettings,
    HttpSourceSettings,
    PageSelectors,
    PagesSourceSettings,
    SourceSettings,
    register_source,
)

__all__ = [
    "DEFAULT_ATTRIBUTION_PATTERNS",
    "DEFAULT_CONFIG",
    "DEFAULT_INTERVAL",
    "ENGINE_TYPES",
    "MAX_CONFIG_BYTES",
    "MAX_DURATION",
    "MAX_FILTER_TERMS",
    "MAX_RESPONSE_BYTES",
    "MAX_TIMEOUT",
    "PROBE_SECONDS",
    "RESTART_KEYS",
    "SOURCE_TYPES",
    "AnyEngineSettings",
    "ApertiumSettings",
    "ArgosSettings",
    "ClusterSettings",
    "Duration",
    "EngineName",
    "EngineSettings",
    "ExtractSettings",
    "FeedSourceSettings",
    "FolderSourceSettings",
    "HttpSourceSettings",
    "LanguageQuality",
    "OutputSettings",
    "PageSelectors",
    "PagesSourceSettings",
    "PublishSettings",
    "QualitySettings",
    "ReviewSettings",
    "ServeSettings",
    "Settings",
    "SiteSettings",
    "SourceSettings",
    "TranslateSettings",
    "WebSubSettings",
    "load_implementation",
    "load_settings",
    "machine_cache_dir",
    "parse_duration",
    "parse_settings",
    "register_engine",
    "register_source",
    "reloadable",
]
