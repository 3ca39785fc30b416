"""Record filters: what an export request keeps, as plain data (stored with the export, so a
restarted emulator can write the same file), evaluated over fixture records.

A filter is a tuple of conditions that must all hold. The api layer builds them from the
request's parameters; here they only name record fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.core.clock import parse_dms_time
from emulator.services.sas.domain.catalog import Record

# fixture records write times as 'yyyy-MM-dd HH:mm:ss' (UTC), the console's format
record_epoch = parse_dms_time


@dataclass(frozen=True)
class Cond:
    """op: `in` field value is one of values; `any` the list field shares one of values;
    `has` the field contains values[0] (case-insensitive); `between` the time field lies in
    [values[0], values[1]] (epoch seconds, None = open); `pair` values[0] = (k, v) of a
    mapping field; `entity` (name, version or "") pairs match entity_name/entity_version."""

    op: str
    field: str
    values: tuple[Any, ...]

    def holds(self, rec: Record) -> bool:
        value = rec.get(self.field)
        if self.op == "in":
            return value in self.values
        if self.op == "any":
            return bool(set(value or ()) & set(self.values))
        if self.op == "has":
            return str(self.values[0]).lower() in str(value or "").lower()
        if self.op == "between":
            lo, hi = self.values
            at = record_epoch(str(value))
            return (lo is None or at >= lo) and (hi is None or at <= hi)
        if self.op == "pair":
            key, want = self.values
            return isinstance(value, dict) and str(value.get(key, "")) == want
        if self.op == "entity":
            return any(
                rec.get("entity_name") == name and (not ver or rec.get("entity_version") == ver)
                for name, ver in self.values
            )
        raise ValueError(f"unknown filter op {self.op!r}")

    def to_doc(self) -> list[Any]:
        return [self.op, self.field, [list(v) if isinstance(v, tuple) else v for v in self.values]]

    @classmethod
    def from_doc(cls, doc: Sequence[Any]) -> Cond:
        op, field, values = doc
        return cls(op, field, tuple(tuple(v) if isinstance(v, list) else v for v in values))


Filter = tuple[Cond, ...]


def select(records: Iterable[Record], conds: Filter) -> list[Record]:
    return [r for r in records if all(c.holds(r) for c in conds)]


def filter_doc(conds: Filter) -> list[list[Any]]:
    return [c.to_doc() for c in conds]


def filter_from_doc(doc: Sequence[Sequence[Any]]) -> Filter:
    return tuple(Cond.from_doc(c) for c in doc)
