"""Benchmarks of issues 7 and 18, each next to baselines measured in the same run (machines are
noisy, so every figure that the guard checks is a ratio of two measurements taken side by side):

start-up      process start to first 200 on health: emulator, bare Flask on waitress, moto_server
throughput    signed V3 GetDataExportOrderDetail with wrk (16 keep-alive connections, every request
              its own pre-signed signature and nonce) next to bare Flask's constant JSON (on stock
              waitress, and on the emulator's own listener) and moto_server
metadata      signed ListTables and GetMetaTableDetailInfo, next to the same bare Flask figure
workers       the same signed read with --workers 2 next to one worker
https         signed reads over HTTPS on a --tls port next to plain HTTP on the same port
export        a 1,000,000-row CSV export (SQL -> CSV -> zip) next to the sqlite3 CLI, and peak RSS
scale         GetDataExportOrderDetail / ListOrders first and last page with 100 and 100,000 tickets
durability    CreateOrder throughput with --state FILE next to in-memory

  python bench/compare.py [--quick] [--only throughput,workers] [--check] [--record-baseline]
      (needs `wrk`: apt-get install wrk; moto[server] for moto; sqlite3 for the export baseline)

--check compares each ratio with bench/baseline.json and exits 1 when one is more than 20% worse;
--record-baseline rewrites that file from this run (deliberately, by hand: never in CI).
"""

from __future__ import annotations

import argparse
import datetime
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.config import DEFAULT_THREADS  # noqa: E402
from emulator.testing.sdk import ALICE, v3_request  # noqa: E402

PY = sys.executable
EMULATOR = [PY, "-m", "emulator", "serve", "--clock", "manual", "--log-level", "WARNING"]
BARE = [PY, str(ROOT / "bench" / "bare_app.py")]


# servers run as users run them: with compiled bytecode cached (a sandbox that sets
# PYTHONDONTWRITEBYTECODE would otherwise make every emulator start compile ~150 modules that
# bare Flask, installed with its .pyc files, never compiles); the cache lives outside the tree
BENCH_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
BENCH_ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "dms-bench-pycache")


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
        env=BENCH_ENV,
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def startup(cmd: list[str], health: str, runs: int) -> float:
    return statistics.median(startup_cpu(cmd, health)[0] for _ in range(runs))


def startup_cpu(cmd: list[str], health: str) -> tuple[float, float]:
    """Wall time to the first 200 on health, and the CPU time the server used until then
    (which other load on the machine moves much less than the wall time)."""
    proc, _, took = start(cmd, health)
    try:
        return took, cpu_seconds(proc.pid)
    finally:
        stop(proc)


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


def write_presigned(
    port: int,
    order_id: int,
    n: int,
    path: Path,
    action: str = "GetDataExportOrderDetail",
    query: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> None:
    """`n` requests, each with its own signature and nonce (GetDataExportOrderDetail by default)."""
    if action == "GetDataExportOrderDetail" and query is None and form is None:
        query, form = {"Tid": "3000"}, {"OrderId": str(order_id)}
    with path.open("w") as f:
        for _ in range(n):
            p = v3_request(
                f"127.0.0.1:{port}",
                action,
                query=query,
                form=form,
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
    emu.jobs.wait_idle(300)  # the exports the advance started finish before the store closes
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


def scale(sizes: list[int], samples: int) -> dict[str, float]:
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
    ratios = {
        "scale_detail": big["detail"] / small["detail"],
        "scale_last_page": big["last"] / small["last"],
    }
    for key, label in (
        ("detail", "GetDataExportOrderDetail"),
        ("first", "ListOrders first page"),
        ("last", "ListOrders last page"),
    ):
        print(
            f"  ratio {sizes[-1]:,}/{sizes[0]:,} {label}: {big[key] / small[key]:.2f} (aim <= 1.2)"
        )
    return ratios


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


# --- the figures, their aims, and the regression guard ------------------------------------


@dataclass(frozen=True)
class Metric:
    label: str
    higher_is_better: bool
    aim: float | None = None
    guarded: bool = True  # checked by --check (absolute times and sizes are not: load moves them)


METRICS: dict[str, Metric] = {
    "startup_vs_bare": Metric("start-up to first 200, emulator/bare Flask", False, 1.5),
    "startup_cpu_vs_bare": Metric("CPU time until the first 200, emulator/bare Flask", False),
    "startup_vs_moto": Metric("start-up, moto_server/emulator", True),
    "signed_vs_bare": Metric("signed V3 read req/s, emulator/bare Flask", True, 0.6),
    "signed_vs_bare_listener": Metric(
        "signed V3 read req/s, emulator/bare Flask on the emulator's listener", True
    ),
    "signed_vs_moto": Metric("signed V3 read req/s, emulator/moto_server", True, 5.0),
    "signed_p99_ms": Metric("signed V3 read p99 (ms)", False, None, guarded=False),
    "list_tables_vs_bare": Metric("signed ListTables req/s, emulator/bare Flask", True),
    "table_detail_vs_bare": Metric("signed GetMetaTableDetailInfo req/s, emulator/bare", True),
    "execute_script_vs_bare": Metric(
        "signed ExecuteScript (a 10-row SELECT) req/s, emu/bare", True
    ),
    "data_change_detail_vs_bare": Metric("signed GetDataCorrectOrderDetail req/s, emu/bare", True),
    "workers2_vs_1": Metric("signed read req/s, --workers 2/one worker", True, 1.7),
    "https_vs_http": Metric("signed read req/s on a --tls port, https/http", True, 0.7),
    "export_vs_sqlite3": Metric("1M-row CSV export, sqlite3 CLI time/emulator time", True, 0.4),
    "export_rss_mb": Metric("emulator peak RSS during the export (MB)", False, 100, guarded=False),
    # sequential latencies of two servers started one after the other: not taken side by side,
    # so load moves them too much to guard
    "scale_detail": Metric(
        "GetDataExportOrderDetail latency, big/small state", False, 1.2, guarded=False
    ),
    "scale_last_page": Metric(
        "ListOrders last page latency, big/small state", False, 1.2, guarded=False
    ),
    "durable_vs_memory": Metric("CreateOrder rate, --state FILE/in memory", True, guarded=False),
}
TOLERANCE = 0.2  # --check fails a ratio more than 20% worse than its recorded figure
BASELINE = ROOT / "bench" / "baseline.json"


def regressions(
    figures: dict[str, float], baseline: dict[str, float], tolerance: float = TOLERANCE
) -> list[str]:
    """One line per guarded ratio more than `tolerance` worse than the recorded one (for a
    lower-is-better ratio: above recorded / (1 - tolerance)); figures this run did not take
    are not judged."""
    out = []
    for name, recorded in sorted(baseline.items()):
        metric = METRICS.get(name)
        now = figures.get(name)
        if metric is None or not metric.guarded or now is None or now != now:  # nan: not taken
            continue
        if metric.higher_is_better:
            bad = now < recorded * (1 - tolerance)
        else:
            bad = now > recorded / (1 - tolerance)
        if bad:
            out.append(f"{name}: {now:.2f} against {recorded:.2f} recorded ({metric.label})")
    return out


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores {cpu}, python {sys.version.split()[0]}".strip()


def record_baseline(figures: dict[str, float], path: Path) -> None:
    doc = {
        "recorded": datetime.date.today().isoformat(),
        "machine": machine(),
        "note": "refreshed by hand with `python bench/compare.py --quick --record-baseline`",
        "figures": {k: round(v, 3) for k, v in sorted(figures.items()) if v == v},
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")


# --- the sections ----------------------------------------------------------------------------


class Target:
    """A server measured by wrk in several short rounds (so that two targets' rounds can
    alternate and a change of machine load hits both alike)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, work: Path, rounds: int, seconds: int) -> Target:
        raise NotImplementedError

    def run(self, index: int, seconds: int) -> dict[str, float]:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


class EmuTarget(Target):
    """The emulator started with `extra`; every request pre-signed with its own nonce."""

    def __init__(
        self,
        label: str,
        extra: list[str] | None = None,
        action: str = "GetDataExportOrderDetail",
        query: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        scheme: str = "http",
        setup: Callable[[int], dict[str, str]] | None = None,
    ) -> None:
        super().__init__(label)
        self.extra, self.action, self.query, self.form = extra or [], action, query, form
        self.scheme = scheme
        self.setup = setup  # run on the started server: query parameters it adds (an order id)
        self.files: list[Path] = []

    def start(self, work: Path, rounds: int, seconds: int) -> Target:
        self.proc, self.port, _ = start([*EMULATOR, *self.extra], "/_emulator/health")
        order_id = 0
        if self.action == "GetDataExportOrderDetail":
            order_id = signed(
                self.port,
                "CreateOrder",
                query={"PluginType": "DATA_EXPORT", "Comment": "b"},
                form={"PluginParam": json.dumps({"dbId": 17001, "exeSQL": "select 1"})},
            ).json()["CreateOrderResult"]["OrderIds"][0]
        if self.setup is not None:
            self.query = {**(self.query or {}), **self.setup(self.port)}
        for i in range(rounds):
            path = work / f"requests-{id(self)}-{i}.txt"
            n = 12_000 * seconds + 2_000  # more than a round can send: no nonce is replayed
            write_presigned(self.port, order_id, n, path, self.action, self.query, self.form)
            self.files.append(path)
        return self

    def run(self, index: int, seconds: int) -> dict[str, float]:
        script = [str(ROOT / "bench" / "presigned.lua"), str(self.files[index]), "2"]
        return wrk(f"{self.scheme}://127.0.0.1:{self.port}", seconds, script)


class Bare(Target):
    def __init__(self, label: str, args: list[str] | None = None):
        super().__init__(label)
        self.args = args or []

    def start(self, work: Path, rounds: int, seconds: int) -> Target:
        self.proc, self.port, _ = start([*BARE, *self.args], "/_emulator/health")
        return self

    def run(self, index: int, seconds: int) -> dict[str, float]:
        return wrk(f"http://127.0.0.1:{self.port}/", seconds)


class Moto(Target):
    def start(self, work: Path, rounds: int, seconds: int) -> Target:
        self.port = free_port()
        self.proc, _, _ = start(["moto_server"], "/moto-api/", self.port)
        create_moto_table(self.port)
        return self

    def run(self, index: int, seconds: int) -> dict[str, float]:
        return wrk(
            f"http://127.0.0.1:{self.port}/", seconds, [str(ROOT / "bench" / "moto_describe.lua")]
        )


SETTLE = 0.3  # seconds between two servers' turns


def rounds_of(
    targets: list[Target], work: Path, rounds: int, seconds: int
) -> dict[str, list[dict[str, float]]]:
    """Each target's results, round by round, the targets taking turns within each round."""
    for t in targets:
        t.start(work, rounds, seconds)
    try:
        out: dict[str, list[dict[str, float]]] = {t.label: [] for t in targets}
        for i in range(rounds):
            for t in targets:
                time.sleep(SETTLE)  # the last server's closing connections are not measured
                out[t.label].append(t.run(i, seconds))
        return out
    finally:
        for t in targets:
            t.stop()


def paired(results: dict[str, list[dict[str, float]]], a: str, b: str) -> float:
    """The median over rounds of a's req/s over b's in the same round; refused when a round
    had non-2xx answers (a replayed nonce is refused faster than a read is served)."""
    for label in (a, b):
        refused = sum(r["non2xx"] for r in results[label])
        if refused:
            raise RuntimeError(f"{label}: {refused} non-2xx answers; its rate is not a figure")
    return statistics.median(
        x["rps"] / y["rps"] for x, y in zip(results[a], results[b], strict=True)
    )


def show(label: str, runs: list[dict[str, float]]) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(
        f"  {label}: {med('rps'):.0f} req/s, p50 {med('p50'):.2f} ms, p99 {med('p99'):.2f} ms, "
        f"non-2xx {sum(r['non2xx'] for r in runs)} of {sum(r['total'] for r in runs)} "
        f"(median of {len(runs)} rounds)"
    )


def run_startup(figures: dict[str, float], runs: int, have_moto: bool) -> None:
    """Median start-up of each server, the servers taking turns (load hits all alike)."""
    print(f"start-up, process start to first 200 on health (median of {runs}):")
    cmds = {"emu": (EMULATOR, "/_emulator/health"), "bare": (BARE, "/_emulator/health")}
    if have_moto:
        cmds["moto"] = (["moto_server"], "/moto-api/")
    times: dict[str, list[float]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    for cmd, health in cmds.values():
        startup(cmd, health, 1)  # a first start fills the bytecode cache
    for _ in range(runs):
        for name, (cmd, health) in cmds.items():
            wall, used = startup_cpu(cmd, health)
            times[name].append(wall)
            cpu[name].append(used)
    emu_s, bare_s = statistics.median(times["emu"]), statistics.median(times["bare"])
    figures["startup_vs_bare"] = statistics.median(
        e / b for e, b in zip(times["emu"], times["bare"], strict=True)
    )
    figures["startup_cpu_vs_bare"] = statistics.median(cpu["emu"]) / statistics.median(cpu["bare"])
    line = (
        f"  emulator {emu_s * 1000:.0f} ms, bare flask {bare_s * 1000:.0f} ms "
        f"(ratio {figures['startup_vs_bare']:.2f}, aim <= 1.5); CPU used until then: emulator "
        f"{statistics.median(cpu['emu']) * 1000:.0f} ms, bare "
        f"{statistics.median(cpu['bare']) * 1000:.0f} ms (ratio "
        f"{figures['startup_cpu_vs_bare']:.2f})"
    )
    if have_moto:
        moto_s = statistics.median(times["moto"])
        figures["startup_vs_moto"] = moto_s / emu_s
        line += f", moto_server {moto_s * 1000:.0f} ms (emulator is {moto_s / emu_s:.1f}x faster)"
    print(line)


def run_throughput(
    figures: dict[str, float],
    rounds: int,
    seconds: int,
    work: Path,
    have_moto: bool,
    sections: set[str],
) -> None:
    print(
        f"throughput, wrk 2 threads x 16 keep-alive connections, {rounds} rounds of {seconds} s, "
        "the servers taking turns in each round:"
    )
    targets: list[Target] = [
        EmuTarget("emu"),
        Bare("bare"),
        Bare("bare_listener", ["--server", "listener", "--threads", str(DEFAULT_THREADS)]),
    ]
    if "workers" in sections:  # next to the one-process run it is paired with
        targets.insert(1, EmuTarget("workers2", ["--workers", "2"]))
    if have_moto:
        targets.append(Moto("moto"))
    if "metadata" in sections:
        targets.append(
            EmuTarget(
                "ListTables", None, "ListTables", {"DatabaseId": "17001", "PageSize": "10"}, {}
            )
        )
        targets.append(
            EmuTarget(
                "GetMetaTableDetailInfo",
                None,
                "GetMetaTableDetailInfo",
                {"TableGuid": "IDB_17001.shop.orders"},
                {},
            )
        )
    if "console" in sections:
        targets.append(
            EmuTarget(
                "ExecuteScript",
                None,
                "ExecuteScript",
                {"DbId": "17001", "Script": "SELECT id, name FROM customers WHERE id <= 10"},
                {},
            )
        )
    if "datachange" in sections:
        targets.append(
            EmuTarget(
                "GetDataCorrectOrderDetail",
                None,
                "GetDataCorrectOrderDetail",
                {},
                {},
                setup=data_change_ticket,
            )
        )
    r = rounds_of(targets, work, rounds, seconds)
    show("emulator (signed V3 GetDataExportOrderDetail)", r["emu"])
    show("bare flask constant JSON", r["bare"])
    figures["signed_vs_bare"] = paired(r, "emu", "bare")
    figures["signed_p99_ms"] = statistics.median(x["p99"] for x in r["emu"])
    print(f"  ratio emulator/bare: {figures['signed_vs_bare']:.2f} (aim >= 0.6)")
    show("bare flask constant JSON on the emulator's listener", r["bare_listener"])
    figures["signed_vs_bare_listener"] = paired(r, "emu", "bare_listener")
    print(
        "  ratio emulator/bare on the emulator's listener: "
        f"{figures['signed_vs_bare_listener']:.2f} (the same server to the letter)"
    )
    if have_moto:
        show("moto_server (DynamoDB DescribeTable, a comparable read)", r["moto"])
        figures["signed_vs_moto"] = paired(r, "emu", "moto")
        print(f"  ratio emulator/moto: {figures['signed_vs_moto']:.1f} (aim >= 5)")
    for name, label in (
        ("list_tables_vs_bare", "ListTables"),
        ("table_detail_vs_bare", "GetMetaTableDetailInfo"),
        ("execute_script_vs_bare", "ExecuteScript"),
        ("data_change_detail_vs_bare", "GetDataCorrectOrderDetail"),
    ):
        if label in r:
            show(f"emulator (signed {label})", r[label])
            figures[name] = paired(r, label, "bare")
            print(f"  ratio {label}/bare: {figures[name]:.2f}")
    if "workers2" in r:
        show("emulator --workers 2 (signed V3 GetDataExportOrderDetail)", r["workers2"])
        figures["workers2_vs_1"] = paired(r, "workers2", "emu")
        print(f"  ratio --workers 2/one worker: {figures['workers2_vs_1']:.2f} (aim >= 1.7)")


def data_change_ticket(port: int) -> dict[str, str]:
    """A data-change ticket (one UPDATE on the shop database) to read back."""
    param = {
        "DbItemList": [{"DbId": 17001}],
        "SqlType": "TEXT",
        "ExecSQL": "UPDATE customers SET name = name WHERE id = 1",
        "EstimateAffectRows": 1,
    }
    r = signed(port, "CreateDataCorrectOrder", {"Comment": "bench"}, {"Param": json.dumps(param)})
    return {"OrderId": str(r.json()["CreateOrderResult"][0])}


def run_https(figures: dict[str, float], rounds: int, seconds: int, work: Path) -> None:
    print(f"https: signed V3 reads on --tls ports, {rounds} rounds of {seconds} s:")
    r = rounds_of(
        [EmuTarget("https", ["--tls"], scheme="https"), EmuTarget("http", ["--tls"])],
        work,
        rounds,
        seconds,
    )
    show("https on a --tls port", r["https"])
    show("http on a --tls port", r["http"])
    figures["https_vs_http"] = paired(r, "https", "http")
    print(f"  ratio https/http: {figures['https_vs_http']:.2f} (aim >= 0.7)")


def run_export(figures: dict[str, float], rows: int) -> None:
    out = subprocess.run(
        [PY, str(ROOT / "bench" / "export.py"), "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    print(f"export of {rows:,} rows:")
    for line in out.splitlines():
        print(f"  {line}")
    ratio = re.search(r"ratio cli/emulator[^:]*: ([\d.]+)", out)
    rss = re.search(r"emulator peak RSS: ([\d.]+) MB", out)
    if ratio:
        figures["export_vs_sqlite3"] = float(ratio.group(1))
    if rss:
        figures["export_rss_mb"] = float(rss.group(1))


SECTIONS = (
    "startup",
    "throughput",
    "metadata",
    "console",
    "datachange",
    "workers",
    "https",
    "export",
    "scale",
    "durability",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--quick", action="store_true", help="fewer runs and a 10,000-ticket scale test"
    )
    parser.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    parser.add_argument("--check", action="store_true", help="exit 1 on a ratio >20%% worse")
    parser.add_argument(
        "--record-baseline", action="store_true", help="write this run's ratios as the baseline"
    )
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument(
        "--figures", type=Path, help="judge these figures (JSON) instead of measuring"
    )
    parser.add_argument("--save-figures", type=Path, help="write this run's figures as JSON")
    args = parser.parse_args(argv)
    figures: dict[str, float] = {}
    if args.figures:
        figures = json.loads(args.figures.read_text())
    else:
        measure(figures, args.quick, set(args.only.split(",")) if args.only else set(SECTIONS))
    if args.save_figures:
        args.save_figures.write_text(json.dumps(figures, indent=1) + "\n")
    if args.record_baseline:
        record_baseline(figures, args.baseline)
        print(f"baseline written: {args.baseline}")
    if args.check:
        recorded = json.loads(args.baseline.read_text())["figures"]
        bad = regressions(figures, recorded)
        for line in bad:
            print(f"REGRESSION {line}")
        judged = [k for k in recorded if k in figures and METRICS.get(k, Metric("", True)).guarded]
        print(f"check: {len(judged) - len(bad)} of {len(judged)} ratios within {TOLERANCE:.0%}")
        return 1 if bad else 0
    return 0


def measure(figures: dict[str, float], quick: bool, sections: set[str]) -> None:
    runs, rounds, seconds = (5, 3, 2) if quick else (9, 5, 4)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    have_moto = shutil.which("moto_server") is not None
    have_wrk = shutil.which("wrk") is not None
    if "startup" in sections:
        run_startup(figures, runs, have_moto)
    work = Path(tempfile.mkdtemp(prefix="dms-wrk-"))
    try:
        if have_wrk and sections & {"throughput", "metadata", "console", "datachange", "workers"}:
            run_throughput(figures, rounds, seconds, work, have_moto, sections)
        if have_wrk and "https" in sections:
            run_https(figures, rounds, seconds, work)
        if not have_wrk:
            print("throughput: wrk not installed (apt-get install wrk); see bench/run.py")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if "export" in sections:
        run_export(figures, 1_000_000)
    if "scale" in sections:
        sizes = [100, 10_000] if quick else [100, 100_000]
        print("scale (median of sequential signed calls):")
        figures.update(scale(sizes, 50 if quick else 200))
    if "durability" in sections:
        n = 400 if quick else 1200
        with tempfile.TemporaryDirectory() as tmp:
            durable = create_rate(["--state", str(Path(tmp) / "s.sqlite")], n)
        memory = create_rate([], n)
        figures["durable_vs_memory"] = durable / memory
        print(
            f"durability cost, CreateOrder with 8 client threads: --state FILE {durable:.0f}/s, "
            f"in memory {memory:.0f}/s (ratio {durable / memory:.2f})"
        )
    print("ratios (aim):")
    for name, value in figures.items():
        m = METRICS[name]
        aim = "" if m.aim is None else f" (aim {'>=' if m.higher_is_better else '<='} {m.aim:g})"
        print(f"  {name:<22} {value:8.2f}{aim}  {m.label}")


if __name__ == "__main__":
    sys.exit(main())
