"""A small tmpfs for disk-full tests: mounted when the test may mount, else the test skips."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted_tmpfs(where: Path, size: str = "512k", *, read_only: bool = False) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` at ``where`` for the block, or skip the calling test.

    ``read_only`` mounts it read-only: unlike a chmod, that stops root too."""
    where.mkdir(parents=True, exist_ok=True)
    mount = shutil.which("mount")
    if mount is None:
        pytest.skip("no `mount` command: cannot make a small file system to fill")
    result = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size},mode=0755" + (",ro" if read_only else ""), "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {result.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 512 KB file system, empty, at ``tmp_path / "small"``."""
    with mounted_tmpfs(tmp_path / "small") as where:
        yield where
