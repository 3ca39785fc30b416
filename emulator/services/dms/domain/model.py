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
class ChangeSpec:
    """A data-change ticket (DC_COMMON, DC_CHUNK): DML in the databases' dialect, run for real.

    `estimate_affect_rows` is the committer's estimate (ROW_CHECK compares the real count);
    `rollback_sql` is the committer's own rollback text, kept and shown, never run.
    """

    db_ids: tuple[int, ...]
    sql: str
    estimate_affect_rows: int | None = None
    classify: str = ""
    sql_type: str = "TEXT"
    exec_mode: str = ""
    rollback_sql: str = ""
    rollback_sql_type: str = "TEXT"
    attachment_name: str = ""
    rollback_attachment_name: str = ""
    logic: bool = False

    @property
    def db_id(self) -> int:
        return self.db_ids[0]


@dataclass(frozen=True)
class CronClearItem:
    """One table a DC_CRON_CLEAR ticket keeps short: rows whose `column` is older than
    `remain_days` (and match `filter_sql`, when given) are deleted each time the cron fires."""

    table: str
    column: str
    remain_days: int
    filter_sql: str = ""


@dataclass(frozen=True)
class CronClearSpec:
    """A DC_CRON_CLEAR ticket: a Quartz cron (`0 1 21 * * ?`) and the tables it clears."""

    db_ids: tuple[int, ...]
    cron: str
    items: tuple[CronClearItem, ...]
    classify: str = ""
    duration: int = 0
    specify_duration: bool = False

    @property
    def db_id(self) -> int:
        return self.db_ids[0]


@dataclass(frozen=True)
class RequestSpec:
    """Every other ticket type (data changes, DDL, permission and owner requests): the
    databases it touches and its other fields (snake_case), which the emulator keeps and shows."""

    db_ids: tuple[int, ...]
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def db_id(self) -> int:
        return self.db_ids[0]


Spec = ExportSpec | TrackSpec | ChangeSpec | CronClearSpec | RequestSpec
CHANGE_PLUGIN_TYPES = ("DC_COMMON", "DC_CHUNK")


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
    if plugin_type in CHANGE_PLUGIN_TYPES:
        if "fields" in doc:  # stored before data changes ran for real (state schema <= 5)
            return _legacy_change(tuple(doc["db_ids"]), doc["fields"] or {})
        return ChangeSpec(**{**doc, "db_ids": tuple(doc["db_ids"])})
    if plugin_type == "DC_CRON_CLEAR" and "cron" in doc:
        items = tuple(CronClearItem(**i) for i in doc["items"])
        return CronClearSpec(**{**doc, "db_ids": tuple(doc["db_ids"]), "items": items})
    return RequestSpec(tuple(doc["db_ids"]), dict(doc.get("fields") or {}))


def _legacy_change(db_ids: tuple[int, ...], fields: dict[str, Any]) -> ChangeSpec:
    """A data change stored as a RequestSpec (its fields are the snake_case wire names)."""
    return ChangeSpec(
        db_ids,
        str(fields.get("exec_s_q_l") or ""),
        fields.get("estimate_affect_rows"),
        str(fields.get("classify") or ""),
        str(fields.get("sql_type") or "TEXT"),
        rollback_sql=str(fields.get("rb_s_q_l") or ""),
    )
