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
from emulator.testing.sdk import dms, v3_request

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
    my_dsn = mariadb_server.fresh_database(DB, (FIXTURES / "shop.mysql.sql").read_text("utf-8"))
    pg_dsn = postgres_server.fresh_database(DB, (FIXTURES / "shop.pg.sql").read_text("utf-8"))
    accounts = _accounts(tmp_path_factory.mktemp("console"), my_dsn, pg_dsn)
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


def test_a_script_over_1_mb_is_refused_and_one_under_runs(env: Any) -> None:
    emu = env[0]
    filler = "-- " + "x" * 1000 + "\n"
    big = "SELECT 1 AS one;\n" + filler * (1024 * 1024 // len(filler) + 1)
    assert len(big.encode()) > 1024 * 1024
    client = dms(emu.endpoint, ADMIN)
    with pytest.raises(Exception) as caught:
        client.execute_script(M.ExecuteScriptRequest(db_id=EMB_MY, logic=False, script=big))
    assert "InvalidScript" in str(caught.value) and "1 MB" in str(caught.value)
    under = "SELECT 1 AS one;\n" + filler * (1000 * 1000 // len(filler))
    assert len(under.encode()) < 1024 * 1024
    body = run(emu, EMB_MY, under)
    assert body.success and body.results[0].rows == [{"one": "1"}]


def _count(server: MariaDBServer | PostgresServer, table: str = "customers") -> Any:
    return server.query(f"SELECT COUNT(*), SUM(id) FROM {table}", database=DB)[0]


def test_outside_security_collaboration_nothing_runs(env: Any) -> None:
    emu = env[0]
    body = run(emu, STABLE, "DELETE FROM customers")
    assert body.success is False
    assert body.error_code == "UnsupportedControlMode"
    assert "The instance is not in secure hosting mode" in body.error_message
    assert body.results == []
    # nothing ran: its true row count (ListTables NumRows) is still the dump's
    tables = dms(emu.endpoint, ADMIN).list_tables(
        M.ListTablesRequest(database_id=str(STABLE), search_name="customers")
    )
    (table,) = tables.body.table_list.table
    assert table.num_rows == _count(env[1])[0] > 0


@pytest.mark.parametrize(
    "sql",
    [
        "SET GLOBAL max_connections = 7",
        "SELECT * INTO OUTFILE '/tmp/console-leak.txt' FROM customers",
        "SELECT LOAD_FILE('/etc/passwd') AS f",
        "DROP DATABASE console_shop",
        "GRANT ALL ON *.* TO 'dms'@'%'",
        "LOCK TABLES customers WRITE",
        "START TRANSACTION",
    ],
)
def test_refused_statement_classes_change_nothing_on_a_real_server(env: Any, sql: str) -> None:
    emu, my, _pg = env
    before = (_count(my), my.query("SELECT @@global.max_connections", database=""))
    body = run(emu, REAL_MY, f"{sql}; DELETE FROM customers")
    assert body.success
    (res,) = body.results  # refused, and the script ends there: the DELETE never runs
    assert res.success is False and "not allowed" in res.message, res.message
    assert (_count(my), my.query("SELECT @@global.max_connections", database="")) == before


def test_a_user_runs_queries_and_dml_on_an_owned_database_but_no_ddl(env: Any) -> None:
    emu = env[0]
    body = run(emu, OWNED, "SELECT COUNT(*) AS n FROM products", key=USER)
    assert body.success and body.results[0].success
    before = run(emu, OWNED, "SELECT * FROM products ORDER BY id").results[0].rows
    body = run(emu, OWNED, "DROP TABLE products", key=USER)
    (res,) = body.results
    assert res.success is False and "DDL for ADMIN and DBA" in res.message
    body = run(emu, OWNED, "UPDATE products SET stock = 999 WHERE id = 1", key=USER)
    assert body.results[0].success and body.results[0].row_count == 1
    after = run(emu, OWNED, "SELECT * FROM products ORDER BY id").results[0].rows
    assert after[0]["stock"] == "999" and after[1:] == before[1:]
    # a USER who owns nothing sees nothing: the same answer the metadata actions give
    denied = run(emu, EMB_MY, "SELECT 1", key=USER)
    assert denied.success is False and denied.error_code == "NoPermission"


def test_isolation_and_bad_parameters_are_clean_errors(env: Any) -> None:
    emu = env[0]
    mine = run(emu, OTHER_TENANT_DB, "SELECT 1")  # another tenant's database
    missing = run(emu, 99999, "SELECT 1")
    assert mine.success is False and missing.success is False
    assert mine.error_code == missing.error_code == "DatabaseNotExist"
    assert run(emu, OTHER_TENANT_DB, "SELECT 1", key=STRANGER).success  # its owner: fine
    cases = {
        "InvalidDbId": {"DbId": "abc", "Script": "SELECT 1", "Logic": "false"},
        "MissingDbId": {"Script": "SELECT 1", "Logic": "false"},
        "MissingScript": {"DbId": str(EMB_MY), "Logic": "false"},
        "InvalidLogic": {"DbId": str(EMB_MY), "Script": "SELECT 1", "Logic": "maybe"},
    }
    for code, query in cases.items():
        r = v3_request(emu.endpoint, "ExecuteScript", query, key=ADMIN).send()
        assert r.status_code == 400 and r.json()["Code"] == code, (code, r.text)
    r = v3_request(
        emu.endpoint,
        "ExecuteScript",
        {"DbId": str(EMB_MY), "Script": "SELECT 1", "Tid": "6100"},
        key=ADMIN,
    ).send()
    assert r.status_code == 200 and r.json()["ErrorCode"] == "NoPermission", r.text


def _mariadb_columns(my: MariaDBServer, table: str) -> list[tuple[Any, ...]]:
    return [
        (r[0], r[1], r[2] == "YES")
        for r in my.query(
            "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (DB, table),
            database=DB,
        )
    ]


def _pg_columns(pg: PostgresServer, table: str) -> list[tuple[Any, ...]]:
    return [
        (r[0], r[1], bool(r[2]))
        for r in pg.query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull "
            "FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY a.attnum",
            (table,),
            database=DB,
        )
    ]


def _described(emu: EmulatorProcess, db_id: int, table: str) -> list[tuple[Any, ...]] | None:
    client = dms(emu.endpoint, ADMIN)
    listed = client.list_tables(
        M.ListTablesRequest(database_id=str(db_id), search_name=table, return_guid=True)
    ).body
    names = [t.table_name for t in listed.table_list.table]
    if table not in names:
        return None
    detail = client.get_meta_table_detail_info(
        M.GetMetaTableDetailInfoRequest(table_guid=f"IDB_{db_id}.shop.{table}")
    ).body
    return [(c.column_name, c.column_type, c.nullable) for c in detail.detail_info.column_list]


DDL = {
    "mysql": [
        "CREATE TABLE console_made (id int(11) NOT NULL AUTO_INCREMENT, code varchar(64) NOT NULL "
        "COMMENT 'the code', price decimal(10,2) DEFAULT 0.00, seen datetime, "
        "PRIMARY KEY (id), KEY idx_cm_code (code)) ENGINE=InnoDB COMMENT='made here'",
        "ALTER TABLE console_made ADD COLUMN note varchar(20) NOT NULL DEFAULT 'n', DROP COLUMN seen",
        "ALTER TABLE console_made MODIFY price decimal(12,3) NOT NULL",
    ],
    "postgresql": [
        "CREATE TABLE console_made (id serial PRIMARY KEY, code varchar(64) NOT NULL, "
        "price numeric(10,2) DEFAULT 0.00, seen timestamp)",
        "ALTER TABLE console_made ADD COLUMN note varchar(20), DROP COLUMN seen",
        "ALTER TABLE console_made RENAME COLUMN note TO remark",
    ],
}


@pytest.mark.parametrize("db_id", [EMB_MY, EMB_PG, REAL_MY, REAL_PG])
def test_console_ddl_shows_in_metadata_at_once_with_declared_types(env: Any, db_id: int) -> None:
    emu, my, pg = env
    dialect = "postgresql" if db_id in (EMB_PG, REAL_PG) else "mysql"
    oracle = my if dialect == "mysql" else pg
    own = _mariadb_columns if dialect == "mysql" else _pg_columns
    run(emu, db_id, "DROP TABLE IF EXISTS console_made")
    oracle.query("DROP TABLE IF EXISTS console_made", database=DB)
    try:
        for step in DDL[dialect]:
            body = run(emu, db_id, step)
            assert body.results[0].success, (step, body.results[0].message)
            if db_id in (EMB_MY, EMB_PG):  # the oracle: the same DDL on the real server
                oracle.query(step, database=DB)
            assert _described(emu, db_id, "console_made") == own(oracle, "console_made"), step
        insert = "INSERT INTO console_made (code, price) VALUES ('a', 1.5)"
        assert run(emu, db_id, insert).results[0].success
        if db_id in (EMB_MY, EMB_PG):
            oracle.query(insert, database=DB)
        body = run(emu, db_id, "SELECT code, price FROM console_made")
        assert (
            body.results[0].rows == server_rows(oracle, "SELECT code, price FROM console_made")[1]
        )
        dropped = run(emu, db_id, "DROP TABLE console_made").results[0]
        assert dropped.success, dropped.message
        assert _described(emu, db_id, "console_made") is None
    finally:
        oracle.query("DROP TABLE IF EXISTS console_made", database=DB)


def test_writes_land_on_the_copy_reset_restores_them(env: Any) -> None:
    emu, my, _pg = env
    names, rows = server_rows(my, "SELECT id, city FROM customers WHERE id <= 5 ORDER BY id")
    body = run(emu, EMB_MY, "UPDATE customers SET city = 'Reset' WHERE id <= 5")
    assert body.results[0].success and body.results[0].row_count == 5
    changed = run(emu, EMB_MY, "SELECT id, city FROM customers WHERE id <= 5 ORDER BY id")
    assert [r["city"] for r in changed.results[0].rows] == ["Reset"] * 5
    Control(emu.url).reset()
    restored = run(emu, EMB_MY, "SELECT id, city FROM customers WHERE id <= 5 ORDER BY id")
    assert restored.results[0].rows == rows


def test_writes_on_a_real_server_reach_it(env: Any) -> None:
    emu, my, pg = env
    for db_id, server in ((REAL_MY, my), (REAL_PG, pg)):
        server.query("DROP TABLE IF EXISTS console_scratch", database=DB)
        server.query("CREATE TABLE console_scratch (id int PRIMARY KEY, v varchar(8))", database=DB)
        try:
            body = run(
                emu,
                db_id,
                "INSERT INTO console_scratch VALUES (1, 'a'), (2, 'b'); "
                "UPDATE console_scratch SET v = 'z' WHERE id = 2; DELETE FROM console_scratch "
                "WHERE id = 1",
            )
            assert [r.row_count for r in body.results] == [2, 1, 1]
            assert server.query("SELECT id, v FROM console_scratch", database=DB) == [(2, "z")]
        finally:
            server.query("DROP TABLE IF EXISTS console_scratch", database=DB)


def test_state_keeps_console_changes_across_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with EmulatorProcess("--state", str(state)) as emu:
        body = run(emu, 17001, "DELETE FROM orders WHERE id > 10", key=ALICE_KEY)
        assert body.results[0].row_count == 2990
    with EmulatorProcess("--state", str(state)) as emu:
        body = run(emu, 17001, "SELECT COUNT(*) AS n FROM orders", key=ALICE_KEY)
        assert body.results[0].rows == [{"n": "10"}]


def test_show_and_desc_on_the_embedded_engine_answer_as_mariadb(env: Any) -> None:
    emu, my, _pg = env
    body = run(emu, EMB_MY, "SHOW TABLES; DESC customers; SHOW COLUMNS FROM orders")
    tables, customers, orders = body.results
    assert tables.column_names == ["Tables_in_shop"]
    assert [list(r.values()) for r in tables.rows] == [
        [n] for (n,) in my.query("SHOW TABLES", database=DB)
    ]
    for got, table in ((customers, "customers"), (orders, "orders")):
        names, rows = server_rows(my, f"DESC {table}")
        assert got.column_names == names
        keep = ("Field", "Type", "Null", "Key", "Extra")
        assert [{k: r[k] for k in keep} for r in got.rows] == [
            {k: r[k] for k in keep} for r in rows
        ]
