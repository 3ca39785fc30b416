"""A real `python -m emulator serve` process and the control plane over HTTP, as a user's test drives them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import requests


class EmulatorProcess:
    """`python -m emulator serve` on a free port, stopped with SIGTERM."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        self.args = ["--port", "0", *args]
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []
        # stderr goes to a file: an undrained pipe would block the server once 64 KB of logs pile up
        self.log = tempfile.NamedTemporaryFile(prefix="dms-emulator-", suffix=".log", delete=False)

    def start(self, timeout: float = 20) -> EmulatorProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "serve", *self.args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=self.env,
        )
        deadline = time.time() + timeout
        assert self.proc.stdout is not None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if "listening on " in line:
                self.url = line.split("listening on ", 1)[1].strip()
                return self
        err = self.logs()
        raise RuntimeError(f"emulator did not start: {''.join(self.output)} {err}")

    def logs(self) -> str:
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def tls_ca(self) -> str:
        """The CA certificate file a `--tls` emulator announced at start (clients trust it)."""
        marker = "tls ca certificate: "
        line = next((x for x in self.output if marker in x), None)
        if line is None:
            raise AssertionError(f"the emulator announced no CA certificate: {self.output}")
        return line.split(marker, 1)[1].strip()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class Control:
    """The control plane over HTTP, as a user's test would drive it (`token`: an emulator
    started with --control-token)."""

    def __init__(self, url: str, token: str | None = None):
        self.url = url.rstrip("/")
        self.headers = {"x-emulator-token": token} if token else {}

    def get(self, path: str, **params: Any) -> Any:
        r = requests.get(
            f"{self.url}/_emulator{path}", params=params, headers=self.headers, timeout=30
        )
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: Any = None) -> requests.Response:
        return requests.post(
            f"{self.url}/_emulator{path}", json=body, headers=self.headers, timeout=60
        )

    def reset(self, tid: int | None = None) -> None:
        self.post("/reset", {"tid": tid} if tid else {}).raise_for_status()

    def advance(self, seconds: float) -> dict[str, Any]:
        r = self.post("/clock/advance", {"seconds": seconds})
        r.raise_for_status()
        return r.json()

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        return self.get("/requests", **filters)["requests"]


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """`python -m emulator ARGS` to completion, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
