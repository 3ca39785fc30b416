"""A data-change backup of a PostgreSQL table with json/jsonb columns restores it exactly.

psycopg hands json/jsonb values over as dicts and lists; the rollback SQL must write them back
as JSON. The oracle is the real server: the table read before the ticket, after the backup file
was applied with `psql`.
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

DB, DB_ID = "fx_json", 63001
ALICE = ("LTAI5tJsonBackupAlice01", "JsonBackupAliceSecret0000000001")
SETUP = """
CREATE TABLE docs (id serial PRIMARY KEY, doc jsonb, raw json, note text);
INSERT INTO docs (doc, raw, note) VALUES
  ('{"a": 1, "s": "it''s \\"q\\" \\\\ 新年 🎉", "l": [1, 2.5, true, null]}', '[{"k": "v"}, []]', 'one'),
  ('[]', '{"nested": {"deep": ["x\\ny"]}}', 'two'),
  ('{"gone": {"with": ["the", "wind"]}}', '{"b": false}', 'three'),
  (NULL, NULL, 'four');
"""
CHANGE = (
    "UPDATE docs SET doc = '{\"x\": 0}', raw = '[0]' WHERE id <= 2;\n"
    "DELETE FROM docs WHERE id >= 3;\n"
    "INSERT INTO docs (doc, raw, note) VALUES ('{\"new\": true}', '{}', 'five')"
)


@pytest.fixture(scope="module")
def emu(postgres_server: PostgresServer, tmp_path_factory: Any) -> Iterator[EmulatorProcess]:
    dsn = postgres_server.fresh_database(DB)
    path: Path = tmp_path_factory.mktemp("json") / "accounts.yaml"
    path.write_text(
        "tenants:\n  - tid: 6300\n    name: json\n    approval: auto\n    users:\n"
        f"      - uid: 630001\n        name: alice\n        role: ADMIN\n"
        f"        access_key_id: {ALICE[0]}\n        access_key_secret: {ALICE[1]}\n"
        f"    databases:\n      - db_id: {DB_ID}\n        schema: {DB}\n        host: h.example\n"
        f"        port: 5432\n        db_type: postgresql\n        dsn: {dsn}\n"
    )
    with EmulatorProcess("--clock", "manual", "--accounts", str(path)) as proc:
        yield proc


def _docs(server: PostgresServer) -> list[tuple[Any, ...]]:
    return server.query("SELECT id, doc, raw::text::jsonb, note FROM docs ORDER BY id", database=DB)


def test_backup_of_json_and_jsonb_columns_restores_the_table(
    emu: EmulatorProcess, postgres_server: PostgresServer
) -> None:
    postgres_server.execute_script(SETUP, database=DB)
    before = _docs(postgres_server)
    assert isinstance(before[0][1], dict) and isinstance(before[1][1], list)  # psycopg decodes
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    order = create_change(client, CHANGE, db=DB_ID)
    seen = watch_change(client, control, order, {"success", "fail", "precheckFailed"})
    assert seen[-1] == "success", (seen, change_status(client, order))
    assert _docs(postgres_server) != before
    (url,) = client.get_data_correct_backup_files(
        dm.GetDataCorrectBackupFilesRequest(order_id=order)
    ).body.data_correct_backup_files.file_url
    postgres_server.execute_script(requests.get(url, timeout=10).text, database=DB)
    assert _docs(postgres_server) == before
