"""The outer interface of CONTRACT.md, through real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulator.testing.process import EmulatorProcess
from emulator.testing.sdk import ALICE

ROOT = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_port_zero_health_and_clean_exit(sig: int) -> None:
    proc = EmulatorProcess().start()
    try:
        assert proc.url.startswith("http://127.0.0.1:") and proc.port > 0
        r = requests.get(proc.url + "/_emulator/health", timeout=5)
        assert r.status_code == 200 and r.json()["status"] == "ok"
    finally:
        assert proc.stop(sig) == 0


def test_console_script_and_env_vars(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("dms-emulator")
    assert exe.exists(), "the console script is installed with the package"
    port_probe = EmulatorProcess().start()
    free = port_probe.port
    port_probe.stop()
    proc = subprocess.Popen(
        [str(exe), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "DMS_EMULATOR_PORT": str(free), "DMS_EMULATOR_CLOCK": "manual"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"listening on http://127.0.0.1:{free}" in line
        health = requests.get(f"http://127.0.0.1:{free}/_emulator/health", timeout=5).json()
        assert health["clock"] == "manual"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_command_line_wins_over_env() -> None:
    proc = EmulatorProcess("--clock", "real", env={"DMS_EMULATOR_CLOCK": "manual"}).start()
    try:
        assert requests.get(proc.url + "/_emulator/clock", timeout=5).json()["mode"] == "real"
    finally:
        proc.stop()


def test_version() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("dms-emulator ")


GOOD_USER = """      - uid: {uid}
        name: u{uid}
        role: ADMIN
        access_key_id: {ak}
        access_key_secret: s3cret
"""


def accounts_file(
    tmp_path: Path,
    body: str,
    sql: str | None = "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);",
) -> Path:
    if sql is not None:
        (tmp_path / "db.sql").write_text(sql)
    f = tmp_path / "accounts.yaml"
    f.write_text(body)
    return f


def tenant(tid: int = 1, users: str = "", extra: str = "", fixture: str = "db.sql") -> str:
    users = users or GOOD_USER.format(uid=tid * 10, ak=f"AK{tid}")
    return (
        f"  - tid: {tid}\n    name: t{tid}\n{extra}    users:\n{users}"
        f"    databases:\n      - db_id: {tid * 100}\n        schema: s\n        fixture: {fixture}\n"
    )


@pytest.mark.parametrize(
    "body, sql, expected",
    [
        ("tenants:\n" + tenant(extra="    colour: blue\n"), "SELECT 1;", "colour: unknown key"),
        (
            "tenants:\n" + tenant(1) + tenant(2, users=GOOD_USER.format(uid=99, ak="AK1")),
            "SELECT 1;",
            "duplicate access key AK1",
        ),
        (
            "tenants:\n  - tid: 1\n    users: []\n",
            "SELECT 1;",
            "name: Missing data for required field",
        ),
        ("tenants:\n" + tenant(fixture="nope.sql"), "SELECT 1;", "fixture: file not found"),
        ("tenants:\n" + tenant(), "CREATE TABLE broken (;", "SQL error"),
        ("tenants: [", "SELECT 1;", "not valid YAML/JSON"),
        (
            "tenants:\n" + tenant(users=GOOD_USER.format(uid=1, ak="A").replace("ADMIN", "KING")),
            "SELECT 1;",
            "role: Must be one of",
        ),
    ],
)
def test_bad_accounts_file_exits_2_with_one_clear_line(
    tmp_path: Path, body: str, sql: str, expected: str
) -> None:
    f = accounts_file(tmp_path, body, sql)
    out = run_cli(
        "serve",
        "--port",
        "0",
        "--accounts",
        str(f),
        env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert str(f) in lines[0] and expected in lines[0], lines[0]


def test_missing_accounts_file_exits_2(tmp_path: Path) -> None:
    out = run_cli("serve", "--port", "0", "--accounts", str(tmp_path / "none.yaml"))
    assert out.returncode == 2 and "cannot read it" in out.stderr and "Traceback" not in out.stderr


def test_busy_port_exits_2() -> None:
    with EmulatorProcess() as first:
        out = run_cli("serve", "--port", str(first.port))
    assert out.returncode == 2 and "cannot listen" in out.stderr


def test_builtin_accounts_are_the_fixture_file() -> None:
    from emulator.platform.accounts import builtin_accounts_path, load_accounts

    assert builtin_accounts_path().resolve() == (ROOT / "fixtures" / "accounts.yaml").resolve()
    acc = load_accounts()
    assert set(acc.tenants) == {3000, 4000}
    roles = {u.role for t in acc.tenants.values() for u in t.users}
    assert roles == {"ADMIN", "DBA", "USER"}
    assert {t.approval for t in acc.tenants.values()} == {"auto", "manual"}


def test_real_clock_moves_by_itself_and_advances_too() -> None:
    import time

    from alibabacloud_dms_enterprise20181101 import models as dm

    from emulator.testing.process import Control
    from emulator.testing.sdk import dms

    with EmulatorProcess("--clock", "real") as proc:
        control = Control(proc.url)
        t0 = control.get("/clock")["epoch"]
        time.sleep(0.3)
        assert control.get("/clock")["epoch"] - t0 >= 0.25, "real time passes on its own"
        client = dms(proc.endpoint)
        order_id = client.create_order(
            dm.CreateOrderRequest(
                plugin_type="DATA_EXPORT",
                comment="c",
                plugin_param={"dbId": 17001, "exeSQL": "select 1"},
            )
        ).body.create_order_result.order_ids[0]
        control.advance(60)
        detail = client.get_data_export_order_detail(
            dm.GetDataExportOrderDetailRequest(order_id=order_id)
        ).body
        assert detail.data_export_order_detail.key_info.job_status == "EXPORT_SUCCESS"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DMS_EMULATOR_PORT": "abc"}, "'abc' is not an integer"),
        ({"DMS_EMULATOR_CLOCK": "sometimes"}, "is not one of real, manual"),
        ({"DMS_EMULATOR_LOG_LEVEL": "LOUD"}, "is not a log level"),
        ({"DMS_EMULATOR_WORKERS": "many"}, "'many' is not an integer"),
    ],
)
def test_bad_environment_values_are_usage_errors(env: dict[str, str], message: str) -> None:
    out = run_cli("serve", env=env)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_serve_takes_a_shipped_scenario_name() -> None:
    with EmulatorProcess("--scenario", "throttled-polling") as proc:
        faults = requests.get(f"{proc.url}/_emulator/faults", timeout=5).json()["faults"]
        assert [f["name"] for f in faults] == ["throttled-polling"]
    out = run_cli("serve", "--port", "0", "--scenario", "no-such-scenario")
    assert out.returncode == 2 and "no shipped scenario 'no-such-scenario'" in out.stderr


def test_throttled_polling_counts_calls_of_all_tenants_together() -> None:
    """What the scenario's description says: the next two detail calls, whoever makes them."""
    from alibabacloud_dms_enterprise20181101 import models as dm
    from Tea.exceptions import TeaException

    from emulator.testing.sdk import DAVE, dms

    def throttled(key: tuple[str, str]) -> bool:
        try:
            dms(proc.endpoint, key).get_data_export_order_detail(
                dm.GetDataExportOrderDetailRequest(order_id=1)
            )
        except TeaException as exc:
            return exc.code == "Throttling.User"
        return False

    with EmulatorProcess("--scenario", "throttled-polling") as proc:
        assert [throttled(k) for k in (ALICE, DAVE, ALICE, DAVE)] == [True, True, False, False]
    text = (ROOT / "fixtures" / "scenarios" / "throttled-polling.yaml").read_text()
    assert "all tenants" in text


def test_startup_banner_on_stderr() -> None:
    with EmulatorProcess() as proc:
        time.sleep(0.2)
        log = proc.logs()
    assert f"endpoint  127.0.0.1:{proc.port}" in log
    assert f"console   {proc.url}/_emulator/ui/" in log
    assert f"{ALICE[0]} / {ALICE[1]}" in log, "the built-in keys are shown"
    assert not any("endpoint" in line for line in proc.output), "stdout keeps the ready line"


def test_sign_explain_prints_every_header_and_a_working_curl_command() -> None:
    with EmulatorProcess() as proc:
        out = run_cli(
            "sign",
            "--explain",
            "--url",
            f"http://{proc.endpoint}/",
            "-H",
            "x-acs-action: ListUserTenants",
            "-H",
            "x-acs-version: 2018-11-01",
        )
        assert out.returncode == 0, out.stderr
        sent = out.stdout.split("headers to send:\n", 1)[1].split("\n\n", 1)[0]
        names = {line.split(":", 1)[0] for line in sent.splitlines()}
        assert {"host", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce"} <= names
        assert "authorization" in names
        curl = out.stdout.split("curl command:\n", 1)[1].strip().splitlines()[0]
        done = subprocess.run(curl, shell=True, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["TenantList"][0]["Tid"] == 3000, done.stdout


def test_readme_links_resolve_and_the_license_is_apache() -> None:
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)#\s]+)", text) if "://" not in t]
    assert "docs/CONTRACT.md" in targets and "LICENSE" in targets
    for target in targets:
        assert (ROOT / target).exists(), f"README links to {target}, which is not in the repository"
    assert "CONTRACT.md" not in re.sub(r"docs/CONTRACT\.md", "", text), "bare CONTRACT.md mention"
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in license_text and "Version 2.0" in license_text
    assert 'license = {text = "Apache-2.0"}' in (ROOT / "pyproject.toml").read_text()


SDIST_NEEDS = ("tests", "contract_tests", "specs", "fixtures", "bench", "docs", "emulator")


def test_sdist_contains_what_its_tests_need(tmp_path: Path) -> None:
    import tarfile

    done = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "egg_info",
         "--egg-base", str(tmp_path), "sdist", "--dist-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (archive,) = tmp_path.glob("dms-emulator-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    wanted = {"LICENSE", "README.md", "pyproject.toml", ".ci/run"}
    for top in SDIST_NEEDS:
        for path in (ROOT / top).rglob("*"):
            rel = path.relative_to(ROOT).as_posix()
            skip = ("__pycache__", "node_modules", ".pytest_cache", "emulator/fixtures")
            if path.is_file() and not any(s in rel for s in skip) and path.suffix != ".pyc":
                wanted.add(rel)
    missing = sorted(wanted - names)
    assert not missing, f"not in the sdist: {missing[:20]}"
    assert "tests/node/package-lock.json" in names and "docs/CONTRACT.md" in names
