"""Helpers every DMS wire module shares: the caller and its tenant, the business-error
convention, and parameter shapes the SDK sends as JSON or as DMS timestamps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from emulator.core.errors import DomainError, Forbidden
from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import opt_int, opt_json, opt_str
from emulator.platform.accounts import User


def caller(call: Call) -> User:
    """The signed-in user, after checking that `Tid` (if sent) names the user's own tenant."""
    assert call.user is not None
    tid = opt_int(call.params, "Tid")
    if tid is not None and tid != call.user.tid:
        raise Forbidden(
            f"The user {call.user.uid} does not belong to tenant {tid}; use Tid={call.user.tid}.",
            "NoPermission",
        )
    return call.user


def business(fn: Callable[[Call], dict[str, Any]]) -> Callable[[Call], dict[str, Any]]:
    def handler(call: Call) -> dict[str, Any]:
        try:
            body = fn(call)
        except DomainError as exc:
            return {"Success": False, "ErrorCode": exc.code, "ErrorMessage": exc.message}
        return {**body, "Success": True}

    handler.__name__ = fn.__name__
    return handler


def _plugin_param(raw: Any) -> Any:
    if raw is None:
        raise errors.invalid(
            "PluginParam", "It is null; send a JSON object (pass a dict to the SDK, not a string)."
        )
    return raw


def _related_json(call: Call) -> list[str]:
    """RelatedUserList as CreateDataExportOrder/CreateDataTrackOrder send it: a JSON array of ids."""
    present, related = opt_json(call.params, "RelatedUserList")
    if not present:
        return []
    if not (isinstance(related, list) and all(isinstance(x, (int, str)) for x in related)):
        raise errors.invalid("RelatedUserList", "It must be a JSON array of user ids.")
    return [str(x) for x in related]


def _parse_time(call: Call, name: str) -> float | None:
    value = opt_str(call.params, name, 32)
    if not value:
        return None
    try:
        return (
            datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
        )
    except ValueError:
        raise errors.invalid(name, "Use the format yyyy-MM-dd HH:mm:ss.") from None
