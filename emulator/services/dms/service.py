"""DMS Enterprise (2018-11-01) as a service: its actions, each over one `DmsContext`."""

from __future__ import annotations

from emulator.gateway.registry import DMS, Registry
from emulator.services.dms.api import datatrack, export, meta, tenants, tickets, users
from emulator.services.dms.context import DmsContext

# every wire module lists its actions; adding an action = a handler + a line in its ACTIONS
MODULES = (tickets, export, tenants, datatrack)


class DmsService:
    product = DMS

    def __init__(self, ctx: DmsContext, users_ctx: users.UsersContext, meta_ctx: meta.MetaContext):
        self.ctx = ctx
        self.users_ctx = users_ctx
        self.meta_ctx = meta_ctx

    def register(self, registry: Registry) -> None:
        for module in MODULES:
            for name, action in module.ACTIONS.items():
                registry.add(DMS, name, action.handler, self.ctx, action.stages)
        users.register(registry, self.users_ctx)
        meta.register(registry, self.meta_ctx)
