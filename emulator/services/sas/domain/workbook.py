"""Workbooks: the rows an export holds, and the .xlsx (bare, or inside a .zip) that carries them."""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.services.sas.domain.catalog import Column, Record

Cell = str | int | float


@dataclass(frozen=True)
class Render:
    """How records become cells: `cleartext` shows weak passwords; `summary` groups baseline
    results by risk item (ExportWarning's IsCleartextPwd / IsSummaryExport)."""

    cleartext: bool = True
    summary: bool = False


def mask(secret: str) -> str:
    if not secret:
        return ""
    return secret[0] + "***" + secret[-1]


def cell(value: Any) -> Cell:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool) or value is None:
        return str(value or "")
    if isinstance(value, int | float | str):
        return value
    return str(value)


def summarise(records: Sequence[Record]) -> list[Record]:
    """One row per risk item, in first-seen order, counting failed (1) and passed (3) results."""
    out: dict[Any, Record] = {}
    for r in records:
        row = out.setdefault(r["risk_id"], {**r, "failed": 0, "passed": 0})
        row["failed" if r["status"] == 1 else "passed"] += 1
    return list(out.values())


def table(records: Sequence[Record], columns: Sequence[Column], render: Render) -> list[list[Cell]]:
    rows = []
    for r in records:
        rec = (
            r if render.cleartext or "password" not in r else {**r, "password": mask(r["password"])}
        )
        rows.append([cell(rec.get(c.field, "")) for c in columns])
    return rows


def write_xlsx(path: Path, sheet: str, header: list[str], rows: list[list[Cell]]) -> None:
    from openpyxl import Workbook  # not on the start-up path

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)


def write_zipped_xlsx(
    path: Path, member: str, sheet: str, header: list[str], rows: list[list[Cell]]
) -> None:
    """A .zip holding one .xlsx (what the Sas console's vulnerability export downloads)."""
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        write_xlsx(Path(tmp), sheet, header, rows)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(tmp, member)
    finally:
        os.unlink(tmp)
