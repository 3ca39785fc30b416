"""Domain errors: what went wrong in business terms, with no notion of HTTP.

Each product's wire layer maps them to its own convention (DMS: HTTP 200 with
`Success:false`, `ErrorCode`, `ErrorMessage`; Sas: a 4xx error envelope).
"""

from __future__ import annotations


class DomainError(Exception):
    code = "UnknownError"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(DomainError):
    code = "NotFound"


class Forbidden(DomainError):
    code = "NoPermission"


class Conflict(DomainError):
    """The object exists but is not in a state that allows the action."""

    code = "IllegalOrderStatus"


class BadInput(DomainError):
    """A value is well-formed on the wire but wrong for the domain (e.g. an unknown user id)."""

    code = "InvalidParameter"
