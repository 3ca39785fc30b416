"""The control plane of CONTRACT.md and tenant isolation, through real sockets."""

from __future__ import annotations

import requests
from alibabacloud_dms_enterprise20181101 import models

from emulator.testing.process import Control
from emulator.testing.sdk import ALICE, CAROL, DAVE, dms, v3_request


def export(
    endpoint: str, key=ALICE, tid: int = 3000, db: int = 17001, sql: str = "select * from products"
) -> int:
    body = (
        dms(endpoint, key)
        .create_order(
            models.CreateOrderRequest(
                tid=tid,
                plugin_type="DATA_EXPORT",
                comment="c",
                plugin_param={"dbId": db, "exeSQL": sql},
            )
        )
        .body
    )
    assert body.success, body.to_map()
    return body.create_order_result.order_ids[0]


def test_health_and_clock(control: Control) -> None:
    assert control.get("/health")["status"] == "ok"
    before = control.get("/clock")
    assert before["mode"] == "manual" and before["now"].endswith("Z")
    after = control.advance(3600)
    assert after["epoch"] - before["epoch"] == 3600
    assert control.get("/clock")["epoch"] == after["epoch"], "manual clock stands still"
    assert control.post("/clock/advance", {"seconds": -1}).status_code == 400
    assert control.post("/clock/advance", {"seconds": "x"}).status_code == 400


def test_advancing_hours_never_expires_a_fresh_request(endpoint: str, control: Control) -> None:
    control.advance(10 * 3600)
    assert v3_request(endpoint, "GetUserActiveTenant").send().status_code == 200


def test_reset_all_and_one_tenant(endpoint: str, control: Control) -> None:
    a = export(endpoint)
    d = export(endpoint, DAVE, 4000, 27001, "select * from departments")
    control.reset(4000)
    assert (
        dms(endpoint).get_order_base_info(models.GetOrderBaseInfoRequest(order_id=a)).body.success
    )
    gone = dms(endpoint, DAVE).get_order_base_info(models.GetOrderBaseInfoRequest(order_id=d)).body
    assert not gone.success and gone.error_code == "OrderNotExist"
    control.reset()
    assert (
        not dms(endpoint)
        .get_order_base_info(models.GetOrderBaseInfoRequest(order_id=a))
        .body.success
    )
    assert control.post("/reset", {"tid": 999}).status_code == 404
    assert control.post("/reset", {"tid": "x"}).status_code == 400


def test_tid_of_another_tenant_is_refused(endpoint: str) -> None:
    body = dms(endpoint).list_orders(models.ListOrdersRequest(tid=4000)).body
    assert body.success is False and body.error_code == "NoPermission"
    assert "3000" in body.error_message


def test_tenants_never_see_each_other(endpoint: str) -> None:
    a = export(endpoint)
    other = dms(endpoint, DAVE)
    assert not other.get_order_base_info(models.GetOrderBaseInfoRequest(order_id=a)).body.success
    assert not other.get_data_export_order_detail(
        models.GetDataExportOrderDetailRequest(order_id=a)
    ).body.success
    assert not other.get_data_export_download_url(
        models.GetDataExportDownloadURLRequest(order_id=a)
    ).body.success
    assert other.list_orders(models.ListOrdersRequest()).body.total_count == 0
    body = other.create_order(
        models.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="c",
            plugin_param={"dbId": 17001, "exeSQL": "select 1"},
        )
    ).body
    assert not body.success and body.error_code == "DatabaseNotExist"


def test_journal_records_and_filters(endpoint: str, control: Control) -> None:
    requests.delete(f"{control.url}/_emulator/requests", timeout=5)
    dms(endpoint).get_user_active_tenant(models.GetUserActiveTenantRequest())
    dms(endpoint, CAROL).list_orders(models.ListOrdersRequest())
    v3_request(endpoint, "GetDataExportOrderDetail").send()
    entries = control.journal()
    assert [e["action"] for e in entries] == [
        "GetUserActiveTenant",
        "ListOrders",
        "GetDataExportOrderDetail",
    ]
    first = entries[0]
    for key in (
        "time",
        "product",
        "action",
        "access_key_id",
        "tid",
        "http_status",
        "code",
        "latency_ms",
        "request_id",
    ):
        assert key in first
    assert (
        first["product"] == "dms-enterprise"
        and first["tid"] == 3000
        and first["http_status"] == 200
    )
    assert [e["action"] for e in control.journal(access_key_id=CAROL[0])] == ["ListOrders"]
    assert [e["code"] for e in control.journal(code="MissingOrderId")] == ["MissingOrderId"]
    assert len(control.journal(limit=1)) == 1
    assert control.journal(request_id=first["request_id"])[0]["action"] == "GetUserActiveTenant"
    assert requests.get(f"{control.url}/_emulator/requests?tid=x", timeout=5).status_code == 400


def test_state_export_import_round_trip(endpoint: str, control: Control) -> None:
    a = export(endpoint)
    control.advance(60)
    snapshot = control.get("/state")
    control.reset()
    assert (
        not dms(endpoint)
        .get_order_base_info(models.GetOrderBaseInfoRequest(order_id=a))
        .body.success
    )
    r = requests.put(f"{control.url}/_emulator/state", json=snapshot, timeout=10)
    assert r.status_code == 200, r.text
    again = control.get("/state")
    assert again["tables"] == snapshot["tables"]
    info = dms(endpoint).get_order_base_info(models.GetOrderBaseInfoRequest(order_id=a)).body
    assert info.success and info.order_base_info.status_code == "success"
    assert (
        requests.put(f"{control.url}/_emulator/state", json={"x": 1}, timeout=5).status_code == 400
    )
    bad = dict(snapshot, tables={"nonsense": []})
    assert requests.put(f"{control.url}/_emulator/state", json=bad, timeout=5).status_code == 400
    assert control.get("/state")["tables"] == snapshot["tables"], "a refused import changes nothing"


def test_python_control_client_typed_methods(endpoint: str, control: Control) -> None:
    import time

    from emulator.admin.client import ControlError, EmulatorClient
    from emulator.testing.sdk import FRANK

    client = EmulatorClient(control.url)
    assert client.health()["status"] == "ok" and client.clock().mode == "manual"
    user = dms(endpoint, FRANK)

    def create() -> int:
        return user.create_order(
            models.CreateOrderRequest(
                plugin_type="DATA_EXPORT",
                comment="c",
                plugin_param={"dbId": 27001, "exeSQL": "select 1"},
            )
        ).body.create_order_result.order_ids[0]

    approved, rejected = create(), create()
    client.advance(10)
    assert client.approve(approved, comment="fine")["status"] == "ENABLE_EXPORT"
    view = client.reject(rejected)
    assert view["status_code"] == "reject" and view["closed"] == "reject"
    assert {t["order_id"] for t in client.tickets(tid=4000)} == {approved, rejected}
    assert client.ticket(approved)["path"][-1] == "ENABLE_EXPORT"
    try:
        client.approve(rejected)
        raise AssertionError("approving a rejected ticket must fail")
    except ControlError as exc:
        assert exc.status == 409
    since = time.time()
    rule = client.add_fault(action="ListOrders", code="Throttling.User", times=1)
    assert [f["id"] for f in client.faults()] == [rule["id"]]
    client.remove_fault(rule["id"])
    assert client.faults() == []
    client.load_scenario("export-fails")
    client.clear_faults()
    dms(endpoint).list_orders(models.ListOrdersRequest())
    assert [e["action"] for e in client.requests(since=since)] == ["ListOrders"]
    snapshot = client.export_state()
    client.reset()
    assert client.tickets() == []
    client.import_state(snapshot)
    assert {t["order_id"] for t in client.tickets()} == {approved, rejected}
    other = create()
    assert client.fail_ticket(other, stage="precheck", reason="nope")["applied"]
    client.advance(10)
    assert client.ticket(other)["status"] == "PRE_CHECK_FAIL"


def test_structured_json_logging() -> None:
    import json

    from emulator.testing.process import EmulatorProcess
    from emulator.testing.sdk import v3_request

    with EmulatorProcess("--log-json") as proc:
        r = v3_request(proc.endpoint, "GetUserActiveTenant").send()
        rid = r.json()["RequestId"]
        lines = [json.loads(line) for line in proc.logs().splitlines() if line.startswith("{")]
    access = [e for e in lines if e.get("request_id") == rid]
    assert access, lines
    entry = access[0]
    assert (
        entry["action"] == "GetUserActiveTenant"
        and entry["tid"] == 3000
        and entry["http_status"] == 200
    )
    assert entry["level"] == "INFO" and "latency_ms" in entry and entry["code"] is None


def test_control_plane_bugs_answer_json_500_not_a_traceback(monkeypatch) -> None:
    from emulator.app import create_app
    from emulator.config import Settings

    app = create_app(Settings(clock="manual"))
    emu = app.extensions["dms_emulator"]
    monkeypatch.setattr(emu.faults, "list", lambda: 1 / 0)
    r = app.test_client().get("/_emulator/faults")
    assert r.status_code == 500 and r.json is not None
    assert r.json["error"].startswith("internal error (ZeroDivisionError)")
    assert "Traceback" not in r.get_data(as_text=True)
    assert app.test_client().get("/_emulator/nowhere").status_code == 404
    emu.close()
