"""Replay protection: a nonce may be used once per access key within the freshness window.

Kept in the runtime database, so a nonce replayed to another worker process is still refused;
the check and the record are one atomic insert. Memory is bounded: entries expire after the
window, and past `capacity` the oldest go first (they are the nearest to expiring, and an
expired timestamp is refused anyway).
"""

from __future__ import annotations

from emulator.runtimedb import RuntimeDB

SWEEP_EVERY = 1000


class NonceCache:
    def __init__(self, db: RuntimeDB, window_seconds: float = 900.0, capacity: int = 500_000):
        self.db = db
        self.window = window_seconds
        self.capacity = capacity
        self._inserts = 0

    def check_and_record(self, access_key_id: str, nonce: str, now: float) -> bool:
        """True if the nonce is fresh (and is now recorded); False if it was used already."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT expires FROM nonces WHERE ak=? AND nonce=?", (access_key_id, nonce)
            ).fetchone()
            if row is not None and row[0] > now:
                return False
            conn.execute(
                "INSERT OR REPLACE INTO nonces (ak, nonce, expires) VALUES (?,?,?)",
                (access_key_id, nonce, now + self.window),
            )
            self._inserts += 1
            if self._inserts % max(1, min(SWEEP_EVERY, self.capacity // 10)) == 0:
                self._sweep(conn, now)
            return True

    def _sweep(self, conn, now: float) -> None:  # type: ignore[no-untyped-def]
        conn.execute("DELETE FROM nonces WHERE expires <= ?", (now,))
        (count,) = conn.execute("SELECT count(*) FROM nonces").fetchone()
        if count > self.capacity:
            conn.execute(
                "DELETE FROM nonces WHERE (ak, nonce) IN (SELECT ak, nonce FROM nonces ORDER BY expires LIMIT ?)",
                (count - self.capacity,),
            )

    def clear(self) -> None:
        self.db.execute("DELETE FROM nonces")

    def __len__(self) -> int:
        row = self.db.query_one("SELECT count(*) FROM nonces")
        return int(row[0]) if row else 0
