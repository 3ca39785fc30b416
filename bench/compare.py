"""Benchmarks of issue 7, each next to baselines measured in the same run (machines are noisy):

start-up      process start to first 200 on health: emulator, bare Flask on waitress, moto_server
throughput    signed V3 GetDataExportOrderDetail with wrk (16 keep-alive connections, every request
              its own pre-signed signature and nonce) next to bare Flask's constant JSON and moto_server
scale         GetDataExportOrderDetail / ListOrders first and last page with 100 and 100,000 tickets
durability    CreateOrder throughput with --state FILE next to in-memory

  python bench/compare.py [--quick]      (needs `wrk`: apt-get install wrk; moto[server] for moto)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.testing.sdk import ALICE, v3_request  # noqa: E402

PY = sys.executable
EMULATOR = [PY, "-m", "emulator", "serve", "--clock", "manual", "--log-level", "WARNING"]
BARE = [PY, str(ROOT / "bench" / "bare_app.py")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    cmd: list[str], health: str, port: int | None = None
) -> tuple[subprocess.Popen[bytes], int, float]:
    port = port or free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, *(["--port", str(port)] if "moto_server" not in cmd[0] else ["-p", str(port)])],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{health}", timeout=2) as r:
                if r.status == 200:
                    return proc, port, time.perf_counter() - t0
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited") from None
            time.sleep(0.002)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def startup(cmd: list[str], health: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        proc, _, took = start(cmd, health)
        times.append(took)
        stop(proc)
    return statistics.median(times)


def wrk(url: str, seconds: int, script: list[str] | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script[0], url, "--", *script[1:]]
    else:
        cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {
        "rps": rps,
        "p50": ms("50%"),
        "p99": ms("99%"),
        "non2xx": int(bad.group(1)) if bad else 0,
        "total": total,
    }


def create_moto_table(port: int) -> None:
    body = json.dumps(
        {
            "TableName": "bench",
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        }
    ).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/",
        data=body,
        method="POST",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.CreateTable",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


def write_presigned(port: int, order_id: int, n: int, path: Path) -> None:
    with path.open("w") as f:
        for _ in range(n):
            p = v3_request(
                f"127.0.0.1:{port}",
                "GetDataExportOrderDetail",
                query={"Tid": "3000"},
                form={"OrderId": str(order_id)},
                key=ALICE,
            )
            url_path = p.url.split(str(port), 1)[1]
            # wrk adds its own Host unless the table names "Host" exactly
            headers = "\1".join(
                f"{'Host' if k == 'host' else k}: {v}" for k, v in p.headers.items()
            )
            f.write(f"{url_path}\t{headers}\t{p.body.decode()}\n")


def signed(
    port: int, action: str, query: dict[str, str] | None = None, form: dict[str, str] | None = None
):
    p = v3_request(f"127.0.0.1:{port}", action, query=query, form=form)
    return p.send()


def seed_state(path: Path, tickets: int) -> tuple[int, int]:
    """A state file with `tickets` tickets (1 in 10 a finished data export), built in-process."""
    from emulator.config import Settings
    from emulator.services.dms.domain.model import ExportSpec, RequestSpec
    from emulator.wiring import Emulator

    emu = Emulator(Settings(state=str(path), clock="manual"))
    alice = emu.accounts.by_access_key[ALICE[0]]
    export_id = 0
    export = ExportSpec(db_id=17001, sql="select 1")
    nddl = RequestSpec((17001,), {"title": "t", "db_id": 17001})
    with emu.store.transaction():
        for i in range(tickets):
            now = emu.clock.now()
            if i % 10 == 0:
                t = emu.workflow.create(alice, "DATA_EXPORT", export, f"e{i}", [], None, None, now)
                export_id = t.id
            else:
                emu.workflow.create(alice, "NDDL", nddl, f"n{i}", [], None, None, now)
    emu.jobs.wait_idle(300)
    emu.clock.advance(3600)
    emu.save_clock()
    emu.close()
    return tickets, export_id


def latency(port: int, action: str, n: int, **kw) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = signed(port, action, **kw)
        times.append(time.perf_counter() - t)
        assert r.status_code == 200 and r.json().get("Success", True), r.text[:200]
    return statistics.median(times) * 1000


def scale(sizes: list[int], samples: int) -> None:
    results = {}
    for size in sizes:
        work = Path(tempfile.mkdtemp(prefix="dms-scale-"))
        try:
            state = work / "state.sqlite"
            t0 = time.perf_counter()
            _, export_id = seed_state(state, size)
            built = time.perf_counter() - t0
            proc, port, _ = start([*EMULATOR, "--state", str(state)], "/_emulator/health")
            try:
                last_page = max(1, -(-size // 20))
                results[size] = {
                    "detail": latency(
                        port,
                        "GetDataExportOrderDetail",
                        samples,
                        query={"Tid": "3000"},
                        form={"OrderId": str(export_id)},
                    ),
                    "first": latency(
                        port, "ListOrders", samples, query={"PageNumber": "1", "PageSize": "20"}
                    ),
                    "last": latency(
                        port,
                        "ListOrders",
                        samples,
                        query={"PageNumber": str(last_page), "PageSize": "20"},
                    ),
                    "rss": peak_rss_mb(proc.pid),
                }
            finally:
                stop(proc)
            print(
                f"  {size:>7,} tickets (built in {built:.1f} s): detail {results[size]['detail']:.2f} ms, "
                f"ListOrders first page {results[size]['first']:.2f} ms, last page {results[size]['last']:.2f} ms, "
                f"peak RSS {results[size]['rss']:.0f} MB"
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    small, big = results[sizes[0]], results[sizes[-1]]
    for key, label in (
        ("detail", "GetDataExportOrderDetail"),
        ("first", "ListOrders first page"),
        ("last", "ListOrders last page"),
    ):
        print(
            f"  ratio {sizes[-1]:,}/{sizes[0]:,} {label}: {big[key] / small[key]:.2f} (aim <= 1.2)"
        )


def create_rate(extra: list[str], n: int, threads: int = 8) -> float:
    proc, port, _ = start([*EMULATOR, *extra], "/_emulator/health")
    done = []

    def work(k: int) -> None:
        for _ in range(k):
            r = signed(
                port,
                "CreateOrder",
                query={"PluginType": "NDDL", "Comment": "bench"},
                form={"PluginParam": json.dumps({"title": "t", "dbId": 17001})},
            )
            done.append(r.status_code == 200 and r.json()["Success"])

    pool = [threading.Thread(target=work, args=(n // threads,)) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    rate = len(done) / (time.perf_counter() - t0)
    stop(proc)
    assert all(done)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--quick", action="store_true", help="fewer runs and a 10,000-ticket scale test"
    )
    args = parser.parse_args()
    runs, seconds = (3, 4) if args.quick else (7, 8)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    have_moto = shutil.which("moto_server") is not None
    have_wrk = shutil.which("wrk") is not None

    print(f"start-up, process start to first 200 on health (median of {runs}):")
    emu_s = startup(EMULATOR, "/_emulator/health", runs)
    bare_s = startup(BARE, "/_emulator/health", runs)
    line = f"  emulator {emu_s * 1000:.0f} ms, bare flask {bare_s * 1000:.0f} ms (ratio {emu_s / bare_s:.2f}, aim <= 1.5)"
    if have_moto:
        moto_s = startup(["moto_server"], "/moto-api/", runs)
        line += f", moto_server {moto_s * 1000:.0f} ms (emulator is {moto_s / emu_s:.1f}x faster)"
    print(line)

    if have_wrk:
        work = Path(tempfile.mkdtemp(prefix="dms-wrk-"))
        try:
            proc, port, _ = start(EMULATOR, "/_emulator/health")
            order_id = signed(
                port,
                "CreateOrder",
                query={"PluginType": "DATA_EXPORT", "Comment": "b"},
                form={"PluginParam": json.dumps({"dbId": 17001, "exeSQL": "select 1"})},
            ).json()["CreateOrderResult"]["OrderIds"][0]
            requests_file = work / "requests.txt"
            write_presigned(port, order_id, 25_000 * seconds // 8 + 5_000, requests_file)
            emu = wrk(
                f"http://127.0.0.1:{port}",
                seconds,
                [str(ROOT / "bench" / "presigned.lua"), str(requests_file), "2"],
            )
            stop(proc)
            proc, port, _ = start(BARE, "/_emulator/health")
            bare = wrk(f"http://127.0.0.1:{port}/", seconds)
            stop(proc)
            print(f"throughput, wrk 2 threads x 16 keep-alive connections, {seconds} s each:")
            print(
                f"  emulator (signed V3 GetDataExportOrderDetail): {emu['rps']:.0f} req/s, p50 {emu['p50']:.2f} ms, "
                f"p99 {emu['p99']:.2f} ms, non-2xx {emu['non2xx']} of {emu['total']}"
            )
            print(
                f"  bare flask constant JSON: {bare['rps']:.0f} req/s, p50 {bare['p50']:.2f} ms, p99 {bare['p99']:.2f} ms"
            )
            print(f"  ratio emulator/bare: {emu['rps'] / bare['rps']:.2f} (aim >= 0.6)")
            if have_moto:
                mport = free_port()
                proc, _, _ = start(["moto_server"], "/moto-api/", mport)
                create_moto_table(mport)
                moto = wrk(
                    f"http://127.0.0.1:{mport}/",
                    seconds,
                    [str(ROOT / "bench" / "moto_describe.lua")],
                )
                stop(proc)
                print(
                    f"  moto_server (DynamoDB DescribeTable, a comparable read): {moto['rps']:.0f} req/s, "
                    f"p50 {moto['p50']:.2f} ms, p99 {moto['p99']:.2f} ms, non-2xx {moto['non2xx']}"
                )
                print(f"  ratio emulator/moto: {emu['rps'] / moto['rps']:.1f} (aim >= 5)")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    else:
        print(
            "throughput: wrk not installed (apt-get install wrk); see bench/run.py for a Python load test"
        )

    sizes = [100, 10_000] if args.quick else [100, 100_000]
    print("scale (median of sequential signed calls):")
    scale(sizes, 50 if args.quick else 200)

    n = 400 if args.quick else 1200
    with tempfile.TemporaryDirectory() as tmp:
        durable = create_rate(["--state", str(Path(tmp) / "s.sqlite")], n)
    memory = create_rate([], n)
    print(
        f"durability cost, CreateOrder with 8 client threads: --state FILE {durable:.0f}/s, "
        f"in memory {memory:.0f}/s (ratio {durable / memory:.2f})"
    )


if __name__ == "__main__":
    main()
