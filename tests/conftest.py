"""Shared fixtures: one emulator process on a manual clock for the session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.testing.dbservers import mariadb_server, postgres_server  # noqa: F401
from emulator.testing.process import Control, EmulatorProcess


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess("--clock", "manual", "--seed", "7") as proc:
        yield proc


@pytest.fixture()
def control(emulator: EmulatorProcess) -> Control:
    ctl = Control(emulator.url)
    ctl.reset()
    return ctl


@pytest.fixture()
def endpoint(emulator: EmulatorProcess, control: Control) -> str:
    return emulator.endpoint
