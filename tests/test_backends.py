"""The data plane on real servers: hostile SQL, literals, catalog, writable tenant databases.

Oracles are independent of the code under test: the servers' own answers (checksums, a literal
read back by the engine that parses it, information_schema as the DDL below declares it), and
sqlite3 reading the fixture script directly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emulator.core.jobs import Cancel
from emulator.databases.backend import BackendError, DatabaseBackend, StatementTimeout
from emulator.databases.catalog import DataPlane
from emulator.databases.literals import literal, literals_of
from emulator.databases.mysql import MySQLBackend
from emulator.databases.postgres import PostgresBackend
from emulator.databases.sqlguard import check_read_only
from emulator.platform.accounts import load_accounts
from emulator.services.dms.domain.exporter import precheck, run_export
from emulator.testing.dbservers import MariaDBServer, PostgresServer
from emulator.testing.flows import ROOT

DB = "backends"
TIMEOUT = 1.0
BOUND = TIMEOUT + 3.0  # a hostile statement ends within its timeout plus connection overhead

MYSQL_SETUP = f"""
CREATE DATABASE IF NOT EXISTS {DB};
USE {DB};
DROP TABLE IF EXISTS t;
CREATE TABLE t (
  id INT NOT NULL AUTO_INCREMENT COMMENT 'row id',
  v VARCHAR(32) NOT NULL DEFAULT 'x' COMMENT 'a value',
  price DECIMAL(10,2) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_v (v)
) ENGINE=InnoDB COMMENT='hostile target';
INSERT INTO t (v, price) VALUES ('a', 1.50), ('b', NULL), ('c', 3.25);
DROP PROCEDURE IF EXISTS wipe;
CREATE PROCEDURE wipe() DELETE FROM t;
DROP FUNCTION IF EXISTS wipe_f;
DELIMITER //
CREATE FUNCTION wipe_f() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM t; RETURN 1; END//
DELIMITER ;
"""
PG_SETUP = """
DROP TABLE IF EXISTS t CASCADE;
CREATE TABLE t (
  id SERIAL PRIMARY KEY,
  v VARCHAR(32) NOT NULL DEFAULT 'x' UNIQUE,
  price NUMERIC(10,2)
);
COMMENT ON TABLE t IS 'hostile target';
COMMENT ON COLUMN t.v IS 'a value';
INSERT INTO t (v, price) VALUES ('a', 1.50), ('b', NULL), ('c', 3.25);
CREATE OR REPLACE PROCEDURE wipe() LANGUAGE sql AS $$ DELETE FROM t $$;
CREATE OR REPLACE FUNCTION wipe_f() RETURNS int LANGUAGE sql AS $$ DELETE FROM t; SELECT 1 $$;
"""

HOSTILE_COMMON = [
    "delete from t",
    "update t set v = 'pwned'",
    "insert into t (v) values ('pwned')",
    "select 1; delete from t",
    "select * from t; drop table t",
    "drop table t",
    "truncate table t",
    "create table pwned (a int)",
    "call wipe()",
    "select wipe_f()",
    "select * from t for update",
    "with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r",
]
HOSTILE_MYSQL = HOSTILE_COMMON + [
    "select * from t into outfile '/tmp/dms-backends-outfile.txt'",
    "select * into dumpfile '/tmp/dms-backends-dumpfile.txt' from t",
    "set @a = 1",
    "set global max_connections = 1",
    "select sleep(30)",
    "do sleep(30)",
    "lock tables t write",
    "/*!50000 delete from t */",
    "select 1 /*! ; delete from t */",
    "select load_file('/etc/passwd')",
    "select * from t lock in share mode",
    "replace into t (id, v) values (1, 'pwned')",
    "handler t open",
]
HOSTILE_PG = HOSTILE_COMMON + [
    "copy (select 1) to program 'touch /tmp/dms-backends-pwned'",
    "copy t to '/tmp/dms-backends-copy.txt'",
    "select pg_sleep(30)",
    "with d as (delete from t returning *) select * from d",
    "select * into pwned from t",
    "set statement_timeout = 0",
    "select set_config('default_transaction_read_only', 'off', false)",
    "select pg_terminate_backend(pg_backend_pid())",
    "select nextval('t_id_seq')",
    "select lo_import('/etc/passwd')",
    "select 1 $$; delete from t; $$",
    "select * from t for share",
]
WRITES = [
    "delete from t",
    "update t set v = 'pwned'",
    "insert into t (v) values ('pwned')",
    "drop table t",
    "call wipe()",
    "select wipe_f()",
]
TOUCHED_FILES = [
    "/tmp/dms-backends-outfile.txt",
    "/tmp/dms-backends-dumpfile.txt",
    "/tmp/dms-backends-pwned",
    "/tmp/dms-backends-copy.txt",
]


@pytest.fixture(scope="module")
def mysql(mariadb_server: MariaDBServer) -> tuple[MariaDBServer, MySQLBackend]:
    mariadb_server.execute_script(MYSQL_SETUP)
    dsn = mariadb_server.dsn.rsplit("/", 1)[0] + f"/{DB}"
    return mariadb_server, MySQLBackend(dsn)


@pytest.fixture(scope="module")
def pg(postgres_server: PostgresServer) -> tuple[PostgresServer, PostgresBackend]:
    conn = postgres_server.connect(database="postgres", autocommit=True)
    conn.execute(f"DROP DATABASE IF EXISTS {DB}")
    conn.execute(f"CREATE DATABASE {DB}")
    conn.close()
    postgres_server.execute_script(PG_SETUP, database=DB)
    dsn = postgres_server.dsn.rsplit("/", 1)[0] + f"/{DB}"
    return postgres_server, PostgresBackend(dsn)


def mysql_checksum(server: MariaDBServer) -> Any:
    tables = server.query("SHOW TABLES", database=DB)
    rows = server.query("SELECT id, v, price FROM t ORDER BY id", database=DB)
    return tables, rows, server.query("SELECT @@global.max_connections")


def pg_checksum(server: PostgresServer) -> Any:
    tables = server.query(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", database=DB
    )
    rows = server.query(
        "SELECT md5(string_agg(t::text, ',' ORDER BY id)), count(*) FROM t", database=DB
    )
    seq = server.query("SELECT last_value FROM t_id_seq", database=DB)
    return tables, rows, seq


def attempt(backend: DatabaseBackend, sql: str, tmp: Path) -> tuple[bool, float]:
    """Precheck and export `sql` as DMS would: (exported?, seconds spent)."""
    t = time.monotonic()
    outcome = precheck(backend, sql, None, True, timeout=TIMEOUT)
    exported = False
    if outcome.ok:
        try:
            run_export(backend, sql, tmp / "x.zip", "x", "CSV", timeout=TIMEOUT)
            exported = True
        except BackendError:
            pass
    return exported, time.monotonic() - t


@pytest.mark.parametrize("sql", HOSTILE_MYSQL)
def test_hostile_sql_on_mariadb_changes_nothing_and_never_hangs(
    mysql: tuple[MariaDBServer, MySQLBackend], sql: str, tmp_path: Path
) -> None:
    server, backend = mysql
    before = mysql_checksum(server)
    exported, took = attempt(backend, sql, tmp_path)
    assert mysql_checksum(server) == before
    assert took < BOUND, (sql, took)
    assert not any(os.path.exists(f) for f in TOUCHED_FILES)
    if "sleep" in sql or "recursive" in sql or "load_file" in sql:
        return  # a read (or a refused function): exported or stopped, it changed nothing
    assert not exported, sql


@pytest.mark.parametrize("sql", HOSTILE_PG)
def test_hostile_sql_on_postgres_changes_nothing_and_never_hangs(
    pg: tuple[PostgresServer, PostgresBackend], sql: str, tmp_path: Path
) -> None:
    server, backend = pg
    before = pg_checksum(server)
    exported, took = attempt(backend, sql, tmp_path)
    assert pg_checksum(server) == before
    assert took < BOUND, (sql, took)
    assert not any(os.path.exists(f) for f in TOUCHED_FILES)
    if "sleep" in sql or "recursive" in sql:
        return
    assert not exported, sql


@pytest.mark.parametrize("sql", WRITES)
def test_the_read_only_transaction_holds_even_without_the_classifier(
    mysql: tuple[MariaDBServer, MySQLBackend],
    pg: tuple[PostgresServer, PostgresBackend],
    sql: str,
) -> None:
    """The second lock: writes sent straight to a read-only session fail on both servers."""
    checks: list[tuple[Callable[[], Any], DatabaseBackend]] = [
        (lambda: mysql_checksum(mysql[0]), mysql[1]),
        (lambda: pg_checksum(pg[0]), pg[1]),
    ]
    for checksum, backend in checks:
        before = checksum()
        with pytest.raises(BackendError):
            with backend.read_only(TIMEOUT) as session:
                list(session.stream(sql).batches)
        assert checksum() == before


def test_statement_timeout_and_cancel_stop_server_queries(
    mysql: tuple[MariaDBServer, MySQLBackend], pg: tuple[PostgresServer, PostgresBackend]
) -> None:
    for backend, sleep in ((mysql[1], "select sleep(20)"), (pg[1], "select pg_sleep(20)")):
        t = time.monotonic()
        with pytest.raises(StatementTimeout):
            with backend.read_only(1.0) as session:
                list(session.stream(sleep).batches)
        assert time.monotonic() - t < 4
        cancel = Cancel()
        t = time.monotonic()
        with pytest.raises(StatementTimeout, match="reset"):
            with backend.read_only(None, cancel) as session:
                import threading

                threading.Timer(0.5, cancel.set, args=("the tenant was reset",)).start()
                list(session.stream(sleep).batches)
        assert time.monotonic() - t < 4


VALUES: list[Any] = [
    None,
    0,
    -17,
    2**53 + 1,
    1.5,
    Decimal("12345.67"),
    "",
    "plain",
    "it's",
    "back\\slash",
    "new\nline",
    "tab\tand 'both' \\' quotes",
    "新年 emoji 🎉",
    dt.datetime(2024, 2, 29, 23, 59, 58),
    dt.date(2024, 1, 1),
]


def test_literals_read_back_by_each_engine(
    mysql: tuple[MariaDBServer, MySQLBackend], pg: tuple[PostgresServer, PostgresBackend]
) -> None:
    """Every literal, parsed by the engine of its dialect, gives the value back."""
    lite = sqlite3.connect(":memory:")
    for v in VALUES:
        text = str(v) if isinstance(v, (dt.date, Decimal)) else v
        (got,) = lite.execute(f"SELECT {literal(v, 'sqlite')}").fetchone()
        want = float(v) if isinstance(v, Decimal) else text
        assert got == want, (v, got)
        for server, dialect in ((mysql[0], "mysql"), (pg[0], "postgresql")):
            ((got,),) = server.query(f"SELECT {literal(v, dialect)}", database=DB)
            if isinstance(v, float):
                assert float(got) == v, (dialect, v, got)
            else:
                assert (str(got) if isinstance(got, (dt.date, Decimal)) else got) == text, (
                    dialect,
                    v,
                    got,
                )
    blob = b"\x00\xff'\\"
    assert lite.execute(f"SELECT {literal(blob, 'sqlite')}").fetchone()[0] == blob
    assert bytes(mysql[0].query(f"SELECT {literal(blob, 'mysql')}")[0][0]) == blob
    assert bytes(pg[0].query(f"SELECT {literal(blob, 'postgresql')}")[0][0]) == blob


JSON_VALUES: list[Any] = [
    {"a": 1, "s": 'it\'s "q" \\ back\\slash 新年 🎉', "n": None, "b": True, "f": 2.5},
    [1, "two", [], {}, False, None],
    {"nested": {"list": [{"k": "v\nline"}]}, "empty": ""},
    [],
]


def test_json_literals_read_back_as_the_same_document(
    mysql: tuple[MariaDBServer, MySQLBackend], pg: tuple[PostgresServer, PostgresBackend]
) -> None:
    """A dict/list (psycopg's value of a json/jsonb column) renders as JSON text: inserted into a
    real json/jsonb (MariaDB: JSON) column and read back, the server holds the same document."""
    server = pg[0]
    server.query("DROP TABLE IF EXISTS lit_json", database=DB)
    server.query("CREATE TABLE lit_json (id int PRIMARY KEY, j json, b jsonb)", database=DB)
    for i, v in enumerate(JSON_VALUES):
        text = literal(v, "postgresql")
        server.query(f"INSERT INTO lit_json VALUES ({i}, {text}, {text})", database=DB)
    rows = server.query("SELECT j, b FROM lit_json ORDER BY id", database=DB)
    assert rows == [(v, v) for v in JSON_VALUES]  # psycopg decodes both columns itself
    # literals_of (the data-change backup's path) renders a column of them the same way
    column = [*JSON_VALUES, None]
    assert literals_of(column, "postgresql") == [literal(v, "postgresql") for v in column]
    maria = mysql[0]
    maria.query("DROP TABLE IF EXISTS lit_json", database=DB)
    maria.query("CREATE TABLE lit_json (id int PRIMARY KEY, j JSON)", database=DB)
    for i, v in enumerate(JSON_VALUES):
        maria.query(f"INSERT INTO lit_json VALUES ({i}, {literal(v, 'mysql')})", database=DB)
    got = maria.query("SELECT j, JSON_VALID(j) FROM lit_json ORDER BY id", database=DB)
    assert all(isinstance(j, str) and ok == 1 for j, ok in got), got  # PyMySQL: JSON is text
    assert [json.loads(j) for j, _ in got] == JSON_VALUES


def test_describe_reports_the_declared_catalog(
    mysql: tuple[MariaDBServer, MySQLBackend], pg: tuple[PostgresServer, PostgresBackend]
) -> None:
    for backend, types in (
        (mysql[1], ("int(11)", "varchar(32)", "decimal(10,2)")),
        (pg[1], ("integer", "character varying(32)", "numeric(10,2)")),
    ):
        table = backend.describe().table("t")
        assert table is not None and table.row_count == 3 and table.comment == "hostile target"
        cols = {c.name: c for c in table.columns}
        assert [cols[n].data_type for n in ("id", "v", "price")] == list(types)
        assert cols["id"].primary_key and cols["id"].auto_increment and not cols["id"].nullable
        assert not cols["v"].nullable and "x" in (cols["v"].default or "")
        assert cols["v"].comment == "a value" and cols["price"].nullable
        assert any(i.unique and i.columns == ("v",) for i in table.indexes)
        assert table.primary_key == ("id",)


def test_unreachable_and_bad_credentials_are_reported_not_raised(
    mysql: tuple[MariaDBServer, MySQLBackend], pg: tuple[PostgresServer, PostgresBackend]
) -> None:
    from emulator.testing.dbservers import free_port

    port = free_port()
    for backend in (
        MySQLBackend(f"mysql://u:p@127.0.0.1:{port}/x"),
        PostgresBackend(f"postgresql://u:p@127.0.0.1:{port}/x"),
        MySQLBackend(f"mysql://dms:wrong@127.0.0.1:{mysql[0].port}/{DB}"),
        PostgresBackend(f"postgresql://dms:wrong@127.0.0.1:{pg[0].port}/{DB}"),
    ):
        health = backend.health()
        assert not health.ok and "cannot connect" in health.message
        assert "wrong" not in health.message  # never the password
        outcome = precheck(backend, "select 1", None, True)
        assert not outcome.ok and "cannot be reached" in outcome.reason


def test_classifier_single_read_only_statement() -> None:
    assert check_read_only("select 1 ; ", "mysql") == "select 1"
    assert check_read_only("select ';' as a, `x;y` from t # c;\n", "mysql")
    assert check_read_only("select 'a;b', $$;$$ -- ;\n", "postgresql")
    assert check_read_only("select replace(v, 'a', 'b'), insert(v, 1, 1, 'z') from t", "mysql")
    for sql, dialect in (
        ("select 1 # ; delete\n; delete from t", "mysql"),
        ("select 1 -- x\n; delete from t", "postgresql"),
        ("select * from t where v = 'it''s'; drop table t", "mysql"),
        ("select 'a\\'; drop table t; -- '", "postgresql"),
    ):
        with pytest.raises(BackendError):
            check_read_only(sql, dialect)
    # in MySQL the backslash escapes the quote: all of it is one harmless string
    assert check_read_only("select 'a\\'; drop table t; -- '", "mysql")


# --- writable tenant databases (embedded fixtures) ---------------------------------------------


def oracle_rows(name: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(":memory:")
    conn.executescript((ROOT / "fixtures" / "databases" / f"{name}.sql").read_text("utf-8"))
    return conn.execute("SELECT id, name FROM departments ORDER BY id").fetchall()


def departments(plane: DataPlane) -> list[tuple[Any, ...]]:
    with plane.backend(27001).read_only(5) as s:
        return [
            r for b in s.stream("SELECT id, name FROM departments ORDER BY id").batches for r in b
        ]


def test_fixture_copied_on_first_write_reset_restores_state_keeps(tmp_path: Path) -> None:
    accounts = load_accounts()
    state = str(tmp_path / "state.sqlite")
    fixture = oracle_rows("hr")
    plane = DataPlane(accounts, state, cache_dir=tmp_path / "cache")
    assert departments(plane) == fixture
    with plane.backend(27001).read_write(5) as s:
        assert s.execute("UPDATE departments SET name = 'Renamed' WHERE id = ?", (1,)) == 1
    changed = departments(plane)
    assert changed != fixture and changed[0][1] == "Renamed"
    assert departments(DataPlane(accounts, state, cache_dir=tmp_path / "cache")) == changed
    plane.reset(3000)  # another tenant's reset leaves it alone
    assert departments(plane) == changed
    plane.reset(4000)
    assert departments(plane) == fixture
    other = DataPlane(accounts, None, cache_dir=tmp_path / "cache")
    assert departments(other) == fixture  # without --state nothing is shared


def test_acknowledged_write_survives_kill_9(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from emulator.databases.catalog import DataPlane\n"
        "from emulator.platform.accounts import load_accounts\n"
        f"plane = DataPlane(load_accounts(), {state!r}, cache_dir=Path({str(tmp_path / 'c')!r}))\n"
        "for i in range(1000000):\n"
        "    with plane.backend(27001).read_write(5) as s:\n"
        "        s.execute('UPDATE departments SET name = ? WHERE id = 1', (f'v{i}',))\n"
        "    print(i, flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=str(ROOT)
    )
    assert proc.stdout is not None
    last = -1
    deadline = time.monotonic() + 30
    while last < 50 and time.monotonic() < deadline:
        last = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    plane = DataPlane(load_accounts(), state, cache_dir=tmp_path / "c")
    name = departments(plane)[0][1]
    assert int(name[1:]) >= last  # every acknowledged write is there
