"""Values the embedded engine shows in ExecuteScript, measured against the real servers.

One emulator serves the shop fixture on the embedded engine in both dialects; a private MariaDB
and a private PostgreSQL are loaded from the same dump files. Every query runs on both sides
and the console's text must be the server's own value as its driver returns it (a Decimal keeps
the scale the server gave it, a PostgreSQL bool is `true`/`false`: the console's documented
text), rendered by this test, never by the emulator's code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_dms_enterprise20181101 import models as M

from emulator.testing.dbservers import MariaDBServer, PostgresServer
from emulator.testing.flows import ROOT
from emulator.testing.process import EmulatorProcess
from emulator.testing.sdk import dms

DB = "fidelity_shop"
FIXTURES = ROOT / "fixtures" / "databases"
EMB_MY, EMB_PG = 71001, 71002
ADMIN = ("LTAI5tFidelityAdmin0001", "FidelityAdminSecret000000000001")
FLAGS = (
    "CREATE TABLE flags (id integer PRIMARY KEY, ok boolean, note varchar(20));\n"
    "INSERT INTO flags VALUES (1, true, 'a'), (2, false, 'b'), (3, NULL, NULL);"
)


def _accounts(tmp: Path) -> Path:
    def db(db_id: int, db_type: str, fixture: str) -> str:
        return (
            f"      - db_id: {db_id}\n        schema: shop\n        host: h{db_id}.example\n"
            f"        port: 3306\n        db_type: {db_type}\n"
            f"        fixture: {FIXTURES / fixture}\n"
        )

    path = tmp / "accounts.yaml"
    path.write_text(
        "tenants:\n  - tid: 7000\n    name: fidelity\n    users:\n"
        f"      - uid: 700001\n        name: ada\n        role: ADMIN\n"
        f"        access_key_id: {ADMIN[0]}\n        access_key_secret: {ADMIN[1]}\n"
        "    databases:\n"
        + db(EMB_MY, "mysql", "shop.mysql.sql")
        + db(EMB_PG, "postgresql", "shop.pg.sql")
    )
    return path


@pytest.fixture(scope="module")
def env(
    mariadb_server: MariaDBServer, postgres_server: PostgresServer, tmp_path_factory: Any
) -> Iterator[tuple[EmulatorProcess, MariaDBServer, PostgresServer]]:
    mariadb_server.fresh_database(DB, (FIXTURES / "shop.mysql.sql").read_text("utf-8"))
    postgres_server.fresh_database(DB, (FIXTURES / "shop.pg.sql").read_text("utf-8"))
    postgres_server.execute_script(FLAGS, database=DB)
    accounts = _accounts(tmp_path_factory.mktemp("fidelity"))
    with EmulatorProcess("--clock", "manual", "--accounts", str(accounts)) as emu:
        body = run(emu, EMB_PG, FLAGS)
        assert body.success and all(r.success for r in body.results), body.to_map()
        yield emu, mariadb_server, postgres_server


def run(emu: EmulatorProcess, db_id: int, script: str) -> Any:
    request = M.ExecuteScriptRequest(db_id=db_id, logic=False, script=script)
    return dms(emu.endpoint, ADMIN).execute_script(request).body


def shown(v: Any, dialect: str) -> str | None:
    """A driver value as the console documents it (the test's own rendering)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return ("true" if v else "false") if dialect == "postgresql" else str(int(v))
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v)


def server_rows(server: MariaDBServer | PostgresServer, sql: str, dialect: str) -> list[Any]:
    conn = server.connect(database=DB)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        names = [d[0] for d in cur.description]
        return [{n: shown(v, dialect) for n, v in zip(names, r, strict=True)} for r in cur]
    finally:
        conn.close()


def same_as_server(env: Any, db_id: int, queries: list[str]) -> None:
    emu, my, pg = env
    server, dialect = (my, "mysql") if db_id == EMB_MY else (pg, "postgresql")
    body = run(emu, db_id, ";\n".join(queries) + ";")
    assert body.success and len(body.results) == len(queries), body.to_map()
    differ = []
    for sql, got in zip(queries, body.results, strict=True):
        assert got.success, (sql, got.message)
        want = server_rows(server, sql, dialect)
        if got.rows != want:
            differ.append(f"{sql}\n  embedded {got.rows[:3]}\n  server   {want[:3]}")
    assert not differ, "\n".join(differ)


PG_BOOLEANS = [
    "SELECT id, ok FROM flags ORDER BY id",
    "SELECT * FROM flags ORDER BY id",
    "SELECT f.*, ok IS NULL AS unknown FROM flags f ORDER BY id",
    "SELECT id, id = 1 AS first, ok IS NULL AS unknown, NOT ok AS negated, "
    "(id > 1 AND ok) AS both_, (id > 2 OR ok) AS either FROM flags ORDER BY id",
    "SELECT CAST(id - 1 AS boolean) AS c1, (id - 1)::boolean AS c2, true AS yes, "
    "false AS no, NULL::boolean AS unset FROM flags ORDER BY id",
    "SELECT 1 = 1 AS a, 1 < 0 AS b, 2 BETWEEN 1 AND 3 AS c, 'ab' LIKE 'a%' AS d",
    "SELECT id, status IN ('NEW', 'PAID') AS open, remark IS NOT NULL AS remarked "
    "FROM orders WHERE id <= 8 ORDER BY id",
    "SELECT id, CASE WHEN stock > 10 THEN true ELSE false END AS plenty FROM products "
    "ORDER BY id LIMIT 6",
    "SELECT EXISTS (SELECT 1 FROM orders WHERE amount > 100) AS any_big",
    "SELECT bool_and(quantity > 0) AS all_pos, bool_or(quantity > 4) AS some_big FROM orders",
]


def test_postgresql_booleans_print_as_the_server(env: Any) -> None:
    same_as_server(env, EMB_PG, PG_BOOLEANS)


def test_mysql_comparisons_stay_integers_as_on_mariadb(env: Any) -> None:
    same_as_server(
        env,
        EMB_MY,
        ["SELECT id, id = 1 AS first, email IS NULL AS no_mail FROM customers ORDER BY id LIMIT 5"],
    )


DECIMAL_AGGREGATES = [
    "SELECT SUM(amount) AS s, MIN(amount) AS lo, MAX(amount) AS hi FROM orders",
    "SELECT status, SUM(amount) AS s, MIN(amount) AS lo, MAX(amount) AS hi, COUNT(*) AS n "
    "FROM orders GROUP BY status ORDER BY status",
    "SELECT SUM(price) AS s, MIN(price) AS lo, MAX(price) AS hi FROM products WHERE id <= 3",
    "SELECT SUM(amount) AS s FROM orders WHERE id < 0",
    "SELECT customer_id, SUM(o.amount) AS total FROM orders o GROUP BY customer_id "
    "ORDER BY customer_id LIMIT 10",
    "SELECT SUM(price) AS s, SUM(DISTINCT price) AS d FROM products WHERE id IN (1, 2)",
]
MYSQL_AVERAGES = [
    "SELECT AVG(amount) AS a FROM orders",
    "SELECT status, AVG(amount) AS a, AVG(quantity) AS q FROM orders GROUP BY status "
    "ORDER BY status",
    "SELECT AVG(price) AS a, AVG(DISTINCT quantity) AS d FROM products, orders "
    "WHERE products.id <= 7 AND orders.id <= 5",
    "SELECT AVG(amount) AS a, AVG(quantity) AS q, AVG(o.amount) AS b FROM orders o "
    "WHERE id IN (1, 2, 4, 7, 9, 11, 13)",
    "SELECT customer_id, AVG(amount) AS a FROM orders GROUP BY customer_id ORDER BY customer_id "
    "LIMIT 12",
]


@pytest.mark.parametrize("db_id", [EMB_MY, EMB_PG], ids=["mysql", "postgresql"])
def test_decimal_sum_min_max_keep_the_server_scale(env: Any, db_id: int) -> None:
    same_as_server(env, db_id, DECIMAL_AGGREGATES)


def test_mysql_avg_has_the_server_scale(env: Any) -> None:
    same_as_server(env, EMB_MY, MYSQL_AVERAGES)


PG_AVERAGES = MYSQL_AVERAGES + [
    "SELECT AVG(amount) AS a FROM orders WHERE id = 1",
    "SELECT AVG(price) AS a, AVG(stock) AS st FROM products WHERE id IN (1, 2, 3)",
    "SELECT AVG(id) AS a, AVG(DISTINCT quantity) AS d FROM orders",
    "SELECT status, AVG(amount) AS a FROM orders WHERE id <= 40 GROUP BY status ORDER BY a DESC",
    "SELECT AVG(gross) AS a FROM orders o JOIN customers c ON c.id = o.customer_id "
    "CROSS JOIN (SELECT 1 AS gross) g WHERE o.id < 0",
]


def test_postgresql_avg_is_the_server_numeric(env: Any) -> None:
    same_as_server(env, EMB_PG, PG_AVERAGES)
