"""MkDocs hook: the settings reference, generated from syndicate/config/ at every build.

``{{ settings_reference }}`` in a page becomes one table per configuration section: each
key, its type, its default and what it does, taken from the settings classes themselves
(the ``#:`` comment above a field, else its ``Field(description=...)``; the class's
docstring introduces the section), so the reference cannot drift from the code.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

PLACEHOLDER = "{{ settings_reference }}"


def _field_comments(cls: type) -> dict[str, str]:
    """{field: the ``#:`` comment lines just above it} for one class, from its source."""
    source = inspect.getsource(cls)
    lines = source.splitlines()
    tree = ast.parse(source)
    out: dict[str, str] = {}
    klass = tree.body[0]
    assert isinstance(klass, ast.ClassDef)
    for node in klass.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            comment: list[str] = []
            n = node.lineno - 2
            while n >= 0 and lines[n].strip().startswith("#:"):
                comment.insert(0, lines[n].strip()[2:].strip())
                n -= 1
            if comment:
                out[node.target.id] = " ".join(comment)
    return out


def _type_name(annotation: Any) -> str:
    text = str(annotation).replace("typing.", "")
    text = re.sub(r"<class '([\w.]+)'>", r"\1", text)
    text = re.sub(r"Annotated\[([^,\]]+)[^\]]*\]", r"\1", text)
    text = re.sub(r"(?:\w+\.)+(\w+)", r"\1", text)  # syndicate.models.Lang -> Lang
    text = re.sub(r"Optional\[(.*)\]$", r"\1 | None", text)
    text = re.sub(r"\bLang\b", "language", text)
    return text.replace("timedelta", "duration")


def _default(field: Any) -> str:
    from pydantic_core import PydanticUndefined

    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if value is PydanticUndefined:
        return ""
    from datetime import timedelta

    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds and seconds % size == 0:
                return f'"{seconds // size}{unit}"'
        return f'"{seconds}s"'
    if hasattr(value, "model_dump"):
        return "(table)"
    if isinstance(value, Path):
        return f'`"{value}"`'
    return f"`{value!r}`" if not isinstance(value, str) else f'`"{value}"`'


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and hasattr(annotation, "model_fields")


def _table(title: str, cls: type, skip: set[str] = frozenset()) -> tuple[list[str], list[tuple[str, type]]]:
    """One section's markdown, and the sub-tables (name, class) it holds."""
    comments = {}
    for klass in reversed(cls.__mro__):
        if hasattr(klass, "model_fields") and klass.__module__.startswith("syndicate"):
            comments.update(_field_comments(klass))
    doc = inspect.getdoc(cls) or ""
    out = [f"### `{title}`", "", doc.replace("``", "`"), "", "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    nested: list[tuple[str, type]] = []
    for name, field in cls.model_fields.items():
        if name in skip:
            continue
        annotation = field.annotation
        if _is_model(annotation):
            nested.append((name, annotation))
            continue
        meaning = comments.get(name) or field.description or ""
        out.append(f"| `{name}` | `{_cell(_type_name(annotation))}` | {_cell(_default(field))} | "
                   f"{_cell(meaning.replace('``', '`'))} |")
    out.append("")
    return out, nested


def settings_reference() -> str:
    from syndicate.config import ENGINE_TYPES, SOURCE_TYPES, Settings

    out: list[str] = []
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if name in ("root", "sources"):
            continue
        if not _is_model(annotation):
            continue
        skip = {"engine_settings"} if name == "translate" else set()
        lines, nested = _table(f"[{name}]", annotation, skip)
        out += lines
        for child, cls in nested:
            more, _ = _table(f"[{name}.{child}]", cls)
            out += more
        if name == "translate":
            for engine, cls in ENGINE_TYPES.items():
                more, _ = _table(f"[translate.{engine}]", cls, {"type"})
                out += more
    for kind, cls in SOURCE_TYPES.items():
        lines, nested = _table(f'[[sources]] type = "{kind}"', cls, {"type"})
        out += lines
        for child, sub in nested:
            more, _ = _table(f"[sources.{child}]", sub)
            out += more
    return "\n".join(out)


def on_page_markdown(markdown: str, **_kwargs: Any) -> str:
    if PLACEHOLDER in markdown:
        return markdown.replace(PLACEHOLDER, settings_reference())
    if "{{ changelog }}" in markdown:  # the repository's CHANGELOG.md, kept in one place
        return (Path(__file__).resolve().parent.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    return markdown


__all__ = ["on_page_markdown", "settings_reference"]
