"""The contract suite's remote mode, proven against a separately started emulator process that it
knows only by URL and keys (as it would know the real endpoint)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from emulator.testing.process import EmulatorProcess
from emulator.testing.sdk import ALICE

ROOT = Path(__file__).resolve().parent.parent


def run_contract(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DMS_", "ALIBABA_CLOUD_"))}
    env.update(
        {
            "DMS_CONTRACT_TARGET": url,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": ALICE[0],
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALICE[1],
            "DMS_CONTRACT_TID": "3000",
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_remote_target_with_mutations_v1_signatures() -> None:
    with EmulatorProcess("--clock", "manual") as proc:
        out = run_contract(proc.url, "--allow-mutations", "--signature", "v1")
        journal = (
            __import__("requests")
            .get(proc.url + "/_emulator/requests?limit=5000", timeout=10)
            .json()
        )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"target: {proc.url}" in out.stdout and "signature v1" in out.stdout
    assert "failures: 0" in out.stdout
    schemes = {e["scheme"] for e in journal["requests"] if e["scheme"]}
    assert schemes >= {"v1"}, (
        "the generated requests really went to the separate process, V1-signed"
    )


def test_remote_target_without_mutations_only_reads() -> None:
    with EmulatorProcess("--clock", "manual") as proc:
        out = run_contract(
            proc.url, "-k", "GetUserActiveTenant or ListOrders or read_only or CreateOrder", "-rs"
        )
        journal = (
            __import__("requests")
            .get(proc.url + "/_emulator/requests?action=CreateOrder", timeout=10)
            .json()
        )
    assert out.returncode == 0, out.stdout[-3000:]
    assert "pass --allow-mutations" in out.stdout and "mutations off" in out.stdout
    assert journal["count"] == 0, "no ticket was created without --allow-mutations"
