"""Result files (exports, tracking logs, Sas sheets) and their OSS-style signed links.

A file is only ever reached through its key in the `artifacts` table, never by joining a
user-supplied path, so nothing outside the export store can be served. Links are signed like
OSS V1 presigned URLs and expire on the emulated clock.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from emulator.core.randomness import RandomSource
from emulator.gateway import signing
from emulator.state.schema import Tables, clear, clear_tenant
from emulator.state.store import Store

BUCKET = "dms-emulator-exports"
LINK_PREFIX = "/_oss"


TABLES = Tables(
    owner=__name__,
    schema=(
        """CREATE TABLE IF NOT EXISTS artifacts (
          key TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          owner TEXT NOT NULL,
          tid INTEGER NOT NULL,
          path TEXT,
          rows INTEGER,
          size INTEGER,
          status TEXT NOT NULL,
          error TEXT,
          created_at REAL NOT NULL,
          finished_at REAL
        )""",
        "CREATE INDEX IF NOT EXISTS artifacts_owner ON artifacts (owner)",
    ),
    snapshot=("artifacts",),
    row_checks={"artifacts": lambda where, row: _check_row(where, row)},
    reset_all=clear("artifacts"),
    reset_tenant=clear_tenant("artifacts"),
)


@dataclass
class Artifact:
    key: str
    kind: str
    owner: str
    tid: int
    path: str | None
    rows: int | None
    size: int | None
    status: str  # running | success | failed
    error: str | None
    created_at: float
    finished_at: float | None


KEY_PARTS = 4  # kind/tid/token/filename
# meta rows that sign links: never taken from a state document (the running store keeps its own)
SECRET_META = ("oss_secret", "oss_access_key_id")


def safe_key(key: Any) -> bool:
    """A key names a file inside the export directory: kind/tid/token/filename, nothing that
    climbs out (no absolute path, no `..`, no backslash or NUL)."""
    if not isinstance(key, str) or not 0 < len(key) <= 512:
        return False
    parts = key.split("/")
    return len(parts) == KEY_PARTS and all(
        p and p not in (".", "..") and "\\" not in p and "\0" not in p for p in parts
    )


def _check_row(where: str, row: dict[str, Any]) -> None:
    """A state document's artifact row: its key must stay in the export directory, and its
    `path` is never taken (files are found by key alone)."""
    if not safe_key(row.get("key")):
        raise ValueError(f"{where}.key: not a result-file key (kind/tid/token/filename)")
    row["path"] = None


class LinkError(Exception):
    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


class LinkExpired(LinkError):
    def __init__(self, message: str):
        super().__init__(message, expired=True)


class NoSuchKey(LinkError):
    """A genuine link to a file that is not (or no longer) there."""


class Artifacts:
    def __init__(
        self,
        store: Store,
        rng: RandomSource,
        directory: str | None,
        retention: float | None = None,
        link_ttl: int = 3600,
    ):
        self.retention = retention
        self.link_ttl = link_ttl  # seconds a download link stays valid on the emulated clock
        self.store = store
        self.rng = rng
        self._tmp = None if directory else tempfile.mkdtemp(prefix="dms-emulator-exports-")
        self.directory = Path(directory or self._tmp or ".")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.reload_keys()

    def reload_keys(self) -> None:
        """The link-signing key lives in the store, so links survive restarts and snapshots."""
        if self.store.get_meta("oss_secret") is None:
            self.store.set_meta("oss_secret", self.rng.token(20))
            self.store.set_meta(
                "oss_access_key_id", "LTAI5tEmulatorOss" + self.rng.token(4).upper()
            )
        self.secret = self.store.get_meta("oss_secret") or ""
        self.access_key_id = self.store.get_meta("oss_access_key_id") or ""

    # --- files -----------------------------------------------------------------------------

    def expire(self, before: float) -> int:
        """Delete result files created before `before` (retention); their links then 404."""
        rows = self.store.query("SELECT key FROM artifacts WHERE created_at < ?", (before,))
        keys = [r["key"] for r in rows]
        if keys:
            self.purge_files(keys)
            self.store.execute("DELETE FROM artifacts WHERE created_at < ?", (before,))
        return len(keys)

    def reserve(self, kind: str, owner: str, tid: int, filename: str, now: float) -> Artifact:
        if self.retention is not None:
            self.expire(now - self.retention)
        key = f"{kind}/{tid}/{self.rng.token(8)}/{filename}"
        path = self.directory / key
        path.parent.mkdir(parents=True, exist_ok=True)
        self.store.execute(
            "INSERT INTO artifacts (key, kind, owner, tid, path, status, created_at) VALUES (?,?,?,?,?,?,?)",
            (key, kind, owner, tid, None, "running", now),  # the path follows from the key
        )
        return self.get(key)  # type: ignore[return-value]

    def finish(self, key: str, rows: int, size: int, now: float) -> None:
        self.store.execute(
            "UPDATE artifacts SET status='success', rows=?, size=?, finished_at=? WHERE key=?",
            (rows, size, now, key),
        )

    def fail(self, key: str, error: str, now: float) -> None:
        self.store.execute(
            "UPDATE artifacts SET status='failed', error=?, finished_at=? WHERE key=?",
            (error, now, key),
        )

    def _artifact(self, row: Any) -> Artifact | None:
        """A row as an Artifact whose path is derived from its key, never read from the row."""
        if row is None:
            return None
        art = Artifact(**dict(row))
        art.path = str(self.directory / art.key) if safe_key(art.key) else None
        return art

    def get(self, key: str) -> Artifact | None:
        return self._artifact(self.store.query_one("SELECT * FROM artifacts WHERE key=?", (key,)))

    def for_owner(self, owner: str) -> Artifact | None:
        return self._artifact(
            self.store.query_one(
                "SELECT * FROM artifacts WHERE owner=? ORDER BY created_at DESC LIMIT 1", (owner,)
            )
        )

    def forget_interrupted(self) -> int:
        """At start-up: rows of jobs that were running when the process died (a resumed job
        writes a new file); `sweep` then removes what they left on disk."""
        return self.store.execute_count("DELETE FROM artifacts WHERE status='running'")

    def sweep(self) -> int:
        """Delete every file in the export directory that no row accounts for: `.partial` and
        temporary files of interrupted jobs, files behind rows a reset or a state import
        dropped. A running job's folder is left alone. Returns how many files went."""
        rows = self.store.query("SELECT key, status FROM artifacts")
        keep = {r["key"] for r in rows}
        busy = {str(Path(r["key"]).parent) for r in rows if r["status"] == "running"}
        removed = 0
        for path in sorted(self.directory.rglob("*"), reverse=True):
            rel = path.relative_to(self.directory).as_posix()
            if path.is_dir():
                if not any(path.iterdir()) and rel not in busy:
                    path.rmdir()
                continue
            if rel in keep or str(Path(rel).parent) in busy:
                continue
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def keys(self, tid: int | None = None) -> list[str]:
        """Every result file's key (of one tenant): what a reset must delete from disk."""
        if tid is None:
            rows = self.store.query("SELECT key FROM artifacts")
        else:
            rows = self.store.query("SELECT key FROM artifacts WHERE tid=?", (tid,))
        return [r["key"] for r in rows]

    def purge_files(self, keys: list[str]) -> None:
        for key in keys:
            if not safe_key(key):
                continue  # never a path outside the export directory
            path = self.directory / key
            if path.is_file():
                path.unlink()
            for parent in list(path.parents)[:3]:  # the key's own folders, never above the store
                try:
                    if parent != self.directory:
                        parent.rmdir()
                except OSError:
                    break

    def cleanup(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    # --- signed links ----------------------------------------------------------------------

    def download_link(self, base_url: str, key: str, now: float) -> str:
        """The link every product hands out: valid for `link_ttl` from `now` (the one expiry rule)."""
        return self.link(base_url, key, int(now) + self.link_ttl)

    def link(self, base_url: str, key: str, expires: int) -> str:
        sts = signing.oss_string_to_sign("GET", expires, BUCKET, key)
        query = urlencode(
            {
                "OSSAccessKeyId": self.access_key_id,
                "Expires": str(expires),
                "Signature": signing.oss_signature(self.secret, sts),
            }
        )
        return f"{base_url.rstrip('/')}{LINK_PREFIX}/{BUCKET}/{quote(key)}?{query}"

    def resolve(
        self, bucket: str, key: str, access_key_id: str, expires: str, signature: str, now: float
    ) -> Artifact:
        """The artifact a link names, if the link is genuine and not expired; else LinkError."""
        if not (access_key_id and expires and signature):
            raise LinkError("Request is missing OSSAccessKeyId, Expires or Signature.")
        try:
            exp = int(expires)
        except ValueError:
            raise LinkError("Expires is not a number.") from None
        sts = signing.oss_string_to_sign("GET", exp, bucket, key)
        genuine = (
            bucket == BUCKET
            and signing.constant_time_equal(access_key_id, self.access_key_id)
            and signing.constant_time_equal(signing.oss_signature(self.secret, sts), signature)
        )
        if not genuine:
            raise LinkError(
                "The request signature we calculated does not match the signature you provided."
            )
        if now > exp:
            raise LinkExpired("Request has expired.")
        art = self.get(key)
        if art is None or art.status != "success" or not art.path or not os.path.isfile(art.path):
            raise NoSuchKey("The specified key does not exist.")
        return art
