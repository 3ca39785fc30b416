"""What a ticket asks for, as the domain speaks it: typed specs, snake_case, no wire names.

`api/specs.py` turns validated PluginParam/Param documents into these and back; a ticket's
document stores `asdict(spec)` under `spec`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExportSpec:
    """A DATA_EXPORT ticket: one SELECT on one database."""

    db_id: int
    sql: str
    classify: str = ""
    logic: bool = False
    ignore_affect_rows: bool = False
    affect_rows: int | None = None  # the committer's estimate (precheck compares)
    ignore_reason: str = ""
    instance_id: int | None = None
    watermark: dict[str, Any] | None = None

    @property
    def db_ids(self) -> tuple[int, ...]:
        return (self.db_id,)


@dataclass(frozen=True)
class TrackSpec:
    """A DATA_TRACK ticket: which tables' binlog in which window (DMS times, UTC)."""

    db_id: int
    tables: tuple[str, ...]
    start: str
    end: str
    types: tuple[str, ...]

    @property
    def db_ids(self) -> tuple[int, ...]:
        return (self.db_id,)


@dataclass(frozen=True)
class RequestSpec:
    """Every other ticket type (data changes, DDL, permission and owner requests): the
    databases it touches and its other fields (snake_case), which the emulator keeps and shows."""

    db_ids: tuple[int, ...]
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def db_id(self) -> int:
        return self.db_ids[0]


Spec = ExportSpec | TrackSpec | RequestSpec


def spec_doc(spec: Spec) -> dict[str, Any]:
    """How a spec is stored in the ticket document."""
    return asdict(spec)


def load_spec(plugin_type: str, doc: dict[str, Any]) -> Spec:
    """The spec stored by `spec_doc`."""
    if plugin_type == "DATA_EXPORT":
        return ExportSpec(**doc)
    if plugin_type == "DATA_TRACK":
        return TrackSpec(
            doc["db_id"], tuple(doc["tables"]), doc["start"], doc["end"], tuple(doc["types"])
        )
    return RequestSpec(tuple(doc["db_ids"]), dict(doc.get("fields") or {}))
