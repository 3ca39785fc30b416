"""Sas export actions on the wire: four start actions and five poll actions, each a small
function over the Sas context. Wire names stop here: requests become `ExportRequest`s with
filters over fixture fields; views become the SDK's response shapes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.core.errors import DomainError
from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import opt_enum, opt_int, opt_str, req_int, req_str
from emulator.services.sas.api import wire
from emulator.services.sas.api.errors import rd_no_permission, to_api_error
from emulator.services.sas.context import SasContext
from emulator.services.sas.domain import lifecycle
from emulator.services.sas.domain.filters import Cond
from emulator.services.sas.domain.lifecycle import Family
from emulator.services.sas.domain.workbook import Render
from emulator.services.sas.exports import ExportRequest, ExportView

STAGES = ("sas_export",)
VUL_TYPES = ("cve", "sys", "cms", "app", "emg")
NECESSITY = ("asap", "later", "nntf")
RISK_LEVELS = ("high", "medium", "low")
EVENT_LEVELS = ("serious", "suspicious", "remind")
EVENT_STATUS = (0, 1, 2, 4, 8, 16, 32, 64, 128)
CONTAINER_FIELDS = (
    "instanceId",
    "appName",
    "clusterId",
    "regionId",
    "nodeName",
    "namespace",
    "clusterName",
    "image",
    "imageRepoName",
    "imageRepoNamespace",
    "imageRepoTag",
    "imageDigest",
)
WARNING_EXPORT_TYPES = ("hc_check_warning",)
RECORD_FILE_TYPES = ("xlsx", "virusScanExport")


# --- shared steps ---------------------------------------------------------------------------


def check_rd(call: Call) -> None:
    """ResourceDirectoryAccountId, when given, must be one of the tenant's member accounts."""
    assert call.tenant is not None
    rd = opt_int(call.params, "ResourceDirectoryAccountId", 0)
    if rd is not None and rd not in call.tenant.member_accounts:
        raise rd_no_permission()


def lang(call: Call) -> str:
    return opt_enum(call.params, "Lang", ("zh", "en"), "zh") or "zh"


def start(call: Call, ctx: SasContext, req: ExportRequest) -> dict[str, Any]:
    assert call.user is not None
    try:
        view = ctx.exports.start(call.user.tid, req, call.lifecycle, call.now)
    except DomainError as exc:
        raise to_api_error(exc) from None
    return {"Id": view.id, "FileName": view.file_name}


def find(call: Call, ctx: SasContext, *families: Family) -> ExportView:
    assert call.user is not None
    export_id = req_int(call.params, "ExportId", 0)
    try:
        return ctx.exports.describe(call.user.tid, families, export_id, call.now)
    except DomainError as exc:
        raise to_api_error(exc) from None


def progress_body(call: Call, ctx: SasContext, view: ExportView) -> dict[str, Any]:
    """The fields DescribeExportInfo, DescribeVulExportInfo and DescribeWarningExportInfo share."""
    p = view.progress
    body: dict[str, Any] = {
        "Id": view.id,
        "FileName": view.file_name,
        "ExportStatus": lifecycle.STANDARD[p.phase],
        "Progress": p.percent,
        "CurrentCount": p.current,
        "TotalCount": p.total,
        "Message": view.message,
    }
    if view.artifact_key:
        body["Link"] = ctx.link(call, view.artifact_key)
    return body


def present(call: Call, names: tuple[str, ...]) -> dict[str, Any]:
    """The filter parameters a request gave, as they came (echoed as Properties)."""
    out: dict[str, Any] = {}
    for key, value in sorted(call.params.items()):
        base = key.split(".")[0]
        if base in names and value != "":
            out[key] = value
    return out


def cond_in(conds: list[Cond], field: str, values: tuple[Any, ...] | None) -> None:
    if values:
        conds.append(Cond("in", field, tuple(values)))


# --- ExportRecord -> DescribeExportInfo -----------------------------------------------------


def export_record(call: Call, ctx: SasContext) -> dict[str, Any]:
    check_rd(call)
    export_type = req_str(call.params, "ExportType", 128)
    file_type = opt_str(call.params, "ExportFileType", 32) or "xlsx"
    if file_type.lower() == "xlsx":
        file_type = "xlsx"
    if file_type not in RECORD_FILE_TYPES or (
        file_type == "virusScanExport" and export_type != "virusScanExport"
    ):
        raise errors.invalid(
            "ExportFileType", "The emulator exports xlsx (virusScanExport with that ExportType)."
        )
    # Params: the docs say "do not specify"; the emulator exports the whole list either way
    return start(call, ctx, ExportRequest(Family.RECORD, lang(call), export_type))


def describe_export_info(call: Call, ctx: SasContext) -> dict[str, Any]:
    check_rd(call)
    return progress_body(call, ctx, find(call, ctx, Family.RECORD))


# --- ExportVul -> DescribeVulExportInfo -----------------------------------------------------

VUL_PARAMS = (
    "Type",
    "AttachTypes",
    "Necessity",
    "Dealed",
    "Uuids",
    "AliasName",
    "CveId",
    "GroupId",
    "AssetType",
    "SearchTags",
    "CreateTsStart",
    "CreateTsEnd",
    "ContainerName",
    "ImageName",
    "Path",
    "RaspDefend",
    "VpcInstanceIds",
    "VulEntityList",
)


def export_vul(call: Call, ctx: SasContext) -> dict[str, Any]:
    check_rd(call)
    p = call.params
    if not p.get("Type"):
        raise errors.missing("Type")
    kind = wire.one_of(p, "Type", VUL_TYPES)
    assert kind is not None
    types = [kind]
    if kind == "app" and "sca" in (wire.csv(p, "AttachTypes", ("sca",)) or ()):
        types.append("sca")
    conds = [Cond("in", "type", tuple(types))]
    cond_in(conds, "necessity", wire.csv(p, "Necessity", NECESSITY))
    cond_in(conds, "dealed", wire.csv(p, "Dealed", ("y", "n"), fold=True))
    cond_in(conds, "uuid", wire.csv(p, "Uuids"))
    cond_in(conds, "asset_type", wire.csv(p, "AssetType", ("ECS", "CONTAINER"), fold=True))
    cond_in(conds, "vpc_instance_id", wire.csv(p, "VpcInstanceIds"))
    cond_in(conds, "group_id", wire.csv_ints(p, "GroupId"))
    cond_in(conds, "container_name", wire.csv(p, "ContainerName"))
    cond_in(conds, "image_name", wire.csv(p, "ImageName"))
    rasp = wire.flag(p, "RaspDefend")
    if rasp is not None:
        conds.append(Cond("in", "rasp_defend", (rasp,)))
    for name, field in (("AliasName", "alias_name"), ("Path", "path")):
        text = opt_str(p, name, 512)
        if text:
            conds.append(Cond("has", field, (text,)))
    cve = opt_str(p, "CveId", 128)
    if cve:
        conds.append(Cond("any", "cve_ids", (cve,)))
    tags = wire.csv(p, "SearchTags")
    if tags:
        conds.append(Cond("any", "tags", tags))
    lo, hi = wire.ms(p, "CreateTsStart"), wire.ms(p, "CreateTsEnd")
    if lo is not None or hi is not None:
        conds.append(Cond("between", "first_seen", (lo, hi)))
    found = wire.entities(p)
    if found:
        conds.append(Cond("entity", "entity_name", found))
    req = ExportRequest(
        Family.VUL, lang(call), kind, tuple(conds), Render(), present(call, VUL_PARAMS)
    )
    return start(call, ctx, req)


def describe_vul_export_info(call: Call, ctx: SasContext) -> dict[str, Any]:
    check_rd(call)
    return progress_body(call, ctx, find(call, ctx, Family.VUL))


# --- ExportWarning -> DescribeWarningExportInfo, DescribeHcExportInfo -----------------------

WARNING_PARAMS = (
    "ExportType",
    "RiskLevels",
    "StatusList",
    "Dealed",
    "Uuids",
    "RiskIds",
    "RiskName",
    "TypeName",
    "TypeNames",
    "SubTypeNames",
    "GroupId",
    "StrategyId",
    "IsCleartextPwd",
    "IsSummaryExport",
)


def export_warning(call: Call, ctx: SasContext) -> dict[str, Any]:
    check_rd(call)
    p = call.params
    wire.one_of(p, "ExportType", WARNING_EXPORT_TYPES)
    conds: list[Cond] = []
    cond_in(conds, "level", wire.csv(p, "RiskLevels", RISK_LEVELS, fold=True))
    statuses = wire.csv(p, "StatusList", ("1", "3"))
    cond_in(conds, "status", tuple(int(s) for s in statuses) if statuses else None)
    cond_in(conds, "dealed", wire.csv(p, "Dealed", ("Y", "N"), fold=True))
    cond_in(conds, "uuid", wire.csv(p, "Uuids"))
    cond_in(conds, "risk_id", wire.csv_ints(p, "RiskIds"))
    type_name = opt_str(p, "TypeName", 256)
    cond_in(conds, "type_name", (type_name,) if type_name else wire.csv(p, "TypeNames"))
    cond_in(conds, "sub_type_name", wire.csv(p, "SubTypeNames"))
    for name, field in (("GroupId", "group_id"), ("StrategyId", "strategy_id")):
        value = opt_int(p, name)
        if value is not None:
            conds.append(Cond("in", field, (value,)))
    risk_name = opt_str(p, "RiskName", 512)
    if risk_name:
        conds.append(Cond("has", "risk_name", (risk_name,)))
    render = Render(
        cleartext=wire.flag(p, "IsCleartextPwd") == 1,
        summary=wire.flag(p, "IsSummaryExport") == 1,
    )
    req = ExportRequest(
        Family.WARNING,
        lang(call),
        "hc_check_warning",
        tuple(conds),
        render,
        present(call, WARNING_PARAMS),
    )
    return start(call, ctx, req)


def describe_warning_export_info(call: Call, ctx: SasContext) -> dict[str, Any]:
    check_rd(call)
    return progress_body(call, ctx, find(call, ctx, Family.WARNING))


def describe_hc_export_info(call: Call, ctx: SasContext) -> dict[str, Any]:
    check_rd(call)
    view = find(call, ctx, Family.WARNING)
    p = view.progress
    body: dict[str, Any] = {
        "Id": view.id,
        "FileName": view.file_name,
        "ResultStatus": lifecycle.HC[p.phase],
        "Progress": p.percent,
        "CurrentCount": p.current,
        "TotalCount": p.total,
        "GmtCreate": int(view.created_at * 1000),
    }
    if view.artifact_key:
        body["Link"] = ctx.link(call, view.artifact_key)
    return body


# --- ExportSuspEvents -> DescribeSuspEventExportInfo ----------------------------------------

SUSP_PARAMS = (
    "TimeStart",
    "TimeEnd",
    "Levels",
    "Status",
    "Dealed",
    "ParentEventTypes",
    "Name",
    "Remark",
    "Uuid",
    "GroupId",
    "Id",
    "UniqueInfo",
    "AssetsTypeList",
    "ClusterId",
    "ContainerFieldName",
    "ContainerFieldValue",
    "From",
    "Lang",
)


def export_susp_events(call: Call, ctx: SasContext) -> dict[str, Any]:
    check_rd(call)
    p = call.params
    conds: list[Cond] = []
    lo, hi = wire.time_at(p, "TimeStart"), wire.time_at(p, "TimeEnd")
    if lo is not None or hi is not None:
        conds.append(Cond("between", "last_time", (lo, hi)))
    cond_in(conds, "level", wire.csv(p, "Levels", EVENT_LEVELS, fold=True))
    status = opt_int(p, "Status")
    if status is not None and status not in EVENT_STATUS:
        raise errors.invalid("Status", f"Valid values: {', '.join(map(str, EVENT_STATUS))}.")
    if status:
        conds.append(Cond("in", "status", (status,)))
    cond_in(conds, "dealed", wire.csv(p, "Dealed", ("Y", "N"), fold=True))
    cond_in(conds, "parent_event_type", wire.csv(p, "ParentEventTypes"))
    cond_in(conds, "uuid", wire.csv(p, "Uuid"))
    cond_in(conds, "unique_info", wire.csv(p, "UniqueInfo"))
    cond_in(conds, "cluster_id", wire.csv(p, "ClusterId"))
    assets = wire.repeated(p, "AssetsTypeList")
    if assets:
        cond_in(conds, "asset_type", tuple(a.lower() for a in assets))
    for name, field in (("GroupId", "group_id"), ("Id", "id")):
        value = opt_int(p, name)
        if value is not None:
            conds.append(Cond("in", field, (value,)))
    for name, field in (("Name", "name"), ("Remark", "remark")):
        text = opt_str(p, name, 512)
        if text:
            conds.append(Cond("has", field, (text,)))
    field_name = wire.one_of(p, "ContainerFieldName", CONTAINER_FIELDS)
    field_value = opt_str(p, "ContainerFieldValue", 512)
    if field_name and field_value:
        conds.append(Cond("pair", "container", (field_name, field_value)))
    req = ExportRequest(
        Family.SUSP,
        lang(call),
        "suspiciousEvent",
        tuple(conds),
        Render(),
        present(call, SUSP_PARAMS),
    )
    return start(call, ctx, req)


def describe_susp_event_export_info(call: Call, ctx: SasContext) -> dict[str, Any]:
    check_rd(call)
    view = find(call, ctx, Family.SUSP)
    p = view.progress
    body: dict[str, Any] = {
        "Id": view.id,
        "FileName": view.file_name,
        "ExportStatus": lifecycle.SUSP[p.phase],
        "Progress": p.percent,
        "TotalCount": p.total,
        "Type": "suspiciousEvent",
        "Properties": wire.dumps(view.properties),
        "GmtCreate": int(view.created_at * 1000),
        "GmtModified": int(p.changed_at * 1000),
    }
    if view.artifact_key:
        body["Link"] = ctx.link(call, view.artifact_key)
    return body


@dataclass(frozen=True)
class Action:
    """One Sas action: its handler and the lifecycle stages a fault may aim at through it."""

    handler: Callable[[Call, SasContext], dict[str, Any]]
    stages: tuple[str, ...] = ()


ACTIONS = {
    "ExportRecord": Action(export_record, STAGES),
    "DescribeExportInfo": Action(describe_export_info),
    "ExportVul": Action(export_vul, STAGES),
    "DescribeVulExportInfo": Action(describe_vul_export_info),
    "ExportWarning": Action(export_warning, STAGES),
    "DescribeWarningExportInfo": Action(describe_warning_export_info),
    "DescribeHcExportInfo": Action(describe_hc_export_info),
    "ExportSuspEvents": Action(export_susp_events, STAGES),
    "DescribeSuspEventExportInfo": Action(describe_susp_event_export_info),
}
