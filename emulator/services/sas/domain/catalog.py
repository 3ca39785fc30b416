"""The fixture records Sas exports: read once from fixtures/ (described in the files themselves).

`sas_exports.yaml` describes the ExportRecord lists by a generation rule; `sas/*.yaml` hold the
vulnerabilities, baseline check results and suspicious events record by record.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from emulator.services.sas.domain.lifecycle import Family

Record = dict[str, Any]


@dataclass(frozen=True)
class Column:
    field: str
    en: str
    zh: str

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Sheet:
    """One exportable list: file name prefix, sheet title, columns and records."""

    name: str
    file_prefix: str
    sheet: str
    columns: tuple[Column, ...]
    records: tuple[Record, ...]
    summary_columns: tuple[Column, ...] = ()


FAMILY_FILES = {
    Family.VUL: "vulnerabilities.yaml",
    Family.WARNING: "baseline_checks.yaml",
    Family.SUSP: "suspicious_events.yaml",
}


def _text(*parts: str) -> str:
    node = resources.files("emulator.fixtures")
    for part in parts:
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def _columns(items: list[dict[str, str]]) -> tuple[Column, ...]:
    return tuple(Column(c["field"], str(c["en"]), str(c["zh"])) for c in items)


def generated_records(spec: dict[str, Any]) -> tuple[Record, ...]:
    """ExportRecord rows by the rule in sas_exports.yaml: row i takes
    values[(i * 7 + column) % len(values)] of each column, `{i}` replaced by i."""
    cols = list(spec["columns"].items())
    return tuple(
        {
            name: str(values[(i * 7 + c) % len(values)]).replace("{i}", str(i))
            for c, (name, values) in enumerate(cols)
        }
        for i in range(1, int(spec["rows"]) + 1)
    )


@cache
def record_sheets() -> dict[str, Sheet]:
    """ExportRecord's ExportType -> its list (headers are the same in both languages)."""
    import yaml  # read on the first export, not at start

    doc = yaml.safe_load(_text("sas_exports.yaml"))
    return {
        name: Sheet(
            name,
            spec["file_prefix"],
            name,
            tuple(Column(c, c, c) for c in spec["columns"]),
            generated_records(spec),
        )
        for name, spec in doc.items()
    }


@cache
def family_sheet(family: Family) -> Sheet:
    import yaml  # read on the first export, not at start

    doc = yaml.safe_load(_text("sas", FAMILY_FILES[family]))
    return Sheet(
        family.value,
        doc["file_prefix"],
        doc["sheet"],
        _columns(doc["columns"]),
        tuple(doc["records"]),
        _columns(doc.get("summary_columns") or []),
    )
