"""One emulator: accounts, clock, random source, state store, jobs, faults, journal, services.

Everything worker processes must share lives in SQLite files or in shared memory (`Shared`),
so one Emulator built before `--workers` forks serves every worker.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from typing import TYPE_CHECKING, Any

from emulator.config import Settings
from emulator.core.clock import Clock
from emulator.core.jobs import Jobs
from emulator.core.randomness import RandomSource
from emulator.core.shared import Shared
from emulator.databases.catalog import DataPlane
from emulator.faults.engine import FaultEngine
from emulator.faults.header import HeaderFaults
from emulator.gateway.journal import Bounds, Journal, MemoryJournal
from emulator.gateway.nonces import MemoryNonces, Nonces, SharedNonces
from emulator.platform import artifacts as artifacts_tables
from emulator.platform.accounts import Accounts, load_accounts
from emulator.platform.artifacts import SECRET_META, Artifacts
from emulator.services.dms import service as dms_service
from emulator.services.sas import service as sas_service
from emulator.state.runtime_db import RuntimeDB
from emulator.state.store import Generation, StateFileError, Store

if TYPE_CHECKING:
    from emulator.services.dms.domain.datatrack import DataTracking
    from emulator.services.dms.domain.meta import Meta
    from emulator.services.dms.domain.tickets import Tickets
    from emulator.services.dms.domain.users import Users
    from emulator.services.dms.domain.workflow import Workflow
    from emulator.services.dms.service import DmsService
    from emulator.services.sas.exports import SasExports

# every table of the emulator's state, by owner (the store creates, migrates, resets, snapshots)
STATE_TABLES = (artifacts_tables.TABLES, *dms_service.TABLES, sas_service.JOBS)


class Emulator:
    def __init__(self, settings: Settings, accounts: Accounts | None = None):
        self.settings = settings
        self.accounts = accounts or load_accounts(settings.accounts)
        self.rng = RandomSource(settings.seed)
        self.shared = Shared(settings.workers)
        # several workers need files to share; without --state they get temporary ones
        self._tmp = tempfile.mkdtemp(prefix="dms-emulator-") if settings.workers > 1 else None
        state = settings.state or (os.path.join(self._tmp, "state.sqlite") if self._tmp else None)
        # reads are cached until the next write of any worker (the signed-request path, issue 18)
        self.store = Store(
            state, STATE_TABLES, Generation(self.shared.store_writes, self.shared.store_writes_lock)
        )
        self.runtime_db = RuntimeDB(
            os.path.join(self._tmp, "runtime.sqlite") if self._tmp else None
        )
        if self._tmp:  # several workers write these files
            self.store.writer_lock = self.shared.store_writer
            self.runtime_db.writer_lock = self.shared.runtime_writer
        self.clock = Clock(settings.clock, cells=self.shared.clock, lock=self.shared.lock)
        saved_clock = self.store.get_meta("clock")
        if saved_clock:
            try:
                self.clock.restore({**json.loads(saved_clock), "mode": settings.clock})
            except (ValueError, TypeError) as exc:
                raise StateFileError(
                    f"state file {state}: its saved clock (meta.clock) is damaged: {exc}"
                ) from None
        export_dir = (state + ".exports") if state else None
        self.artifacts = Artifacts(
            self.store, self.rng, export_dir, settings.retention, settings.link_ttl
        )
        # what a crash left behind: rows of jobs that were running, their partial files
        self.artifacts.forget_interrupted()
        self.artifacts.sweep()
        self.jobs = Jobs(self.shared, deadline=settings.export_deadline)
        # the customer databases: fixture copies live next to the state file (or in a temp dir)
        self.databases = DataPlane(
            self.accounts,
            state or (os.path.join(self._tmp, "db") if self._tmp else None),
            self.clock.now,
        )
        # one process keeps nonces and the journal in memory; workers share nonces in shared
        # memory (no write per request) and the journal in a shared-memory ring
        self.nonces: Nonces = (
            SharedNonces(capacity=settings.nonce_capacity)
            if self._tmp
            else MemoryNonces(capacity=settings.nonce_capacity)
        )
        bounds = Bounds(total_bytes=settings.journal_bytes)
        self.journal: Journal | MemoryJournal = (
            Journal(settings.journal_size, bounds)
            if self._tmp
            else MemoryJournal(settings.journal_size, bounds)
        )
        self.faults = FaultEngine(
            self.rng, self.runtime_db, self.shared.fault_rules, self.shared.lock
        )
        self.header_faults = HeaderFaults(
            settings.header_fault_max_ms, per_tenant=max(1, settings.threads // 4)
        )
        # the services (tickets, workflow, metadata, Sas exports, the DMS actions) are built on
        # first use: a start that no request has asked for imports none of their modules
        # (issue 18); a state file may hold work to resume, and workers share one build
        self._services_lock = threading.Lock()
        if state or self._tmp:
            self.build_services(resume=True)
        if any(db.dsn for db in self.accounts.databases.values()):
            self.databases.probe()  # dsn databases: checked in the background, reported by /health

    # the services, present once `build_services` ran (on first use, see __getattr__)
    tickets: Tickets
    datatrack: DataTracking
    workflow: Workflow
    users: Users
    meta: Meta
    sas: SasExports
    dms: DmsService

    SERVICES = frozenset(("tickets", "datatrack", "workflow", "users", "meta", "sas", "dms"))

    def __getattr__(self, name: str) -> Any:
        """Only for a service not built yet (attributes that exist never come here)."""
        if name in Emulator.SERVICES:
            self.build_services()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def build_services(self, resume: bool = False) -> None:
        """Import and build every service once (thread-safe). `resume`: at start, rerun the work
        a restart left (a start without a state file has none, so a later build never resumes)."""
        with self._services_lock:
            if "dms" not in self.__dict__:
                self._build_services(resume)

    def _build_services(self, resume: bool) -> None:
        from emulator.services.dms.api.console import ConsoleContext
        from emulator.services.dms.api.meta import MetaContext
        from emulator.services.dms.api.users import UsersContext
        from emulator.services.dms.context import DmsContext
        from emulator.services.dms.domain.console import Limits as ConsoleLimits
        from emulator.services.dms.domain.datatrack import DataTracking
        from emulator.services.dms.domain.instances import Instances
        from emulator.services.dms.domain.meta import Meta
        from emulator.services.dms.domain.permissions import TicketGrants
        from emulator.services.dms.domain.tickets import Durations, Tickets
        from emulator.services.dms.domain.users import Users
        from emulator.services.dms.domain.workflow import Workflow
        from emulator.services.dms.service import DmsService
        from emulator.services.sas.exports import SasExports

        settings = self.settings
        durations = settings.durations or Durations()
        tickets = Tickets(self.store, self.clock, self.accounts, durations)
        datatrack = DataTracking(
            self.store, self.clock, self.rng, self.artifacts, self.jobs, self.databases
        )
        workflow = Workflow(
            self.store,
            self.clock,
            self.accounts,
            tickets,
            self.artifacts,
            self.jobs,
            datatrack,
            self.databases,
        )
        users = Users(self.store, self.accounts)  # DMS users' run-time changes (issue 13)
        # DMS instances, databases, live catalogs (issue 13)
        meta = Meta(
            self.accounts, self.databases, Instances(self.store, self.accounts, self.databases)
        )
        sas = SasExports(self.store, self.clock, self.artifacts, self.jobs)
        dms = DmsService(
            DmsContext(self.accounts, tickets, workflow, datatrack, self.artifacts),
            UsersContext(users, self.accounts),
            MetaContext(meta, self.accounts, TicketGrants(tickets, self.clock)),
            console_ctx=ConsoleContext(  # the SQL console (issue 14)
                meta,
                TicketGrants(tickets, self.clock),
                ConsoleLimits(settings.console_max_rows, settings.console_timeout),
            ),
        )
        self.tickets, self.datatrack, self.workflow = tickets, datatrack, workflow
        self.users, self.meta, self.sas = users, meta, sas
        if resume:
            workflow.resume()
        self.dms = dms  # last: its presence says every service is built

    def save_clock(self) -> None:
        self.store.set_meta("clock", json.dumps(self.clock.snapshot()))

    def reset(self, tid: int | None = None) -> None:
        # running jobs of the tenant stop first (F2), then its databases go back to the fixture
        self.jobs.cancel(tid, "the tenant was reset")
        self.jobs.wait_idle(2)
        self.databases.reset(tid)
        keys = self.artifacts.keys(tid)
        self.store.reset(tid)
        if "dms" in self.__dict__:  # services not built yet keep nothing to reset
            self.dms.reset(tid)
        self.artifacts.purge_files(keys)
        self.artifacts.sweep()
        self.faults.clear(tid)
        self.journal.clear(tid)
        if tid is None:
            self.nonces.clear()
            self.clock.reset()
            self.save_clock()

    def load_state(self, tables: Any, clock_doc: dict[str, Any] | None) -> None:
        """Replace the state with a state document's tables (and clock), all or nothing: the
        clock is checked before any table changes; secrets and file paths are never taken from
        the document; files behind rows it drops are removed. DocumentError/ValueError name
        the field."""
        if clock_doc is not None:
            Clock.check_snapshot({**clock_doc, "mode": self.clock.mode})
        # the services first: registered instances join the data plane as at a start on a file
        self.build_services()
        self.store.load(tables, tenants=set(self.accounts.tenants), keep_meta=SECRET_META)
        self.artifacts.reload_keys()
        self.artifacts.sweep()
        if clock_doc is not None:
            self.clock.restore({**clock_doc, "mode": self.clock.mode})
        self.save_clock()  # meta.clock always matches the running clock

    def close(self) -> None:
        self.jobs.shutdown()
        self.databases.close()
        self.store.close()
        self.artifacts.cleanup()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
