"""End-to-end steps several test modules share (create an export, watch its status, track data)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alibabacloud_dms_enterprise20181101 import models
from alibabacloud_dms_enterprise20181101 import models as dm

from emulator.services.dms.domain.lifecycle import EXPORT_TRANSITIONS
from emulator.testing.process import Control

ROOT = Path(__file__).resolve().parent.parent.parent

DL_ORDER = ["INIT", "LISTING", "DOWNLOADING", "DOWNLOAD_SUCCESS"]


def fixture_db(name: str) -> sqlite3.Connection:
    """The fixture built independently of the emulator, straight from its SQL script."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        (ROOT / "fixtures" / "databases" / f"{name}.sql").read_text(encoding="utf-8")
    )
    return conn


def create_export(client, sql: str, db: int = 17001, **extra) -> int:
    body = client.create_order(
        models.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="export",
            plugin_param={"dbId": db, "exeSQL": sql, **extra},
        )
    ).body
    assert body.success, body.to_map()
    return body.create_order_result.order_ids[0]


def status(client, order_id: int) -> str:
    body = client.get_data_export_order_detail(
        models.GetDataExportOrderDetailRequest(order_id=order_id)
    ).body
    assert body.success, body.to_map()
    return body.data_export_order_detail.key_info.job_status


def reachable(a: str, b: str) -> bool:
    frontier, seen = {a}, set()
    while frontier:
        s = frontier.pop()
        seen.add(s)
        for (src, _), dst in EXPORT_TRANSITIONS.items():
            if src == s and dst == b:
                return True
            if src == s and dst not in seen:
                frontier.add(dst)
    return False


def watch(
    client, control: Control, order_id: int, until: set[str], step: float = 1, limit: int = 120
) -> list[str]:
    seen = [status(client, order_id)]
    for _ in range(limit):
        if seen[-1] in until:
            return seen
        control.advance(step)
        s = status(client, order_id)
        if s != seen[-1]:
            assert reachable(seen[-1], s), f"{seen[-1]} -> {s} is not in the transition table"
            seen.append(s)
    raise AssertionError(f"never reached {until}: {seen}")


def track_order(
    client, tables=("orders", "customers"), types=("INSERT", "UPDATE", "DELETE"), db="17001"
) -> int:
    body = client.create_data_track_order(
        dm.CreateDataTrackOrderRequest(
            comment="who changed my rows",
            param=dm.CreateDataTrackOrderRequestParam(
                db_id=db,
                job_start_time="2026-11-01 00:00:00",
                job_end_time="2026-11-01 06:00:00",
                table_names=list(tables),
                track_types=list(types),
            ),
        )
    ).body
    assert body.success, body.to_map()
    return body.create_order_result[0]


def poll_download(
    client: Any, control: Control, order_id: int, key: str
) -> tuple[list[str], dm.QueryDataTrackResultDownloadStatusResponseBodyStatusResult]:
    seen: list[str] = []
    for _ in range(30):
        res = client.query_data_track_result_download_status(
            dm.QueryDataTrackResultDownloadStatusRequest(order_id=order_id, download_key_id=key)
        ).body
        assert res.success, res.to_map()
        st = res.status_result
        assert st.download_status in DL_ORDER + ["DOWNLOAD_FAIL"]
        assert (st.download_url is not None) == (st.download_status == "DOWNLOAD_SUCCESS")
        if not seen or seen[-1] != st.download_status:
            seen.append(st.download_status)
        if st.download_status in ("DOWNLOAD_SUCCESS", "DOWNLOAD_FAIL"):
            return seen, st
        control.advance(0.5)
    raise AssertionError(seen)


# --- data-change tickets -------------------------------------------------------------------


def exported_rows(client: Any, control: Control, sql: str, db: int = 17001) -> list[tuple]:
    """What an export of `sql` delivers, as SQLite-typed tuples (the header row dropped)."""
    import io
    import zipfile

    import requests

    from emulator.testing.csvread import parse, typed

    order = create_export(client, sql, db=db)
    ends = {"EXPORT_SUCCESS", "EXPORT_FAIL", "PRE_CHECK_FAIL"}
    last = watch(client, control, order, ends | {"WAITING_APPLY_AUDIT"})[-1]
    if last == "WAITING_APPLY_AUDIT":  # a manual tenant: the caller (an ADMIN) approves it
        client.submit_order_approval(dm.SubmitOrderApprovalRequest(order_id=order))
        wf = client.get_order_base_info(
            dm.GetOrderBaseInfoRequest(order_id=order)
        ).body.order_base_info.workflow_instance_id
        client.approve_order(dm.ApproveOrderRequest(workflow_instance_id=wf, approval_type="AGREE"))
        client.execute_data_export(dm.ExecuteDataExportRequest(order_id=order))
        last = watch(client, control, order, ends)[-1]
    assert last == "EXPORT_SUCCESS", order
    body = client.get_data_export_download_url(
        dm.GetDataExportDownloadURLRequest(order_id=order)
    ).body
    blob = requests.get(body.download_urlresult.url, timeout=30).content
    zf = zipfile.ZipFile(io.BytesIO(blob))
    rows = parse(zf.read(zf.namelist()[0]).decode("utf-8"))
    return [tuple(typed(f) for f in r) for r in rows[1:]]


def create_change(
    client: Any, sql: str, db: int = 17001, estimate: int = 1_000_000, **extra
) -> int:
    """A DC_COMMON ticket through CreateDataCorrectOrder (the SDK's Param model)."""
    body = client.create_data_correct_order(
        dm.CreateDataCorrectOrderRequest(
            comment="change",
            param=dm.CreateDataCorrectOrderRequestParam(
                db_item_list=[dm.CreateDataCorrectOrderRequestParamDbItemList(db_id=db)],
                sql_type="TEXT",
                exec_sql=sql,
                estimate_affect_rows=estimate,
                **extra,
            ),
        )
    ).body
    assert body.success, body.to_map()
    return int(body.create_order_result[0])


def change_status(client: Any, order_id: int) -> str:
    body = client.get_data_correct_order_detail(
        dm.GetDataCorrectOrderDetailRequest(order_id=order_id)
    ).body
    assert body.success, body.to_map()
    return str(body.data_correct_order_detail.status)


def watch_change(
    client: Any, control: Control, order_id: int, until: set[str], limit: int = 120
) -> list[str]:
    """Statuses a data-change ticket shows while the emulated clock moves a second at a time."""
    import time

    seen = [change_status(client, order_id)]
    for _ in range(limit):
        if seen[-1] in until:
            return seen
        control.advance(1)
        s = change_status(client, order_id)
        if s == "processing":  # the SQL runs in the background: give it real time
            time.sleep(0.05)
        if s != seen[-1]:
            seen.append(s)
    if seen[-1] in until:
        return seen
    raise AssertionError(f"never reached {until}: {seen}")
