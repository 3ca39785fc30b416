"""The request journal: what came in, who sent it, what it got; bounded, newest last.

Each entry carries the request parameters and the response body, so tests can assert on what
their code called (`Filter`, `emulator.admin.verify`). Nothing an unauthenticated caller sends
can make it big: secrets and signatures are redacted, every long value is cut at a marker, one
entry has a byte ceiling, and the whole journal has a byte budget as well as a count.

One process keeps it in memory; several worker processes share one ring in shared memory.
"""

from __future__ import annotations

import json
import logging
import marshal
import mmap
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from emulator.core.shared import Queued

log = logging.getLogger("emulator.gateway.journal")

REDACTED = "***redacted***"
# parameter names whose values are secrets or signatures (never journaled, never shown)
SECRET_NAME = re.compile(r"signature$|secret|password|passwd|token|credential", re.IGNORECASE)
# signed links in response bodies (download URLs): the signature goes, the rest stays readable
LINK_SIGNATURE = re.compile(r"(Signature=)[^&\"'\s<]+")
ENTRY_OVERHEAD = 400  # bytes counted for the fixed fields of an entry
# the fields an entry too big for a tiny budget leaves out
JOURNAL_HEAVY = ("params", "response_body", "string_to_sign", "canonical_request")


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
            entry["seq"] = self._seq  # the entry is the journal's from here on
            self._entries.append((size, entry))
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


# per entry of the index ring: data offset, length, tid (-1: none), live (0: cleared)
_FIELDS = 4


def _pack(entry: dict[str, Any]) -> bytes:
    """marshal: a C call that neither escapes nor copies strings twice (JSON cost a third of a
    worker's request). The ring dies with the process tree, so the format never outlives the
    interpreter that wrote it. Values marshal cannot hold go through JSON first."""
    try:
        return marshal.dumps(entry)
    except ValueError:
        return marshal.dumps(json.loads(json.dumps(entry, ensure_ascii=False, default=str)))


class Journal:
    """Several worker processes: one ring in shared memory made before the fork, so every
    worker appends to and reads the same journal with no file, no SQLite and no writer thread.

    Entries are laid out one after another in a byte ring of `bounds.total_bytes` (the byte
    budget, exactly); an index ring of `capacity` slots (the count bound) says where each one
    is. Appending drops the oldest entries that are past the count or in the bytes it needs.
    An entry becomes visible once its bytes are in place, so a crash mid-append leaves nothing
    half-written behind, and a lock a killed worker left held is taken over (`Queued`)."""

    def __init__(self, capacity: int = 10_000, bounds: Bounds | None = None):
        self.capacity = capacity
        self.bounds = bounds or Bounds()
        self.size = self.bounds.total_bytes
        self._data = mmap.mmap(-1, self.size)  # anonymous, MAP_SHARED: pages exist once written
        import multiprocessing  # only --workers share a journal: one process never loads it

        ctx = multiprocessing.get_context("fork")
        self._index = ctx.RawArray("q", capacity * _FIELDS)
        # next seq, oldest seq, write offset, bytes of live entries
        self._head = ctx.RawArray("q", [1, 1, 0, 0])
        self._lock = ctx.Lock()

    def _drop_oldest(self) -> None:
        head, index = self._head, self._index
        i = (head[1] % self.capacity) * _FIELDS
        if index[i + 3]:
            head[3] -= index[i + 1]
        head[1] += 1

    def record(self, entry: dict[str, Any]) -> None:
        bound_entry(entry, self.bounds)
        data = _pack(entry)
        if len(data) > self.size:  # a budget smaller than one bounded entry: keep its outline
            data = _pack({k: v for k, v in entry.items() if k not in JOURNAL_HEAVY})
            data = data if len(data) <= self.size else _pack({"ts": entry.get("ts", 0)})
        n = len(data)
        tid = entry.get("tid")
        head, index = self._head, self._index
        with Queued(self._lock):
            while head[0] - head[1] >= self.capacity:
                self._drop_oldest()
            start = head[2]
            if start + n > self.size:  # no room before the end: the tail's entries go, then 0
                while head[1] < head[0] and index[(head[1] % self.capacity) * _FIELDS] >= start:
                    self._drop_oldest()
                start = 0
            while head[1] < head[0]:  # the oldest entries in the bytes this one takes go
                off = index[(head[1] % self.capacity) * _FIELDS]
                if not start <= off < start + n:
                    break
                self._drop_oldest()
            self._data[start : start + n] = data
            i = (head[0] % self.capacity) * _FIELDS
            index[i], index[i + 1], index[i + 2], index[i + 3] = (
                start,
                n,
                -1 if tid is None else int(tid),
                1,
            )
            head[2], head[3] = start + n, head[3] + n
            head[0] += 1  # published last: readers see whole entries only

    def _live(self) -> list[tuple[int, bytes]]:
        """(seq, bytes) of every live entry, oldest first, copied under the lock."""
        head, index, data = self._head, self._index, self._data
        out: list[tuple[int, bytes]] = []
        with Queued(self._lock):
            for seq in range(head[1], head[0]):
                i = (seq % self.capacity) * _FIELDS
                if index[i + 3]:
                    off = index[i]
                    out.append((seq, data[off : off + index[i + 1]]))
        return out

    @property
    def bytes(self) -> int:
        return int(self._head[3])

    def query(self, where: Filter = ANY, limit: int | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for seq, raw in reversed(self._live()):
            e = {"seq": seq, **marshal.loads(raw)}
            if where.keeps(e):
                out.append(e)
                if limit and len(out) >= limit:
                    break
        out.reverse()
        return out

    def clear(self, tid: int | None = None) -> None:
        head, index = self._head, self._index
        with Queued(self._lock):
            for seq in range(head[1], head[0]):
                i = (seq % self.capacity) * _FIELDS
                if index[i + 3] and (tid is None or index[i + 2] == tid):
                    index[i + 3] = 0
                    head[3] -= index[i + 1]
