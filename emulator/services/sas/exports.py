"""Sas exports: every export family starts here and is watched growing on the emulated clock.

This module owns the Sas rows of the state store (the only SQL on them lives here). The
workbook itself is written by a background job from fixture records; statuses are derived
from the start time, the clock and whether the file exists (see domain/lifecycle.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.core.clock import Clock, day_stamp
from emulator.core.errors import Invalid, NotFound
from emulator.core.jobs import Jobs
from emulator.platform.artifacts import Artifacts
from emulator.services.sas.domain import lifecycle
from emulator.services.sas.domain.catalog import Sheet, family_sheet, record_sheets
from emulator.services.sas.domain.filters import Filter, filter_doc, filter_from_doc, select
from emulator.services.sas.domain.lifecycle import Family, Progress
from emulator.services.sas.domain.workbook import (
    Render,
    summarise,
    table,
    write_xlsx,
    write_zipped_xlsx,
)
from emulator.state.store import Store, dumps

# Sas export tasks: this module alone writes `jobs` (every row is a Sas export, kind
# `sas_export`; data-tracking downloads moved out in v4). Older rows carry no `family`: they
# are ExportRecord tasks (see _request_from_doc). Its declaration is `JOBS` in
# emulator/services/sas/service.py.

EXPORT_ID_START = 131_001
JOB_KIND = "sas_export"  # rows of the shared jobs table that belong to Sas
ARTIFACT_KIND = "sas-export"


@dataclass(frozen=True)
class ExportRequest:
    """What to export, in domain terms (the api layer builds it from wire parameters)."""

    family: Family
    lang: str = "zh"
    export_type: str = ""  # ExportRecord's list; the family's own list otherwise
    conds: Filter = ()
    render: Render = field(default_factory=Render)
    properties: dict[str, Any] = field(
        default_factory=dict
    )  # echoed by DescribeSuspEventExportInfo


@dataclass(frozen=True)
class ExportView:
    id: int
    family: Family
    file_name: str
    created_at: float
    progress: Progress
    message: str
    artifact_key: str | None  # set once the file can be downloaded
    properties: dict[str, Any]


def sheet_for(req: ExportRequest) -> Sheet:
    if req.family is Family.RECORD:
        sheets = record_sheets()
        if req.export_type not in sheets:
            raise Invalid(
                "ExportType",
                f"ExportType {req.export_type!r} is not one the emulator has records for "
                f"({', '.join(sorted(sheets))})",
            )
        return sheets[req.export_type]
    return family_sheet(req.family)


def rows_of(req: ExportRequest) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the workbook `req` asks for."""
    sheet = sheet_for(req)
    records = select(sheet.records, req.conds)
    columns = sheet.columns
    if req.render.summary and sheet.summary_columns:
        records, columns = summarise(records), sheet.summary_columns
    return [c.label(req.lang) for c in columns], table(records, columns, req.render)


def _request_doc(req: ExportRequest) -> dict[str, Any]:
    return {
        "family": req.family.value,
        "type": req.export_type,
        "lang": req.lang,
        "filter": filter_doc(req.conds),
        "cleartext": req.render.cleartext,
        "summary": req.render.summary,
        "properties": req.properties,
    }


def _request_from_doc(doc: dict[str, Any]) -> ExportRequest:
    return ExportRequest(
        Family(doc.get("family", Family.RECORD.value)),  # older state files: ExportRecord only
        doc.get("lang", "zh"),
        doc.get("type", ""),
        filter_from_doc(doc.get("filter", [])),
        Render(bool(doc.get("cleartext", True)), bool(doc.get("summary", False))),
        dict(doc.get("properties", {})),
    )


class SasExports:
    def __init__(self, store: Store, clock: Clock, artifacts: Artifacts, jobs: Jobs):
        self.store, self.clock, self.artifacts, self.jobs = store, clock, artifacts, jobs
        self.resume()

    # --- the only SQL on Sas rows -----------------------------------------------------------

    def _insert(self, export_id: int, tid: int, now: float, doc: dict[str, Any]) -> None:
        self.store.execute(
            "INSERT INTO jobs (id, kind, tid, owner, created_at, doc) VALUES (?,?,?,?,?,?)",
            (export_id, JOB_KIND, tid, str(export_id), now, dumps(doc)),
        )

    def _row(self, tid: int, export_id: int) -> Any:
        return self.store.query_one(
            "SELECT * FROM jobs WHERE id=? AND tid=? AND kind=?", (export_id, tid, JOB_KIND)
        )

    def _rows(self, tid: int | None) -> list[Any]:
        sql = "SELECT * FROM jobs WHERE kind=?" + ("" if tid is None else " AND tid=?")
        args: tuple[Any, ...] = (JOB_KIND,) if tid is None else (JOB_KIND, tid)
        return list(self.store.query(sql + " ORDER BY id DESC", args))

    # --- lifecycle --------------------------------------------------------------------------

    def start(
        self, tid: int, req: ExportRequest, fault: dict[str, Any] | None, now: float
    ) -> ExportView:
        """A new export of `req` started at `now` (the request's time), with the lifecycle
        fault the starting call matched, if any."""
        header, rows = rows_of(req)  # validates the request before anything is stored
        sheet = sheet_for(req)
        export_id = self.store.next_id("sas_export", EXPORT_ID_START)
        day = day_stamp(now)
        doc = {
            **_request_doc(req),
            "file_name": f"{sheet.file_prefix}_{day}",
            "file_type": "xlsx",
            "total": len(rows),
            "fault": fault or {},
        }
        self._insert(export_id, tid, now, doc)
        self._submit(tid, export_id, doc, header, rows)
        return self.describe(tid, (req.family,), export_id, now)

    def _submit(
        self,
        tid: int,
        export_id: int,
        doc: dict[str, Any],
        header: list[str],
        rows: list[list[Any]],
    ) -> None:
        if (doc.get("fault") or {}).get("outcome") == "fail":
            return  # it fails before any file exists
        self.jobs.submit(
            f"sas-export-{export_id}", lambda: self._write(tid, export_id, doc, header, rows)
        )

    def _write(
        self,
        tid: int,
        export_id: int,
        doc: dict[str, Any],
        header: list[str],
        rows: list[list[Any]],
    ) -> None:
        family = Family(doc.get("family", Family.RECORD.value))
        zipped = family is not Family.RECORD  # ExportRecord's Link is the bare .xlsx
        name = f"{doc['file_name']}.{'zip' if zipped else 'xlsx'}"
        art = self.artifacts.reserve(ARTIFACT_KIND, str(export_id), tid, name, self.clock.now())
        path = Path(art.path or "")
        sheet = doc["type"] if family is Family.RECORD else family_sheet(family).sheet
        if zipped:
            write_zipped_xlsx(path, f"{doc['file_name']}.xlsx", sheet, header, rows)
        else:
            write_xlsx(path, sheet, header, rows)
        self.artifacts.finish(art.key, len(rows), path.stat().st_size, self.clock.now())

    def resume(self) -> int:
        """After a restart, write the files of exports whose file was never written."""
        count = 0
        for row in self._rows(None):
            art = self.artifacts.for_owner(str(row["id"]))
            if art is not None and art.status == "success":
                continue
            doc = json.loads(row["doc"])
            try:
                header, rows = rows_of(_request_from_doc(doc))
            except Invalid:
                continue  # a list this version no longer has: it stays exporting
            self._submit(row["tid"], row["id"], doc, header, rows)
            count += 1
        return count

    def describe(
        self, tid: int, families: tuple[Family, ...], export_id: int, now: float
    ) -> ExportView:
        """The export `export_id` of tenant `tid` as of `now`, if one of `families` made it."""
        row = self._row(tid, export_id)
        doc = json.loads(row["doc"]) if row is not None else {}
        if row is None or Family(doc.get("family", Family.RECORD.value)) not in families:
            raise NotFound("export", f"The export task {export_id} does not exist.")
        return self._view(row, doc, now)

    def list(self, tid: int | None, now: float) -> list[tuple[int, ExportView]]:
        """(tenant, export) as of `now`, newest first: what the console shows."""
        return [(r["tid"], self._view(r, json.loads(r["doc"]), now)) for r in self._rows(tid)]

    def _view(self, row: Any, doc: dict[str, Any], now: float) -> ExportView:
        fault = doc.get("fault") or {}
        art = self.artifacts.for_owner(str(row["id"]))
        ready = art is not None and art.status == "success"
        p = lifecycle.progress(row["created_at"], now, int(doc["total"]), fault, ready)
        return ExportView(
            row["id"],
            Family(doc.get("family", Family.RECORD.value)),
            doc["file_name"],
            row["created_at"],
            p,
            lifecycle.message(p, fault),
            art.key if art is not None and ready and p.phase is lifecycle.Phase.SUCCESS else None,
            dict(doc.get("properties", {})),
        )
