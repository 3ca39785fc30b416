"""Export and data tracking on every engine, through the official SDK, to the downloaded file.

One emulator serves four databases holding the same shop data: the embedded engine speaking
MySQL, the embedded engine speaking PostgreSQL, a real MariaDB and a real PostgreSQL (private
servers, loaded from the same mysqldump / pg_dump fixtures). The oracle is the real server's own
answer to the same query, read with its own driver, never the emulator's code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm

from emulator.testing.csvread import parse
from emulator.testing.dbservers import MariaDBServer, PostgresServer, free_port
from emulator.testing.flows import ROOT, create_export, poll_download, track_order, watch
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import dms

DB = "engines_shop"
FIXTURES = ROOT / "fixtures" / "databases"
EMBEDDED_MYSQL, EMBEDDED_PG, REAL_MARIADB, REAL_PG, DOWN = 51001, 51002, 51003, 51004, 51005
QUERIES = {
    "mysql": "SELECT `id`, `name`, `email`, `city`, `created_at` FROM `customers` "
    "WHERE `id` <= 40 AND `city` IS NOT NULL ORDER BY `id`",
    "postgresql": 'SELECT "id", "name", "email", "city", "created_at" FROM "customers" '
    'WHERE "id" <= 40 AND "city" IS NOT NULL ORDER BY "id"',
}
ALICE = ("LTAI5tEnginesAlice000001", "EnginesAliceSecret00000000000001")


def _accounts(tmp: Path, mariadb_dsn: str, pg_dsn: str) -> Path:
    def db(db_id: int, db_type: str, source: str) -> str:
        return (
            f"      - db_id: {db_id}\n        schema: shop\n        host: h{db_id}.example\n"
            f"        port: 3306\n        db_type: {db_type}\n        {source}\n"
        )

    text = (
        "tenants:\n  - tid: 5000\n    name: engines\n    approval: auto\n    users:\n"
        f"      - uid: 500001\n        name: alice\n        role: ADMIN\n"
        f"        access_key_id: {ALICE[0]}\n        access_key_secret: {ALICE[1]}\n"
        "    databases:\n"
        + db(EMBEDDED_MYSQL, "mysql", f"fixture: {FIXTURES / 'shop.mysql.sql'}")
        + db(EMBEDDED_PG, "postgresql", f"fixture: {FIXTURES / 'shop.pg.sql'}")
        + db(REAL_MARIADB, "mariadb", f"dsn: {mariadb_dsn}")
        + db(REAL_PG, "postgresql", f"dsn: {pg_dsn}")
        + db(DOWN, "mysql", f"dsn: mysql://dms:hunter2@127.0.0.1:{free_port()}/gone")
    )
    path = tmp / "accounts.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def engines(
    mariadb_server: MariaDBServer, postgres_server: PostgresServer, tmp_path_factory: Any
) -> Iterator[tuple[EmulatorProcess, MariaDBServer, PostgresServer]]:
    my_dsn = mariadb_server.fresh_database(DB, (FIXTURES / "shop.mysql.sql").read_text("utf-8"))
    pg_dsn = postgres_server.fresh_database(DB, (FIXTURES / "shop.pg.sql").read_text("utf-8"))
    accounts = _accounts(
        tmp_path_factory.mktemp("engines"),
        my_dsn,
        pg_dsn,
    )
    with EmulatorProcess("--clock", "manual", "--accounts", str(accounts)) as emu:
        yield emu, mariadb_server, postgres_server


def _text(v: Any) -> str | None:
    """A server value as the export file writes it."""
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, Decimal):
        return str(v)
    return str(v)


def _downloaded_csv(client: Any, order_id: int) -> list[list[str | None]]:
    body = client.get_data_export_download_url(
        dm.GetDataExportDownloadURLRequest(order_id=order_id)
    ).body
    assert body.download_urlresult.has_result, body.to_map()
    blob = requests.get(body.download_urlresult.url, timeout=30).content
    zf = zipfile.ZipFile(io.BytesIO(blob))
    (name,) = zf.namelist()
    rows = parse(zf.read(name).decode("utf-8"))
    return [[None if (v == "" and not q) else v for v, q in r] for r in rows]


CASES = [
    (EMBEDDED_MYSQL, "mysql"),
    (EMBEDDED_PG, "postgresql"),
    (REAL_MARIADB, "mysql"),
    (REAL_PG, "postgresql"),
]


@pytest.mark.parametrize("db_id, dialect", CASES)
def test_export_to_downloaded_file_on_every_engine(
    engines: tuple[EmulatorProcess, MariaDBServer, PostgresServer], db_id: int, dialect: str
) -> None:
    emu, mariadb, postgres = engines
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    order = create_export(client, QUERIES[dialect], db=db_id)
    assert watch(client, control, order, {"EXPORT_SUCCESS", "EXPORT_FAIL", "PRE_CHECK_FAIL"})[
        -1
    ] == ("EXPORT_SUCCESS")
    got = _downloaded_csv(client, order)
    oracle = mariadb if dialect == "mysql" else postgres
    want = oracle.query(QUERIES[dialect], database=DB)
    assert got[0] == ["id", "name", "email", "city", "created_at"]
    assert got[1:] == [[_text(v) for v in r] for r in want]
    assert len(want) > 10


@pytest.mark.parametrize("db_id, dialect", CASES)
def test_data_tracking_before_images_are_rows_of_the_database(
    engines: tuple[EmulatorProcess, MariaDBServer, PostgresServer], db_id: int, dialect: str
) -> None:
    emu, mariadb, postgres = engines
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    order = track_order(client, tables=("customers",), db=str(db_id))
    control.advance(30)
    key = client.download_data_track_result(
        dm.DownloadDataTrackResultRequest(
            order_id=order, filter_type_list=["UPDATE", "DELETE"], rollback_sqltype="REVERSE"
        )
    ).body.download_key_id
    _, st = poll_download(client, control, order, key)
    zf = zipfile.ZipFile(io.BytesIO(requests.get(st.download_url, timeout=30).content))
    events = list(csv.DictReader(io.StringIO(zf.read("events.csv").decode())))
    assert events
    oracle = mariadb if dialect == "mysql" else postgres
    names = dict(oracle.query("SELECT id, name FROM customers", database=DB))
    for e in events:
        before = json.loads(e["Before"])
        assert names[int(before["id"])] == before["name"]
    # the rollback script speaks the database's dialect (identifier quoting)
    script = zf.read("rollback.sql").decode()
    assert ("`customers`" in script) == (dialect == "mysql")
    assert ('"customers"' in script) == (dialect == "postgresql")


def test_an_unreachable_server_is_reported_and_fails_calls_clearly(
    engines: tuple[EmulatorProcess, MariaDBServer, PostgresServer],
) -> None:
    emu, _, _ = engines  # it started although one server is down
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    # the servers are checked in the background after start: wait for that check (a fast start
    # can answer health before it finished; "unknown" until then)
    deadline = time.monotonic() + 30
    while True:
        states = {d["db_id"]: d for d in control.get("/health")["databases"]}
        if all(d["state"] != "unknown" for d in states.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert states[REAL_MARIADB]["state"] == "ok" and states[REAL_PG]["state"] == "ok"
    assert states[DOWN]["state"] == "unreachable" and "hunter2" not in str(states[DOWN])
    assert "cannot connect" in states[DOWN]["message"]
    order = create_export(client, "SELECT 1", db=DOWN)
    assert watch(client, control, order, {"PRE_CHECK_FAIL", "PRE_CHECK_SUCCESS"})[-1] == (
        "PRE_CHECK_FAIL"
    )
    detail = client.get_data_export_pre_check_detail(
        dm.GetDataExportPreCheckDetailRequest(order_id=order)
    ).body
    assert "the database cannot be reached" in detail.error_message
    assert "hunter2" not in detail.error_message


def test_metadata_of_an_unreachable_database_is_a_clear_error(
    engines: tuple[EmulatorProcess, MariaDBServer, PostgresServer],
) -> None:
    """ListTables / GetMetaTableDetailInfo / ListColumns on a database whose server is down
    answer a business error naming the database (they answered HTTP 500 before)."""
    emu, _, _ = engines
    client = dms(emu.endpoint, ALICE)
    answers = [
        client.list_tables(dm.ListTablesRequest(database_id=str(DOWN))).body,
        client.get_meta_table_detail_info(
            dm.GetMetaTableDetailInfoRequest(table_guid=f"IDB_{DOWN}.shop.customers")
        ).body,
    ]
    for body in answers:
        assert body.success is False and body.error_code == "DatabaseUnavailable", body
        assert str(DOWN) in body.error_message and "cannot connect" in body.error_message
        assert "hunter2" not in body.error_message
    page = requests.get(f"{emu.url}/_emulator/ui/catalog/?tid=5000", timeout=30)
    assert page.status_code == 200 and "unavailable: The database 51005 cannot be read" in page.text
