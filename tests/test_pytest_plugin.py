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
    pytester.makeini("[pytest]\ndms_emulator_clock = real\n")
    pytester.makepyfile(
        test_ini="""
def test_clock(dms_emulator):
    assert dms_emulator.client.clock().mode == "real"
    assert dms_emulator.client.health()["status"] == "ok"
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
