"""The cluster tests: real Redis and PostgreSQL come from tests/services.py via tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.cluster.harness import cluster_config, reference


@pytest.fixture(scope="session")
def expected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The single-machine outputs (``once`` on SQLite at the fixed clock), made once."""
    return reference(tmp_path_factory.mktemp("single"))


@pytest.fixture(scope="session")
def expected_40(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The single-machine outputs over the sample and 40 generated articles, made once
    (the outage tests' reference)."""
    directory = tmp_path_factory.mktemp("single-40")
    cluster_config(directory, broker_url=None, store_url=None, generated=40)
    return reference(directory)
