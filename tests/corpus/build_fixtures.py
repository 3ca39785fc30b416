"""Rebuild fixtures/databases/*.mysql.sql and *.pg.sql with the real dump tools (run by hand).

The rows come from the SQLite fixtures (fixtures/databases/{shop,hr}.sql) so every dialect holds
the same data; the DDL below gives them the types, keys, defaults and comments a production
MySQL/PostgreSQL schema has. The tables are created on private servers and the files written
by `mariadb-dump` and `pg_dump` themselves, so the fixtures are what those tools really emit.

    python -m tests.corpus.build_fixtures
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from emulator.testing.dbservers import MariaDBServer, PostgresServer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "databases"

MYSQL_DDL = {
    "shop": [
        """CREATE TABLE customers (
  id int unsigned NOT NULL AUTO_INCREMENT COMMENT '客户ID',
  name varchar(100) NOT NULL COMMENT '客户姓名',
  email varchar(255) DEFAULT NULL COMMENT 'contact email, NULL when unknown',
  city varchar(64) DEFAULT NULL,
  note text COMMENT '备注 (free text)',
  created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT 'sign-up time (UTC)',
  PRIMARY KEY (id),
  KEY idx_city (city)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='客户表'""",
        """CREATE TABLE products (
  id int unsigned NOT NULL AUTO_INCREMENT,
  sku varchar(32) NOT NULL COMMENT 'stock keeping unit',
  title varchar(200) NOT NULL,
  price decimal(10,2) NOT NULL DEFAULT 0.00 COMMENT 'unit price, CNY',
  stock int DEFAULT NULL COMMENT 'NULL: not tracked',
  PRIMARY KEY (id),
  UNIQUE KEY uk_sku (sku)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='商品'""",
        """CREATE TABLE orders (
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  customer_id int unsigned NOT NULL,
  product_id int unsigned NOT NULL,
  quantity smallint NOT NULL DEFAULT 1,
  status varchar(16) NOT NULL DEFAULT 'NEW' COMMENT 'NEW, PAID, SHIPPED, DELIVERED, CANCELLED',
  amount decimal(12,2) NOT NULL COMMENT 'quantity * price',
  remark varchar(500) DEFAULT NULL,
  ordered_at datetime NOT NULL,
  PRIMARY KEY (id),
  KEY idx_customer (customer_id),
  KEY idx_ordered_at (ordered_at),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
  CONSTRAINT fk_orders_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='订单'""",
    ],
    "hr": [
        """CREATE TABLE departments (
  id int NOT NULL AUTO_INCREMENT,
  name varchar(100) NOT NULL COMMENT '部门名称',
  manager_id int DEFAULT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='departments'""",
        """CREATE TABLE employees (
  id int NOT NULL AUTO_INCREMENT,
  department_id int NOT NULL,
  full_name varchar(100) NOT NULL,
  title varchar(100) DEFAULT NULL,
  hired_on date NOT NULL,
  phone varchar(32) DEFAULT NULL COMMENT 'E.164-ish',
  PRIMARY KEY (id),
  KEY idx_department (department_id),
  CONSTRAINT fk_emp_dept FOREIGN KEY (department_id) REFERENCES departments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
        """CREATE TABLE salaries (
  id int NOT NULL AUTO_INCREMENT,
  employee_id int NOT NULL,
  period char(7) NOT NULL COMMENT 'e.g. 2024-H1',
  gross decimal(12,2) NOT NULL,
  bonus decimal(12,2) DEFAULT NULL,
  PRIMARY KEY (id),
  KEY idx_employee (employee_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    ],
}

PG_DDL = {
    "shop": """
CREATE TABLE customers (
  id serial PRIMARY KEY,
  name varchar(100) NOT NULL,
  email varchar(255),
  city varchar(64),
  note text,
  created_at timestamp without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE customers IS '客户表';
COMMENT ON COLUMN customers.id IS '客户ID';
COMMENT ON COLUMN customers.name IS '客户姓名';
COMMENT ON COLUMN customers.created_at IS 'sign-up time (UTC)';
CREATE INDEX idx_city ON customers (city);
CREATE TABLE products (
  id serial PRIMARY KEY,
  sku varchar(32) NOT NULL UNIQUE,
  title varchar(200) NOT NULL,
  price numeric(10,2) NOT NULL DEFAULT 0.00,
  stock integer
);
COMMENT ON COLUMN products.price IS 'unit price, CNY';
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers (id),
  product_id integer NOT NULL REFERENCES products (id),
  quantity smallint NOT NULL DEFAULT 1,
  status varchar(16) NOT NULL DEFAULT 'NEW',
  amount numeric(12,2) NOT NULL,
  remark varchar(500),
  ordered_at timestamp without time zone NOT NULL
);
COMMENT ON COLUMN orders.status IS 'NEW, PAID, SHIPPED, DELIVERED, CANCELLED';
CREATE INDEX idx_orders_customer ON orders (customer_id);
CREATE INDEX idx_orders_ordered_at ON orders (ordered_at);
""",
    "hr": """
CREATE TABLE departments (
  id serial PRIMARY KEY,
  name varchar(100) NOT NULL,
  manager_id integer
);
COMMENT ON COLUMN departments.name IS '部门名称';
CREATE TABLE employees (
  id serial PRIMARY KEY,
  department_id integer NOT NULL REFERENCES departments (id),
  full_name varchar(100) NOT NULL,
  title varchar(100),
  hired_on date NOT NULL,
  phone varchar(32)
);
CREATE INDEX idx_employees_department ON employees (department_id);
CREATE TABLE salaries (
  id serial PRIMARY KEY,
  employee_id integer NOT NULL REFERENCES employees (id),
  period char(7) NOT NULL,
  gross numeric(12,2) NOT NULL,
  bonus numeric(12,2)
);
""",
}

ORDER = {
    "shop": ["customers", "products", "orders"],
    "hr": ["departments", "employees", "salaries"],
}


def rows_of(db: str) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    conn = sqlite3.connect(":memory:")
    conn.executescript((FIXTURES / f"{db}.sql").read_text())
    out = {}
    for table in ORDER[db]:
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY id")
        out[table] = ([d[0] for d in cur.description], cur.fetchall())
    return out


def build_mysql(server: MariaDBServer, db: str) -> str:
    server.query(f"DROP DATABASE IF EXISTS `{db}`", database="")
    server.query(
        f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci", database=""
    )
    conn = server.connect(database=db)
    cur = conn.cursor()
    for ddl in MYSQL_DDL[db]:
        cur.execute(ddl)
    for table, (cols, rows) in rows_of(db).items():
        marks = ", ".join(["%s"] * len(cols))
        cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
    conn.commit()
    conn.close()
    saved = server.database
    server.database = db
    try:
        return server.dump("--skip-dump-date", "--extended-insert", "--net-buffer-length=16384")
    finally:
        server.database = saved


def build_pg(server: PostgresServer, db: str) -> str:
    if db != server.database:
        conn = server.connect(autocommit=True)
        conn.execute(f"CREATE DATABASE {db}")
        conn.close()
    conn = server.connect(database=db)
    conn.execute(PG_DDL[db])
    with conn.cursor() as cur:
        for table, (cols, rows) in rows_of(db).items():
            marks = ", ".join(["%s"] * len(cols))
            cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
            # rows came with their ids: move each serial on as an application's inserts would,
            # so the dump's setval lines let an INSERT without an id take the next one
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
    conn.commit()
    conn.close()
    saved = server.database
    server.database = db
    try:
        return server.dump("--no-owner", "--no-privileges")
    finally:
        server.database = saved


def main() -> None:
    with MariaDBServer() as maria:
        for db in ORDER:
            (FIXTURES / f"{db}.mysql.sql").write_text(build_mysql(maria, db))
    with PostgresServer() as pg:
        for db in ORDER:
            (FIXTURES / f"{db}.pg.sql").write_text(build_pg(pg, db))
    for f in sorted(FIXTURES.glob("*.*.sql")):
        print(f, f.stat().st_size)


if __name__ == "__main__":
    main()
