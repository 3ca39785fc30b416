"""Server connections reused across read-only sessions (the console opens one per statement):
reuse happens, and nothing one session set reaches the next (row cap, read-only mode, timeout).
The oracle is the server itself (CONNECTION_ID(), pg_backend_pid(), row counts by its driver)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.databases.backend import StatementTimeout
from emulator.databases.mysql import MySQLBackend
from emulator.databases.postgres import PostgresBackend
from emulator.testing.dbservers import MariaDBServer, PostgresServer

DB = "console_pool"


@pytest.fixture(scope="module")
def servers(
    mariadb_server: MariaDBServer, postgres_server: PostgresServer
) -> Iterator[tuple[MySQLBackend, PostgresBackend, MariaDBServer, PostgresServer]]:
    mariadb_server.query(f"DROP DATABASE IF EXISTS {DB}", database="")
    mariadb_server.query(f"CREATE DATABASE {DB}", database="")
    conn = postgres_server.connect(database="postgres", autocommit=True)
    conn.execute(f"DROP DATABASE IF EXISTS {DB}")
    conn.execute(f"CREATE DATABASE {DB}")
    conn.close()
    for server in (mariadb_server, postgres_server):
        server.query("CREATE TABLE n (i int PRIMARY KEY)", database=DB)
        server.query(
            "INSERT INTO n VALUES " + ", ".join(f"({i})" for i in range(1, 301)), database=DB
        )
    base = lambda dsn: dsn.rsplit("/", 1)[0] + f"/{DB}"  # noqa: E731
    my, pg = MySQLBackend(base(mariadb_server.dsn)), PostgresBackend(base(postgres_server.dsn))
    yield my, pg, mariadb_server, postgres_server
    my.close()
    pg.close()


WHO = {"mysql": "SELECT CONNECTION_ID() AS id", "postgresql": "SELECT pg_backend_pid() AS id"}


@pytest.mark.parametrize("engine", ["mysql", "postgresql"])
def test_read_only_sessions_reuse_a_connection_and_leave_nothing_behind(
    servers: tuple[MySQLBackend, PostgresBackend, MariaDBServer, PostgresServer], engine: str
) -> None:
    my, pg, mariadb, postgres = servers
    backend = my if engine == "mysql" else pg
    server = mariadb if engine == "mysql" else postgres
    with backend.read_only(timeout=5) as s:
        first = s.run(WHO[engine], 10).rows
        capped = s.run("SELECT i FROM n ORDER BY i", 7)
    assert len(capped.rows) == 7 and capped.truncated
    with backend.read_only() as s:  # no timeout this time, no cap: every row streams
        assert s.run(WHO[engine], 10).rows == first  # the same server connection
        rows = [r for batch in s.stream("SELECT i FROM n").batches for r in batch]
    assert len(rows) == server.query("SELECT COUNT(*) FROM n", database=DB)[0][0] == 300
    with backend.read_write(timeout=5) as s:  # a write session is never read-only by accident
        assert s.execute("UPDATE n SET i = i WHERE i = 1") >= 0
        assert s.run(WHO[engine], 10).rows != first  # and never a pooled connection


@pytest.mark.parametrize("engine", ["mysql", "postgresql"])
def test_a_stopped_statement_does_not_return_its_connection(
    servers: tuple[MySQLBackend, PostgresBackend, MariaDBServer, PostgresServer], engine: str
) -> None:
    my, pg, _mariadb, _postgres = servers
    backend = my if engine == "mysql" else pg
    with backend.read_only() as s:
        before = s.run(WHO[engine], 10).rows
    with pytest.raises(StatementTimeout), backend.read_only(timeout=0.5) as s:
        assert s.run(WHO[engine], 10).rows == before
        s.run("SELECT COUNT(*) FROM n a, n b, n c, n d", 10)
    with backend.read_only() as s:
        assert s.run(WHO[engine], 10).rows != before
