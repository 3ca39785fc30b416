"""The request journal: what came in, who sent it, what it got; bounded, newest last.

Each entry carries the request parameters and the response body, so tests can assert on what
their code called (`Filter`, `emulator.admin.verify`). Nothing an unauthenticated caller sends
can make it big: secrets and signatures are redacted, every long value is cut at a marker, one
entry has a byte ceiling, and the whole journal has a byte budget as well as a count.

One process keeps it in memory; several worker processes share it in the runtime database.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from emulator.state.runtime_db import RuntimeDB

log = logging.getLogger("emulator.gateway.journal")

TRIM_EVERY = 200
REDACTED = "***redacted***"
# parameter names whose values are secrets or signatures (never journaled, never shown)
SECRET_NAME = re.compile(r"signature$|secret|password|passwd|token|credential", re.IGNORECASE)
# signed links in response bodies (download URLs): the signature goes, the rest stays readable
LINK_SIGNATURE = re.compile(r"(Signature=)[^&\"'\s<]+")
ENTRY_OVERHEAD = 400  # bytes counted for the fixed fields of an entry


def marker(total: int) -> str:
    return f"…[truncated: {total} bytes in all]"


def cut(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its head and a marker saying how long it was."""
    if len(text) <= limit:
        return text
    total = len(text.encode("utf-8", "replace"))
    return text[: max(0, limit - 40)] + marker(total)


@dataclass(frozen=True)
class Bounds:
    value_chars: int = 1024  # one parameter value
    params_chars: int = 8192  # all parameters of one entry together
    text_chars: int = 8192  # the string to sign, the canonical request
    body_chars: int = 4096  # the response body
    total_bytes: int = 64 * 1024 * 1024  # the whole journal


_SECRET: dict[str, bool] = {}


def is_secret(name: str) -> bool:
    """Parameter names are few and repeat: the pattern runs once per name."""
    known = _SECRET.get(name)
    if known is None:
        known = SECRET_NAME.search(name) is not None
        if len(_SECRET) < 4096:
            _SECRET[name] = known
    return known


def bounded_params(params: dict[str, str], bounds: Bounds) -> dict[str, str]:
    out: dict[str, str] = {}
    used = 0
    limit, budget = bounds.value_chars, bounds.params_chars
    for i, (name, value) in enumerate(params.items()):
        if len(name) > 128:
            name = cut(name, 128)
        text = REDACTED if is_secret(name) else value if len(value) <= limit else cut(value, limit)
        used += len(name) + len(text)
        if used > budget:
            out["…"] = f"[{len(params) - i} more parameter(s) truncated]"
            break
        out[name] = text
    return out


def bounded_body(body: bytes | str | None, bounds: Bounds) -> str | None:
    """The response as text: at most `body_chars` bytes of it, link signatures redacted."""
    if body is None:
        return None
    raw = body if isinstance(body, bytes) else body.encode("utf-8", "replace")
    limit = bounds.body_chars
    text = raw[:limit].decode("utf-8", "ignore")
    if "Signature=" in text:
        text = LINK_SIGNATURE.sub(r"\1" + REDACTED, text)
    if len(raw) > limit:
        text = text[: max(0, limit - 40)] + marker(len(raw))
    return text


def bound_entry(entry: dict[str, Any], bounds: Bounds) -> int:
    """Redact and cut the entry in place; returns its approximate size in bytes."""
    size = ENTRY_OVERHEAD
    if entry.get("params") is not None:
        entry["params"] = bounded_params(entry["params"], bounds)
        size += sum(len(k) + len(v) for k, v in entry["params"].items())
    if "response_body" in entry:
        entry["response_body"] = bounded_body(entry["response_body"], bounds)
        size += len(entry["response_body"] or "")
    for key in ("string_to_sign", "canonical_request"):
        if entry.get(key) is not None:
            entry[key] = cut(str(entry[key]), bounds.text_chars)
            size += len(entry[key])
    if entry.get("fault"):
        size += 200
    return size


def _json_path(value: str, path: str) -> Any:
    """`PluginParam.dbId`: walk into a JSON-valued parameter; a miss is None."""
    try:
        doc: Any = json.loads(value)
    except ValueError:
        return None
    for part in path.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def param_value(params: dict[str, str], name: str) -> str | None:
    """A parameter's value as text, or a value inside a JSON parameter (`PluginParam.dbId`)."""
    if name in params:
        return params[name]
    head, dot, rest = name.partition(".")
    if dot and head in params:
        found = _json_path(params[head], rest)
        return None if found is None else as_text(found)
    return None


@dataclass(frozen=True)
class Filter:
    """Which entries a query, a count or an expectation keeps; None is "any"."""

    action: str | None = None
    code: str | None = None
    access_key_id: str | None = None
    tid: int | None = None
    request_id: str | None = None
    product: str | None = None
    since: float | None = None
    until: float | None = None
    params: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def keeps(self, e: dict[str, Any]) -> bool:
        return (
            (self.action is None or e.get("action") == self.action)
            and (self.code is None or e.get("code") == self.code)
            and (self.access_key_id is None or e.get("access_key_id") == self.access_key_id)
            and (self.tid is None or e.get("tid") == self.tid)
            and (self.request_id is None or e.get("request_id") == self.request_id)
            and (self.product is None or e.get("product") == self.product)
            and (self.since is None or e.get("ts", 0) >= self.since)
            and (self.until is None or e.get("ts", 0) <= self.until)
            and all(param_value(e.get("params") or {}, k) == v for k, v in self.params)
        )


ANY = Filter()


class MemoryJournal:
    """One process: a deque bounded by count and by bytes."""

    def __init__(self, capacity: int = 10_000, bounds: Bounds | None = None):
        self.capacity = capacity
        self.bounds = bounds or Bounds()
        self._entries: deque[tuple[int, dict[str, Any]]] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._seq = 0

    @property
    def bytes(self) -> int:
        return self._bytes

    def record(self, entry: dict[str, Any]) -> None:
        size = bound_entry(entry, self.bounds)
        with self._lock:
            self._seq += 1
            self._entries.append((size, {"seq": self._seq, **entry}))
            self._bytes += size
            while self._entries and (
                len(self._entries) > self.capacity or self._bytes > self.bounds.total_bytes
            ):
                self._bytes -= self._entries.popleft()[0]

    def query(self, where: Filter = ANY, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = [e for _, e in self._entries]
        out = [e for e in items if where.keeps(e)]
        return out[-limit:] if limit else out

    def clear(self, tid: int | None = None) -> None:
        with self._lock:
            kept = [] if tid is None else [(s, e) for s, e in self._entries if e.get("tid") != tid]
            self._entries.clear()
            self._entries.extend(kept)
            self._bytes = sum(s for s, _ in kept)


INSERT_ENTRY = (
    "INSERT INTO journal (ts, action, code, access_key_id, tid, request_id, doc) "
    "VALUES (?,?,?,?,?,?,?)"
)
WRITERS = 256  # worker processes (replacements included) that get a write-behind slot
FLUSH_DELAY = 0.001  # seconds a writer waits for more entries before one batch INSERT
SETTLE_SECONDS = 3.0  # longest a reader waits for the other workers' entries to land


class Journal:
    """Several worker processes: the runtime database, so every worker writes one journal.

    Write-behind: a request hands its entry to its process's writer thread, which inserts
    batches (one transaction, no SQLite call and no lock on the request path). A reader first
    waits until every live worker has written what it had been handed when the read began, so
    a query sees every call answered before it, whichever worker answered."""

    def __init__(self, db: RuntimeDB, capacity: int = 10_000, bounds: Bounds | None = None):
        self.db = db
        self.capacity = capacity
        self.bounds = bounds or Bounds()
        self._writes = 0
        ctx = multiprocessing.get_context("fork")
        self._queued = ctx.RawArray("q", WRITERS)  # entries handed over, per process slot
        self._written = ctx.RawArray("q", WRITERS)  # of them, in the database
        self._pids = ctx.RawArray("q", WRITERS)  # whose slot it is
        self._slots = ctx.RawValue("i", 0)
        self._slots_lock = ctx.Lock()
        self._forget()
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        """A new process (or the first): no slot, no buffer, no writer thread yet."""
        self._pid = -1
        self._slot = -1
        self._buffer: list[tuple[Any, ...]] = []
        self._local = threading.Lock()
        self._wake = threading.Event()

    def _my_slot(self) -> int:
        if self._pid == os.getpid():
            return self._slot
        with self._local:
            if self._pid != os.getpid():
                with self._slots_lock:
                    slot = self._slots.value
                    if slot < WRITERS:
                        self._slots.value = slot + 1
                        self._pids[slot] = os.getpid()
                self._slot = slot if slot < WRITERS else -1
                if self._slot >= 0:
                    threading.Thread(
                        target=self._writer, name="journal-writer", daemon=True
                    ).start()
                self._pid = os.getpid()
        return self._slot

    def record(self, entry: dict[str, Any]) -> None:
        bound_entry(entry, self.bounds)
        row = (
            entry.get("ts", 0),
            entry.get("action"),
            entry.get("code"),
            entry.get("access_key_id"),
            entry.get("tid"),
            entry.get("request_id"),
            json.dumps(entry, ensure_ascii=False, default=str),
        )
        slot = self._my_slot()
        if slot < 0:  # out of slots: written at once
            self._insert([row])
            return
        with self._local:
            self._buffer.append(row)
            self._queued[slot] += 1  # only this process writes its slot, under its lock
        self._wake.set()

    def _writer(self) -> None:
        slot, pid = self._slot, os.getpid()
        while pid == os.getpid():
            self._wake.wait()
            time.sleep(FLUSH_DELAY)
            self._wake.clear()
            with self._local:
                rows, self._buffer = self._buffer, []
            if not rows:
                continue
            try:
                self._insert(rows)
            except Exception:
                log.exception("journal: %d entries could not be written", len(rows))
            self._written[slot] += len(rows)

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        """One batch in one transaction; crossing a multiple of `TRIM_EVERY` enforces the
        count and byte bounds."""
        with self.db.transaction() as conn:
            conn.executemany(INSERT_ENTRY, rows)
            before, self._writes = self._writes, self._writes + len(rows)
            last = int(conn.execute("SELECT max(seq) FROM journal").fetchone()[0] or 0)
            if before // TRIM_EVERY != self._writes // TRIM_EVERY or (
                last // TRIM_EVERY != (last - len(rows)) // TRIM_EVERY
            ):
                conn.execute("DELETE FROM journal WHERE seq <= ?", (last - self.capacity,))
                over = conn.execute(
                    "SELECT seq FROM (SELECT seq, sum(length(doc)) OVER (ORDER BY seq DESC) AS "
                    "running FROM journal) WHERE running > ? ORDER BY seq DESC LIMIT 1",
                    (self.bounds.total_bytes,),
                ).fetchone()
                if over is not None:
                    conn.execute("DELETE FROM journal WHERE seq <= ?", (int(over[0]),))

    def settle(self) -> None:
        """Wait until every live worker wrote what it was handed before now (bounded: a worker
        that died with entries in hand is skipped)."""
        count = min(self._slots.value, WRITERS)
        target = [self._queued[i] for i in range(count)]
        deadline = time.monotonic() + SETTLE_SECONDS
        for i in range(count):
            while self._written[i] < target[i] and time.monotonic() < deadline:
                if not _alive(int(self._pids[i])):
                    break
                time.sleep(0.0005)

    @property
    def bytes(self) -> int:
        self.settle()
        row = self.db.query_one("SELECT coalesce(sum(length(doc)), 0) FROM journal")
        return int(row[0]) if row else 0

    def query(self, where: Filter = ANY, limit: int | None = None) -> list[dict[str, Any]]:
        self.settle()
        sql = "SELECT seq, doc FROM journal WHERE 1=1"
        args: list[Any] = []
        for column, value in (
            ("action", where.action),
            ("code", where.code),
            ("access_key_id", where.access_key_id),
            ("tid", where.tid),
            ("request_id", where.request_id),
        ):
            if value is not None:
                sql += f" AND {column}=?"
                args.append(value)
        if where.since is not None:
            sql += " AND ts>=?"
            args.append(where.since)
        if where.until is not None:
            sql += " AND ts<=?"
            args.append(where.until)
        newest = self.db.query_one("SELECT max(seq) FROM journal")
        floor = int(newest[0] or 0) - self.capacity if newest else 0
        sql += " AND seq > ? ORDER BY seq DESC"
        args.append(floor)
        rows: Iterable[Any] = self.db.query(sql, tuple(args))
        out: list[dict[str, Any]] = []
        for r in rows:
            e = {"seq": r["seq"], **json.loads(r["doc"])}
            if where.keeps(e):
                out.append(e)
                if limit and len(out) >= limit:
                    break
        out.reverse()
        return out

    def clear(self, tid: int | None = None) -> None:
        self.settle()  # entries handed over before the reset go with it
        if tid is None:
            self.db.execute("DELETE FROM journal")
        else:
            self.db.execute("DELETE FROM journal WHERE tid=?", (tid,))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
