"""Export precheck and export files built from real data, through the database's backend.

Export SQL is proved a single read-only statement in the database's dialect before any engine
sees it, then runs in a read-only session with a deadline. Files are streamed in byte-bounded
batches, so neither a million rows nor 200 KB rows sit in memory at once.

Formats (ActionDetail `fileType`): CSV (default), TXT (tab separated), JSON (one object per
line), SQL (INSERT statements in the database's dialect) and XLSX, each inside a zip as DMS
delivers them. In CSV and TXT a NULL is an empty unquoted field and every string is quoted, so
NULL and '' stay distinct, except in a row whose only field is NULL: csv writes `""` there, as a
blank line would be read as no row at all (specs/README.md, "Export files").
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import os
import queue
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain, repeat
from pathlib import Path
from typing import IO, Any, Protocol

from emulator.core.jobs import Cancel
from emulator.databases.backend import (
    BackendError,
    DatabaseBackend,
    RowStream,
    StatementTimeout,
    Unavailable,
)
from emulator.databases.literals import identifier, literal
from emulator.databases.sqlguard import check_read_only

FILE_TYPES = ("CSV", "TXT", "JSON", "SQL", "XLSX")
PRECHECK_SECONDS = 10.0  # statement deadline of a precheck (it runs in the request)
_PLAIN = frozenset({int, float, str, type(None)})


@dataclass
class ExportResult:
    path: Path
    rows: int
    size: int


@dataclass
class PrecheckOutcome:
    ok: bool
    reason: str
    sql: str
    affect_rows: int = 0
    details: list[dict[str, object]] = field(default_factory=list)


def precheck(
    backend: DatabaseBackend,
    sql: str,
    affect_rows: int | None,
    ignore_affect_rows: bool,
    timeout: float = PRECHECK_SECONDS,
) -> PrecheckOutcome:
    """Check export SQL against the database: one read-only statement, objects, row count."""
    try:
        text = check_read_only(sql, backend.dialect)
        with backend.read_only(timeout) as session:
            session.explain(text)
            count = session.count(text)
    except StatementTimeout:
        return PrecheckOutcome(False, f"the precheck took longer than {timeout:g} seconds", sql)
    except Unavailable as exc:
        return PrecheckOutcome(False, f"the database cannot be reached: {exc}", sql)
    except BackendError as exc:
        return PrecheckOutcome(False, str(exc), sql)
    details: list[dict[str, object]] = [{"SQL": text, "AffectRows": count}]
    if not ignore_affect_rows and affect_rows is not None and count > affect_rows:
        return PrecheckOutcome(
            False,
            f"the SQL affects {count} rows, more than the estimated affectRows {affect_rows}; "
            "raise affectRows or set ignoreAffectRows with a reason",
            sql,
            count,
            details,
        )
    return PrecheckOutcome(True, "", sql, count, details)


class _Null(float):
    """Stands for NULL in CSV/TXT: a 'number' (so never quoted) that prints as nothing."""

    def __repr__(self) -> str:
        return ""

    __str__ = __repr__


NULL = _Null(0)


def _text(v: Any) -> Any:
    """A driver value as the text/number a file holds (dates as MySQL prints them)."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        s = int(v.total_seconds())
        h, rest = divmod(abs(s), 3600)
        return f"{'-' if s < 0 else ''}{h:02d}:{rest // 60:02d}:{rest % 60:02d}"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (int, float, str, Decimal)) or v is None:
        return v
    return str(v)


_KEEP = frozenset({int, float, str, type(None), Decimal})  # the writers take these as they are
_AS_STR = frozenset({dt.datetime, dt.date, dt.time, type(None)})  # str() is the file's text


def _convert(rows: list[tuple[Any, ...]], decimal_text: bool, null: Any) -> list[tuple[Any, ...]]:
    """Driver values to file values, column by column (a type decided once per column), and
    NULL to `null` when given."""
    cols = list(zip(*rows, strict=True))
    for i, col in enumerate(cols):
        types = set(map(type, col))
        has_null = type(None) in types
        if types <= _KEEP and not (decimal_text and Decimal in types):
            pass
        elif types <= _AS_STR and not any(getattr(v, "tzinfo", None) for v in col[:1]):
            col = (
                tuple(None if v is None else str(v) for v in col)
                if has_null
                else tuple(map(str, col))
            )
        elif decimal_text:
            col = tuple(str(v) if type(v) is Decimal else _text(v) for v in col)
        else:
            col = tuple(map(_text, col))
        if has_null and null is not None:
            col = tuple(null if v is None else v for v in col)
        cols[i] = col
    return list(zip(*cols, strict=True))


def _prepare(rows: list[tuple[Any, ...]], null: Any, decimal_text: bool) -> list[tuple[Any, ...]]:
    """One batch of driver values as the writers take them."""
    types = set(map(type, chain.from_iterable(rows)))  # C speed: usually nothing to do
    if types <= _PLAIN and (null is None or type(None) not in types):
        return rows
    if types <= _PLAIN:  # only NULLs to mark: rows without one (`in` runs in C) stay
        return [r if None not in r else tuple(null if v is None else v for v in r) for r in rows]
    return _convert(rows, decimal_text, null)


def _raw_batches(stream: RowStream, cancel: Cancel | None) -> Iterator[list[tuple[Any, ...]]]:
    for rows in stream.batches:
        if cancel is not None and cancel.is_set:
            raise StatementTimeout(cancel.reason or "the export was cancelled")
        yield rows


def _batches(
    stream: RowStream, cancel: Cancel | None, null: Any = None, decimal_text: bool = False
) -> Iterator[list[tuple[Any, ...]]]:
    for rows in _raw_batches(stream, cancel):
        yield _prepare(rows, null, decimal_text)


_MARK = {None: "\x00"}  # NULL while a batch is formatted, when some text holds "None"
_QUOTE = "\x01"  # the template's quotes while the data's own quotes are doubled
_NONE = type(None)
_TEXT = frozenset({str, _NONE})
_NUMBERS = frozenset({int, float, _NONE})


def _fast_delimited(rows: list[tuple[Any, ...]], delimiter: str) -> str | None:
    """A batch as csv.writer(QUOTE_NONNUMERIC) writes it, from one `%` template per row and a
    few passes over the batch's text (every per-value step runs in C; csv.writer costs about
    twice as much); None when a column needs the general path (dates, decimals, blobs,
    booleans, text mixed with numbers, text holding \\x00 or \\x01).

    Byte for byte what csv writes for these types: text quoted with its quotes doubled, int
    and float as str() (a float's repr), NULL empty and unquoted, except a row whose only
    field is NULL, which csv writes as `""`. A NULL is first printed as `None` (and later
    removed) unless some text of the batch holds "None"; then as \\x00.
    """
    k = len(rows[0])
    flat = list(chain.from_iterable(rows))
    slots, texts, nulls, bare = [], [], [], False  # bare: a NULL in a number column
    for i in range(k):
        column = flat[i::k]
        kinds = set(map(type, column))
        if _NONE in kinds:
            nulls.append(i)
        if kinds <= _TEXT:  # (a column of NULLs only, too)
            slots.append(True)
            texts.append("".join(filter(None, column)) if _NONE in kinds else "".join(column))
        elif kinds <= _NUMBERS:
            slots.append(False)
            bare = bare or _NONE in kinds
        else:
            return None
    text = "".join(texts)
    quote = _QUOTE if '"' in text else '"'
    if quote in text:
        return None
    null = "None"
    if nulls and null in text:  # mark each NULL instead (then the rows are built again)
        if "\x00" in text:
            return None
        null = "\x00"
        for i in nulls:
            column = flat[i::k]
            flat[i::k] = list(map(_MARK.get, column, column))
        rows = list(zip(*[iter(flat)] * k, strict=True))
    template = delimiter.join(f"{quote}%s{quote}" if s else "%s" for s in slots)
    out = "\r\n".join(map(template.__mod__, rows)) + "\r\n"
    if quote == _QUOTE:
        out = out.replace('"', '""')
    if nulls:  # what remains of `null` after the quoted ones can only be a number column's
        empty = '""' if k == 1 else ""  # csv quotes a row's only empty field
        out = out.replace(f"{quote}{null}{quote}", empty)
        out = out.replace(null, empty) if bare else out
    return out.replace(_QUOTE, '"') if quote == _QUOTE else out


class _Text(Protocol):
    def write(self, text: str, /) -> Any: ...


class _Deflate:
    """Encodes text and hands it, in pieces of about `CHUNK` bytes, to a second thread that
    writes the zip entry: zlib and crc32 release the GIL, so deflating one piece overlaps
    reading and formatting the next (few, large pieces: few GIL hand-overs). The queue is
    bounded (`DEPTH` pieces), so memory stays bounded when deflate falls behind."""

    DEPTH = 3
    CHUNK = 1 << 20

    def __init__(self, raw: IO[bytes], encoding: str):
        self.raw = raw
        self.encode = codecs.getincrementalencoder(encoding)().encode  # a BOM once, if any
        self.pending: list[bytes] = []
        self.size = 0
        self.queue: queue.Queue[bytes | None] = queue.Queue(self.DEPTH)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="export-deflate", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            if self.error is None:  # after a failure keep draining, so `write` never blocks
                try:
                    self.raw.write(chunk)
                except BaseException as exc:  # noqa: BLE001 - raised again in the caller
                    self.error = exc

    def write(self, text: str) -> None:
        if self.error is not None:
            raise self.error
        data = self.encode(text)
        self.pending.append(data)
        self.size += len(data)
        if self.size >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.queue.put(b"".join(self.pending))
            self.pending.clear()
            self.size = 0

    def close(self, failed: bool = False) -> None:
        """Wait for the writer thread (always called); raise what it hit, unless the caller
        already failed (its own error is the one to report)."""
        if not failed:
            self._flush()
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and not failed:
            raise self.error


class _Lines:
    """What csv.writer writes to: each line appended to a list (no per-line file call)."""

    def __init__(self, append: Callable[[str], Any]):
        self.write = append


def _write_delimited(out: _Text, stream: RowStream, cancel: Cancel | None, delimiter: str) -> int:
    lines: list[str] = []
    writer = csv.writer(
        _Lines(lines.append),
        delimiter=delimiter,
        quoting=csv.QUOTE_NONNUMERIC,
        lineterminator="\r\n",
    )
    writer.writerow(stream.columns)
    out.write(lines.pop())
    n = 0
    for rows in _raw_batches(stream, cancel):
        text = _fast_delimited(rows, delimiter)
        if text is None:  # the general path: values converted, then csv writes them
            writer.writerows(_prepare(rows, NULL, False))
            text = "".join(lines)
            lines.clear()
        out.write(text)
        n += len(rows)
    return n


def _write_json(out: _Text, stream: RowStream, cancel: Cancel | None) -> int:
    n = 0
    cols = stream.columns
    encode = json.JSONEncoder(ensure_ascii=False).encode  # what json.dumps builds per call
    for rows in _batches(stream, cancel, decimal_text=True):
        objects = map(dict, map(zip, repeat(cols), rows))
        out.write("\n".join(map(encode, objects)) + "\n")
        n += len(rows)
    return n


def _write_sql(
    out: _Text, stream: RowStream, cancel: Cancel | None, table: str, dialect: str
) -> int:
    n = 0
    names = ", ".join(identifier(c, dialect) for c in stream.columns)
    head = f"INSERT INTO {identifier(table, dialect)} ({names}) VALUES ("
    for rows in stream.batches:
        if cancel is not None and cancel.is_set:
            raise StatementTimeout(cancel.reason or "the export was cancelled")
        out.write("".join(head + ", ".join(literal(v, dialect) for v in r) + ");\n" for r in rows))
        n += len(rows)
    return n


def _xlsx_cell(v: Any) -> Any:
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.datetime, dt.date, dt.time, dt.timedelta, Decimal)):
        return v
    return _text(v)


def _write_xlsx(target: Path, stream: RowStream, cancel: Cancel | None) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("export")
    ws.append(stream.columns)
    n = 0
    for rows in stream.batches:
        if cancel is not None and cancel.is_set:
            raise StatementTimeout(cancel.reason or "the export was cancelled")
        for r in rows:
            ws.append([_xlsx_cell(v) for v in r])
        n += len(rows)
    wb.save(target)
    return n


def run_export(
    backend: DatabaseBackend,
    sql: str,
    target_zip: Path,
    base_name: str,
    file_type: str = "CSV",
    encoding: str = "utf-8",
    cancel: Cancel | None = None,
    timeout: float | None = None,
) -> ExportResult:
    """Run `sql` read-only and write `target_zip`; the partial file never appears under its name.

    Raises BackendError (with a message fit for the ticket) when the SQL or the database fails,
    the deadline passes or `cancel` is set.
    """
    file_type = file_type.upper()
    if file_type not in FILE_TYPES:
        raise ValueError(f"unsupported fileType {file_type}")
    text = check_read_only(sql, backend.dialect)
    target_zip.parent.mkdir(parents=True, exist_ok=True)
    partial = target_zip.with_suffix(".partial")
    ext = {"CSV": "csv", "TXT": "txt", "JSON": "json", "SQL": "sql", "XLSX": "xlsx"}[file_type]
    try:
        with (
            backend.read_only(timeout, cancel) as session,
            zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        ):
            stream = session.stream(text)
            if file_type == "XLSX":
                sheet = partial.with_suffix(".xlsx.tmp")
                try:
                    rows = _write_xlsx(sheet, stream, cancel)
                    zf.write(sheet, f"{base_name}.{ext}")
                finally:
                    if sheet.exists():
                        sheet.unlink()
            else:
                with zf.open(f"{base_name}.{ext}", "w", force_zip64=True) as raw:
                    out = _Deflate(raw, encoding)
                    try:
                        if file_type == "CSV":
                            rows = _write_delimited(out, stream, cancel, ",")
                        elif file_type == "TXT":
                            rows = _write_delimited(out, stream, cancel, "\t")
                        elif file_type == "JSON":
                            rows = _write_json(out, stream, cancel)
                        else:
                            rows = _write_sql(out, stream, cancel, base_name, backend.dialect)
                    except BaseException:
                        out.close(failed=True)
                        raise
                    out.close()
        os.replace(partial, target_zip)
    finally:
        if partial.exists():
            partial.unlink()
    return ExportResult(target_zip, rows, target_zip.stat().st_size)
