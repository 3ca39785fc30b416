"""The control plane cannot be turned against the machine (probe findings F1, F15, F20; the
reproductions r01, r12, r14 in shared/probes): browsers from other sites, foreign Host names,
file reads through scenarios, secrets in the state document, the control token, size limits.
Everything through real sockets."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests

from emulator.admin.client import ControlError, EmulatorClient
from emulator.testing.process import Control, EmulatorProcess, run_cli
from emulator.testing.sdk import DAVE, v3_request

FOREIGN = {"Host": "attacker.example", "Origin": "http://attacker.example"}


def manual_ticket(endpoint: str) -> int:
    """A DAVE (tenant 4000, manual approval) export ticket waiting for approval."""
    import json

    r = v3_request(
        endpoint,
        "CreateOrder",
        form={
            "PluginType": "DATA_EXPORT",
            "Comment": "c",
            "PluginParam": json.dumps({"dbId": 27001, "exeSQL": "select 1"}),
        },
        key=DAVE,
    ).send()
    return int(r.json()["CreateOrderResult"]["OrderIds"][0])


def test_cross_site_browser_requests_are_refused_and_change_nothing(
    endpoint: str, control: Control
) -> None:
    c = f"{control.url}/_emulator"
    d = manual_ticket(endpoint)
    control.advance(10)
    status = control.get(f"/tickets/{d}")["status"]
    assert status == "WAITING_APPLY_AUDIT"
    own = {"Origin": control.url}
    # a form post from another site (the console's approve button)
    r = requests.post(f"{c}/ui/tickets/{d}/approve", data={"comment": "csrf"}, headers=FOREIGN)
    assert r.status_code == 403
    r = requests.post(
        f"{c}/ui/tickets/{d}/approve",
        data={"comment": "csrf"},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
    )
    assert r.status_code == 403
    assert control.get(f"/tickets/{d}")["status"] == status, "nothing changed"
    # a text/plain POST (what fetch() may send cross-site without CORS), with or without Origin
    for headers in ({"Origin": "http://evil.example"}, {}):
        r = requests.post(
            f"{c}/reset", data=b"", headers={**headers, "Content-Type": "text/plain"}, timeout=5
        )
        assert r.status_code == 403, r.text
    r = requests.post(f"{c}/reset", data={"tid": "3000"}, headers=own, timeout=5)
    assert r.status_code == 403, "a form body on a JSON endpoint"
    assert r.json()["error"].startswith("the control plane takes JSON")
    r = requests.post(f"{c}/reset", headers={"Origin": "null"}, timeout=5)
    assert r.status_code == 403
    r = requests.post(f"{c}/reset", headers={"Sec-Fetch-Site": "cross-site"}, timeout=5)
    assert r.status_code == 403
    assert control.get(f"/tickets/{d}")["status"] == status, "no reset happened"
    # DNS rebinding: a foreign name resolving to loopback reaches a loopback bind
    r = requests.get(f"{c}/state", headers={"Host": "attacker.example"}, timeout=5)
    assert r.status_code == 403 and "--allowed-host" in r.json()["error"]
    assert "oss_secret" not in r.text
    for host in ("localhost", "127.0.0.1", "[::1]", "app.localhost"):
        port = control.url.rsplit(":", 1)[1]
        r = requests.get(f"{c}/health", headers={"Host": f"{host}:{port}"}, timeout=5)
        assert r.status_code == 200, host
    # the emulator's own pages may post (what the console does) and navigation stays possible
    r = requests.post(
        f"{c}/ui/tickets/{d}/approve", data={"comment": "ok"}, headers=own, allow_redirects=False
    )
    assert r.status_code == 303
    assert control.get(f"/tickets/{d}")["status"] == "ENABLE_EXPORT"
    r = requests.get(
        f"{c}/ui/tickets",
        headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
        timeout=5,
    )
    assert r.status_code == 200


def test_console_never_redirects_to_a_foreign_referer(control: Control) -> None:
    c = f"{control.url}/_emulator/ui"
    r = requests.post(
        f"{c}/clock/advance",
        data={"seconds": "0"},
        headers={"Referer": "https://evil.example/"},
        allow_redirects=False,
    )
    assert r.status_code == 403, "a form post referred by another site"
    for target in ("https://evil.example/", "//evil.example/x", "/elsewhere", "/\\evil.example"):
        r = requests.post(
            f"{c}/clock/advance", data={"seconds": "0", "next": target}, allow_redirects=False
        )
        assert r.status_code == 303 and r.headers["Location"].endswith("/_emulator/ui/tickets")
    r = requests.post(
        f"{c}/clock/advance",
        data={"seconds": "0", "next": "/_emulator/ui/faults?x=1"},
        allow_redirects=False,
    )
    assert r.headers["Location"].endswith("/_emulator/ui/faults?x=1")


def test_scenario_path_reads_only_scenario_files_and_never_quotes_them(
    control: Control, tmp_path: Path
) -> None:
    secret = tmp_path / "secretcfg.txt"
    secret.write_text("user: admin\npassword: hunter2: 'oops\n")
    yaml_secret = tmp_path / "secretcfg.yaml"
    yaml_secret.write_text(secret.read_text())
    json_secret = tmp_path / "creds.json"
    json_secret.write_text('{"password": "hunter2", "faults": [{"x": "hunter2"')
    for path in (secret, yaml_secret, json_secret, Path("/etc/passwd"), tmp_path / "none.yaml"):
        r = control.post("/scenarios", {"path": str(path)})
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert "hunter2" not in error and "root:" not in error and "oops" not in error, error
    assert (
        "not a scenario file" in control.post("/scenarios", {"path": str(secret)}).json()["error"]
    )
    assert "line 2" in control.post("/scenarios", {"path": str(yaml_secret)}).json()["error"]
    good = tmp_path / "mine.yaml"
    good.write_text(
        "name: mine\nfaults:\n  - match: {action: ListOrders}\n    effect: {type: error, code: Throttling.User}\n"
    )
    assert control.post("/scenarios", {"path": str(good)}).status_code == 201
    assert control.get("/faults")["faults"][0]["name"] == "mine"


def test_state_document_leaves_the_link_secret_out_without_a_token(control: Control) -> None:
    doc = control.get("/state")
    keys = {r["key"] for r in doc["tables"]["meta"]}
    assert "oss_secret" not in keys and "oss_access_key_id" in keys
    r = requests.get(f"{control.url}/_emulator/state?secrets=true", timeout=5)
    assert r.status_code == 403 and "--control-token" in r.json()["error"]


def test_huge_ticket_ids_answer_404_not_500(control: Control) -> None:
    """F20: GET /_emulator/tickets/<10^30> was a 500 (OverflowError)."""
    huge = 10**30
    r = requests.get(f"{control.url}/_emulator/tickets/{huge}", timeout=5)
    assert r.status_code == 404 and r.json()["error"] == f"no ticket {huge}"
    r = requests.post(f"{control.url}/_emulator/tickets/{huge}/approve", json={}, timeout=5)
    assert r.status_code == 404
    r = requests.get(f"{control.url}/_emulator/ui/tickets/{huge}", timeout=5)
    assert r.status_code == 404 and "no ticket" in r.text
    r = control.post(
        "/faults",
        {
            "match": {"order_id": 2**62},
            "effect": {"type": "lifecycle", "stage": "export", "outcome": "fail"},
        },
    )
    assert r.status_code == 404


def test_control_plane_bodies_are_bounded(control: Control) -> None:
    """F15: a 149 MB PUT /state was accepted; the control plane takes at most 64 MiB."""
    big = (
        b'{"format": "dms-emulator-state", "tables": {"meta": ['
        + b" " * (65 * 1024 * 1024)
        + b"]}}"
    )
    t = time.time()
    r = requests.put(
        f"{control.url}/_emulator/state",
        data=big,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert r.status_code == 413, r.text[:200]
    assert time.time() - t < 30
    assert control.get("/health")["status"] == "ok"


def test_control_token_protects_every_request() -> None:
    token = "s3cret-token"
    with EmulatorProcess(
        "--clock", "manual", "--control-token", token, "--control-max-body", "100000"
    ) as proc:
        c = f"{proc.url}/_emulator"
        for method, path in (
            ("GET", "/health"),
            ("GET", "/state"),
            ("POST", "/reset"),
            ("GET", "/ui/tickets"),
            ("GET", "/requests"),
        ):
            r = requests.request(method, c + path, timeout=5)
            assert r.status_code == 401, (path, r.status_code)
        r = requests.post(
            f"{c}/faults",
            json={"match": {"action": "ListOrders"}, "effect": {"type": "error", "code": "X"}},
            headers={"x-emulator-token": "wrong"},
            timeout=5,
        )
        assert r.status_code == 401 and r.json()["error"] == "wrong x-emulator-token"
        ok = EmulatorClient(proc.url, token=token)
        assert ok.faults() == [], "a refused call changed nothing"
        ok.add_fault(action="ListOrders", code="Throttling.User")
        assert len(ok.faults()) == 1
        try:
            EmulatorClient(proc.url, token="").faults()
            raise AssertionError("no token must be refused")
        except ControlError as exc:
            assert exc.status == 401 and "x-emulator-token" in exc.message
        # secrets only with the token
        meta = {r["key"]: r["value"] for r in ok.export_state(secrets=True)["tables"]["meta"]}
        assert meta["oss_secret"]
        assert "oss_secret" not in {r["key"] for r in ok.export_state()["tables"]["meta"]}
        # the console: a login form sets a cookie
        s = requests.Session()
        r = s.get(f"{c}/ui/tickets", timeout=5)
        assert r.status_code == 401 and 'name="token"' in r.text
        r = s.post(
            f"{c}/ui/login", data={"token": "nope", "next": "/_emulator/ui/faults"}, timeout=5
        )
        assert r.status_code == 401
        r = s.post(
            f"{c}/ui/login",
            data={"token": token, "next": "/_emulator/ui/faults"},
            allow_redirects=False,
            timeout=5,
        )
        assert r.status_code == 303 and r.headers["Location"].endswith("/_emulator/ui/faults")
        cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and token not in cookie
        assert s.get(f"{c}/ui/faults", timeout=5).status_code == 200
        assert s.get(f"{c}/faults", timeout=5).status_code == 200
        # the CLI tools pass the token (option or environment)
        out = run_cli("faults", "list", "--url", proc.url)
        assert out.returncode == 2 and "x-emulator-token" in out.stderr
        out = run_cli("faults", "list", "--url", proc.url, "--token", token)
        assert out.returncode == 0 and "Throttling.User" in out.stdout
        out = run_cli("journal", "--url", proc.url, env={"DMS_EMULATOR_CONTROL_TOKEN": token})
        assert out.returncode == 0, out.stderr
        # F15 with a configured bound
        r = requests.put(
            f"{c}/state",
            data=b"x" * 200_000,
            headers={"x-emulator-token": token, "Content-Type": "application/json"},
            timeout=10,
        )
        assert r.status_code == 413
    with EmulatorProcess("--clock", "manual", env={"DMS_EMULATOR_CONTROL_TOKEN": token}) as proc:
        assert requests.get(f"{proc.url}/_emulator/health", timeout=5).status_code == 401
        assert Control(proc.url, token=token).get("/health")["control_token"] is True


def test_allowed_host_adds_names() -> None:
    with EmulatorProcess("--allowed-host", "emulator.internal") as proc:
        c = f"{proc.url}/_emulator/health"
        assert (
            requests.get(
                c, headers={"Host": f"emulator.internal:{proc.port}"}, timeout=5
            ).status_code
            == 200
        )
        assert (
            requests.get(c, headers={"Host": f"other.internal:{proc.port}"}, timeout=5).status_code
            == 403
        )


def test_binding_beyond_loopback_without_a_token_warns() -> None:
    def stderr_of(*args: str) -> str:
        p = subprocess.Popen(
            [sys.executable, "-m", "emulator", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert p.stdout is not None
        deadline = time.time() + 20
        while time.time() < deadline and "listening on" not in p.stdout.readline():
            pass
        p.terminate()
        _, err = p.communicate(timeout=20)
        return err

    err = stderr_of("--host", "0.0.0.0")
    assert "warning: --host 0.0.0.0 exposes the unauthenticated control plane" in err
    assert "--control-token" in err
    assert "warning" not in stderr_of("--host", "0.0.0.0", "--control-token", "t")
    assert "warning" not in stderr_of("--host", "127.0.0.1")


def test_clock_advances_past_representable_dates_are_refused(control: Control) -> None:
    """F18: 251 advances of 1e9 s reached year 10012; GET /clock then answered 500."""
    before = control.get("/clock")["epoch"]
    refused = 0
    for _ in range(260):
        r = control.post("/clock/advance", {"seconds": 1e9})
        if r.status_code != 200:
            assert r.status_code == 400 and "9999-12-31" in r.json()["error"]
            refused += 1
            break
    assert refused == 1
    clock = control.get("/clock")
    assert clock["now"].startswith("9") and clock["epoch"] > before
    r = requests.get(f"{control.url}/_emulator/ui/tickets", timeout=10)
    assert r.status_code == 200
