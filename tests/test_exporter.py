"""Export files in every fileType, built from a small database made here."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pytest

from emulator.databases.sqlite import SqliteBackend
from emulator.services.dms.domain.exporter import run_export
from emulator.testing.csvread import parse, typed

ROWS = [
    (1, "plain", None, b"\x00\xff"),
    (2, "", 'comma, "quote"', None),
    (3, "新年", "line\nbreak", b""),
]


@pytest.fixture()
def db(tmp_path: Path) -> SqliteBackend:
    path = tmp_path / "t.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c BLOB)")
    conn.executemany("INSERT INTO t VALUES (?,?,?,?)", ROWS)
    conn.commit()
    conn.close()
    return SqliteBackend(path, tmp_path / "work.sqlite", "sqlite")


def member(path: Path) -> tuple[str, bytes]:
    zf = zipfile.ZipFile(path)
    (name,) = zf.namelist()
    return name, zf.read(name)


def test_csv_keeps_null_and_empty_apart_and_hexes_blobs(db: SqliteBackend, tmp_path: Path) -> None:
    result = run_export(db, "select * from t order by id;", tmp_path / "o.zip", "t", "CSV")
    assert result.rows == 3
    name, data = member(result.path)
    rows = parse(data.decode())
    assert name == "t.csv" and [v for v, _ in rows[0]] == ["id", "a", "b", "c"]
    got = [tuple(typed(f) for f in r) for r in rows[1:]]
    assert got == [
        (1, "plain", None, "00ff"),
        (2, "", 'comma, "quote"', None),
        (3, "新年", "line\nbreak", ""),
    ]


@pytest.mark.parametrize(
    "kind, suffix", [("TXT", "txt"), ("JSON", "json"), ("SQL", "sql"), ("XLSX", "xlsx")]
)
def test_every_file_type(db: SqliteBackend, tmp_path: Path, kind: str, suffix: str) -> None:
    result = run_export(db, "select id, a, b from t order by id", tmp_path / "o.zip", "t", kind)
    name, data = member(result.path)
    assert name == f"t.{suffix}" and result.rows == 3
    if kind == "JSON":
        assert [json.loads(line) for line in data.decode().splitlines()][1] == {
            "id": 2,
            "a": "",
            "b": 'comma, "quote"',
        }
    elif kind == "SQL":
        assert data.decode().startswith(
            "INSERT INTO `t` (`id`, `a`, `b`) VALUES (1, 'plain', NULL);\n"
        )
        check = sqlite3.connect(":memory:")
        check.execute("CREATE TABLE t (id, a, b)")
        check.executescript(data.decode().replace("`", '"'))
        assert check.execute("select * from t order by id").fetchall() == [
            (r[0], r[1], r[2]) for r in ROWS
        ]
    elif kind == "TXT":
        assert data.decode().splitlines()[0] == '"id"\t"a"\t"b"'
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[0] == ["id", "a", "b"] and values[3][1] == "新年" and len(values) == 4


def test_unknown_file_type_is_refused(db: SqliteBackend, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        run_export(db, "select 1", tmp_path / "o.zip", "t", "PDF")
