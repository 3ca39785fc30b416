"""Security Center (Sas 2018-12-03) as a service: its export actions over one `SasContext`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.gateway.registry import SAS
from emulator.state.schema import Tables, clear, clear_tenant

if TYPE_CHECKING:
    from emulator.gateway.registry import Registry
    from emulator.services.sas.context import SasContext

# Sas export tasks: exports.py alone writes `jobs` (every row is a Sas export, kind
# `sas_export`; data-tracking downloads moved out in v4). Older rows carry no `family`: they
# are ExportRecord tasks. Declared here, apart from exports.py's code, so that a start creates
# the table without importing the Sas domain (issue 18).
JOBS = Tables(
    owner="emulator.services.sas.exports",
    schema=(
        """CREATE TABLE IF NOT EXISTS jobs (
          id INTEGER PRIMARY KEY,
          kind TEXT NOT NULL,
          tid INTEGER NOT NULL,
          owner TEXT NOT NULL,
          created_at REAL NOT NULL,
          doc TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS jobs_kind ON jobs (kind, tid, id)",
    ),
    snapshot=("jobs",),
    json_columns=(("jobs", "doc"),),
    reset_all=clear("jobs"),
    reset_tenant=clear_tenant("jobs"),
)


class SasService:
    product = SAS

    def __init__(self, ctx: SasContext):
        self.ctx = ctx

    def register(self, registry: Registry) -> None:
        from emulator.services.sas.api import exports as export_api

        for name, action in export_api.ACTIONS.items():
            registry.add(SAS, name, action.handler, self.ctx, action.stages)

    def tables(self) -> tuple[Tables, ...]:
        """Sas's state: the export tasks (exports.py owns the table and all SQL on it)."""
        return (JOBS,)

    def reset(self, tid: int | None) -> None:
        """Nothing beyond the store's own reset: Sas keeps no other state."""
