"""The Sas error table: product-neutral domain errors -> Sas codes and HTTP statuses, in one place.

Sas has no `Success` field: every failure is an HTTP error in the common envelope. The row is
chosen by the error's class (looked up along its class hierarchy, most specific first) and its
`kind`/`field`, never by the domain. Sas's own wire checks (RdCheckNoPermission) live here too.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.core.errors import DomainError, Forbidden, IllegalState, Invalid, NotFound
from emulator.gateway.errors import ApiError

# what a Sas action looks up by id, and the code the cloud answers when it is not there
NOT_FOUND = {"export": "InvalidExportId"}


def _not_found(exc: DomainError) -> tuple[str, int]:
    kind = exc.kind if isinstance(exc, NotFound) else ""
    return NOT_FOUND.get(kind, "NotFound"), 400


def _invalid(exc: DomainError) -> tuple[str, int]:
    return (f"Invalid{exc.field}" if isinstance(exc, Invalid) else "InvalidParameter"), 400


TABLE: dict[type[DomainError], Callable[[DomainError], tuple[str, int]]] = {
    NotFound: _not_found,  # unknown, another tenant's, or another export family's task
    Invalid: _invalid,  # Unsupported too (a subclass): the value is refused by name
    Forbidden: lambda exc: ("NoPermission", 403),
    IllegalState: lambda exc: ("IllegalStatus", 400),
}


def to_api_error(exc: DomainError) -> ApiError:
    for cls in type(exc).__mro__:
        row = TABLE.get(cls)
        if row is not None:
            code, status = row(exc)
            return ApiError(code, exc.message, status)
    return ApiError("ServerError", "ServerError", 500)  # a domain error nobody mapped: our bug


def rd_no_permission() -> ApiError:
    """ResourceDirectoryAccountId that is not one of the tenant's member accounts."""
    return ApiError(
        "RdCheckNoPermission", "Resource directory account verification has no permission.", 400
    )
