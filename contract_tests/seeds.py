"""Real ids for schemathesis' positive mode: a random `OrderId` or `TableGuid` names nothing, so
without these an operation's success answer (and its schema) would never be checked.

Made once per session through the official SDKs, in the caller's tenant: read-only look-ups
against any target, plus tickets and exports when mutations are allowed. `bundles[action]` is a
list of parameter sets that belong together (Host with Port, OrderId with DownloadKeyId).
"""

from __future__ import annotations

import time
from typing import Any

import requests
from alibabacloud_dms_enterprise20181101 import models as dm
from alibabacloud_dms_enterprise20181101.client import Client as Dms
from alibabacloud_sas20181203 import models as sm
from alibabacloud_sas20181203.client import Client as Sas
from alibabacloud_tea_openapi.models import Config

Bundles = dict[str, list[dict[str, Any]]]


def config(target: Any, key: tuple[str, str] | None = None) -> Config:
    scheme, host = target.url.split("://", 1)
    key = key or target.key
    cfg = Config(
        access_key_id=key[0], access_key_secret=key[1], endpoint=host.rstrip("/"), protocol=scheme
    )
    if target.scheme == "v1":
        cfg.signature_algorithm = "v2"
    return cfg


def wait(target: Any, predicate: Any, seconds: float = 300) -> Any:
    """The emulator's clock moves when there is one; the wall clock otherwise."""
    deadline = time.time() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("timed out waiting for a seed")
        if target.control:
            requests.post(f"{target.url}/_emulator/clock/advance", json={"seconds": 10}, timeout=60)
        else:
            time.sleep(5)


def add(bundles: Bundles, actions: list[str], params: dict[str, Any]) -> None:
    for action in actions:
        bundles.setdefault(action, []).append(params)


def metadata(client: Dms, bundles: Bundles) -> dict[str, Any]:
    """The first instance, database and table of the tenant (read-only)."""
    found: dict[str, Any] = {}
    inst = client.list_instances(dm.ListInstancesRequest(page_size=10)).body
    for i in (inst.instance_list.instance if inst.success and inst.instance_list else [])[:2]:
        add(bundles, ["GetInstance"], {"Host": i.host, "Port": i.port})
        add(bundles, ["ListDatabases"], {"InstanceId": i.instance_id})
        add(bundles, ["SyncInstanceMeta"], {"InstanceId": i.instance_id})
        dbs = client.list_databases(dm.ListDatabasesRequest(instance_id=i.instance_id)).body
        for db in (dbs.database_list.database if dbs.success and dbs.database_list else [])[:1]:
            found.setdefault("db_id", int(db.database_id))
            add(
                bundles,
                ["GetDatabase"],
                {"Host": db.host, "Port": db.port, "SchemaName": db.schema_name},
            )
            add(bundles, ["ListTables"], {"DatabaseId": db.database_id})
            add(bundles, ["ExecuteScript"], {"DbId": int(db.database_id)})
            tables = client.list_tables(
                dm.ListTablesRequest(database_id=db.database_id, return_guid=True, page_size=3)
            ).body
            for t in (tables.table_list.table if tables.success and tables.table_list else [])[:2]:
                add(bundles, ["ListColumns"], {"TableId": t.table_id})
                add(bundles, ["GetMetaTableDetailInfo"], {"TableGuid": t.table_guid})
    return found


def export_ticket(target: Any, client: Dms, db_id: int, bundles: Bundles) -> None:
    body = client.create_order(
        dm.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="contract seed",
            plugin_param={"dbId": db_id, "exeSQL": "select 1"},
        )
    ).body
    if not body.success:
        return
    order_id = body.create_order_result.order_ids[0]
    add(
        bundles,
        ["GetDataExportOrderDetail", "GetDataExportPreCheckDetail", "GetOrderBaseInfo"],
        {"OrderId": order_id},
    )

    def done() -> bool:
        d = client.get_data_export_order_detail(
            dm.GetDataExportOrderDetailRequest(order_id=order_id)
        ).body
        return d.data_export_order_detail.key_info.job_status in ("EXPORT_SUCCESS", "EXPORT_FAIL")

    if target.control:  # a real target's auto-approval may take a while: only where time moves
        wait(target, done, 120)
        add(bundles, ["GetDataExportDownloadURL"], {"OrderId": order_id})


def track_order(target: Any, client: Dms, db_id: int, bundles: Bundles) -> None:
    body = client.create_data_track_order(
        dm.CreateDataTrackOrderRequest(
            comment="contract seed",
            param=dm.CreateDataTrackOrderRequestParam(
                db_id=str(db_id),
                job_start_time="2026-11-01 00:00:00",
                job_end_time="2026-11-01 01:00:00",
                table_names=["orders"],
                track_types=["UPDATE"],
            ),
        )
    ).body
    if not body.success or not target.control:
        return
    order_id = body.create_order_result[0]

    def key() -> str | None:
        r = client.download_data_track_result(dm.DownloadDataTrackResultRequest(order_id=order_id))
        return r.body.download_key_id if r.body.success else None

    download = wait(target, key, 120)
    add(bundles, ["DownloadDataTrackResult"], {"OrderId": order_id})
    add(
        bundles,
        ["QueryDataTrackResultDownloadStatus"],
        {"OrderId": order_id, "DownloadKeyId": download},
    )


def change_tickets(target: Any, client: Dms, db_id: int, bundles: Bundles) -> None:
    """Data-change tickets (helper datachange): one that ran (its detail, task, precheck rows
    and backup), and two whose precheck failed (a failed precheck stays until retried or
    closed: one for RetryDataCorrectPreCheck, one for CloseOrder)."""

    def create(sql: str, estimate: int) -> int | None:
        body = client.create_data_correct_order(
            dm.CreateDataCorrectOrderRequest(
                comment="contract seed",
                param=dm.CreateDataCorrectOrderRequestParam(
                    db_item_list=[dm.CreateDataCorrectOrderRequestParamDbItemList(db_id=db_id)],
                    sql_type="TEXT",
                    exec_sql=sql,
                    estimate_affect_rows=estimate,
                ),
            )
        ).body
        return int(body.create_order_result[0]) if body.success else None

    ran = create("update products set stock = stock where id = 1", 1)
    if ran is None:
        return
    add(
        bundles,
        [
            "GetDataCorrectOrderDetail",
            "ListDataCorrectPreCheckSQL",
            "ListDataCorrectPreCheckDB",
            "GetDataCorrectTaskDetail",
            "GetDataCorrectBackupFiles",
            "GetOrderBaseInfo",
        ],
        {"OrderId": ran},
    )
    for action in ("RetryDataCorrectPreCheck", "CloseOrder"):
        failed = create("delete from products where id > 0", 0)
        if failed is not None:
            add(bundles, [action], {"OrderId": failed})
    if target.control:

        def done() -> bool:
            d = client.get_data_correct_order_detail(
                dm.GetDataCorrectOrderDetailRequest(order_id=ran)
            ).body
            return d.data_correct_order_detail.status in ("success", "fail")

        wait(target, done, 120)


def sas_exports(target: Any, bundles: Bundles) -> None:
    client = Sas(config(target))
    pairs = [
        (
            client.export_record(sm.ExportRecordRequest(export_type="exportHcWarning")).body.id,
            ["DescribeExportInfo"],
        ),
        (client.export_vul(sm.ExportVulRequest(type="cve")).body.id, ["DescribeVulExportInfo"]),
        (
            client.export_warning(sm.ExportWarningRequest(export_type="hc_check_warning")).body.id,
            ["DescribeWarningExportInfo", "DescribeHcExportInfo"],
        ),
        (
            client.export_susp_events(sm.ExportSuspEventsRequest()).body.id,
            ["DescribeSuspEventExportInfo"],
        ),
    ]
    for export_id, actions in pairs:
        if export_id:
            add(bundles, actions, {"ExportId": int(export_id)})


def make(target: Any) -> Bundles:
    bundles: Bundles = {}
    client = Dms(config(target))
    found = metadata(client, bundles)
    db_id = int(found.get("db_id", 17001))
    if target.mutations:
        export_ticket(target, client, db_id, bundles)
        track_order(target, client, db_id, bundles)
        change_tickets(target, client, db_id, bundles)
        sas_exports(target, bundles)
    return bundles
