"""A dump fixture the embedded engine cannot load stops start-up: exit 2, one line, file:line:construct."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.testing.process import run_cli

ACCOUNTS = """tenants:
  - tid: 1
    name: t1
    users:
      - uid: 10
        name: u10
        role: ADMIN
        access_key_id: AK1
        access_key_secret: s3cret
    databases:
      - db_id: 100
        schema: shop
        db_type: {db_type}
        fixture: {fixture}
"""

MYSQL_BAD = """-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;
CREATE TABLE `t` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO `t` VALUES (1),(2);
DELIMITER ;;
/*!50003 CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.id = 1 */;;
DELIMITER ;
"""

PG_BAD = """SET client_encoding = 'UTF8';
CREATE TABLE public.t (
    id integer NOT NULL
);
CREATE FUNCTION public.f() RETURNS integer
    LANGUAGE sql AS $$ SELECT 1 $$;
"""


@pytest.mark.parametrize(
    ("db_type", "name", "script", "where"),
    [
        ("mariadb", "bad.mysql.sql", MYSQL_BAD, ":8: cannot load DELIMITER"),
        ("postgresql", "bad.pg.sql", PG_BAD, ":5: cannot load CREATE FUNCTION"),
    ],
)
def test_unloadable_dump_fixture_exits_2_naming_file_line_construct(
    tmp_path: Path, db_type: str, name: str, script: str, where: str
) -> None:
    (tmp_path / name).write_text(script)
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(ACCOUNTS.format(db_type=db_type, fixture=name))
    out = run_cli(
        "serve", "--port", "0", "--accounts", str(accounts),
        env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert f"{name}{where}" in lines[0], lines[0]
