"""Schemathesis over every operation of specs/: positive mode (documented inputs accepted,
responses conform to the schema) and negative mode (invalid inputs get a 4xx in the Alibaba
error envelope, never a 5xx). Every request is signed (see transport.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from contract_tests.specs import MUTATING, operations
from contract_tests.transport import send_case
from contract_tests.valid import fix_positive, overlay

OPERATIONS = operations()
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ENVELOPE = {"RequestId", "HostId", "Code", "Message", "Recommend"}
# a well-formed request for something that does not exist: Sas answers these with a 4xx
NOT_FOUND = {"InvalidExportId"}


def succeeded(response) -> bool:
    """A 200 that is not a business refusal (DMS answers those with `Success:false`)."""
    if response.status_code != 200:
        return False
    try:
        return response.json().get("Success") is not False
    except ValueError:
        return False


def run(target, op, mode: GenerationMode, bundles: dict | None = None) -> None:
    action = op.definition.raw["x-acs-action"]
    if action in MUTATING and not target.mutations:
        pytest.skip(f"{action} creates things on the target: pass --allow-mutations")

    if mode == GenerationMode.POSITIVE:
        target.attempted.add(action)

    @given(case=op.as_strategy(generation_mode=mode), data=st.data())
    def check(case, data) -> None:
        if mode == GenerationMode.POSITIVE:
            case.query = dict(case.query or {})
            case.body = fix_positive(action, case.query, case.body, target.tid, data)
            overlay(action, case.query, case.body, bundles or {}, data)
        response = send_case(case, target)
        target.covered.add(action)
        target.report[f"{mode.value} requests"] += 1
        try:
            case.validate_response(response, checks=CHECKS)
            target.report["schema/status/content-type checks"] += len(CHECKS)
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                assert set(response.json()) == ENVELOPE, response.text
            if mode == GenerationMode.POSITIVE and response.status_code != 200:
                assert response.json().get("Code") in NOT_FOUND, response.text
            if mode == GenerationMode.POSITIVE and succeeded(response):
                target.succeeded.add(action)
        except Exception as exc:
            target.failures.append(f"{action} {mode.value}: {str(exc).splitlines()[0][:200]}")
            raise

    check()


@pytest.mark.parametrize("op", [op for _, op in OPERATIONS], ids=[a for a, _ in OPERATIONS])
def test_positive(target, seeds, op) -> None:
    run(target, op, GenerationMode.POSITIVE, seeds)


@pytest.mark.parametrize("op", [op for _, op in OPERATIONS], ids=[a for a, _ in OPERATIONS])
def test_negative(target, op) -> None:
    run(target, op, GenerationMode.NEGATIVE)


# Operations whose success needs a ticket in one particular state at the moment of the call (a
# seed would be used up by the first example): the named suite drives them there instead.
# (the mark it leaves in target.covered, the test that leaves it)
SUCCESS_ELSEWHERE = {
    "SubmitOrderApproval": ("stateful:tickets", "test_lifecycles_state_machine"),
    "ApproveOrder": ("stateful:tickets", "test_lifecycles_state_machine"),
    "ExecuteDataExport": ("sdk:ExecuteDataExport", "test_data_export_round_trip"),
    # instances helper: success needs a server the target reaches (test_instances_contract.py)
    "SimplyAddInstance": ("sdk:SimplyAddInstance", "test_instance_registration_round_trip"),
    "DeleteInstance": ("sdk:DeleteInstance", "test_instance_registration_round_trip"),
    # an approved data change: the data-change state machine executes them
    "ExecuteDataCorrect": ("stateful:datachange", "test_data_change_state_machine"),
}


def test_every_operation_is_exercised(target, request) -> None:
    """Every operation of specs/ ran in positive mode and got a successful answer at least once
    (or is driven to success by the suite SUCCESS_ELSEWHERE names); runs last (conftest)."""
    collected = {
        item.callspec.params["op"].definition.raw["x-acs-action"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_positive"
    }
    everything = {a for a, _ in OPERATIONS}
    if collected != everything:
        pytest.skip("only part of the schemathesis suite was selected")
    allowed_skip = set() if target.mutations else MUTATING
    assert everything - target.attempted <= allowed_skip, sorted(everything - target.attempted)
    selected = {item.name for item in request.session.items}

    def elsewhere(action: str) -> bool:
        mark, test = SUCCESS_ELSEWHERE.get(action, ("", ""))
        return bool(mark) and (mark in target.covered or test not in selected)

    never = {a for a in target.attempted - target.succeeded if not elsewhere(a)}
    assert not never, (
        f"positive mode never got a successful answer from {sorted(never)}: give it valid "
        "parameters (contract_tests/valid.py) or real ids (contract_tests/seeds.py)"
    )
