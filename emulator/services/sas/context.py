"""What a Sas handler may use: its exports and the download links. Not the whole emulator;
time (`call.now`) and the lifecycle fault (`call.lifecycle`) come on the call."""

from __future__ import annotations

from dataclasses import dataclass

from emulator.gateway.call import Call
from emulator.platform.artifacts import Artifacts
from emulator.services.sas.exports import SasExports


@dataclass(frozen=True)
class SasContext:
    exports: SasExports
    artifacts: Artifacts

    def link(self, call: Call, key: str) -> str:
        return self.artifacts.download_link(call.base_url, key, call.now)
