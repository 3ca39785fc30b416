"""Fixture scripts built into SQLite files, cached by content (the data plane checks every
fixture when the emulator starts: a bad one stops start-up with one line naming the file).

Apart from the embedded backend (sqlite.py) so that a start on cached fixtures loads neither
it nor the backend protocol: those come with the first request on a database (issue 18).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import os
import sqlite3
import tempfile
from pathlib import Path


class FixtureError(Exception):
    """A fixture script cannot be built; the message names the file and the problem."""


@functools.cache  # the sources cannot change within one process
def _loader_digest() -> str:
    """Part of the cache key: a new loader rebuilds fixtures built by an old one.

    Hashes the loader's and translator's source files without importing them: importing sqlglot
    costs ~75 ms, which a start-up on cached fixtures should not pay.
    """
    digest = hashlib.sha256()
    for name in ("emulator.databases.loader", "emulator.databases.dialect"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            return "none"
        digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()[:12]


def build_fixture(script: Path, dialect: str, cache_dir: Path) -> Path:
    """Run a fixture script into a SQLite file, cached by content, dialect and loader version."""
    try:
        raw = script.read_bytes()  # hashed as bytes: a start on a cached fixture decodes nothing
    except OSError as exc:
        raise FixtureError(f"fixture {script}: cannot read it: {exc}") from None
    key = f"{dialect}\0{_loader_digest() if dialect != 'sqlite' else ''}\0".encode() + raw
    target = cache_dir / f"{hashlib.sha256(key).hexdigest()[:24]}.sqlite"
    if target.exists():
        return target
    try:
        sql = script.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(f"fixture {script}: cannot read it: {exc}") from None
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".building")
    os.close(fd)
    try:
        conn = sqlite3.connect(tmp)
        try:
            if dialect == "sqlite":
                conn.executescript(sql)
            else:
                loader = importlib.import_module("emulator.databases.loader")
                loader.load_script(conn, sql, dialect, str(script))
            conn.commit()
        finally:
            conn.close()
        os.replace(tmp, target)
    except sqlite3.Error as exc:
        raise FixtureError(f"fixture {script}: SQL error: {exc}") from None
    except FixtureError:
        raise
    except Exception as exc:  # the loader's own error names the line and construct
        raise FixtureError(f"fixture {script}: {exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
