"""The test servers themselves: they start, answer, restart with their data, and stop."""

from __future__ import annotations

import sqlalchemy as sa

from tests.services import PostgresServer, RedisServer


def test_postgres_answers_and_databases_are_separate(postgres_server: PostgresServer, fresh_postgres_url: str) -> None:
    engine = sa.create_engine(fresh_postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x int)"))
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('publish:es'))"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 1
    finally:
        engine.dispose()
    other = postgres_server.create_database()
    assert other != fresh_postgres_url
    assert (
        "t"
        not in postgres_server.psql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database=other.rsplit("/", 1)[1]
        ).split()
    )


def test_redis_restart_keeps_queued_data() -> None:
    with RedisServer() as server:
        assert server.command("RPUSH", "q", "a", "b") == b":2\r\n"
        port = server.port
        server.restart(down_for=0.2)
        assert server.port == port
        assert server.command("LLEN", "q") == b":2\r\n"
    assert not server.dir.exists()


def test_fresh_redis_db_is_empty(redis_server: RedisServer, fresh_redis_url: str) -> None:
    assert fresh_redis_url.startswith(f"redis://127.0.0.1:{redis_server.port}/")
    db = fresh_redis_url.rsplit("/", 1)[1]
    assert redis_server.command(f"SELECT {db}\r\nDBSIZE", expect=2).endswith(b":0\r\n")
