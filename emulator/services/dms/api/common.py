"""Helpers every DMS wire module shares: the caller and its tenant, the business-error
convention, the lifecycle fault a call carries, and parameter shapes the SDK sends as JSON or
as DMS timestamps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from emulator.core.clock import parse_dms_time
from emulator.core.errors import DomainError, Forbidden
from emulator.gateway import errors
from emulator.gateway.call import Call
from emulator.gateway.params import opt_int, opt_json, opt_str
from emulator.platform.accounts import User
from emulator.services.dms.api.errors import error_code
from emulator.services.dms.context import DmsContext
from emulator.services.dms.domain.workflow import LifecycleFault

DmsHandler = Callable[[Call, DmsContext], dict[str, Any]]
C = TypeVar("C")


@dataclass(frozen=True)
class Action:
    """One DMS action: its handler and the lifecycle stages a fault may aim at through it."""

    handler: DmsHandler
    stages: tuple[str, ...] = ()


def business(fn: Callable[[Call, C], dict[str, Any]]) -> Callable[[Call, C], dict[str, Any]]:
    """DMS's convention: a domain error is HTTP 200 with `Success:false` and the mapped code."""

    def handler(call: Call, ctx: C) -> dict[str, Any]:
        try:
            body = fn(call, ctx)
        except DomainError as exc:
            call.outcome_code = error_code(exc)
            return {"Success": False, "ErrorCode": call.outcome_code, "ErrorMessage": exc.message}
        return {**body, "Success": True}

    handler.__name__ = fn.__name__
    return handler


def caller(call: Call) -> User:
    """The signed-in user, after checking that `Tid` (if sent) names the user's own tenant."""
    assert call.user is not None
    tid = opt_int(call.params, "Tid")
    if tid is not None and tid != call.user.tid:
        raise Forbidden(
            f"The user {call.user.uid} does not belong to tenant {tid}; use Tid={call.user.tid}."
        )
    return call.user


def lifecycle_fault(call: Call) -> LifecycleFault | None:
    """The lifecycle fault the gateway matched for this call, as the domain's type."""
    return LifecycleFault.from_effect(call.lifecycle) if call.lifecycle else None


def plugin_param(raw: Any) -> Any:
    """A PluginParam (or Param) that must not be JSON null (what SDKs send for a string)."""
    if raw is None:
        raise errors.invalid(
            "PluginParam", "It is null; send a JSON object (pass a dict to the SDK, not a string)."
        )
    return raw


def related_json(call: Call) -> list[str]:
    """RelatedUserList as CreateDataExportOrder/CreateDataTrackOrder send it: a JSON array of ids."""
    present, related = opt_json(call.params, "RelatedUserList")
    if not present:
        return []
    if not (isinstance(related, list) and all(isinstance(x, (int, str)) for x in related)):
        raise errors.invalid("RelatedUserList", "It must be a JSON array of user ids.")
    return [str(x) for x in related]


def parse_time(call: Call, name: str) -> float | None:
    value = opt_str(call.params, name, 32)
    if not value:
        return None
    try:
        return parse_dms_time(value)
    except ValueError:
        raise errors.invalid(name, "Use the format yyyy-MM-dd HH:mm:ss.") from None
