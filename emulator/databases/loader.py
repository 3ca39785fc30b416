"""mysqldump / pg_dump plain scripts loaded into an embedded SQLite database.

The script is read into a model first (tables, columns, keys, indexes, comments, rows), because
pg_dump adds primary keys and defaults only after the data, and SQLite cannot add a key to an
existing table. The model is then materialised: one CREATE TABLE per table, the rows, the
indexes, views, and two side tables that keep what SQLite itself would lose:

    _dms_tables(table_name, comment, engine, charset, dialect)
    _dms_columns(table_name, column_name, ordinal, column_type, nullable, default_value,
                 primary_key, auto_increment, comment)

`column_type` is the declared type (`decimal(12,2)`, `int(10) unsigned`, `character varying(64)`);
`primary_key` is the 1-based position in the key (0: not in it). Anything the loader cannot take
raises `FixtureError(filename, line, construct)`; start-up turns it into exit 2.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError

from emulator.databases import functions
from emulator.databases.dialect import Statement, UnsupportedSql, split_script, translate

_READ = {"mysql": "mysql", "postgresql": "postgres"}


class FixtureError(Exception):
    """A dump the embedded engine cannot load: which file, which line, which construct."""

    def __init__(self, filename: str, line: int, construct: str) -> None:
        super().__init__(f"{filename}:{line}: cannot load {construct}")
        self.filename = filename
        self.line = line
        self.construct = construct


@dataclass
class _Column:
    name: str
    column_type: str
    sqlite_type: str
    nullable: bool = True
    default_sql: str | None = None
    auto_increment: bool = False
    comment: str | None = None
    nocase: bool = False
    boolean: bool = False


@dataclass
class _Table:
    name: str
    line: int
    columns: list[_Column] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    uniques: list[tuple[str | None, list[str]]] = field(default_factory=list)
    indexes: list[tuple[str, list[str], bool]] = field(default_factory=list)
    foreign_keys: list[tuple[list[str], str, list[str]]] = field(default_factory=list)
    comment: str | None = None
    engine: str | None = None
    charset: str | None = None
    rows: list[tuple[list[str] | None, list[tuple[Any, ...]]]] = field(default_factory=list)

    def column(self, name: str) -> _Column | None:
        low = name.lower()
        return next((c for c in self.columns if c.name.lower() == low), None)


class _Skip(Exception):
    """The fast value scanner met something it does not read; sqlglot takes over."""


@dataclass
class _Model:
    dialect: str
    filename: str
    tables: dict[str, _Table] = field(default_factory=dict)
    views: list[tuple[str, str, int]] = field(default_factory=list)

    def table(self, name: str, line: int, construct: str) -> _Table:
        t = self.tables.get(name.lower())
        if t is None:
            raise FixtureError(self.filename, line, f"{construct} on unknown table {name}")
        return t


# --------------------------------------------------------------------------- types

_SQLITE_TYPE_OK = re.compile(r"^[a-z][a-z ]*(\(\d+(,\d+)?\))?( unsigned)?( zerofill)?$")
_TEXT_KINDS = {
    "CHAR", "VARCHAR", "TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "NCHAR", "NVARCHAR",
    "ENUM", "SET", "JSON", "JSONB", "UUID", "INET", "XML", "INTERVAL", "ARRAY",
}  # fmt: skip
_BLOB_KINDS = {"BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "BIT"}
_UNSUPPORTED_KINDS = {"GEOMETRY", "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTIPOLYGON"}
_PG_NAMES = {
    "INT": "integer", "DECIMAL": "numeric", "VARCHAR": "character varying",
    "TIMESTAMP": "timestamp without time zone", "TIMESTAMPTZ": "timestamp with time zone",
    "CHAR": "character", "FLOAT": "real", "VARBINARY": "bytea", "TIME": "time without time zone",
}  # fmt: skip


def _type_names(kind: exp.DataType, dialect: str) -> tuple[str, str, str]:
    """(declared type text, SQLite column type, kind name) of a column's DataType."""
    name = kind.this.name if hasattr(kind.this, "name") else str(kind.this)
    text = kind.sql(dialect=_READ[dialect])
    if dialect == "postgresql":
        params = re.search(r"\(.*\)$", text)
        base = _PG_NAMES.get(text.split("(")[0].upper(), text.split("(")[0].lower())
        declared = base + (params.group(0).replace(" ", "") if params else "")
    else:
        declared = re.sub(r",\s+", ",", text).lower()
    declared_sqlite = re.sub(r"^([a-z ]+)(\(\d+(?:,\d+)?\))\s+([a-z ]+)$", r"\1 \3\2", declared)
    if name in _UNSUPPORTED_KINDS:
        raise UnsupportedSql(f"column type {text}")
    if name in _TEXT_KINDS or "[]" in text:
        ok = _SQLITE_TYPE_OK.match(declared) and "int" not in declared
        sqlite_type = declared_sqlite if ok else "TEXT"
    elif name in ("DECIMAL", "BIGDECIMAL"):
        # REAL affinity: 263.00 stays 263.0, so `amount / 2` divides exactly (NUMERIC affinity
        # would store the integer 263 and SQLite would divide it as an integer).
        sqlite_type = "REAL"
    elif name in _BLOB_KINDS or declared == "bytea":
        sqlite_type = "BLOB"
    elif _SQLITE_TYPE_OK.match(declared):
        sqlite_type = declared_sqlite
    else:
        sqlite_type = "NUMERIC"
    return declared, sqlite_type, name


def _is_text_kind(name: str) -> bool:
    return name in {"CHAR", "VARCHAR", "TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "NCHAR",
                    "NVARCHAR", "ENUM", "SET"}  # fmt: skip


def _default_sql(node: exp.Expr, column: _Column) -> str | None:
    """The default as SQLite can store it, or None when it is computed (nextval, uuid())."""
    while isinstance(node, exp.Cast):
        node = node.this
    if isinstance(node, exp.Null):
        return "NULL"
    if isinstance(node, exp.Boolean):
        return "1" if node.this else "0"
    if isinstance(node, exp.Literal):
        if column.boolean and node.is_string:
            return "1" if node.this.lower() in ("t", "true", "1") else "0"
        return node.sql(dialect="sqlite")
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return node.sql(dialect="sqlite")
    if isinstance(node, (exp.CurrentTimestamp, exp.CurrentDatetime)) or (
        isinstance(node, exp.Anonymous) and node.name.upper() in ("NOW", "CURRENT_TIMESTAMP")
    ):
        return "CURRENT_TIMESTAMP"
    if isinstance(node, exp.CurrentDate):
        return "CURRENT_DATE"
    return None


# --------------------------------------------------------------------------- DDL


def _ident(node: exp.Expr | str | None) -> str:
    if node is None:
        return ""
    return node if isinstance(node, str) else node.name


def _columns_of(nodes: list[exp.Expr]) -> list[str]:
    out = []
    for n in nodes:
        if isinstance(n, exp.Ordered):
            n = n.this
        out.append(_ident(n))
    return out


def _table_ci(props: exp.Properties | None) -> bool:
    if props is None:
        return True
    for p in props.expressions:
        if isinstance(p, exp.CollateProperty):
            return not p.this.name.lower().endswith(("_bin", "binary"))
    return True


def _create_table(model: _Model, tree: exp.Create, st: Statement) -> None:
    schema = tree.this
    if not isinstance(schema, exp.Schema):
        raise FixtureError(model.filename, st.line, "CREATE TABLE ... AS SELECT / LIKE")
    name = schema.this.name
    table = _Table(name=name, line=st.line)
    props = tree.args.get("properties")
    ci = model.dialect == "mysql" and _table_ci(props)
    if props is not None:
        for p in props.expressions:
            if isinstance(p, exp.EngineProperty):
                table.engine = p.this.name
            elif isinstance(p, exp.CharacterSetProperty):
                table.charset = p.this.name
            elif isinstance(p, exp.SchemaCommentProperty):
                table.comment = p.this.this if isinstance(p.this, exp.Literal) else p.this.sql()
            elif isinstance(p, (exp.PartitionedByProperty,)) or type(p).__name__.startswith(
                "Partition"
            ):
                raise FixtureError(model.filename, st.line, "partitioned table")
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            _column(model, table, item, st, ci)
        elif isinstance(item, exp.PrimaryKey):
            table.primary_key = _columns_of(item.expressions)
        elif isinstance(item, (exp.Constraint, exp.UniqueColumnConstraint, exp.ForeignKey)):
            _constraint(table, item)
        elif isinstance(item, exp.IndexColumnConstraint):
            kind = (item.args.get("kind") or "").upper()
            if kind in ("FULLTEXT", "SPATIAL"):
                continue  # no such index in SQLite; queries still work, only slower
            table.indexes.append(
                (
                    _ident(item.this) or f"idx_{name}_{len(table.indexes)}",
                    _columns_of(item.expressions),
                    kind == "UNIQUE",
                )  # fmt: skip
            )
        else:
            raise FixtureError(model.filename, st.line, f"table element {item.sql()[:60]}")
    model.tables[name.lower()] = table


def _constraint(table: _Table, item: exp.Expr) -> None:
    cname = _ident(item.this) if isinstance(item, exp.Constraint) else None
    parts = item.expressions if isinstance(item, exp.Constraint) else [item]
    for part in parts:
        if isinstance(part, exp.PrimaryKey):
            table.primary_key = _columns_of(part.expressions)
        elif isinstance(part, exp.UniqueColumnConstraint):
            cols = part.this.expressions if isinstance(part.this, exp.Schema) else []
            table.uniques.append((cname or _ident(part.this), _columns_of(cols)))
        elif isinstance(part, exp.ForeignKey):
            ref = part.args.get("reference")
            ref_schema = ref.this if ref is not None else None
            if isinstance(ref_schema, exp.Schema):
                table.foreign_keys.append(
                    (
                        _columns_of(part.expressions),
                        ref_schema.this.name,
                        _columns_of(ref_schema.expressions),
                    )  # fmt: skip
                )
        # CHECK constraints and the rest are the server's business, not the emulator's.


_SERIALS = {"serial": "integer", "bigserial": "bigint", "smallserial": "smallint"}


def _column(model: _Model, table: _Table, item: exp.ColumnDef, st: Statement, ci: bool) -> None:
    kind = item.args.get("kind")
    if kind is None:
        raise FixtureError(model.filename, st.line, f"column {item.name} without a type")
    try:
        declared, sqlite_type, kind_name = _type_names(kind, model.dialect)
    except UnsupportedSql as exc:
        raise FixtureError(model.filename, st.line, str(exc)) from None
    col = _Column(item.name, declared, sqlite_type, boolean=kind_name == "BOOLEAN")
    col.nocase = ci and _is_text_kind(kind_name)
    if model.dialect == "postgresql" and declared in _SERIALS:
        # PostgreSQL reports a serial as its integer type with a sequence default
        col.auto_increment = True
        col.column_type = _SERIALS[declared]
    for constraint in item.constraints:
        k = constraint.args.get("kind")
        if isinstance(k, exp.NotNullColumnConstraint):
            col.nullable = bool(k.args.get("allow_null"))
        elif isinstance(k, exp.DefaultColumnConstraint):
            col.default_sql = k.this.sql(dialect=_READ[model.dialect])
            if isinstance(k.this, exp.Anonymous) and k.this.name.lower() == "nextval":
                col.auto_increment = True
        elif isinstance(k, exp.AutoIncrementColumnConstraint):
            col.auto_increment = True
        elif isinstance(k, exp.GeneratedAsIdentityColumnConstraint):
            if k.args.get("expression") is not None:
                raise FixtureError(model.filename, st.line, f"generated column {item.name}")
            col.auto_increment = True
        elif isinstance(k, exp.CommentColumnConstraint):
            col.comment = k.this.this if isinstance(k.this, exp.Literal) else k.this.sql()
        elif isinstance(k, exp.PrimaryKeyColumnConstraint):
            table.primary_key = [item.name]
            col.nullable = False  # a key column is NOT NULL on every server
        elif isinstance(k, exp.UniqueColumnConstraint):
            table.uniques.append((None, [item.name]))
        elif isinstance(k, exp.CollateColumnConstraint):
            col.nocase = _is_text_kind(kind_name) and not k.this.name.lower().endswith(
                ("_bin", "binary")
            )
            if model.dialect == "postgresql":
                col.nocase = False
        elif isinstance(k, exp.ComputedColumnConstraint):
            raise FixtureError(model.filename, st.line, f"generated column {item.name}")
        elif isinstance(k, exp.Reference):
            ref = k.this
            if isinstance(ref, exp.Schema):
                table.foreign_keys.append(
                    ([item.name], ref.this.name, _columns_of(ref.expressions))
                )
    table.columns.append(col)


def _alter_table(model: _Model, tree: exp.Alter, st: Statement) -> None:
    if (tree.args.get("kind") or "").upper() != "TABLE":
        return  # ALTER SEQUENCE ... OWNED BY and the like: nothing to keep
    table = model.table(tree.this.name, st.line, "ALTER TABLE")
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.AlterColumn):
            col = table.column(action.this.name)
            if col is None:
                raise FixtureError(model.filename, st.line, f"ALTER of unknown column {action}")
            default = action.args.get("default")
            if default is not None:
                col.default_sql = default.sql(dialect=_READ[model.dialect])
                if isinstance(default, exp.Anonymous) and default.name.lower() == "nextval":
                    col.auto_increment = True
            elif action.args.get("drop"):
                col.default_sql = None
            else:
                text = st.text.upper()
                if "GENERATED" in text and "IDENTITY" in text:
                    col.auto_increment = True
                elif "SET NOT NULL" in text:
                    col.nullable = False
                else:
                    raise FixtureError(model.filename, st.line, f"ALTER COLUMN {action.sql()[:60]}")
        elif isinstance(action, exp.AddConstraint):
            for c in action.expressions:
                _constraint(table, c)
        elif isinstance(action, (exp.Constraint, exp.PrimaryKey, exp.ForeignKey)):
            _constraint(table, action)
        else:
            raise FixtureError(model.filename, st.line, f"ALTER TABLE {action.sql()[:60]}")


def _create_index(model: _Model, tree: exp.Create, st: Statement) -> None:
    index = tree.this
    table = model.table(index.args["table"].name, st.line, "CREATE INDEX")
    params = index.args.get("params")
    cols = params.args.get("columns") if params is not None else None
    names = []
    for c in cols or []:
        target = c.this if isinstance(c, exp.Ordered) else c
        if not isinstance(target, exp.Column):
            raise FixtureError(model.filename, st.line, f"expression index {index.name}")
        names.append(target.name)
    table.indexes.append((index.name, names, bool(tree.args.get("unique"))))


def _comment(model: _Model, tree: exp.Comment, st: Statement) -> None:
    kind = (tree.args.get("kind") or "").upper()
    text_node = tree.expression
    text = text_node.this if isinstance(text_node, exp.Literal) else None
    target = tree.this
    if kind == "TABLE":
        model.table(target.name, st.line, "COMMENT ON TABLE").comment = text
    elif kind == "COLUMN" and isinstance(target, exp.Column):
        table = model.table(target.table, st.line, "COMMENT ON COLUMN")
        col = table.column(target.name)
        if col is None:
            raise FixtureError(model.filename, st.line, f"COMMENT ON unknown column {target}")
        col.comment = text
    # COMMENT ON SCHEMA / EXTENSION / INDEX: not kept


# --------------------------------------------------------------------------- data


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_MYSQL_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}
_INSERT_HEAD = re.compile(
    r"INSERT\s+(?:IGNORE\s+)?INTO\s+((?:[`\"]?[\w$]+[`\"]?\.)?[`\"]?[\w$]+[`\"]?)\s*"
    r"(?:\(([^()]*)\))?\s*(?:OVERRIDING\s+(?:SYSTEM|USER)\s+VALUE\s+)?VALUES\s*",
    re.IGNORECASE,
)


def _scan_string(text: str, i: int, backslash: bool) -> tuple[str, int]:
    quote = text[i]
    out: list[str] = []
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\" and backslash:
            nxt = text[j + 1] if j + 1 < n else ""
            out.append(_MYSQL_ESCAPES.get(nxt, nxt))
            j += 2
            continue
        if c == quote:
            if j + 1 < n and text[j + 1] == quote:
                out.append(quote)
                j += 2
                continue
            return "".join(out), j + 1
        out.append(c)
        j += 1
    raise _Skip


def _scan_values(text: str, pos: int, dialect: str) -> list[tuple[Any, ...]]:
    """Rows of a dump's `VALUES (...),(...)` (literals only; anything else raises _Skip)."""
    rows: list[tuple[Any, ...]] = []
    n = len(text)
    backslash = dialect == "mysql"
    i = pos
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n or text[i] != "(":
            raise _Skip
        i += 1
        row: list[Any] = []
        while True:
            while i < n and text[i] in " \t\r\n":
                i += 1
            if i >= n:
                raise _Skip
            c = text[i]
            if c == "'" or (c == '"' and dialect == "mysql"):
                value, i = _scan_string(text, i, backslash)
                row.append(value)
            elif c in "Ee" and dialect == "postgresql" and text[i + 1 : i + 2] == "'":
                value, i = _scan_string(text, i + 1, True)
                row.append(value)
            else:
                m = _NUMBER.match(text, i)
                if m and (m.end() >= n or not (text[m.end()].isalnum() or text[m.end()] == "_")):
                    token = m.group(0)
                    row.append(int(token) if re.fullmatch(r"[+-]?\d+", token) else float(token))
                    i = m.end()
                else:
                    w = re.compile(r"[A-Za-z_]+").match(text, i)
                    word = w.group(0).upper() if w else ""
                    if word == "NULL":
                        row.append(None)
                    elif word == "TRUE":
                        row.append(1)
                    elif word == "FALSE":
                        row.append(0)
                    else:
                        raise _Skip
                    i = w.end() if w else i
            while i < n and text[i] in " \t\r\n":
                i += 1
            if i < n and text[i] == ",":
                i += 1
                continue
            if i < n and text[i] == ")":
                i += 1
                break
            raise _Skip
        rows.append(tuple(row))
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i < n and text[i] == ",":
            i += 1
            continue
        if i >= n:
            return rows
        raise _Skip


def _unquote(name: str) -> str:
    return name.strip().strip('`"')


def _insert(model: _Model, conn: sqlite3.Connection, st: Statement) -> None:
    m = _INSERT_HEAD.match(st.text)
    rows: list[tuple[Any, ...]] | None = None
    if m:
        table_name = _unquote(m.group(1).split(".")[-1])
        columns = [_unquote(c) for c in m.group(2).split(",")] if m.group(2) else None
        try:
            rows = _scan_values(st.text, m.end(), model.dialect)
        except _Skip:
            rows = None
    if rows is None:
        table_name, columns, rows = _insert_slow(model, conn, st)
    table = model.table(table_name, st.line, "INSERT")
    table.rows.append((columns, rows))


def _insert_slow(
    model: _Model, conn: sqlite3.Connection, st: Statement
) -> tuple[str, list[str] | None, list[tuple[Any, ...]]]:
    """INSERTs with expressions (NOW(), casts): each row is evaluated by the embedded engine."""
    try:
        tree = sqlglot.parse_one(st.text, read=_READ[model.dialect], error_level=ErrorLevel.RAISE)
    except SqlglotError:
        raise FixtureError(model.filename, st.line, "INSERT statement (syntax)") from None
    if not isinstance(tree, exp.Insert):
        raise FixtureError(model.filename, st.line, "INSERT statement")
    target = tree.this
    columns = None
    if isinstance(target, exp.Schema):
        columns = [_ident(c) for c in target.expressions]
        target = target.this
    values = tree.expression
    if not isinstance(values, exp.Values):
        raise FixtureError(model.filename, st.line, "INSERT ... SELECT")
    if tree.args.get("conflict") is not None:
        raise FixtureError(model.filename, st.line, "INSERT ... ON DUPLICATE KEY / ON CONFLICT")
    rows = []
    for tup in values.expressions:
        select = "SELECT " + ", ".join(e.sql(dialect=_READ[model.dialect]) for e in tup.expressions)
        try:
            rows.append(tuple(conn.execute(translate(select, model.dialect)).fetchone()))
        except (UnsupportedSql, sqlite3.Error) as exc:
            raise FixtureError(model.filename, st.line, f"INSERT value: {exc}") from None
    return target.name, columns, rows


_COPY_HEAD = re.compile(
    r"COPY\s+((?:\"?[\w$]+\"?\.)?\"?[\w$]+\"?)\s*(?:\(([^()]*)\))?\s+FROM\s+stdin\s*$",
    re.IGNORECASE,
)
_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_COPY_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)")


def _copy_field(raw: str) -> str | None:
    if raw == "\\N":
        return None
    if "\\" not in raw:
        return raw

    def repl(m: re.Match[str]) -> str:
        s = m.group(1)
        if s[0] == "x" and len(s) > 1:
            return chr(int(s[1:], 16))
        if s[0] in "01234567":
            return chr(int(s, 8))
        return _COPY_ESCAPES.get(s, s)

    return _COPY_ESCAPE_RE.sub(repl, raw)


def _copy(model: _Model, st: Statement) -> None:
    m = _COPY_HEAD.match(st.text)
    if not m:
        raise FixtureError(
            model.filename, st.line, "COPY other than `COPY table (cols) FROM stdin`"
        )
    table = model.table(_unquote(m.group(1).split(".")[-1]), st.line, "COPY")
    columns = [_unquote(c) for c in m.group(2).split(",")] if m.group(2) else None
    rows = []
    for raw in (st.data or "").split("\n"):
        if raw == "":
            continue
        rows.append(tuple(_copy_field(f) for f in raw.rstrip("\r").split("\t")))
    table.rows.append((columns, rows))


# --------------------------------------------------------------------------- statements

_SKIP_MYSQL = re.compile(
    r"^(SET|LOCK\s+TABLES|UNLOCK\s+TABLES|USE|START\s+TRANSACTION|BEGIN|COMMIT|"
    r"CREATE\s+DATABASE|CREATE\s+SCHEMA|ANALYZE|OPTIMIZE)\b",
    re.IGNORECASE,
)
_SKIP_PG = re.compile(
    r"^(SET|SELECT\s+pg_catalog\.set_config|SELECT\s+pg_catalog\.setval|"
    r"SELECT\s+setval|CREATE\s+SEQUENCE|ALTER\s+SEQUENCE|ALTER\s+SCHEMA|CREATE\s+SCHEMA|"
    r"COMMENT\s+ON\s+(SCHEMA|EXTENSION|INDEX|SEQUENCE|CONSTRAINT|DATABASE)|"
    r"CREATE\s+EXTENSION\s+IF\s+NOT\s+EXISTS\s+plpgsql|BEGIN|COMMIT|START\s+TRANSACTION|"
    r"GRANT|REVOKE|ALTER\s+DEFAULT\s+PRIVILEGES|ANALYZE|"
    r"ALTER\s+TABLE\s+(ONLY\s+)?[\w.\"]+\s+OWNER\s+TO|ALTER\s+(SEQUENCE|VIEW|FUNCTION)\s+.*OWNER\s+TO|"
    r"CREATE\s+DATABASE|ALTER\s+DATABASE)\b",
    re.IGNORECASE | re.DOTALL,
)
_REFUSED = re.compile(
    r"^(CREATE\s+(OR\s+REPLACE\s+)?(DEFINER\s*=\s*\S+\s+)?(TRIGGER|PROCEDURE|FUNCTION|EVENT|TYPE|"
    r"AGGREGATE|OPERATOR|RULE|POLICY|MATERIALIZED\s+VIEW|DOMAIN|PUBLICATION|SUBSCRIPTION|"
    r"EXTENSION|SERVER|FOREIGN\s+TABLE)|DELIMITER|CALL|DO\b)",
    re.IGNORECASE,
)


_IDENTITY = re.compile(
    r"^ALTER\s+TABLE\s+(?:ONLY\s+)?([\w.\"]+)\s+ALTER\s+COLUMN\s+([\w\"]+)\s+ADD\s+GENERATED\s+"
    r"(?:ALWAYS|BY\s+DEFAULT)\s+AS\s+IDENTITY\b",
    re.IGNORECASE,
)


def _construct(text: str) -> str:
    words = re.findall(r"[A-Za-z_]+", text)[:3]
    return " ".join(w.upper() for w in words) or text[:30]


_EXEC_COMMENT = re.compile(r"/\*!\d*\s*(.*?)\s*\*/", re.DOTALL)


def _mysql_executable_comment(text: str) -> str | None:
    """The statement inside `/*!40101 SET ... */` (mysqldump splits a view over several such
    comments: `/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=... */ /*!50001 VIEW ...*/`),
    or None when the text is not made of them."""
    parts = _EXEC_COMMENT.findall(text)
    if not parts or _EXEC_COMMENT.sub("", text).strip():
        return None
    return " ".join(parts)


def _statement(model: _Model, conn: sqlite3.Connection, st: Statement) -> None:
    text = st.text
    if model.dialect == "mysql":
        inner = _mysql_executable_comment(text)
        if inner is not None:
            if re.match(r"^(SET|ALTER\s+TABLE\s+\S+\s+(DISABLE|ENABLE)\s+KEYS)\b", inner, re.I):
                return
            text = inner  # e.g. /*!50001 CREATE VIEW ... */
            st = Statement(inner, st.line)
        if _SKIP_MYSQL.match(text):
            return
    elif _SKIP_PG.match(text):
        return
    if _REFUSED.match(text):
        raise FixtureError(model.filename, st.line, _construct(text))
    head = text[:30].upper()
    if head.startswith("INSERT") or head.startswith("REPLACE"):
        _insert(model, conn, st)
        return
    if head.startswith("COPY"):
        _copy(model, st)
        return
    if re.match(r"^DROP\s+(TABLE|VIEW)\b", text, re.IGNORECASE):
        for name in re.findall(r"[`\"]?([\w$]+)[`\"]?\s*(?:,|$)", re.sub(
            r"^DROP\s+(TABLE|VIEW)\s+(IF\s+EXISTS\s+)?", "", text, flags=re.I
        )):  # fmt: skip
            model.tables.pop(name.lower(), None)
            model.views = [v for v in model.views if v[0].lower() != name.lower()]
        return
    if re.match(r"^CREATE\s+(OR\s+REPLACE\s+)?(ALGORITHM\s*=\s*\w+\s+)?(DEFINER\s*=\s*\S+\s+)?"
                r"(SQL\s+SECURITY\s+\w+\s+)?VIEW\b", text, re.IGNORECASE):  # fmt: skip
        m = re.search(r"\bVIEW\s+((?:[`\"]?\w+[`\"]?\.)?[`\"]?(\w+)[`\"]?)\s+AS\s+(.*)$", text,
                      re.IGNORECASE | re.DOTALL)  # fmt: skip
        if not m:
            raise FixtureError(model.filename, st.line, "CREATE VIEW")
        model.views = [v for v in model.views if v[0].lower() != m.group(2).lower()]
        model.views.append((m.group(2), m.group(3), st.line))
        return
    identity = _IDENTITY.match(text)
    if identity:
        table = model.table(identity.group(1).split(".")[-1].strip('"'), st.line, "ALTER TABLE")
        col = table.column(identity.group(2).strip('"'))
        if col is None:
            raise FixtureError(model.filename, st.line, f"identity on unknown column {identity[2]}")
        col.auto_increment = True
        return
    try:
        tree = sqlglot.parse_one(text, read=_READ[model.dialect], error_level=ErrorLevel.RAISE)
    except ParseError as exc:
        info = exc.errors[0] if exc.errors else {}
        near = (info.get("highlight") or "").strip()
        line = st.line + max(int(info.get("line") or 1) - 1, 0)
        what = f"{_construct(text)}: syntax near {near!r}" if near else _construct(text)
        raise FixtureError(model.filename, line, what) from None
    except SqlglotError:
        raise FixtureError(model.filename, st.line, f"{_construct(text)} (syntax)") from None
    if isinstance(tree, exp.Create):
        kind = (tree.args.get("kind") or "").upper()
        if kind == "TABLE":
            _create_table(model, tree, st)
            return
        if kind == "INDEX":
            _create_index(model, tree, st)
            return
    elif isinstance(tree, exp.Alter):
        _alter_table(model, tree, st)
        return
    elif isinstance(tree, exp.Comment):
        _comment(model, tree, st)
        return
    if isinstance(tree, exp.Command):
        raise FixtureError(model.filename, st.line, f"statement {' '.join(text.split())[:60]}")
    raise FixtureError(model.filename, st.line, _construct(text))


# --------------------------------------------------------------------------- materialise


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_TZ_VALUE = re.compile(
    r"^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)([+-]\d\d)(?::?(\d\d))?$"
)


def _utc_text(value: str) -> str:
    """A `timestamp with time zone` as UTC text (the embedded engine's one time zone)."""
    m = _TZ_VALUE.match(value.strip())
    if not m:
        return value
    local = dt.datetime.fromisoformat(m.group(1).replace("T", " "))
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    offset = dt.timedelta(hours=abs(hours), minutes=minutes) * (1 if hours >= 0 else -1)
    return functions.fmt_datetime(local - offset)


def _convert(value: Any, col: _Column | None) -> Any:
    if col is None or not isinstance(value, str):
        return value
    if col.boolean:
        return 1 if value.lower() in ("t", "true", "1", "y", "yes", "on") else 0
    if col.column_type == "timestamp with time zone":
        return _utc_text(value)
    if col.column_type == "bytea" and value.startswith("\\x"):
        return bytes.fromhex(value[2:])
    return value


def _side_tables(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _dms_tables (table_name TEXT PRIMARY KEY, comment TEXT, "
        "engine TEXT, charset TEXT, dialect TEXT)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _dms_columns (table_name TEXT, column_name TEXT, "
        "ordinal INTEGER, column_type TEXT, nullable INTEGER, default_value TEXT, "
        "primary_key INTEGER, auto_increment INTEGER, comment TEXT, "
        "PRIMARY KEY (table_name, column_name))"
    )


def _column_tail(col: _Column, dialect: str, implicit_default: bool = False) -> str:
    """NOT NULL, DEFAULT and COLLATE of one SQLite column definition. `implicit_default`: a
    NOT NULL column added to a table with rows gets MySQL's implicit default ('' or 0), which
    SQLite needs spelled out."""
    piece = ""
    if not col.nullable:
        piece += " NOT NULL"
    default = None
    if col.default_sql is not None and not col.auto_increment:
        try:
            node = sqlglot.parse_one(col.default_sql, read=_READ[dialect])
            default = _default_sql(node, col)
        except SqlglotError:
            default = None
    if default is None and implicit_default and not col.nullable:
        default = "''" if _is_text_kind(col.column_type.split("(")[0].upper()) else "0"
    if default is not None:
        piece += f" DEFAULT {default}"
    if col.nocase:
        piece += " COLLATE NOCASE"
    return piece


def _materialise(model: _Model, conn: sqlite3.Connection, taken: set[str] | None = None) -> None:
    _side_tables(conn)
    used_index_names: set[str] = set(taken or ())
    for table in model.tables.values():
        pk = [p.lower() for p in table.primary_key]
        rowid_pk = None
        if len(pk) == 1:
            col = table.column(pk[0])
            if col is not None and "int" in col.column_type and "point" not in col.column_type:
                rowid_pk = col.name.lower()
        parts = []
        for col in table.columns:
            if col.name.lower() == rowid_pk:
                piece = f"{_q(col.name)} INTEGER PRIMARY KEY"
            else:
                piece = f"{_q(col.name)} {col.sqlite_type}"
            piece += _column_tail(col, model.dialect)
            parts.append(piece)
        if pk and rowid_pk is None:
            parts.append(f"PRIMARY KEY ({', '.join(_q(c) for c in table.primary_key)})")
        for uname, cols in table.uniques:
            if uname is None:  # a named key becomes a named index below (metadata shows it)
                parts.append(f"UNIQUE ({', '.join(_q(c) for c in cols)})")
        for cols, ref_table, ref_cols in table.foreign_keys:
            parts.append(
                f"FOREIGN KEY ({', '.join(_q(c) for c in cols)}) REFERENCES {_q(ref_table)}"
                + (f" ({', '.join(_q(c) for c in ref_cols)})" if ref_cols else "")
            )
        try:
            conn.execute(f"CREATE TABLE {_q(table.name)} ({', '.join(parts)})")
        except sqlite3.Error as exc:
            raise FixtureError(
                model.filename, table.line, f"CREATE TABLE {table.name}: {exc}"
            ) from None
        all_cols = [c.name for c in table.columns]
        for columns, rows in table.rows:
            names = columns or all_cols
            targets = [table.column(n) for n in names]
            if any(c is None for c in targets):
                missing = [n for n, c in zip(names, targets, strict=True) if c is None]
                raise FixtureError(model.filename, table.line, f"data for unknown column {missing}")
            has_bool = any(
                c is not None
                and (c.boolean or c.column_type in ("timestamp with time zone", "bytea"))
                for c in targets
            )
            sql = (
                f"INSERT INTO {_q(table.name)} ({', '.join(_q(n) for n in names)}) "
                f"VALUES ({', '.join('?' * len(names))})"
            )
            data = (
                [tuple(_convert(v, c) for v, c in zip(r, targets, strict=False)) for r in rows]
                if has_bool
                else rows
            )
            try:
                conn.executemany(sql, data)
            except (sqlite3.Error, ValueError) as exc:
                raise FixtureError(
                    model.filename, table.line, f"rows of {table.name}: {exc}"
                ) from None
        named_uniques = [(n, c, True) for n, c in table.uniques if n is not None]
        for index_name, cols, unique in [*named_uniques, *table.indexes]:
            name = index_name if index_name.lower() not in used_index_names else (
                f"{table.name}_{index_name}"
            )  # fmt: skip
            used_index_names.add(name.lower())
            conn.execute(
                f"CREATE {'UNIQUE ' if unique else ''}INDEX {_q(name)} ON {_q(table.name)} "
                f"({', '.join(_q(c) for c in cols)})"
            )
        conn.execute(
            "INSERT OR REPLACE INTO _dms_tables VALUES (?, ?, ?, ?, ?)",
            (table.name, table.comment, table.engine, table.charset, model.dialect),
        )
        conn.executemany(
            "INSERT OR REPLACE INTO _dms_columns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    table.name,
                    c.name,
                    i,
                    c.column_type,
                    int(c.nullable and c.name.lower() not in pk),
                    c.default_sql,
                    pk.index(c.name.lower()) + 1 if c.name.lower() in pk else 0,
                    int(c.auto_increment),
                    c.comment,
                )  # fmt: skip
                for i, c in enumerate(table.columns, 1)
            ],
        )
    for name, select, line in model.views:
        try:
            conn.execute(f"CREATE VIEW {_q(name)} AS {translate(select, model.dialect)}")
        except (UnsupportedSql, sqlite3.Error) as exc:
            raise FixtureError(model.filename, line, f"view {name}: {exc}") from None


def load_script(conn: sqlite3.Connection, text: str, dialect: str, filename: str) -> None:
    """Load a mysqldump / pg_dump plain script (dialect "mysql" / "postgresql") into `conn`.

    The caller commits. Raises FixtureError(filename, line, construct) for what cannot be loaded.
    """
    if dialect == "sqlite":
        try:
            conn.executescript(text)
        except sqlite3.Error as exc:
            raise FixtureError(filename, 0, f"SQLite script: {exc}") from None
        return
    if dialect not in _READ:
        raise ValueError(f"unknown dialect {dialect!r}")
    functions.install(conn, time.time)
    model = _Model(dialect, filename)
    for st in split_script(text, dialect):
        _statement(model, conn, st)
    _materialise(model, conn)


# --------------------------------------------------------------------------- DDL at run time


def _dialect_error(dialect: str, mysql: str, postgresql: str) -> UnsupportedSql:
    return UnsupportedSql(mysql if dialect == "mysql" else postgresql)


def _existing(conn: sqlite3.Connection, name: str) -> str | None:
    row = conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND lower(name) = lower(?)",
        (name,),
    ).fetchone()
    return None if row is None else str(row[0])


def _need_table(conn: sqlite3.Connection, name: str, dialect: str, schema: str | None) -> str:
    found = _existing(conn, name)
    if found is None:
        raise _dialect_error(
            dialect,
            f"Table '{schema + '.' if schema else ''}{name}' doesn't exist",
            f'relation "{name}" does not exist',
        )
    return found


def _console_column(dialect: str, table: str, item: exp.ColumnDef) -> _Column:
    model = _Model(dialect, "<sql>")
    holder = _Table(table, 1)
    try:
        _column(model, holder, item, Statement(item.sql(), 1), dialect == "mysql")
    except FixtureError as exc:
        raise UnsupportedSql(f"the embedded engine cannot take {exc.construct}") from None
    return holder.columns[0]


def _declared_rows(conn: sqlite3.Connection, table: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM _dms_columns WHERE lower(table_name) = lower(?) LIMIT 1", (table,)
        ).fetchone()
        is not None
    )


def _alter(conn: sqlite3.Connection, tree: exp.Alter, dialect: str, schema: str | None) -> None:
    table = _need_table(conn, tree.this.name, dialect, schema)
    for action in tree.args.get("actions") or []:
        declared = _declared_rows(conn, table)
        if isinstance(action, exp.ColumnDef):
            col = _console_column(dialect, table, action)
            conn.execute(
                f"ALTER TABLE {_q(table)} ADD COLUMN {_q(col.name)} {col.sqlite_type}"
                + _column_tail(col, dialect, implicit_default=True)
            )
            if declared:
                (last,) = conn.execute(
                    "SELECT coalesce(max(ordinal), 0) FROM _dms_columns "
                    "WHERE lower(table_name) = lower(?)",
                    (table,),
                ).fetchone()
                conn.execute(
                    "INSERT OR REPLACE INTO _dms_columns VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    (table, col.name, int(last) + 1, col.column_type, int(col.nullable),
                     col.default_sql, int(col.auto_increment), col.comment),
                )  # fmt: skip
        elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
            for target in action.args.get("tables") or []:
                conn.execute(f"ALTER TABLE {_q(table)} DROP COLUMN {_q(target.name)}")
                row = conn.execute(
                    "SELECT ordinal FROM _dms_columns WHERE lower(table_name) = lower(?) "
                    "AND lower(column_name) = lower(?)",
                    (table, target.name),
                ).fetchone()
                if row is not None:
                    conn.execute(
                        "DELETE FROM _dms_columns WHERE lower(table_name) = lower(?) "
                        "AND lower(column_name) = lower(?)",
                        (table, target.name),
                    )
                    conn.execute(
                        "UPDATE _dms_columns SET ordinal = ordinal - 1 "
                        "WHERE lower(table_name) = lower(?) AND ordinal > ?",
                        (table, int(row[0])),
                    )
        elif isinstance(action, exp.AlterRename):
            new = action.this.name
            conn.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(new)}")
            for side in ("_dms_columns", "_dms_tables"):
                conn.execute(
                    f"UPDATE {side} SET table_name = ? WHERE lower(table_name) = lower(?)",
                    (new, table),
                )
            table = new
        elif isinstance(action, exp.RenameColumn):
            old, new = action.this.name, action.args["to"].name
            conn.execute(f"ALTER TABLE {_q(table)} RENAME COLUMN {_q(old)} TO {_q(new)}")
            conn.execute(
                "UPDATE _dms_columns SET column_name = ? WHERE lower(table_name) = lower(?) "
                "AND lower(column_name) = lower(?)",
                (new, table, old),
            )
        elif isinstance(action, exp.ModifyColumn) and isinstance(action.this, exp.ColumnDef):
            # SQLite keeps values of any type in any column: only the declared catalog changes
            col = _console_column(dialect, table, action.this)
            old = action.args.get("rename_from")
            old_name = old.name if old is not None else col.name
            if old_name.lower() != col.name.lower():
                conn.execute(
                    f"ALTER TABLE {_q(table)} RENAME COLUMN {_q(old_name)} TO {_q(col.name)}"
                )
            conn.execute(
                "UPDATE _dms_columns SET column_name = ?, column_type = ?, nullable = ?, "
                "default_value = ?, comment = ?, auto_increment = ? "
                "WHERE lower(table_name) = lower(?) AND lower(column_name) = lower(?)",
                (col.name, col.column_type, int(col.nullable), col.default_sql, col.comment,
                 int(col.auto_increment), table, old_name),
            )  # fmt: skip
        elif isinstance(action, exp.AddConstraint) and all(
            isinstance(c, exp.IndexColumnConstraint) for c in action.expressions
        ):
            for c in action.expressions:
                kind = (c.args.get("kind") or "").upper()
                name = _ident(c.this) or f"idx_{table}_{_columns_of(c.expressions)[0]}"
                if _index_exists(conn, name):
                    name = f"{table}_{name}"
                conn.execute(
                    f"CREATE {'UNIQUE ' if kind == 'UNIQUE' else ''}INDEX {_q(name)} ON "
                    f"{_q(table)} ({', '.join(_q(n) for n in _columns_of(c.expressions))})"
                )
        else:
            raise UnsupportedSql(
                f"ALTER TABLE ... {action.sql(dialect=_READ[dialect])[:60]} is not supported "
                "on the embedded engine"
            )


def _index_exists(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND lower(name) = lower(?)", (name,)
        ).fetchone()
        is not None
    )


def _sync_side_tables(conn: sqlite3.Connection) -> None:
    """Forget what the side tables say about tables that no longer exist."""
    for side in ("_dms_columns", "_dms_tables"):
        conn.execute(
            f"DELETE FROM {side} WHERE lower(table_name) NOT IN "
            "(SELECT lower(name) FROM sqlite_master WHERE type IN ('table', 'view'))"
        )


_RENAME = re.compile(r"^\s*RENAME\s+TABLES?\s+(.*)$", re.IGNORECASE | re.DOTALL)
_RENAME_PAIR = re.compile(r"^\s*[`\"]?([\w$]+)[`\"]?\s+TO\s+[`\"]?([\w$]+)[`\"]?\s*$", re.I)


def apply_ddl(conn: sqlite3.Connection, sql: str, dialect: str, schema: str | None = None) -> None:
    """One DDL statement (MySQL or PostgreSQL dialect) on an embedded database, keeping the
    declared catalog (`_dms_tables`, `_dms_columns`) what the statement says, so metadata shows
    a table created by the SQL console or a ticket at once, with its declared types.

    Raises UnsupportedSql (message in the dialect's own words where it has them) or
    sqlite3.Error; the caller's transaction makes a failed statement change nothing.
    """
    _side_tables(conn)
    renamed = _RENAME.match(sql) if dialect == "mysql" else None
    if renamed:
        for pair in renamed.group(1).split(","):
            m = _RENAME_PAIR.match(pair)
            if not m:
                raise UnsupportedSql(f"RENAME TABLE {pair.strip()[:60]}: syntax error")
            _alter(
                conn,
                exp.Alter(
                    this=exp.to_table(m.group(1)),
                    kind="TABLE",
                    actions=[exp.AlterRename(this=exp.to_table(m.group(2)))],
                ),
                dialect,
                schema,
            )
        return
    try:
        tree = sqlglot.parse_one(sql, read=_READ[dialect], error_level=ErrorLevel.RAISE)
    except (SqlglotError, ValueError, TypeError, AttributeError, IndexError, KeyError):
        raise UnsupportedSql("SQL syntax error") from None
    if (
        isinstance(tree, exp.Create)
        and (tree.args.get("kind") or "").upper() == "TABLE"
        and (isinstance(tree.this, exp.Schema))
    ):
        name = tree.this.this.name
        if _existing(conn, name) is not None:
            if tree.args.get("exists"):
                return
            raise _dialect_error(
                dialect, f"Table '{name}' already exists", f'relation "{name}" already exists'
            )
        model = _Model(dialect, "<sql>")
        try:
            _create_table(model, tree, Statement(sql, 1))
        except FixtureError as exc:
            raise UnsupportedSql(f"the embedded engine cannot take {exc.construct}") from None
        taken = {
            str(r[0]).lower()
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        try:
            _materialise(model, conn, taken)
        except FixtureError as exc:
            raise UnsupportedSql(exc.construct) from None
        return
    if isinstance(tree, exp.Alter) and (tree.args.get("kind") or "").upper() == "TABLE":
        _alter(conn, tree, dialect, schema)
        _sync_side_tables(conn)
        return
    if isinstance(tree, exp.TruncateTable):
        for t in tree.expressions:
            conn.execute(f"DELETE FROM {_q(_need_table(conn, t.name, dialect, schema))}")
        return
    if isinstance(tree, exp.Comment) and (tree.args.get("kind") or "").upper() in (
        "TABLE",
        "COLUMN",
    ):
        _comment_now(conn, tree, dialect, schema)
        return
    conn.execute(translate(sql, dialect, schema))
    _sync_side_tables(conn)


def _comment_now(
    conn: sqlite3.Connection, tree: exp.Comment, dialect: str, schema: str | None
) -> None:
    """PostgreSQL's COMMENT ON TABLE / COLUMN, kept where describe() reads comments."""
    text_node = tree.expression
    text = None if isinstance(text_node, exp.Null) else str(getattr(text_node, "this", ""))
    target = tree.this
    if (tree.args.get("kind") or "").upper() == "TABLE":
        table = _need_table(conn, target.name, dialect, schema)
        conn.execute(
            "INSERT INTO _dms_tables (table_name, comment, dialect) VALUES (?, ?, ?) "
            "ON CONFLICT (table_name) DO UPDATE SET comment = excluded.comment",
            (table, text, dialect),
        )
        return
    table = _need_table(conn, target.table, dialect, schema)
    conn.execute(
        "UPDATE _dms_columns SET comment = ? WHERE lower(table_name) = lower(?) "
        "AND lower(column_name) = lower(?)",
        (text, table, target.name),
    )
