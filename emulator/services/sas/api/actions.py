"""Security Center (Sas) on the wire. Sas has no `Success` field: every failure is an HTTP
error in the common envelope, with the codes of the Sas error table (e.g. RdCheckNoPermission)."""

from __future__ import annotations

from typing import Any

from emulator.core.errors import DomainError, Invalid, NotFound
from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.errors import ApiError
from emulator.gateway.params import opt_enum, opt_int, opt_str, req_int, req_str
from emulator.gateway.registry import SAS, Registry

# Sas codes of the domain's errors (interim table; the Sas service owns it)
NOT_FOUND = {"export": "InvalidExportId"}


def _to_api_error(exc: DomainError) -> ApiError:
    if isinstance(exc, NotFound):
        return ApiError(NOT_FOUND.get(exc.kind, "NotFound"), exc.message, 400)
    if isinstance(exc, Invalid):
        return ApiError(f"Invalid{exc.field}", exc.message, 400)
    return ApiError("NoPermission", exc.message, 403)


def register(registry: Registry, emu: Any) -> None:
    """`emu`: the emulator's accounts, sas, artifacts (interim, until Sas has its context)."""

    def check_rd(call: Call) -> None:
        assert call.user is not None
        rd = opt_int(call.params, "ResourceDirectoryAccountId", 0)
        if rd is not None and rd not in emu.accounts.tenants[call.user.tid].member_accounts:
            raise ApiError(
                "RdCheckNoPermission",
                "Resource directory account verification has no permission.",
                400,
            )

    def export_record(call: Call, _ctx: Any) -> dict[str, Any]:
        check_rd(call)
        export_type = req_str(call.params, "ExportType", 128)
        file_type = (opt_str(call.params, "ExportFileType", 16) or "xlsx").lower()
        if file_type not in ("xlsx",):
            raise errors.invalid("ExportFileType", "The emulator exports xlsx.")
        lang = opt_enum(call.params, "Lang", ("zh", "en"), "zh") or "zh"
        assert call.user is not None
        try:
            view = emu.sas.start(call.user.tid, export_type, file_type, lang, call.lifecycle)
        except DomainError as exc:
            raise _to_api_error(exc) from None
        return {"Id": view.id, "FileName": view.file_name}

    def describe_export_info(call: Call, _ctx: Any) -> dict[str, Any]:
        check_rd(call)
        assert call.user is not None
        try:
            view = emu.sas.describe(call.user.tid, req_int(call.params, "ExportId", 0))
        except DomainError as exc:
            raise _to_api_error(exc) from None
        body: dict[str, Any] = {
            "Id": view.id,
            "FileName": view.file_name,
            "ExportStatus": view.status,
            "Progress": view.progress,
            "CurrentCount": view.current,
            "TotalCount": view.total,
            "Message": view.message,
        }
        if view.artifact_key:
            body["Link"] = emu.artifacts.download_link(call.base_url, view.artifact_key, call.now)
        return body

    registry.add(SAS, "ExportRecord", export_record, stages=("sas_export",))
    registry.add(SAS, "DescribeExportInfo", describe_export_info)
