"""What DMS handlers may use: repositories and the few settings they answer with.

Handlers are module-level functions `(call, ctx)`; `ctx` is this, not the whole emulator, so a
handler cannot reach the store, the gateway or another product.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.platform.accounts import Accounts
from emulator.platform.artifacts import Artifacts
from emulator.services.dms.domain.datatrack import DataTracking
from emulator.services.dms.domain.tickets import Tickets
from emulator.services.dms.domain.workflow import Workflow


@dataclass(frozen=True)
class DmsContext:
    accounts: Accounts
    tickets: Tickets
    workflow: Workflow
    datatrack: DataTracking
    artifacts: Artifacts
