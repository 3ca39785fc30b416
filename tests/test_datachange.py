"""Data-change tickets executed for real, through the official SDK, on the embedded databases.

The oracle is SQLite running the same SQL on its own copy of the fixture (fixtures/databases/
shop.sql, hr.sql: the same data in SQLite's dialect), compared table by table with what an
export of the emulator's database delivers. Expected statuses are written out by hand from the
DMS docs (specs/README.md, "Data-change tickets").
"""

from __future__ import annotations

import sqlite3
import time

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm

from emulator.testing.flows import (
    change_status,
    create_change,
    exported_rows,
    fixture_db,
    watch_change,
)
from emulator.testing.process import Control
from emulator.testing.sdk import CAROL, DAVE, ERIN, dms

SHOP_TABLES = {
    "products": "select * from products order by id",
    "orders": "select * from orders order by id",
    "customers": "select * from customers order by id",
}
HR_SALARIES = "select * from salaries order by id"


def _oracle(name: str, sql: str) -> sqlite3.Connection:
    conn = fixture_db(name)
    conn.executescript(sql)
    return conn


def _rows(conn: sqlite3.Connection, sql: str) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sql).fetchall()]


def _base(client, order_id: int) -> dm.GetOrderBaseInfoResponseBodyOrderBaseInfo:
    body = client.get_order_base_info(dm.GetOrderBaseInfoRequest(order_id=order_id)).body
    assert body.success, body.to_map()
    return body.order_base_info


def _steps(client, order_id: int) -> dict[str, tuple[str, str]]:
    d = client.get_data_correct_order_detail(
        dm.GetDataCorrectOrderDetailRequest(order_id=order_id)
    ).body.data_correct_order_detail
    return {s.check_step: (s.check_status, s.user_tip) for s in d.pre_check_detail.task_check_do}


def _task(client, order_id: int) -> dm.GetDataCorrectTaskDetailResponseBody:
    body = client.get_data_correct_task_detail(
        dm.GetDataCorrectTaskDetailRequest(order_id=order_id)
    ).body
    assert body.success, body.to_map()
    return body


CHANGE = (
    "UPDATE products SET stock = stock + 5, title = concat(title, ' (new)') WHERE price > 100;\n"
    "DELETE FROM orders WHERE status = 'CANCELLED';\n"
    "INSERT INTO customers (name, email, city, note, created_at) VALUES "
    "('Zoë O''Hara', NULL, 'Hangzhou', 'back\\\\slash', '2026-01-02 03:04:05')"
)
# the same change in SQLite's dialect (|| for concat; a backslash is not an escape there)
CHANGE_SQLITE = (
    "UPDATE products SET stock = stock + 5, title = title || ' (new)' WHERE price > 100;\n"
    "DELETE FROM orders WHERE status = 'CANCELLED';\n"
    "INSERT INTO customers (name, email, city, note, created_at) VALUES "
    "('Zoë O''Hara', NULL, 'Hangzhou', 'back\\slash', '2026-01-02 03:04:05')"
)


def test_auto_tenant_change_runs_by_time_alone_and_equals_the_oracle(
    endpoint: str, control: Control
) -> None:
    client = dms(endpoint)
    fresh = fixture_db("shop")
    want_rows = (
        sum(
            fresh.execute(q).fetchone()[0]
            for q in (
                "select count(*) from products where price > 100",
                "select count(*) from orders where status = 'CANCELLED'",
            )
        )
        + 1
    )
    oracle = _oracle("shop", CHANGE_SQLITE)
    order = create_change(client, CHANGE, estimate=want_rows)
    assert _base(client, order).status_code == "new"
    seen = watch_change(client, control, order, {"success", "fail", "precheckFailed"})
    assert seen[-1] == "success", _steps(client, order)
    assert seen == [
        "precheck",
        "precheck_success",
        "toaudit",
        "approved",
        "waiting",
        "processing",
        "success",
    ]
    assert _base(client, order).status_code == "success"
    task = _task(client, order).data_correct_task_detail
    assert (task.job_status, task.actual_affect_rows) == ("SUCCESS", want_rows)
    for table, q in SHOP_TABLES.items():
        assert exported_rows(client, control, q) == _rows(oracle, q), table


def test_precheck_is_real_and_shown_step_by_step(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    count = fixture_db("shop").execute("select count(*) from orders where quantity > 3").fetchone()
    order = create_change(client, "delete from orders where quantity > 3", estimate=count[0] - 1)
    pre = client.list_data_correct_pre_check_sql(
        dm.ListDataCorrectPreCheckSQLRequest(order_id=order)
    ).body.pre_check_sqllist
    assert [p.sql_review_status for p in pre] == ["RUNNING"]
    assert watch_change(client, control, order, {"precheckFailed", "precheck_success"}) == [
        "precheck",
        "precheckFailed",
    ]
    steps = _steps(client, order)
    assert [s for s, (st, _) in steps.items() if st == "SUCCESS"] == [
        "SQL_PARSE",
        "SQL_TYPE_CHECK",
        "PERMISSION_CHECK",
    ]
    assert steps["ROW_CHECK"][0] == "FAIL" and f"affects {count[0]} rows" in steps["ROW_CHECK"][1]
    (row,) = client.list_data_correct_pre_check_sql(
        dm.ListDataCorrectPreCheckSQLRequest(order_id=order, db_id=17001)
    ).body.pre_check_sqllist
    assert (row.affect_rows, row.sql_review_status, row.sql_type, row.table_names) == (
        count[0],
        "BLOCK",
        "DELETE",
        "orders",
    )
    (db,) = client.list_data_correct_pre_check_db(
        dm.ListDataCorrectPreCheckDBRequest(order_id=order)
    ).body.pre_check_dblist
    assert (db.db_id, db.sql_num) == (17001, 1)
    assert _base(client, order).status_code == "closed"
    # the retry runs it again, on the data as it is now, with the same outcome
    assert client.retry_data_correct_pre_check(
        dm.RetryDataCorrectPreCheckRequest(order_id=order)
    ).body.success
    assert change_status(client, order) == "precheck"
    assert watch_change(client, control, order, {"precheckFailed", "precheck_success"})[-1] == (
        "precheckFailed"
    )
    cases = {
        "select * from orders": "SQL_TYPE_CHECK",
        "create table t (a int)": "SQL_TYPE_CHECK",
        "update orders set": "SQL_PARSE",
        "update nowhere set a = 1": "ROW_CHECK",
    }
    for sql, step in cases.items():
        order = create_change(client, sql)
        control.advance(3)
        steps = _steps(client, order)
        assert steps[step][0] == "FAIL", (sql, steps)
    # a USER without a grant on the database fails PERMISSION_CHECK
    order = create_change(dms(endpoint, CAROL), "delete from orders where id = 1")
    control.advance(3)
    assert _steps(client, order)["PERMISSION_CHECK"][0] == "FAIL"
    q = SHOP_TABLES["orders"]
    assert exported_rows(client, control, q) == _rows(fixture_db("shop"), q)


def _approve(endpoint: str, control: Control, order: int) -> None:
    dave = dms(endpoint, DAVE)
    control.advance(3)  # the precheck settles
    assert dave.submit_order_approval(dm.SubmitOrderApprovalRequest(order_id=order)).body.success
    wf = _base(dave, order).workflow_instance_id
    body = (
        dms(endpoint, ERIN)
        .approve_order(dm.ApproveOrderRequest(workflow_instance_id=wf, approval_type="AGREE"))
        .body
    )
    assert body.success, body.to_map()


def _run_manual(endpoint: str, control: Control, sql: str, backup: bool = True) -> int:
    dave = dms(endpoint, DAVE)
    order = create_change(dave, sql, db=27001)
    _approve(endpoint, control, order)
    assert change_status(dave, order) == "approved"
    body = dave.execute_data_correct(
        dm.ExecuteDataCorrectRequest(
            order_id=order, action_detail={"backupData": backup, "transaction": True}
        )
    ).body
    assert body.success, body.to_map()
    return order


def test_manual_tenant_change_with_backup_that_restores_exactly(
    endpoint: str, control: Control
) -> None:
    dave = dms(endpoint, DAVE)
    sql = (
        "UPDATE salaries SET bonus = COALESCE(bonus, 0) + 100.5 WHERE period = '2024-03';"
        "DELETE FROM salaries WHERE gross < 9000"
    )
    order = create_change(dave, sql, db=27001)
    control.advance(3)
    pre = dave.list_data_correct_pre_check_sql(
        dm.ListDataCorrectPreCheckSQLRequest(order_id=order)
    ).body.pre_check_sqllist
    assert [p.sql_review_status for p in pre] == ["PASS", "PASS"]
    assert change_status(dave, order) == "precheck_success"
    # nothing moves by itself on a manual tenant
    control.advance(60)
    assert change_status(dave, order) == "precheck_success"
    assert dave.submit_order_approval(dm.SubmitOrderApprovalRequest(order_id=order)).body.success
    assert _base(dave, order).status_code == "toaudit"
    # a USER may not approve; the DBA may
    wf = _base(dave, order).workflow_instance_id
    assert (
        dms(endpoint, ERIN)
        .approve_order(dm.ApproveOrderRequest(workflow_instance_id=wf, approval_type="AGREE"))
        .body.success
    )
    assert (change_status(dave, order), _base(dave, order).status_code) == ("approved", "Approved")
    assert _task(dave, order).data_correct_task_detail.job_status == "INIT"
    control.advance(60)
    assert change_status(dave, order) == "approved"
    start = requests.get(control.url + "/_emulator/clock", timeout=5).json()["now"]
    start_time = start[:19].replace("T", " ")
    body = dave.execute_data_correct(
        dm.ExecuteDataCorrectRequest(
            order_id=order,
            action_detail={"startTime": start_time, "backupData": True, "transaction": True},
        )
    ).body
    assert body.success, body.to_map()
    jobs: list[str] = []
    for _ in range(10):
        job = _task(dave, order).data_correct_task_detail.job_status
        if not jobs or jobs[-1] != job:
            jobs.append(job)
        if job in ("SUCCESS", "FAIL"):
            break
        control.advance(1)
    assert jobs == ["BE_SCHEDULED", "RUNNING", "SUCCESS"]
    oracle = _oracle("hr", sql)
    got = exported_rows(dave, control, HR_SALARIES, db=27001)
    assert [_norm(r) for r in got] == [_norm(r) for r in _rows(oracle, HR_SALARIES)]
    before = {r[0]: r for r in _rows(fixture_db("hr"), HR_SALARIES)}
    after = {r[0]: r for r in _rows(oracle, HR_SALARIES)}
    changed = sum(1 for k, r in before.items() if after.get(k) != r)
    assert _task(dave, order).data_correct_task_detail.actual_affect_rows == changed
    # the backup: rollback SQL in PostgreSQL's dialect, behind an expiring signed link
    (url,) = dave.get_data_correct_backup_files(
        dm.GetDataCorrectBackupFilesRequest(order_id=order)
    ).body.data_correct_backup_files.file_url
    backup = requests.get(url, timeout=10)
    assert backup.status_code == 200, backup.text
    assert '"salaries"' in backup.text and "INSERT INTO" in backup.text
    undo = _run_manual(endpoint, control, backup.text, backup=False)
    assert watch_change(dave, control, undo, {"success", "fail"})[-1] == "success"
    got = exported_rows(dave, control, HR_SALARIES, db=27001)
    assert [_norm(r) for r in got] == [_norm(r) for r in _rows(fixture_db("hr"), HR_SALARIES)]
    control.advance(3601)
    assert requests.get(url, timeout=10).status_code == 403


def _norm(row: tuple) -> tuple:
    """Numbers as numbers (an export writes 9000.00 where SQLite holds 9000.0)."""
    return tuple(round(float(v), 2) if isinstance(v, (int, float)) else v for v in row)


def test_reject_close_and_execution_failure_change_nothing(endpoint: str, control: Control) -> None:
    dave, erin = dms(endpoint, DAVE), dms(endpoint, ERIN)
    before = _rows(fixture_db("hr"), HR_SALARIES)
    # rejected
    order = create_change(dave, "delete from salaries", db=27001)
    control.advance(3)
    dave.submit_order_approval(dm.SubmitOrderApprovalRequest(order_id=order))
    wf = _base(dave, order).workflow_instance_id
    assert erin.approve_order(
        dm.ApproveOrderRequest(workflow_instance_id=wf, approval_type="REJECT")
    ).body.success
    assert (change_status(dave, order), _base(dave, order).status_code) == ("reject", "reject")
    # closed after approval, before it ran
    order = create_change(dave, "delete from salaries", db=27001)
    _approve(endpoint, control, order)
    body = dave.close_order(dm.CloseOrderRequest(order_id=order, close_reason="changed my mind"))
    assert body.body.success, body.body.to_map()
    assert (change_status(dave, order), _base(dave, order).status_code) == ("closed", "closed")
    late = dave.execute_data_correct(dm.ExecuteDataCorrectRequest(order_id=order)).body
    assert (late.success, late.error_code) == (False, "IllegalOrderStatus")
    # the second statement fails: the first is rolled back with it, the ticket fails
    order = _run_manual(
        endpoint,
        control,
        "update salaries set bonus = 1; insert into salaries (id, employee_id, period, gross) "
        "values (1, 1, '2024-01', 1)",
    )
    assert watch_change(dave, control, order, {"success", "fail"})[-2:] == ["processing", "fail"]
    task = _task(dave, order)
    assert task.data_correct_task_detail.job_status == "FAIL"
    assert "UNIQUE" in (task.error_message or "").upper(), task.to_map()
    assert _base(dave, order).status_code == "closed"
    assert (
        dave.get_data_correct_backup_files(
            dm.GetDataCorrectBackupFilesRequest(order_id=order)
        ).body.data_correct_backup_files.file_url
        == []
    )
    control.advance(600)
    got = exported_rows(dave, control, HR_SALARIES, db=27001)
    assert [_norm(r) for r in got] == [_norm(r) for r in before]


def test_reset_restores_embedded_data_and_faults_apply(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    order = create_change(client, "update products set stock = 0")
    assert watch_change(client, control, order, {"success", "fail"})[-1] == "success"
    q = SHOP_TABLES["products"]
    assert {r[4] for r in exported_rows(client, control, q)} == {0}
    control.reset()
    assert exported_rows(client, control, q) == _rows(fixture_db("shop"), q)
    # a lifecycle fault at execution: the ticket fails and changes nothing
    rule = {
        "match": {"action": "CreateDataCorrectOrder"},
        "times": 1,
        "effect": {"type": "lifecycle", "stage": "execution", "outcome": "fail", "reason": "boom"},
    }
    assert control.post("/faults", rule).status_code in (200, 201)
    order = create_change(client, "update products set stock = 0")
    assert watch_change(client, control, order, {"success", "fail"})[-1] == "fail"
    assert "boom" in (_task(client, order).error_message or "")
    # a precheck fault: the first step fails with the reason, and nothing runs
    rule["effect"] = {"type": "lifecycle", "stage": "precheck", "outcome": "fail", "reason": "nope"}
    control.post("/faults", rule)
    order = create_change(client, "update products set stock = 0")
    assert watch_change(client, control, order, {"precheckFailed", "success"})[-1] == (
        "precheckFailed"
    )
    assert _steps(client, order)["SQL_PARSE"] == ("FAIL", "nope")
    # a stall at approval holds it in toaudit for the seconds given
    rule["effect"] = {"type": "lifecycle", "stage": "approval", "outcome": "stall", "seconds": 100}
    control.post("/faults", rule)
    order = create_change(client, "update products set stock = 0")
    control.advance(50)
    assert change_status(client, order) == "toaudit"
    assert watch_change(client, control, order, {"success", "fail"})[-1] == "success"
    control.reset()
    assert exported_rows(client, control, q) == _rows(fixture_db("shop"), q)


def test_attachments_are_refused_clearly(endpoint: str) -> None:
    body = (
        dms(endpoint)
        .create_data_correct_order(
            dm.CreateDataCorrectOrderRequest(
                comment="file",
                param=dm.CreateDataCorrectOrderRequestParam(
                    db_item_list=[dm.CreateDataCorrectOrderRequestParamDbItemList(db_id=17001)],
                    sql_type="ATTACHMENT",
                    attachment_name="change.sql",
                    estimate_affect_rows=1,
                ),
            )
        )
        .body
    )
    assert (body.success, body.error_code) == (False, "UnsupportedSqlType")
    assert "ExecSQL" in body.error_message


def test_a_change_survives_kill_9_after_success_was_reported(tmp_path) -> None:
    import signal

    from emulator.testing.process import EmulatorProcess

    state = tmp_path / "state.sqlite"
    sql = "UPDATE products SET stock = 4242 WHERE id % 3 = 0; DELETE FROM orders WHERE id > 2900"
    oracle = _oracle("shop", sql)
    with EmulatorProcess("--clock", "manual", "--state", str(state)) as first:
        client, control = dms(first.endpoint), Control(first.url)
        order = create_change(client, sql)
        assert watch_change(client, control, order, {"success", "fail"})[-1] == "success"
        assert _base(client, order).status_code == "success"
        first.stop(signal.SIGKILL)
    with EmulatorProcess("--clock", "manual", "--state", str(state)) as second:
        client, control = dms(second.endpoint), Control(second.url)
        assert _base(client, order).status_code == "success"
        for table in ("products", "orders"):
            q = SHOP_TABLES[table]
            assert exported_rows(client, control, q) == _rows(oracle, q), table


def test_cron_clear_deletes_rows_past_remain_days_when_its_cron_fires(
    endpoint: str, control: Control
) -> None:
    """DC_CRON_CLEAR: once approved, its Quartz cron fires on the emulated clock and deletes the
    rows older than remainDays before the firing (oracle: the same DELETE on SQLite)."""
    import datetime as dt

    client = dms(endpoint)
    now = dt.datetime.fromisoformat(control.get("/clock")["now"].replace("Z", "+00:00"))
    # orders run 2024-01 .. ; keep the last 700 days before the first firing
    body = client.create_order(
        dm.CreateOrderRequest(
            plugin_type="DC_CRON_CLEAR",
            comment="keep orders short",
            plugin_param={
                "cronFormat": "0 0 3 * * ?",
                "dbItemList": [{"dbId": 17001, "logic": False}],
                "cronClearItemList": [
                    {
                        "tableName": "orders",
                        "columnName": "ordered_at",
                        "remainDays": 700,
                        "filterSQL": "status <> 'NEW'",
                    }
                ],
            },
        )
    ).body
    assert body.success, body.to_map()
    order = body.create_order_result.order_ids[0]
    q = SHOP_TABLES["orders"]
    control.advance(20)  # approved and active; the cron has not fired yet
    assert _base(client, order).status_code == "success"
    detail = client.get_data_correct_order_detail(
        dm.GetDataCorrectOrderDetailRequest(order_id=order)
    ).body.data_correct_order_detail.config_detail
    assert (detail.cron, detail.cron_call_times, detail.cron_format) == (True, 0, "0 0 3 * * ?")
    fire = (now + dt.timedelta(seconds=20)).replace(hour=3, minute=0, second=0, microsecond=0)
    if fire <= now + dt.timedelta(seconds=20):
        fire += dt.timedelta(days=1)
    assert detail.cron_next_call_time == fire.strftime("%Y-%m-%d %H:%M:%S")
    assert exported_rows(client, control, q) == _rows(fixture_db("shop"), q)
    # two days pass: it fires twice, the later cutoff wins
    left = (fire - now).total_seconds() - 20 - 7 * 2  # the export above moved the clock
    control.advance(left + 86400 + 60)
    cutoff = (fire + dt.timedelta(days=1) - dt.timedelta(days=700)).strftime("%Y-%m-%d %H:%M:%S")
    deadline = time.time() + 10
    while time.time() < deadline:
        detail = client.get_data_correct_order_detail(
            dm.GetDataCorrectOrderDetailRequest(order_id=order)
        ).body.data_correct_order_detail.config_detail
        if detail.cron_call_times == 2:
            break
        time.sleep(0.2)
    assert detail.cron_call_times == 2
    assert detail.cron_last_call_start_time == (fire + dt.timedelta(days=1)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    time.sleep(1)  # the DELETE runs right after the firing is recorded
    oracle = _oracle(
        "shop", f"DELETE FROM orders WHERE ordered_at < '{cutoff}' AND (status <> 'NEW')"
    )
    want = _rows(oracle, q)
    assert len(want) < len(_rows(fixture_db("shop"), q))
    assert exported_rows(client, control, q) == want


def test_after_success_the_console_and_data_tracking_see_the_changed_data(
    endpoint: str, control: Control
) -> None:
    import csv
    import io
    import json
    import zipfile

    from emulator.testing.flows import poll_download, track_order

    client = dms(endpoint)
    sql = "UPDATE orders SET remark = concat('dc-', id) WHERE id <= 400"
    order = create_change(client, sql)
    assert watch_change(client, control, order, {"success", "fail"})[-1] == "success"
    # ExecuteScript (the SQL console) reads the changed rows
    body = client.execute_script(
        dm.ExecuteScriptRequest(
            db_id=17001, logic=False, script="select id, remark from orders where id <= 150"
        )
    ).body
    assert body.success, body.to_map()
    (result,) = body.results
    assert result.success and result.row_count == 150  # under the console's row cap
    assert {r["remark"] for r in result.rows} == {f"dc-{i}" for i in range(1, 151)}
    # a data-tracking ticket made now starts from the changed rows (its before-images)
    tracked = track_order(client, tables=("orders",), types=("UPDATE", "DELETE"))
    control.advance(30)
    key = client.download_data_track_result(
        dm.DownloadDataTrackResultRequest(order_id=tracked, filter_table_list=["orders"])
    ).body.download_key_id
    _, st = poll_download(client, control, tracked, key)
    zf = zipfile.ZipFile(io.BytesIO(requests.get(st.download_url, timeout=10).content))
    events = list(csv.DictReader(io.StringIO(zf.read("events.csv").decode())))
    befores = [json.loads(e["Before"]) for e in events if e["Before"]]
    low = [b for b in befores if b["id"] <= 400]
    assert low, "some tracked events touch the changed rows"
    assert all(b["remark"] == f"dc-{b['id']}" for b in low)


def test_without_transaction_earlier_statements_stay(endpoint: str, control: Control) -> None:
    """ActionDetail transaction:false commits statement by statement and stops at the first
    failure (DAVE's manual tenant, hr)."""
    dave = dms(endpoint, DAVE)
    sql = (
        "update salaries set bonus = 7 where id <= 5; "
        "insert into salaries (id, employee_id, period, gross) values (1, 1, '2024-01', 1); "
        "update salaries set bonus = 8 where id <= 5"
    )
    order = create_change(dave, sql, db=27001)
    _approve(endpoint, control, order)
    assert dave.execute_data_correct(
        dm.ExecuteDataCorrectRequest(
            order_id=order, action_detail={"transaction": False, "backupData": True}
        )
    ).body.success
    assert watch_change(dave, control, order, {"success", "fail"})[-1] == "fail"
    message = _task(dave, order).error_message or ""
    assert "statement 2 failed" in message and "1 earlier statement(s) stay committed" in message
    oracle = _oracle("hr", "update salaries set bonus = 7 where id <= 5")
    got = exported_rows(dave, control, HR_SALARIES, db=27001)
    assert [_norm(r) for r in got] == [_norm(r) for r in _rows(oracle, HR_SALARIES)]


def test_a_bad_cron_expression_is_refused(endpoint: str) -> None:
    from alibabacloud_tea_openapi.exceptions import ClientException

    param = {
        "cronFormat": "0 61 * * * ?",
        "dbItemList": [{"dbId": 17001}],
        "cronClearItemList": [
            {"columnName": "ordered_at", "remainDays": 30, "tableName": "orders"}
        ],
    }
    with pytest.raises(ClientException) as exc:
        dms(endpoint).create_order(
            dm.CreateOrderRequest(plugin_type="DC_CRON_CLEAR", comment="c", plugin_param=param)
        )
    assert exc.value.code == "InvalidPluginParam" and "cronFormat" in exc.value.data["Message"]
