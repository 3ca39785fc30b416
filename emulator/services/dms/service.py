"""DMS Enterprise (2018-11-01) as a service: its actions, each over one `DmsContext`."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from emulator.services.dms.api import specs
from emulator.services.dms.domain import datatrack as datatrack_domain
from emulator.services.dms.domain import instances as instances_domain
from emulator.services.dms.domain import tickets as tickets_domain
from emulator.services.dms.domain import users as users_domain
from emulator.state.schema import Tables

if TYPE_CHECKING:
    from emulator.gateway.registry import Registry
    from emulator.services.dms.api.console import ConsoleContext
    from emulator.services.dms.api.meta import MetaContext
    from emulator.services.dms.api.users import UsersContext
    from emulator.services.dms.context import DmsContext


# the state tables DMS owns, each declared by the one module that writes it
# (the v5 conversion of ticket documents translates wire names, so the wire layer supplies it)
TICKET_TABLES = replace(
    tickets_domain.TABLES, migrations=(*tickets_domain.TABLES.migrations, specs.MIGRATION)
)
TABLES: tuple[Tables, ...] = (
    TICKET_TABLES,
    datatrack_domain.TABLES,
    users_domain.TABLES,
    instances_domain.TABLES,  # registered instances (issue 13)
)


class DmsService:
    def __init__(
        self,
        ctx: DmsContext,
        users_ctx: UsersContext,
        meta_ctx: MetaContext,
        console_ctx: ConsoleContext | None = None,
    ):
        self.ctx = ctx
        self.users_ctx = users_ctx
        self.meta_ctx = meta_ctx
        self.console_ctx = console_ctx  # the SQL console (ExecuteScript)

    def register(self, registry: Registry) -> None:
        """Every action of DMS (the wire modules load here, at the first API request)."""
        from emulator.gateway.registry import DMS
        from emulator.services.dms.api import console as console_api
        from emulator.services.dms.api import (
            datachange,
            datatrack,
            export,
            meta,
            tenants,
            tickets,
            users,
        )

        # every wire module lists its actions; adding an action = a handler + a line in its ACTIONS
        for module in (tickets, export, tenants, datatrack, datachange):
            for name, action in module.ACTIONS.items():
                registry.add(DMS, name, action.handler, self.ctx, action.stages)
        users.register(registry, self.users_ctx)
        meta.register(registry, self.meta_ctx)
        if self.console_ctx is not None:
            console_api.register(registry, self.console_ctx)

    @staticmethod
    def tables() -> tuple[Tables, ...]:
        return TABLES

    def reset(self, tid: int | None) -> None:
        """DMS keeps nothing outside its tables (the store resets those)."""
