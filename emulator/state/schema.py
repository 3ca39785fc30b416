"""How an owner declares its part of the state database (the store runs it, never names it).

Every table has one owning module; only it writes SQL for the table. The owner declares the
current shape (`schema`), the steps that bring older state files to it (`migrations`), what a
reset removes (`reset_all`, `reset_tenant` with one `?` for the tenant id) and which tables the
state document carries (`snapshot`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# a Python step of a migration, for conversions SQL cannot express (runs inside the transaction)
Transform = Callable[[sqlite3.Connection], None]
RowCheck = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class Migration:
    """What brings one owner's tables from `version - 1` to `version` (statements, then
    `transform`). A step must also work on rows just loaded from an older state document."""

    version: int
    statements: tuple[str, ...] = ()
    transform: Transform | None = None


@dataclass(frozen=True)
class Tables:
    owner: str  # the module that alone writes these tables
    schema: tuple[str, ...]  # CREATE ... IF NOT EXISTS of the current shape
    snapshot: tuple[str, ...] = ()  # tables the state document carries, in insertion order
    migrations: tuple[Migration, ...] = ()
    reset_all: tuple[str, ...] = ()
    reset_tenant: tuple[str, ...] = ()
    # per-tenant counters of the store this owner keeps (`prefix` + tid), reset with the tenant
    tenant_counters: tuple[str, ...] = ()
    # (table, column) pairs that hold a JSON object (a state document must keep them so)
    json_columns: tuple[tuple[str, str], ...] = ()
    # per table, a check of one state-document row: raises ValueError naming the field, may
    # blank columns the document must not set
    row_checks: dict[str, RowCheck] = field(default_factory=dict)


def clear(*tables: str) -> tuple[str, ...]:
    """`reset_all` statements that empty these tables."""
    return tuple(f"DELETE FROM {t}" for t in tables)


def clear_tenant(*tables: str) -> tuple[str, ...]:
    """`reset_tenant` statements for tables with a `tid` column."""
    return tuple(f"DELETE FROM {t} WHERE tid=?" for t in tables)
