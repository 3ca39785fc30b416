"""Loading the specs in specs/ for the contract tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import schemathesis

SPECS = Path(__file__).resolve().parent.parent / "specs"
FILES = {
    "dms-enterprise": "dms-enterprise-2018-11-01.openapi.json",
    "sas": "sas-2018-12-03.openapi.json",
}
# actions that create or change something on the target
MUTATING = {
    "CreateOrder",
    "CreateDataExportOrder",
    "SubmitOrderApproval",
    "ApproveOrder",
    "ExecuteDataExport",
    "CreateDataTrackOrder",
    "DownloadDataTrackResult",
    "ExportRecord",
    # users (issue 13): the ADMIN's writes
    "RegisterUser",
    "UpdateUser",
    "DisableUser",
    "EnableUser",
    "DeleteUser",
    # instances (issue 13): registrations change the tenant's instances
    "RegisterInstance",
    "AddInstance",
    "SimplyAddInstance",
    "SyncInstanceMeta",
    "DeleteInstance",
    # the SQL console runs DML for an ADMIN (helper console)
    "ExecuteScript",
    # data-change tickets run their SQL (helper datachange)
    "CreateDataCorrectOrder",
    "RetryDataCorrectPreCheck",
    "ExecuteDataCorrect",
    "CloseOrder",
    "ExportVul",
    "ExportWarning",
    "ExportSuspEvents",
}


def raw(product: str) -> dict[str, Any]:
    return json.loads((SPECS / FILES[product]).read_text(encoding="utf-8"))


def schema(product: str) -> Any:
    return schemathesis.openapi.from_dict(raw(product))


def operations() -> list[tuple[str, Any]]:
    out = []
    for product in FILES:
        for result in schema(product).get_all_operations():
            op = result.ok()
            out.append((op.definition.raw["x-acs-action"], op))
    return out
