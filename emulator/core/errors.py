"""Domain errors: what went wrong in business terms, with no wire codes and no HTTP.

The domain says *what kind* of failure it is (a missing ticket, a refused actor, a move the
state machine does not allow, a ticket of the wrong type, a bad value of a named field); each
product's `api/errors.py` maps the class (and its `kind`/`expected`/`field`) to that product's
codes and statuses, and the control plane and console map by class too. Nothing outside a
product's `api/` ever compares error codes or message text.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every business failure; `message` is for people, never parsed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """No `kind` object (ticket, workflow, database, user, table, download, export) by that id
    in the caller's tenant; another tenant's object is as unknown as a missing one."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class Exists(DomainError):
    """A `kind` object by that id already exists (creating it again is refused)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class Forbidden(DomainError):
    """The object exists, but this caller's role may not do this to it."""


class IllegalState(DomainError):
    """The object is not in a state that allows the action (the lifecycle says no)."""


class WrongKind(DomainError):
    """The action needs an object of type `expected` (e.g. a DATA_EXPORT ticket)."""

    def __init__(self, expected: str, message: str):
        super().__init__(message)
        self.expected = expected


class Invalid(DomainError):
    """A value that is well-formed on the wire but wrong for the domain, naming its `field`."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class Unsupported(Invalid):
    """A documented value of `field` that the emulator does not emulate."""
