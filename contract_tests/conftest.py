"""Target selection for the contract suite.

By default the suite starts an emulator on a free port. With `--target-url URL` (or
`DMS_CONTRACT_TARGET`) plus `ALIBABA_CLOUD_ACCESS_KEY_ID`/`ALIBABA_CLOUD_ACCESS_KEY_SECRET` and
`DMS_CONTRACT_TID`, the same suite runs against any endpoint, the real one included. Tests that
create tickets need `--allow-mutations`; tests that move the clock need an emulator's control
plane. `--target-profile` (emulator|aliyun) says where the real service legitimately differs.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
from hypothesis import HealthCheck, settings

# one private MariaDB per session for every suite that registers instances (started on first use)
from emulator.testing.dbservers import mariadb_server  # noqa: F401

settings.register_profile(
    "default", max_examples=12, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "thorough", max_examples=300, deadline=None, suppress_health_check=list(HealthCheck)
)


def pytest_configure(config: pytest.Config) -> None:
    """`--hypothesis-profile=thorough` for nightly runs; the short default otherwise."""
    profile = config.getoption("hypothesis_profile", None) or os.environ.get(
        "HYPOTHESIS_PROFILE", "default"
    )
    settings.load_profile(profile)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dms-contract")
    group.addoption(
        "--target-url",
        default=os.environ.get("DMS_CONTRACT_TARGET"),
        help="run against this endpoint instead of a fresh emulator",
    )
    group.addoption(
        "--allow-mutations",
        action="store_true",
        default=False,
        help="allow tests that create tickets and exports on the target",
    )
    group.addoption(
        "--signature", choices=("v3", "v1"), default=os.environ.get("DMS_CONTRACT_SIGNATURE", "v3")
    )
    group.addoption("--target-profile", choices=("emulator", "aliyun"), default=None)


@dataclass
class Target:
    url: str
    key: tuple[str, str]
    tid: int | None
    scheme: str
    mutations: bool
    profile: str
    control: bool  # an emulator control plane is reachable (clock, reset)
    report: Counter = field(default_factory=Counter)
    covered: set = field(default_factory=set)
    attempted: set = field(default_factory=set)  # operations whose positive mode ran
    succeeded: set = field(default_factory=set)  # ... and got at least one successful answer
    failures: list = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return self.url.split("://", 1)[1].rstrip("/")


_TARGET: Target | None = None


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    global _TARGET
    cfg = request.config
    url = cfg.getoption("--target-url")
    proc = None
    if url:
        key_id = os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID")
        secret = os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        if not (key_id and secret):
            raise pytest.UsageError("--target-url needs ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET")
        tid = os.environ.get("DMS_CONTRACT_TID")
        try:
            control = (
                requests.get(url.rstrip("/") + "/_emulator/health", timeout=5).status_code == 200
            )
        except requests.RequestException:
            control = False
        mutations = bool(cfg.getoption("--allow-mutations"))
        profile = cfg.getoption("--target-profile") or ("emulator" if control else "aliyun")
        t = Target(
            url.rstrip("/"),
            (key_id, secret),
            int(tid) if tid else None,
            cfg.getoption("--signature"),
            mutations,
            profile,
            control,
        )
    else:
        from emulator.testing.process import EmulatorProcess
        from emulator.testing.sdk import ALICE

        proc = EmulatorProcess("--clock", "manual", "--seed", "11").start()
        t = Target(proc.url, ALICE, 3000, cfg.getoption("--signature"), True, "emulator", True)
    _TARGET = t
    yield t
    if proc:
        proc.stop()


@pytest.fixture(scope="session")
def seeds(target: Target) -> dict:
    """Real ids of the caller's tenant for positive mode (contract_tests/seeds.py)."""
    from contract_tests.seeds import make

    return make(target)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The coverage check reads what every other test exercised: it runs last."""
    last = [i for i in items if i.name == "test_every_operation_is_exercised"]
    items[:] = [i for i in items if i not in last] + last


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    t = _TARGET
    if t is None:
        return
    tr = terminalreporter
    tr.section("dms contract report")
    tr.write_line(
        f"target: {t.url} (profile {t.profile}, signature {t.scheme}, "
        f"mutations {'on' if t.mutations else 'off'}, control plane {'yes' if t.control else 'no'})"
    )
    tr.write_line(f"operations covered: {len(t.covered)}: {', '.join(sorted(t.covered))}")
    tr.write_line("checks run: " + ", ".join(f"{k} {v}" for k, v in sorted(t.report.items())))
    tr.write_line(f"failures: {len(t.failures)}")
    for f in t.failures[:20]:
        tr.write_line(f"  - {f}")
