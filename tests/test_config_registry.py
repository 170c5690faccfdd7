"""Config is the bottom layer: registries, cross-field checks, ``[cluster]``."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import (
    ENGINE_TYPES,
    SOURCE_TYPES,
    ArgosSettings,
    ClusterSettings,
    Settings,
    load_implementation,
    parse_settings,
)
from syndicate.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

BASE: dict[str, Any] = {
    "site": {"title": "T", "base_url": "https://x.org"},
    "translate": {"languages": ["es"]},
    "sources": [{"name": "a", "type": "folder", "path": "x"}],
}

#: The stage packages config must never load.
STAGES = ("sources", "extract", "translate", "store", "publish", "pipeline", "scheduler", "serve", "work")


def _problems(data: dict[str, Any]) -> dict[str, tuple[object, str]]:
    with pytest.raises(ConfigError) as info:
        parse_settings(data)
    return {key: (value, reason) for key, value, reason in info.value.problems}


def _modules_after(code: str) -> list[str]:
    """syndicate's modules loaded by ``code`` in a fresh interpreter."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in sys.modules if 'syndicate' in m)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    return list(json.loads(result.stdout.splitlines()[-1]))


def _stages(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith("syndicate.") and m.split(".")[1] in STAGES]


def test_importing_config_loads_no_stage() -> None:
    assert _stages(_modules_after("import syndicate.config")) == []


def test_validating_a_whole_config_loads_no_stage() -> None:
    """Cron lines and selectors are checked through leaf modules, not their stages."""
    code = (
        "from syndicate.config import load_settings, parse_settings\n"
        "load_settings()\n"
        "parse_settings({'site': {'title': 'T', 'base_url': 'https://x.org'}, 'translate': {'languages': ['es']},"
        " 'sources': [{'name': 'p', 'type': 'pages', 'start_url': 'https://x.org/a', 'cron': '0 6 * * 1-5',"
        " 'selectors': {'body': 'article .body', 'prev': 'xpath://a[@rel=\"prev\"]'}}]})"
    )
    modules = _modules_after(code)
    assert _stages(modules) == []
    assert "syndicate.cron" in modules


def test_a_bad_field_and_duplicate_source_names_are_reported_together() -> None:
    problems = _problems(
        {
            **BASE,
            "site": {"title": "T", "base_url": "ftp://x.org"},
            "sources": [
                {"name": "a", "type": "folder", "path": "x", "interval": "soon"},
                {"name": "a", "type": "folder", "path": "y"},
            ],
        }
    )
    assert problems["site.base_url"][0] == "ftp://x.org"
    assert problems["sources[0].interval"][0] == "soon"
    assert problems["sources[1].name"][0] == "a"
    assert "repeated: a" in problems["sources[1].name"][1]


def test_cron_and_interval_together_is_reported_beside_a_bad_interval_elsewhere() -> None:
    problems = _problems(
        {
            **BASE,
            "sources": [
                {"name": "a", "type": "folder", "path": "x", "interval": "1m", "cron": "*/5 * * * *"},
                {"name": "b", "type": "folder", "path": "y", "cron": "not cron"},
            ],
            "translate": {"languages": ["es"], "bilingual": ["ca"], "beam_size": 99},
        }
    )
    assert problems["sources[0].cron"] == ("*/5 * * * *", "give either interval or cron, not both")
    assert "5-field cron" in problems["sources[1].cron"][1]
    assert "'ca' not in translate.languages" in problems["translate.bilingual"][1]
    assert problems["translate.beam_size"][0] == 99


def test_settings_built_directly_are_cross_checked_too() -> None:
    data = {**BASE, "sources": [BASE["sources"][0], BASE["sources"][0]]}
    with pytest.raises(ValueError, match="repeated: a"):
        Settings.model_validate(data)


def test_source_union_and_engine_names_come_from_the_registries() -> None:
    assert set(SOURCE_TYPES) == {"folder", "feed", "pages"}
    assert set(ENGINE_TYPES) == {"argos", "apertium"}
    problems = _problems(
        {**BASE, "sources": [{"name": "a", "type": "ftp"}], "translate": {"languages": ["es"], "engines": ["deepl"]}}
    )
    assert all(name in problems["sources[0].type"][1] for name in SOURCE_TYPES)
    assert problems["translate.engines[0]"][0] == "deepl"
    assert all(name in problems["translate.engines[0]"][1] for name in ENGINE_TYPES)


@pytest.mark.parametrize("kind", [*SOURCE_TYPES.values(), *ENGINE_TYPES.values()], ids=lambda k: k.__name__)
def test_every_settings_class_names_an_importable_implementation(kind: Any) -> None:
    implementation = load_implementation(kind.implementation)
    assert isinstance(implementation, type)
    assert kind.implementation.endswith(":" + implementation.__name__)


def test_old_engine_keys_in_translate_still_load() -> None:
    settings = parse_settings({**BASE, "translate": {"languages": ["es"], "beam_size": 2, "argos_packages_dir": "pk"}})
    argos = settings.translate.engine("argos")
    assert isinstance(argos, ArgosSettings)
    assert (argos.beam_size, argos.packages_dir) == (2, Path("pk"))
    assert (settings.translate.beam_size, settings.translate.argos_packages_dir) == (2, Path("pk"))
    assert settings.translate.engine("apertium").engine == "apertium"


def test_engine_tables_load_and_their_problems_name_the_table_key() -> None:
    settings = parse_settings({**BASE, "translate": {"languages": ["es"], "argos": {"beam_size": 1}}})
    assert settings.translate.beam_size == 1
    problems = _problems(
        {**BASE, "translate": {"languages": ["es"], "argos": {"beam_size": 0, "beams": 2}, "apertium": {"x": 1}}}
    )
    assert problems["translate.argos.beam_size"][0] == 0
    assert "unknown key" in problems["translate.argos.beams"][1]
    assert "unknown key" in problems["translate.apertium.x"][1]
    both = _problems({**BASE, "translate": {"languages": ["es"], "beam_size": 3, "argos": {"beam_size": 2}}})
    assert "translate.argos.beam_size" in both["translate.beam_size"][1]


def test_engines_are_made_from_their_settings(tmp_path: Path) -> None:
    from syndicate.translate import engine_factories

    assert set(engine_factories()) == set(ENGINE_TYPES)
    settings = parse_settings(
        {**BASE, "translate": {"languages": ["es"], "argos": {"beam_size": 2, "packages_dir": "pk"}}}, root=tmp_path
    )
    argos: Any = engine_factories()["argos"](settings)
    assert type(argos).__name__ == "ArgosTranslator"
    assert (argos.beam_size, argos.packages_dir) == (2, tmp_path / "pk")
    # A cluster worker child's engine, held to its share of the cores by its settings class.
    limited: Any = engine_factories(threads=3)["argos"](settings)
    assert (limited.inter_threads, limited.intra_threads, limited.beam_size) == (1, 3, 2)


def test_make_source_imports_the_implementation_and_passes_options(tmp_path: Path) -> None:
    from syndicate.sources import make_source

    settings = parse_settings(BASE, root=tmp_path)

    def stop() -> bool:
        return True

    source = make_source(settings.sources[0], tmp_path, should_stop=stop)
    assert type(source).__name__ == "FolderSource"


def test_cluster_is_off_by_default() -> None:
    cluster = parse_settings(BASE).cluster
    assert cluster == ClusterSettings()
    assert not cluster.enabled and cluster.store_url is None and cluster.results_url is None
    assert (cluster.visibility_timeout, cluster.task_time_limit) == (timedelta(hours=2), timedelta(hours=1))
    assert (cluster.max_redeliveries, cluster.translate_prefetch, cluster.worker_threads) == (3, 1, 1)


def test_cluster_urls_are_checked_and_normalised_without_connecting() -> None:
    cluster = parse_settings(
        {
            **BASE,
            "cluster": {
                "broker_url": "redis://nowhere.invalid:6379/0",
                "store_url": "postgresql://s@db.invalid/syndicate",
                "visibility_timeout": "3h",
                "task_time_limit": "2h",
                "worker_threads": 2,
            },
        }
    ).cluster
    assert cluster.enabled and cluster.results_url == "redis://nowhere.invalid:6379/0"
    assert cluster.store_url == "postgresql+psycopg://s@db.invalid/syndicate"
    assert cluster.visibility_timeout == timedelta(hours=3)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("broker_url", "http://x", "must be a redis://"),
        ("broker_url", "redis://", "names no Redis host"),
        ("broker_url", "redis://r:70000/0", "bad port in 'r:70000'"),
        ("result_backend", "amqp://r", "must be a redis://"),
        ("store_url", "mysql://db/x", "must be a postgresql:// URL"),
        ("store_url", "postgresql://db.example", "names no database (host 'db.example')"),
        ("max_redeliveries", 0, "greater than or equal to 1"),
        ("task_time_limit", "soon", "must be a duration"),
    ],
)
def test_bad_cluster_settings_name_their_key(key: str, value: object, reason: str) -> None:
    problems = _problems({**BASE, "cluster": {"broker_url": "redis://r/0", key: value}})
    assert problems[f"cluster.{key}"][0] == value
    assert reason in problems[f"cluster.{key}"][1]


def test_visibility_timeout_must_exceed_the_task_time_limit() -> None:
    problems = _problems({**BASE, "cluster": {"broker_url": "redis://r/0", "task_time_limit": "3h"}})
    assert problems["cluster.visibility_timeout"] == ("2h", problems["cluster.visibility_timeout"][1])
    assert "cluster.task_time_limit (3h)" in problems["cluster.visibility_timeout"][1]
    assert "cluster.result_backend" in _problems({**BASE, "cluster": {"result_backend": "redis://r/1"}})


def test_passwords_in_cluster_urls_are_not_repeated() -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(
            {**BASE, "cluster": {"broker_url": "http://u:hunter2@r/0", "store_url": "postgresql://u:hunter2@db"}}
        )
    assert "hunter2" not in str(info.value)
    assert "cluster.broker_url = 'http://u:***@r/0'" in str(info.value)
    settings = parse_settings({**BASE, "cluster": {"broker_url": "redis://:hunter2@r/0"}})
    assert "hunter2" not in repr(settings)
