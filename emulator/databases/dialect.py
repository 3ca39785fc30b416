"""Client SQL in MySQL or PostgreSQL dialect, translated to SQLite for the embedded engine.

sqlglot (pinned) parses the client's dialect; a small rewrite layer then replaces every function
whose MySQL/PostgreSQL meaning SQLite lacks, or has only in some versions, by a call to a
function that `functions.install` registers (`DMS_*`). So results never depend on the host's
SQLite version, and anything neither sqlglot nor the rewrite layer knows raises `UnsupportedSql`
naming the construct instead of running with a different meaning.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, UnsupportedError

# sqlglot logs a warning when it falls back to an opaque Command; we raise on those ourselves.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

Dialect = str  # "sqlite" | "mysql" | "postgresql"

_READ = {"mysql": "mysql", "postgresql": "postgres"}


class UnsupportedSql(ValueError):
    """The statement cannot run on the embedded engine with its meaning; the message names why."""


# --------------------------------------------------------------------------- splitting


@dataclass(frozen=True)
class Statement:
    """One statement of a script: its text, the line it starts on, and COPY data if any."""

    text: str
    line: int
    data: str | None = None  # the rows of a PostgreSQL `COPY ... FROM stdin;` block


_COPY_STDIN = re.compile(r"^\s*COPY\b.*\bFROM\s+stdin\s*$", re.IGNORECASE | re.DOTALL)


def split_script(script: str, dialect: Dialect) -> list[Statement]:
    """Statements of a script, quotes and comments respected (`#` only in MySQL dialect)."""
    out: list[Statement] = []
    n = len(script)
    i = 0
    line = 1
    start = 0
    start_line = 1
    has_code = False
    hash_comments = dialect == "mysql"
    backslash = dialect == "mysql"

    def emit(end: int) -> None:
        nonlocal has_code
        text = script[start:end].strip()
        if has_code and text:
            out.append(Statement(text, start_line))
        has_code = False

    while i < n:
        c = script[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c in " \t\r":
            i += 1
            continue
        if not has_code:
            start, start_line = i, line
            if c == "\\" and dialect == "postgresql":
                j = script.find("\n", i)  # a psql meta-command (`\connect`, `\restrict`): one line
                i = n if j < 0 else j
                continue
        nxt = script[i + 1] if i + 1 < n else ""
        if (c == "-" and nxt == "-") or (c == "#" and hash_comments):
            if c == "-" and dialect == "mysql" and i + 2 < n and script[i + 2] not in " \t\r\n":
                # MySQL needs a blank after `--`; `1--1` is arithmetic.
                has_code = True
                i += 1
                continue
            j = script.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and nxt == "*":
            j = script.find("*/", i + 2)
            end = n if j < 0 else j + 2
            body = script[i:end]
            line += body.count("\n")
            if body.startswith("/*!"):
                has_code = True  # MySQL executable comment: part of the statement
            i = end
            continue
        if c in "'\"`":
            has_code = True
            j = i + 1
            while j < n:
                d = script[j]
                if d == "\\" and backslash and c != "`":
                    j += 2
                    continue
                if d == c:
                    if j + 1 < n and script[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            line += script.count("\n", i, j)
            i = j + 1
            continue
        if c == "$" and dialect == "postgresql":
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", script[i:])
            if m:
                tag = m.group(0)
                j = script.find(tag, i + len(tag))
                end = n if j < 0 else j + len(tag)
                line += script.count("\n", i, end)
                has_code = True
                i = end
                continue
        if c == ";":
            if has_code:
                text = script[start:i].strip()
                if dialect == "postgresql" and _COPY_STDIN.match(text):
                    # The data follows on the next line up to a line holding only `\.`.
                    j = script.find("\n", i)
                    data_start = n if j < 0 else j + 1
                    k = data_start
                    rows_end = after = n
                    while k < n:
                        e = script.find("\n", k)
                        e = n if e < 0 else e
                        if script[k:e].rstrip("\r") == "\\.":
                            rows_end, after = k, e
                            break
                        k = e + 1
                    out.append(Statement(text, start_line, script[data_start:rows_end]))
                    line += script.count("\n", i, after)
                    i = after
                    has_code = False
                    continue
                emit(i)
            i += 1
            continue
        has_code = True
        i += 1
    if has_code:
        emit(n)
    return out


def split(script: str, dialect: Dialect) -> list[str]:
    """The statements of a script (no trailing `;`, comment-only pieces dropped)."""
    return [s.text for s in split_script(script, dialect)]


# --------------------------------------------------------------------------- translation

_SQLITE_FUNCTIONS = {
    # SQLite core scalar, aggregate and window functions present in every version we support.
    "ABS", "CHANGES", "CHAR", "COALESCE", "GLOB", "HEX", "IFNULL", "INSTR", "LENGTH", "LIKE",
    "LOWER", "LTRIM", "MAX", "MIN", "NULLIF", "PRINTF", "QUOTE", "REPLACE", "ROUND", "RTRIM",
    "SUBSTR", "SUBSTRING", "TRIM", "TYPEOF", "UNICODE", "UPPER", "ZEROBLOB", "AVG", "COUNT",
    "SUM", "TOTAL", "ROW_NUMBER", "RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST", "NTILE",
    "LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE", "NTH_VALUE", "DATE", "TIME", "DATETIME",
    "JULIANDAY", "STRFTIME", "CAST",
}  # fmt: skip

# Anonymous (unparsed) MySQL/PostgreSQL functions that map onto a registered function.
_ANONYMOUS = {
    "NOW": "DMS_NOW",
    "SYSDATE": "DMS_NOW",
    "LOCALTIME": "DMS_NOW",
    "LOCALTIMESTAMP": "DMS_NOW",
    "UTC_TIMESTAMP": "DMS_NOW",
    "UNIX_TIMESTAMP": "DMS_UNIX_TIMESTAMP",
    "WEEKDAY": "DMS_WEEKDAY",
    "CURTIME": "DMS_CURTIME",
    "UTC_DATE": "DMS_CURDATE",
    "LCASE": "LOWER",
    "UCASE": "UPPER",
    "MID": "SUBSTR",
    "SPACE": "DMS_SPACE",
    "REPEAT": "DMS_REPEAT",
    "LOCATE": "DMS_LOCATE",
    "FIELD": "DMS_FIELD",
    "ELT": "DMS_ELT",
    "INITCAP": "DMS_INITCAP",
    "BTRIM": "TRIM",
    "CHR": "CHAR",
    "ASCII": "DMS_ASCII",
    "DAYOFMONTH": "DMS_DAY",
    "MICROSECOND": "DMS_MICROSECOND",
    "TO_DAYS": "DMS_TO_DAYS",
    "PERIOD_DIFF": "DMS_PERIOD_DIFF",
    "SEC_TO_TIME": "DMS_SEC_TO_TIME",
    "TIME_TO_SEC": "DMS_TIME_TO_SEC",
    "DATE_PART": "DMS_EXTRACT",
    "MAKEDATE": "DMS_MAKEDATE",
    "MAKE_DATE": "DMS_MAKE_DATE",
    "ADDDATE": "DMS_ADDDATE",
    "SUBDATE": "DMS_SUBDATE",
    "PI": "DMS_PI",
    "CONV": "DMS_CONV",
    "BIN": "DMS_BIN",
    "OCT": "DMS_OCT",
    "STRCMP": "DMS_STRCMP",
    "INSERT": "DMS_INSERT",
}

# sqlglot expression classes whose arguments map positionally onto one registered function.
_SIMPLE: dict[type[exp.Expr], tuple[str, tuple[str, ...]]] = {
    exp.SubstringIndex: ("DMS_SUBSTRING_INDEX", ("this", "delimiter", "count")),
    exp.SplitPart: ("DMS_SPLIT_PART", ("this", "delimiter", "part_index")),
    exp.NumberToStr: ("DMS_FORMAT", ("this", "format")),
    exp.Year: ("DMS_YEAR", ("this",)),
    exp.Month: ("DMS_MONTH", ("this",)),
    exp.Day: ("DMS_DAY", ("this",)),
    exp.DayOfMonth: ("DMS_DAY", ("this",)),
    exp.Hour: ("DMS_HOUR", ("this",)),
    exp.Minute: ("DMS_MINUTE", ("this",)),
    exp.Second: ("DMS_SECOND", ("this",)),
    exp.Quarter: ("DMS_QUARTER", ("this",)),
    exp.DayOfWeek: ("DMS_DAYOFWEEK", ("this",)),
    exp.DayOfYear: ("DMS_DAYOFYEAR", ("this",)),
    exp.Week: ("DMS_WEEK", ("this", "mode")),
    exp.WeekOfYear: ("DMS_WEEKOFYEAR", ("this",)),
    exp.Dayname: ("DMS_DAYNAME", ("this",)),
    exp.LastDay: ("DMS_LAST_DAY", ("this",)),
    exp.TsOrDsToDate: ("DMS_DATE", ("this",)),
    exp.TsOrDsToTimestamp: ("DMS_DATETIME", ("this",)),
    exp.Date: ("DMS_DATE", ("this",)),
    exp.Time: ("DMS_TIME", ("this",)),
    exp.DateDiff: ("DMS_DATEDIFF", ("this", "expression")),
    exp.UnixToTime: ("DMS_FROM_UNIXTIME", ("this", "format")),
    exp.TimeToUnix: ("DMS_UNIX_TIMESTAMP", ("this",)),
    exp.StrToUnix: ("DMS_UNIX_TIMESTAMP", ("this",)),
    exp.TimeToStr: ("DMS_STRFTIME", ("this", "format")),
    exp.StrToDate: ("DMS_STR_TO_DATE", ("this", "format")),
    exp.StrToTime: ("DMS_STR_TO_DATE", ("this", "format")),
    exp.ConcatWs: ("DMS_CONCAT_WS", ("expressions",)),
    exp.Round: ("DMS_ROUND", ("this", "decimals")),
    exp.Trunc: ("DMS_TRUNCATE", ("this", "decimals")),
    exp.Pow: ("DMS_POWER", ("this", "expression")),
    exp.Sqrt: ("DMS_SQRT", ("this",)),
    exp.Ln: ("DMS_LN", ("this",)),
    exp.Exp: ("DMS_EXP", ("this",)),
    exp.Ceil: ("DMS_CEIL", ("this",)),
    exp.Floor: ("DMS_FLOOR", ("this",)),
    exp.Sign: ("DMS_SIGN", ("this",)),
    exp.Mod: ("DMS_MOD", ("this", "expression")),
    exp.Reverse: ("DMS_REVERSE", ("this",)),
    exp.Repeat: ("DMS_REPEAT", ("this", "times")),
    exp.Initcap: ("DMS_INITCAP", ("this",)),
    exp.Left: ("DMS_LEFT", ("this", "expression")),
    exp.Right: ("DMS_RIGHT", ("this", "expression")),
    exp.Ascii: ("DMS_ASCII", ("this",)),
    exp.Greatest: ("DMS_GREATEST", ("this", "expressions")),
    exp.Least: ("DMS_LEAST", ("this", "expressions")),
    exp.MD5: ("DMS_MD5", ("this",)),
    exp.Lower: ("DMS_LOWER", ("this",)),
    exp.Upper: ("DMS_UPPER", ("this",)),
    exp.Unicode: ("DMS_ASCII", ("this",)),
    exp.Space: ("DMS_SPACE", ("this",)),
    exp.Hex: ("DMS_HEX", ("this",)),
}

_INTERVAL_UNITS = {
    "MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR",
}  # fmt: skip
_TRUNC_UNITS = {"MICROSECONDS", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER",
                "YEAR", "DECADE", "CENTURY"}  # fmt: skip
_INT_TYPES = {
    exp.DataType.Type.BIGINT, exp.DataType.Type.INT, exp.DataType.Type.SMALLINT,
    exp.DataType.Type.TINYINT, exp.DataType.Type.MEDIUMINT,
}  # fmt: skip
_UINT_TYPES = {
    exp.DataType.Type.UBIGINT, exp.DataType.Type.UINT, exp.DataType.Type.USMALLINT,
    exp.DataType.Type.UTINYINT, exp.DataType.Type.UMEDIUMINT,
}  # fmt: skip
_TEXT_TYPES = {
    exp.DataType.Type.CHAR, exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT,
    exp.DataType.Type.NCHAR, exp.DataType.Type.NVARCHAR,
}  # fmt: skip
_REAL_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
_DECIMAL_TYPES = {exp.DataType.Type.DECIMAL, exp.DataType.Type.BIGDECIMAL}
_DATE_TYPES = {exp.DataType.Type.DATE}
_DATETIME_TYPES = {
    exp.DataType.Type.DATETIME, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.TIMESTAMPLTZ,
}  # fmt: skip


_UNWRAP = {
    "DMS_STRFTIME", "DMS_YEAR", "DMS_MONTH", "DMS_DAY", "DMS_HOUR", "DMS_MINUTE", "DMS_SECOND",
    "DMS_QUARTER", "DMS_DAYOFWEEK", "DMS_DAYOFYEAR", "DMS_WEEK", "DMS_WEEKOFYEAR", "DMS_DAYNAME",
}  # fmt: skip


def _decimal_text(node: exp.Expr) -> exp.Expr:
    """A decimal literal in string context keeps its digits (CONCAT(1.50) is '1.50')."""
    if isinstance(node, exp.Literal) and not node.is_string and "." in node.this:
        return exp.Literal.string(node.this)
    return node


def _is_number(node: exp.Expr) -> bool:
    while isinstance(node, (exp.Paren, exp.Neg)):
        node = node.this
    return isinstance(node, exp.Literal) and not node.is_string


def _is_call(node: exp.Expr, *names: str) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.upper() in names


def _call(name: str, *args: exp.Expr | None) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=[a for a in args if a is not None])


def _lit(value: str | int) -> exp.Expr:
    return exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)


def _unit_name(node: exp.Expr | None, default: str = "DAY") -> str:
    if node is None:
        return default
    return node.name.upper() if node.name else node.sql().upper()


def _interval_parts(node: exp.Expr) -> tuple[exp.Expr, str]:
    """(amount, UNIT) of an INTERVAL; PostgreSQL's `interval '2 hours'` is split here."""
    amount = node.this
    unit = _unit_name(node.args.get("unit"), "")
    if not unit and isinstance(amount, exp.Literal) and amount.is_string:
        m = re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*", amount.this)
        if not m:
            raise UnsupportedSql(f"INTERVAL {amount.sql()} (only one unit per interval)")
        amount, unit = exp.Literal.number(m.group(1)), m.group(2).upper()
    unit = unit.rstrip("S") if unit.endswith("S") and unit[:-1] in _INTERVAL_UNITS else unit
    if unit not in _INTERVAL_UNITS:
        raise UnsupportedSql(f"INTERVAL unit {unit or '?'}")
    return amount, unit


@dataclass(frozen=True)
class _Context:
    dialect: Dialect
    database: str | None


def _in_projection(node: exp.Expr) -> bool:
    """The node is (an alias of) an output column of the outermost SELECT."""
    parent = node.parent
    if isinstance(parent, exp.Alias):
        node, parent = parent, parent.parent
    return (
        isinstance(parent, exp.Select) and parent.parent is None and node.arg_key == "expressions"
    )


def _cast(node: exp.Cast, ctx: _Context) -> exp.Expr:
    out = _cast_call(node, ctx)
    if (
        ctx.dialect == "postgresql"
        and isinstance(node.this, exp.Column)
        and isinstance(node.parent, exp.Select)
        and node.arg_key == "expressions"
    ):
        # PostgreSQL names `id::text` "id", and ORDER BY id then means that output column.
        return exp.Alias(this=out, alias=exp.to_identifier(node.this.name, quoted=True))
    return out


def _cast_call(node: exp.Cast, ctx: _Context) -> exp.Expr:
    to = node.args["to"]
    kind = to.this
    value = node.this
    if kind in _INT_TYPES:
        return _call("DMS_CAST_INT", value, _lit(ctx.dialect))
    if kind in _UINT_TYPES:
        return _call("DMS_CAST_UNSIGNED", value)
    if kind in _DECIMAL_TYPES:
        params = [p.this for p in to.expressions]
        scale = params[1] if len(params) > 1 else exp.Literal.number(0)
        if ctx.dialect == "postgresql" and not params:
            return _call("DMS_CAST_NUMERIC", value)
        # In the outermost SELECT list the value is returned as MySQL prints it ('8.00');
        # inside expressions it stays a number so comparisons and arithmetic keep working.
        name = "DMS_CAST_DECIMAL_TEXT" if _in_projection(node) else "DMS_CAST_DECIMAL"
        return _call(name, value, scale)
    if kind in _TEXT_TYPES:
        return _call("DMS_CAST_TEXT", value)
    if kind in _REAL_TYPES:
        return _call("DMS_CAST_REAL", value)
    if kind in _DATE_TYPES:
        return _call("DMS_DATE", value)
    if kind in _DATETIME_TYPES:
        return _call("DMS_DATETIME", value)
    if kind == exp.DataType.Type.TIME:
        return _call("DMS_TIME", value)
    if kind == exp.DataType.Type.BOOLEAN:
        return _call("DMS_CAST_BOOL", value)
    raise UnsupportedSql(f"CAST to {to.sql(dialect=_READ[ctx.dialect])}")


def _group_concat(node: exp.Expr, ctx: _Context) -> exp.Expr:
    inner = node.this
    keys: list[exp.Expr] = []
    if isinstance(inner, exp.Order):
        for ordered in inner.expressions:
            keys += [ordered.this, _lit(1 if ordered.args.get("desc") else 0)]
        inner = inner.this
    distinct = isinstance(inner, exp.Distinct)
    values = list(inner.expressions) if distinct else [inner]
    value = values[0] if len(values) == 1 else _call("DMS_CONCAT", *values)
    sep = node.args.get("separator")
    if sep is None:
        sep = exp.Literal.string(",")
    name = "DMS_GROUP_CONCAT_DISTINCT" if distinct else "DMS_GROUP_CONCAT"
    return _call(name, value, sep, *keys)


def _date_add(value: exp.Expr, amount: exp.Expr, unit: str, sign: int, ctx: _Context) -> exp.Expr:
    if unit not in _INTERVAL_UNITS:
        raise UnsupportedSql(f"INTERVAL unit {unit}")
    if sign < 0:
        amount = exp.Neg(this=exp.Paren(this=amount))
    keep_date = 1 if ctx.dialect == "mysql" else 0
    return _call("DMS_DATE_ADD", value, amount, _lit(unit), _lit(keep_date))


def _filter(node: exp.Filter) -> exp.Expr:
    """agg(x) FILTER (WHERE c) as agg(CASE WHEN c THEN x END): FILTER needs SQLite 3.30."""
    agg = node.this
    where = node.expression
    cond = where.this if isinstance(where, exp.Where) else where

    def guard(value: exp.Expr) -> exp.Expr:
        return exp.Case(ifs=[exp.If(this=cond.copy(), true=value)])

    if isinstance(agg, exp.Anonymous) and agg.expressions:
        agg.set("expressions", [guard(agg.expressions[0]), *agg.expressions[1:]])
    elif isinstance(agg.this, exp.Star):
        agg.set("this", guard(exp.Literal.number(1)))
    elif isinstance(agg.this, exp.Distinct) and len(agg.this.expressions) == 1:
        agg.this.set("expressions", [guard(agg.this.expressions[0])])
    elif isinstance(agg.this, exp.Expression) and not isinstance(agg, exp.Window):
        agg.set("this", guard(agg.this))
    else:
        raise UnsupportedSql(f"FILTER on {agg.sql()[:40]}")
    return agg


def _generate_series(node: exp.Table, ctx: _Context) -> exp.Expr:
    gen = node.this
    alias = node.args.get("alias")
    column = "generate_series"
    name = "generate_series"
    if alias is not None:
        name = alias.name or name
        column = alias.columns[0].name if alias.columns else name
    start, end, step = gen.args.get("start"), gen.args.get("end"), gen.args.get("step")
    if step is None:
        step = exp.Literal.number(1)
    for part in (start, end, step):
        if part is None or part.find(exp.Interval, exp.Column) is not None:
            raise UnsupportedSql("generate_series over dates or columns")
    assert start is not None and end is not None
    sql = (
        f"(WITH RECURSIVE _dms_series(v) AS (SELECT {start.sql('sqlite')} UNION ALL "
        f"SELECT v + ({step.sql('sqlite')}) FROM _dms_series "
        f"WHERE v + ({step.sql('sqlite')}) <= {end.sql('sqlite')}) "
        f'SELECT v AS "{column}" FROM _dms_series) AS "{name}"'
    )
    return sqlglot.parse_one(f"SELECT * FROM {sql}", read="sqlite").args["from_"].this


def _strip_database(node: exp.Expr, ctx: _Context) -> None:
    db = node.args.get("db")
    if db is None:
        return
    name = db.name
    if isinstance(node, exp.Table) and node.args.get("catalog") is not None:
        raise UnsupportedSql(f"three-part table name {node.sql(dialect=_READ[ctx.dialect])}")
    allowed = {"public", "pg_temp"} if ctx.dialect == "postgresql" else set()
    if ctx.database is not None:
        allowed.add(ctx.database.lower())
    if ctx.database is not None and name.lower() not in allowed:
        raise UnsupportedSql(
            f"cross-database reference to `{name}` (this database is {ctx.database})"
        )
    if ctx.dialect == "postgresql" and name.lower() in {"information_schema", "pg_catalog"}:
        raise UnsupportedSql(f"system catalog {name}")
    node.set("db", None)


def _rewrite(node: exp.Expr, ctx: _Context) -> exp.Expr | None:
    """The SQLite-meaning replacement of one node, or None to keep it."""
    cls = type(node)
    simple = _SIMPLE.get(cls)
    if cls in (exp.Greatest, exp.Least) and ctx.dialect == "postgresql":
        simple = None
    if simple is not None:
        name, keys = simple
        args: list[exp.Expr] = []
        for key in keys:
            val = node.args.get(key)
            if isinstance(val, list):
                args += val
            elif val is not None:
                args.append(val)
        if args and _is_call(args[0], "DMS_DATETIME", "DMS_DATE") and name in _UNWRAP:
            # DATE_FORMAT(d) / YEAR(d) parse their argument themselves: skip the cast call.
            args[0] = args[0].expressions[0]
        if cls is exp.Trunc and len(args) == 1:
            args.append(exp.Literal.number(0))
        return _call(name, *args)
    if isinstance(node, exp.Anonymous):
        fname = node.name.upper()
        if fname.startswith("DMS_"):
            return None
        mapped = _ANONYMOUS.get(fname)
        if mapped is not None:
            return _call(mapped, *node.expressions)
        if fname not in _SQLITE_FUNCTIONS:
            raise UnsupportedSql(f"function {fname}()")
        return None
    if isinstance(node, exp.Avg) and ctx.dialect == "postgresql" and _in_projection(node):
        # SQLite's AVG, plus the sum and count behind it, from which the console prints the
        # exact numeric PostgreSQL gives for avg() of an integer or numeric column
        return _call("DMS_PG_AVG", exp.Sum(this=node.this), exp.Count(this=node.this.copy()))
    if isinstance(node, (exp.CurrentTimestamp, exp.CurrentDatetime)):
        return _call("DMS_NOW")
    if isinstance(node, exp.CurrentDate):
        return _call("DMS_CURDATE")
    if isinstance(node, exp.CurrentTime):
        return _call("DMS_CURTIME")
    if isinstance(node, exp.If) and not isinstance(node.parent, exp.Case):
        return exp.Case(
            ifs=[exp.If(this=node.this, true=node.args.get("true"))],
            default=node.args.get("false"),
        )
    if isinstance(node, (exp.Greatest, exp.Least)) and ctx.dialect == "postgresql":
        name = "DMS_GREATEST_PG" if isinstance(node, exp.Greatest) else "DMS_LEAST_PG"
        return _call(name, node.this, *node.expressions)
    if isinstance(node, exp.Concat):
        args = [_decimal_text(a) for a in node.expressions]
        if ctx.dialect == "postgresql":  # concat() skips NULLs in PostgreSQL
            return _call("DMS_CONCAT_WS", exp.Literal.string(""), *args)
        return _call("DMS_CONCAT", *args)
    if isinstance(node, exp.DPipe):
        return _call("DMS_CONCAT", node.this, node.expression)
    if isinstance(node, exp.GroupConcat):
        return _group_concat(node, ctx)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return _cast(node, ctx)
    if isinstance(node, (exp.DateAdd, exp.DateSub)):
        return _date_add(
            node.this,
            node.expression,
            _unit_name(node.args.get("unit")),
            -1 if isinstance(node, exp.DateSub) else 1,
            ctx,
        )
    if isinstance(node, (exp.Add, exp.Sub)):
        left, right = node.this, node.expression
        sign = -1 if isinstance(node, exp.Sub) else 1
        if isinstance(right, exp.Interval):
            amount, unit = _interval_parts(right)
            return _date_add(left, amount, unit, sign, ctx)
        if isinstance(left, exp.Interval) and sign > 0:
            amount, unit = _interval_parts(left)
            return _date_add(right, amount, unit, 1, ctx)
        if not (_is_number(left) and _is_number(right)):
            # A stored date minus something means a number of days (PostgreSQL) or MySQL's
            # YYYYMMDD arithmetic, not SQLite's reading of the text's leading digits.
            name = "DMS_SUB" if sign < 0 else "DMS_ADD"
            return _call(name, left, right, _lit(ctx.dialect))
        return None
    if isinstance(node, exp.Interval) and not isinstance(node.parent, (exp.Add, exp.Sub)):
        raise UnsupportedSql("INTERVAL outside date arithmetic")
    if isinstance(node, exp.TimestampDiff):
        unit = _unit_name(node.args.get("unit"))
        if unit not in _INTERVAL_UNITS:
            raise UnsupportedSql(f"TIMESTAMPDIFF unit {unit}")
        return _call("DMS_TIMESTAMPDIFF", _lit(unit), node.expression, node.this)
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)):
        unit = _unit_name(node.args.get("unit"))
        if unit not in _TRUNC_UNITS:
            raise UnsupportedSql(f"date_trunc unit {unit}")
        return _call("DMS_DATE_TRUNC", _lit(unit), node.this)
    if isinstance(node, exp.Extract):
        return _call("DMS_EXTRACT", _lit(_unit_name(node.this)), node.expression)
    if isinstance(node, (exp.RegexpLike, exp.RegexpILike)):
        flags = "i" if isinstance(node, exp.RegexpILike) or ctx.dialect == "mysql" else ""
        return _call("DMS_REGEXP", node.this, node.expression, _lit(flags))
    if isinstance(node, exp.Pad):
        name = "DMS_LPAD" if node.args.get("is_left") else "DMS_RPAD"
        fill = node.args.get("fill_pattern") or exp.Literal.string(" ")
        return _call(name, node.this, node.expression, fill)
    if isinstance(node, exp.Length):
        if node.args.get("binary") and ctx.dialect == "mysql":
            return _call("DMS_OCTET_LENGTH", node.this)
        return _call("DMS_CHAR_LENGTH", node.this)
    if isinstance(node, exp.Log):
        if node.expression is None:
            return _call("DMS_LOG", node.this)
        return _call("DMS_LOG", node.this, node.expression)
    if isinstance(node, exp.ILike):
        return _call("DMS_ILIKE", node.this, node.expression)
    if isinstance(node, exp.Like) and ctx.dialect == "postgresql":
        return _call("DMS_LIKE", node.this, node.expression)
    if isinstance(node, exp.StrPosition):
        return _call("DMS_LOCATE", node.args.get("substr"), node.this, node.args.get("position"))
    if isinstance(node, exp.Table):
        if isinstance(node.this, exp.ExplodingGenerateSeries):
            return _generate_series(node, ctx)
        _strip_database(node, ctx)
        return None
    if isinstance(node, exp.Column):
        if node.args.get("catalog") is not None:
            raise UnsupportedSql(f"three-part column name {node.sql()}")
        _strip_database(node, ctx)
        return None
    if isinstance(node, exp.EQ) and isinstance(node.expression, exp.Any):
        values = node.expression.this
        values = values.this if isinstance(values, exp.Paren) else values
        if isinstance(values, exp.Array):  # x = ANY(ARRAY[a, b]) is x IN (a, b)
            return exp.In(this=node.this, expressions=list(values.expressions))
    if isinstance(node, exp.Array) and not _array_in_any(node):
        raise UnsupportedSql("ARRAY values")
    if isinstance(node, exp.Filter):
        return _filter(node)
    if isinstance(node, exp.Distinct) and node.args.get("on") is not None:
        raise UnsupportedSql("DISTINCT ON")
    if isinstance(node, (exp.Into,)):
        raise UnsupportedSql("SELECT ... INTO")
    if isinstance(node, exp.Collate):
        raise UnsupportedSql("COLLATE")
    if isinstance(node, exp.Rollup) or (isinstance(node, exp.Group) and node.args.get("rollup")):
        raise UnsupportedSql("WITH ROLLUP")
    if isinstance(node, exp.OnConflict) and node.args.get("duplicate"):
        raise UnsupportedSql("INSERT ... ON DUPLICATE KEY UPDATE")
    return None


def _array_in_any(node: exp.Expr) -> bool:
    parent = node.parent
    if isinstance(parent, exp.Paren):
        parent = parent.parent
    return isinstance(parent, exp.Any) and isinstance(parent.parent, exp.EQ)


def _order_target(ordered: exp.Ordered) -> exp.Expr:
    """What an ORDER BY item sorts on; an ordinal (`ORDER BY 2`) becomes its select item."""
    target = ordered.this
    if isinstance(target, exp.Literal) and not target.is_string:
        select = ordered.parent.parent if ordered.parent is not None else None
        if isinstance(select, exp.Select):
            item = select.expressions[int(target.this) - 1]
            if isinstance(item, exp.Alias):
                return exp.column(item.alias, quoted=True)
            return item.copy()
    return target.copy()


def _portable_null_order(tree: exp.Expr) -> None:
    """NULLS FIRST/LAST (PostgreSQL's default order, or explicit) without that syntax, which
    SQLite has only from 3.30: a leading `x IS NULL` key does the same on every version."""
    for ordered in list(tree.find_all(exp.Ordered)):
        parent = ordered.parent
        desc = bool(ordered.args.get("desc"))
        nulls_first = ordered.args.get("nulls_first")
        sqlite_nulls_first = not desc
        if nulls_first is None or bool(nulls_first) == sqlite_nulls_first or parent is None:
            continue
        if isinstance(parent.parent, exp.SetOperation):
            continue  # a compound's ORDER BY takes result columns only: NULLS LAST stays
        key = exp.Ordered(
            this=exp.Is(this=_order_target(ordered), expression=exp.Null()),
            desc=bool(nulls_first),
            nulls_first=not nulls_first,
        )
        ordered.set("nulls_first", sqlite_nulls_first)
        arg_key = ordered.arg_key or "expressions"
        items = parent.args.get(arg_key)
        if isinstance(items, list):
            at = items.index(ordered)
            parent.set(arg_key, [*items[:at], key, *items[at:]])


_REJECTED_ROOTS: dict[type[exp.Expr], str] = {
    exp.Show: "SHOW",
    exp.Describe: "DESCRIBE",
    exp.Set: "SET",
    exp.Use: "USE",
    exp.Command: "",
    exp.Transaction: "BEGIN",
    exp.Commit: "COMMIT",
    exp.Rollback: "ROLLBACK",
}


def _parse_one(sql: str, dialect: Dialect) -> exp.Expression:
    try:
        trees = [
            t for t in sqlglot.parse(sql, read=_READ[dialect], error_level=ErrorLevel.RAISE) if t
        ]
    except ParseError as exc:
        errors = exc.errors[0] if exc.errors else {}
        near = (errors.get("highlight") or "").strip()
        where = f" near {near!r}" if near else ""
        line = errors.get("line")
        at = f" (line {line}, column {errors.get('col')})" if line else ""
        raise UnsupportedSql(f"SQL syntax error{where}{at}") from None
    except SqlglotError as exc:
        raise UnsupportedSql(f"SQL syntax error: {exc}") from None
    except (AttributeError, TypeError, ValueError, IndexError, KeyError, RecursionError):
        # sqlglot's parser trips over some malformed input instead of reporting it
        raise UnsupportedSql("SQL syntax error") from None
    if not trees:
        raise UnsupportedSql("empty SQL statement")
    if len(trees) > 1:
        raise UnsupportedSql("more than one SQL statement")
    tree = trees[0]
    assert isinstance(tree, exp.Expression)
    return tree


@functools.lru_cache(maxsize=4096)
def translate(sql: str, dialect: Dialect, database: str | None = None) -> str:
    """One client statement in `dialect` as SQLite SQL meaning the same (cached).

    `database`, when given, is the name schema-qualified references may use (`shop`.`t`).
    """
    if dialect == "sqlite":
        return sql
    if dialect not in _READ:
        raise ValueError(f"unknown dialect {dialect!r}")
    tree: exp.Expr = _parse_one(sql, dialect)
    for cls, label in _REJECTED_ROOTS.items():
        if isinstance(tree, cls):
            word = label or (str(tree.this).split()[0].upper() if tree.this else "command")
            raise UnsupportedSql(f"{word} statement")
    try:
        return _translate_tree(tree, _Context(dialect, database))
    except UnsupportedSql:
        raise
    except (AttributeError, TypeError, ValueError, IndexError, KeyError, RecursionError) as exc:
        raise UnsupportedSql(f"SQL the embedded engine cannot translate ({exc})") from None


def _translate_tree(tree: exp.Expr, ctx: _Context) -> str:
    nodes = list(tree.walk(bfs=False))
    for node in reversed(nodes):
        new = _rewrite(node, ctx)
        if new is not None and new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    _portable_null_order(tree)
    try:
        return tree.sql(dialect="sqlite", unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise UnsupportedSql(str(exc).splitlines()[0]) from None


_KINDS: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Insert, "INSERT"),
    (exp.Update, "UPDATE"),
    (exp.Delete, "DELETE"),
    (exp.Merge, "MERGE"),
    (exp.Create, "DDL"),
    (exp.Drop, "DDL"),
    (exp.Alter, "DDL"),
    (exp.TruncateTable, "DDL"),
    (exp.Show, "SHOW"),
    (exp.Describe, "SHOW"),
    (exp.Set, "SET"),
    (exp.Use, "USE"),
    (exp.Copy, "COPY"),
)


@functools.lru_cache(maxsize=4096)
def statement_kind(sql: str, dialect: Dialect) -> str:
    """What one statement does: SELECT (read-only), INSERT, UPDATE, DELETE, DDL, ... or OTHER.

    SELECT is answered only when nothing in the tree writes, locks or selects INTO; several
    statements answer MULTI and unparsable text OTHER, so a guard treats both as not read-only.
    """
    read = _READ.get(dialect, "sqlite")
    try:
        trees = [t for t in sqlglot.parse(sql, read=read, error_level=ErrorLevel.RAISE) if t]
    except (
        SqlglotError,
        AttributeError,
        TypeError,
        ValueError,
        IndexError,
        KeyError,
        RecursionError,
    ):
        return "OTHER"
    if len(trees) != 1:
        return "MULTI" if trees else "OTHER"
    tree = trees[0]
    if isinstance(tree, exp.Command):
        return str(tree.this).split()[0].upper() if tree.this else "OTHER"
    for cls, kind in _KINDS:
        if isinstance(tree, cls):
            return kind
    if isinstance(tree, exp.Query):
        if tree.find(exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Into, exp.Lock):
            return "OTHER"
        return "SELECT"
    return "OTHER"
