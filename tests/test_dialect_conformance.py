"""The embedded engine's MySQL and PostgreSQL dialects, measured against real MariaDB / PostgreSQL.

Both sides hold the same data: the real server runs the dump file with its own client (`mariadb`
< shop.mysql.sql, `psql -f shop.pg.sql`), the embedded engine loads the same file with
`loader.load_script`. Each corpus query (tests/corpus/*.sql) runs on both and the results are
compared value by value after this normalisation (the text a DMS export shows):

* None stays None; booleans are 0/1;
* datetime -> 'YYYY-MM-DD HH:MM:SS[.ffffff]' (aware ones in UTC), date -> 'YYYY-MM-DD',
  MySQL TIME (timedelta) -> 'HH:MM:SS';
* two numbers are equal when they differ by at most 1e-9 relative (the embedded engine stores
  DECIMAL as binary floating point; a real DECIMAL is exact);
* a real DECIMAL against an embedded string (CAST AS DECIMAL in the select list): the exact text,
  so '8.00' must be '8.00';
* anything else compares as text.

The conformance table (equal n/N per dialect) is printed in the terminal summary.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator.databases import functions
from emulator.databases.dialect import UnsupportedSql, translate
from emulator.databases.loader import load_script
from emulator.testing.dbservers import MariaDBServer, PostgresServer, compare_rows

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "corpus"
FIXTURES = ROOT / "fixtures" / "databases"
PINNED_NOW = 1733054400  # 2024-12-01 12:00:00 UTC


@dataclass(frozen=True)
class Case:
    name: str
    sql: str
    unsupported: str | None
    database: str = "shop"  # `-- database: hr` in the block picks the hr fixture


def load_corpus(path: Path) -> list[Case]:
    cases = []
    for block in re.split(r"^-- @", path.read_text(), flags=re.MULTILINE)[1:]:
        head, _, body = block.partition("\n")
        expected = re.search(r"^-- unsupported: (.+)$", body, flags=re.MULTILINE)
        database = re.search(r"^-- database: (\w+)$", body, flags=re.MULTILINE)
        sql = re.sub(r"^-- (unsupported|database): .+$", "", body, flags=re.MULTILINE).strip()
        sql = sql[:-1] if sql.endswith(";") else sql
        cases.append(
            Case(
                head.strip(),
                sql,
                expected.group(1).strip() if expected else None,
                database.group(1) if database else "shop",
            )
        )
    return cases


MYSQL = load_corpus(CORPUS / "mysql.sql")
POSTGRES = load_corpus(CORPUS / "postgresql.sql")


# --------------------------------------------------------------------------- engines


class Table:
    """The conformance counts, printed at the end of the session."""

    def __init__(self) -> None:
        self.results: dict[str, dict[str, bool]] = {"mysql": {}, "postgresql": {}}

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section("dialect conformance (embedded engine vs real server)")
        for dialect, corpus in (("mysql", MYSQL), ("postgresql", POSTGRES)):
            got = self.results[dialect]
            if not got:
                continue
            equal = sum(1 for ok in got.values() if ok)
            refused = sum(1 for c in corpus if c.unsupported and c.name in got)
            compared = len(got) - refused
            terminalreporter.write_line(
                f"{dialect:<11} equal {equal - refused}/{compared} compared queries, "
                f"{refused} known-unsupported refused with the construct named "
                f"(corpus {len(corpus)})"
            )
            for name, ok in got.items():
                if not ok:
                    terminalreporter.write_line(f"  differs: {name}")


@pytest.fixture(scope="session")
def table(request: pytest.FixtureRequest) -> Table:
    t = Table()
    request.config.pluginmanager.register(t, "dialect-conformance-table")
    return t


def embedded(fixture: str, dialect: str) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    load_script(conn, (FIXTURES / fixture).read_text(), dialect, fixture)
    conn.commit()
    return conn


DATABASES = ("shop", "hr")


@pytest.fixture(scope="module")
def maria(mariadb_server: MariaDBServer) -> Iterator[dict[str, Any]]:
    # The corpus names the schema (`shop`.`customers`), so the data lives in databases `shop`, `hr`.
    conns = {}
    for db in DATABASES:
        mariadb_server.query(f"DROP DATABASE IF EXISTS {db}", database="")
        mariadb_server.query(
            f"CREATE DATABASE {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci", database=""
        )
        mariadb_server.execute_script((FIXTURES / f"{db}.mysql.sql").read_text(), db)
        conns[db] = mariadb_server.connect(database=db)
        conns[db].cursor().execute(f"SET timestamp = {PINNED_NOW}")
    yield conns
    for conn in conns.values():
        conn.close()


@pytest.fixture(scope="module")
def pg(postgres_server: PostgresServer) -> Iterator[dict[str, Any]]:
    conns = {}
    admin = postgres_server.connect(autocommit=True)
    for db in DATABASES:
        admin.execute(f"DROP DATABASE IF EXISTS conformance_{db}")
        admin.execute(f"CREATE DATABASE conformance_{db}")
    admin.close()
    for db in DATABASES:
        postgres_server.execute_script((FIXTURES / f"{db}.pg.sql").read_text(), f"conformance_{db}")
        conns[db] = postgres_server.connect(database=f"conformance_{db}")
    yield conns
    for conn in conns.values():
        conn.close()


@pytest.fixture(scope="module")
def embedded_mysql() -> dict[str, sqlite3.Connection]:
    conns = {db: embedded(f"{db}.mysql.sql", "mysql") for db in DATABASES}
    for conn in conns.values():
        functions.install(conn, lambda: float(PINNED_NOW))
    return conns


class Clock:
    now = 0.0


@pytest.fixture(scope="module")
def embedded_pg() -> tuple[dict[str, sqlite3.Connection], Clock]:
    clock = Clock()
    conns = {db: embedded(f"{db}.pg.sql", "postgresql") for db in DATABASES}
    for conn in conns.values():
        functions.install(conn, lambda: clock.now)
    return conns, clock


def run_embedded(conn: sqlite3.Connection, case: Case, dialect: str) -> list[tuple[Any, ...]]:
    database = case.database if dialect == "mysql" else None
    return conn.execute(translate(case.sql, dialect, database)).fetchall()


def check_unsupported(conn: sqlite3.Connection, case: Case, dialect: str) -> None:
    assert case.unsupported is not None
    with pytest.raises((UnsupportedSql, sqlite3.Error)) as info:
        run_embedded(conn, case, dialect)
    message = functions.describe_error(info.value)
    assert case.unsupported.lower() in message.lower(), message


@pytest.mark.parametrize("case", MYSQL, ids=[c.name for c in MYSQL])
def test_mysql_query_matches_mariadb(
    case: Case,
    maria: dict[str, Any],
    embedded_mysql: dict[str, sqlite3.Connection],
    table: Table,
) -> None:
    table.results["mysql"][case.name] = False
    conn = embedded_mysql[case.database]
    if case.unsupported:
        check_unsupported(conn, case, "mysql")
        table.results["mysql"][case.name] = True
        return
    cur = maria[case.database].cursor()
    cur.execute(case.sql)
    real = list(cur.fetchall())
    got = run_embedded(conn, case, "mysql")
    diff = compare_rows(real, got)
    assert diff is None, f"{case.name}: {diff}\n  sql: {case.sql}"
    table.results["mysql"][case.name] = True


@pytest.mark.parametrize("case", POSTGRES, ids=[c.name for c in POSTGRES])
def test_postgresql_query_matches_postgres(
    case: Case,
    pg: dict[str, Any],
    embedded_pg: tuple[dict[str, sqlite3.Connection], Clock],
    table: Table,
) -> None:
    conns, clock = embedded_pg
    conn = conns[case.database]
    table.results["postgresql"][case.name] = False
    if case.unsupported:
        check_unsupported(conn, case, "postgresql")
        table.results["postgresql"][case.name] = True
        return
    server = pg[case.database]
    with server.transaction():
        cur = server.cursor()
        cur.execute("SELECT extract(epoch from now())")
        clock.now = float(cur.fetchone()[0])
        cur.execute(case.sql)
        real = list(cur.fetchall())
    got = run_embedded(conn, case, "postgresql")
    diff = compare_rows(real, got)
    assert diff is None, f"{case.name}: {diff}\n  sql: {case.sql}"
    table.results["postgresql"][case.name] = True


def test_corpus_sizes() -> None:
    assert len([c for c in MYSQL if not c.unsupported]) >= 60
    assert len([c for c in POSTGRES if not c.unsupported]) >= 20


# Functions every SQLite since 3.25 (window functions) has; DMS_* are the emulator's own.
PORTABLE_SQLITE = {
    "ABS", "AVG", "CAST", "COALESCE", "COUNT", "DENSE_RANK", "FIRST_VALUE", "GROUP_CONCAT",
    "IFNULL", "INSTR", "LAG", "LAST_VALUE", "LEAD", "LENGTH", "LOWER", "LTRIM", "MAX", "MIN",
    "NTH_VALUE", "NTILE", "NULLIF", "RANK", "REPLACE", "ROUND", "ROW_NUMBER", "RTRIM", "SUBSTR",
    "SUBSTRING", "SUM", "TOTAL", "TRIM", "UPPER", "CUME_DIST", "PERCENT_RANK",
}  # fmt: skip


@pytest.mark.parametrize(
    ("corpus", "dialect"), [(MYSQL, "mysql"), (POSTGRES, "postgresql")], ids=["mysql", "postgresql"]
)
def test_translations_call_only_functions_every_sqlite_has(
    corpus: list[Case], dialect: str
) -> None:
    """Results cannot depend on the host's SQLite: no IIF, CONCAT, math or date functions of its own."""
    for case in corpus:
        if case.unsupported:
            continue
        sql = translate(case.sql, dialect, case.database if dialect == "mysql" else None)
        called = {m.upper() for m in re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", sql)}
        keywords = {
            "IN",
            "AS",
            "OVER",
            "FROM",
            "EXISTS",
            "VALUES",
            "AND",
            "OR",
            "NOT",
            "ON",
            "JOIN",
        }
        foreign = {f for f in called - keywords - PORTABLE_SQLITE if not f.startswith("DMS_")} - {
            "_DMS_SERIES"
        }
        assert not foreign, f"{case.name}: {sorted(foreign)} in {sql}"
