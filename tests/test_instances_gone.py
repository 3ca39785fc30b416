"""Tickets on a database whose registered instance was deleted, through the official SDK.

Exports and data changes on a private MariaDB registered with RegisterInstance; DeleteInstance
at different stages (before the precheck's outcome, after success, between approval and
execution); then the clock moves and every read of those tickets must answer (no 5xx), running
tickets end failed with a clear reason, and new tickets on the ids get DatabaseNotExist.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as M

from emulator.testing.dbservers import MariaDBServer
from emulator.testing.flows import (
    DL_ORDER,
    create_change,
    create_export,
    poll_download,
    status,
    track_order,
    watch,
    watch_change,
)
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import ALICE, DAVE, dms

REQUIRED = {
    "instance_alias": "gone",
    "instance_source": "PUBLIC_OWN",
    "network_type": "VPC",
    "env_type": "dev",
    "query_timeout": 60,
    "export_timeout": 600,
    "safe_rule": "Free",
}
GONE = "deleted with its instance"


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorProcess]:
    proc = EmulatorProcess("--clock", "manual").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def maria(mariadb_server: MariaDBServer) -> MariaDBServer:
    mariadb_server.query("DROP DATABASE IF EXISTS gone_a", database="")
    mariadb_server.query("CREATE DATABASE gone_a", database="")
    mariadb_server.execute_script(
        "CREATE TABLE pets (id int PRIMARY KEY, name varchar(32) NOT NULL);"
        "INSERT INTO pets VALUES (1, 'rex'), (2, 'tom');",
        database="gone_a",
    )
    return mariadb_server


def register(client: Any, server: MariaDBServer, dba: int) -> int:
    """Register the server; the id of its database gone_a."""
    body = client.register_instance(
        M.RegisterInstanceRequest(
            **REQUIRED,
            host="127.0.0.1",
            port=server.port,
            database_user=server.user,
            database_password=server.password,
            instance_type="MySQL",
            dba_uid=dba,
        )
    ).body
    assert body.success, body.to_map()
    inst = client.get_instance(M.GetInstanceRequest(host="127.0.0.1", port=server.port)).body
    dbs = client.list_databases(
        M.ListDatabasesRequest(instance_id=inst.instance.instance_id, page_size=100)
    ).body
    return int(next(d.database_id for d in dbs.database_list.database if d.schema_name == "gone_a"))


def delete(client: Any, server: MariaDBServer) -> None:
    body = client.delete_instance(M.DeleteInstanceRequest(host="127.0.0.1", port=server.port))
    assert body.body.success, body.body.to_map()


def read_all(client: Any, exports: list[int], changes: list[int]) -> dict[int, str]:
    """Every read action on the tickets (the SDK raises on any 4xx/5xx); their statuses."""
    out: dict[int, str] = {}
    for order in exports + changes:
        base = client.get_order_base_info(M.GetOrderBaseInfoRequest(order_id=order)).body
        assert base.success, base.to_map()
    for order in exports:
        out[order] = status(client, order)
        pre = client.get_data_export_pre_check_detail(
            M.GetDataExportPreCheckDetailRequest(order_id=order)
        ).body
        assert pre.success, pre.to_map()
        url = client.get_data_export_download_url(
            M.GetDataExportDownloadURLRequest(order_id=order)
        ).body
        assert url.success, url.to_map()
    for order in changes:
        detail = client.get_data_correct_order_detail(
            M.GetDataCorrectOrderDetailRequest(order_id=order)
        ).body
        assert detail.success, detail.to_map()
        out[order] = str(detail.data_correct_order_detail.status)
        task = client.get_data_correct_task_detail(
            M.GetDataCorrectTaskDetailRequest(order_id=order)
        ).body
        assert task.success, task.to_map()
        files = client.get_data_correct_backup_files(
            M.GetDataCorrectBackupFilesRequest(order_id=order)
        ).body
        assert files.success, files.to_map()
    listed = client.list_orders(M.ListOrdersRequest(page_size=100, page_number=1)).body
    assert listed.success, listed.to_map()
    ids = {o.order_id for o in listed.orders.order}
    assert set(exports + changes) <= ids
    return out


def change_reason(client: Any, order: int) -> str:
    task = client.get_data_correct_task_detail(
        M.GetDataCorrectTaskDetailRequest(order_id=order)
    ).body
    return str(task.to_map())


def test_tickets_outlive_their_deleted_instance(emu: EmulatorProcess, maria: MariaDBServer) -> None:
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    db = register(client, maria, 100002)
    done_export = create_export(client, "SELECT id, name FROM pets ORDER BY id", db=db)
    assert watch(client, control, done_export, {"EXPORT_SUCCESS", "EXPORT_FAIL"})[-1] == (
        "EXPORT_SUCCESS"
    )
    done_change = create_change(client, "UPDATE pets SET name='max' WHERE id=2", db=db)
    assert watch_change(client, control, done_change, {"success", "fail"})[-1] == "success"
    # created, then the instance goes before the precheck's outcome is due
    early_export = create_export(client, "SELECT name FROM pets", db=db)
    early_change = create_change(client, "UPDATE pets SET name='zed' WHERE id=1", db=db)
    delete(client, maria)

    for _ in range(40):
        control.advance(5)
        seen = read_all(client, [done_export, early_export], [done_change, early_change])
    assert seen[done_export] == "EXPORT_SUCCESS" and seen[done_change] == "success"
    # the early export's job ran before the delete or failed clearly; never stuck or a 5xx
    assert seen[early_export] in ("EXPORT_SUCCESS", "EXPORT_FAIL"), seen
    assert seen[early_change] == "fail", seen
    assert GONE in change_reason(client, early_change)
    # nothing of the early change reached the server; the finished one's is kept
    direct = maria.query("SELECT id, name FROM pets ORDER BY id", database="gone_a")
    assert [tuple(r) for r in direct] == [(1, "rex"), (2, "max")]
    url = client.get_data_export_download_url(
        M.GetDataExportDownloadURLRequest(order_id=done_export)
    ).body.download_urlresult
    assert url.has_result, url.to_map()

    for make in (create_export, create_change):
        with pytest.raises(Exception) as err:
            make(client, "SELECT 1", db=db)
        assert "DatabaseNotExist" in str(err.value)


def test_an_approved_export_executed_after_the_delete_fails_clearly(
    emu: EmulatorProcess, maria: MariaDBServer
) -> None:
    client, control = dms(emu.endpoint, DAVE), Control(emu.url)
    db = register(client, maria, 200002)
    order = create_export(client, "SELECT id FROM pets", db=db)
    assert watch(client, control, order, {"WAITING_APPLY_AUDIT", "PRE_CHECK_FAIL"})[-1] == (
        "WAITING_APPLY_AUDIT"
    )
    client.submit_order_approval(M.SubmitOrderApprovalRequest(order_id=order))
    wf = client.get_order_base_info(
        M.GetOrderBaseInfoRequest(order_id=order)
    ).body.order_base_info.workflow_instance_id
    approved = client.approve_order(
        M.ApproveOrderRequest(workflow_instance_id=wf, approval_type="AGREE")
    ).body
    assert approved.success, approved.to_map()
    delete(client, maria)
    body = client.execute_data_export(M.ExecuteDataExportRequest(order_id=order)).body
    assert body.success, body.to_map()
    assert watch(client, control, order, {"EXPORT_SUCCESS", "EXPORT_FAIL"})[-1] == "EXPORT_FAIL"
    tip = client.get_data_export_download_url(
        M.GetDataExportDownloadURLRequest(order_id=order)
    ).body.download_urlresult
    assert not tip.has_result and GONE in tip.tip_message, tip.to_map()
    assert read_all(client, [order], [])[order] == "EXPORT_FAIL"


def test_a_tracking_ticket_still_downloads_its_stored_binlog(
    emu: EmulatorProcess, maria: MariaDBServer
) -> None:
    client, control = dms(emu.endpoint, ALICE), Control(emu.url)
    db = register(client, maria, 100002)
    order = track_order(client, tables=("pets",), db=str(db))
    delete(client, maria)
    control.advance(30)
    base = client.get_order_base_info(M.GetOrderBaseInfoRequest(order_id=order)).body
    assert base.success, base.to_map()
    key = client.download_data_track_result(
        M.DownloadDataTrackResultRequest(order_id=order, rollback_sqltype="REVERSE")
    ).body.download_key_id
    assert key
    seen, st = poll_download(client, control, order, key)
    assert seen == DL_ORDER, seen
    assert requests.get(st.download_url, timeout=30).status_code == 200
