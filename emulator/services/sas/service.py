"""Security Center (Sas 2018-12-03) as a service: its export actions over one `SasContext`."""

from __future__ import annotations

from emulator.gateway.registry import SAS, Registry
from emulator.services.sas import exports
from emulator.services.sas.api import exports as export_api
from emulator.services.sas.context import SasContext
from emulator.state.schema import Tables


class SasService:
    product = SAS

    def __init__(self, ctx: SasContext):
        self.ctx = ctx

    def register(self, registry: Registry) -> None:
        for name, action in export_api.ACTIONS.items():
            registry.add(SAS, name, action.handler, self.ctx, action.stages)

    def tables(self) -> tuple[Tables, ...]:
        """Sas's state: the export tasks (exports.py owns the table and all SQL on it)."""
        return (exports.TABLES,)

    def reset(self, tid: int | None) -> None:
        """Nothing beyond the store's own reset: Sas keeps no other state."""
