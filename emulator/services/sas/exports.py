"""Sas exports: ExportRecord starts one, DescribeExportInfo watches it grow on the clock.

Progress is derived from the export's start time and the emulated clock; the .xlsx itself is
written by a background job from the fixture records of its ExportType.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from emulator.core.clock import Clock, day_stamp
from emulator.core.errors import Invalid, NotFound
from emulator.core.jobs import Jobs
from emulator.platform.artifacts import Artifacts
from emulator.state.schema import Tables, clear, clear_tenant
from emulator.state.store import Store, dumps

# Sas export tasks (this module alone writes `jobs`; data-tracking downloads moved out in v4)
TABLES = Tables(
    owner=__name__,
    schema=(
        """CREATE TABLE IF NOT EXISTS jobs (
          id INTEGER PRIMARY KEY,
          kind TEXT NOT NULL,
          tid INTEGER NOT NULL,
          owner TEXT NOT NULL,
          created_at REAL NOT NULL,
          doc TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS jobs_kind ON jobs (kind, tid, id)",
    ),
    snapshot=("jobs",),
    json_columns=(("jobs", "doc"),),
    reset_all=clear("jobs"),
    reset_tenant=clear_tenant("jobs"),
)

EXPORT_ID_START = 131_001
ROWS_PER_SECOND = 50.0
INIT_SECONDS = 1.0


def load_catalog() -> dict[str, dict[str, Any]]:
    text = (
        resources.files("emulator.fixtures")
        .joinpath("sas_exports.yaml")
        .read_text(encoding="utf-8")
    )
    return dict(yaml.safe_load(text))


def fixture_rows(spec: dict[str, Any]) -> list[list[str]]:
    cols = list(spec["columns"].items())
    rows = []
    for i in range(1, int(spec["rows"]) + 1):
        rows.append(
            [
                str(values[(i * 7 + c) % len(values)]).replace("{i}", str(i))
                for c, (_, values) in enumerate(cols)
            ]
        )
    return rows


@dataclass
class ExportView:
    id: int
    file_name: str
    status: str  # init | exporting | success | failed
    progress: int
    current: int
    total: int
    message: str
    artifact_key: str | None


class SasExports:
    def __init__(self, store: Store, clock: Clock, artifacts: Artifacts, jobs: Jobs):
        self.store, self.clock, self.artifacts, self.jobs = store, clock, artifacts, jobs
        self.catalog = load_catalog()

    def start(
        self,
        tid: int,
        export_type: str,
        file_type: str,
        lang: str,
        fault: dict[str, Any] | None = None,
    ) -> ExportView:
        spec = self.catalog.get(export_type)
        if spec is None:
            raise Invalid(
                "ExportType",
                f"ExportType {export_type!r} is not one the emulator has records for "
                f"({', '.join(sorted(self.catalog))})",
            )
        now = self.clock.now()
        export_id = self.store.next_id("sas_export", EXPORT_ID_START)
        day = day_stamp(now)
        doc = {
            "type": export_type,
            "file_name": f"{spec['file_prefix']}_{day}",
            "file_type": file_type,
            "lang": lang,
            "total": int(spec["rows"]),
            "fault": fault or {},
        }
        self.store.execute(
            "INSERT INTO jobs (id, kind, tid, owner, created_at, doc) VALUES (?,?,?,?,?,?)",
            (export_id, "sas_export", tid, str(export_id), now, dumps(doc)),
        )
        self.jobs.submit(f"sas-export-{export_id}", lambda: self._write(tid, export_id, spec, doc))
        return self.describe(tid, export_id)

    def _write(self, tid: int, export_id: int, spec: dict[str, Any], doc: dict[str, Any]) -> None:
        from openpyxl import Workbook

        art = self.artifacts.reserve(
            "sas-export", str(export_id), tid, f"{doc['file_name']}.xlsx", self.clock.now()
        )
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(doc["type"])
        ws.append(list(spec["columns"]))
        rows = fixture_rows(spec)
        for r in rows:
            ws.append(r)
        wb.save(Path(art.path or ""))
        self.artifacts.finish(
            art.key, len(rows), Path(art.path or "").stat().st_size, self.clock.now()
        )

    def describe(self, tid: int, export_id: int) -> ExportView:
        row = self.store.query_one(
            "SELECT * FROM jobs WHERE id=? AND tid=? AND kind='sas_export'", (export_id, tid)
        )
        if row is None:
            raise NotFound("export", f"The export task {export_id} does not exist.")
        doc = json.loads(row["doc"])
        total = int(doc["total"])
        elapsed = self.clock.now() - row["created_at"]
        fault = doc.get("fault") or {}
        if fault.get("outcome") == "stall":
            elapsed = min(
                elapsed,
                INIT_SECONDS + float(fault.get("progress_at", 0.5)) * total / ROWS_PER_SECOND,
            )
            if fault.get("seconds") is not None:
                elapsed = max(
                    elapsed, self.clock.now() - row["created_at"] - float(fault["seconds"])
                )
        art = self.artifacts.for_owner(str(export_id))
        ready = art is not None and art.status == "success"
        duration = INIT_SECONDS + total / ROWS_PER_SECOND
        if elapsed < INIT_SECONDS:
            status, current = "init", 0
        elif fault.get("outcome") == "fail" and elapsed >= INIT_SECONDS + total / (
            2 * ROWS_PER_SECOND
        ):
            status, current = "failed", total // 2
        elif elapsed < duration or not ready:
            status = "exporting"
            current = min(total - 1, int((elapsed - INIT_SECONDS) * ROWS_PER_SECOND))
        else:
            status, current = "success", total
        progress = 100 if status == "success" else int(100 * current / total) if total else 0
        message = (
            "success"
            if status == "success"
            else (fault.get("reason") or "export failed")
            if status == "failed"
            else ""
        )
        return ExportView(
            export_id,
            doc["file_name"],
            status,
            progress,
            current,
            total,
            message,
            art.key if ready and status == "success" and art else None,
        )
