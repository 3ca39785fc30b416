"""Read-only access to fixture databases: the only way export SQL ever touches data.

Three locks, each enough on its own: the file is opened `mode=ro`, `PRAGMA query_only` is on,
and an authorizer allows nothing but reading (no ATTACH, PRAGMA, writes or DDL). The sqlite3
module refuses more than one statement per execute, so `select 1; delete ...` cannot pass.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}
_ALLOWED.add(getattr(sqlite3, "SQLITE_RECURSIVE", 33))
_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}


class SqlRejected(Exception):
    """The SQL is not a single read-only SELECT over the database; the message says why."""


def _authorizer(
    action: int, arg1: str | None, arg2: str | None, dbname: str | None, source: str | None
) -> int:
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK if action in _ALLOWED else sqlite3.SQLITE_DENY


def open_readonly(path: Path, deadline_seconds: float | None = None) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only = ON")
    conn.set_authorizer(_authorizer)
    if deadline_seconds is not None:
        deadline = time.monotonic() + deadline_seconds
        conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
    return conn


def strip_sql(sql: str) -> str:
    """The statement without trailing semicolons and blanks (DMS accepts `select 1;`)."""
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def _explain(conn: sqlite3.Connection, sql: str) -> None:
    try:
        conn.execute("EXPLAIN " + sql).fetchall()
    except sqlite3.ProgrammingError as exc:
        if "one statement" in str(exc):
            raise SqlRejected("only one SQL statement may be exported at a time") from None
        raise SqlRejected(f"SQL error: {exc}") from None
    except sqlite3.DatabaseError as exc:
        msg = str(exc)
        if "not authorized" in msg or "prohibited" in msg:
            raise SqlRejected(
                "only a read-only SELECT may be exported (writes, DDL, ATTACH and PRAGMA are refused)"
            ) from None
        raise SqlRejected(f"SQL error: {msg}") from None


@dataclass
class PrecheckOutcome:
    ok: bool
    reason: str
    sql: str
    affect_rows: int = 0
    details: list[dict[str, object]] = field(default_factory=list)


def precheck(
    path: Path, sql: str, affect_rows: int | None, ignore_affect_rows: bool
) -> PrecheckOutcome:
    """Check export SQL against the database: syntax, tables, columns, read-only, row count."""
    text = strip_sql(sql)
    if not text:
        return PrecheckOutcome(False, "the export SQL is empty", sql)
    head = text.lstrip("( \t\r\n").split(None, 1)[0].upper() if text.lstrip("( \t\r\n") else ""
    if head not in ("SELECT", "WITH", "VALUES"):
        return PrecheckOutcome(
            False, f"only SELECT statements may be exported, not {head or 'this'}", sql
        )
    conn = open_readonly(path, deadline_seconds=30)
    try:
        _explain(conn, text)
        try:
            (count,) = conn.execute(f"SELECT count(*) FROM (\n{text}\n)").fetchone()
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                return PrecheckOutcome(False, "the precheck took longer than 30 seconds", sql)
            raise SqlRejected(f"SQL error: {exc}") from None
    except SqlRejected as exc:
        return PrecheckOutcome(False, str(exc), sql)
    finally:
        conn.close()
    details = [{"SQL": text, "AffectRows": int(count)}]
    if not ignore_affect_rows and affect_rows is not None and count > affect_rows:
        return PrecheckOutcome(
            False,
            f"the SQL affects {count} rows, more than the estimated affectRows {affect_rows}; "
            "raise affectRows or set ignoreAffectRows with a reason",
            sql,
            int(count),
            details,
        )
    return PrecheckOutcome(True, "", sql, int(count), details)
