"""The emulator behind the current request: module-level blueprints find it on the app
(`create_app` puts it in `app.extensions`), so one blueprint serves every app in a process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from emulator.wiring import Emulator

EXTENSION = "dms_emulator"


def emulator() -> Emulator:
    emu: Emulator = current_app.extensions[EXTENSION]
    return emu
