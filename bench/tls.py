"""Signed throughput over HTTPS (`--tls`) next to plain HTTP on the same port, same run.

  python bench/tls.py [--seconds 4]      (needs `wrk`)

Plain HTTP to a `--tls` emulator goes through the TLS front too (it serves both), so the two
figures show what the front costs; `bench/compare.py` measures the plain server without it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import EMULATOR, signed, start, stop, write_presigned, wrk  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not installed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="dms-wrk-tls-"))
    proc, port, took = start([*EMULATOR, "--tls"], "/_emulator/health")
    try:
        order_id = signed(
            port,
            "CreateOrder",
            query={"PluginType": "DATA_EXPORT", "Comment": "b"},
            form={"PluginParam": json.dumps({"dbId": 17001, "exeSQL": "select 1"})},
        ).json()["CreateOrderResult"]["OrderIds"][0]
        script = [str(ROOT / "bench" / "presigned.lua")]
        print(f"--tls start-up to first 200: {took * 1000:.0f} ms")
        print(f"wrk 2 threads x 16 keep-alive connections, {args.seconds} s each, signed V3:")
        for scheme in ("https", "http"):
            requests_file = work / f"requests-{scheme}.txt"
            write_presigned(port, order_id, 25_000 * args.seconds // 8 + 5_000, requests_file)
            r = wrk(
                f"{scheme}://127.0.0.1:{port}", args.seconds, [*script, str(requests_file), "2"]
            )
            print(
                f"  {scheme:5} on the --tls port: {r['rps']:.0f} req/s, p50 {r['p50']:.2f} ms, "
                f"p99 {r['p99']:.2f} ms, non-2xx {r['non2xx']} of {r['total']}"
            )
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
