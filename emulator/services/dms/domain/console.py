"""The SQL console (ExecuteScript): a script run statement by statement on the real database.

Each statement is classified before any server sees it (`sqlguard.classify`), checked against
the console's rules (who may run which class, specs/README.md "SQL console"), and run in its own
transaction, as the real console runs with autocommit: a query in a read-only transaction, an
allowed write in a read-write one (the tenant's copy of an embedded database, or the user's
server). The first statement that fails or is refused ends the script; what ran before it stays.
Values come back as text, the way DMS shows them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from emulator.core.errors import Forbidden
from emulator.databases import sqlguard
from emulator.databases.backend import BackendError, DatabaseBackend, Result, StatementTimeout
from emulator.platform.accounts import Database, User

SECURE_MODE = "security_collaboration"
MAX_SCRIPT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The console's bounds (`--console-max-rows`, `--console-timeout`)."""

    max_rows: int = 200
    timeout: float = 60.0
    max_script_bytes: int = MAX_SCRIPT_BYTES


@dataclass
class Outcome:
    """One statement's entry in `Results`."""

    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str | None]] = field(default_factory=list)
    row_count: int = 0
    success: bool = True
    message: str = ""


class NotSecureMode(Forbidden):
    """ExecuteScript on an instance whose control mode is not Security Collaboration."""


def require_secure_mode(db: Database) -> None:
    if (db.control_mode or SECURE_MODE) != SECURE_MODE:
        raise NotSecureMode(
            f"The instance is not in secure hosting mode (database {db.db_id} is under "
            f"{db.control_mode}); ExecuteScript runs only on instances in Security "
            "Collaboration mode."
        )


def refusal(user: User, owner: bool, kind: str, head: str, why: str) -> str | None:
    """Why `user` may not run a statement of this class here, or None when they may.

    SELECT (and SHOW/EXPLAIN) for everyone who sees the database; DML for ADMIN, DBA and the
    database's owners; DDL for ADMIN and DBA; session, transaction, privilege and file
    statements for nobody. Others go through a data-change ticket, as under DMS's default
    security rules.
    """
    if kind == sqlguard.OTHER:
        return f"The SQL is not allowed in the SQL console: {why}."
    if kind == sqlguard.DML and not (user.role in ("ADMIN", "DBA") or owner):
        return (
            f"You have no permission to run {head} statements in the SQL console on this "
            "database (security rules: DML for ADMIN, DBA and database owners); submit a "
            "data change ticket (CreateDataCorrectOrder) instead."
        )
    if kind == sqlguard.DDL and user.role not in ("ADMIN", "DBA"):
        return (
            f"You have no permission to run {head} statements in the SQL console "
            "(security rules: DDL for ADMIN and DBA); submit a schema change ticket instead."
        )
    return None


def run_script(
    backend: DatabaseBackend,
    db: Database,
    user: User,
    owner: bool,
    script: str,
    limits: Limits,
) -> list[Outcome]:
    """Every statement of `script` in order, until the first that fails or is refused."""
    from emulator.databases.dialect import (
        split,
    )  # sqlglot: imported at the first script, not at start-up

    dialect = backend.dialect
    out: list[Outcome] = []
    for sql in split(script, dialect):
        try:
            shape = sqlguard.classify(sql, dialect)
        except BackendError as exc:  # an unterminated quote or comment
            out.append(Outcome(success=False, message=_message(exc)))
            break
        refused = refusal(user, owner, shape.kind, shape.head, shape.why)
        if refused is not None:
            out.append(Outcome(success=False, message=refused))
            break
        try:
            result = _run(backend, sql, shape.kind, limits)
        except BackendError as exc:
            out.append(Outcome(success=False, message=_message(exc)))
            break
        out.append(_outcome(result, shape.kind, dialect))
    return out


def _run(backend: DatabaseBackend, sql: str, kind: str, limits: Limits) -> Result:
    session = backend.read_only if kind == sqlguard.READ else backend.read_write
    with session(timeout=limits.timeout) as s:
        return s.run(sql, limits.max_rows)


def _message(exc: BackendError) -> str:
    text = str(exc)
    if isinstance(exc, StatementTimeout):
        return f"Query timeout: {text}"
    return text[len("SQL error: ") :] if text.startswith("SQL error: ") else text


def _outcome(result: Result, kind: str, dialect: str) -> Outcome:
    if kind == sqlguard.DDL:
        return Outcome()
    if not result.columns:
        return Outcome(row_count=max(result.affected, 0))
    cols = result.columns
    # column by column: most columns are text already, and dict(zip()) builds a row in C
    columns = []
    for values in zip(*result.rows, strict=True) if result.rows else ():
        if {type(v) for v in values} <= _AS_IS:
            columns.append(values)
        else:
            columns.append(tuple(text(v, dialect) for v in values))
    rows = [dict(zip(cols, r, strict=False)) for r in zip(*columns, strict=True)]
    return Outcome(list(cols), rows, len(rows))


_AS_IS = {str, type(None)}


def text(value: Any, dialect: str) -> str | None:
    """A value as DMS shows it: text, NULL as null, binary as hex (MySQL `0x..`, PostgreSQL
    `\\x..`), times as `YYYY-MM-DD HH:MM:SS`, decimals with their declared places."""
    if value is None:
        return None
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is Decimal:
        return f"{value:f}"
    if isinstance(value, bool):
        return ("true" if value else "false") if dialect == "postgresql" else str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        r = repr(value)
        return r[:-2] if r.endswith(".0") else r
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        total = int(value.total_seconds())
        sign = "-" if total < 0 else ""
        total = abs(total)
        return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return "\\x" + raw.hex() if dialect == "postgresql" else "0x" + raw.hex().upper()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)
