"""Hardening of the state (issue 17, probes r01, r11, r14 and F11, F16, F18): a state file the
emulator cannot use stops start-up cleanly, a poisoned state document is refused whole with a
400 naming the field, nothing in a document reaches files or secrets, crashes and resets leave
no files behind, and the clock stops short of the last date it can show."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import requests
from alibabacloud_dms_enterprise20181101 import models as dm

from emulator.testing.flows import create_export, watch
from emulator.testing.process import Control, EmulatorProcess, run_cli
from emulator.testing.sdk import dms, v3_request

FORMAT = "dms-emulator-state"


def _serve(state: Path) -> tuple[int, list[str]]:
    out = run_cli("serve", "--port", "0", "--state", str(state), timeout=60)
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    return out.returncode, lines


def _good_state(path: Path) -> None:
    """A real state file with some weight (several tickets), written by the emulator."""
    with EmulatorProcess("--state", str(path), "--clock", "manual") as proc:
        client = dms(proc.endpoint)
        for i in range(40):
            create_export(client, f"select * from customers where id > {i}")


def test_unusable_state_files_stop_start_up_with_one_line(tmp_path: Path) -> None:
    good = tmp_path / "good.sqlite"
    _good_state(good)
    cases: dict[str, tuple[Path, str]] = {}
    half = tmp_path / "half.sqlite"
    data = good.read_bytes()
    half.write_bytes(data[: len(data) // 2])
    cases["truncated"] = (half, "damaged")
    text = tmp_path / "text.sqlite"
    text.write_text("hello, not sqlite\n")
    cases["not sqlite"] = (text, "not an SQLite database")
    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    cases["foreign"] = (foreign, "not one dms-emulator wrote")
    cases["missing directory"] = (tmp_path / "no" / "such" / "dir" / "x.sqlite", "cannot open")
    bad_version = tmp_path / "bad_version.sqlite"
    bad_version.write_bytes(data)
    conn = sqlite3.connect(bad_version)
    conn.execute("UPDATE meta SET value='abc' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    cases["bad schema_version"] = (bad_version, "schema_version")
    bad_clock = tmp_path / "bad_clock.sqlite"
    bad_clock.write_bytes(data)
    conn = sqlite3.connect(bad_clock)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('clock', '{not json')")
    conn.commit()
    conn.close()
    cases["bad clock"] = (bad_clock, "clock")
    for name, (path, problem) in cases.items():
        rc, lines = _serve(path)
        assert rc == 2, (name, lines)
        assert len(lines) == 1 and "Traceback" not in lines[0], (name, lines)
        assert str(path) in lines[0] and problem in lines[0], (name, lines)
    with EmulatorProcess("--state", str(good), "--clock", "manual") as proc:  # the intact file
        assert dms(proc.endpoint).list_orders(dm.ListOrdersRequest()).body.total_count == 40


def _state(url: str) -> dict:
    r = requests.get(f"{url}/_emulator/state", timeout=30)
    r.raise_for_status()
    return r.json()


def _put(url: str, doc: Any) -> requests.Response:
    return requests.put(f"{url}/_emulator/state", json=doc, timeout=30)


def test_poisoned_state_documents_are_refused_whole_naming_the_field() -> None:
    """Probe r11: bad JSON in a JSON column, an unknown tenant, a bad clock and SQL in a
    column name each get a 400 naming the field, and change nothing."""
    with EmulatorProcess("--clock", "manual") as proc:
        client = dms(proc.endpoint)
        kept = create_export(client, "select 1")
        before = _state(proc.url)
        meta = before["tables"]["meta"]
        order = {
            "id": 4000001,
            "tid": 3000,
            "plugin_type": "DATA_EXPORT",
            "committer_uid": 100001,
            "comment": "c",
            "created_at": 0,
            "workflow_id": 1,
            "doc": "not json",
            "tseq": 1,
        }
        tables = {"meta": meta, "orders": [order], "counters": [{"name": "tseq:3000", "value": 1}]}
        col = (
            "value) SELECT 'injected', sqlite_version() WHERE ?1 IS NOT NULL AND ?2 IS NOT NULL --"
        )
        poisons = [
            ({"format": FORMAT, "tables": tables}, "tables.orders[0].doc"),
            (
                {
                    "format": FORMAT,
                    "tables": {**tables, "orders": [{**order, "doc": "{}", "tid": 9999}]},
                },
                "tables.orders[0].tid",
            ),
            (
                {"format": FORMAT, "tables": {"meta": meta}, "clock": {"offset": "abc"}},
                "clock.offset",
            ),
            (
                {"format": FORMAT, "tables": {"meta": meta}, "clock": {"offset": 1e300}},
                "clock.offset",
            ),
            (
                {"format": FORMAT, "tables": {"meta": [*meta, {"key": "k", col: "v"}]}},
                "unknown column",
            ),
            ({"format": FORMAT, "tables": {"nonsense": []}}, "unknown table"),
            (
                {"format": FORMAT, "tables": {"orders": [{**order, "doc": "{}", "comment": [1]}]}},
                "comment",
            ),
        ]
        for doc, field in poisons:
            r = _put(proc.url, doc)
            assert r.status_code == 400, (field, r.status_code, r.text)
            assert field in r.text, (field, r.text)
            after = _state(proc.url)
            assert after["tables"] == before["tables"], f"{field}: a refused document changed state"
        assert not any(m["key"] == "injected" for m in _state(proc.url)["tables"]["meta"])
        r = requests.put(
            f"{proc.url}/_emulator/state",
            data=json.dumps(
                {"format": FORMAT, "tables": {"meta": meta}, "clock": {"offset": math.nan}}
            ),
            headers={"content-type": "application/json"},
            timeout=30,
        )
        assert r.status_code == 400
        listed = client.list_orders(dm.ListOrdersRequest()).body
        assert listed.success and [o.order_id for o in listed.orders.order] == [kept]
        assert requests.get(f"{proc.url}/_emulator/ui/tickets", timeout=30).status_code == 200
        assert requests.get(f"{proc.url}/_emulator/clock", timeout=30).status_code == 200


def test_a_state_document_never_reaches_files_or_signing_secrets(tmp_path: Path) -> None:
    """Probe r01: artifact keys outside the export directory are refused, artifact paths and
    link secrets in a document are ignored, so neither reads nor deletes a file of the host."""
    victim = tmp_path / "victim.txt"
    victim.write_text("victim\n")

    def art(key: str, path: str | None, ts: float) -> dict:
        return {
            "key": key,
            "kind": "dms-export",
            "owner": "1",
            "tid": 3000,
            "path": path,
            "rows": 1,
            "size": 1,
            "status": "success",
            "error": None,
            "created_at": ts,
            "finished_at": ts,
        }

    secrets = [
        {"key": "oss_secret", "value": "s3cr3t"},
        {"key": "oss_access_key_id", "value": "AKX"},
    ]
    with EmulatorProcess("--clock", "manual") as proc:
        escaping = {
            "format": FORMAT,
            "tables": {"meta": secrets, "artifacts": [art(str(victim), None, 1)]},
        }
        r = _put(proc.url, escaping)
        assert r.status_code == 400 and "tables.artifacts[0].key" in r.text, r.text
        passwd = {
            "format": FORMAT,
            "tables": {
                "meta": secrets,
                "artifacts": [art("dms-export/3000/x/passwd", "/etc/passwd", 1e12)],
            },
        }
        assert _put(proc.url, passwd).status_code == 200
        key, exp = "dms-export/3000/x/passwd", 4_000_000_000
        sts = f"GET\n\n\n{exp}\n/dms-emulator-exports/{key}".encode()
        sig = base64.b64encode(hmac.new(b"s3cr3t", sts, hashlib.sha1).digest()).decode()
        forged = requests.get(
            f"{proc.url}/_oss/dms-emulator-exports/{key}",
            params={"OSSAccessKeyId": "AKX", "Expires": str(exp), "Signature": sig},
            timeout=30,
        )
        assert forged.status_code in (403, 404) and b"root:" not in forged.content
        shown = {m["key"]: m.get("value") for m in _state(proc.url)["tables"]["meta"]}
        assert shown.get("oss_access_key_id") != "AKX", "the document's link key was not taken"
        Control(proc.url).reset()
    assert victim.read_text() == "victim\n"
    assert Path("/etc/passwd").exists()


def _files(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def test_crash_leftovers_and_dropped_rows_leave_no_files(tmp_path: Path) -> None:
    """F16: partial files and rows of jobs a crash interrupted go at restart; files behind rows
    that a state import or a reset drops go with them."""
    state = tmp_path / "s.sqlite"
    exports = Path(str(state) + ".exports")
    with EmulatorProcess("--state", str(state), "--clock", "manual") as proc:
        client, control = dms(proc.endpoint), Control(proc.url)
        order_id = create_export(client, "select * from customers")
        watch(client, control, order_id, {"EXPORT_SUCCESS"})
        empty = _state(proc.url)
    (done,) = _files(exports)
    # what kill -9 mid-export leaves: a running row and its partial file
    stray = exports / "dms-export" / "3000" / "deadbeef" / "shop_4000999.partial"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x" * 1000)
    conn = sqlite3.connect(state)
    conn.execute(
        "INSERT INTO artifacts (key, kind, owner, tid, path, status, created_at) "
        "VALUES ('dms-export/3000/deadbeef/shop_4000999.zip', 'dms-export', '4000999', 3000, NULL, "
        "'running', 0)"
    )
    conn.commit()
    conn.close()
    with EmulatorProcess("--state", str(state), "--clock", "manual") as proc:
        assert _files(exports) == [done], "the partial file went at restart"
        rows = _state(proc.url)["tables"]["artifacts"]
        assert [r["status"] for r in rows] == ["success"], "the interrupted job's row went"
        # an import of a document without that result drops its file too
        empty["tables"]["artifacts"] = []
        assert _put(proc.url, empty).status_code == 200
        assert _files(exports) == []
        client, control = dms(proc.endpoint), Control(proc.url)
        again = create_export(client, "select 1")
        watch(client, control, again, {"EXPORT_SUCCESS"})
        assert len(_files(exports)) == 1
        (exports / "dms-export" / "3000" / "cafe").mkdir(parents=True)
        (exports / "dms-export" / "3000" / "cafe" / "x.partial").write_bytes(b"y")
        control.reset()
        assert _files(exports) == []


def test_the_clock_stops_short_of_the_last_date_it_can_show() -> None:
    """Probe r14 (F18): advances that would pass 9999-12-31 are refused with a 400 naming
    `seconds`, and every action keeps answering."""
    with EmulatorProcess("--clock", "manual") as proc:
        url = f"{proc.url}/_emulator/clock/advance"
        refused = None
        for _ in range(300):
            r = requests.post(url, json={"seconds": 1e9}, timeout=30)
            if r.status_code != 200:
                refused = r
                break
        assert refused is not None and refused.status_code == 400 and "seconds" in refused.text
        assert requests.get(f"{proc.url}/_emulator/clock", timeout=30).status_code == 200
        client = dms(proc.endpoint)
        create_export(client, "select 1")
        listed = client.list_orders(dm.ListOrdersRequest()).body
        assert listed.success and listed.total_count == 1
        assert v3_request(proc.endpoint, "ListOrders").send().status_code == 200
        assert requests.get(f"{proc.url}/_emulator/ui/tickets", timeout=30).status_code == 200
