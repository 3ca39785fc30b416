"""pytest plugin (installed with the package): an emulator for your tests, in-process, on a free port.

    def test_export(dms_emulator):
        client = Client(dms_emulator.config())            # official SDK, default ADMIN of tenant 3000
        ...
        dms_emulator.client.advance(60)                    # control client: clock, faults, journal...
        dms_emulator.assert_called("CreateOrder", times=1, Comment="c")   # journal verification

    @pytest.mark.dms_emulator(scenario="throttled-polling")
    def test_retries(dms_emulator): ...

The emulator is started once per session (manual clock by default) and reset before every test
that uses `dms_emulator`. A marker asking for another clock or accounts file gets an emulator of
its own for that test. Options: --dms-emulator-clock, --dms-emulator-accounts, --dms-emulator-seed
(or the ini keys dms_emulator_clock, dms_emulator_accounts, dms_emulator_seed), and
--dms-emulator-control-token (ini dms_emulator_control_token) to run it with a control token.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from emulator.admin.client import EmulatorClient


@dataclass
class EmulatorHandle:
    url: str
    endpoint: str
    client: EmulatorClient
    accounts: Any
    credentials: tuple[str, str] = ("", "")
    _stop: Any = field(default=None, repr=False)

    def user(self, name: str) -> tuple[str, str]:
        """(access key id, secret) of a user of the accounts file, by name."""
        for tenant in self.accounts.tenants.values():
            for u in tenant.users:
                if u.name == name:
                    return u.access_key_id, u.access_key_secret
        raise KeyError(f"no user {name!r} in the accounts file")

    # --- journal verification (the control client's, with readable assertion messages) -------
    def count(self, action: str | None = None, **filters: Any) -> int:
        return self.client.count(action, **filters)

    def verify(self, expect: list[dict[str, Any]], **scope: Any) -> dict[str, Any]:
        return self.client.verify(expect, **scope)

    def assert_called(self, action: str, times: int | None = None, **params: Any) -> None:
        """`assert_called("GetDataExportOrderDetail", times=2, OrderId=order_id)`."""
        __tracebackhide__ = True
        self.client.assert_called(action, times, **params)

    def assert_sequence(self, expect: list[dict[str, Any]], **scope: Any) -> None:
        __tracebackhide__ = True
        self.client.assert_sequence(expect, **scope)

    def config(self, user: str | None = None, **kw: Any) -> Any:
        """A ready `alibabacloud_tea_openapi.models.Config` for the official SDKs."""
        from alibabacloud_tea_openapi.models import Config

        key_id, secret = self.user(user) if user else self.credentials
        return Config(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=self.endpoint,
            protocol="http",
            **kw,
        )


def start_emulator(
    clock: str = "manual",
    accounts: str | None = None,
    seed: int | None = None,
    control_token: str | None = None,
) -> EmulatorHandle:
    from emulator.app import create_app
    from emulator.config import Settings
    from emulator.serving.listener import Server

    app = create_app(
        Settings(
            clock=clock,
            accounts=accounts,
            seed=seed,
            log_level="WARNING",
            control_token=control_token or None,
        )
    )
    emu = app.extensions["dms_emulator"]
    server = Server(app, "127.0.0.1", 0).start()
    first = next(iter(emu.accounts.tenants.values()))
    admin = next((u for u in first.users if u.role == "ADMIN"), first.users[0])

    def stop() -> None:
        server.stop()
        emu.close()

    return EmulatorHandle(
        server.url,
        f"127.0.0.1:{server.port}",
        EmulatorClient(server.url, token=control_token or ""),
        emu.accounts,
        (admin.access_key_id, admin.access_key_secret),
        stop,
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dms-emulator")
    group.addoption("--dms-emulator-clock", choices=("manual", "real"), default=None)
    group.addoption("--dms-emulator-accounts", default=None)
    group.addoption("--dms-emulator-seed", type=int, default=None)
    group.addoption("--dms-emulator-control-token", default=None)
    parser.addini("dms_emulator_clock", "manual (default) or real", default="manual")
    parser.addini("dms_emulator_accounts", "accounts file for the session emulator", default="")
    parser.addini("dms_emulator_seed", "seed for ids and fault dice", default="")
    parser.addini("dms_emulator_control_token", "--control-token of the emulator", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "dms_emulator(clock=None, accounts=None, scenario=None): options for the dms_emulator fixture",
    )


def _options(config: pytest.Config) -> dict[str, Any]:
    seed = config.getoption("--dms-emulator-seed")
    ini_seed = config.getini("dms_emulator_seed")
    return {
        "clock": config.getoption("--dms-emulator-clock")
        or config.getini("dms_emulator_clock")
        or "manual",
        "accounts": config.getoption("--dms-emulator-accounts")
        or config.getini("dms_emulator_accounts")
        or None,
        "seed": seed if seed is not None else (int(ini_seed) if ini_seed else None),
        "control_token": config.getoption("--dms-emulator-control-token")
        or config.getini("dms_emulator_control_token")
        or None,
    }


@pytest.fixture(scope="session")
def dms_emulator_session(pytestconfig: pytest.Config) -> Iterator[EmulatorHandle]:
    handle = start_emulator(**_options(pytestconfig))
    yield handle
    handle._stop()


@pytest.fixture()
def dms_emulator(
    request: pytest.FixtureRequest, pytestconfig: pytest.Config
) -> Iterator[EmulatorHandle]:
    marker = request.node.get_closest_marker("dms_emulator")
    opts = dict(marker.kwargs) if marker else {}
    scenario = opts.pop("scenario", None)
    defaults = _options(pytestconfig)
    own = any(opts.get(k) not in (None, defaults[k]) for k in ("clock", "accounts"))
    if own:
        handle = start_emulator(**{**defaults, **{k: v for k, v in opts.items() if v is not None}})
    else:
        handle = request.getfixturevalue("dms_emulator_session")
        handle.client.reset()
    if scenario:
        handle.client.load_scenario(scenario) if not str(scenario).endswith(
            (".yaml", ".yml", ".json")
        ) else handle.client.load_scenario(path=str(scenario))
    yield handle
    if own:
        handle._stop()
    else:
        handle.client.clear_faults()
