"""`Session.run` on the real servers: the row cap stops at max_rows, says whether more were left,
and never reaches a later statement of the same session (a stream, an export). The oracle is
the server's own count read with its driver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.databases.backend import StatementTimeout
from emulator.databases.mysql import MySQLBackend
from emulator.databases.postgres import PostgresBackend
from emulator.testing.dbservers import MariaDBServer, PostgresServer

DB = "console_session"
Servers = tuple[MySQLBackend, PostgresBackend, MariaDBServer, PostgresServer]


@pytest.fixture(scope="module")
def servers(mariadb_server: MariaDBServer, postgres_server: PostgresServer) -> Iterator[Servers]:
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
    yield (
        MySQLBackend(base(mariadb_server.dsn)),
        PostgresBackend(base(postgres_server.dsn)),
        mariadb_server,
        postgres_server,
    )


@pytest.mark.parametrize("engine", ["mysql", "postgresql"])
def test_the_cap_stops_one_statement_only(servers: Servers, engine: str) -> None:
    my, pg, mariadb, postgres = servers
    backend = my if engine == "mysql" else pg
    server = mariadb if engine == "mysql" else postgres
    total = server.query("SELECT COUNT(*) FROM n", database=DB)[0][0]
    with backend.read_only(timeout=5) as s:
        capped = s.run("SELECT i FROM n ORDER BY i", 7)
        exact = s.run("SELECT i FROM n WHERE i <= 7 ORDER BY i", 7)
        rows = [r for batch in s.stream("SELECT i FROM n").batches for r in batch]
    assert [r[0] for r in capped.rows] == list(range(1, 8)) and capped.truncated
    assert [r[0] for r in exact.rows] == list(range(1, 8)) and not exact.truncated
    assert len(rows) == total == 300
    with backend.read_write(timeout=5) as s:  # an INSERT ... SELECT is not capped
        s.run("CREATE TABLE IF NOT EXISTS m (i int)", 5)
        changed = s.run("INSERT INTO m SELECT i FROM n", 5)
    assert changed.affected == total and changed.columns == []
    assert server.query("SELECT COUNT(*) FROM m", database=DB)[0][0] == total
    server.query("DROP TABLE m", database=DB)


@pytest.mark.parametrize("engine", ["mysql", "postgresql"])
def test_a_failed_statement_leaves_the_session_uncapped(servers: Servers, engine: str) -> None:
    my, pg, _mariadb, _postgres = servers
    backend = my if engine == "mysql" else pg
    with pytest.raises(StatementTimeout), backend.read_only(timeout=0.5) as s:
        s.run("SELECT COUNT(*) FROM n a, n b, n c, n d", 3)
    with backend.read_only(timeout=5) as s:
        assert len([r for batch in s.stream("SELECT i FROM n").batches for r in batch]) == 300
