"""The official Node clients (`tests/node`: @alicloud/openapi-client, @alicloud/pop-core) over HTTPS.

`.ci/run` installs them with `npm ci` from the lock file; Node itself comes with the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.testing.process import EmulatorProcess

NODE_DIR = Path(__file__).resolve().parent / "node"


@pytest.fixture(scope="module")
def node() -> str:
    exe = shutil.which("node")
    assert exe, "node is needed for these tests (.ci/run installs the clients with npm ci)"
    if not (NODE_DIR / "node_modules" / "@alicloud" / "pop-core").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
    return exe


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    cache = tmp_path_factory.mktemp("node-cache")
    with EmulatorProcess("--tls", env={"XDG_CACHE_HOME": str(cache)}) as proc:
        yield proc


def run(
    node: str, kind: str, proc: EmulatorProcess, *extra: str, env: dict[str, str] | None = None
) -> tuple[int, dict]:  # type: ignore[type-arg]
    base = {k: v for k, v in os.environ.items() if k != "NODE_EXTRA_CA_CERTS"}
    done = subprocess.run(
        [node, "clients.js", kind, str(proc.port), *extra],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
    )
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["openapi", "pop"])
def test_node_client_with_node_extra_ca_certs(node: str, tls: EmulatorProcess, kind: str) -> None:
    code, body = run(node, kind, tls, env={"NODE_EXTRA_CA_CERTS": tls.tls_ca()})
    assert code == 0, body
    assert body["TenantList"][0]["Tid"] == 3000


@pytest.mark.parametrize("kind", ["openapi", "pop"])
def test_node_client_with_the_ca_in_its_options(node: str, tls: EmulatorProcess, kind: str) -> None:
    code, body = run(node, kind, tls, tls.tls_ca())
    assert code == 0, body
    assert body["TenantList"][0]["Tid"] == 3000


@pytest.mark.parametrize("kind", ["openapi", "pop"])
def test_node_client_without_the_ca_is_refused(node: str, tls: EmulatorProcess, kind: str) -> None:
    code, body = run(node, kind, tls)
    assert code == 3
    assert body["error"] in ("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN"), body
