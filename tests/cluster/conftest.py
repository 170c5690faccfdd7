"""The cluster tests' servers: real Redis and PostgreSQL (tests/services.py)."""

from tests.services import (  # noqa: F401 - pytest fixtures
    fresh_postgres_url,
    fresh_redis_url,
    postgres_server,
    postgres_url,
    redis_server,
    redis_url,
)
