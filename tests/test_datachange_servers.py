"""Data-change tickets on real MariaDB and PostgreSQL servers (the users' own databases, `dsn`),
and concurrent tickets on the same rows on every engine.

The oracle is a second database on the same private server, loaded from the same dump: the
same SQL run there directly with the server's own client must leave the same tables behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm

from emulator.testing.dbservers import MariaDBServer, PostgresServer
from emulator.testing.flows import ROOT, change_status, create_change, watch_change
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import dms

FIXTURES = ROOT / "fixtures" / "databases"
MANAGED, ORACLE = "dc_managed", "dc_oracle"
MARIA, PG, EMBEDDED = 61001, 61002, 61003
ALICE = ("LTAI5tChangeAlice0000001", "ChangeAliceSecret000000000000001")
TABLES = ("products", "orders", "customers")
DIALECT = {MARIA: "mysql", PG: "postgresql"}


def _load(server: MariaDBServer | PostgresServer, name: str) -> None:
    if isinstance(server, MariaDBServer):
        server.query(f"DROP DATABASE IF EXISTS {name}", database="")
        server.query(f"CREATE DATABASE {name} CHARACTER SET utf8mb4", database="")
        server.execute_script((FIXTURES / "shop.mysql.sql").read_text("utf-8"), database=name)
        return
    conn = server.connect(database="postgres", autocommit=True)
    conn.execute(f"DROP DATABASE IF EXISTS {name}")
    conn.execute(f"CREATE DATABASE {name}")
    conn.close()
    server.execute_script((FIXTURES / "shop.pg.sql").read_text("utf-8"), database=name)


def _accounts(tmp: Path, maria_dsn: str, pg_dsn: str) -> Path:
    def db(db_id: int, db_type: str, source: str) -> str:
        return (
            f"      - db_id: {db_id}\n        schema: shop\n        host: h{db_id}.example\n"
            f"        port: 3306\n        db_type: {db_type}\n        {source}\n"
        )

    text = (
        "tenants:\n  - tid: 6000\n    name: changes\n    approval: auto\n    users:\n"
        f"      - uid: 600001\n        name: alice\n        role: ADMIN\n"
        f"        access_key_id: {ALICE[0]}\n        access_key_secret: {ALICE[1]}\n"
        "    databases:\n"
        + db(MARIA, "mariadb", f"dsn: {maria_dsn}")
        + db(PG, "postgresql", f"dsn: {pg_dsn}")
        + db(EMBEDDED, "mysql", f"fixture: {FIXTURES / 'shop.mysql.sql'}")
    )
    path = tmp / "accounts.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def servers(
    mariadb_server: MariaDBServer, postgres_server: PostgresServer, tmp_path_factory: Any
) -> Iterator[tuple[EmulatorProcess, MariaDBServer, PostgresServer]]:
    for server in (mariadb_server, postgres_server):
        _load(server, MANAGED)
    base = lambda dsn: dsn.rsplit("/", 1)[0] + f"/{MANAGED}"  # noqa: E731
    accounts = _accounts(
        tmp_path_factory.mktemp("changes"), base(mariadb_server.dsn), base(postgres_server.dsn)
    )
    with EmulatorProcess("--clock", "manual", "--accounts", str(accounts)) as emu:
        yield emu, mariadb_server, postgres_server


def _server(servers: Any, db_id: int) -> MariaDBServer | PostgresServer:
    return servers[1] if db_id == MARIA else servers[2]


def _tables(server: MariaDBServer | PostgresServer, database: str) -> dict[str, list[tuple]]:
    return {
        t: [tuple(r) for r in server.query(f"SELECT * FROM {t} ORDER BY id", database=database)]
        for t in TABLES
    }


CHANGES = {
    "mysql": (
        "UPDATE products SET stock = COALESCE(stock, 0) * 2, title = CONCAT(title, ' \\\\ ''x''') "
        "WHERE price > 50;\n"
        "DELETE FROM orders WHERE status IN ('CANCELLED', 'NEW') AND quantity > 2;\n"
        "INSERT INTO customers (name, email, city, note, created_at) VALUES "
        "('Zoë', NULL, 'Hangzhou', 'a\\nb', '2026-01-02 03:04:05'), "
        "('Yu', 'yu@example.com', NULL, NULL, '2026-01-02 03:04:06')"
    ),
    "postgresql": (
        "UPDATE products SET stock = COALESCE(stock, 0) * 2, title = title || ' \\ ''x''' "
        "WHERE price > 50;\n"
        "DELETE FROM orders WHERE status IN ('CANCELLED', 'NEW') AND quantity > 2;\n"
        # explicit ids: the pg_dump fixture does not set its sequences
        "INSERT INTO customers (id, name, email, city, note, created_at) VALUES "
        "(5001, 'Zoë', NULL, 'Hangzhou', E'a\\nb', '2026-01-02 03:04:05'), "
        "(5002, 'Yu', 'yu@example.com', NULL, NULL, '2026-01-02 03:04:06')"
    ),
}


@pytest.mark.parametrize("db_id", [MARIA, PG])
def test_change_on_a_real_server_equals_the_same_sql_run_directly_and_backup_restores(
    servers: tuple[EmulatorProcess, MariaDBServer, PostgresServer], db_id: int
) -> None:
    emu = servers[0]
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    server = _server(servers, db_id)
    _load(server, MANAGED)
    _load(server, ORACLE)
    before = _tables(server, MANAGED)
    sql = CHANGES[DIALECT[db_id]]
    order = create_change(client, sql, db=db_id)
    seen = watch_change(client, control, order, {"success", "fail", "precheckFailed"})
    why = client.get_data_correct_task_detail(dm.GetDataCorrectTaskDetailRequest(order_id=order))
    assert seen[-1] == "success", (seen, why.body.error_message)
    server.execute_script(sql + ";", database=ORACLE)
    after = _tables(server, MANAGED)
    assert after == _tables(server, ORACLE)
    assert after != before
    task = client.get_data_correct_task_detail(
        dm.GetDataCorrectTaskDetailRequest(order_id=order)
    ).body.data_correct_task_detail
    differ = 0
    for t in TABLES:
        old, new = ({r[0]: r for r in rows[t]} for rows in (before, after))
        differ += sum(1 for k, r in old.items() if new.get(k) != r) + len(new.keys() - old.keys())
    assert task.actual_affect_rows == differ
    # the rollback SQL, applied with the server's own client, puts every table back exactly
    (url,) = client.get_data_correct_backup_files(
        dm.GetDataCorrectBackupFilesRequest(order_id=order)
    ).body.data_correct_backup_files.file_url
    server.execute_script(requests.get(url, timeout=10).text, database=MANAGED)
    assert _tables(server, MANAGED) == before


@pytest.mark.parametrize("db_id", [MARIA, PG])
def test_a_failing_statement_on_a_server_rolls_the_whole_ticket_back(
    servers: tuple[EmulatorProcess, MariaDBServer, PostgresServer], db_id: int
) -> None:
    emu = servers[0]
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    server = _server(servers, db_id)
    _load(server, MANAGED)
    before = _tables(server, MANAGED)
    order = create_change(
        client,
        "update products set stock = 1; delete from orders where id < 100; "
        "insert into customers (id, name, created_at) values (1, 'dup', '2026-01-01 00:00:00')",
        db=db_id,
    )
    assert watch_change(client, control, order, {"success", "fail"})[-1] == "fail"
    task = client.get_data_correct_task_detail(dm.GetDataCorrectTaskDetailRequest(order_id=order))
    assert "statement 3 failed" in task.body.error_message, task.body.to_map()
    assert "Duplicate" in task.body.error_message or "duplicate" in task.body.error_message
    assert _tables(server, MANAGED) == before


@pytest.mark.parametrize("db_id", [MARIA, PG, EMBEDDED])
def test_two_tickets_on_the_same_rows_both_apply(
    servers: tuple[EmulatorProcess, MariaDBServer, PostgresServer], db_id: int
) -> None:
    """No lost update: two tickets start at the same emulated moment, run concurrently (the
    ticker starts both), and each one's increment is in the result."""
    emu = servers[0]
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    q = "select id, stock from products where id <= 20 order by id"
    if db_id != EMBEDDED:
        server = _server(servers, db_id)
        _load(server, MANAGED)
        read = lambda: [tuple(r) for r in server.query(q, database=MANAGED)]  # noqa: E731
    else:
        from emulator.testing.flows import exported_rows

        read = lambda: exported_rows(client, control, q, db=EMBEDDED)  # noqa: E731
    start = read()
    orders = [
        create_change(
            client, f"update products set stock = COALESCE(stock, 0) + {n} where id <= 20", db=db_id
        )
        for n in (1, 10)
    ]
    control.advance(20)  # both are due: the ticker (every 0.5 s) starts them together
    deadline = time.time() + 20
    while time.time() < deadline and any(
        change_status(client, o) not in ("success", "fail") for o in orders
    ):
        time.sleep(0.2)
        control.advance(1)
    assert [change_status(client, o) for o in orders] == ["success", "success"]
    assert read() == [(i, (s or 0) + 11) for i, s in start]


def test_concurrent_polls_start_a_change_once(
    servers: tuple[EmulatorProcess, MariaDBServer, PostgresServer],
) -> None:
    """Many pollers at the moment a change is due: its SQL runs exactly once."""
    emu = servers[0]
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    server = _server(servers, MARIA)
    _load(server, MANAGED)
    (before,) = server.query("select stock from products where id = 1", database=MANAGED)[0]
    order = create_change(client, "update products set stock = stock + 1 where id = 1", db=MARIA)
    control.advance(8.5)
    threads = [
        threading.Thread(target=lambda: change_status(dms(emu.endpoint, ALICE), order))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert watch_change(client, control, order, {"success", "fail"})[-1] == "success"
    assert server.query("select stock from products where id = 1", database=MANAGED)[0] == (
        before + 1,
    )
