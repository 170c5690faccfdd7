"""The documentation site (issue 20, part 2): it builds with MkDocs with every warning an
error (broken links, missing pages, bad anchors), and its configuration reference is
generated from the settings classes, so every key the code reads is there."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from syndicate.config import ENGINE_TYPES, SOURCE_TYPES, Settings

ROOT = Path(__file__).resolve().parent.parent


def _keys(cls: type, out: set[str]) -> set[str]:
    for name, field in cls.model_fields.items():  # type: ignore[attr-defined]
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            _keys(annotation, out)
        elif name not in ("root", "sources", "engine_settings", "type"):
            out.add(name)
    return out


def test_the_site_builds_strict_and_documents_every_key(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    reference = (tmp_path / "site" / "configuration" / "index.html").read_text(encoding="utf-8")
    documented = set(re.findall(r"<td><code>([a-z_]+)</code></td>", reference))
    wanted = _keys(Settings, set())
    for cls in [*SOURCE_TYPES.values(), *ENGINE_TYPES.values()]:
        _keys(cls, wanted)
    assert wanted <= documented, sorted(wanted - documented)
    # Every key says what it does: the comment above its field in syndicate/config/.
    assert not re.findall(r"<td><code>[a-z_]+</code></td>\s*<td>.*?</td>\s*<td>.*?</td>\s*<td></td>", reference)
    assert "Keep a Changelog" in (tmp_path / "site" / "changelog" / "index.html").read_text(encoding="utf-8")


def test_the_readme_is_short_and_points_into_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 200
    assert "make run" in readme and "make test" in readme
    for page in re.findall(r"\]\((docs/[\w/.-]+\.md)\)", readme):
        assert (ROOT / page).is_file(), page
