"""Data-tracking downloads end to end with the official SDK on a manual clock (the Sas exports
live in test_sas_exports.py)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm
from alibabacloud_tea_openapi.exceptions import ClientException

from emulator.databases.catalog import DataPlane
from emulator.platform.accounts import load_accounts
from emulator.services.dms.domain.datatrack import generate_binlog, load_settings
from emulator.testing.flows import DL_ORDER, fixture_db, poll_download, track_order
from emulator.testing.process import Control
from emulator.testing.sdk import DAVE, dms


def test_data_tracking_download_end_to_end(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    order_id = track_order(client)
    early = client.download_data_track_result(
        dm.DownloadDataTrackResultRequest(order_id=order_id)
    ).body
    assert not early.success and early.error_code == "IllegalOrderStatus"
    control.advance(30)
    req = dm.DownloadDataTrackResultRequest(
        order_id=order_id,
        filter_table_list=["orders"],
        filter_type_list=["UPDATE", "DELETE"],
        rollback_sqltype="REVERSE",
    )
    key = client.download_data_track_result(req).body.download_key_id
    assert key
    seen, st = poll_download(client, control, order_id, key)
    assert seen == DL_ORDER
    blob = requests.get(st.download_url, timeout=10).content
    zf = zipfile.ZipFile(io.BytesIO(blob))
    assert sorted(zf.namelist()) == ["events.csv", "rollback.sql"]
    events = list(csv.DictReader(io.StringIO(zf.read("events.csv").decode())))
    assert len(events) == st.total_count > 0
    assert {e["Table"] for e in events} == {"orders"} and {e["Type"] for e in events} <= {
        "UPDATE",
        "DELETE",
    }
    # before-images are real fixture rows: the fixture is the state at JobStartTime
    conn = fixture_db("shop")
    conn.row_factory = sqlite3.Row
    for e in events:
        before = json.loads(e["Before"])
        row = dict(conn.execute("select * from orders where id = ?", (before["id"],)).fetchone())
        assert before == row
    # applying the rollback SQL to the state after the events restores the fixture
    after = fixture_db("shop")
    for e in events:
        if e["Type"] == "DELETE":
            after.execute("delete from orders where id = ?", (json.loads(e["Before"])["id"],))
        else:
            a = json.loads(e["After"])
            after.execute(
                f"update orders set {', '.join(f'{c} = ?' for c in a)} where id = ?",
                [*a.values(), a["id"]],
            )
    sql = zf.read("rollback.sql").decode().replace("`", '"')
    after.executescript(sql)
    assert (
        after.execute("select * from orders order by id").fetchall()
        == fixture_db("shop").execute("select * from orders order by id").fetchall()
    )


def test_filters_count_exactly(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    order_id = track_order(client)
    control.advance(30)

    def total(**kw) -> int:
        key = client.download_data_track_result(
            dm.DownloadDataTrackResultRequest(order_id=order_id, **kw)
        ).body.download_key_id
        control.advance(10)
        return client.query_data_track_result_download_status(
            dm.QueryDataTrackResultDownloadStatusRequest(order_id=order_id, download_key_id=key)
        ).body.status_result.total_count

    everything = total()
    parts = [total(filter_type_list=[t]) for t in ("INSERT", "UPDATE", "DELETE")]
    assert sum(parts) == everything and all(p > 0 for p in parts)
    assert (
        total(filter_table_list=["orders"]) + total(filter_table_list=["customers"]) == everything
    )
    assert total(event_id_list=[1, 2, 3]) == 3
    assert (
        total(filter_start_time="2026-11-01 03:00:00")
        + total(filter_end_time="2026-11-01 02:59:59")
        == everything
    )
    assert (
        total(
            filter_table_list=["orders"],
            column_filter=dm.DownloadDataTrackResultRequestColumnFilter(
                column_name="status", operator="IN", in_list=["NEW", "PAID"]
            ),
        )
        > 0
    )


def test_binlog_is_deterministic_per_seed() -> None:
    plane = DataPlane(load_accounts())
    db = plane.backend(17001)
    settings = load_settings()
    a = generate_binlog(db, 17001, ["orders"], 0, 7200, "7:1", settings)
    assert a == generate_binlog(db, 17001, ["orders"], 0, 7200, "7:1", settings)
    assert a != generate_binlog(db, 17001, ["orders"], 0, 7200, "8:1", settings)
    plane.close()


def test_data_tracking_errors(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    export = client.create_order(
        dm.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="c",
            plugin_param={"dbId": 17001, "exeSQL": "select 1"},
        )
    ).body
    export_id = export.create_order_result.order_ids[0]
    not_track = client.query_data_track_result_download_status(
        dm.QueryDataTrackResultDownloadStatusRequest(order_id=export_id, download_key_id="x")
    ).body
    assert not not_track.success and not_track.error_code == "NotDataTrackOrder"
    order_id = track_order(client)
    control.advance(30)
    unknown = client.query_data_track_result_download_status(
        dm.QueryDataTrackResultDownloadStatusRequest(order_id=order_id, download_key_id="nope")
    ).body
    assert not unknown.success and unknown.error_code == "DownloadKeyNotExist"
    key = client.download_data_track_result(
        dm.DownloadDataTrackResultRequest(order_id=order_id)
    ).body.download_key_id
    other_order = track_order(client)
    wrong = client.query_data_track_result_download_status(
        dm.QueryDataTrackResultDownloadStatusRequest(order_id=other_order, download_key_id=key)
    ).body
    assert not wrong.success and wrong.error_code == "DownloadKeyNotExist"
    other_tenant = (
        dms(endpoint, DAVE)
        .query_data_track_result_download_status(
            dm.QueryDataTrackResultDownloadStatusRequest(order_id=order_id, download_key_id=key)
        )
        .body
    )
    assert not other_tenant.success and other_tenant.error_code == "OrderNotExist"
    bad_table = client.create_data_track_order(
        dm.CreateDataTrackOrderRequest(
            comment="c",
            param=dm.CreateDataTrackOrderRequestParam(
                db_id="17001",
                job_start_time="2026-11-01 00:00:00",
                job_end_time="2026-11-01 01:00:00",
                table_names=["nope"],
                track_types=["INSERT"],
            ),
        )
    ).body
    assert not bad_table.success and bad_table.error_code == "TableNotExist"
    with pytest.raises(ClientException) as exc:
        client.download_data_track_result(
            dm.DownloadDataTrackResultRequest(order_id=order_id, filter_type_list=["UPSERT"])
        )
    assert exc.value.code == "InvalidFilterTypeList"
    with pytest.raises(ClientException) as exc:
        client.create_data_track_order(
            dm.CreateDataTrackOrderRequest(
                comment="c",
                param=dm.CreateDataTrackOrderRequestParam(
                    db_id="17001",
                    job_start_time="2026-11-01 05:00:00",
                    job_end_time="2026-11-01 01:00:00",
                    table_names=["orders"],
                    track_types=["INSERT"],
                ),
            )
        )
    assert exc.value.code == "InvalidParam"
