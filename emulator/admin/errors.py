"""The admin side's one error table: exception class -> HTTP status, looked up along the class
hierarchy (Starlette's way). Control plane, console and download endpoint all ask it; nothing
maps by error code strings or message text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from emulator.core import errors as domain
from emulator.faults.engine import FaultError
from emulator.faults.scenarios import ScenarioError
from emulator.state.store import StoreVersionError

T = TypeVar("T")


class AdminError(Exception):
    """A control-plane refusal the caller can act on; its class says the status."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Invalid(AdminError):
    """A bad value in the request (the message names the field)."""


class Unknown(AdminError):
    """The thing named does not exist (tenant, ticket, rule)."""


class Unauthorized(AdminError):
    """No or a wrong control token."""


class Refused(AdminError):
    """Allowed to nobody in this configuration (e.g. secrets without a control token)."""


class CrossSite(AdminError):
    """A browser request from another site, a foreign Host, or a non-JSON body: never acted on."""


STATUS: dict[type[Exception], int] = {
    Invalid: 400,
    Unknown: 404,
    Unauthorized: 401,
    CrossSite: 403,
    Refused: 403,
    FaultError: 400,
    ScenarioError: 400,
    StoreVersionError: 400,
    domain.Invalid: 400,
    domain.Forbidden: 403,
    domain.NotFound: 404,
    domain.Exists: 409,
    domain.IllegalState: 409,
    domain.WrongKind: 409,
    domain.DomainError: 409,
}


def lookup(table: Mapping[type[Exception], T], exc: BaseException) -> T | None:
    """The entry of the nearest class of `exc` in `table` (None: not an expected error)."""
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]  # type: ignore[index]
    return None


def status_of(exc: BaseException) -> int | None:
    return lookup(STATUS, exc)


def message_of(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc)
