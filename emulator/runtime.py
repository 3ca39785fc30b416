"""One emulator: accounts, clock, random source, state store, jobs, faults, journal, services."""

from __future__ import annotations

from emulator.accounts import Accounts, load_accounts
from emulator.artifacts import Artifacts
from emulator.clock import Clock
from emulator.faults import FaultEngine
from emulator.gateway.nonces import NonceCache
from emulator.jobs import Jobs
from emulator.journal import Journal
from emulator.randomness import RandomSource
from emulator.services.dms.datatrack import DataTracking
from emulator.services.dms.tickets import Tickets
from emulator.services.dms.workflow import Workflow
from emulator.services.sas.exports import SasExports
from emulator.settings import Settings
from emulator.store import Store


class Emulator:
    def __init__(self, settings: Settings, accounts: Accounts | None = None):
        self.settings = settings
        self.accounts = accounts or load_accounts(settings.accounts)
        self.rng = RandomSource(settings.seed)
        self.store = Store(settings.state)
        self.clock = Clock(settings.clock)
        saved_clock = self.store.get_meta("clock")
        if saved_clock:
            import json

            self.clock.restore({**json.loads(saved_clock), "mode": settings.clock})
        export_dir = (settings.state + ".exports") if settings.state else None
        self.artifacts = Artifacts(self.store, self.rng, export_dir)
        self.jobs = Jobs()
        self.nonces = NonceCache(capacity=settings.nonce_capacity)
        self.journal = Journal(settings.journal_size)
        self.faults = FaultEngine(self.rng)
        self.tickets = Tickets(self.store, self.clock, self.accounts, settings.durations)
        self.datatrack = DataTracking(self.store, self.clock, self.rng, self.artifacts, self.jobs)
        self.workflow = Workflow(
            self.store,
            self.clock,
            self.accounts,
            self.tickets,
            self.artifacts,
            self.jobs,
            self.datatrack,
        )
        self.sas = SasExports(self.store, self.clock, self.artifacts, self.jobs)
        self.workflow.resume()

    def save_clock(self) -> None:
        import json

        self.store.set_meta("clock", json.dumps(self.clock.snapshot()))

    def reset(self, tid: int | None = None) -> None:
        keys = [
            r["key"]
            for r in self.store.query(
                "SELECT key FROM artifacts" + ("" if tid is None else " WHERE tid=?"),
                () if tid is None else (tid,),
            )
        ]
        self.store.reset(tid)
        self.artifacts.purge_files(keys)
        self.faults.clear(tid)
        self.journal.clear(tid)
        if tid is None:
            self.nonces.clear()
            self.clock.reset()
            self.save_clock()

    def close(self) -> None:
        self.jobs.shutdown()
        self.store.close()
        self.artifacts.cleanup()
