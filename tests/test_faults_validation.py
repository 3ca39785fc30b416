"""POST /_emulator/faults refuses match values of the wrong type, naming the field.

A wrong-typed value (an action given as a list, a tid as a string, a product misspelt) would
never match anything: the rule would sit there and the test relying on it would pass or fail
for the wrong reason. Real sockets to a real emulator process (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from emulator.gateway.registry import DMS, SAS
from emulator.testing.process import Control

LATENCY = {"type": "latency", "ms": 1}


@pytest.mark.parametrize(
    "match, field",
    [
        ({"action": ["ListOrders"]}, "match.action"),
        ({"action": 5}, "match.action"),
        ({"action": ""}, "match.action"),
        ({"product": "dms"}, "match.product"),
        ({"product": {"name": "sas"}}, "match.product"),
        ({"access_key_id": None}, "match.access_key_id"),
        ({"access_key_id": 123}, "match.access_key_id"),
        ({"tid": "3000"}, "match.tid"),
        ({"tid": True}, "match.tid"),
        ({"order_id": 1.5}, "match.order_id"),
        ({"nth": 0}, "match.nth"),
        ({"nth": "2"}, "match.nth"),
        ({"params": ["PluginType"]}, "match.params"),
        ({"params": {"PluginType": ["DATA_EXPORT"]}}, "match.params.PluginType"),
        ({"params": {"Tid": True}}, "match.params.Tid"),
        ({"params": {"PageSize": 1.5}}, "match.params.PageSize"),
        ({"params": {"Comment": None}}, "match.params.Comment"),
    ],
)
def test_a_wrong_typed_match_value_gets_400_naming_the_field(
    control: Control, match: dict[str, Any], field: str
) -> None:
    r = control.post("/faults", {"match": match, "effect": LATENCY})
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(field + ":"), r.text
    assert control.get("/faults")["faults"] == []


def test_well_typed_match_values_are_kept(control: Control) -> None:
    """The oracle for product names is the gateway's registry, not the engine's own list."""
    match = {
        "product": SAS.name,
        "action": "DescribeExportInfo",
        "access_key_id": "LTAI5tDemoAlice00000001",
        "tid": 3000,
        "order_id": 7,
        "nth": 1,
        "params": {"ExportId": 7, "Lang": "zh"},
    }
    r = control.post("/faults", {"match": match, "effect": LATENCY})
    assert r.status_code == 201, r.text
    r = control.post("/faults", {"match": {"product": DMS.name}, "effect": LATENCY})
    assert r.status_code == 201, r.text
    assert [f["match"] for f in control.get("/faults")["faults"]] == [match, {"product": DMS.name}]
