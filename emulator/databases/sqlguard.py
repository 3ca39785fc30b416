"""Statement classes per dialect: what a piece of client SQL is before any server sees it.

The lexer knows each dialect's quoting (MySQL backslash escapes, backticks, `#` and `-- `
comments and `/*! ... */` comments that MySQL executes; PostgreSQL dollar quotes and E'' strings)
so a keyword inside a string or a comment never counts and one hidden in an executable comment
always does. `check_read_only` is the first of two locks on export and precheck SQL; the second is
the read-only transaction with a statement timeout every backend opens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulator.databases.backend import SqlRejected

READ_HEADS = ("SELECT", "WITH", "VALUES", "TABLE")
# keywords that make a statement write, lock or leave the database, wherever they stand
# (unless written as a function call: MySQL has INSERT() and REPLACE() string functions)
_WRITE_WORDS = {"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "UPSERT", "INTO", "LOCK"}
_LOCKING = {("FOR", "SHARE"), ("FOR", "UPDATE"), ("FOR", "NO"), ("FOR", "KEY")}
# functions with effects outside the query (locks, files, other sessions, settings, sequences)
DENIED_FUNCTIONS = {
    "mysql": {
        "load_file",
        "get_lock",
        "release_lock",
        "release_all_locks",
        "master_pos_wait",
        "source_pos_wait",
        "sys_exec",
        "sys_eval",
    },
    "postgresql": {
        "set_config",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "lo_import",
        "lo_export",
        "lo_unlink",
        "lo_create",
        "lo_put",
        "lo_from_bytea",
        "pg_notify",
        "pg_switch_wal",
        "pg_create_restore_point",
        "pg_promote",
        "pg_logical_emit_message",
        "nextval",
        "setval",
        "pg_advisory_lock",
        "pg_advisory_lock_shared",
        "pg_advisory_xact_lock",
        "pg_advisory_xact_lock_shared",
        "pg_try_advisory_lock",
        "pg_try_advisory_xact_lock",
        "dblink",
        "dblink_exec",
        "query_to_xml",
        "pg_file_write",
    },
    "sqlite": {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"},
}


@dataclass(frozen=True)
class Token:
    kind: str  # word | punct | number | string | ident
    text: str


def _dialect(dialect: str) -> str:
    return "mysql" if dialect in ("mysql", "mariadb", "polardb") else dialect


def tokens(sql: str, dialect: str) -> list[Token]:
    """Words, punctuation and literals of `sql` with comments dropped (raises on an open quote)."""
    d = _dialect(dialect)
    out: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        nxt = sql[i + 1] if i + 1 < n else ""
        if c.isspace():
            i += 1
        elif c == "-" and nxt == "-" and (d != "mysql" or i + 2 >= n or sql[i + 2] in " \t\r\n"):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == "#" and d == "mysql":
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == "/" and nxt == "*":
            j = sql.find("*/", i + 2)
            if j < 0:
                raise SqlRejected("SQL error: unterminated /* comment")
            body = sql[i + 2 : j]
            if d == "mysql" and body.startswith("!"):  # MySQL runs these: lex the contents
                out.extend(tokens(re.sub(r"^!\d*", "", body), dialect))
            i = j + 2
        elif c == "'" or (c in "eE" and nxt == "'" and d == "postgresql"):
            start = i + (1 if c != "'" else 0)
            backslash = d == "mysql" or c in "eE"
            i = _skip_quoted(sql, start, "'", backslash)
            out.append(Token("string", sql[start:i]))
        elif c == '"':
            end = _skip_quoted(sql, i, '"', d == "mysql")
            out.append(Token("ident" if d != "mysql" else "string", sql[i:end]))
            i = end
        elif c == "`" and d != "postgresql":
            end = _skip_quoted(sql, i, "`", False)
            out.append(Token("ident", sql[i:end]))
            i = end
        elif c == "[" and d == "sqlite":
            j = sql.find("]", i)
            if j < 0:
                raise SqlRejected("SQL error: unterminated [identifier]")
            out.append(Token("ident", sql[i : j + 1]))
            i = j + 1
        elif c == "$" and d == "postgresql" and (m := re.match(r"\$([A-Za-z_]\w*)?\$", sql[i:])):
            tag = m.group(0)
            j = sql.find(tag, i + len(tag))
            if j < 0:
                raise SqlRejected("SQL error: unterminated dollar-quoted string")
            out.append(Token("string", sql[i : j + len(tag)]))
            i = j + len(tag)
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] in "_$"):
                j += 1
            out.append(Token("word", sql[i:j].upper()))
            i = j
        elif c.isdigit():
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "."):
                j += 1
            out.append(Token("number", sql[i:j]))
            i = j
        else:
            out.append(Token("punct", c))
            i += 1
    return out


def _skip_quoted(sql: str, i: int, quote: str, backslash: bool) -> int:
    """Index just past the quoted run starting at `sql[i] == quote`."""
    j, n = i + 1, len(sql)
    while j < n:
        ch = sql[j]
        if backslash and ch == "\\":
            j += 2
            continue
        if ch == quote:
            if j + 1 < n and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    raise SqlRejected(f"SQL error: unterminated {quote}quoted{quote} text")


def statements(sql: str, dialect: str) -> list[list[Token]]:
    """The non-empty statements of `sql`, split on semicolons outside quotes and comments."""
    parts: list[list[Token]] = [[]]
    for t in tokens(sql, dialect):
        if t.kind == "punct" and t.text == ";":
            parts.append([])
        else:
            parts[-1].append(t)
    return [p for p in parts if p]


def strip_sql(sql: str) -> str:
    """The statement without trailing semicolons and blanks (DMS accepts `select 1;`)."""
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def head(sql: str, dialect: str) -> str:
    """The first keyword of the first statement (after opening parentheses), upper case."""
    for parts in statements(sql, dialect)[:1]:
        for t in parts:
            if t.kind == "punct" and t.text == "(":
                continue
            return t.text.upper() if t.kind == "word" else ""
    return ""


def check_read_only(sql: str, dialect: str) -> str:
    """`sql` without trailing semicolons if it is one read-only query; else SqlRejected why."""
    d = _dialect(dialect)
    parts = statements(sql, d)
    if not parts:
        raise SqlRejected("the export SQL is empty")
    if len(parts) > 1:
        raise SqlRejected("only one SQL statement may be exported at a time")
    first = head(sql, d)
    if first not in READ_HEADS:
        raise SqlRejected(f"only SELECT statements may be exported, not {first or 'this'}")
    if d == "sqlite":
        return strip_sql(sql)  # SQLite's authorizer judges every object and function touched
    toks = parts[0]
    # the embedded engine runs every dialect on SQLite: its dangerous functions are refused too
    denied = DENIED_FUNCTIONS.get(d, set()) | DENIED_FUNCTIONS["sqlite"]
    for k, t in enumerate(toks):
        if t.kind != "word":
            continue
        after = toks[k + 1] if k + 1 < len(toks) else None
        call = after is not None and after.kind == "punct" and after.text == "("
        if t.text in _WRITE_WORDS and not call:
            raise SqlRejected(
                f"SQL error: {t.text} is not allowed here: only a read-only SELECT may be exported"
            )
        if after is not None and (t.text, after.text) in _LOCKING:
            raise SqlRejected("only a read-only SELECT may be exported (no locking clauses)")
        if call and t.text.lower() in denied:
            raise SqlRejected(
                f"only a read-only SELECT may be exported (the function {t.text.lower()} is refused)"
            )
    return strip_sql(sql)


# --------------------------------------------------------------------------- the SQL console

READ = "READ"  # a query: runs in a read-only transaction
DML = "DML"  # changes rows (or locks them: SELECT ... FOR UPDATE)
DDL = "DDL"  # changes the catalog
OTHER = "OTHER"  # session, transaction, privilege, server or file statements: never run

_CONSOLE_READ = {
    "mysql": (*READ_HEADS, "SHOW", "DESC", "DESCRIBE", "EXPLAIN"),
    "postgresql": (*READ_HEADS, "SHOW", "EXPLAIN"),
    "sqlite": (*READ_HEADS, "EXPLAIN"),
}
_CONSOLE_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE")
_CONSOLE_DDL = ("CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "COMMENT")
# DDL that reaches outside the database's own tables
_DDL_OBJECTS_DENIED = {
    "DATABASE", "SCHEMA", "USER", "ROLE", "SERVER", "TABLESPACE", "EXTENSION", "EVENT",
    "LOGFILE", "PUBLICATION", "SUBSCRIPTION", "SYSTEM", "RESOURCE", "INSTANCE", "DEFINER",
}  # fmt: skip


@dataclass(frozen=True)
class Classified:
    kind: str  # READ | DML | DDL | OTHER
    head: str  # the statement's first keyword (upper case), for messages
    why: str = ""  # OTHER: why the console does not run it


def classify(sql: str, dialect: str) -> Classified:
    """What one console statement is: READ, DML, DDL, or OTHER (with why it never runs).

    Lexed, not parsed, so it judges every dialect alike: a read head that also writes or locks
    (`WITH d AS (DELETE ...)`, `SELECT ... FOR UPDATE`) is DML; one that writes a file or a
    variable (`SELECT ... INTO`) or calls a function with effects outside the query is OTHER.
    """
    d = _dialect(dialect)
    parts = statements(sql, d)
    if len(parts) != 1:
        return Classified(OTHER, "", "one statement at a time")
    toks = parts[0]
    first = next((t for t in toks if not (t.kind == "punct" and t.text == "(")), None)
    word = first.text if first is not None and first.kind == "word" else ""
    denied = DENIED_FUNCTIONS.get(d, set()) | DENIED_FUNCTIONS["sqlite"]
    for k, t in enumerate(toks):
        after = toks[k + 1] if k + 1 < len(toks) else None
        if (
            t.kind == "word"
            and after is not None
            and after.text == "("
            and t.text.lower() in denied
        ):
            return Classified(OTHER, word, f"the function {t.text.lower()} is not allowed")
    if word in _CONSOLE_READ.get(d, READ_HEADS):
        kind = READ
        for k, t in enumerate(toks):
            if t.kind != "word":
                continue
            after = toks[k + 1] if k + 1 < len(toks) else None
            call = after is not None and after.kind == "punct" and after.text == "("
            if t.text == "INTO" and not call and word not in ("EXPLAIN",):
                return Classified(OTHER, word, "SELECT ... INTO is not allowed")
            if (t.text in _CONSOLE_DML and not call) or (
                after is not None and (t.text, after.text) in _LOCKING
            ):
                kind = DML
            if t.text == "LOCK" and not call:
                kind = DML  # LOCK IN SHARE MODE
        return Classified(kind, word)
    if word in _CONSOLE_DML:
        return Classified(DML, word)
    if word in _CONSOLE_DDL:
        skip = {"OR", "REPLACE", "TEMPORARY", "TEMP", "UNIQUE", "GLOBAL", "LOCAL", "ONLINE"}
        target = next((t.text for t in toks[1:6] if t.kind == "word" and t.text not in skip), "")
        if target in _DDL_OBJECTS_DENIED:
            return Classified(OTHER, word, f"{word} {target} is not allowed in the SQL console")
        return Classified(DDL, word)
    return Classified(OTHER, word, f"{word or 'this'} statements are not supported")
