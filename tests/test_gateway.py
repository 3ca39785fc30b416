"""The gateway's error vocabulary, each error provoked through a real socket."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models
from alibabacloud_tea_openapi.exceptions import ClientException
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import ALICE, SAS_VERSION, dms, utc_stamp, v1_request, v3_request

ENVELOPE = {"RequestId", "HostId", "Code", "Message", "Recommend"}


def assert_error(r: requests.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    doc = r.json()
    assert set(doc) == ENVELOPE, doc
    assert doc["Code"] == code, doc
    assert r.headers["Content-Type"].startswith("application/json")
    return doc


def test_unknown_access_key_is_404(endpoint: str) -> None:
    r = v3_request(endpoint, "GetUserActiveTenant", key=("LTAInobody", "x")).send()
    assert_error(r, 404, "InvalidAccessKeyId.NotFound")
    r = v1_request(endpoint, "GetUserActiveTenant", key=("LTAInobody", "x")).send()
    assert_error(r, 404, "InvalidAccessKeyId.NotFound")


@pytest.mark.parametrize("offset", [-16 * 60, 16 * 60])
def test_timestamp_outside_15_minutes_expires(endpoint: str, offset: int) -> None:
    assert_error(
        v3_request(endpoint, "GetUserActiveTenant", date=utc_stamp(offset)).send(),
        400,
        "InvalidTimeStamp.Expired",
    )
    assert_error(
        v1_request(endpoint, "GetUserActiveTenant", timestamp=utc_stamp(offset)).send(),
        400,
        "InvalidTimeStamp.Expired",
    )


def test_timestamp_within_window_and_with_milliseconds_is_accepted(endpoint: str) -> None:
    assert (
        v3_request(endpoint, "GetUserActiveTenant", date=utc_stamp(-14 * 60)).send().status_code
        == 200
    )
    assert (
        v1_request(endpoint, "GetUserActiveTenant", timestamp=utc_stamp(millis=True))
        .send()
        .status_code
        == 200
    )


def test_badly_formatted_timestamp(endpoint: str) -> None:
    assert_error(
        v1_request(endpoint, "GetUserActiveTenant", timestamp="yesterday").send(),
        400,
        "InvalidTimeStamp.Format",
    )
    assert_error(
        v3_request(endpoint, "GetUserActiveTenant", date="2026/11/22 10:00").send(),
        400,
        "InvalidTimeStamp.Format",
    )


def test_replayed_request_is_refused(endpoint: str) -> None:
    v3 = v3_request(endpoint, "GetUserActiveTenant")
    assert v3.send().status_code == 200
    assert_error(v3.send(), 400, "SignatureNonceUsed")
    v1 = v1_request(endpoint, "GetUserActiveTenant", method="POST")
    assert v1.send().status_code == 200
    assert_error(v1.send(), 400, "SignatureNonceUsed")


def test_nonce_of_a_failed_signature_is_not_burnt(endpoint: str) -> None:
    nonce = uuid.uuid4().hex
    bad = v1_request(endpoint, "GetUserActiveTenant", nonce=nonce, secret="wrong")
    assert_error(bad.send(), 400, "SignatureDoesNotMatch")
    assert v1_request(endpoint, "GetUserActiveTenant", nonce=nonce).send().status_code == 200


def test_nonce_capacity_forgets_the_oldest_first() -> None:
    """`--nonce-capacity 3`: a fourth nonce pushes the first out (it may be replayed, the
    price of a bounded store), while the three newest are still refused."""
    with EmulatorProcess("--clock", "manual", "--nonce-capacity", "3") as proc:
        ep = proc.endpoint
        sent = [v3_request(ep, "GetUserActiveTenant", nonce=f"cap-{i}") for i in range(4)]
        assert [r.send().status_code for r in sent] == [200] * 4
        for req in sent[1:]:
            assert_error(req.send(), 400, "SignatureNonceUsed")
        again = v3_request(ep, "GetUserActiveTenant", nonce="cap-0")
        assert again.send().status_code == 200, "the oldest nonce was dropped at capacity"


def test_default_nonce_store_expires_entries_after_the_window() -> None:
    """The one-process store forgets a nonce once its 15-minute window has passed, so memory
    holds only live nonces (a replay that late is refused by the timestamp check anyway)."""
    from emulator.app import create_app
    from emulator.config import Settings

    app = create_app(Settings(clock="manual"))
    try:
        nonces = app.extensions["dms_emulator"].nonces
        assert all(nonces.check_and_record("ak", f"n{i}", now=1000.0) for i in range(50))
        assert not nonces.check_and_record("ak", "n0", now=1000.0 + 899), "still in its window"
        assert len(nonces) == 50
        assert nonces.check_and_record("ak", "late", now=1000.0 + 901)
        assert len(nonces) == 1, "expired nonces are dropped, not only ignored"
        assert nonces.check_and_record("ak", "n0", now=1000.0 + 902), "an expired nonce is new"
    finally:
        app.extensions["dms_emulator"].close()


def test_wrong_secret_v3_message_ends_with_string_to_sign(endpoint: str, control: Control) -> None:
    with pytest.raises(ClientException) as exc:
        dms(endpoint, (ALICE[0], "not-the-secret")).get_user_active_tenant(
            models.GetUserActiveTenantRequest()
        )
    assert exc.value.code == "SignatureDoesNotMatch" and exc.value.status_code == 400
    message = exc.value.data["Message"]
    prefix = "Specified signature is not matched with our calculation. server string to sign is:"
    assert message.startswith(prefix)
    sts = message[len(prefix) :]
    assert sts.startswith("ACS3-HMAC-SHA256\n") and len(sts.split("\n")[1]) == 64
    entry = control.journal(code="SignatureDoesNotMatch")[-1]
    assert entry["string_to_sign"] == sts and entry["canonical_request"].startswith("POST\n/\n")


def test_wrong_secret_legacy_sdk_sees_its_own_string_to_sign(endpoint: str) -> None:
    client = AcsClient(ALICE[0], "not-the-secret", "cn-hangzhou")
    req = CommonRequest(
        domain=endpoint,
        version="2018-11-01",
        action_name="GetUserActiveTenant",
        product="dms-enterprise",
    )
    req.set_protocol_type("http")
    with pytest.raises(ServerException) as exc:
        client.do_action_with_exception(req)
    assert exc.value.get_error_code() == "SignatureDoesNotMatch"
    assert exc.value.get_http_status() == 400
    assert "server string to sign is:GET&%2F&AccessKeyId%3D" in exc.value.get_error_msg()


def test_tampered_body_fails_signature(endpoint: str) -> None:
    prepared = v3_request(
        endpoint, "GetDataExportOrderDetail", query={"Tid": "3000"}, form={"OrderId": "1"}
    )
    prepared.body = b"OrderId=2"
    assert_error(prepared.send(), 400, "SignatureDoesNotMatch")


def test_content_sha256_must_match_body(endpoint: str) -> None:
    prepared = v3_request(
        endpoint, "GetDataExportOrderDetail", form={"OrderId": "1"}, signed_body=b"other"
    )
    assert_error(prepared.send(), 400, "SignatureDoesNotMatch")


def test_incomplete_signatures(endpoint: str) -> None:
    r = requests.post(
        f"http://{endpoint}/?Action=GetUserActiveTenant&Version=2018-11-01", timeout=5
    )
    assert_error(r, 400, "IncompleteSignature")
    r = requests.post(
        f"http://{endpoint}/",
        headers={
            "x-acs-action": "GetUserActiveTenant",
            "x-acs-version": "2018-11-01",
            "Authorization": "ACS3-HMAC-SHA256 Credential=AK",
        },
        timeout=5,
    )
    assert_error(r, 400, "IncompleteSignature")
    prepared = v3_request(endpoint, "GetUserActiveTenant")
    prepared.headers["x-acs-security-token"] = "unsigned-token"
    assert_error(prepared.send(), 400, "IncompleteSignature")


def test_unsupported_signature_method(endpoint: str) -> None:
    r = requests.post(
        f"http://{endpoint}/",
        headers={
            "x-acs-action": "GetUserActiveTenant",
            "x-acs-version": "2018-11-01",
            "Authorization": "ACS3-HMAC-SM3 Credential=AK,SignedHeaders=host,Signature=00",
        },
        timeout=5,
    )
    assert_error(r, 400, "InvalidSignatureMethod")


def test_missing_signature_params_v1(endpoint: str) -> None:
    prepared = v1_request(endpoint, "GetUserActiveTenant")
    url = prepared.url.replace("SignatureNonce=", "X=")
    assert_error(requests.get(url, timeout=5), 400, "MissingSignatureNonce")


def test_unknown_action_is_404_and_bad_version_400(endpoint: str) -> None:
    assert_error(v3_request(endpoint, "DeleteEverything").send(), 404, "InvalidAction.NotFound")
    assert_error(
        v3_request(endpoint, "CreateOrder", version=SAS_VERSION).send(),
        404,
        "InvalidAction.NotFound",
    )
    assert_error(
        v3_request(endpoint, "CreateOrder", version="2001-01-01").send(), 400, "InvalidVersion"
    )
    r = requests.get(f"http://{endpoint}/?Version=2018-11-01", timeout=5)
    assert_error(r, 400, "MissingAction")


def test_missing_and_invalid_parameters(endpoint: str) -> None:
    with pytest.raises(ClientException) as exc:
        dms(endpoint).get_data_export_order_detail(models.GetDataExportOrderDetailRequest(tid=3000))
    assert exc.value.code == "MissingOrderId" and exc.value.status_code == 400
    assert exc.value.data["Message"] == "OrderId is mandatory for this action."
    r = v3_request(endpoint, "GetDataExportOrderDetail", form={"OrderId": "12abc"}).send()
    doc = assert_error(r, 400, "InvalidOrderId")
    assert doc["Message"].startswith("Specified parameter OrderId is not valid.")
    r = v3_request(endpoint, "ListOrders", query={"PageSize": "100000"}).send()
    assert_error(r, 400, "InvalidPageSize")


def test_xml_format(endpoint: str) -> None:
    ok = v1_request(endpoint, "GetUserActiveTenant", params={"Format": "XML"}).send()
    assert ok.status_code == 200 and ok.headers["Content-Type"] == "text/xml;charset=utf-8"
    root = ET.fromstring(ok.content)
    assert root.tag == "GetUserActiveTenantResponse"
    assert root.findtext("Tenant/Tid") == "3000" and root.findtext("Success") == "true"
    assert root.findtext("RequestId") == ok.headers["x-acs-request-id"]
    err = v1_request(endpoint, "GetDataExportOrderDetail", params={"Format": "XML"}).send()
    assert err.status_code == 400 and err.headers["Content-Type"] == "text/xml;charset=utf-8"
    root = ET.fromstring(err.content)
    assert root.tag == "Error" and root.findtext("Code") == "MissingOrderId"
    assert {c.tag for c in root} == ENVELOPE


def test_xml_error_parsed_by_sdk(endpoint: str) -> None:
    """tea-openapi parses <Error> only with exactly text/xml;charset=utf-8: prove ours parses."""
    from alibabacloud_tea_openapi.models import OpenApiRequest, Params
    from darabonba.runtime import RuntimeOptions

    client = dms(endpoint)
    params = Params(
        action="GetDataExportOrderDetail",
        version="2018-11-01",
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    with pytest.raises(ClientException) as exc:
        client.call_api(params, OpenApiRequest(query={"Format": "XML"}), RuntimeOptions())
    assert exc.value.code == "MissingOrderId"


def test_sts_token_accepted_when_signed(endpoint: str) -> None:
    client = dms(endpoint, security_token="sts-token-value")
    body = client.get_user_active_tenant(models.GetUserActiveTenantRequest()).body
    assert body.success and body.tenant.tid == 3000
    legacy = v1_request(endpoint, "GetUserActiveTenant", params={"SecurityToken": "tok"}).send()
    assert legacy.status_code == 200


def test_bearer_tokens_are_refused(endpoint: str) -> None:
    r = requests.post(
        f"http://{endpoint}/?SignatureType=BEARERTOKEN",
        headers={
            "x-acs-action": "GetUserActiveTenant",
            "x-acs-version": "2018-11-01",
            "x-acs-bearer-token": "bt",
        },
        timeout=5,
    )
    assert_error(r, 400, "InvalidSignatureMethod")


def test_other_paths_answer_in_the_envelope(endpoint: str) -> None:
    assert_error(
        requests.get(f"http://{endpoint}/nowhere", timeout=5), 404, "InvalidAction.NotFound"
    )


def test_no_success_body_has_top_level_code(endpoint: str) -> None:
    for action in ("GetUserActiveTenant", "ListUserTenants", "ListOrders"):
        r = v3_request(endpoint, action).send()
        assert r.status_code == 200 and "Code" not in r.json() and r.json()["RequestId"]


def test_chunked_form_body(endpoint: str) -> None:
    prepared = v3_request(
        endpoint, "GetDataExportOrderDetail", query={"Tid": "3000"}, form={"OrderId": "777"}
    )
    body = prepared.body

    def chunks():
        yield body[:3]
        yield body[3:]

    r = requests.post(prepared.url, headers=prepared.headers, data=chunks(), timeout=5)
    assert r.status_code == 200, r.text
    assert r.json()["Success"] is False and r.json()["ErrorCode"] == "OrderNotExist"


@pytest.mark.parametrize(
    "version, action, code",
    [
        ("2018-11-01", "ListUserTenants", "InternalError"),
        ("2018-12-03", "DescribeExportInfo", "ServerError"),
    ],
)
def test_unexpected_exception_is_internal_error_without_traceback(
    version: str, action: str, code: str
) -> None:
    """A handler bug becomes a 500 InternalError envelope; the server keeps serving."""
    from emulator.app import create_app
    from emulator.config import Settings
    from emulator.serving.listener import Server

    app = create_app(Settings(clock="manual"))
    registry = app.extensions["dms_gateway"].registry

    def broken(call: Any) -> dict[str, Any]:
        raise RuntimeError("secret internals")

    op = registry.lookup(version, action)
    registry.add(op.product, op.action, broken)  # a later add replaces the handler
    server = Server(app, "127.0.0.1", 0).start()
    try:
        r = v3_request(f"127.0.0.1:{server.port}", action, version=version).send()
        doc = assert_error(r, 500, code)
        assert "secret internals" not in r.text and "Traceback" not in r.text and doc["RequestId"]
        assert (
            v3_request(f"127.0.0.1:{server.port}", "GetUserActiveTenant").send().status_code == 200
        )
    finally:
        server.stop()
        app.extensions["dms_emulator"].close()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_legacy_core_sdk_get_and_post_with_body_params(endpoint: str, method: str) -> None:
    client = AcsClient(ALICE[0], ALICE[1], "cn-hangzhou")
    req = CommonRequest(
        domain=endpoint, version="2018-11-01", action_name="CreateOrder", product="dms-enterprise"
    )
    req.set_protocol_type("http")
    req.set_method(method)
    req.add_query_param("Tid", "3000")
    req.add_query_param("PluginType", "NDDL")
    req.add_query_param("Comment", "legacy client, ünïcode & spaces")
    param = '{"title": "t", "dbId": 17001}'
    if method == "POST":
        req.add_body_params("PluginParam", param)
    else:
        req.add_query_param("PluginParam", param)
    import json as _json

    body = _json.loads(client.do_action_with_exception(req))
    assert body["Success"] is True and body["CreateOrderResult"]["OrderIds"]


def test_tea_sdk_v1_signatures_with_form_bodies(endpoint: str) -> None:
    client = dms(endpoint, signature_algorithm="v2")
    created = client.create_order(
        models.CreateOrderRequest(
            plugin_type="DATA_EXPORT",
            comment="v1 please",
            plugin_param={"dbId": 17001, "exeSQL": "select 1"},
        )
    ).body
    assert created.success
    order_id = created.create_order_result.order_ids[0]
    detail = client.get_data_export_order_detail(
        models.GetDataExportOrderDetailRequest(order_id=order_id)
    ).body
    assert detail.success and detail.data_export_order_detail.order_detail.exe_sql == "select 1"
