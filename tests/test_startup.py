"""Start-up loads only what the first health check needs (issue 18): the action modules, their
domain, the console, SQL translation, the workbook writer, database drivers and certificate code
load at the first request that uses them, and then work.

A probe process runs the real `serve` command and, from a thread of the same process, waits for
the first 200 on health, lists `sys.modules`, then makes one call of each lazily loaded family
through the official SDKs and lists them again after each."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, os, signal, sys, threading, time, urllib.request

port, calls = int(sys.argv[1]), sys.argv[2] == "calls"
url = f"http://127.0.0.1:{port}"


def get(path):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return r.status, r.read().decode()


def watch():
    out = {"after": {}, "results": {}}
    try:
        while True:
            try:
                if get("/_emulator/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.01)
        out["start"] = sorted(sys.modules)
        if calls:
            from alibabacloud_dms_enterprise20181101 import models as M
            from alibabacloud_sas20181203 import models as S

            from emulator.testing import flows
            from emulator.testing.sdk import dms, sas

            client = dms(f"127.0.0.1:{port}")
            order = flows.create_export(client, "SELECT id FROM customers")
            out["results"]["order"] = order
            out["results"]["export"] = flows.status(client, order)
            out["after"]["export"] = sorted(sys.modules)
            body = client.list_tables(M.ListTablesRequest(database_id="17001", page_size=100)).body
            out["results"]["meta"] = sorted(t.table_name for t in body.table_list.table)
            out["after"]["meta"] = sorted(sys.modules)
            body = client.execute_script(
                M.ExecuteScriptRequest(db_id=17001, logic=False, script="SELECT 41 + 1 AS answer")
            ).body
            out["results"]["console"] = body.to_map()
            out["after"]["console"] = sorted(sys.modules)
            body = sas(f"127.0.0.1:{port}").export_record(
                S.ExportRecordRequest(export_type="virusScanExport")
            ).body
            out["results"]["sas"] = body.to_map()
            out["after"]["sas"] = sorted(sys.modules)
            out["results"]["ui"] = get("/_emulator/ui/tickets")
            out["after"]["ui"] = sorted(sys.modules)
    except BaseException as exc:  # reported to the test, never a hung server
        out["error"] = repr(exc)
    print(json.dumps(out), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)


threading.Thread(target=watch, daemon=True).start()
from emulator.cli.main import main

main(["serve", "--port", str(port), "--clock", "manual", "--log-level", "WARNING"])
"""

# never loaded by a start that no request has asked for more
AT_START_NEVER = (
    "sqlglot",
    "openpyxl",
    "pymysql",
    "psycopg",
    "cryptography",
    "yaml",  # the accounts file's parse is cached by content
    "emulator.gateway.pipeline",
    "emulator.services.dms.api.export",
    "emulator.services.dms.api.console",
    "emulator.services.dms.api.meta",
    "emulator.services.dms.domain.tickets",  # the state tables are declared apart from it
    "emulator.services.dms.domain.workflow",
    "emulator.services.dms.domain.datatrack",
    "emulator.services.dms.domain.meta",
    "emulator.services.dms.domain.console",
    "emulator.services.dms.api.specs",
    "emulator.services.dms.views",
    "emulator.services.sas.api.exports",
    "emulator.services.sas.exports",
    "xml.sax",
    "emulator.admin.console",
    "emulator.admin.catalog",
    "emulator.admin.sas_exports",
    "emulator.databases.backend",  # fixtures are checked at start, backends made at first use
    "emulator.databases.sqlite",
    "emulator.databases.loader",
    "emulator.databases.dialect",
    "emulator.databases.mysql",
    "emulator.databases.postgres",
    "emulator.serving.front",
    "emulator.serving.tls",  # certificate code: only with --tls
    "emulator.serving.prefork",  # only with --workers
)

# after one call of a family, its modules are there
LOADED_BY = {
    "export": ("emulator.gateway.pipeline", "emulator.services.dms.api.export"),
    "meta": ("emulator.services.dms.domain.meta",),
    "console": ("emulator.services.dms.domain.console", "sqlglot"),
    "sas": ("emulator.services.sas.api.exports",),
    "ui": ("emulator.admin.console",),
}


def loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def probe(mode: str) -> dict[str, Any]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(port), mode],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout + done.stderr
    out: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in out, out.get("error")
    return out


@pytest.fixture(scope="module")
def started() -> dict[str, Any]:
    probe("start")  # fills the caches a first start on a machine fills (fixtures, accounts)
    return probe("calls")


def test_a_start_loads_none_of_what_no_request_asked_for(started: dict[str, Any]) -> None:
    start = started["start"]
    assert "emulator.admin.control_api" in start  # health was answered by the control plane
    assert [name for name in AT_START_NEVER if loaded(start, name)] == []


@pytest.mark.parametrize("family", sorted(LOADED_BY))
def test_the_first_call_of_each_family_loads_it(started: dict[str, Any], family: str) -> None:
    after = started["after"][family]
    assert [name for name in LOADED_BY[family] if not loaded(after, name)] == []


def test_the_lazily_loaded_families_work(started: dict[str, Any]) -> None:
    results = started["results"]
    assert results["export"] == "PRE_CHECKING"  # a new export on the manual clock (DMS's name)
    # the tables of the fixture script, read from the script itself
    script = (ROOT / "fixtures" / "databases" / "shop.mysql.sql").read_text(encoding="utf-8")
    tables = sorted(set(re.findall(r"CREATE TABLE `(\w+)`", script)))
    assert tables and results["meta"] == tables
    console = results["console"]
    assert console["Success"] is True, console
    assert console["Results"][0]["Rows"] == [{"answer": "42"}], console  # DMS shows text
    assert results["sas"].get("Id") or results["sas"].get("FileName"), results["sas"]
    status, page = results["ui"]
    assert status == 200 and str(results["order"]) in page  # the console lists the new ticket
