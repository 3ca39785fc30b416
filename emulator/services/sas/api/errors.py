"""The Sas error table: product-neutral domain errors -> Sas codes and HTTP statuses, in one place.

Sas has no `Success` field: every failure is an HTTP error in the common envelope. Looked up
along the exception's class hierarchy, so a subclass of a domain error inherits its row.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.core.errors import BadInput, Conflict, DomainError, Forbidden, NotFound
from emulator.gateway.errors import ApiError


def _field(exc: DomainError, default: str) -> str:
    return str(getattr(exc, "field", "") or default)


# exception class -> (code for it, HTTP status); `subject` names what the action looked up
TABLE: dict[type[DomainError], Callable[[DomainError, str], tuple[str, int]]] = {
    # an unknown export, another tenant's, or one of another export family: as the cloud does
    NotFound: lambda exc, subject: (f"Invalid{subject}", 400),
    # ResourceDirectoryAccountId that is not one of the tenant's member accounts
    Forbidden: lambda exc, subject: ("RdCheckNoPermission", 400),
    BadInput: lambda exc, subject: (f"Invalid{_field(exc, 'Parameter')}", 400),
    Conflict: lambda exc, subject: ("IllegalStatus", 400),
}


def to_api_error(exc: DomainError, subject: str = "ExportId") -> ApiError:
    for cls in type(exc).__mro__:
        row = TABLE.get(cls)  # type: ignore[call-overload]
        if row is not None:
            code, status = row(exc, subject)
            return ApiError(code, exc.message, status)
    return ApiError("ServerError", "ServerError", 500)


def rd_no_permission() -> Forbidden:
    return Forbidden("Resource directory account verification has no permission.")
