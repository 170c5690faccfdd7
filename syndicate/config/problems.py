"""Every problem of a config file in the words of config.toml: pydantic's errors turned
into (key path, bad value, reason), the checks that compare fields, secrets redacted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syndicate.config.base import (
    _DURATION_UNITS,
    _SECRET_URL_KEYS,
    _check_lang,
    _has_password,
    _redacted,
    parse_duration,
)
from syndicate.config.engines import ENGINE_TYPES
from syndicate.config.sections import ClusterSettings, OutputSettings
from syndicate.config.sources import SOURCE_TYPES
from syndicate.models import lang


def _key_path(loc: tuple[int | str, ...], data: dict[str, Any]) -> tuple[str, object]:
    """Turn a pydantic error location into ``sources[1].path`` and fetch the bad value."""
    parts: list[str] = []
    value: object = data
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            if item in ("function-after", "function-before") or item.startswith("function-"):
                continue
            parts.append(("." if parts else "") + item)
        try:
            value = value[item]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            value = "<missing>"
    return "".join(parts) or "<root>", value


#: Why two folders must not overlap, by the kind of the second one.
_OVERLAP_HARM = {
    "state": "the state (its database) would be published with the outputs, or swept with them",
    "output": "the two outputs would overwrite each other's index.html and files",
    "source": "the next poll would read syndicate's own pages back as articles",
}


def _folder_problems(data: dict[str, Any], root: Path) -> list[tuple[str, object, str]]:
    """Output folders that are the state folder, a folder source or each other, or inside
    or around one: each one's key, its value and the folder it collides with.

    Checked on the raw document, so these are reported beside any other problem; values
    of the wrong type are left to the schema's own messages.
    """
    output = data.get("output")
    output = output if isinstance(output, dict) else {}
    folders: dict[str, tuple[str, Path]] = {}
    for name in ("feeds_dir", "translations_dir", "state_dir"):
        value = output.get(name, str(OutputSettings.model_fields[name].default))
        if isinstance(value, str) and value.strip():
            folders[f"output.{name}"] = (value, _absolute(root, value))
    sources = data.get("sources")
    for index, source in enumerate(sources if isinstance(sources, list) else []):
        value = source.get("path") if isinstance(source, dict) and source.get("type") == "folder" else None
        if isinstance(value, str) and value.strip():
            folders[f"sources[{index}].path"] = (value, _absolute(root, value))

    problems: list[tuple[str, object, str]] = []
    outputs = ["output.feeds_dir", "output.translations_dir"]
    pairs = [(key, "output.state_dir", "state") for key in outputs]
    pairs.append(("output.translations_dir", "output.feeds_dir", "output"))
    pairs += [(key, other, "source") for key in outputs for other in folders if other.startswith("sources[")]
    for key, other, kind in pairs:
        if key not in folders or other not in folders:
            continue
        (value, mine), (other_value, theirs) = folders[key], folders[other]
        if mine == theirs:
            where = "is the same folder as"
        elif mine.is_relative_to(theirs):
            where = "is inside"
        elif theirs.is_relative_to(mine):
            where = "contains"
        else:
            continue
        problems.append(
            (
                key,
                value,
                f"{where} {other} ({other_value!r}, {theirs}): {_OVERLAP_HARM[kind]}; give each a separate folder, "
                "neither inside the other",
            )
        )
    return problems


def _absolute(root: Path, value: str) -> Path:
    """A configured folder as the file system will see it (symlinks followed where they exist)."""
    return (root / value).resolve()


Problem = tuple[str, object, str]


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _source_tables(data: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    sources = data.get("sources")
    if not isinstance(sources, list | tuple):
        return []
    return [(index, source) for index, source in enumerate(sources) if isinstance(source, Mapping)]


def _unique_name_problems(data: Mapping[str, Any]) -> list[Problem]:
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for index, source in _source_tables(data):
        name = source.get("name")
        if not isinstance(name, str):
            continue  # the schema reports it
        if name in first:
            problems.append(
                (
                    f"sources[{index}].name",
                    name,
                    f"source names must be unique; repeated: {name} (first at sources[{first[name]}])",
                )
            )
        else:
            first[name] = index
    return problems


def _schedule_problems(data: Mapping[str, Any]) -> list[Problem]:
    return [
        (f"sources[{index}].cron", source["cron"], "give either interval or cron, not both")
        for index, source in _source_tables(data)
        if source.get("cron") is not None and source.get("interval") is not None
    ]


def _bilingual_problems(data: Mapping[str, Any]) -> list[Problem]:
    translate = _table(data, "translate")
    targets, bilingual = translate.get("languages"), translate.get("bilingual")
    if not isinstance(targets, list | tuple) or not isinstance(bilingual, list | tuple):
        return []
    if not all(isinstance(code, str) for code in (*targets, *bilingual)):
        return []  # the schema reports it
    known = {lang(code) for code in targets}
    unknown = [code for code in bilingual if lang(code) not in known]
    if not unknown:
        return []
    return [
        (
            "translate.bilingual",
            bilingual,
            f"{', '.join(map(repr, unknown))} not in translate.languages {list(targets)}; "
            "add it there or remove it here",
        )
    ]


def _source_language_problems(data: Mapping[str, Any]) -> list[Problem]:
    """``[[sources]] languages`` names only languages of ``[translate] languages``, and at
    least one."""
    targets = _table(data, "translate").get("languages")
    sources = data.get("sources")
    if not isinstance(targets, list | tuple) or not isinstance(sources, list):
        return []
    if not all(isinstance(code, str) for code in targets):
        return []
    try:
        known = {lang(code) for code in targets}
    except ValueError:
        return []  # the schema reports it
    problems: list[Problem] = []
    for n, source in enumerate(sources):
        chosen = source.get("languages") if isinstance(source, dict) else None
        if not isinstance(chosen, list | tuple) or not all(isinstance(code, str) for code in chosen):
            continue
        try:
            unknown = [code for code in chosen if _check_lang(code) not in known]
        except ValueError:
            continue  # the schema reports the bad code
        if unknown:
            problems.append(
                (
                    f"sources[{n}].languages",
                    list(chosen),
                    f"{', '.join(map(repr, unknown))} not in translate.languages {list(targets)}; "
                    "add it there or remove it here",
                )
            )
        elif not chosen:
            problems.append((f"sources[{n}].languages", [], "names no language; leave it out for every language"))
    return problems


def _review_problems(data: Mapping[str, Any]) -> list[Problem]:
    """[translate.review] names only languages syndicate translates into."""
    translate = _table(data, "translate")
    targets, review = translate.get("languages"), translate.get("review")
    if not isinstance(targets, list | tuple) or not isinstance(review, dict):
        return []
    try:
        known = {lang(str(code)) for code in targets}
        unknown = [code for code in review if lang(str(code)) not in known]
    except ValueError:
        return []  # the schema reports it
    if not unknown:
        return []
    return [
        (
            "translate.review",
            review,
            f"{', '.join(map(repr, unknown))} not in translate.languages {list(targets)}; "
            "add it there or remove it here",
        )
    ]


def _glossary_problems(data: Mapping[str, Any]) -> list[Problem]:
    """[translate.glossary.<lang>] names only languages syndicate translates into (one for
    another language would be ignored without a word)."""
    translate = _table(data, "translate")
    targets, glossary = translate.get("languages"), translate.get("glossary")
    if not isinstance(targets, list | tuple) or not isinstance(glossary, dict):
        return []
    try:
        known = {lang(str(code)) for code in targets}
        unknown = [code for code in glossary if lang(str(code)) not in known]
    except ValueError:
        return []  # the schema reports it
    return [
        (
            f"translate.glossary.{code}",
            "(table)",
            f"{code!r} is not in translate.languages {list(targets)}: its glossary would never be used; "
            "add the language there or remove the table",
        )
        for code in unknown
    ]


def _engine_key_problems(data: Mapping[str, Any]) -> list[Problem]:
    """An engine option given both the old way (``[translate]``) and in its own table."""
    translate = _table(data, "translate")
    problems: list[Problem] = []
    for name, kind in ENGINE_TYPES.items():
        table = _table(translate, name)
        for old, new in kind.legacy_keys.items():
            if old in translate and new in table:
                problems.append(
                    (
                        f"translate.{old}",
                        translate[old],
                        f"also given as translate.{name}.{new} = {table[new]!r}; keep only translate.{name}.{new}",
                    )
                )
    return problems


def _cluster_problems(data: Mapping[str, Any]) -> list[Problem]:
    cluster = _table(data, "cluster")
    problems: list[Problem] = []
    try:
        visibility = parse_duration(
            cluster.get("visibility_timeout", ClusterSettings.model_fields["visibility_timeout"].default)
        )
        limit = parse_duration(cluster.get("task_time_limit", ClusterSettings.model_fields["task_time_limit"].default))
    except ValueError:
        pass  # the schema reports it
    else:
        if visibility <= limit:
            problems.append(
                (
                    "cluster.visibility_timeout",
                    cluster.get("visibility_timeout", _human_duration(visibility)),
                    (
                        f"must be longer than cluster.task_time_limit ({_human_duration(limit)}), or Redis hands a "
                        "task that is still running to a second worker"
                    ),
                )
            )
    if cluster.get("result_backend") is not None and cluster.get("broker_url") is None:
        problems.append(
            (
                "cluster.result_backend",
                _redacted(cluster["result_backend"]),
                "set cluster.broker_url too (results are only kept for tasks on a broker)",
            )
        )
    return problems


def _human_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    for unit in ("d", "h", "m"):
        if seconds and seconds % _DURATION_UNITS[unit] == 0:
            return f"{int(seconds // _DURATION_UNITS[unit])}{unit}"
    return f"{seconds:g}s"


#: Checks that compare fields (or read one field against another's); each takes the raw
#: document, skips values of the wrong type (the schema reports those) and so runs
#: whatever else is wrong.
_CROSS_FIELD_CHECKS: tuple[Callable[[Mapping[str, Any]], list[Problem]], ...] = (
    _unique_name_problems,
    _schedule_problems,
    _bilingual_problems,
    _source_language_problems,
    _review_problems,
    _glossary_problems,
    _engine_key_problems,
    _cluster_problems,
)


def _cross_field_problems(data: Mapping[str, Any]) -> list[Problem]:
    return [problem for check in _CROSS_FIELD_CHECKS for problem in check(data)]


def _engine_loc(loc: tuple[int | str, ...], data: dict[str, Any]) -> tuple[int | str, ...]:
    """``translate.engine_settings.argos.argos.x`` -> ``translate.argos.x``, or the legacy
    ``translate.<old key>`` when that is where the file gave the value."""
    name = loc[2]
    rest = loc[4:] if len(loc) > 3 and loc[3] == name else loc[3:]
    kind = ENGINE_TYPES.get(str(name))
    translate = _table(data, "translate")
    if kind is not None and rest and rest[0] not in _table(translate, str(name)):
        for old, new in kind.legacy_keys.items():
            if new == rest[0] and old in translate:
                return ("translate", old, *rest[1:])
    return ("translate", name, *rest)


def _validation_problems(exc: ValidationError, data: dict[str, Any]) -> list[tuple[str, object, str]]:
    """pydantic's errors as (key path, bad value, reason), the way config.toml spells them."""
    problems: list[tuple[str, object, str]] = []
    errors = exc.errors(include_url=False)
    bad_sources = any(len(e["loc"]) > 1 and e["loc"][0] == "sources" for e in errors)
    for err in errors:
        loc = tuple(err["loc"])
        if bad_sources and loc == ("sources",) and err["type"] == "too_short":
            continue  # "no valid source" only echoes the errors of each source
        # Sources are a tagged list: drop pydantic's union-branch marker ("feed") from
        # the path, so it reads sources[1].url; a bad or missing tag is the `type` key's.
        if len(loc) > 2 and loc[0] == "sources" and loc[2] in SOURCE_TYPES:
            loc = loc[:2] + loc[3:]
        if len(loc) > 2 and loc[:2] == ("translate", "engine_settings"):
            loc = _engine_loc(loc, data)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "type")
            err["msg"] = f"must be one of {', '.join(SOURCE_TYPES)}"
            if err["type"] == "union_tag_not_found":
                err["type"] = "missing"
        key, value = _key_path(loc, data)
        if key in _SECRET_URL_KEYS or _has_password(value):
            value = [_redacted(v) for v in value] if isinstance(value, list) else _redacted(value)
        if key.startswith("review.editors") or key == "serve.status_token":
            value = "<not shown: may hold a token>"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            value, msg = "<missing>", "required key is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against docs/configuration.md)"
        problems.append((key, value, msg))
    return problems
