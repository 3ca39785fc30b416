"""DMS's one error table: domain errors to DMS business codes.

DMS answers business failures with HTTP 200, `Success:false`, `ErrorCode`, `ErrorMessage`
(every DMS response model carries those fields; specs/README.md). The code is chosen here, by
the error's class (looked up along its class hierarchy, most specific first) and its
`kind`/`expected`/`field`, never by the domain.
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.core.errors import (
    DomainError,
    Exists,
    Forbidden,
    IllegalState,
    Invalid,
    NotFound,
    Unsupported,
    WrongKind,
)
from emulator.services.dms.domain.instances import ConnectionFailed
from emulator.services.dms.domain.meta import Unreadable

NOT_FOUND = {
    "ticket": "OrderNotExist",
    "workflow": "WorkflowNotExist",
    "database": "DatabaseNotExist",
    "user": "UserNotExist",
    "table": "TableNotExist",
    "download": "DownloadKeyNotExist",
    "instance": "InstanceNotExist",
}
EXISTS = {"user": "UserAlreadyExist", "instance": "InstanceAlreadyExist"}
WRONG_KIND = {
    "DATA_EXPORT": "NotDataExportOrder",
    "DATA_TRACK": "NotDataTrackOrder",
    "DC_COMMON": "NotDataCorrectOrder",
}


def _not_found(exc: DomainError) -> str:
    kind = exc.kind if isinstance(exc, NotFound) else ""
    return NOT_FOUND.get(kind, "NotFound")


def _exists(exc: DomainError) -> str:
    kind = exc.kind if isinstance(exc, Exists) else ""
    return EXISTS.get(kind, "AlreadyExists")


def _wrong_kind(exc: DomainError) -> str:
    expected = exc.expected if isinstance(exc, WrongKind) else ""
    return WRONG_KIND.get(expected, "IllegalOrderStatus")


def _invalid(exc: DomainError) -> str:
    return f"Invalid{exc.field}" if isinstance(exc, Invalid) else "InvalidParameter"


def _unsupported(exc: DomainError) -> str:
    return f"Unsupported{exc.field}" if isinstance(exc, Unsupported) else "InvalidParameter"


CODES: dict[type[DomainError], Callable[[DomainError], str]] = {
    ConnectionFailed: lambda _exc: "TestConnectionFailed",  # RegisterInstance (issue 13)
    Unreadable: lambda _exc: "DatabaseUnavailable",  # metadata of a database that cannot be read
    NotFound: _not_found,
    Exists: _exists,
    Forbidden: lambda _exc: "NoPermission",
    IllegalState: lambda _exc: "IllegalOrderStatus",
    WrongKind: _wrong_kind,
    Unsupported: _unsupported,
    Invalid: _invalid,
    DomainError: lambda _exc: "UnknownError",
}


def error_code(exc: DomainError) -> str:
    """The DMS `ErrorCode` of a domain error (the nearest class in the table wins)."""
    for cls in type(exc).__mro__:
        pick = CODES.get(cls)
        if pick is not None:
            return pick(exc)
    return "UnknownError"
