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
from contract_tests.valid import fix_positive

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


def run(target, op, mode: GenerationMode) -> None:
    action = op.definition.raw["x-acs-action"]
    if action in MUTATING and not target.mutations:
        pytest.skip(f"{action} creates things on the target: pass --allow-mutations")

    @given(case=op.as_strategy(generation_mode=mode), data=st.data())
    def check(case, data) -> None:
        if mode == GenerationMode.POSITIVE:
            case.query = dict(case.query or {})
            case.body = fix_positive(action, case.query, case.body, target.tid, data)
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
        except Exception as exc:
            target.failures.append(f"{action} {mode.value}: {str(exc).splitlines()[0][:200]}")
            raise

    check()


@pytest.mark.parametrize("op", [op for _, op in OPERATIONS], ids=[a for a, _ in OPERATIONS])
def test_positive(target, op) -> None:
    run(target, op, GenerationMode.POSITIVE)


@pytest.mark.parametrize("op", [op for _, op in OPERATIONS], ids=[a for a, _ in OPERATIONS])
def test_negative(target, op) -> None:
    run(target, op, GenerationMode.NEGATIVE)
