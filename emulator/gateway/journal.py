"""The request journal: what came in, who sent it, what it got; bounded, newest last.

Kept in the runtime database so that every worker process writes to (and the control plane
reads) one journal.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

from emulator.state.runtime_db import RuntimeDB

TRIM_EVERY = 200


def _keep(
    e: dict[str, Any],
    action: str | None,
    code: str | None,
    access_key_id: str | None,
    tid: int | None,
    request_id: str | None,
    since: float | None,
    until: float | None,
) -> bool:
    return (
        (action is None or e.get("action") == action)
        and (code is None or e.get("code") == code)
        and (access_key_id is None or e.get("access_key_id") == access_key_id)
        and (tid is None or e.get("tid") == tid)
        and (request_id is None or e.get("request_id") == request_id)
        and (since is None or e.get("ts", 0) >= since)
        and (until is None or e.get("ts", 0) <= until)
    )


class MemoryJournal:
    """One process: a bounded deque."""

    def __init__(self, capacity: int = 10_000):
        self.capacity = capacity
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append({"seq": self._seq, **entry})

    def query(
        self,
        *,
        action: str | None = None,
        code: str | None = None,
        access_key_id: str | None = None,
        tid: int | None = None,
        request_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        with self._lock:
            items = list(self._entries)
        out = [
            e for e in items if _keep(e, action, code, access_key_id, tid, request_id, since, until)
        ]
        return out[-limit:] if limit else out

    def clear(self, tid: int | None = None) -> None:
        with self._lock:
            kept = [] if tid is None else [e for e in self._entries if e.get("tid") != tid]
            self._entries.clear()
            self._entries.extend(kept)


class Journal:
    """Several worker processes: the runtime database, so every worker writes one journal."""

    def __init__(self, db: RuntimeDB, capacity: int = 10_000):
        self.db = db
        self.capacity = capacity
        self._writes = 0

    def record(self, entry: dict[str, Any]) -> None:
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO journal (ts, action, code, access_key_id, tid, request_id, doc) VALUES (?,?,?,?,?,?,?)",
                (
                    entry.get("ts", 0),
                    entry.get("action"),
                    entry.get("code"),
                    entry.get("access_key_id"),
                    entry.get("tid"),
                    entry.get("request_id"),
                    json.dumps(entry, ensure_ascii=False, default=str),
                ),
            )
            self._writes += 1
            if self._writes % TRIM_EVERY == 0 or (cur.lastrowid or 0) % TRIM_EVERY == 0:
                conn.execute(
                    "DELETE FROM journal WHERE seq <= ?", (int(cur.lastrowid or 0) - self.capacity,)
                )

    def query(
        self,
        *,
        action: str | None = None,
        code: str | None = None,
        access_key_id: str | None = None,
        tid: int | None = None,
        request_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        sql = "SELECT seq, doc FROM journal WHERE 1=1"
        args: list[Any] = []
        for column, value in (
            ("action", action),
            ("code", code),
            ("access_key_id", access_key_id),
            ("tid", tid),
            ("request_id", request_id),
        ):
            if value is not None:
                sql += f" AND {column}=?"
                args.append(value)
        if since is not None:
            sql += " AND ts>=?"
            args.append(since)
        if until is not None:
            sql += " AND ts<=?"
            args.append(until)
        newest = self.db.query_one("SELECT max(seq) FROM journal")
        floor = int(newest[0] or 0) - self.capacity if newest else 0
        sql += " AND seq > ? ORDER BY seq DESC LIMIT ?"
        args += [floor, limit if limit else self.capacity]
        rows = self.db.query(sql, tuple(args))
        return [{"seq": r["seq"], **json.loads(r["doc"])} for r in reversed(rows)]

    def clear(self, tid: int | None = None) -> None:
        if tid is None:
            self.db.execute("DELETE FROM journal")
        else:
            self.db.execute("DELETE FROM journal WHERE tid=?", (tid,))
