"""specs/ validates, is up to date, agrees with the official SDK models, and catches a broken
emulator (a deliberately wrong response shape or status makes the contract checks fail)."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode

from contract_tests.specs import FILES, SPECS, raw, schema
from contract_tests.test_schemathesis import CHECKS
from contract_tests.transport import send_case
from specs.build import build, render

SDK = {
    "dms-enterprise": "alibabacloud_dms_enterprise20181101.models",
    "sas": "alibabacloud_sas20181203.models",
}


@pytest.mark.parametrize("product", sorted(FILES))
def test_spec_validates(product: str) -> None:
    validate(raw(product))


def test_spec_files_are_up_to_date() -> None:
    for name, doc in build().items():
        assert (SPECS / name).read_text(encoding="utf-8") == render(doc), (
            f"run python specs/build.py ({name})"
        )


def sample(s: dict[str, Any]) -> Any:
    """A value for every property the schema declares."""
    kind = s.get("type")
    if kind == "object":
        return {k: sample(v) for k, v in s.get("properties", {}).items()}
    if kind == "array":
        return [sample(s["items"])]
    if kind == "integer":
        return 7
    if kind == "boolean":
        return True
    return s.get("enum", ["text"])[0]


def unset_fields(model: Any, path: str = "") -> list[str]:
    """SDK fields that the sample (hence the spec) did not fill."""
    out = []
    for name, value in vars(model).items():
        if name.startswith("_"):
            continue
        if value is None:
            out.append(f"{path}{name}")
        elif hasattr(value, "to_map"):
            out += unset_fields(value, f"{path}{name}.")
        elif isinstance(value, list):
            for item in value:
                if hasattr(item, "to_map"):
                    out += unset_fields(item, f"{path}{name}[].")
    return out


@pytest.mark.parametrize("product", sorted(FILES))
def test_response_schemas_match_the_sdk_models(product: str) -> None:
    models = importlib.import_module(SDK[product])
    for path, item in raw(product)["paths"].items():
        action = path[1:]
        body_schema = item["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        doc = sample(body_schema)
        model = getattr(models, f"{action}ResponseBody")().from_map(doc)
        assert model.to_map() == doc, (
            f"{action}: the spec names a field the SDK model does not know"
        )
        assert unset_fields(model) == [], f"{action}: the SDK model has fields the spec lacks"
        request = getattr(models, f"{action}Request")()
        params = {p["name"] for p in item["post"].get("parameters", [])}
        form = (
            item["post"]
            .get("requestBody", {})
            .get("content", {})
            .get("application/x-www-form-urlencoded", {})
            .get("schema", {})
            .get("properties", {})
        )
        sdk_params = {k for k in request.to_map()} | set(_request_keys(request))
        assert params | set(form) == sdk_params, (
            f"{action}: request parameters differ from the SDK model"
        )


def _request_keys(request: Any) -> list[str]:
    """The wire names a request model writes in to_map()."""
    import inspect
    import re

    return re.findall(r"result\['(\w+)'\]", inspect.getsource(type(request).to_map))


class _Target:
    def __init__(self, url: str):
        from emulator.testing.sdk import ALICE

        self.url, self.key, self.scheme, self.tid = url, ALICE, "v3", 3000


@pytest.mark.parametrize(
    "breakage", ["wrong-type", "missing-request-id", "server-error", "top-level-code"]
)
def test_a_broken_emulator_fails_the_contract(breakage: str) -> None:
    from emulator.app import create_app
    from emulator.config import Settings
    from emulator.serving.listener import Server

    app = create_app(Settings(clock="manual"))
    registry = app.extensions["dms_gateway"].registry
    original = registry.lookup("2018-11-01", "GetUserActiveTenant")

    def broken(call: Any) -> dict[str, Any]:
        body = original.handler(call)
        if breakage == "wrong-type":
            body["Tenant"]["Tid"] = "3000"
        elif breakage == "server-error":
            raise RuntimeError("boom")
        elif breakage == "top-level-code":
            body["Code"] = "200"
        return body

    registry.add(original.product, original.action, broken)  # replaces the handler
    if breakage == "missing-request-id":
        import emulator.gateway.render as render_mod

        real = render_mod.success
        render_mod.success = lambda action, body, rid, xml: (
            json.dumps(body).encode(),
            "application/json",
        )  # type: ignore[assignment]
    server = Server(app, "127.0.0.1", 0).start()
    op = schema("dms-enterprise").find_operation_by_label("POST /GetUserActiveTenant")
    failures = []

    @settings(max_examples=5, database=None)
    @given(case=op.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def check(case: Any) -> None:
        case.query = {"Tid": 3000}
        response = send_case(case, _Target(server.url))
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # schemathesis raises failure groups
            failures.append(exc)

    try:
        check()
    finally:
        server.stop()
        app.extensions["dms_emulator"].close()
        if breakage == "missing-request-id":
            render_mod.success = real
    assert failures, f"a {breakage} response went unnoticed"
