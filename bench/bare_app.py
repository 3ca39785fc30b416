"""Baseline: a bare Flask app returning a constant JSON body, on the emulator's own listener
(`--server listener`: waitress as the emulator configures and changes it, in a process tuned as
the emulator's: the same GIL switch interval, start-up objects frozen) or on stock waitress
(`--server waitress`, the baseline of the first figures)."""

from __future__ import annotations

import argparse

from flask import Flask, Response
from waitress import create_server

app = Flask("bare")
BODY = b'{"RequestId": "00000000-0000-0000-0000-000000000000", "Success": true}'


@app.route("/", methods=["GET", "POST"])
def root() -> Response:
    return Response(BODY, content_type="application/json")


@app.route("/_emulator/health")
def health() -> Response:
    return Response(b'{"status": "ok"}', content_type="application/json")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--server", choices=["waitress", "listener"], default="waitress")
    args = parser.parse_args()
    if args.server == "listener":
        import gc
        import sys

        from emulator.serving.listener import Server

        sys.setswitchinterval(0.002)  # as `dms-emulator serve` runs (emulator/cli/main.py)
        gc.freeze()
        Server(app, "127.0.0.1", args.port, threads=args.threads).serve_forever()
    else:
        server = create_server(app, host="127.0.0.1", port=args.port, threads=args.threads)
        print(f"bare listening on http://127.0.0.1:{server.effective_port}", flush=True)
        server.run()
