"""The accounts file's database keys (db_type, dsn, control_mode): what start-up accepts and refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.platform.accounts import AccountsError, load_accounts
from emulator.testing.process import run_cli

USER = (
    "    users:\n      - uid: 1\n        name: a\n        role: ADMIN\n"
    "        access_key_id: AKACC1\n        access_key_secret: S1\n"
)


def accounts(tmp: Path, database: str) -> Path:
    (tmp / "db.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY);\n")
    path = tmp / "accounts.yaml"
    path.write_text(
        "tenants:\n  - tid: 1\n    name: t\n"
        + USER
        + "    databases:\n      - db_id: 100\n        schema: s\n"
        + "".join(f"        {line}\n" for line in database.strip().splitlines())
    )
    return path


@pytest.mark.parametrize(
    "database, expected",
    [
        ("fixture: db.sql\ndsn: mysql://u:p@127.0.0.1:3306/s\ndb_type: mysql", "not both"),
        ("db_type: mysql", "needs a fixture or a dsn"),
        ("fixture: db.sql\ndb_type: oracle", "db_type: Must be one of"),
        ("fixture: db.sql\ncontrol_mode: chaos", "control_mode: Must be one of"),
        ("dsn: mysql://u:p@127.0.0.1:3306/s", "needs db_type"),
        ("dsn: postgresql://u:p@127.0.0.1/s\ndb_type: mysql", "must start with mysql://"),
        ("dsn: mysql://u:p@127.0.0.1:3306/\ndb_type: mariadb", "names no database"),
        ("fixture: db.sql\nengine: innodb", "engine: unknown key"),
    ],
)
def test_bad_database_keys_stop_start_up_with_one_line(
    tmp_path: Path, database: str, expected: str
) -> None:
    path = accounts(tmp_path, database)
    with pytest.raises(AccountsError, match=expected):
        load_accounts(path)
    out = run_cli(
        "serve", "--port", "0", "--accounts", str(path), env={"XDG_CACHE_HOME": str(tmp_path)}
    )
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 2 and len(lines) == 1 and expected in lines[0], out.stderr
    assert "Traceback" not in out.stderr and ":p@" not in lines[0]  # never the password


def test_declared_keys_and_defaults(tmp_path: Path) -> None:
    acc = load_accounts(
        accounts(
            tmp_path,
            "db_type: postgresql\ndsn: postgresql://u:secret@127.0.0.1:5432/s\n"
            "control_mode: stable_change",
        )
    )
    db = acc.databases[100]
    assert (db.db_type, db.dialect, db.control_mode, db.fixture) == (
        "postgresql",
        "postgresql",
        "stable_change",
        None,
    )
    assert "secret" not in db.where
    plain = load_accounts(accounts(tmp_path, "fixture: db.sql")).databases[100]
    assert (plain.db_type, plain.dialect, plain.control_mode) == (
        None,
        "sqlite",
        "security_collaboration",
    )
