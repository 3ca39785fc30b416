"""DMS tickets through the official SDK: CreateOrder, the export lifecycle, files and links."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models
from alibabacloud_tea_openapi.exceptions import ClientException

from emulator.services.dms.domain.lifecycle import JobStatus
from emulator.testing.csvread import parse, typed
from emulator.testing.flows import create_export, fixture_db, status, watch
from emulator.testing.process import Control
from emulator.testing.sdk import ALICE, CAROL, DAVE, ERIN, FRANK, dms, v3_request

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTED = {s.value for s in JobStatus}


def download(client, order_id: int) -> bytes:
    res = client.get_data_export_download_url(
        models.GetDataExportDownloadURLRequest(order_id=order_id)
    ).body
    assert res.success and res.download_urlresult.has_result, res.to_map()
    r = requests.get(res.download_urlresult.url, timeout=30)
    assert r.status_code == 200, r.text
    return r.content


def only_member(blob: bytes) -> tuple[str, bytes]:
    zf = zipfile.ZipFile(io.BytesIO(blob))
    (name,) = zf.namelist()
    return name, zf.read(name)


SQL = "select * from customers order by id"


def test_auto_tenant_reaches_export_success_and_file_equals_sqlite(
    endpoint: str, control: Control
) -> None:
    client = dms(endpoint)
    order_id = create_export(client, SQL, affectRows=5000)
    before = client.get_data_export_download_url(
        models.GetDataExportDownloadURLRequest(order_id=order_id)
    ).body
    assert (
        before.download_urlresult.has_result is False
        and "not finished" in before.download_urlresult.tip_message
    )
    seen = watch(client, control, order_id, {"EXPORT_SUCCESS", "EXPORT_FAIL"})
    assert seen == [
        "PRE_CHECKING",
        "PRE_CHECK_SUCCESS",
        "WAITING_APPLY_AUDIT",
        "APPLY_AUDIT_SUCCESS",
        "ENABLE_EXPORT",
        "WAITING_EXPORT",
        "DOING_EXPORT",
        "EXPORT_SUCCESS",
    ]
    detail = client.get_data_export_order_detail(
        models.GetDataExportOrderDetailRequest(order_id=order_id)
    ).body
    expected = fixture_db("shop").execute(SQL).fetchall()
    assert detail.data_export_order_detail.order_detail.actual_affect_rows == len(expected) == 1000
    assert (
        detail.data_export_order_detail.key_info.job_id
        and detail.data_export_order_detail.key_info.pre_check_id
    )
    name, data = only_member(download(client, order_id))
    assert name.endswith(".csv")
    rows = parse(data.decode("utf-8"))
    header, body = rows[0], rows[1:]
    assert [v for v, _ in header] == ["id", "name", "email", "city", "note", "created_at"]
    assert [tuple(typed(f) for f in r) for r in body] == expected
    texts = {v for r in expected for v in r if isinstance(v, str)}
    assert {"O'Brien, Siobhán", 'says "hello"', "line one\nline two", "NULL", "😀 emoji"} <= texts
    assert any(v is None for r in expected for v in r)
    info = client.get_order_base_info(
        models.GetOrderBaseInfoRequest(order_id=order_id)
    ).body.order_base_info
    assert info.status_code == "success" and info.committer == "alice"


def test_json_export_file_type_keeps_values_exactly(endpoint: str, control: Control) -> None:
    client = dms(endpoint, DAVE)
    sql = "select * from employees where id <= 50"
    order_id = create_export(client, sql, db=27001)
    control.advance(5)
    workflow_id = client.get_order_base_info(
        models.GetOrderBaseInfoRequest(order_id=order_id)
    ).body.order_base_info.workflow_instance_id
    assert client.submit_order_approval(
        models.SubmitOrderApprovalRequest(order_id=order_id)
    ).body.success
    assert client.approve_order(
        models.ApproveOrderRequest(workflow_instance_id=workflow_id, approval_type="AGREE")
    ).body.success
    assert client.execute_data_export(
        models.ExecuteDataExportRequest(
            order_id=order_id, action_detail={"fileType": "JSON", "encoding": "UTF8"}
        )
    ).body.success
    watch(client, control, order_id, {"EXPORT_SUCCESS"})
    name, data = only_member(download(client, order_id))
    assert name.endswith(".json")
    got = [json.loads(line) for line in data.decode().splitlines()]
    conn = fixture_db("hr")
    cur = conn.execute(sql)
    cols = [d[0] for d in cur.description]
    assert got == [dict(zip(cols, r, strict=False)) for r in cur.fetchall()]


def test_manual_tenant_waits_for_submit_approve_execute(endpoint: str, control: Control) -> None:
    user, dba, admin = dms(endpoint, FRANK), dms(endpoint, ERIN), dms(endpoint, DAVE)
    order_id = create_export(user, "select * from departments", db=27001)
    assert watch(user, control, order_id, {"WAITING_APPLY_AUDIT"})[-1] == "WAITING_APPLY_AUDIT"
    control.advance(3600)
    assert status(user, order_id) == "WAITING_APPLY_AUDIT", "a manual tenant never moves by itself"
    early = user.execute_data_export(models.ExecuteDataExportRequest(order_id=order_id)).body
    assert not early.success and early.error_code == "IllegalOrderStatus"
    assert status(user, order_id) == "WAITING_APPLY_AUDIT", "an illegal move changes nothing"
    assert user.submit_order_approval(
        models.SubmitOrderApprovalRequest(order_id=order_id)
    ).body.success
    assert status(user, order_id) == "APPLY_AUDIT_SUCCESS"
    base = user.get_order_base_info(
        models.GetOrderBaseInfoRequest(order_id=order_id)
    ).body.order_base_info
    assert base.status_code == "toaudit" and base.workflow_instance_id
    denied = user.approve_order(
        models.ApproveOrderRequest(
            workflow_instance_id=base.workflow_instance_id, approval_type="AGREE"
        )
    ).body
    assert not denied.success and denied.error_code == "NoPermission"
    assert status(user, order_id) == "APPLY_AUDIT_SUCCESS"
    assert dba.approve_order(
        models.ApproveOrderRequest(
            workflow_instance_id=base.workflow_instance_id, approval_type="AGREE", comment="ok"
        )
    ).body.success
    assert status(user, order_id) == "ENABLE_EXPORT"
    assert admin.execute_data_export(
        models.ExecuteDataExportRequest(
            order_id=order_id, action_detail={"mode": "FAST", "fileType": "CSV"}
        )
    ).body.success
    assert watch(user, control, order_id, {"EXPORT_SUCCESS"})[-1] == "EXPORT_SUCCESS"
    rows = parse(only_member(download(user, order_id))[1].decode())
    assert len(rows) - 1 == 12


def test_manual_rejection_closes_the_ticket(endpoint: str, control: Control) -> None:
    user, admin = dms(endpoint, FRANK), dms(endpoint, DAVE)
    order_id = create_export(user, "select 1", db=27001)
    watch(user, control, order_id, {"WAITING_APPLY_AUDIT"})
    user.submit_order_approval(models.SubmitOrderApprovalRequest(order_id=order_id))
    wf = user.get_order_base_info(
        models.GetOrderBaseInfoRequest(order_id=order_id)
    ).body.order_base_info
    assert admin.approve_order(
        models.ApproveOrderRequest(
            workflow_instance_id=wf.workflow_instance_id, approval_type="REJECT"
        )
    ).body.success
    base = user.get_order_base_info(
        models.GetOrderBaseInfoRequest(order_id=order_id)
    ).body.order_base_info
    assert base.status_code == "reject"
    again = admin.approve_order(
        models.ApproveOrderRequest(
            workflow_instance_id=wf.workflow_instance_id, approval_type="AGREE"
        )
    ).body
    assert not again.success and again.error_code == "IllegalOrderStatus"
    url = user.get_data_export_download_url(
        models.GetDataExportDownloadURLRequest(order_id=order_id)
    ).body
    assert (
        url.download_urlresult.has_result is False
        and "closed" in url.download_urlresult.tip_message
    )


PRECHECK_FAILURES = [
    ("select * from no_such_table", "no such table"),
    ("select no_such_column from customers", "no such column"),
    ("selec * form customers", "only SELECT"),
    ("select * from customers where", "SQL error"),
    ("select 1; select 2", "only one SQL statement"),
    ("select 1; delete from customers", "only one SQL statement"),
    ("delete from customers", "only SELECT"),
    ("update customers set name = 'x'", "only SELECT"),
    ("drop table customers", "only SELECT"),
    ("attach database '/tmp/evil.db' as evil", "only SELECT"),
    ("pragma writable_schema = 1", "only SELECT"),
    ("with d as (delete from customers returning *) select * from d", "SQL error"),
    ("select load_extension('x')", "read-only SELECT"),
]


@pytest.mark.parametrize("sql, reason", PRECHECK_FAILURES)
def test_precheck_failures_are_visible_and_change_nothing(
    endpoint: str, control: Control, sql: str, reason: str
) -> None:
    client = dms(endpoint)
    order_id = create_export(client, sql)
    assert (
        watch(client, control, order_id, {"PRE_CHECK_FAIL", "PRE_CHECK_SUCCESS"})[-1]
        == "PRE_CHECK_FAIL"
    )
    detail = client.get_data_export_pre_check_detail(
        models.GetDataExportPreCheckDetailRequest(order_id=order_id)
    ).body
    assert (
        detail.success and detail.error_code == "PreCheckFailed" and reason in detail.error_message
    )
    raw = (
        v3_request(endpoint, "GetDataExportPreCheckDetail", query={"OrderId": str(order_id)})
        .send()
        .json()
    )
    items = raw["PreCheckResult"]["PreCheckDetailList"]["PreCheckDetailList"]
    assert items and items[0]["CheckResult"] == "FAIL" and reason in items[0]["CheckMessage"], items
    control.advance(600)
    assert status(client, order_id) == "PRE_CHECK_FAIL"
    # the fixture is intact: a legitimate export still sees all 1000 customers
    check = create_export(client, "select count(*) as n from customers")
    watch(client, control, check, {"EXPORT_SUCCESS"})
    rows = parse(only_member(download(client, check))[1].decode())
    assert typed(rows[1][0]) == 1000


def test_affect_rows_estimate_too_low_fails_unless_ignored(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    low = create_export(client, "select * from products", affectRows=10)
    assert (
        watch(client, control, low, {"PRE_CHECK_FAIL", "PRE_CHECK_SUCCESS"})[-1] == "PRE_CHECK_FAIL"
    )
    detail = client.get_data_export_pre_check_detail(
        models.GetDataExportPreCheckDetailRequest(order_id=low)
    ).body
    item = detail.pre_check_result.pre_check_detail_list.pre_check_detail_list[0]
    assert "60 rows" in detail.error_message and item.affect_rows == 60
    ok = create_export(
        client,
        "select * from products",
        affectRows=10,
        ignoreAffectRows=True,
        ignoreAffectRowsReason="known",
    )
    assert (
        watch(client, control, ok, {"PRE_CHECK_FAIL", "PRE_CHECK_SUCCESS"})[-1]
        == "PRE_CHECK_SUCCESS"
    )
    passed = client.get_data_export_pre_check_detail(
        models.GetDataExportPreCheckDetailRequest(order_id=ok)
    ).body
    items = passed.pre_check_result.pre_check_detail_list.pre_check_detail_list
    assert items[0].affect_rows == 60 and passed.pre_check_result.ignore_affect_rows is True


def test_link_expires_on_the_emulated_clock_and_tampering_is_denied(
    endpoint: str, control: Control
) -> None:
    client = dms(endpoint)
    order_id = create_export(client, "select * from products")
    watch(client, control, order_id, {"EXPORT_SUCCESS"})
    url = client.get_data_export_download_url(
        models.GetDataExportDownloadURLRequest(order_id=order_id)
    ).body.download_urlresult.url
    parts = urlsplit(url)
    q = parse_qs(parts.query)
    assert {"OSSAccessKeyId", "Expires", "Signature"} <= set(q)
    assert requests.get(url, timeout=10).status_code == 200

    def with_query(**changes: str) -> str:
        qs = {k: v[0] for k, v in q.items()}
        qs.update(changes)
        return urlunsplit(
            parts._replace(
                query="&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in qs.items())
            )
        )

    for bad in (
        with_query(Signature="AAAA" + q["Signature"][0][4:]),
        with_query(Expires=str(int(q["Expires"][0]) + 10_000)),
        with_query(OSSAccessKeyId="LTAIsomeoneelse"),
        url.replace(
            parts.path, parts.path.replace("products", "customers").replace(".zip", "x.zip")
        ),
    ):
        r = requests.get(bad, timeout=10)
        assert r.status_code == 403, (bad, r.status_code)
        assert "<Code>AccessDenied</Code>" in r.text and r.headers["Content-Type"].startswith(
            "application/xml"
        )
    for probe in (
        "/_oss/dms-emulator-exports/../../etc/passwd",
        "/_oss/x/%2e%2e/%2e%2e/etc/passwd",
        "/_oss/dms-emulator-exports/" + "a" * 10,
    ):
        r = requests.get(
            f"http://{endpoint}{probe}?OSSAccessKeyId=a&Expires=9999999999&Signature=x", timeout=10
        )
        assert r.status_code in (403, 404) and "root:" not in r.text
    control.advance(3601)
    r = requests.get(url, timeout=10)
    assert r.status_code == 403 and "Request has expired." in r.text and "<Expires>" in r.text


@pytest.mark.parametrize(
    "plugin_type, param",
    [
        (
            "DC_COMMON",
            {
                "classify": "t",
                "estimateAffectRows": 1,
                "execSQL": "update products set stock=1 where id=1",
                "dbItemList": [{"dbId": 17001, "logic": False}],
                "rbSQL": None,
                "sqlType": "TEXT",
            },
        ),
        (
            "DC_CHUNK",
            {
                "classify": "t",
                "execSQL": "update products set stock=stock where 1=1",
                "dbItemList": [{"dbId": 17001, "logic": False}],
            },
        ),
        (
            "DC_CRON_CLEAR",
            {
                "duration": 10,
                "specifyDuration": True,
                "classify": "t",
                "cronFormat": "0 1 21 * * ?",
                "execSql": None,
                "dbItemList": [{"dbId": 17001, "logic": False}],
                "cronClearItemList": [
                    {
                        "filterSQL": None,
                        "columnName": "ordered_at",
                        "remainDays": 60,
                        "tableName": "orders",
                    }
                ],
            },
        ),
        (
            "NDDL",
            {"title": "t", "description": "d", "dbId": 17001, "logic": False, "relatedIds": []},
        ),
        (
            "PERM_APPLY",
            {"reason": "need data", "dbId": 17001, "permTypes": ["QUERY"], "tables": ["orders"]},
        ),
        ("OWNER_APPLY", {"reason": "I own it", "resourceType": "DB", "dbId": 17001}),
        (
            "DATA_EXPORT",
            {"DbId": 17001, "ExeSQL": "select 1", "Logic": False, "Classify": "pascal"},
        ),
    ],
)
def test_every_plugin_type_is_created_and_progresses(
    endpoint: str, control: Control, plugin_type: str, param: dict
) -> None:
    client = dms(endpoint)
    body = client.create_order(
        models.CreateOrderRequest(
            plugin_type=plugin_type,
            comment="c",
            plugin_param=param,
            related_user_list="100002,carol",
        )
    ).body
    assert body.success, body.to_map()
    order_id = body.create_order_result.order_ids[0]
    codes: list[str] = []
    for _ in range(20):
        info = client.get_order_base_info(
            models.GetOrderBaseInfoRequest(order_id=order_id)
        ).body.order_base_info
        if not codes or codes[-1] != info.status_code:
            codes.append(info.status_code)
        control.advance(1)
    assert codes[0] == "new" and codes[-1] == "success", codes
    assert set(codes) <= {"new", "toaudit", "Approved", "processing", "success"}
    assert info.related_user_list.user_ids == ["100002", "100003"]
    assert info.related_user_nick_list.user_nicks == ["bob", "carol"]


@pytest.mark.parametrize(
    "raw, code",
    [
        ("not json", "InvalidPluginParam"),
        ("null", "InvalidPluginParam"),
        ("[1,2]", "InvalidPluginParam"),
        ('{"dbId": "17001", "exeSQL": "select 1"}', "InvalidPluginParam"),
        ('{"dbId": true, "exeSQL": "select 1"}', "InvalidPluginParam"),
        ('{"dbId": 17001}', "InvalidPluginParam"),
        ('{"dbId": 99999999999999999999999, "exeSQL": "select 1"}', "InvalidPluginParam"),
        ('{"dbId": 17001, "exeSQL": "select 1", "typo": 1}', "InvalidPluginParam"),
        ('{"dbId": 17001, "exeSQL": "' + "x" * 1_000_001 + '"}', "InvalidPluginParam"),
    ],
    ids=[
        "not-json",
        "null",
        "array",
        "string-id",
        "bool-id",
        "no-sql",
        "huge-id",
        "unknown-key",
        "huge-sql",
    ],
)
def test_bad_plugin_params_are_400(endpoint: str, raw: str, code: str) -> None:
    r = v3_request(
        endpoint,
        "CreateOrder",
        query={"PluginType": "DATA_EXPORT", "Comment": "c"},
        form={"PluginParam": raw},
    ).send()
    assert r.status_code == 400 and r.json()["Code"] == code, (r.status_code, r.text[:300])


def test_sdk_string_plugin_param_becomes_null_and_is_refused(endpoint: str) -> None:
    with pytest.raises(ClientException) as exc:
        dms(endpoint).create_order(
            models.CreateOrderRequest(
                plugin_type="DATA_EXPORT", comment="c", plugin_param='{"dbId": 17001}'
            )
        )
    assert exc.value.code == "InvalidPluginParam" and "null" in exc.value.data["Message"]


def test_create_order_business_errors(endpoint: str) -> None:
    client = dms(endpoint)
    unknown_db = client.create_order(
        models.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="c",
            plugin_param={"dbId": 424242, "exeSQL": "select 1"},
        )
    ).body
    assert not unknown_db.success and unknown_db.error_code == "DatabaseNotExist"
    unknown_user = client.create_order(
        models.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="c",
            plugin_param={"dbId": 17001, "exeSQL": "select 1"},
            related_user_list="100002,200001",
        )
    ).body
    assert not unknown_user.success and unknown_user.error_code == "InvalidRelatedUserList"
    assert "200001" in unknown_user.error_message
    for missing, req in (
        ("PluginType", {"comment": "c", "plugin_param": {}}),
        ("Comment", {"plugin_type": "NDDL", "plugin_param": {}}),
    ):
        with pytest.raises(ClientException) as exc:
            client.create_order(models.CreateOrderRequest(**req))
        assert exc.value.code == f"Missing{missing}"
    with pytest.raises(ClientException) as exc:
        client.create_order(
            models.CreateOrderRequest(plugin_type="SOMETHING", comment="c", plugin_param={})
        )
    assert exc.value.code == "InvalidPluginType"


def test_create_data_export_order_uses_the_sdk_model(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    body = client.create_data_export_order(
        models.CreateDataExportOrderRequest(
            comment="c",
            related_user_list=[100002],
            plugin_param=models.CreateDataExportOrderRequestPluginParam(
                affect_rows=100,
                classify="report",
                db_id=17001,
                exe_sql="select * from products",
                ignore_affect_rows=False,
                instance_id=1,
                logic=False,
            ),
        )
    ).body
    assert body.success, body.to_map()
    (order_id,) = body.create_order_result.create_order_result
    assert watch(client, control, order_id, {"EXPORT_SUCCESS"})[-1] == "EXPORT_SUCCESS"


def test_list_orders_filters_and_pages(endpoint: str, control: Control) -> None:
    alice, carol = dms(endpoint), dms(endpoint, CAROL)
    ids = [create_export(alice, "select 1") for _ in range(5)] + [create_export(carol, "select 2")]
    control.advance(60)
    page = alice.list_orders(models.ListOrdersRequest(page_size=2, page_number=1)).body
    assert page.total_count == 6 and [o.order_id for o in page.orders.order] == ids[::-1][:2]
    last = alice.list_orders(models.ListOrdersRequest(page_size=2, page_number=3)).body
    assert [o.order_id for o in last.orders.order] == ids[::-1][4:]
    mine = carol.list_orders(models.ListOrdersRequest(order_result_type="AS_COMMITTER")).body
    assert [o.order_id for o in mine.orders.order] == [ids[-1]]
    assert carol.list_orders(models.ListOrdersRequest()).body.total_count == 1, (
        "a USER sees own tickets"
    )
    assert alice.list_orders(models.ListOrdersRequest(order_status="RUNNING")).body.total_count == 0
    assert (
        alice.list_orders(models.ListOrdersRequest(order_status="FINISHED")).body.total_count == 6
    )
    assert alice.list_orders(models.ListOrdersRequest(plugin_type="NDDL")).body.total_count == 0
    assert (
        alice.list_orders(models.ListOrdersRequest(search_content=str(ids[2]))).body.total_count
        == 1
    )
    assert (
        alice.list_orders(
            models.ListOrdersRequest(
                start_time="2000-01-01 00:00:00", end_time="2000-01-02 00:00:00"
            )
        ).body.total_count
        == 0
    )


def test_tenant_actions(endpoint: str) -> None:
    client = dms(endpoint, DAVE)
    tenant = client.get_user_active_tenant(models.GetUserActiveTenantRequest()).body.tenant
    assert (tenant.tid, tenant.tenant_name, tenant.status) == (4000, "acme", "ACTIVE")
    lst = client.list_user_tenants(models.ListUserTenantsRequest(tid=4000)).body.tenant_list
    assert [t.tid for t in lst] == [4000]


def test_unknown_order_is_not_found(endpoint: str) -> None:
    client = dms(endpoint, ALICE)
    for call in (
        lambda: client.get_data_export_order_detail(
            models.GetDataExportOrderDetailRequest(order_id=123456)
        ),
        lambda: client.get_order_base_info(models.GetOrderBaseInfoRequest(order_id=123456)),
        lambda: client.get_data_export_download_url(
            models.GetDataExportDownloadURLRequest(order_id=123456)
        ),
        lambda: client.submit_order_approval(models.SubmitOrderApprovalRequest(order_id=123456)),
        lambda: client.query_data_track_result_download_status(
            models.QueryDataTrackResultDownloadStatusRequest(order_id=123456, download_key_id="k")
        ),
    ):
        body = call().body
        assert body.success is False and body.error_code == "OrderNotExist"
    wf = client.approve_order(
        models.ApproveOrderRequest(workflow_instance_id=1, approval_type="AGREE")
    ).body
    assert not wf.success and wf.error_code == "WorkflowNotExist"


def test_list_orders_scopes_search_and_modify_time(endpoint: str, control: Control) -> None:
    alice, carol = dms(endpoint), dms(endpoint, CAROL)
    related = alice.create_order(
        models.CreateOrderRequest(
            plugin_type="NDDL",
            comment="50% off_sale",
            related_user_list="carol",
            plugin_param={"title": "t", "dbId": 17001},
        )
    ).body.create_order_result.order_ids[0]
    other = alice.create_order(
        models.CreateOrderRequest(
            plugin_type="NDDL", comment="5000 offsale", plugin_param={"title": "t", "dbId": 17001}
        )
    ).body.create_order_result.order_ids[0]
    mine = carol.list_orders(models.ListOrdersRequest(order_result_type="AS_Related")).body
    assert [o.order_id for o in mine.orders.order] == [related]
    hits = alice.list_orders(models.ListOrdersRequest(search_content="50% off_")).body
    assert [o.order_id for o in hits.orders.order] == [related], "% and _ are literal in a search"
    assert alice.list_orders(models.ListOrdersRequest(order_status="RUNNING")).body.total_count == 2
    control.advance(3600)
    assert (
        alice.list_orders(models.ListOrdersRequest(order_status="FINISHED")).body.total_count == 2
    )
    clock = control.get("/clock")["now"][:19].replace("T", " ")
    recent = alice.list_orders(
        models.ListOrdersRequest(search_date_type="MODIFY_TIME", start_time=clock)
    ).body
    assert recent.total_count == 0, "nothing was modified in the last instant"
    assert (
        alice.list_orders(
            models.ListOrdersRequest(search_date_type="MODIFY_TIME", end_time=clock)
        ).body.total_count
        == 2
    )
    assert {other, related} == {
        o.order_id for o in alice.list_orders(models.ListOrdersRequest()).body.orders.order
    }


def test_a_long_export_does_not_block_other_requests(endpoint: str, control: Control) -> None:
    import time

    client = dms(endpoint)
    big = "select a.id, a.name, b.note from customers a cross join customers b"  # 1,000,000 rows
    order_id = create_export(client, big)
    busy_seen = False
    slowest = 0.0
    for _ in range(15):
        busy_seen = busy_seen or control.get("/health")["jobs_running"] > 0
        t0 = time.perf_counter()
        assert client.get_user_active_tenant(models.GetUserActiveTenantRequest()).body.success
        slowest = max(slowest, time.perf_counter() - t0)
    assert busy_seen, "the export was still being written while the calls were answered"
    assert slowest < 1.0, f"a call waited {slowest:.2f} s behind the export"
    assert watch(client, control, order_id, {"EXPORT_SUCCESS"}, step=30)[-1] == "EXPORT_SUCCESS"
    detail = client.get_data_export_order_detail(
        models.GetDataExportOrderDetailRequest(order_id=order_id)
    ).body
    assert detail.data_export_order_detail.order_detail.actual_affect_rows == 1_000_000


def test_execute_data_export_on_another_ticket_type_is_not_a_data_export_order(
    endpoint: str, control: Control
) -> None:
    """The docs' code for an export action on a non-export ticket (was IllegalOrderStatus)."""
    client = dms(endpoint)
    created = client.create_order(
        models.CreateOrderRequest(
            plugin_type="NDDL", comment="ddl", plugin_param={"dbId": 17001, "title": "t"}
        )
    ).body
    assert created.success, created.to_map()
    (order_id,) = created.create_order_result.order_ids
    body = client.execute_data_export(models.ExecuteDataExportRequest(order_id=order_id)).body
    assert not body.success and body.error_code == "NotDataExportOrder", body.to_map()
    assert str(order_id) in body.error_message and "NDDL" in body.error_message


def test_cancel_by_a_user_who_may_not_cancel_is_no_permission(
    endpoint: str, control: Control
) -> None:
    """Only the committer, an ADMIN or a DBA may cancel; another USER gets NoPermission (was
    IllegalOrderStatus) and the ticket is unchanged."""
    owner, other = dms(endpoint, ALICE), dms(endpoint, CAROL)
    order_id = create_export(owner, "select 1", db=17001)
    base = owner.get_order_base_info(
        models.GetOrderBaseInfoRequest(order_id=order_id)
    ).body.order_base_info
    before = status(owner, order_id)
    denied = other.approve_order(
        models.ApproveOrderRequest(
            workflow_instance_id=base.workflow_instance_id, approval_type="CANCEL"
        )
    ).body
    assert not denied.success and denied.error_code == "NoPermission", denied.to_map()
    assert status(owner, order_id) == before


def test_a_user_may_not_see_or_act_on_another_users_ticket(endpoint: str, control: Control) -> None:
    """Probe r08 (F8): inside a tenant, a USER sees and moves only own tickets (and sees those
    that name them in RelatedUserList); ADMIN and DBA see and act on all (specs/README.md)."""
    owner, frank, erin = dms(endpoint, DAVE), dms(endpoint, FRANK), dms(endpoint, ERIN)
    order_id = create_export(owner, "select * from salaries", db=27001)
    watch(owner, control, order_id, {"WAITING_APPLY_AUDIT"})

    def denied(body) -> bool:
        return body.success is False and body.error_code == "NoPermission"

    assert frank.list_orders(models.ListOrdersRequest()).body.total_count == 0
    for call in (
        lambda: frank.get_order_base_info(models.GetOrderBaseInfoRequest(order_id=order_id)),
        lambda: frank.get_data_export_order_detail(
            models.GetDataExportOrderDetailRequest(order_id=order_id)
        ),
        lambda: frank.get_data_export_pre_check_detail(
            models.GetDataExportPreCheckDetailRequest(order_id=order_id)
        ),
        lambda: frank.submit_order_approval(models.SubmitOrderApprovalRequest(order_id=order_id)),
    ):
        assert denied(call().body)
    assert status(owner, order_id) == "WAITING_APPLY_AUDIT", "a refused submit changed nothing"
    assert owner.submit_order_approval(
        models.SubmitOrderApprovalRequest(order_id=order_id)
    ).body.success
    wf = erin.get_order_base_info(
        models.GetOrderBaseInfoRequest(order_id=order_id)
    ).body.order_base_info.workflow_instance_id
    assert erin.approve_order(
        models.ApproveOrderRequest(workflow_instance_id=wf, approval_type="AGREE")
    ).body.success
    assert denied(
        frank.execute_data_export(models.ExecuteDataExportRequest(order_id=order_id)).body
    )
    assert status(owner, order_id) == "ENABLE_EXPORT"
    assert erin.execute_data_export(models.ExecuteDataExportRequest(order_id=order_id)).body.success
    watch(owner, control, order_id, {"EXPORT_SUCCESS"})
    assert denied(
        frank.get_data_export_download_url(
            models.GetDataExportDownloadURLRequest(order_id=order_id)
        ).body
    )
    assert erin.get_data_export_download_url(
        models.GetDataExportDownloadURLRequest(order_id=order_id)
    ).body.download_urlresult.has_result
    # a related user may look, not act
    related = owner.create_order(
        models.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="for frank to see",
            plugin_param={"dbId": 27001, "exeSQL": "select 1"},
            related_user_list="200003",
        )
    ).body.create_order_result.order_ids[0]
    assert frank.get_order_base_info(models.GetOrderBaseInfoRequest(order_id=related)).body.success
    assert denied(
        frank.submit_order_approval(models.SubmitOrderApprovalRequest(order_id=related)).body
    )
