"""Fault injection observed through the official Python SDK over real sockets."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm
from alibabacloud_sas20181203 import models as sm
from alibabacloud_tea_openapi.exceptions import (
    ClientException,
    ServerException,
    ThrottlingException,
)
from darabonba.exceptions import UnretryableException
from darabonba.runtime import ExtendsParameters, RuntimeOptions

from emulator.testing.flows import create_export, status, watch
from emulator.testing.process import Control, EmulatorProcess, run_cli
from emulator.testing.sdk import DAVE, dms, sas, v3_request

ROOT = Path(__file__).resolve().parent.parent


def add(control: Control, rule: dict) -> dict:
    r = control.post("/faults", rule)
    assert r.status_code == 201, r.text
    return r.json()


def tenant(client: Any) -> dm.GetUserActiveTenantResponse:
    return client.get_user_active_tenant(dm.GetUserActiveTenantRequest())


def with_header(value: str) -> RuntimeOptions:
    return RuntimeOptions(extends_parameters=ExtendsParameters(headers={"x-emulator-fault": value}))


def test_error_rule_fires_times_then_disappears(endpoint: str, control: Control) -> None:
    rule = add(
        control,
        {
            "match": {"action": "GetUserActiveTenant"},
            "times": 2,
            "effect": {"type": "error", "code": "ServiceUnavailable", "http_status": 503},
        },
    )
    client = dms(endpoint)
    for _ in range(2):
        with pytest.raises(ServerException) as exc:
            tenant(client)
        assert exc.value.code == "ServiceUnavailable" and exc.value.status_code == 503
    assert tenant(client).body.success
    assert all(r["id"] != rule["id"] for r in control.get("/faults")["faults"])
    journal = control.journal(action="GetUserActiveTenant")
    assert [e["fault"]["rule"] if e["fault"] else None for e in journal] == [
        rule["id"],
        rule["id"],
        None,
    ]


def test_after_skips_the_first_matches(endpoint: str, control: Control) -> None:
    add(
        control,
        {
            "match": {"action": "ListOrders"},
            "after": 2,
            "times": 1,
            "effect": {"type": "error", "code": "Throttling.Api", "http_status": 400},
        },
    )
    client = dms(endpoint)
    results = []
    for _ in range(4):
        try:
            client.list_orders(dm.ListOrdersRequest())
            results.append("ok")
        except ThrottlingException as exc:
            results.append(exc.code)
    assert results == ["ok", "ok", "Throttling.Api", "ok"]


def test_throttling_carries_retry_after(endpoint: str, control: Control) -> None:
    add(
        control,
        {
            "match": {"action": "GetDataExportOrderDetail"},
            "times": 1,
            "effect": {
                "type": "error",
                "code": "Throttling.User",
                "http_status": 400,
                "retry_after": 1500,
            },
        },
    )
    with pytest.raises(ThrottlingException) as exc:
        dms(endpoint).get_data_export_order_detail(dm.GetDataExportOrderDetailRequest(order_id=1))
    assert exc.value.code == "Throttling.User" and exc.value.retry_after == 1500


def test_latency_is_measured(endpoint: str, control: Control) -> None:
    add(
        control,
        {
            "match": {"action": "GetUserActiveTenant"},
            "times": 1,
            "effect": {"type": "latency", "ms": 400},
        },
    )
    client = dms(endpoint)
    t0 = time.perf_counter()
    assert tenant(client).body.success
    slow = time.perf_counter() - t0
    fast = float("inf")
    for _ in range(3):  # the quickest unfaulted call: one slow call on a loaded machine is noise
        t0 = time.perf_counter()
        tenant(client)
        fast = min(fast, time.perf_counter() - t0)
    assert slow >= 0.4 and slow - fast >= 0.3, (slow, fast)
    assert control.journal(action="GetUserActiveTenant")[0]["fault"]["latency_ms"] == 400


@pytest.mark.parametrize("mode", ["reset", "empty", "truncated"])
def test_connection_faults_surface_as_connection_errors_and_the_server_keeps_serving(
    endpoint: str, control: Control, mode: str
) -> None:
    add(
        control,
        {
            "match": {"action": "GetUserActiveTenant"},
            "times": 1,
            "effect": {"type": "connection", "mode": mode},
        },
    )
    client = dms(endpoint)
    with pytest.raises(UnretryableException):
        tenant(client)
    assert tenant(client).body.success, "the next call is served normally"
    entry = control.journal(action="GetUserActiveTenant")[0]
    assert entry["fault"]["effect"]["mode"] == mode
    if mode != "truncated":
        assert entry["http_status"] == 0 and entry["code"].startswith("Connection.")


def test_reset_means_the_request_was_not_processed(endpoint: str, control: Control) -> None:
    add(
        control,
        {
            "match": {"action": "CreateOrder"},
            "times": 1,
            "effect": {"type": "connection", "mode": "reset"},
        },
    )
    with pytest.raises(UnretryableException):
        create_export(dms(endpoint), "select 1")
    assert dms(endpoint).list_orders(dm.ListOrdersRequest()).body.total_count == 0


def test_dribble_is_slow_but_complete(endpoint: str, control: Control) -> None:
    add(
        control,
        {
            "match": {"action": "ListUserTenants"},
            "times": 1,
            "effect": {"type": "connection", "mode": "dribble", "bytes": 40, "interval_ms": 50},
        },
    )
    t0 = time.perf_counter()
    body = dms(endpoint).list_user_tenants(dm.ListUserTenantsRequest()).body
    assert body.success and body.tenant_list[0].tid == 3000
    assert time.perf_counter() - t0 >= 0.1


def test_header_fault_affects_only_its_request(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    with pytest.raises(ClientException) as exc:
        client.get_user_active_tenant_with_options(
            dm.GetUserActiveTenantRequest(), with_header("error:Forbidden.RAM:403")
        )
    assert exc.value.code == "Forbidden.RAM" and exc.value.status_code == 403
    assert tenant(client).body.success
    with pytest.raises(ClientException) as exc:
        client.get_user_active_tenant_with_options(
            dm.GetUserActiveTenantRequest(), with_header("explode:now")
        )
    assert exc.value.code == "InvalidEmulatorFault"


def test_tenant_scoped_rules_leave_other_tenants_alone(endpoint: str, control: Control) -> None:
    add(control, {"match": {"tid": 4000}, "effect": {"type": "error", "code": "Throttling.User"}})
    assert tenant(dms(endpoint)).body.success
    with pytest.raises(ThrottlingException):
        tenant(dms(endpoint, DAVE))
    assert [r["match"]["tid"] for r in control.get("/faults", tid=4000)["faults"]] == [4000]
    assert control.get("/faults", tid=3000)["faults"] == []
    requests.delete(f"{control.url}/_emulator/faults?tid=4000", timeout=5)
    assert tenant(dms(endpoint, DAVE)).body.success


def test_probability_is_reproducible_under_a_seed() -> None:
    def pattern() -> list[bool]:
        with EmulatorProcess("--seed", "42") as proc:
            add(
                Control(proc.url),
                {
                    "match": {"action": "GetUserActiveTenant"},
                    "probability": 0.5,
                    "effect": {"type": "error", "code": "ServiceUnavailable", "http_status": 503},
                },
            )
            client = dms(proc.endpoint)
            out = []
            for _ in range(24):
                try:
                    tenant(client)
                    out.append(False)
                except ServerException:
                    out.append(True)
            return out

    first = pattern()
    assert first == pattern()
    assert 3 < sum(first) < 21


def test_lifecycle_faults_from_scenarios(endpoint: str, control: Control) -> None:
    assert control.post("/scenarios", {"name": "export-fails"}).status_code == 201
    client = dms(endpoint)
    failing = create_export(client, "select * from products")
    fine = create_export(client, "select * from products")
    assert watch(client, control, failing, {"EXPORT_SUCCESS", "EXPORT_FAIL"})[-1] == "EXPORT_FAIL"
    assert watch(client, control, fine, {"EXPORT_SUCCESS", "EXPORT_FAIL"})[-1] == "EXPORT_SUCCESS"
    tip = client.get_data_export_download_url(
        dm.GetDataExportDownloadURLRequest(order_id=failing)
    ).body
    assert (
        not tip.download_urlresult.has_result
        and "OSS upload failed" in tip.download_urlresult.tip_message
    )
    assert control.post("/scenarios", {"name": "approval-rejected"}).status_code == 201
    rejected = create_export(client, "select 1")
    control.advance(30)
    info = client.get_order_base_info(
        dm.GetOrderBaseInfoRequest(order_id=rejected)
    ).body.order_base_info
    assert info.status_code == "reject"


def test_lifecycle_fault_by_header_precheck(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    body = client.create_order_with_options(
        dm.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="c",
            plugin_param={"dbId": 17001, "exeSQL": "select 1"},
        ),
        with_header(
            '{"type": "lifecycle", "stage": "precheck", "outcome": "fail", "reason": "quota"}'
        ),
    ).body
    order_id = body.create_order_result.order_ids[0]
    assert (
        watch(client, control, order_id, {"PRE_CHECK_FAIL", "PRE_CHECK_SUCCESS"})[-1]
        == "PRE_CHECK_FAIL"
    )
    detail = client.get_data_export_pre_check_detail(
        dm.GetDataExportPreCheckDetailRequest(order_id=order_id)
    ).body
    assert detail.error_message == "quota"


def test_stall_holds_a_ticket_then_lets_it_go(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    order_id = create_export(client, "select * from products")
    r = control.post(
        "/faults",
        {
            "match": {"order_id": order_id},
            "effect": {"type": "lifecycle", "stage": "export", "outcome": "stall", "seconds": 100},
        },
    )
    assert r.status_code == 201 and r.json()["applied"]
    watch(client, control, order_id, {"DOING_EXPORT"})
    control.advance(90)
    assert status(client, order_id) == "DOING_EXPORT"
    control.advance(20)
    assert status(client, order_id) == "EXPORT_SUCCESS"


def test_fault_for_one_existing_order(endpoint: str, control: Control) -> None:
    client = dms(endpoint)
    doomed, spared = create_export(client, "select 1"), create_export(client, "select 1")
    r = control.post(
        "/faults",
        {
            "match": {"order_id": doomed},
            "effect": {"type": "lifecycle", "stage": "export", "outcome": "fail", "reason": "disk"},
        },
    )
    assert r.status_code == 201
    control.advance(60)
    assert status(client, doomed) == "EXPORT_FAIL" and status(client, spared) == "EXPORT_SUCCESS"
    late = control.post(
        "/faults",
        {
            "match": {"order_id": spared},
            "effect": {"type": "lifecycle", "stage": "export", "outcome": "fail"},
        },
    )
    assert late.status_code == 409 and "already past" in late.json()["error"]
    missing = control.post(
        "/faults",
        {
            "match": {"order_id": 1},
            "effect": {"type": "lifecycle", "stage": "export", "outcome": "fail"},
        },
    )
    assert missing.status_code == 404


def test_datatrack_and_sas_failures(endpoint: str, control: Control) -> None:
    from emulator.testing.flows import poll_download, track_order

    client = dms(endpoint)
    order_id = track_order(client)
    control.advance(30)
    add(
        control,
        {
            "match": {"action": "DownloadDataTrackResult"},
            "times": 1,
            "effect": {
                "type": "lifecycle",
                "stage": "datatrack",
                "outcome": "fail",
                "reason": "binlog gone",
            },
        },
    )
    key = client.download_data_track_result(
        dm.DownloadDataTrackResultRequest(order_id=order_id)
    ).body.download_key_id
    seen, st = poll_download(client, control, order_id, key)
    assert (
        seen[-1] == "DOWNLOAD_FAIL" and st.status_desc == "binlog gone" and st.download_url is None
    )
    add(
        control,
        {
            "match": {"action": "ExportRecord"},
            "times": 1,
            "effect": {
                "type": "lifecycle",
                "stage": "sas_export",
                "outcome": "fail",
                "reason": "quota",
            },
        },
    )
    s = sas(endpoint)
    export_id = s.export_record(sm.ExportRecordRequest(export_type="virusScanExport")).body.id
    control.advance(60)
    info = s.describe_export_info(sm.DescribeExportInfoRequest(export_id=export_id)).body
    assert info.export_status == "failed" and info.message == "quota" and info.link is None


@pytest.mark.parametrize(
    "rule, field",
    [
        ({"effect": {"type": "boom"}}, "effect.type"),
        ({"effect": {"type": "error"}}, "effect.code"),
        ({"effect": {"type": "error", "code": "X", "http_status": 200}}, "effect.http_status"),
        ({"effect": {"type": "latency", "distribution": "uniform", "min_ms": 1}}, "effect.max_ms"),
        ({"effect": {"type": "connection", "mode": "explode"}}, "effect.mode"),
        (
            {"effect": {"type": "lifecycle", "stage": "precheck", "outcome": "maybe"}},
            "effect.outcome",
        ),
        ({"match": {"colour": "red"}, "effect": {"type": "latency", "ms": 1}}, "match.colour"),
        ({"probability": 2, "effect": {"type": "latency", "ms": 1}}, "rule.probability"),
        ({"times": 0, "effect": {"type": "latency", "ms": 1}}, "rule.times"),
        ({"effect": {"type": "error", "code": "X", "extra": 1}}, "effect.extra"),
        ({"match": {"action": "X"}}, "effect"),
    ],
)
def test_invalid_rules_get_400_naming_the_field(control: Control, rule: dict, field: str) -> None:
    r = control.post("/faults", rule)
    assert r.status_code == 400 and r.json()["error"].startswith(field), r.text
    assert control.get("/faults")["faults"] == []


def test_shipped_scenarios_load_and_validate(control: Control, tmp_path: Path) -> None:
    names = control.get("/scenarios")["scenarios"]
    assert {
        "throttled-polling",
        "flaky-network",
        "export-fails",
        "approval-rejected",
        "slow-region",
    } <= set(names)
    for name in names:
        assert control.post("/scenarios", {"name": name}).status_code == 201
    assert control.post("/scenarios", {"name": "../../etc/passwd"}).status_code == 400
    bad = {"faults": [{"effect": {"type": "latency"}}]}
    r = control.post("/scenarios", bad)
    assert r.status_code == 400 and "faults[0]" in r.json()["error"]


def test_scenario_at_start_and_a_bad_one_stops_start_up(tmp_path: Path) -> None:
    scenario = ROOT / "fixtures" / "scenarios" / "throttled-polling.yaml"
    with EmulatorProcess("--scenario", str(scenario)) as proc:
        faults = Control(proc.url).get("/faults")["faults"]
        assert [f["name"] for f in faults] == ["throttled-polling"]
        with pytest.raises(ThrottlingException):
            dms(proc.endpoint).get_data_export_order_detail(
                dm.GetDataExportOrderDetailRequest(order_id=1)
            )
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults:\n  - effect: {type: error}\n")
    out = run_cli("serve", "--port", "0", "--scenario", str(bad))
    assert (
        out.returncode == 2
        and "faults[0].effect.code" in out.stderr
        and "Traceback" not in out.stderr
    )


def test_header_faults_are_bounded_so_one_tenant_cannot_take_every_thread(endpoint: str) -> None:
    """F7: 8 requests with `latency:20000` held all 8 threads; another tenant waited 19 s."""

    def send(header: str) -> Any:
        return v3_request(endpoint, "ListOrders", extra_headers={"x-emulator-fault": header}).send()

    t = time.time()
    refused = send("latency:20000")
    assert refused.status_code == 400 and refused.json()["Code"] == "InvalidEmulatorFault"
    assert "--header-fault-max-ms" in refused.json()["Message"] and time.time() - t < 2
    slow = '{"type": "connection", "mode": "dribble", "bytes": 1, "interval_ms": 60000}'
    assert send(slow).status_code == 400
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(send("latency:3000").status_code))
        for _ in range(8)
    ]
    for th in threads:
        th.start()
    time.sleep(0.5)
    t = time.time()
    other = v3_request(endpoint, "ListOrders", key=DAVE).send()
    assert other.status_code == 200 and time.time() - t < 1.5, "tenant 4000 was not kept waiting"
    for th in threads:
        th.join()
    assert sorted(results) == [200, 200] + [400] * 6, "two delayed requests per tenant at a time"


def test_a_header_dribble_lasts_at_most_the_header_limit() -> None:
    with EmulatorProcess("--header-fault-max-ms", "1000") as proc:
        header = '{"type": "connection", "mode": "dribble", "bytes": 1, "interval_ms": 500}'
        p = v3_request(proc.endpoint, "ListOrders", extra_headers={"x-emulator-fault": header})
        t = time.time()
        r = p.send()
        assert r.status_code == 200 and r.json()["Success"] is True  # ~300 bytes: 150 s uncapped
        assert time.time() - t < 5
    with EmulatorProcess("--header-fault-max-ms", "0") as proc:
        r = v3_request(
            proc.endpoint, "ListOrders", extra_headers={"x-emulator-fault": "latency:10"}
        ).send()
        assert r.status_code == 400 and "turned off" in r.json()["Message"]


def test_lognormal_latency_has_a_cap(endpoint: str, control: Control) -> None:
    """F18: a lognormal latency without max_ms was unbounded (sigma 10: hours)."""
    r = control.post(
        "/faults",
        {
            "match": {"action": "GetUserActiveTenant"},
            "times": 12,
            "effect": {
                "type": "latency",
                "distribution": "lognormal",
                "median_ms": 20,
                "sigma": 10,
            },
        },
    )
    assert r.status_code == 201
    t = time.time()
    for _ in range(12):
        dms(endpoint).get_user_active_tenant(dm.GetUserActiveTenantRequest())
    took = time.time() - t
    latencies = [e["fault"]["latency_ms"] for e in control.journal(action="GetUserActiveTenant")]
    assert len(latencies) == 12 and max(latencies) <= 20 * 20, latencies
    assert took < 12 * 0.4 + 3
