"""DMS Enterprise (2018-11-01) as a service: its actions, each over one `DmsContext`."""

from __future__ import annotations

from emulator.gateway.registry import DMS, Registry
from emulator.services.dms.api import datatrack, export, tenants, tickets
from emulator.services.dms.context import DmsContext

# every wire module lists its actions; adding an action = a handler + a line in its ACTIONS
MODULES = (tickets, export, tenants, datatrack)


class DmsService:
    product = DMS

    def __init__(self, ctx: DmsContext):
        self.ctx = ctx

    def register(self, registry: Registry) -> None:
        for module in MODULES:
            for name, action in module.ACTIONS.items():
                registry.add(DMS, name, action.handler, self.ctx, action.stages)
