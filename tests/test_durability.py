"""Durable state, crash safety, concurrency and many workers, through real processes."""

from __future__ import annotations

import http.client
import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import requests
from alibabacloud_dms_enterprise20181101 import models as dm

from emulator.testing.flows import status
from emulator.testing.process import Control, EmulatorProcess, run_cli
from emulator.testing.sdk import ALICE, CAROL, dms, v3_request

WRITER = textwrap.dedent("""
    import sys
    from alibabacloud_dms_enterprise20181101 import models as dm
    from emulator.testing.sdk import dms
    client = dms(sys.argv[1])
    while True:
        try:
            body = client.create_order(dm.CreateOrderRequest(plugin_type="NDDL", comment="crash",
                                       plugin_param={"title": "t", "dbId": 17001})).body
        except Exception:
            break
        if body.success:
            print(body.create_order_result.order_ids[0], flush=True)
""")


def test_acknowledged_tickets_survive_sigkill(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    proc = EmulatorProcess("--state", str(state), "--log-level", "WARNING").start()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, proc.endpoint],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    acked: list[int] = []
    assert writer.stdout is not None
    while len(acked) < 60:
        line = writer.stdout.readline()
        if not line:
            break
        acked.append(int(line))
    proc.stop(signal.SIGKILL)  # mid-stream: the writer is still sending
    writer.wait(timeout=30)
    acked += [int(x) for x in writer.stdout.read().split()]
    assert len(acked) >= 60
    with EmulatorProcess("--state", str(state)) as again:
        client = dms(again.endpoint)
        for order_id in acked:
            body = client.get_order_base_info(dm.GetOrderBaseInfoRequest(order_id=order_id)).body
            assert body.success, f"acknowledged ticket {order_id} was lost"
        total = client.list_orders(
            dm.ListOrdersRequest(plugin_type="NDDL", page_size=100)
        ).body.total_count
        assert total >= len(acked)


def test_restart_continues_statuses_clock_files_and_links(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = EmulatorProcess("--state", str(state), "--clock", "manual").start()
    client, control = dms(first.endpoint), Control(first.url)
    done = client.create_order(
        dm.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="c",
            plugin_param={"dbId": 17001, "exeSQL": "select * from products"},
        )
    ).body.create_order_result.order_ids[0]
    control.advance(60)
    halfway = client.create_order(
        dm.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="c",
            plugin_param={"dbId": 17001, "exeSQL": "select * from products"},
        )
    ).body.create_order_result.order_ids[0]
    control.advance(4)
    before = {"clock": control.get("/clock")["epoch"], "halfway": status(client, halfway)}
    url = client.get_data_export_download_url(
        dm.GetDataExportDownloadURLRequest(order_id=done)
    ).body.download_urlresult.url
    content = requests.get(url, timeout=10).content
    first.stop(signal.SIGKILL)

    with EmulatorProcess("--state", str(state), "--clock", "manual") as second:
        client, control = dms(second.endpoint), Control(second.url)
        assert control.get("/clock")["epoch"] == before["clock"], (
            "the manual clock continues where it was"
        )
        assert status(client, halfway) == before["halfway"] != "EXPORT_SUCCESS"
        assert status(client, done) == "EXPORT_SUCCESS"
        moved = url.replace(first.endpoint, second.endpoint)
        r = requests.get(moved, timeout=10)
        assert r.status_code == 200 and r.content == content, "files and links survive a restart"
        control.advance(60)
        assert status(client, halfway) == "EXPORT_SUCCESS"


def test_concurrent_creates_never_lose_or_duplicate(emulator, control: Control) -> None:
    check_concurrent_creates(emulator.endpoint, threads=8, each=15)


def check_concurrent_creates(endpoint: str, threads: int, each: int, logs=None) -> None:  # type: ignore[no-untyped-def]
    results: list[list[int]] = [[] for _ in range(threads)]
    failures: list[str] = []

    def work(i: int) -> None:
        client = dms(endpoint, CAROL if i % 2 else ALICE)
        try:
            for _ in range(each):
                body = client.create_order(
                    dm.CreateOrderRequest(
                        plugin_type="NDDL",
                        comment=f"t{i}",
                        plugin_param={"title": "t", "dbId": 17001},
                    )
                ).body
                assert body.success, body.to_map()
                results[i].append(body.create_order_result.order_ids[0])
        except Exception as exc:  # surfaced below: a thread's exception would otherwise vanish
            failures.append(f"thread {i}: {type(exc).__name__}: {exc}")

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert failures == [], (failures[:3], logs()[-4000:] if logs else "")
    ids = [x for r in results for x in r]
    assert len(ids) == threads * each and len(set(ids)) == threads * each
    listed = dms(endpoint).list_orders(dm.ListOrdersRequest(plugin_type="NDDL")).body.total_count
    assert listed == threads * each


def test_many_workers_share_ids_nonces_clock_and_faults(tmp_path: Path) -> None:
    with EmulatorProcess("--workers", "3", "--clock", "manual") as proc:
        check_concurrent_creates(proc.endpoint, threads=6, each=10, logs=proc.logs)
        control = Control(proc.url)
        # one signed request replayed on fresh connections, until different workers have answered
        prepared = v3_request(proc.endpoint, "GetUserActiveTenant")
        host, port = proc.endpoint.split(":")
        codes = []
        for _ in range(200):
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("POST", "/", body=prepared.body, headers=prepared.headers)
            resp = conn.getresponse()
            codes.append((resp.status, json.loads(resp.read()).get("Code")))
            conn.close()
            pids = {e["pid"] for e in control.journal(action="GetUserActiveTenant")}
            if len(pids) > 1 and len(codes) >= 5:
                break
        assert len(pids) > 1, "the replays were answered by more than one worker"
        assert codes.count((200, None)) == 1
        assert codes.count((400, "SignatureNonceUsed")) == len(codes) - 1
        # the clock and fault rules are the same whichever worker answers
        epoch = control.advance(120)["epoch"]
        assert {Control(proc.url).get("/clock")["epoch"] for _ in range(6)} == {epoch}
        control.post(
            "/faults",
            {
                "match": {"action": "ListUserTenants"},
                "times": 4,
                "effect": {"type": "error", "code": "Throttling.User"},
            },
        )
        statuses = [
            v3_request(proc.endpoint, "ListUserTenants").send().status_code for _ in range(8)
        ]
        assert statuses == [400] * 4 + [200] * 4


# the tables as the first dms-emulator wrote them (schema version 1), written out by hand
VERSION_1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, tid INTEGER NOT NULL, plugin_type TEXT NOT NULL,
  committer_uid INTEGER NOT NULL, comment TEXT NOT NULL, created_at REAL NOT NULL,
  workflow_id INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX orders_tid ON orders (tid, id);
CREATE UNIQUE INDEX orders_workflow ON orders (workflow_id);
CREATE TABLE order_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL,
  at REAL NOT NULL, event TEXT NOT NULL, actor INTEGER, detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX order_events_order ON order_events (order_id, at, seq);
CREATE TABLE artifacts (key TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT NOT NULL,
  tid INTEGER NOT NULL, path TEXT, rows INTEGER, size INTEGER, status TEXT NOT NULL, error TEXT,
  created_at REAL NOT NULL, finished_at REAL);
CREATE INDEX artifacts_owner ON artifacts (owner);
CREATE TABLE jobs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, tid INTEGER NOT NULL,
  owner TEXT NOT NULL, created_at REAL NOT NULL, doc TEXT NOT NULL);
CREATE INDEX jobs_kind ON jobs (kind, tid, id);
"""


def test_state_file_versions(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    conn = sqlite3.connect(newer)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    conn.commit()
    conn.close()
    out = run_cli("serve", "--port", "0", "--state", str(newer))
    assert out.returncode == 2 and "schema version 99" in out.stderr and "newer" in out.stderr
    assert "Traceback" not in out.stderr

    older = tmp_path / "older.sqlite"
    conn = sqlite3.connect(older)
    conn.executescript(VERSION_1_SCHEMA)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    from emulator.state.store import Store
    from emulator.wiring import STATE_TABLES

    store = Store(str(older), STATE_TABLES)
    SCHEMA_VERSION = store.version
    assert SCHEMA_VERSION >= 5
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
    indexes = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "order_events_kind" in indexes, "the migration step ran"
    store.close()


def test_offline_state_export_import_round_trips(tmp_path: Path) -> None:
    state = tmp_path / "a.sqlite"
    with EmulatorProcess("--state", str(state), "--clock", "manual") as proc:
        client = dms(proc.endpoint)
        for _ in range(3):
            client.create_order(
                dm.CreateOrderRequest(
                    plugin_type="DATA_EXPORT",
                    comment="c",
                    plugin_param={"dbId": 17001, "exeSQL": "select 1"},
                )
            )
        Control(proc.url).advance(30)
        live = Control(proc.url).get("/state")
    dump = tmp_path / "dump.json"
    assert run_cli("state", "export", str(dump), "--state", str(state)).returncode == 0
    offline = json.loads(dump.read_text())
    assert offline["tables"] == live["tables"]
    other = tmp_path / "b.sqlite"
    assert run_cli("state", "import", str(dump), "--state", str(other)).returncode == 0
    again = tmp_path / "again.json"
    assert run_cli("state", "export", str(again), "--state", str(other)).returncode == 0
    assert json.loads(again.read_text())["tables"] == offline["tables"]
    (tmp_path / "junk.json").write_text('{"x": 1}')
    bad = run_cli("state", "import", str(tmp_path / "junk.json"), "--state", str(other))
    assert bad.returncode == 2 and "not a dms-emulator state document" in bad.stderr
    with EmulatorProcess("--state", str(other), "--clock", "manual") as proc:
        body = dms(proc.endpoint).list_orders(dm.ListOrdersRequest()).body
        assert body.total_count == 3 and {o.status_code for o in body.orders.order} == {"success"}


def test_result_files_are_kept_only_for_the_retention_period(tmp_path: Path) -> None:
    with EmulatorProcess("--clock", "manual", "--retention", "3600") as proc:
        client, control = dms(proc.endpoint), Control(proc.url)

        def export() -> int:
            oid = client.create_order(
                dm.CreateOrderRequest(
                    plugin_type="DATA_EXPORT",
                    comment="c",
                    plugin_param={"dbId": 17001, "exeSQL": "select 1"},
                )
            ).body.create_order_result.order_ids[0]
            control.advance(30)
            return oid

        def link(oid: int):
            return client.get_data_export_download_url(
                dm.GetDataExportDownloadURLRequest(order_id=oid)
            ).body.download_urlresult

        old = export()
        url = link(old).url
        assert requests.get(url, timeout=10).status_code == 200
        control.advance(3600)
        assert link(export()).has_result  # creating a new file sweeps the expired one
        gone = link(old)
        assert gone.has_result is False and "retention" in gone.tip_message


def test_journal_size_is_configurable() -> None:
    with EmulatorProcess("--journal-size", "5") as proc:
        for _ in range(20):
            v3_request(proc.endpoint, "GetUserActiveTenant").send()
        entries = Control(proc.url).journal()
        assert len(entries) == 5 and entries[-1]["seq"] == 20


def test_nonce_memory_is_bounded_and_expires() -> None:
    from emulator.gateway.nonces import MemoryNonces

    cache = MemoryNonces(window_seconds=900, capacity=50)
    for i in range(500):
        assert cache.check_and_record("ak", f"n{i}", now=1000.0 + i)
    assert len(cache) <= 55
    assert not cache.check_and_record("ak", "n499", now=1500.0), "a recent nonce is still refused"
    assert cache.check_and_record("ak", "n499", now=1499.0 + 901), (
        "after the window it may be used again"
    )


DATA = Path(__file__).resolve().parent / "data"


def _v3_copy(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    """A copy of the state file the previous version (schema 3) wrote: an export, an NDDL, a
    data-tracking ticket with a download, a Sas export (tests/data/state-v3.ids.json)."""
    state = tmp_path / "v3.sqlite"
    state.write_bytes((DATA / "state-v3.db").read_bytes())
    return state, json.loads((DATA / "state-v3.ids.json").read_text())


def test_a_state_file_of_the_previous_version_opens_and_migrates(tmp_path: Path) -> None:
    state, ids = _v3_copy(tmp_path)
    raw = sqlite3.connect(state)
    (old_doc,) = raw.execute("SELECT doc FROM orders WHERE id=?", (ids["track"],)).fetchone()
    old_events = json.loads(old_doc)["track"]["events"]
    (old_export,) = raw.execute("SELECT doc FROM orders WHERE id=?", (ids["export"],)).fetchone()
    raw.close()
    assert old_events and json.loads(old_export)["params"]["exeSQL"].startswith("select")
    with EmulatorProcess("--state", str(state), "--clock", "manual") as proc:
        client = dms(proc.endpoint)
        detail = client.get_data_export_order_detail(
            dm.GetDataExportOrderDetailRequest(order_id=ids["export"])
        ).body
        assert detail.success, detail.to_map()
        assert detail.data_export_order_detail.order_detail.exe_sql == (
            "select * from customers order by id"
        )
        assert detail.data_export_order_detail.key_info.job_status == "EXPORT_SUCCESS"
        base = client.get_order_base_info(dm.GetOrderBaseInfoRequest(order_id=ids["nddl"])).body
        assert base.success and base.order_base_info.plugin_type == "NDDL"
        status = client.query_data_track_result_download_status(
            dm.QueryDataTrackResultDownloadStatusRequest(
                order_id=ids["track"], download_key_id=ids["download_key"]
            )
        ).body
        assert status.success, status.to_map()
        assert status.status_result.total_count == len(old_events)
        again = client.download_data_track_result(
            dm.DownloadDataTrackResultRequest(order_id=ids["track"])
        ).body
        assert again.success, again.to_map()
        shown = Control(proc.url).get(f"/tickets/{ids['nddl']}")
        assert shown["params"] == {
            "dbId": 17001,
            "title": "t",
            "description": "",
            "logic": False,
            "relatedIds": [],
        }
    migrated = sqlite3.connect(state)
    (doc,) = migrated.execute("SELECT doc FROM orders WHERE id=?", (ids["track"],)).fetchone()
    assert "events" not in json.loads(doc)["track"] and "params" not in json.loads(doc)
    kept = migrated.execute(
        "SELECT count(*) FROM datatrack_events WHERE order_id=?", (ids["track"],)
    ).fetchone()[0]
    assert kept == len(old_events)
    jobs = migrated.execute("SELECT kind FROM jobs").fetchall()
    assert jobs == [("sas_export",)], "downloads left the Sas table"
    migrated.close()


def test_a_state_document_of_the_previous_version_imports(tmp_path: Path) -> None:
    ids = json.loads((DATA / "state-v3.ids.json").read_text())
    doc = json.loads((DATA / "state-v3.json").read_text())
    with EmulatorProcess("--clock", "manual") as proc:
        control = Control(proc.url)
        r = requests.put(f"{proc.url}/_emulator/state", json=doc, timeout=30)
        assert r.status_code == 200, r.text
        client = dms(proc.endpoint)
        detail = client.get_data_export_order_detail(
            dm.GetDataExportOrderDetailRequest(order_id=ids["export"])
        ).body
        assert detail.success and detail.data_export_order_detail.order_detail.db_id == 17001
        tables = control.get("/state")["tables"]
        assert not any("params" in json.loads(o["doc"]) for o in tables["orders"])
        assert {r["order_id"] for r in tables["datatrack_events"]} == {ids["track"]}
