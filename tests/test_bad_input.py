"""Malformed input gets a 400 naming the parameter, never a 5xx, and changes nothing (probes
r06, r09, r15 of ../shared/probes: each case here answered 500 or was stored altered before).

Every request is signed with the official SDK's own functions and sent through a real socket.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests

from emulator.testing.process import Control
from emulator.testing.sdk import ALICE, DAVE, DMS_VERSION, SAS_VERSION, Prepared, v3_request

ENVELOPE = {"RequestId", "HostId", "Code", "Message", "Recommend"}
FORM = "application/x-www-form-urlencoded"
TRACK = {
    "dbId": 17001,
    "jobStartTime": "2024-01-01 00:00:00",
    "jobEndTime": "2024-01-02 00:00:00",
    "tableNames": ["customers"],
    "trackTypes": ["INSERT"],
}


def wire(params: dict[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}


def signed_body(endpoint: str, action: str, body: bytes, key: tuple[str, str] = ALICE) -> Prepared:
    """A V3 request whose form body is exactly `body` (the signature covers its hash)."""
    req = v3_request(
        endpoint, action, key=key, extra_headers={"content-type": FORM}, signed_body=body
    )
    return dataclasses.replace(req, body=body)


def state(control: Control) -> Any:
    """Everything the emulator keeps, to show a refused request changed nothing."""
    doc = control.get("/state")
    return doc["tables"]


def assert_refused(r: requests.Response, code: str, names: str) -> dict[str, Any]:
    assert r.status_code == 400, r.text
    doc = r.json()
    assert set(doc) == ENVELOPE, doc
    assert doc["Code"] == code, doc
    assert names in doc["Message"], doc
    return dict(doc)


NEST = 600
INTEGER_CASES = [
    ("ListOrders", {"Tid": "--1"}, DMS_VERSION, "InvalidTid"),
    ("ListOrders", {"PageSize": "--7"}, DMS_VERSION, "InvalidPageSize"),
    ("ListOrders", {"PageNumber": "1-"}, DMS_VERSION, "InvalidPageNumber"),
    ("GetDataExportOrderDetail", {"OrderId": "--1"}, DMS_VERSION, "InvalidOrderId"),
    ("GetOrderBaseInfo", {"OrderId": "-" * 5 + "3"}, DMS_VERSION, "InvalidOrderId"),
    ("GetOrderBaseInfo", {"OrderId": str(10**30)}, DMS_VERSION, "InvalidOrderId"),
    ("GetOrderBaseInfo", {"OrderId": "0" * 5000 + "1"}, DMS_VERSION, "InvalidOrderId"),
    (
        "ApproveOrder",
        {"WorkflowInstanceId": "--7", "ApprovalType": "AGREE"},
        DMS_VERSION,
        "InvalidWorkflowInstanceId",
    ),
    ("DescribeExportInfo", {"ExportId": "--7"}, SAS_VERSION, "InvalidExportId"),
    (
        "ExportRecord",
        {"ExportType": "virusScanExport", "ResourceDirectoryAccountId": "--7"},
        SAS_VERSION,
        "InvalidResourceDirectoryAccountId",
    ),
]


@pytest.mark.parametrize(("action", "params", "version", "code"), INTEGER_CASES)
def test_malformed_integers_are_invalid_parameters(
    endpoint: str, control: Control, action: str, params: dict[str, str], version: str, code: str
) -> None:
    before = state(control)
    r = v3_request(endpoint, action, form=params, version=version).send()
    assert_refused(r, code, code.removeprefix("Invalid"))
    assert state(control) == before


@pytest.mark.parametrize("depth", [490, NEST, 900])
@pytest.mark.parametrize(
    ("action", "name", "extra"),
    [
        ("CreateOrder", "PluginParam", {"PluginType": "DATA_EXPORT", "Comment": "c"}),
        ("CreateDataExportOrder", "PluginParam", {"Comment": "c"}),
        ("CreateDataTrackOrder", "Param", {"Comment": "c"}),
        ("DownloadDataTrackResult", "ColumnFilter", {"OrderId": "3000001"}),
    ],
)
def test_deeply_nested_json_is_refused(
    endpoint: str, control: Control, depth: int, action: str, name: str, extra: dict[str, str]
) -> None:
    before = state(control)
    deep = '{"a":' * depth + "1" + "}" * depth
    r = v3_request(endpoint, action, form={**extra, name: deep}).send()
    assert_refused(r, f"Invalid{name}", "nested deeper than")
    assert state(control) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("jobStartTime", "2024-01-01 00:00:00\n"),
        ("jobEndTime", "2024-02-30 00:00:00"),
        ("jobStartTime", "0000-01-01 00:00:00"),
        ("jobEndTime", "2024-01-01 24:00:00"),
        ("jobStartTime", "２０２４-01-01 00:00:00"),
    ],
)
def test_datatrack_times_must_be_real_times(
    endpoint: str, control: Control, field: str, value: str
) -> None:
    before = state(control)
    param = {**TRACK, field: value}
    r = v3_request(endpoint, "CreateDataTrackOrder", form=wire({"Comment": "t", "Param": param}))
    assert_refused(r.send(), "InvalidParam", field)
    assert state(control) == before


@pytest.mark.parametrize(
    "column",
    [
        {"ColumnName": "id", "Operator": "IN", "InList": 5},
        {"ColumnName": "id", "Operator": "IN", "InList": [{"x": 1}]},
        {"ColumnName": "id", "Operator": "IN", "InList": "abc"},
        {"ColumnName": ["id"], "Operator": "EQUAL", "Value": "1"},
        {"ColumnName": "id", "Operator": {"op": 1}, "Value": "1"},
        {"ColumnName": "id", "Operator": "EQUAL", "Value": {"v": 1}},
        {"ColumnName": "id", "Operator": "BETWEEN", "BetweenStart": [1], "BetweenEnd": 2},
    ],
)
def test_column_filter_of_the_wrong_shape(
    endpoint: str, control: Control, column: dict[str, Any]
) -> None:
    created = v3_request(
        endpoint, "CreateDataTrackOrder", form=wire({"Comment": "t", "Param": TRACK})
    ).send()
    assert created.status_code == 200, created.text
    order = created.json()["CreateOrderResult"][0]
    before = state(control)
    form = wire({"OrderId": str(order), "ColumnFilter": column})
    r = v3_request(endpoint, "DownloadDataTrackResult", form=form).send()
    assert_refused(r, "InvalidColumnFilter", "ColumnFilter")
    assert state(control) == before


def test_repeated_tables_and_huge_windows_are_refused(endpoint: str, control: Control) -> None:
    """Probe r09: 50 copies of one table in an 800-byte request stored a 6 MB ticket."""
    before = state(control)
    for param, names in [
        ({**TRACK, "tableNames": ["customers"] * 50}, "listed twice"),
        ({**TRACK, "tableNames": ["customers", "CUSTOMERS"]}, "listed twice"),
        ({**TRACK, "jobEndTime": "2024-03-01 00:00:00"}, "window is longer"),
        ({**TRACK, "jobEndTime": "9999-12-31 23:59:59"}, "window is longer"),
    ]:
        r = v3_request(
            endpoint, "CreateDataTrackOrder", form=wire({"Comment": "a", "Param": param})
        )
        assert_refused(r.send(), "InvalidParam", names)
    assert state(control) == before
    # the largest window still accepted: 31 days, distinct tables
    ok = {**TRACK, "jobEndTime": "2024-02-01 00:00:00", "tableNames": ["customers", "orders"]}
    r = v3_request(endpoint, "CreateDataTrackOrder", form=wire({"Comment": "a", "Param": ok}))
    assert r.send().status_code == 200


# --- invalid UTF-8 (probe r15) ------------------------------------------------------------


def export_body(comment: bytes) -> bytes:
    plugin = quote(json.dumps({"dbId": 17001, "exeSQL": "select 1"})).encode()
    return b"PluginType=DATA_EXPORT&Comment=" + comment + b"&PluginParam=" + plugin


def test_invalid_utf8_in_the_form_body_is_refused(endpoint: str, control: Control) -> None:
    before = state(control)
    r = signed_body(endpoint, "CreateOrder", export_body(b"%FF%FEabc")).send()
    assert_refused(r, "InvalidComment", "UTF-8")
    # raw (not percent-encoded) invalid bytes, and an invalid parameter name
    r = signed_body(endpoint, "CreateOrder", export_body(b"\xff\xfeabc")).send()
    assert_refused(r, "InvalidComment", "UTF-8")
    r = signed_body(endpoint, "CreateOrder", export_body(b"x") + b"&%C0%AF=1").send()
    assert_refused(r, "InvalidParameter", "UTF-8")
    assert state(control) == before
    # valid UTF-8 is stored exactly as sent
    r = signed_body(endpoint, "CreateOrder", export_body(quote("é你").encode())).send()
    assert r.status_code == 200, r.text
    order = r.json()["CreateOrderResult"]["OrderIds"][0]
    info = v3_request(endpoint, "GetOrderBaseInfo", form={"OrderId": str(order)}).send().json()
    assert info["OrderBaseInfo"]["Comment"] == "é你"


def test_invalid_utf8_in_the_query_is_refused_and_not_signed_as_replacement_text(
    endpoint: str, control: Control
) -> None:
    """F17: signing over U+FFFD used to verify whatever invalid byte was actually sent."""
    before = state(control)
    query = {"PageSize": "10", "SearchContent": "\ufffd"}
    req = v3_request(endpoint, "ListOrders", query=query)
    forged = dataclasses.replace(req, url=req.url.split("?")[0] + "?PageSize=10&SearchContent=%FF")
    assert_refused(forged.send(), "InvalidSearchContent", "UTF-8")
    assert state(control) == before


def test_invalid_utf8_in_a_header_is_refused(endpoint: str, control: Control) -> None:
    req = v3_request(endpoint, "GetUserActiveTenant")
    headers: dict[str, Any] = {**req.headers, "x-acs-signature-nonce": b"\xff\xfe" + b"n" * 8}
    r = requests.post(req.url, headers=headers, data=req.body, timeout=30)
    assert_refused(r, "InvalidParameter", "header x-acs-signature-nonce")


def test_a_signature_binds_the_utf8_bytes_of_a_header(endpoint: str, control: Control) -> None:
    """A client that signs a non-ASCII header value and sends its UTF-8 bytes is verified
    (before, the server read those bytes as latin-1 and computed another signature)."""
    nonce = "é-" + uuid.uuid4().hex
    req = v3_request(endpoint, "GetUserActiveTenant", key=DAVE, nonce=nonce)
    headers: dict[str, Any] = {**req.headers, "x-acs-signature-nonce": nonce.encode("utf-8")}
    r = requests.post(req.url, headers=headers, data=req.body, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["Tenant"]["Tid"] == 4000


def test_lone_surrogate_escapes_in_json_parameters_are_refused(
    endpoint: str, control: Control
) -> None:
    before = state(control)
    plugin = '{"dbId": 17001, "exeSQL": "select \\udcff"}'
    form = {"PluginType": "DATA_EXPORT", "Comment": "c", "PluginParam": plugin}
    assert_refused(
        v3_request(endpoint, "CreateOrder", form=form).send(), "InvalidPluginParam", "UTF-8"
    )
    for bad in ('{"dbId": 1e999}', '{"dbId": NaN}', '{"dbId": 99999999999999999999999}'):
        form = {"PluginType": "DATA_EXPORT", "Comment": "c", "PluginParam": bad}
        r = v3_request(endpoint, "CreateOrder", form=form).send()
        assert_refused(r, "InvalidPluginParam", "PluginParam")
    assert state(control) == before


def test_query_and_form_parsing_keep_their_documented_meaning(endpoint: str) -> None:
    """The strict parser reads `+`, blanks and repeated names as parse_qsl did (first wins)."""
    body = urlencode({"SearchContent": "a b"}).encode() + b"&PageSize=5&PageSize=7&Empty="
    r = signed_body(endpoint, "ListOrders", body).send()
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("depth", [600, 2000])
def test_a_deeply_nested_fault_header_is_refused(endpoint: str, depth: int) -> None:
    header = '{"type":' * depth + "1" + "}" * depth
    req = v3_request(endpoint, "GetUserActiveTenant", extra_headers={"x-emulator-fault": header})
    assert_refused(req.send(), "InvalidEmulatorFault", "x-emulator-fault")


def test_the_clock_stops_before_times_become_unrenderable(endpoint: str, control: Control) -> None:
    """Probe r14: 251 advances of 1e9 s passed year 9999 and every API call answered 500.
    The advance that would pass the latest renderable time is refused; the API keeps working."""
    refused = None
    for i in range(300):
        r = control.post("/clock/advance", {"seconds": 1e9})
        if r.status_code != 200:
            refused = (i, r)
            break
    assert refused is not None, "the clock advanced without bound"
    assert refused[1].status_code == 400 and "clock would pass" in refused[1].json()["error"]
    assert int(control.get("/clock")["now"][:4]) >= 9000  # near the end of what dates can show
    for action, version, form in [
        ("ListOrders", DMS_VERSION, {}),
        ("CreateDataTrackOrder", DMS_VERSION, wire({"Comment": "t", "Param": TRACK})),
        ("ExportRecord", SAS_VERSION, {"ExportType": "virusScanExport"}),
    ]:
        r = v3_request(endpoint, action, form=form, version=version).send()
        assert r.status_code == 200, (action, r.text)
    assert requests.get(f"http://{endpoint}/_emulator/ui/tickets", timeout=30).status_code == 200
    state: dict[str, Any] = {
        "format": "dms-emulator-state",
        "tables": {},
        "clock": {"offset": 1e300},
    }
    r = requests.put(f"http://{endpoint}/_emulator/state", json=state, timeout=30)
    assert r.status_code == 400 and "clock" in r.json()["error"], r.text
