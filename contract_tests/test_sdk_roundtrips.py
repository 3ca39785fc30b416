"""Every action through the official SDKs, written the way a user writes them, against the target.

Against a real endpoint set DMS_CONTRACT_DB_ID / DMS_CONTRACT_SQL to a database and query of your
tenant, and pass --allow-mutations for the actions that create tickets.
"""

from __future__ import annotations

import os
import time

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm
from alibabacloud_dms_enterprise20181101.client import Client as Dms
from alibabacloud_sas20181203 import models as sm
from alibabacloud_sas20181203.client import Client as Sas
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

DB_ID = int(os.environ.get("DMS_CONTRACT_DB_ID", "17001"))
SQL = os.environ.get("DMS_CONTRACT_SQL", "select * from products")


def config(target) -> Config:
    scheme, host = target.url.split("://", 1)
    cfg = Config(
        access_key_id=target.key[0],
        access_key_secret=target.key[1],
        endpoint=host.rstrip("/"),
        protocol=scheme,
    )
    if target.scheme == "v1":
        cfg.signature_algorithm = "v2"
    return cfg


def wait(target, predicate, seconds: float = 600):
    """Let time pass: the emulator's clock when there is one, the wall clock otherwise."""
    deadline = time.time() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if target.control:
            requests.post(f"{target.url}/_emulator/clock/advance", json={"seconds": 2}, timeout=60)
        elif time.time() > deadline:
            raise AssertionError("timed out")
        else:
            time.sleep(5)


def need_mutations(target) -> None:
    if not target.mutations:
        pytest.skip("creates tickets on the target: pass --allow-mutations")


def test_read_only_actions(target) -> None:
    client = Dms(config(target))
    tenant = client.get_user_active_tenant(dm.GetUserActiveTenantRequest()).body
    assert tenant.success and tenant.tenant.tid
    tid = target.tid or tenant.tenant.tid
    tenants = client.list_user_tenants(dm.ListUserTenantsRequest(tid=tid)).body
    assert tid in [t.tid for t in tenants.tenant_list]
    orders = client.list_orders(dm.ListOrdersRequest(tid=tid, page_number=1, page_size=10)).body
    assert orders.success and orders.total_count >= len(orders.orders.order or [])
    missing = client.get_order_base_info(dm.GetOrderBaseInfoRequest(tid=tid, order_id=1)).body
    assert missing.success is False and missing.error_code
    target.covered.update(
        {"sdk:GetUserActiveTenant", "sdk:ListUserTenants", "sdk:ListOrders", "sdk:GetOrderBaseInfo"}
    )
    with pytest.raises(ClientException) as exc:
        client.get_data_export_order_detail(dm.GetDataExportOrderDetailRequest(tid=tid))
    assert exc.value.code.startswith("Missing") and exc.value.status_code == 400


def test_data_export_round_trip(target) -> None:
    need_mutations(target)
    client = Dms(config(target))
    tid = target.tid
    created = client.create_order(
        dm.CreateOrderRequest(
            tid=tid,
            plugin_type="DATA_EXPORT",
            comment="contract round trip",
            plugin_param={
                "dbId": DB_ID,
                "exeSQL": SQL,
                "logic": False,
                "ignoreAffectRows": True,
                "ignoreAffectRowsReason": "contract test",
            },
        )
    ).body
    assert created.success, created.to_map()
    order_id = created.create_order_result.order_ids[0]

    def status() -> str:
        return client.get_data_export_order_detail(
            dm.GetDataExportOrderDetailRequest(tid=tid, order_id=order_id)
        ).body.data_export_order_detail.key_info.job_status

    wait(target, lambda: status() not in ("PRE_CHECKING", "PRE_CHECK_SUCCESS"))
    pre = client.get_data_export_pre_check_detail(
        dm.GetDataExportPreCheckDetailRequest(tid=tid, order_id=order_id)
    )
    assert pre.body.success
    if status() == "WAITING_APPLY_AUDIT":
        assert client.submit_order_approval(
            dm.SubmitOrderApprovalRequest(tid=tid, order_id=order_id)
        ).body.success
    info = client.get_order_base_info(
        dm.GetOrderBaseInfoRequest(tid=tid, order_id=order_id)
    ).body.order_base_info
    if status() == "APPLY_AUDIT_SUCCESS":
        client.approve_order(
            dm.ApproveOrderRequest(
                tid=tid, workflow_instance_id=info.workflow_instance_id, approval_type="AGREE"
            )
        )
    if status() == "ENABLE_EXPORT":
        client.execute_data_export(
            dm.ExecuteDataExportRequest(
                tid=tid, order_id=order_id, action_detail={"fileType": "CSV"}
            )
        )
    assert (
        wait(target, lambda: status() in ("EXPORT_SUCCESS", "EXPORT_FAIL") and status())
        == "EXPORT_SUCCESS"
    )
    url = client.get_data_export_download_url(
        dm.GetDataExportDownloadURLRequest(tid=tid, order_id=order_id)
    )
    assert url.body.download_urlresult.has_result
    assert requests.get(url.body.download_urlresult.url, timeout=60).status_code == 200
    target.covered.update(
        {
            "sdk:CreateOrder",
            "sdk:GetDataExportOrderDetail",
            "sdk:GetDataExportPreCheckDetail",
            "sdk:SubmitOrderApproval",
            "sdk:ApproveOrder",
            "sdk:ExecuteDataExport",
            "sdk:GetDataExportDownloadURL",
        }
    )


def test_create_data_export_order_and_tracking(target) -> None:
    need_mutations(target)
    client = Dms(config(target))
    body = client.create_data_export_order(
        dm.CreateDataExportOrderRequest(
            tid=target.tid,
            comment="contract",
            plugin_param=dm.CreateDataExportOrderRequestPluginParam(
                db_id=DB_ID,
                exe_sql=SQL,
                affect_rows=1_000_000,
                classify="contract",
                ignore_affect_rows=False,
                instance_id=1,
                logic=False,
            ),
        )
    ).body
    assert body.success and body.create_order_result.create_order_result
    track = client.create_data_track_order(
        dm.CreateDataTrackOrderRequest(
            tid=target.tid,
            comment="contract",
            param=dm.CreateDataTrackOrderRequestParam(
                db_id=str(DB_ID),
                job_start_time="2026-11-01 00:00:00",
                job_end_time="2026-11-01 01:00:00",
                table_names=[os.environ.get("DMS_CONTRACT_TABLE", "orders")],
                track_types=["UPDATE"],
            ),
        )
    ).body
    assert track.success, track.to_map()
    order_id = track.create_order_result[0]

    def key() -> str | None:
        r = client.download_data_track_result(
            dm.DownloadDataTrackResultRequest(tid=target.tid, order_id=order_id)
        )
        return r.body.download_key_id if r.body.success else None

    download_key = wait(target, key)

    def done():
        s = client.query_data_track_result_download_status(
            dm.QueryDataTrackResultDownloadStatusRequest(
                tid=target.tid, order_id=order_id, download_key_id=download_key
            )
        ).body.status_result
        return s if s.download_status in ("DOWNLOAD_SUCCESS", "DOWNLOAD_FAIL") else None

    result = wait(target, done)
    assert result.download_status == "DOWNLOAD_SUCCESS" and result.download_url
    target.covered.update(
        {
            "sdk:CreateDataExportOrder",
            "sdk:CreateDataTrackOrder",
            "sdk:DownloadDataTrackResult",
            "sdk:QueryDataTrackResultDownloadStatus",
        }
    )


def test_sas_export_round_trip(target) -> None:
    need_mutations(target)
    client = Sas(config(target))
    started = client.export_record(
        sm.ExportRecordRequest(export_type="exportHcWarning", lang="en")
    ).body
    assert started.id and started.file_name

    def done():
        info = client.describe_export_info(sm.DescribeExportInfoRequest(export_id=started.id)).body
        return info if info.export_status == "success" else None

    info = wait(target, done)
    assert info.message == "success" and info.current_count == info.total_count and info.link
    target.covered.update({"sdk:ExportRecord", "sdk:DescribeExportInfo"})


DC_SQL = os.environ.get("DMS_CONTRACT_DC_SQL", "update products set stock = stock where id = 1")


def test_sql_console_and_data_change_round_trip(target) -> None:
    """The public programs' loop: ExecuteScript, then a data-change ticket driven the way they
    drive it (ListDataCorrectPreCheckSQL until PASS, submit, approve, ExecuteDataCorrect,
    GetDataCorrectTaskDetail / GetOrderBaseInfo until success)."""
    need_mutations(target)
    client = Dms(config(target))
    script = client.execute_script(
        dm.ExecuteScriptRequest(tid=target.tid, db_id=DB_ID, logic=False, script=SQL)
    ).body
    assert script.success and script.results and script.results[0].success, script.to_map()
    assert script.results[0].row_count == len(script.results[0].rows)
    created = client.create_data_correct_order(
        dm.CreateDataCorrectOrderRequest(
            tid=target.tid,
            comment="contract round trip",
            param=dm.CreateDataCorrectOrderRequestParam(
                db_item_list=[dm.CreateDataCorrectOrderRequestParamDbItemList(db_id=DB_ID)],
                sql_type="TEXT",
                exec_sql=DC_SQL,
                estimate_affect_rows=1,
                classify="contract",
            ),
        )
    ).body
    assert created.success, created.to_map()
    order_id = created.create_order_result[0]

    def reviewed():
        rows = client.list_data_correct_pre_check_sql(
            dm.ListDataCorrectPreCheckSQLRequest(tid=target.tid, order_id=order_id)
        ).body.pre_check_sqllist
        states = {r.sql_review_status for r in rows or []}
        return states if states and states <= {"PASS", "BLOCK", "IGNORE"} else None

    assert wait(target, reviewed) == {"PASS"}

    def status() -> str:
        return client.get_data_correct_order_detail(
            dm.GetDataCorrectOrderDetailRequest(tid=target.tid, order_id=order_id)
        ).body.data_correct_order_detail.status

    if status() == "precheck_success":
        assert client.submit_order_approval(
            dm.SubmitOrderApprovalRequest(tid=target.tid, order_id=order_id)
        ).body.success
    info = client.get_order_base_info(
        dm.GetOrderBaseInfoRequest(tid=target.tid, order_id=order_id)
    ).body.order_base_info
    if info.status_code == "toaudit":
        client.approve_order(
            dm.ApproveOrderRequest(
                tid=target.tid,
                workflow_instance_id=info.workflow_instance_id,
                approval_type="AGREE",
            )
        )
    wait(target, lambda: status().lower() != "toaudit")
    if status().lower() == "approved":
        ran = client.execute_data_correct(
            dm.ExecuteDataCorrectRequest(
                tid=str(target.tid) if target.tid else None,
                order_id=order_id,
                action_detail={"backupData": True, "transaction": True},
            )
        ).body
        assert ran.success, ran.to_map()

    def task():
        d = client.get_data_correct_task_detail(
            dm.GetDataCorrectTaskDetailRequest(tid=target.tid, order_id=order_id)
        ).body.data_correct_task_detail
        return d if d.job_status in ("SUCCESS", "FAIL") else None

    done = wait(target, task)
    assert done.job_status == "SUCCESS" and done.actual_affect_rows == 1, done.to_map()
    code = client.get_order_base_info(
        dm.GetOrderBaseInfoRequest(tid=target.tid, order_id=order_id)
    ).body.order_base_info.status_code
    assert code == "success"
    backups = client.get_data_correct_backup_files(
        dm.GetDataCorrectBackupFilesRequest(tid=target.tid, order_id=order_id)
    ).body
    assert backups.success, backups.to_map()
    target.covered.update(
        {
            "sdk:ExecuteScript",
            "sdk:CreateDataCorrectOrder",
            "sdk:ListDataCorrectPreCheckSQL",
            "sdk:GetDataCorrectOrderDetail",
            "sdk:ExecuteDataCorrect",
            "sdk:GetDataCorrectTaskDetail",
            "sdk:GetDataCorrectBackupFiles",
        }
    )
