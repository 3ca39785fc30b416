"""What a Sas handler may use: its exports, the clock, download links. Not the whole emulator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.core.clock import Clock
from emulator.gateway.call import Call
from emulator.platform.artifacts import Artifacts
from emulator.services.sas.exports import SasExports

LifecycleFault = Callable[[Call, tuple[str, ...]], dict[str, Any] | None]


@dataclass(frozen=True)
class SasContext:
    exports: SasExports
    clock: Clock
    artifacts: Artifacts
    link_ttl: int
    lifecycle_fault: LifecycleFault  # the `sas_export` fault a starting call matched

    def link(self, call: Call, key: str) -> str:
        expires = int(self.clock.now()) + self.link_ttl
        return self.artifacts.link(call.base_url, key, expires)
