"""The cluster tests: real Redis and PostgreSQL come from tests/services.py via tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.cluster.harness import reference


@pytest.fixture(scope="session")
def expected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The single-machine outputs (``once`` on SQLite at the fixed clock), made once."""
    return reference(tmp_path_factory.mktemp("single"))
