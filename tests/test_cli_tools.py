"""CLI conveniences through real processes: faults load, journal, sign --explain, --version."""

from __future__ import annotations

import hashlib
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from alibabacloud_tea_openapi.utils import Utils

from emulator.admin.client import EmulatorClient
from emulator.testing.process import EmulatorProcess, run_cli
from emulator.testing.sdk import ALICE, v3_request

ROOT = Path(__file__).resolve().parent.parent


def test_sign_explain_matches_the_official_sdk() -> None:
    headers = {
        "x-acs-action": "ListOrders",
        "x-acs-version": "2018-11-01",
        "x-acs-date": "2026-11-22T10:00:00Z",
        "x-acs-signature-nonce": "abc",
        "accept": "application/json",
    }
    args = [
        "sign",
        "--explain",
        "--url",
        "http://127.0.0.1:8787/?Tid=3000&SearchContent=a%20b*",
        "--body",
        "OrderId=5",
    ]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = run_cli(*args)
    assert out.returncode == 0, out.stderr
    assert "canonical request:\nPOST\n/\nSearchContent=a%20b%2A&Tid=3000\n" in out.stdout
    assert "string to sign:\nACS3-HMAC-SHA256\n" in out.stdout
    ours = re.search(r"Authorization: (.+)", out.stdout).group(1)  # type: ignore[union-attr]
    full = {
        **headers,
        "host": "127.0.0.1:8787",
        "x-acs-content-sha256": hashlib.sha256(b"OrderId=5").hexdigest(),
    }
    req = SimpleNamespace(
        pathname="/", query={"Tid": "3000", "SearchContent": "a b*"}, headers=full, method="POST"
    )
    assert ours == Utils.get_authorization(
        req, "ACS3-HMAC-SHA256", full["x-acs-content-sha256"], *ALICE
    )


def test_sign_v1_matches_the_official_sdk() -> None:
    out = run_cli(
        "sign",
        "--v1",
        "--method",
        "GET",
        "--url",
        "http://h/?Action=ListOrders&Version=2018-11-01&AccessKeyId=AK&Timestamp=2026-11-22T10:00:00Z",
    )
    params = {
        "Action": "ListOrders",
        "Version": "2018-11-01",
        "AccessKeyId": "AK",
        "Timestamp": "2026-11-22T10:00:00Z",
    }
    assert out.stdout.strip() == "Signature=" + Utils.get_rpcsignature(params, "GET", ALICE[1])


def test_faults_load_list_clear_and_journal() -> None:
    with EmulatorProcess() as proc:
        url = ["--url", proc.url]
        scenario = ROOT / "fixtures" / "scenarios" / "throttled-polling.yaml"
        out = run_cli("faults", "load", str(scenario), *url)
        assert out.returncode == 0 and "loaded 1 rule" in out.stdout
        assert run_cli("faults", "load", "export-fails", *url).returncode == 0
        listed = run_cli("faults", "list", *url).stdout.splitlines()
        assert len(listed) == 2 and "Throttling.User" in listed[0]
        assert run_cli("faults", "clear", *url).returncode == 0
        assert EmulatorClient(proc.url).faults() == []
        bad = run_cli("faults", "load", "no-such-scenario", *url)
        assert bad.returncode == 2 and "no shipped scenario" in bad.stderr

        v3_request(proc.endpoint, "GetUserActiveTenant").send()
        v3_request(proc.endpoint, "GetUserActiveTenant", key=(ALICE[0], "wrong")).send()
        out = run_cli("journal", *url)
        lines = out.stdout.splitlines()
        assert any("GetUserActiveTenant tid=3000 status=200" in line for line in lines)
        assert any("code=SignatureDoesNotMatch" in line for line in lines)
        assert any(line.startswith("  server string to sign: ACS3-HMAC-SHA256") for line in lines)

        follow = subprocess.Popen(
            [sys.executable, "-m", "emulator", "journal", "--follow", *url],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)
        v3_request(proc.endpoint, "ListUserTenants").send()
        time.sleep(2)
        follow.send_signal(signal.SIGINT)
        followed = follow.communicate(timeout=10)[0]
        assert "ListUserTenants" in followed, "--follow prints requests made after it started"


def test_journal_against_nothing_is_a_clear_error() -> None:
    out = run_cli("journal", "--url", "http://127.0.0.1:9")
    assert out.returncode == 2 and "cannot reach" in out.stderr and "Traceback" not in out.stderr
