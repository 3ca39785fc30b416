"""CLI conveniences beside `serve`: load faults into a running emulator, tail its journal, and
explain a signature step by step (to debug your own signing code)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import time
from urllib.parse import parse_qsl, urlsplit

DEFAULT_URL = os.environ.get("DMS_EMULATOR_URL", "http://127.0.0.1:8787")
TOKEN_HELP = "the emulator's --control-token (default: env DMS_EMULATOR_CONTROL_TOKEN)"


def add_parsers(sub: argparse._SubParsersAction, options: bool = True) -> None:  # type: ignore[type-arg]
    """The tools' commands; without `options` only their names and help (another command runs)."""
    faults = sub.add_parser("faults", help="manage fault rules of a running emulator")
    journal = sub.add_parser("journal", help="print the request journal of a running emulator")
    sign = sub.add_parser("sign", help="sign a request and explain every step (V3 by default)")
    if not options:
        return
    faults.add_argument("op", choices=("load", "list", "clear"))
    faults.add_argument("file", nargs="?", help="scenario file (load), or a shipped scenario name")
    faults.add_argument("--url", default=DEFAULT_URL)
    faults.add_argument("--token", default=None, help=TOKEN_HELP)

    journal.add_argument("--url", default=DEFAULT_URL)
    journal.add_argument("--token", default=None, help=TOKEN_HELP)
    journal.add_argument("--follow", "-f", action="store_true", help="keep printing new requests")
    journal.add_argument("--limit", type=int, default=20)
    journal.add_argument("--action")
    journal.add_argument("--code")
    journal.add_argument("--tid", type=int)
    journal.add_argument("--json", action="store_true", help="one JSON object per line")

    sign.add_argument(
        "--explain", action="store_true", help="print canonical request and string to sign"
    )
    sign.add_argument("--access-key-id", default="LTAI5tDemoAlice00000001")
    sign.add_argument("--access-key-secret", default="DemoAliceSecret0000000000000001")
    sign.add_argument("--method", default="POST")
    sign.add_argument("--url", default=DEFAULT_URL + "/")
    sign.add_argument(
        "--header", "-H", action="append", default=[], help="'name: value' (repeatable)"
    )
    sign.add_argument("--body", default="", help="the exact body (form-encoded)")
    sign.add_argument("--v1", action="store_true", help="V1 HMAC-SHA1 over query + body parameters")


def run(args: argparse.Namespace) -> int:
    if args.command == "faults":
        return _faults(args)
    if args.command == "journal":
        return _journal(args)
    return _sign(args)


def _client(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from emulator.admin.client import EmulatorClient

    return EmulatorClient(args.url, token=args.token)


def _faults(args: argparse.Namespace) -> int:
    from emulator.admin.client import ControlError

    client = _client(args)
    try:
        if args.op == "load":
            if not args.file:
                print(
                    "dms-emulator: error: faults load needs a FILE or a shipped scenario name",
                    file=sys.stderr,
                )
                return 2
            from emulator.faults.scenarios import ScenarioError, read_scenario

            if os.path.exists(args.file):
                try:
                    doc = read_scenario(args.file, any_name=True)
                except ScenarioError as exc:
                    print(f"dms-emulator: error: {exc}", file=sys.stderr)
                    return 2
                ids = client.load_scenario(scenario=doc)
            else:
                ids = client.load_scenario(args.file)
            print(f"loaded {len(ids)} rule(s): {', '.join(ids)}")
        elif args.op == "list":
            for rule in client.faults():
                print(json.dumps(rule, ensure_ascii=False))
        else:
            client.clear_faults()
            print("all fault rules removed")
    except ControlError as exc:
        print(f"dms-emulator: error: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"dms-emulator: error: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 2
    return 0


def _line(e: dict) -> str:  # type: ignore[type-arg]
    fault = f" fault={e['fault']['rule']}" if e.get("fault") else ""
    line = (
        f"{e.get('time', '')} {e.get('product') or '-'} {e.get('action') or '-'} tid={e.get('tid')} "
        f"status={e.get('http_status')} code={e.get('code') or '-'} latency_ms={e.get('latency_ms')} "
        f"request_id={e.get('request_id')}{fault}"
    )
    if e.get("string_to_sign"):
        line += "\n  server string to sign: " + e["string_to_sign"].replace("\n", "\\n")
    return line


def _journal(args: argparse.Namespace) -> int:
    from emulator.admin.client import ControlError

    client = _client(args)
    last = 0
    if args.follow:
        # Ctrl-C (SIGINT) ends --follow even when it was started from a script's background job,
        # which inherits SIGINT ignored (Python then installs no handler of its own)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while True:
            entries = client.requests(
                action=args.action, code=args.code, tid=args.tid, limit=None if last else args.limit
            )
            for e in entries:
                if e["seq"] > last:
                    print(json.dumps(e, ensure_ascii=False) if args.json else _line(e), flush=True)
                    last = e["seq"]
            if not args.follow:
                return 0
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    except ControlError as exc:
        print(f"dms-emulator: error: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"dms-emulator: error: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 2


def _sign(args: argparse.Namespace) -> int:
    from emulator.gateway import signing

    parts = urlsplit(args.url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    headers: dict[str, str] = {}
    for h in args.header:
        name, sep, value = h.partition(":")
        if not sep:
            print(f"dms-emulator: error: --header {h!r} is not 'name: value'", file=sys.stderr)
            return 2
        headers[name.strip().lower()] = value.strip()
    body = args.body.encode()
    if args.v1:
        params = query + parse_qsl(args.body, keep_blank_values=True)
        canonical = signing.v1_canonical_query(params)
        sts = signing.v1_string_to_sign(args.method, params)
        signature = signing.v1_signature(args.access_key_secret, sts)
        if args.explain:
            print(f"canonical query string:\n{canonical}\n")
            print(f"string to sign:\n{sts}\n")
            print("key: AccessKeySecret + '&'\n")
        print(f"Signature={signature}")
        return 0
    headers.setdefault("host", parts.netloc)
    headers.setdefault("x-acs-content-sha256", hashlib.sha256(body).hexdigest())
    _fresh_headers(headers)
    signed = sorted(h for h in headers if h != "authorization")
    canonical = signing.v3_canonical_request(
        args.method, parts.path or "/", query, headers, signed, signing.sha256_hex(body)
    )
    sts = signing.v3_string_to_sign(canonical)
    signature = signing.v3_signature(args.access_key_secret, sts)
    if args.explain:
        print(f"canonical request:\n{canonical}\n")
        print(f"string to sign:\n{sts}\n")
        print(f"signature (hex HMAC-SHA256 with the AccessKeySecret):\n{signature}\n")
    authorization = signing.v3_authorization(args.access_key_id, signed, signature)
    print("Authorization: " + authorization)
    if args.explain:
        _print_request(args.method, args.url, {**headers, "authorization": authorization}, body)
    return 0


def _fresh_headers(headers: dict[str, str]) -> None:
    """A request without a date and a nonce is refused: supply fresh ones (serving's addition)."""
    import uuid

    from emulator.core.clock import utc_second

    headers.setdefault("x-acs-date", utc_second(time.time()))
    headers.setdefault("x-acs-signature-nonce", uuid.uuid4().hex)


def _print_request(method: str, url: str, headers: dict[str, str], body: bytes) -> None:
    """Every header to send and a ready curl command (valid until the date goes stale)."""
    import shlex

    print("\nheaders to send:")
    for name, value in headers.items():
        print(f"{name}: {value}")
    cmd = ["curl", "-sS", "-X", method, url]
    if url.startswith("https://"):
        from emulator.serving.tls import CA_FILE, cache_dir

        cmd += ["--cacert", str(cache_dir() / CA_FILE)]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    if body:
        cmd += ["--data-binary", body.decode("utf-8", "replace")]
    print("\ncurl command:\n" + " ".join(shlex.quote(c) for c in cmd))
