"""The `--workers` journal: a ring in shared memory (issue 18: the SQLite journal cost a worker
about 200 us of CPU per request). Checked against a plain list of what was recorded."""

from __future__ import annotations

import copy
import json
import os
import random
from typing import Any

import pytest

from emulator.gateway.journal import Bounds, Filter, Journal


def _entry(i: int, rng: random.Random, tid: int | None = 3000) -> dict[str, Any]:
    return {
        "ts": 1_700_000_000.0 + i,
        "request_id": f"req-{i}",
        "action": rng.choice(["ListOrders", "GetOrderBaseDetail", "CreateOrder"]),
        "code": None,
        "tid": tid,
        "fault": None if i % 7 else {"rule": "r1", "effect": {"type": "latency", "ms": 1.5}},
        "params": {"SearchContent": "x" * rng.randrange(0, 3000), "N": str(i)},
        "response_body": b'{"Success": true, "N": "%d"}' % i,
    }


def _plain(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != "seq"} for e in entries]


@pytest.mark.parametrize(("capacity", "budget"), [(1000, 64 * 1024), (40, 1024 * 1024)])
def test_the_ring_keeps_the_newest_entries_within_its_count_and_bytes(
    capacity: int, budget: int
) -> None:
    """Bytes bound the first ring, the count the second."""
    journal = Journal(capacity, Bounds(total_bytes=budget))
    rng = random.Random(7)
    recorded: list[dict[str, Any]] = []
    for i in range(1500):
        e = _entry(i, rng)
        journal.record(e)  # bounds the entry in place, as the gateway's record does
        recorded.append(copy.deepcopy(e))
        if i % 37 and i < 1490:
            continue
        kept = journal.query()
        plain = _plain(kept)
        assert plain == recorded[len(recorded) - len(plain) :], "the newest, in order"
        assert len(kept) <= capacity
        seqs = [e["seq"] for e in kept]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        size = sum(len(json.dumps(e)) for e in plain)
        assert journal.bytes <= budget and size <= 2 * budget
        # nothing goes early: every entry of a suffix that fits in the budget less the room of
        # two of the largest entries (the end of the ring and what one oldest entry leaves)
        # is kept, up to the count
        largest = max(len(json.dumps(e)) for e in recorded) * 2
        fits, used = 0, 0
        for e in reversed(recorded):
            used += len(json.dumps(e))
            if used > budget // 2 - largest or fits == capacity:
                break
            fits += 1
        assert len(kept) >= min(fits, capacity), (len(kept), fits)
    assert (
        journal.query(Filter(action="CreateOrder"), limit=3)
        == [e for e in journal.query() if e["action"] == "CreateOrder"][-3:]
    )


def test_clearing_one_tenant_keeps_the_others() -> None:
    journal = Journal(1000, Bounds(total_bytes=1024 * 1024))
    rng = random.Random(3)
    for i in range(300):
        journal.record(_entry(i, rng, tid=3000 if i % 3 else 4000))
    before = journal.bytes
    journal.clear(4000)
    kept = journal.query()
    assert len(kept) == 200 and {e["tid"] for e in kept} == {3000}
    assert 0 < journal.bytes < before
    journal.record(_entry(300, rng, tid=4000))
    assert [e["request_id"] for e in journal.query(Filter(tid=4000))] == ["req-300"]
    journal.clear()
    assert journal.query() == [] and journal.bytes == 0


def test_a_budget_smaller_than_one_entry_keeps_its_outline() -> None:
    journal = Journal(10, Bounds(total_bytes=2048))
    e = _entry(1, random.Random(1))
    e["params"] = {"A": "y" * 1000, "B": "z" * 1000, "C": "w" * 1000}
    journal.record(e)
    (kept,) = journal.query()
    assert kept["request_id"] == "req-1" and "params" not in kept
    assert journal.bytes <= 2048


def test_worker_processes_append_to_one_ring() -> None:
    journal = Journal(10_000, Bounds(total_bytes=8 * 1024 * 1024))
    children = []
    for worker in range(2):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                rng = random.Random(worker)
                for i in range(400):
                    journal.record(_entry(worker * 1000 + i, rng, tid=3000 + worker))
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    for pid in children:
        assert os.waitpid(pid, 0)[1] == 0
    kept = journal.query()
    assert len(kept) == 800
    for worker in range(2):
        mine = [e["request_id"] for e in kept if e["tid"] == 3000 + worker]
        assert mine == [f"req-{worker * 1000 + i}" for i in range(400)], "each worker's order"
    assert len({e["seq"] for e in kept}) == 800


def test_a_lock_a_killed_worker_left_held_is_taken_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """The journal ring, the shared nonces and the store's writer queue share `Queued`: a
    worker killed inside its step must not stop every other worker for good."""
    import multiprocessing
    import time

    from emulator.core import shared

    monkeypatch.setattr(shared, "STUCK_SECONDS", 0.3)
    lock = multiprocessing.get_context("fork").Lock()
    pid = os.fork()
    if pid == 0:
        lock.acquire()
        os._exit(0)  # dies holding it
    os.waitpid(pid, 0)
    t0 = time.monotonic()
    with shared.Queued(lock):
        pass
    assert 0.25 < time.monotonic() - t0 < 3, "waited for the dead holder, then went on"
    t0 = time.monotonic()
    with shared.Queued(lock):
        pass
    assert time.monotonic() - t0 < 0.2, "the lock is free again for everyone after"
