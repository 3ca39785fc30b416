"""The SQL console (ExecuteScript) through the official SDK on a real socket, on every engine.

One emulator serves the same shop data four ways: the embedded engine speaking MySQL, the
embedded engine speaking PostgreSQL, a real MariaDB and a real PostgreSQL (private servers
loaded from the same mysqldump / pg_dump fixtures). The oracle is always the real server's own
answer read with its own driver (for an embedded database: the server loaded from the same
dump), never the emulator's code.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_dms_enterprise20181101 import models as M

from emulator.testing.dbservers import MariaDBServer, PostgresServer
from emulator.testing.flows import ROOT
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import dms

DB = "console_shop"
FIXTURES = ROOT / "fixtures" / "databases"
EMB_MY, EMB_PG, REAL_MY, REAL_PG, STABLE, OWNED = 61001, 61002, 61003, 61004, 61005, 61006
OTHER_TENANT_DB = 62001
ADMIN = ("LTAI5tConsoleAdmin00001", "ConsoleAdminSecret0000000000001")
USER = ("LTAI5tConsoleUser000002", "ConsoleUserSecret00000000000002")
STRANGER = ("LTAI5tConsoleOther00003", "ConsoleOtherSecret0000000000003")
CAP = 50
QUERIES = [
    "SELECT id, name, email, city, note, created_at FROM customers ORDER BY id",
    "SELECT * FROM products ORDER BY id",
    "SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status",
    "SELECT o.id, c.name, o.amount, o.ordered_at FROM orders o "
    "JOIN customers c ON c.id = o.customer_id WHERE o.id <= 20 ORDER BY o.id",
]


def _accounts(tmp: Path, my_dsn: str, pg_dsn: str) -> Path:
    def db(db_id: int, db_type: str, source: str, extra: str = "") -> str:
        return (
            f"      - db_id: {db_id}\n        schema: shop\n        host: h{db_id}.example\n"
            f"        port: 3306\n        db_type: {db_type}\n        {source}\n{extra}"
        )

    def user(uid: int, name: str, role: str, key: tuple[str, str]) -> str:
        return (
            f"      - uid: {uid}\n        name: {name}\n        role: {role}\n"
            f"        access_key_id: {key[0]}\n        access_key_secret: {key[1]}\n"
        )

    my_fixture = f"fixture: {FIXTURES / 'shop.mysql.sql'}"
    text = (
        "tenants:\n  - tid: 6000\n    name: console\n    users:\n"
        + user(600001, "ada", "ADMIN", ADMIN)
        + user(600002, "uma", "USER", USER)
        + "    databases:\n"
        + db(EMB_MY, "mysql", my_fixture)
        + db(EMB_PG, "postgresql", f"fixture: {FIXTURES / 'shop.pg.sql'}")
        + db(REAL_MY, "mariadb", f"dsn: {my_dsn}")
        + db(REAL_PG, "postgresql", f"dsn: {pg_dsn}")
        + db(STABLE, "mysql", my_fixture, "        control_mode: stable_change\n")
        + db(OWNED, "mysql", my_fixture, "        owners: [600002]\n")
        + "  - tid: 6100\n    name: other\n    users:\n"
        + user(610001, "oz", "ADMIN", STRANGER)
        + "    databases:\n"
        + db(OTHER_TENANT_DB, "mysql", my_fixture)
    )
    path = tmp / "accounts.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def env(
    mariadb_server: MariaDBServer, postgres_server: PostgresServer, tmp_path_factory: Any
) -> Iterator[tuple[EmulatorProcess, MariaDBServer, PostgresServer]]:
    mariadb_server.query(f"DROP DATABASE IF EXISTS {DB}", database="")
    mariadb_server.query(f"CREATE DATABASE {DB} CHARACTER SET utf8mb4", database="")
    mariadb_server.execute_script((FIXTURES / "shop.mysql.sql").read_text("utf-8"), database=DB)
    conn = postgres_server.connect(database="postgres", autocommit=True)
    conn.execute(f"DROP DATABASE IF EXISTS {DB}")
    conn.execute(f"CREATE DATABASE {DB}")
    conn.close()
    postgres_server.execute_script((FIXTURES / "shop.pg.sql").read_text("utf-8"), database=DB)
    base = lambda dsn: dsn.rsplit("/", 1)[0] + f"/{DB}"  # noqa: E731
    accounts = _accounts(
        tmp_path_factory.mktemp("console"), base(mariadb_server.dsn), base(postgres_server.dsn)
    )
    with EmulatorProcess(
        "--clock",
        "manual",
        "--accounts",
        str(accounts),
        "--console-max-rows",
        str(CAP),
        "--console-timeout",
        "1",
    ) as emu:
        yield emu, mariadb_server, postgres_server


def run(emu: EmulatorProcess, db_id: int, script: str, key: tuple[str, str] = ADMIN) -> Any:
    body = (
        dms(emu.endpoint, key)
        .execute_script(M.ExecuteScriptRequest(db_id=db_id, logic=False, script=script))
        .body
    )
    return body


def shown(v: Any) -> str | None:
    """A driver value as a console shows it (the test's own rendering)."""
    if v is None:
        return None
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d")
    return str(v)


def server_rows(server: MariaDBServer | PostgresServer, sql: str) -> tuple[list[str], list[Any]]:
    conn = server.connect(database=DB)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        names = [d[0] for d in cur.description]
        rows = [{n: shown(v) for n, v in zip(names, r, strict=True)} for r in cur.fetchall()]
        return names, rows
    finally:
        conn.close()


def oracle_for(db_id: int, env: Any) -> MariaDBServer | PostgresServer:
    _emu, my, pg = env
    return my if db_id in (EMB_MY, REAL_MY) else pg


@pytest.mark.parametrize("db_id", [EMB_MY, EMB_PG, REAL_MY, REAL_PG])
def test_results_equal_what_the_database_returns(env: Any, db_id: int) -> None:
    emu = env[0]
    body = run(emu, db_id, ";\n".join(QUERIES) + ";")
    assert body.success, body.to_map()
    assert len(body.results) == len(QUERIES)
    for sql, got in zip(QUERIES, body.results, strict=True):
        names, rows = server_rows(oracle_for(db_id, env), sql)
        assert got.success, (sql, got.message)
        assert got.column_names == names, sql
        assert got.rows == rows[:CAP], sql
        assert got.row_count == min(len(rows), CAP) == len(got.rows)


def test_the_row_cap_defaults_to_200(emulator: EmulatorProcess, control: Control) -> None:
    body = run(emulator, 17001, "SELECT id FROM orders ORDER BY id", key=ALICE_KEY)
    (res,) = body.results
    assert res.success and res.row_count == 200 == len(res.rows)
    assert [r["id"] for r in res.rows] == [str(i) for i in range(1, 201)]


ALICE_KEY = ("LTAI5tDemoAlice00000001", "DemoAliceSecret0000000000000001")


@pytest.mark.parametrize("db_id", [EMB_MY, EMB_PG, REAL_MY, REAL_PG])
def test_a_failing_statement_ends_the_script_with_the_database_message(
    env: Any, db_id: int
) -> None:
    emu = env[0]
    body = run(emu, db_id, "SELECT 1 AS a; SELECT nope FROM customers; SELECT 2 AS b")
    assert body.success
    first, failed = body.results  # the third statement never ran
    assert first.success and first.rows == [{"a": "1"}]
    assert failed.success is False and failed.rows == [] and failed.column_names == []
    server = oracle_for(db_id, env)
    try:
        server.query("SELECT nope FROM customers", database=DB)
    except Exception as exc:
        said = str(exc.args[1]) if db_id in (EMB_MY, REAL_MY) else str(exc).splitlines()[0]
    if db_id in (REAL_MY, REAL_PG):
        assert failed.message == said
    else:  # the embedded engine answers in the dialect's words for the common errors
        assert "nope" in failed.message and ("Unknown column" in said or "does not exist" in said)
        assert failed.message.split(" ")[0] == said.split(" ")[0]


@pytest.mark.parametrize("db_id", [EMB_MY, EMB_PG, REAL_MY, REAL_PG])
def test_a_slow_statement_is_stopped_at_the_timeout(env: Any, db_id: int) -> None:
    slow = "SELECT COUNT(*) FROM orders a, orders b, orders c"  # 2.7e10 rows
    started = time.monotonic()
    body = run(env[0], db_id, slow)
    took = time.monotonic() - started
    (res,) = body.results
    assert res.success is False and "timeout" in res.message.lower(), res.message
    assert took < 4, took
