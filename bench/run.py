"""Benchmarks: start-up time and signed-request throughput, each next to a baseline measured in
the same run (a bare Flask app on the same WSGI server), printed as figures and ratios.

    python bench/run.py [--startup-runs 7] [--requests 4000] [--clients 16]

Every emulator request carries its own valid V3 signature and nonce (pre-signed before the clock
starts), so the figure includes the real verification work. Not a timed test.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import start as _start  # noqa: E402
from bench.compare import stop  # noqa: E402
from emulator.testing.sdk import ALICE, v3_request  # noqa: E402  (the official SDK's signing functions)

EMULATOR = [
    sys.executable,
    "-m",
    "emulator",
    "serve",
    "--port",
    "0",
    "--clock",
    "manual",
    "--log-level",
    "WARNING",
]
BARE = [sys.executable, str(ROOT / "bench" / "bare_app.py"), "--port", "0"]


def start(cmd: list[str]) -> tuple[subprocess.Popen[bytes], int, float]:
    """Start a server on a free port; return it, its port, and seconds to the first 200 on health."""
    return _start(cmd, "/_emulator/health")


def startup(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        proc, _, took = start(cmd)
        times.append(took)
        stop(proc)
    return statistics.median(times)


def load(
    port: int, prepared: list[tuple[str, str, dict[str, str], bytes]], clients: int
) -> dict[str, float]:
    """Send every prepared request once over `clients` keep-alive connections."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    chunks = [prepared[i::clients] for i in range(clients)]

    def worker(batch: list[tuple[str, str, dict[str, str], bytes]]) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        for method, path, headers, body in batch:
            t = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - t)
            bad += resp.status != 200
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "errors": errors,
    }


def presign(port: int, n: int, order_id: int) -> list[tuple[str, str, dict[str, str], bytes]]:
    out = []
    for _ in range(n):
        p = v3_request(
            f"127.0.0.1:{port}",
            "GetDataExportOrderDetail",
            query={"Tid": "3000"},
            form={"OrderId": str(order_id)},
            key=ALICE,
        )
        path = p.url.split(f"127.0.0.1:{port}", 1)[1]
        out.append(("POST", path, p.headers, p.body))
    return out


def create_order(port: int) -> int:
    import json

    p = v3_request(
        f"127.0.0.1:{port}",
        "CreateOrder",
        query={"PluginType": "DATA_EXPORT", "Comment": "bench"},
        form={"PluginParam": json.dumps({"dbId": 17001, "exeSQL": "select * from products"})},
    )
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", p.url.split(str(port), 1)[1], body=p.body, headers=p.headers)
    doc = json.loads(conn.getresponse().read())
    return int(doc["CreateOrderResult"]["OrderIds"][0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--startup-runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")

    bare_s = startup(BARE, args.startup_runs)
    emu_s = startup(EMULATOR, args.startup_runs)
    print(
        f"start-up to first 200 (median of {args.startup_runs}): emulator {emu_s * 1000:.0f} ms, "
        f"bare flask+waitress {bare_s * 1000:.0f} ms, ratio {emu_s / bare_s:.2f}x"
    )

    proc, port, _ = start(EMULATOR)
    try:
        order_id = create_order(port)
        batch = presign(port, args.requests, order_id)
        emu = load(port, batch, args.clients)
    finally:
        stop(proc)
    proc, port, _ = start(BARE)
    try:
        bare = load(port, [("POST", "/", {}, b"")] * args.requests, args.clients)
    finally:
        stop(proc)
    print(
        f"signed V3 GetDataExportOrderDetail, {args.clients} keep-alive clients, {args.requests} requests:"
    )
    print(
        f"  emulator: {emu['rps']:.0f} req/s, p50 {emu['p50_ms']:.1f} ms, p99 {emu['p99_ms']:.1f} ms, "
        f"non-200: {emu['errors']:.0f}"
    )
    print(
        f"  bare flask constant JSON: {bare['rps']:.0f} req/s, p50 {bare['p50_ms']:.1f} ms, "
        f"p99 {bare['p99_ms']:.1f} ms"
    )
    print(f"  throughput ratio emulator/bare: {emu['rps'] / bare['rps']:.2f}")


if __name__ == "__main__":
    main()
