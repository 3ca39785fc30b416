"""`from emulator.client import EmulatorClient` keeps working: the client lives in `emulator.admin`."""

from emulator.admin.client import ControlError, EmulatorClient

__all__ = ["ControlError", "EmulatorClient"]
