"""The fast CSV/TXT path writes, byte for byte, the format the export promises for every SQLite
type, across batch boundaries (a batch may take the fast path and the next one not).

The oracle is the format written out here from the values sqlite3 itself returns: text quoted
with its quotes doubled, int as str, float as repr, blob as lowercase hex in quotes, NULL
empty and unquoted (csv writes a row whose only field is empty as `""`)."""

from __future__ import annotations

import random
import sqlite3
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from emulator.core.jobs import Cancel
from emulator.databases.backend import BackendError
from emulator.databases.sqlite import SqliteBackend
from emulator.services.dms.domain.exporter import run_export

FLOATS = [0.0, -0.0, 1.25, 5.0, 0.1 + 0.2, 1e16, 1e15, 1e-5, 1e-4, -2.5e300, 5e-324]
FLOATS += [float("inf"), float("-inf"), 123456789012345.0, 2.0**53 + 2]
INTS = [0, -1, 7, 2**63 - 1, -(2**63), 10**15]
PLAIN = ["a", '"', ",", "\t", "\n", "\r\n", "新", "'", " ", "x", "No", "ne"]
SEGMENTS = [  # (rows, text parts): each segment holds whole batches (a batch is <= 5,000 rows)
    (10_000, PLAIN),
    (10_000, [*PLAIN, "None"]),
    (10_000, [*PLAIN, "\x01"]),
    (10_000, [*PLAIN, "None", "\x00"]),
    (10_000, [*PLAIN, "None", "\x00", "\x01"]),
]


def value(rnd: random.Random, kind: str, parts: list[str]) -> Any:
    if kind == "mixed":
        kind = rnd.choice(["int", "float", "text", "blob"])
    if kind == "null" or (kind != "dense" and rnd.random() < 0.15):
        return None
    if kind == "int":
        return rnd.choice([*INTS, rnd.randint(-(10**9), 10**9)])
    if kind == "float":
        return rnd.choice([*FLOATS, rnd.uniform(-1e6, 1e6), rnd.randint(0, 99) * 0.25])
    if kind == "blob":
        return bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 4)))
    return "".join(rnd.choice(parts) for _ in range(rnd.randint(0, 4)))


def field(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bytes):
        return '"' + v.hex() + '"'
    if isinstance(v, str):
        return '"' + v.replace('"', '""') + '"'
    return repr(v)


def expected(columns: list[str], rows: list[tuple[Any, ...]], delimiter: str) -> bytes:
    lines = [delimiter.join(field(c) for c in columns)]
    for r in rows:
        line = delimiter.join(field(v) for v in r)
        lines.append('""' if line == "" else line)
    return ("\r\n".join(lines) + "\r\n").encode()


def build(path: Path, kinds: list[str], rnd: random.Random) -> None:
    """A table whose rows go from plain text and numbers (each batch formatted on the fast path)
    to every kind of value and text (batches on the general path)."""
    conn = sqlite3.connect(path)
    cols = ", ".join(f'"c {i}"' for i in range(len(kinds)))
    conn.execute(f"CREATE TABLE t ({cols})")
    rows = []
    for n, parts in SEGMENTS:
        late = parts is not PLAIN
        for _ in range(n):
            rows.append(
                tuple(
                    value(rnd, k if late or k not in ("blob", "mixed") else "text", parts)
                    for k in kinds
                )
            )
    conn.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(kinds))})", rows)
    conn.commit()
    conn.close()


CASES = [
    ["int", "text", "float", "text", "text"],
    ["text"],
    ["int"],
    ["null", "null"],
    ["mixed", "text", "null", "float"],
    ["blob", "int"],
    ["dense", "text"],
]


@pytest.mark.parametrize("kinds", CASES, ids=["-".join(k) for k in CASES])
def test_csv_and_txt_are_the_promised_format_for_every_type(
    tmp_path: Path, kinds: list[str]
) -> None:
    rnd = random.Random(len(kinds) * 1000 + len(kinds[0]))
    db = tmp_path / "t.sqlite"
    build(db, kinds, rnd)
    oracle = sqlite3.connect(db)
    cur = oracle.execute("SELECT * FROM t ORDER BY rowid")
    columns = [d[0] for d in cur.description]
    rows = cur.fetchall()
    backend = SqliteBackend(db, tmp_path / "work.sqlite", "sqlite")
    for file_type, delimiter in (("CSV", ","), ("TXT", "\t")):
        out = tmp_path / f"{file_type}.zip"
        result = run_export(backend, "select * from t order by rowid", out, "t", file_type)
        with zipfile.ZipFile(result.path) as zf:
            data = zf.read(f"t.{file_type.lower()}")
        assert result.rows == len(rows)
        assert data == expected(columns, rows, delimiter)


class CancelLater(Cancel):
    """Set at its `checks`-th look (the export and the database both look): mid-stream."""

    def __init__(self, checks: int):
        super().__init__()
        self.checks = checks

    @property
    def is_set(self) -> bool:
        self.checks -= 1
        if self.checks < 0:
            self.set("the tenant was reset")
        return super().is_set


@pytest.mark.parametrize("checks", [0, 40])
def test_a_cancelled_export_stops_and_leaves_no_file(tmp_path: Path, checks: int) -> None:
    db = tmp_path / "t.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", ((i, f"n{i}") for i in range(300_000)))
    conn.commit()
    conn.close()
    backend = SqliteBackend(db, tmp_path / "work.sqlite", "sqlite")
    cancel = CancelLater(checks)
    before = {t.name for t in threading.enumerate()}
    with pytest.raises(BackendError, match="reset"):
        run_export(backend, "select * from t", tmp_path / "o.zip", "t", "CSV", cancel=cancel)
    assert cancel.checks < 0  # it was asked (mid-stream for checks=40), not run to the end
    assert not list(tmp_path.glob("o.*"))
    assert {t.name for t in threading.enumerate()} <= before  # the writer thread ended


def test_text_the_encoding_cannot_hold_fails_the_export_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (name TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("plain",)] * 10_000 + [("新年",)])
    conn.commit()
    conn.close()
    backend = SqliteBackend(db, tmp_path / "work.sqlite", "sqlite")
    with pytest.raises(UnicodeEncodeError):
        run_export(backend, "select * from t", tmp_path / "o.zip", "t", "CSV", encoding="ascii")
    assert not list(tmp_path.glob("o.*"))
    result = run_export(backend, "select * from t", tmp_path / "o.zip", "t", "CSV", "gbk")
    with zipfile.ZipFile(result.path) as zf:
        assert zf.read("t.csv").decode("gbk").endswith('"新年"\r\n')
