"""Stateful properties of data-change tickets and the SQL console, over the official SDK against a
real emulator, checked against an independent oracle: the tenant databases' files read with
sqlite3 and the same SQL run on an independent copy (contract_tests/oracle.py).

Whatever the interleaving of create / precheck retry / submit / approve / reject / close /
execute / advance-clock / ExecuteScript:
- a ticket changes data only if it reached the executing state, and only once it succeeded
  (a failing one is rolled back whole);
- a rejected or closed ticket, or one whose precheck failed, changes nothing;
- ActualAffectRows equals the number of rows that differ between before and after;
- the databases always equal the pristine data plus, applied on the independent copy, the SQL
  of every ticket (and console statement) that succeeded;
- a refused move changes nothing; statuses only follow the documented lifecycle;
- ExecuteScript's SELECT results equal sqlite3's on the same file.

Every ticket owns a slot: rows no other ticket touches, so effects commute and each ticket's
rows can be checked on their own. The suite starts its own emulator (it reads its files), so it
runs on the emulator only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from contract_tests.oracle import Files, Rows, differing, rows_of, run_script, same
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import ALICE, CAROL, DAVE, ERIN, FRANK, dms

SHOP, HR = 17001, 27001  # tenant 3000 (auto approval, MySQL dialect), 4000 (manual, PostgreSQL)
TABLES = {SHOP: {"customers", "orders", "products"}, HR: {"departments", "employees", "salaries"}}
# a USER sees only databases granted to them (FRANK: none), so tickets come from the DBA
COMMITTER = {SHOP: ALICE, HR: ERIN}
APPROVER = {SHOP: ALICE, HR: DAVE}
OUTSIDER = {SHOP: CAROL, HR: FRANK}  # a USER without grants: every write refused
SLOTS = 7  # slot 7 of each database belongs to the console's statements

# The documented lifecycle of DataCorrectOrderDetail.Status (issue 14; specs/README.md), written
# out here rather than read from the emulator; compared lower-cased (the SDK text capitalises
# Approved and Success, the doc example does not).
NEXT = {
    "new": {"precheck", "precheck_success", "precheckfailed", "closed"},
    "precheck": {"precheck_success", "precheckfailed", "closed"},
    "precheckfailed": {"precheck", "precheck_success", "closed"},
    "precheck_success": {"toaudit", "precheck", "closed"},
    "toaudit": {"approved", "reject", "closed"},
    "approved": {"waiting", "processing", "closed"},
    "waiting": {"processing", "closed"},
    "processing": {"success", "fail"},
    "success": set(),
    "fail": set(),
    "reject": set(),
    "closed": set(),
}
EXECUTING = {"waiting", "processing", "success", "fail"}
FINAL = {"success", "fail", "reject", "closed"}
NOTHING = {"reject", "closed", "precheckfailed", "fail"}  # states that leave the data untouched


def reachable(a: str, b: str) -> bool:
    seen, frontier = {a}, [a]
    while frontier:
        for nxt in NEXT.get(frontier.pop(), set()):
            if nxt == b:
                return True
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return a == b


def sql_for(db: int, kind: str, s: int, k: int) -> list[str]:
    """The statements of a ticket of `kind` on slot `s` (SQL every dialect here reads alike);
    every row it can touch has a key congruent to `s` modulo 8, or lies in a table no other
    slot's SQL names the same way."""
    if db == SHOP:
        return {
            "update": [f"update products set price = price + {k} where id % 8 = {s}"],
            "insert": [
                f"insert into products (id, sku, title, price, stock) values "
                f"({1000 + s}, 'sm{s}-{k}a', 'sm', 1.5, {k}), "
                f"({1008 + s}, 'sm{s}-{k}b', 'sm', 2.5, {k})"
            ],
            "delete": [f"delete from orders where id % 8 = {s} and id > 2950"],
            "multi": [
                f"update products set stock = coalesce(stock, 0) + {k} where id % 8 = {s}",
                f"update customers set note = 'sm{s}-{k}' where id % 8 = {s} and id < 40",
            ],
            # passes every precheck; the second statement fails on execution (duplicate key)
            "fails": [
                f"update products set price = price + {k} where id % 8 = {s}",
                f"insert into products (id, sku, title, price, stock) values (8, 'dup{s}', 'x', 1, 1)",
            ],
            "bad_table": [f"update no_such_table set a = {k} where id % 8 = {s}"],
            "select": [f"select * from products where id % 8 = {s}"],
        }[kind]
    return {
        "update": [f"update employees set title = 'sm{s}-{k}' where id % 8 = {s} and id < 200"],
        "insert": [
            f"insert into departments (id, name, manager_id) values ({96 + s}, 'sm{s}-{k}', null)"
        ],
        "delete": [f"delete from salaries where id % 8 = {s} and id > 4900"],
        "multi": [
            f"update departments set name = 'sm{s}-{k}' where id % 8 = {s}",
            f"update salaries set gross = gross + {k} where id % 8 = {s} and id < 100",
        ],
        "fails": [
            f"update employees set title = 'x{k}' where id % 8 = {s} and id < 200",
            "insert into departments (id, name, manager_id) values (8, 'dup', null)",
        ],
        "bad_table": [f"update no_such_table set a = {k} where id % 8 = {s}"],
        "select": [f"select * from employees where id % 8 = {s} and id < 100"],
    }[kind]


CONSOLE_SELECTS = {
    SHOP: [
        "select id, sku, title, price, stock from products where id % 8 = {s} order by id",
        "select count(*) as n, sum(price) as total from products",
        "select id, name, note from customers where id % 8 = {s} and id < 60 order by id",
    ],
    HR: [
        "select id, name, manager_id from departments order by id",
        "select id, title from employees where id % 8 = {s} and id < 200 order by id",
    ],
}


@dataclass
class Ticket:
    order_id: int
    db: int
    statements: list[str]
    reach: set = field(default_factory=set)  # rows any one of its statements could change
    after: dict = field(default_factory=dict)  # those rows once its whole script ran (a copy)
    expected_rows: int | None = None  # the copy's change count; None: the script fails there
    seen: list[str] = field(default_factory=list)  # statuses observed, in order
    applied: bool = False  # its SQL is in the model
    backup: bool = False


def at(rows: Rows, keys: set) -> dict:
    """The rows at these (table, key) places (None: no such row)."""
    return {(table, key): rows.get(table, {}).get(key) for table, key in keys}


class Console(RuleBasedStateMachine):
    """The databases against their model, through the SQL console alone."""

    emulator: Any = None  # (EmulatorProcess, Files), set by the test

    def __init__(self) -> None:
        super().__init__()
        proc, files = type(self).emulator
        self.proc: EmulatorProcess = proc
        self.files: Files = files
        self.control = Control(proc.url)
        self.control.reset()  # every example starts from the fixtures
        self.clients = {key: dms(proc.endpoint, key) for key in (ALICE, CAROL, DAVE, ERIN, FRANK)}
        self.pristine = {db: self.files.rows(db) for db in TABLES}
        # the model: pristine data plus the SQL of what succeeded, on independent copies
        self.model = {db: self.files.scratch(db, pristine=True) for db in TABLES}

    def teardown(self) -> None:
        for conn in self.model.values():
            conn.close()

    def refresh(self) -> None:
        """Bring the model up to what the emulator reports done (tickets: see DataChange)."""

    def in_flux(self, db: int) -> set:
        """Rows that may or may not have changed yet (a ticket's SQL is running)."""
        return set()

    @rule(db=st.sampled_from([SHOP, HR]), pick=st.integers(0, 10), s=st.integers(0, SLOTS))
    def console_select(self, db: int, pick: int, s: int) -> None:
        """ExecuteScript's SELECT answers equal sqlite3's on the same database file."""
        sql = CONSOLE_SELECTS[db][pick % len(CONSOLE_SELECTS[db])].format(s=s)
        body = (
            self.clients[COMMITTER[db]]
            .execute_script(dm.ExecuteScriptRequest(db_id=db, script=sql, logic=False))
            .body
        )
        assert body.success, body.to_map()
        assert len(body.results) == 1, body.to_map()
        got = body.results[0]
        assert got.success, got.to_map()
        names, rows = self.files.query(db, sql)
        assert [n.lower() for n in got.column_names] == [n.lower() for n in names]
        assert got.row_count == len(rows)
        for mine, theirs in zip(got.rows, rows, strict=True):
            values = [mine.get(n, mine.get(n.upper())) for n in got.column_names]
            assert all(same(a, b) for a, b in zip(values, theirs, strict=True)), (mine, theirs)

    @rule(db=st.sampled_from([SHOP, HR]), k=st.integers(1, 9), outsider=st.booleans())
    def console_write(self, db: int, k: int, outsider: bool) -> None:
        """A DML statement in the console: what it reports applied equals the data, and what is
        refused changes nothing (slot 7 is the console's)."""
        table, column = ("products", "stock") if db == SHOP else ("departments", "manager_id")
        sql = f"update {table} set {column} = coalesce({column}, 0) + {k} where id % 8 = 7"
        key = (OUTSIDER if outsider else COMMITTER)[db]
        body = (
            self.clients[key]
            .execute_script(dm.ExecuteScriptRequest(db_id=db, script=sql, logic=False))
            .body
        )
        ok = bool(body.success and body.results and body.results[0].success)
        assert ok is not outsider, body.to_map()
        if ok:
            assert run_script(self.model[db], [sql]) is not None

    @invariant()
    def data_is_the_model(self) -> None:
        """Each database equals pristine + the SQL of whatever succeeded (independent copy)."""
        self.refresh()
        for db in TABLES:
            got = self.files.rows(db)
            want = rows_of(self.model[db])
            diff = differing(got, want) - self.in_flux(db)
            assert not diff, f"database {db}: rows differ from the model: {sorted(diff)[:5]}"


class DataChange(Console):
    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.all: dict[int, Ticket] = {}
        self.free = {db: list(range(SLOTS)) for db in TABLES}

    # --- observing -----------------------------------------------------------------------

    def client(self, t: Ticket, approver: bool = False) -> Any:
        return self.clients[(APPROVER if approver else COMMITTER)[t.db]]

    def observe(self, t: Ticket) -> dict[str, Any]:
        c = self.client(t)
        detail = c.get_data_correct_order_detail(
            dm.GetDataCorrectOrderDetailRequest(order_id=t.order_id)
        ).body
        assert detail.success, detail.to_map()
        base = c.get_order_base_info(dm.GetOrderBaseInfoRequest(order_id=t.order_id)).body
        assert base.success, base.to_map()
        d = detail.data_correct_order_detail
        status = (d.status or "").lower()
        code = (base.order_base_info.status_code or "").lower()
        assert status in NEXT, f"undocumented Status {d.status!r}"
        if not t.seen or t.seen[-1] != status:
            prev = t.seen[-1] if t.seen else "new"
            assert reachable(prev, status), f"ticket {t.order_id}: {prev} -> {status}"
            t.seen.append(status)
        return {
            "status": status,
            "code": code,
            "workflow": base.order_base_info.workflow_instance_id,
            "actual": d.order_detail.actual_affect_rows if d.order_detail else None,
            "steps": [
                (s.check_step, s.check_status)
                for s in (d.pre_check_detail.task_check_do if d.pre_check_detail else None) or []
            ],
        }

    def refresh(self) -> None:
        """Observe every ticket; put the SQL of the ones that just succeeded into the model."""
        for t in self.all.values():
            now = self.observe(t)["status"]
            if now == "success" and not t.applied:
                changed = run_script(self.model[t.db], t.statements)
                assert changed is not None, (
                    f"ticket {t.order_id} succeeded, yet its SQL fails on an independent copy"
                )
                t.applied = True
                self.rollback_restores(t)

    # --- rules ---------------------------------------------------------------------------

    @precondition(lambda self: any(self.free.values()))
    @rule(
        target=tickets,
        db=st.sampled_from([SHOP, HR]),
        kind=st.sampled_from(
            ["update", "insert", "delete", "multi", "fails", "bad_table", "select"]
        ),
        k=st.integers(1, 9),
        via=st.sampled_from(["CreateDataCorrectOrder", "DC_COMMON", "DC_CHUNK"]),
        estimate=st.sampled_from(["exact", "more", "less"]),
    )
    def create(self, db: int, kind: str, k: int, via: str, estimate: str) -> Ticket:
        return self.new_ticket(db, kind, k, via, estimate)

    def new_ticket(self, db: int, kind: str, k: int, via: str, estimate: str) -> Ticket:
        if not self.free[db]:
            db = SHOP if db == HR else HR
        s = self.free[db].pop(0)
        statements = sql_for(db, kind, s, k)
        probe = self.files.scratch(db, pristine=True)
        run_script(probe, statements, atomic=False)
        reach = differing(self.pristine[db], rows_of(probe))
        probe.close()
        probe = self.files.scratch(db, pristine=True)
        expected = run_script(probe, statements)
        reach |= differing(self.pristine[db], rows_of(probe))
        after = at(rows_of(probe), reach)
        probe.close()
        rows = expected or 0
        guess = {"exact": rows, "more": rows + 10, "less": max(rows - 1, 0)}[estimate]
        sql = ";\n".join(statements) + ";"
        c = self.clients[COMMITTER[db]]
        if via == "CreateDataCorrectOrder":
            body = c.create_data_correct_order(
                dm.CreateDataCorrectOrderRequest(
                    comment=f"sm {kind}",
                    param=dm.CreateDataCorrectOrderRequestParam(
                        db_item_list=[
                            dm.CreateDataCorrectOrderRequestParamDbItemList(db_id=db, logic=False)
                        ],
                        sql_type="TEXT",
                        exec_sql=sql,
                        estimate_affect_rows=guess,
                        classify="stateful",
                    ),
                )
            ).body
            assert body.success, body.to_map()
            order_id = body.create_order_result[0]
        else:  # CreateOrder with the seed document's PluginParam (DC_CHUNK has no estimate)
            param: dict[str, Any] = {
                "dbItemList": [{"dbId": db, "logic": False}],
                "execSQL": sql,
                "classify": "stateful",
            }
            if via == "DC_COMMON":
                param["estimateAffectRows"] = guess
            body = c.create_order(
                dm.CreateOrderRequest(plugin_type=via, comment=f"sm {kind}", plugin_param=param)
            ).body
            assert body.success, body.to_map()
            order_id = body.create_order_result.order_ids[0]
        t = Ticket(order_id, db, statements, reach, after, expected)
        self.all[order_id] = t
        self.observe(t)
        return t

    @initialize(
        target=tickets,
        db=st.sampled_from([SHOP, HR]),
        kind=st.sampled_from(["update", "insert", "delete", "multi", "fails"]),
        via=st.sampled_from(["CreateDataCorrectOrder", "DC_COMMON", "DC_CHUNK"]),
        verdict=st.sampled_from(["AGREE", "AGREE", "AGREE", "REJECT", "close"]),
    )
    def first(self, db: int, kind: str, via: str, verdict: str) -> Ticket:
        """Every run starts with one ticket walked to its end, so runs go deep at once."""
        t = self.new_ticket(db, kind, 3, via, "exact")
        self.drive(t, verdict)
        return t

    @rule(seconds=st.sampled_from([1, 3, 10, 60]))
    def advance(self, seconds: float) -> None:
        self.control.advance(seconds)

    def move(self, t: Ticket, name: str, call: Any) -> None:
        """A refused move changes nothing: the ticket's status and the data stay as they were."""
        before = self.observe(t)
        data = self.files.rows(t.db)
        body = call().body
        if not body.success:
            assert body.error_code, body.to_map()
            after = self.observe(t)
            assert after["status"] == before["status"], (name, before, after, body.to_map())
            assert self.files.rows(t.db) == data, f"refused {name} changed data"

    @rule(t=tickets)
    def submit(self, t: Ticket) -> None:
        c = self.client(t)
        self.move(
            t,
            "submit",
            lambda: c.submit_order_approval(dm.SubmitOrderApprovalRequest(order_id=t.order_id)),
        )

    @rule(t=tickets, verdict=st.sampled_from(["AGREE", "REJECT"]))
    def approve(self, t: Ticket, verdict: str) -> None:
        wf = self.observe(t)["workflow"]
        c = self.client(t, approver=True)
        self.move(
            t,
            verdict,
            lambda: c.approve_order(
                dm.ApproveOrderRequest(workflow_instance_id=wf, approval_type=verdict)
            ),
        )

    @rule(t=tickets)
    def close(self, t: Ticket) -> None:
        c = self.client(t)
        self.move(
            t,
            "close",
            lambda: c.close_order(dm.CloseOrderRequest(order_id=t.order_id, close_reason="sm")),
        )

    @rule(t=tickets)
    def retry_precheck(self, t: Ticket) -> None:
        c = self.client(t)
        self.move(
            t,
            "retry",
            lambda: c.retry_data_correct_pre_check(
                dm.RetryDataCorrectPreCheckRequest(order_id=t.order_id)
            ),
        )

    @rule(t=tickets, backup=st.booleans())
    def execute(self, t: Ticket, backup: bool) -> None:
        c = self.client(t)
        detail = {"transaction": True, "backupData": backup}

        def call() -> Any:
            return c.execute_data_correct(
                dm.ExecuteDataCorrectRequest(order_id=t.order_id, action_detail=detail)
            )

        before = self.observe(t)["status"]
        self.move(t, "execute", call)
        if before == "approved" and self.observe(t)["status"] != "approved":
            t.backup = backup

    def rollback_restores(self, t: Ticket) -> None:
        """The backup of a ticket that ran, applied to a copy of the data as it is now, puts
        the ticket's rows back exactly as they were before it."""
        if t.seen[-1:] != ["success"]:
            return
        body = (
            self.client(t)
            .get_data_correct_backup_files(dm.GetDataCorrectBackupFilesRequest(order_id=t.order_id))
            .body
        )
        assert body.success, body.to_map()
        urls = body.data_correct_backup_files.file_url or []
        assert urls or not t.backup, f"ticket {t.order_id} ran with backupData: no backup"
        if not urls:
            return
        text = ""
        for url in urls:
            r = requests.get(url, timeout=30)
            assert r.status_code == 200, r.text
            text += r.text
        copy = self.files.scratch(t.db)
        try:
            copy.executescript(text)
            restored = at(rows_of(copy), t.reach)
        finally:
            copy.close()
        assert restored == at(self.pristine[t.db], t.reach), f"ticket {t.order_id}: not restored"

    @rule(t=tickets, verdict=st.sampled_from(["AGREE", "REJECT", "close"]))
    def drive(self, t: Ticket, verdict: str) -> None:
        """Walk a ticket along the documented path (deciding `verdict` at the approval), so
        deep states are reached within a small budget."""
        for _ in range(12):
            status = self.observe(t)["status"]
            if status in FINAL or status == "precheckfailed":
                return
            if status == "precheck_success":
                self.submit(t)
            elif status == "toaudit":
                if verdict == "close":
                    self.close(t)
                else:
                    self.approve(t, verdict)
            elif status == "approved":
                self.execute(t, backup=True)
            self.advance(3)
            self.refresh()

    # --- invariants ----------------------------------------------------------------------

    def in_flux(self, db: int) -> set:
        out: set = set()
        for t in self.all.values():
            if t.db == db and t.seen and t.seen[-1] == "processing":
                out |= t.reach
        return out

    @invariant()
    def changes_only_after_execution(self) -> None:
        """A ticket's rows are pristine until it runs, all changed or none while it runs,
        and changed exactly as on the independent copy once it succeeded."""
        for db in TABLES:
            now = self.files.rows(db)
            for t in self.all.values():
                if t.db != db:
                    continue
                status = t.seen[-1] if t.seen else "new"
                mine, before = at(now, t.reach), at(self.pristine[db], t.reach)
                if status == "success":
                    assert mine == t.after, f"ticket {t.order_id} succeeded: rows not as expected"
                elif status == "processing":
                    assert mine in (before, t.after), f"ticket {t.order_id}: half applied"
                else:
                    assert mine == before, (
                        f"ticket {t.order_id} is {status} (seen {t.seen}), yet its rows changed"
                    )
                if mine != before:
                    assert EXECUTING & set(t.seen), (
                        f"ticket {t.order_id} changed data without reaching execution: {t.seen}"
                    )

    @invariant()
    def affected_rows_are_the_rows_that_differ(self) -> None:
        for t in self.all.values():
            if not t.seen or t.seen[-1] != "success":
                continue
            now = self.files.rows(t.db)
            differ = len(differing(self.pristine[t.db], now) & t.reach)
            seen = self.observe(t)
            assert seen["actual"] == differ == t.expected_rows, (
                t.order_id,
                seen["actual"],
                differ,
                t.expected_rows,
            )
            task = (
                self.client(t)
                .get_data_correct_task_detail(
                    dm.GetDataCorrectTaskDetailRequest(order_id=t.order_id)
                )
                .body
            )
            assert task.success, task.to_map()
            detail = task.data_correct_task_detail
            assert detail.job_status == "SUCCESS", detail.to_map()
            assert detail.actual_affect_rows == differ


@pytest.fixture(scope="module")
def own_emulator() -> Iterator[tuple[EmulatorProcess, Files]]:
    root = Path(tempfile.mkdtemp(prefix="dms-contract-dc-"))
    proc = EmulatorProcess(
        "--clock",
        "manual",
        "--seed",
        "5",
        "--state",
        str(root / "state.db"),
        env={"XDG_CACHE_HOME": str(root / "cache")},
    ).start()
    try:
        yield proc, Files(root, TABLES)
    finally:
        proc.stop()


def test_console_state_machine(target: Any, own_emulator: Any) -> None:
    Console.emulator = own_emulator
    target.covered.add("stateful:console")
    run_state_machine_as_test(
        Console, settings=settings(max_examples=3, stateful_step_count=12, deadline=None)
    )


def test_data_change_state_machine(target: Any, own_emulator: Any) -> None:
    DataChange.emulator = own_emulator
    target.covered.add("stateful:datachange")
    base = settings()
    run_state_machine_as_test(
        DataChange,
        settings=settings(
            max_examples=max(6, base.max_examples // 2),
            stateful_step_count=15,
            deadline=None,
            # a run takes seconds: shrinking a failure would take many minutes (the steps of
            # the failing run are printed whole)
            phases=[p for p in base.phases if p != Phase.shrink] or [Phase.generate],
        ),
    )
    target.report["stateful runs"] += 1
