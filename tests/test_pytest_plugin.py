"""The pytest plugin, exercised with pytester in a real pytest run (subprocess)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import pytest
from alibabacloud_dms_enterprise20181101.client import Client
from alibabacloud_dms_enterprise20181101 import models


def test_export_reaches_success(dms_emulator):
    client = Client(dms_emulator.config())
    order = client.create_order(models.CreateOrderRequest(
        plugin_type="DATA_EXPORT", comment="plugin", plugin_param={"dbId": 17001, "exeSQL": "select 1"}))
    order_id = order.body.create_order_result.order_ids[0]
    assert dms_emulator.client.clock().mode == "manual"
    dms_emulator.client.advance(60)
    detail = client.get_data_export_order_detail(models.GetDataExportOrderDetailRequest(order_id=order_id))
    assert detail.body.data_export_order_detail.key_info.job_status == "EXPORT_SUCCESS"


def test_each_test_starts_clean(dms_emulator):
    client = Client(dms_emulator.config(user="bob"))
    assert client.list_orders(models.ListOrdersRequest()).body.total_count == 0


@pytest.mark.dms_emulator(scenario="throttled-polling")
def test_scenario_marker(dms_emulator):
    from alibabacloud_tea_openapi.exceptions import ThrottlingException
    client = Client(dms_emulator.config())
    with pytest.raises(ThrottlingException):
        client.get_data_export_order_detail(models.GetDataExportOrderDetailRequest(order_id=1))


def test_scenario_does_not_leak(dms_emulator):
    assert dms_emulator.client.faults() == []


@pytest.mark.dms_emulator(clock="real")
def test_clock_marker_gets_its_own_emulator(dms_emulator):
    assert dms_emulator.client.clock().mode == "real"
"""


def test_plugin_fixture_markers_and_reset(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=5)


def test_plugin_options_from_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ndms_emulator_clock = real\ndms_emulator_control_token = t0k\n")
    pytester.makepyfile(
        test_ini="""
import requests

def test_clock(dms_emulator):
    assert dms_emulator.client.clock().mode == "real"
    assert dms_emulator.client.health()["status"] == "ok"
    assert dms_emulator.client.health()["control_token"] is True
    assert requests.get(dms_emulator.url + "/_emulator/health", timeout=5).status_code == 401
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_plugin_reports_a_failing_user_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fail="""
def test_wrong(dms_emulator):
    assert dms_emulator.client.faults() == ["something"]
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1)


VERIFY_TESTS = """
from alibabacloud_dms_enterprise20181101.client import Client
from alibabacloud_dms_enterprise20181101 import models


def poll(dms_emulator, times):
    client = Client(dms_emulator.config())
    order_id = client.create_order(models.CreateOrderRequest(
        plugin_type="DATA_EXPORT", comment="v", plugin_param={"dbId": 17001, "exeSQL": "select 1"}
    )).body.create_order_result.order_ids[0]
    for _ in range(times):
        client.get_data_export_order_detail(models.GetDataExportOrderDetailRequest(order_id=order_id))
    return order_id


def test_verified(dms_emulator):
    order_id = poll(dms_emulator, 2)
    dms_emulator.assert_called("CreateOrder", times=1, PluginType="DATA_EXPORT")
    dms_emulator.assert_called("GetDataExportOrderDetail", times=2, OrderId=order_id)
    assert dms_emulator.count("GetDataExportOrderDetail", params={"OrderId": order_id}) == 2
    dms_emulator.assert_sequence([{"action": "CreateOrder"}, {"action": "GetDataExportOrderDetail", "times": 2}])


def test_too_many_polls(dms_emulator):
    order_id = poll(dms_emulator, 3)
    dms_emulator.assert_called("GetDataExportOrderDetail", times=2, OrderId=order_id)
"""


def test_plugin_verification_with_readable_messages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_verify=VERIFY_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: expectation 1 of 1, GetDataExportOrderDetail(OrderId=*) x2: "
            "expected 2 time(s), found 3*",
            "*nearest calls in the journal:*",
        ]
    )
