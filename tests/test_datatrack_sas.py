"""Data-tracking downloads and Sas exports end to end with the official SDKs on a manual clock."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile

import openpyxl
import pytest
import requests
import yaml
from alibabacloud_dms_enterprise20181101 import models as dm
from alibabacloud_sas20181203 import models as sm
from alibabacloud_tea_openapi.exceptions import ClientException

from emulator.databases.catalog import DataPlane
from emulator.platform.accounts import load_accounts
from emulator.services.dms.domain.datatrack import generate_binlog, load_settings
from emulator.services.sas.exports import fixture_rows
from emulator.testing.flows import DL_ORDER, ROOT, fixture_db, poll_download, track_order
from emulator.testing.process import Control
from emulator.testing.sdk import DAVE, dms, sas


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


EXPORT_TYPES = yaml.safe_load((ROOT / "fixtures" / "sas_exports.yaml").read_text())


@pytest.mark.parametrize("export_type", sorted(EXPORT_TYPES))
def test_sas_export_grows_with_the_clock_to_a_real_xlsx(
    endpoint: str, control: Control, export_type: str
) -> None:
    client = sas(endpoint)
    started = client.export_record(
        sm.ExportRecordRequest(export_type=export_type, params="{}", lang="en")
    ).body
    assert started.id and started.file_name.startswith(
        EXPORT_TYPES[export_type]["file_prefix"] + "_"
    )
    seen: list[str] = []
    counts: list[int] = []
    while True:
        info = client.describe_export_info(sm.DescribeExportInfoRequest(export_id=started.id)).body
        assert info.export_status in ("init", "exporting", "success")
        assert 0 <= info.current_count <= info.total_count and 0 <= info.progress <= 100
        assert (info.link is not None) == (info.export_status == "success")
        if not seen or seen[-1] != info.export_status:
            seen.append(info.export_status)
        counts.append(info.current_count)
        if info.export_status == "success":
            break
        control.advance(0.5)
    assert seen == ["init", "exporting", "success"] and counts == sorted(counts)
    assert (
        info.message == "success" and info.progress == 100 and info.file_name == started.file_name
    )
    assert info.total_count == EXPORT_TYPES[export_type]["rows"]
    r = requests.get(info.link, timeout=10)
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert rows[0] == list(EXPORT_TYPES[export_type]["columns"])
    assert len(rows) - 1 == info.total_count
    assert [[v if v is not None else "" for v in row] for row in rows[1:]] == fixture_rows(
        EXPORT_TYPES[export_type]
    )


def test_sas_errors(endpoint: str, control: Control) -> None:
    client = sas(endpoint)
    with pytest.raises(ClientException) as exc:
        client.export_record(sm.ExportRecordRequest(export_type="noSuchExport"))
    assert exc.value.code == "InvalidExportType" and exc.value.status_code == 400
    with pytest.raises(ClientException) as exc:
        client.describe_export_info(sm.DescribeExportInfoRequest(export_id=424242))
    assert exc.value.code == "InvalidExportId"
    started = client.export_record(sm.ExportRecordRequest(export_type="exportHcWarning")).body
    ok = client.describe_export_info(
        sm.DescribeExportInfoRequest(
            export_id=started.id, resource_directory_account_id=1666036095600001
        )
    ).body
    assert ok.id == started.id
    with pytest.raises(ClientException) as exc:
        client.describe_export_info(
            sm.DescribeExportInfoRequest(
                export_id=started.id, resource_directory_account_id=1777036095600001
            )
        )
    assert exc.value.code == "RdCheckNoPermission" and exc.value.status_code == 400
    with pytest.raises(ClientException) as exc:
        sas(endpoint, DAVE).describe_export_info(sm.DescribeExportInfoRequest(export_id=started.id))
    assert exc.value.code == "InvalidExportId", "another tenant's export is not visible"
    with pytest.raises(ClientException) as exc:
        client.describe_export_info(sm.DescribeExportInfoRequest())
    assert exc.value.code == "MissingExportId"
