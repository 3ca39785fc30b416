"""Security Center (Sas) on the wire: builds the Sas service over its context and registers it.

Sas has no `Success` field: every failure is an HTTP error in the common envelope, with the
codes of the Sas error table (api/errors.py). The handlers are in api/exports.py."""

from __future__ import annotations

from typing import Any

from emulator.gateway.registry import Registry
from emulator.services.sas.context import SasContext
from emulator.services.sas.service import SasService


def register(registry: Registry, emu: Any) -> None:
    """`emu`: the composition root (its `sas` exports and `artifacts`)."""
    SasService(SasContext(emu.sas, emu.artifacts)).register(registry)
