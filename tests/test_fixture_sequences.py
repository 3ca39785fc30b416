"""The pg_dump fixtures set their sequences, so an INSERT without an id takes the next one.

The oracle is a private PostgreSQL loaded from the same dump with `psql`: the ids it gives are
the ids the embedded hr database (27001, loaded by the emulator from hr.pg.sql) must give to the
same INSERTs run through ExecuteScript with the official SDK.
"""

from __future__ import annotations

from alibabacloud_dms_enterprise20181101 import models as M

from emulator.testing.dbservers import PostgresServer
from emulator.testing.flows import ROOT
from emulator.testing.sdk import DAVE, dms

FIXTURES = ROOT / "fixtures" / "databases"
HR = 27001  # tenant 4000 (dave is ADMIN): the embedded hr database, a PostgreSQL one
INSERTS = {
    "departments": "INSERT INTO departments (name) VALUES ('Fixes')",
    "employees": "INSERT INTO employees (department_id, full_name, hired_on) "
    "VALUES (1, 'Seq Uence', '2026-01-02')",
    "salaries": "INSERT INTO salaries (employee_id, period, gross) VALUES (1, '2026-H1', 1.00)",
}
SHOP = {
    "customers": "INSERT INTO customers (name) VALUES ('Fixes')",
    "products": "INSERT INTO products (sku, title) VALUES ('FIX-1', 'Fixes')",
    "orders": "INSERT INTO orders (customer_id, product_id, amount, ordered_at) "
    "VALUES (1, 1, 1.00, '2026-01-02 03:04:05')",
}


def _load(server: PostgresServer, name: str, fixture: str) -> None:
    conn = server.connect(database="postgres", autocommit=True)
    conn.execute(f"DROP DATABASE IF EXISTS {name}")
    conn.execute(f"CREATE DATABASE {name}")
    conn.close()
    server.execute_script((FIXTURES / fixture).read_text("utf-8"), database=name)


def _real_ids(server: PostgresServer, name: str, inserts: dict[str, str]) -> dict[str, int]:
    out = {}
    for table, sql in inserts.items():
        ((new,),) = server.query(sql + " RETURNING id", database=name)
        ((top,),) = server.query(f"SELECT max(id) FROM {table} WHERE id <> %s", (new,), name)
        assert new == top + 1, (table, new, top)  # the next id after the dumped rows
        out[table] = new
    return out


def test_inserts_without_an_id_on_a_server_loaded_from_the_dumps(
    postgres_server: PostgresServer,
) -> None:
    _load(postgres_server, "fx_seq_shop", "shop.pg.sql")
    _real_ids(postgres_server, "fx_seq_shop", SHOP)  # no duplicate key: the sequences are set


def test_embedded_hr_gives_the_ids_the_real_server_gives(
    postgres_server: PostgresServer, endpoint: str
) -> None:
    _load(postgres_server, "fx_seq_hr", "hr.pg.sql")
    want = _real_ids(postgres_server, "fx_seq_hr", INSERTS)
    client = dms(endpoint, DAVE)
    for table, sql in INSERTS.items():
        script = f"{sql}; SELECT max(id) AS id FROM {table}"
        body = client.execute_script(M.ExecuteScriptRequest(db_id=HR, logic=False, script=script))
        results = body.body.results
        assert [r.success for r in results] == [True, True], [r.message for r in results]
        assert results[1].rows == [{"id": str(want[table])}], table
