"""What every product service provides to the composition root (`emulator/wiring.py`).

A service owns its actions and its tables: it registers `(call, ctx)` handlers over its own
typed context, declares the tables it alone writes (with the migrations that bring older state
files to the current shape), forgets a tenant on `reset(tid)`, and says which of its tables the
state document carries. The store runs the migrations and snapshots; it never names a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from emulator.gateway.registry import Product, Registry


@dataclass(frozen=True)
class Migration:
    """Statements that bring one owner's tables from `version - 1` to `version`."""

    version: int
    statements: tuple[str, ...]


@dataclass(frozen=True)
class Tables:
    """One owner's part of the state database.

    `schema`: CREATE statements of the current shape (idempotent: IF NOT EXISTS).
    `migrations`: steps for files written by earlier versions, oldest first.
    `snapshot`: the tables the state document carries, in insertion order.
    `tenant_column`: per table, the column naming the tenant (for `reset(tid)`), or None when
    the table has no tenant of its own (its rows go with their parent's).
    """

    owner: str
    schema: tuple[str, ...]
    migrations: tuple[Migration, ...] = ()
    snapshot: tuple[str, ...] = ()
    tenant_column: dict[str, str | None] = field(default_factory=dict)


class Service(Protocol):
    """A product (DMS, Sas, ...) as the composition root sees it."""

    product: Product

    def register(self, registry: Registry) -> None:
        """Add every action of the product, each a `(call, ctx)` handler with its context."""

    def tables(self) -> tuple[Tables, ...]:
        """The tables this service owns (the store creates and migrates them)."""
        ...

    def reset(self, tid: int | None) -> None:
        """Forget a tenant's objects (None: everything), including what is behind them."""
