"""The request journal as tests use it: what was called (parameters, secrets redacted) and
answered (bounded bodies), counts and ordered verification with near misses, and the byte
bounds that keep an unauthenticated caller from filling memory (probe findings F4, F12).
Through real sockets with the official SDK and the control client."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from urllib.parse import quote

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models

from emulator.admin.client import EmulatorClient
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import ALICE, dms, utc_stamp, v1_request, v3_request


def rss_mb(pid: int) -> float:
    return int(subprocess.check_output(["ps", "-o", "rss=", "-p", str(pid)])) / 1024


def create_export(endpoint: str, sql: str = "select * from products") -> int:
    body = (
        dms(endpoint)
        .create_order(
            models.CreateOrderRequest(
                plugin_type="DATA_EXPORT",
                comment="journal <test> & more",
                plugin_param={"dbId": 17001, "exeSQL": sql},
            )
        )
        .body
    )
    return int(body.create_order_result.order_ids[0])


def test_entries_carry_parameters_and_the_answer_without_secrets(
    endpoint: str, control: Control
) -> None:
    client = EmulatorClient(control.url)
    order_id = create_export(endpoint)
    control.advance(60)
    sdk = dms(endpoint)
    sdk.get_data_export_order_detail(models.GetDataExportOrderDetailRequest(order_id=order_id))
    url = sdk.get_data_export_download_url(
        models.GetDataExportDownloadURLRequest(order_id=order_id)
    ).body.download_urlresult.url
    signature = url.split("Signature=")[1].split("&")[0]
    v1 = v1_request(endpoint, "ListOrders", {"PageSize": "5"}).send()
    assert v1.status_code == 200

    create = client.requests(action="CreateOrder")[-1]
    assert create["params"]["PluginType"] == "DATA_EXPORT"
    assert json.loads(create["params"]["PluginParam"])["exeSQL"] == "select * from products"
    answer = json.loads(create["response_body"])
    assert answer["CreateOrderResult"]["OrderIds"] == [order_id] and answer["Success"] is True
    detail = client.requests(action="GetDataExportOrderDetail")[-1]
    assert detail["params"]["OrderId"] == str(order_id) and "latency_ms" in detail
    link = client.requests(action="GetDataExportDownloadURL")[-1]
    assert (
        signature not in link["response_body"]
        and "Signature=***redacted***" in link["response_body"]
    )
    listed = client.requests(action="ListOrders")[-1]
    assert listed["params"]["PageSize"] == "5" and listed["params"]["Signature"] == "***redacted***"
    everything = (
        json.dumps(client.requests())
        + requests.get(f"{control.url}/_emulator/ui/requests", timeout=10).text
    )
    assert signature not in everything and quote(signature) not in everything
    assert ALICE[1] not in everything
    page = requests.get(
        f"{control.url}/_emulator/ui/requests",
        params={"param": f"OrderId={order_id}"},
        timeout=10,
    ).text
    assert page.count('class="entry"') == 2  # the detail poll and the download link
    assert "<details" in page and "journal &lt;test&gt; &amp; more" not in page


def test_long_values_are_cut_with_a_marker(endpoint: str, control: Control) -> None:
    long = "x" * 5000
    v3_request(endpoint, "ListOrders", form={"SearchContent": long, "PageSize": "1"}).send()
    entry = EmulatorClient(control.url).requests(action="ListOrders")[-1]
    value = entry["params"]["SearchContent"]
    assert len(value) <= 1024 and value.endswith("…[truncated: 5000 bytes in all]")
    assert entry["params"]["PageSize"] == "1"


def test_count_and_parameter_matches(endpoint: str, control: Control) -> None:
    client = EmulatorClient(control.url)
    a, b = create_export(endpoint), create_export(endpoint)
    sdk = dms(endpoint)
    for order_id, polls in ((a, 3), (b, 1)):
        for _ in range(polls):
            sdk.get_data_export_order_detail(
                models.GetDataExportOrderDetailRequest(order_id=order_id)
            )
    assert client.count("GetDataExportOrderDetail") == 4
    assert client.count("GetDataExportOrderDetail", params={"OrderId": a}) == 3
    assert client.count("GetDataExportOrderDetail", params={"OrderId": b}, tid=3000) == 1
    assert client.count("GetDataExportOrderDetail", tid=4000) == 0
    assert client.count("CreateOrder", params={"PluginParam.dbId": 17001}) == 2
    r = requests.get(
        f"{control.url}/_emulator/requests/count",
        params={"action": "GetDataExportOrderDetail", "param.OrderId": str(a)},
        timeout=5,
    )
    assert r.json() == {"count": 3}
    assert (
        requests.get(f"{control.url}/_emulator/requests/count?tid=x", timeout=5).status_code == 400
    )


def test_verify_an_ordered_sequence_and_its_near_misses(endpoint: str, control: Control) -> None:
    client = EmulatorClient(control.url)
    order_id = create_export(endpoint)
    control.advance(60)
    sdk = dms(endpoint)
    for _ in range(2):
        sdk.get_data_export_order_detail(models.GetDataExportOrderDetailRequest(order_id=order_id))
    sdk.get_data_export_download_url(models.GetDataExportDownloadURLRequest(order_id=order_id))

    ok = client.verify(
        [
            {"action": "CreateOrder", "params": {"PluginType": "DATA_EXPORT"}, "times": 1},
            {"action": "GetDataExportOrderDetail", "params": {"OrderId": order_id}, "times": 2},
            {"action": "GetDataExportDownloadURL", "times": 1},
        ]
    )
    assert ok["ok"] is True and [len(m) for m in ok["matched"]] == [1, 2, 1]

    wrong_times = client.verify(
        [
            {"action": "GetDataExportOrderDetail", "times": 3},
            {"action": "GetDataExportDownloadURL"},
        ]
    )
    assert wrong_times["ok"] is False and wrong_times["failed"]["index"] == 0
    assert wrong_times["failed"]["found"] == 2

    wrong_order = client.verify(
        [{"action": "GetDataExportDownloadURL"}, {"action": "GetDataExportOrderDetail"}]
    )
    assert wrong_order["ok"] is False and wrong_order["failed"]["index"] == 1

    wrong_param = client.verify(
        [{"action": "GetDataExportOrderDetail", "params": {"OrderId": order_id + 1}}]
    )
    assert wrong_param["failed"]["found"] == 0
    nearest = wrong_param["near_misses"][0]
    assert nearest["action"] == "GetDataExportOrderDetail"
    assert nearest["differences"] == [f"param OrderId: expected {order_id + 1}, got {order_id}"]

    with pytest.raises(AssertionError) as exc:
        client.assert_called("GetDataExportOrderDetail", times=1, OrderId=order_id)
    text = str(exc.value)
    assert "expected 1 time(s), found 2" in text and "nearest calls in the journal" in text
    client.assert_called("GetDataExportOrderDetail", times=2, OrderId=order_id)
    client.assert_called("GetDataExportDownloadURL")
    with pytest.raises(AssertionError, match="ListOrders.*found 0"):
        client.assert_called("ListOrders")
    bad = requests.post(
        f"{control.url}/_emulator/requests/verify", json={"expect": [{"acton": "X"}]}, timeout=5
    )
    assert bad.status_code == 400 and bad.json()["error"].startswith("expect[0].acton")


def test_journal_bytes_stay_in_the_budget() -> None:
    """F4: a 16 MiB body with a bad signature made a 16.8 MB entry and a 16.8 MB answer."""
    with EmulatorProcess("--clock", "manual", "--journal-bytes", "300000") as proc:
        stamp = quote(utc_stamp(), safe="")
        body = (
            "Action=ListOrders&Version=2018-11-01&AccessKeyId=LTAI5tDemoAlice00000001"
            "&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=x&Timestamp="
            + stamp
            + "&Signature=bogus&X="
            + "a" * (8 * 1024 * 1024)
        ).encode()
        for _ in range(12):
            r = requests.post(
                f"http://{proc.endpoint}/",
                data=body,
                headers={"content-type": "application/x-www-form-urlencoded"},
                timeout=60,
            )
            assert r.status_code == 400 and r.json()["Code"] == "SignatureDoesNotMatch"
            assert len(r.content) < 20_000, "the echoed string to sign is bounded"
            assert "…[truncated: " in r.json()["Message"]
        entries = EmulatorClient(proc.url).requests()
        sts = entries[-1]["string_to_sign"]
        assert len(sts) <= 8192 and "…[truncated: " in sts
        assert len(json.dumps(entries)) < 2 * 300_000
        for i in range(300):  # many small entries: the oldest go once the budget is spent
            v3_request(proc.endpoint, "ListOrders", form={"SearchContent": f"{i}" * 500}).send()
        kept = EmulatorClient(proc.url).requests()
        assert 50 < len(kept) < 300 and len(json.dumps(kept)) < 2 * 300_000
        assert kept[-1]["params"]["SearchContent"].startswith("299")
        # what the process keeps is the journal (above); its RSS after such requests is the
        # allocator's working set of one 8 MiB request, not a sum over requests


def test_nonces_cost_bytes_of_a_digest() -> None:
    """F12: 1500 nonces of 200 KB took 290 MB; the store keeps fixed-size digests."""
    with EmulatorProcess("--clock", "manual") as proc:
        ep = proc.endpoint
        v3_request(ep, "GetUserActiveTenant").send()
        before = rss_mb(proc.proc.pid)  # type: ignore[union-attr]
        session = requests.Session()
        for _ in range(600):
            p = v3_request(ep, "GetUserActiveTenant", nonce=uuid.uuid4().hex + "n" * 200_000)
            assert (
                session.post(p.url, headers=p.headers, data=p.body, timeout=30).status_code == 200
            )
        grown = rss_mb(proc.proc.pid) - before  # type: ignore[union-attr]
        assert grown < 40, f"RSS grew {grown:.0f} MB for 600 long nonces"
        replay = v3_request(ep, "GetUserActiveTenant", nonce="n" * 100_000)
        assert replay.send().status_code == 200
        assert replay.send().json()["Code"] == "SignatureNonceUsed", "replay still refused"
        time.sleep(0)


def test_worker_processes_share_one_bounded_journal() -> None:
    """--workers keeps the journal in a shared-memory ring: same entries, same byte budget."""
    with EmulatorProcess("--clock", "manual", "--workers", "2", "--journal-bytes", "65536") as proc:
        client = EmulatorClient(proc.url)
        for i in range(450):
            v3_request(proc.endpoint, "ListOrders", form={"SearchContent": f"{i:03d}" * 200}).send()
        kept = client.requests()
        assert 10 < len(kept) < 450
        assert kept[-1]["params"]["SearchContent"].startswith("449")
        assert client.count("ListOrders", params={"SearchContent": "449" * 200}) == 1
        assert len(json.dumps(kept)) < 65536 + 200 * 1500, "trimmed to the budget every 200 writes"
