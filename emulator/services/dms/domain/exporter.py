"""Export files built from real data, streamed so a million rows never sit in memory.

Formats (ActionDetail `fileType`): CSV (default), TXT (tab separated), JSON (one object per
line), SQL (INSERT statements) and XLSX, each inside a zip as DMS delivers them. In CSV and TXT
a NULL is an empty unquoted field and every string is quoted, so NULL and '' stay distinct.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import Any

from emulator.databases.sqlguard import open_readonly, strip_sql

FILE_TYPES = ("CSV", "TXT", "JSON", "SQL", "XLSX")
BATCH = 5_000


@dataclass
class ExportResult:
    path: Path
    rows: int
    size: int


class _Null(float):
    """Stands for NULL in CSV/TXT: a 'number' (so never quoted) that prints as nothing."""

    def __repr__(self) -> str:
        return ""

    __str__ = __repr__


NULL = _Null(0)


def _batches(cur: sqlite3.Cursor, null: Any = None) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        rows = cur.fetchmany(BATCH)
        if not rows:
            return
        if any(
            map(isinstance, chain.from_iterable(rows), repeat(bytes))
        ):  # C speed: BLOBs are rare
            rows = [tuple(v.hex() if type(v) is bytes else v for v in r) for r in rows]
        if null is not None:
            rows = [
                r if None not in r else tuple(null if v is None else v for v in r) for r in rows
            ]
        yield rows


def _sql_literal(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def _write_delimited(
    out: io.TextIOBase, cur: sqlite3.Cursor, cols: list[str], delimiter: str
) -> int:
    writer = csv.writer(
        out, delimiter=delimiter, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n"
    )
    writer.writerow(cols)
    n = 0
    for rows in _batches(cur, null=NULL):
        writer.writerows(rows)
        n += len(rows)
    return n


def _write_json(out: io.TextIOBase, cur: sqlite3.Cursor, cols: list[str]) -> int:
    n = 0
    for rows in _batches(cur):
        out.write(
            "".join(
                json.dumps(dict(zip(cols, r, strict=False)), ensure_ascii=False) + "\n"
                for r in rows
            )
        )
        n += len(rows)
    return n


def _write_sql(out: io.TextIOBase, cur: sqlite3.Cursor, cols: list[str], table: str) -> int:
    n = 0
    names = ", ".join(f"`{c}`" for c in cols)
    for rows in _batches(cur):
        out.write(
            "".join(
                f"INSERT INTO `{table}` ({names}) VALUES ({', '.join(map(_sql_literal, r))});\n"
                for r in rows
            )
        )
        n += len(rows)
    return n


def _write_xlsx(target: Path, cur: sqlite3.Cursor, cols: list[str]) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("export")
    ws.append(cols)
    n = 0
    for rows in _batches(cur):
        for r in rows:
            ws.append(list(r))
        n += len(rows)
    wb.save(target)
    return n


def run_export(
    db_path: Path,
    sql: str,
    target_zip: Path,
    base_name: str,
    file_type: str = "CSV",
    encoding: str = "utf-8",
) -> ExportResult:
    """Run `sql` read-only and write `target_zip`; the partial file never appears under its name."""
    file_type = file_type.upper()
    if file_type not in FILE_TYPES:
        raise ValueError(f"unsupported fileType {file_type}")
    target_zip.parent.mkdir(parents=True, exist_ok=True)
    partial = target_zip.with_suffix(".partial")
    conn = open_readonly(db_path)
    try:
        cur = conn.execute(strip_sql(sql))
        cols = [d[0] for d in cur.description or ()]
        ext = {"CSV": "csv", "TXT": "txt", "JSON": "json", "SQL": "sql", "XLSX": "xlsx"}[file_type]
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            if file_type == "XLSX":
                sheet = partial.with_suffix(".xlsx.tmp")
                try:
                    rows = _write_xlsx(sheet, cur, cols)
                    zf.write(sheet, f"{base_name}.{ext}")
                finally:
                    if sheet.exists():
                        sheet.unlink()
            else:
                with zf.open(f"{base_name}.{ext}", "w", force_zip64=True) as raw:
                    out = io.TextIOWrapper(raw, encoding=encoding, newline="", write_through=False)
                    if file_type == "CSV":
                        rows = _write_delimited(out, cur, cols, ",")
                    elif file_type == "TXT":
                        rows = _write_delimited(out, cur, cols, "\t")
                    elif file_type == "JSON":
                        rows = _write_json(out, cur, cols)
                    else:
                        rows = _write_sql(out, cur, cols, base_name)
                    out.flush()
                    out.detach()
        os.replace(partial, target_zip)
    finally:
        conn.close()
        if partial.exists():
            partial.unlink()
    return ExportResult(target_zip, rows, target_zip.stat().st_size)
