"""Security Center (Sas) on the wire: registers the Sas actions over a typed Sas context.

Sas has no `Success` field: every failure is an HTTP error in the common envelope, with the
codes of the Sas error table (api/errors.py)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from emulator.gateway.registry import SAS, Registry
from emulator.services.sas.api.context import SasContext
from emulator.services.sas.api.exports import HANDLERS

if TYPE_CHECKING:
    from emulator.gateway.pipeline import Gateway
    from emulator.wiring import Emulator


def register(registry: Registry, emu: Emulator, gateway: Gateway) -> None:
    ctx = SasContext(
        exports=emu.sas,
        clock=emu.clock,
        artifacts=emu.artifacts,
        link_ttl=emu.settings.link_ttl,
        lifecycle_fault=gateway.lifecycle_fault,
    )
    for action, handler in HANDLERS.items():
        registry.add(SAS, action, partial(handler, ctx=ctx))
