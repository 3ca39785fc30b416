"""A data-change backup restores scalar json/jsonb values exactly, on a real PostgreSQL.

psycopg hands a jsonb holding a bare string, number, boolean or JSON null over as a plain
Python str/int/float/bool/None, which the rollback SQL cannot tell from a text, numeric,
boolean or SQL NULL value. The oracle is the real server: the table's json/jsonb values as the
server's own text (`::text`) before the ticket, and after the backup file was applied with psql.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm

from emulator.testing.dbservers import PostgresServer
from emulator.testing.flows import change_status, create_change, watch_change
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import dms

DB, DB_ID = "fidelity_json", 73001
ALICE = ("LTAI5tFidelityJson00001", "FidelityJsonSecret0000000000001")
SETUP = """
CREATE TABLE scalars (id integer PRIMARY KEY, doc jsonb, raw json, note text);
INSERT INTO scalars VALUES
  (1, '"abc"', '"it''s"', 'string'),
  (2, '5', ' 5 ', 'integer'),
  (3, '1.50', '1.50', 'decimal with a trailing zero'),
  (4, 'true', 'false', 'boolean'),
  (5, 'null', 'null', 'JSON null, not SQL NULL'),
  (6, NULL, NULL, 'SQL NULL'),
  (7, '"5"', '"true"', 'strings that look like other scalars'),
  (8, '{"a": [1, 2.50]}', '{"a" : [1, 2.50]}', 'a document'),
  (9, '-0.0000001e5', '1e400', 'odd numbers');
CREATE TABLE keyless (doc jsonb, raw json);
INSERT INTO keyless VALUES ('"x"', '7'), ('2.0', '"y"'), ('null', 'null');
CREATE TABLE jkeys (k jsonb PRIMARY KEY, v integer);
INSERT INTO jkeys VALUES ('"a"', 1), ('1.0', 2);
"""
CHANGE = (
    "UPDATE scalars SET doc = '{\"x\": 0}', raw = '[0]' WHERE id <= 5;\n"
    "DELETE FROM scalars WHERE id >= 6;\n"
    "DELETE FROM keyless;\n"
    "UPDATE jkeys SET v = v + 10;\n"
    "INSERT INTO jkeys VALUES ('\"1.0\"', 3), ('[1]', 4)"
)
READ = (
    "SELECT id, doc::text, raw::text, doc IS NULL, raw IS NULL, note FROM scalars ORDER BY id",
    "SELECT doc::text, raw::text FROM keyless ORDER BY 1, 2",
    "SELECT k::text, v FROM jkeys ORDER BY 1",
)


@pytest.fixture(scope="module")
def emu(postgres_server: PostgresServer, tmp_path_factory: Any) -> Iterator[EmulatorProcess]:
    dsn = postgres_server.fresh_database(DB)
    path: Path = tmp_path_factory.mktemp("fidelity_json") / "accounts.yaml"
    path.write_text(
        "tenants:\n  - tid: 7300\n    name: fidelity\n    approval: auto\n    users:\n"
        f"      - uid: 730001\n        name: alice\n        role: ADMIN\n"
        f"        access_key_id: {ALICE[0]}\n        access_key_secret: {ALICE[1]}\n"
        f"    databases:\n      - db_id: {DB_ID}\n        schema: {DB}\n        host: h.example\n"
        f"        port: 5432\n        db_type: postgresql\n        dsn: {dsn}\n"
    )
    with EmulatorProcess("--clock", "manual", "--accounts", str(path)) as proc:
        yield proc


def _state(server: PostgresServer) -> list[list[tuple[Any, ...]]]:
    return [server.query(sql, database=DB) for sql in READ]


def test_backup_restores_scalar_json_values_exactly(
    emu: EmulatorProcess, postgres_server: PostgresServer
) -> None:
    postgres_server.execute_script(SETUP, database=DB)
    before = _state(postgres_server)
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    order = create_change(client, CHANGE, db=DB_ID)
    seen = watch_change(client, control, order, {"success", "fail", "precheckFailed"})
    assert seen[-1] == "success", (seen, change_status(client, order))
    assert _state(postgres_server) != before
    (url,) = client.get_data_correct_backup_files(
        dm.GetDataCorrectBackupFilesRequest(order_id=order)
    ).body.data_correct_backup_files.file_url
    backup = requests.get(url, timeout=10).text
    postgres_server.execute_script(backup, database=DB)
    assert _state(postgres_server) == before, backup
