"""The state store's read cache (issue 18): a committed write is seen by the very next read of
any thread or worker process, so a disabled user's key is refused on the next request."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path

from alibabacloud_dms_enterprise20181101 import models as M

from emulator.state.store import Generation, SqliteDB
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import ALICE, CAROL, dms, v3_request


def _db(path: Path, generation: Generation) -> SqliteDB:
    db = SqliteDB(str(path), generation=generation)
    db.execute("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)")
    return db


def test_a_write_of_another_connection_is_seen_by_the_next_read(tmp_path: Path) -> None:
    """Two connections on one file sharing one generation stand for two worker processes."""
    gen = Generation()
    a, b = _db(tmp_path / "s.sqlite", gen), _db(tmp_path / "s.sqlite", gen)
    a.execute("INSERT INTO t VALUES (1, 'old')")
    assert b.query_one("SELECT v FROM t WHERE k=?", (1,))[0] == "old"  # type: ignore[index]
    assert b.query_one("SELECT v FROM t WHERE k=?", (1,))[0] == "old"  # type: ignore[index]
    a.execute("UPDATE t SET v='new' WHERE k=1")
    assert b.query_one("SELECT v FROM t WHERE k=?", (1,))[0] == "new"  # type: ignore[index]
    with a.transaction() as conn:
        conn.execute("UPDATE t SET v='txn' WHERE k=1")
        # inside the transaction: its own uncommitted write, never a cached answer
        assert a.query_one("SELECT v FROM t WHERE k=?", (1,))[0] == "txn"  # type: ignore[index]
    assert [r[0] for r in b.query("SELECT v FROM t")] == ["txn"]


def test_a_cached_list_is_the_callers_own(tmp_path: Path) -> None:
    db = _db(tmp_path / "s.sqlite", Generation())
    db.execute("INSERT INTO t VALUES (1, 'x')")
    rows = db.query("SELECT * FROM t")
    rows.clear()
    assert len(db.query("SELECT * FROM t")) == 1


def test_without_a_generation_nothing_is_cached(tmp_path: Path) -> None:
    """A database some other program may write (no shared generation) is always read afresh."""
    a = SqliteDB(str(tmp_path / "s.sqlite"))
    a.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    a.execute("INSERT INTO t VALUES (1, 'old')")
    b = SqliteDB(str(tmp_path / "s.sqlite"))
    assert b.query_one("SELECT v FROM t")[0] == "old"  # type: ignore[index]
    a.execute("UPDATE t SET v='new'")
    assert b.query_one("SELECT v FROM t")[0] == "new"  # type: ignore[index]


def _on_fresh_connection(endpoint: str, key: tuple[str, str]) -> tuple[int, str | None]:
    """One signed ListUsers on its own connection (so either worker may accept it)."""
    prepared = v3_request(endpoint, "ListUsers", key=key)
    host, port = endpoint.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("POST", "/", body=prepared.body, headers=prepared.headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read()).get("Code")
    finally:
        conn.close()


def test_a_disabled_user_is_refused_on_the_next_request_of_every_worker() -> None:
    with EmulatorProcess("--workers", "2", "--clock", "manual") as proc:
        control = Control(proc.url)
        # carol's standing is read (and cached) by both workers first
        for _ in range(200):
            assert _on_fresh_connection(proc.endpoint, CAROL) == (200, None)
            pids = {e["pid"] for e in control.journal(action="ListUsers")}
            if len(pids) > 1:
                break
        assert len(pids) == 2, "both workers answered carol before she was disabled"
        alice = dms(proc.endpoint, ALICE)
        assert alice.disable_user(M.DisableUserRequest(uid="100003")).body.success
        seen = set()
        for _ in range(40):
            assert _on_fresh_connection(proc.endpoint, CAROL) == (
                400,
                "InvalidAccessKeyId.Inactive",
            )
            entries = control.journal(action="ListUsers", code="InvalidAccessKeyId.Inactive")
            seen = {e["pid"] for e in entries}
            if len(seen) == 2:
                break
        assert seen == pids, "every worker refused carol's key right after DisableUser"
        assert alice.enable_user(M.EnableUserRequest(uid="100003")).body.success
        assert _on_fresh_connection(proc.endpoint, CAROL) == (200, None)
        assert os.getpid() not in pids


def test_shared_nonces_refuse_a_replay_to_another_process() -> None:
    """--workers keeps nonces in shared memory: a nonce one process took is used in the other."""
    import time

    from emulator.gateway.nonces import SharedNonces

    nonces = SharedNonces(capacity=1000)
    now = time.time()
    assert nonces.check_and_record("ak", "first", now)
    pid = os.fork()
    if pid == 0:  # the other worker
        ok = not nonces.check_and_record("ak", "first", now) and nonces.check_and_record(
            "ak", "second", now
        )
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert status == 0, "the child refused the replay and took a new nonce"
    assert not nonces.check_and_record("ak", "second", now), "the child's nonce is refused here"
    assert nonces.check_and_record("other-ak", "second", now), "nonces are per access key"
    assert nonces.check_and_record("ak", "first", now + 901), "after the window it is fresh"
    nonces.clear()
    assert nonces.check_and_record("ak", "second", time.time()), "a reset forgets every nonce"


def test_request_ids_are_the_uuid4_strings_of_the_seeded_draws() -> None:
    """The fast formatting of RequestIds gives what uuid.UUID gives for the same 128 bits."""
    import random
    import uuid

    from emulator.core.randomness import RandomSource

    ours, oracle = RandomSource(11), random.Random(11)
    for _ in range(2000):
        expected = str(uuid.UUID(int=oracle.getrandbits(128), version=4)).upper()
        assert ours.request_id() == expected


def test_a_ticket_read_from_the_cache_is_the_callers_own() -> None:
    """Tickets decode their document once per committed write (issue 18); a reader that
    changes what it got changes nothing for the next one, and a write is seen at once."""
    from emulator.config import Settings
    from emulator.services.dms.domain.model import RequestSpec
    from emulator.wiring import Emulator

    emu = Emulator(Settings(clock="manual"))
    try:
        alice = emu.accounts.by_access_key[ALICE[0]]
        spec = RequestSpec((17001,), {"title": "t", "db_id": 17001})
        with emu.store.transaction():
            made = emu.workflow.create(alice, "NDDL", spec, "c", [], None, None, emu.clock.now())
        first = emu.tickets.get(alice.tid, made.id)
        events = len(first.events)
        assert events > 0
        first.doc["spec"] = {"mangled": True}
        first.events.clear()
        again = emu.tickets.get(alice.tid, made.id)
        assert again.doc["spec"] != {"mangled": True} and len(again.events) == events
        assert again.spec == spec
        emu.workflow.close(alice, made.id, "done", emu.clock.now())
        closed = emu.tickets.get(alice.tid, made.id)
        assert closed.events[-1]["event"] == "cancel", "the write is seen by the next read"
        assert closed.state is not None and closed.state.status == "closed"
    finally:
        emu.close()
