"""Raw-wire fuzzing: hypothesis draws bytes for every parameter of every registered action,
sends them percent-encoded (or raw) in a V3-signed form body or query (now and then with a
header of random bytes), and asserts that the
emulator never answers 5xx and that a refused request changes nothing (GET /_emulator/state is
the same before and after).

Parameter names come from the official SDKs' request models (the oracle for what each action
takes); the actions from the emulator's own registry, so a newly registered action is fuzzed
without editing this file. Budget: FUZZ_EXAMPLES per action (default 12, ~40 requests/s).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import os
import re
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import DAVE, DMS_VERSION, SAS_VERSION, v3_request

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
FORM = "application/x-www-form-urlencoded"
SDK_MODELS = {
    DMS_VERSION: "alibabacloud_dms_enterprise20181101.models",
    SAS_VERSION: "alibabacloud_sas20181203.models",
}


def registered_actions() -> list[tuple[str, str]]:
    """(version, action) for everything the emulator registers."""
    from emulator.app import create_app
    from emulator.config import Settings
    from emulator.gateway.registry import DMS, SAS

    app = create_app(Settings(clock="manual"))
    try:
        registry = app.extensions["dms_gateway"].registry
        return [(p.version, a) for p in (DMS, SAS) for a in registry.actions(p)]
    finally:
        app.extensions["dms_emulator"].close()


def sdk_parameters(version: str, action: str) -> list[str]:
    """The wire names the official SDK's request model writes for `action`."""
    models = importlib.import_module(SDK_MODELS[version])
    request = getattr(models, f"{action}Request", None)
    if request is None:
        return ["Tid", "OrderId", "PageSize", "PageNumber"]
    return sorted(set(re.findall(r"result\['(\w+)'\]", inspect.getsource(request.to_map))))


ACTIONS = registered_actions()

# values that broke, or nearly broke, a parser once (probes r06, r09, r15)
NASTY = [
    b"--1",
    b"-",
    b"+1",
    b"1-",
    b"99999999999999999999999",
    b"",
    b" ",
    b"\n",
    b"\x00",
    b"\xff\xfe",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"%",
    b"%FF",
    b"NaN",
    b"1e999",
    b"null",
    b"true",
    b"[]",
    b"{}",
    b"[5]",
    b'"\\udcff"',
    b'{"a":' * 600 + b"1" + b"}" * 600,
    b"[" * 5000,
    b"2024-02-30 00:00:00",
    b"0000-01-01 00:00:00",
    b"2024-01-01 00:00:00\n",
    b'{"ColumnName":"id","Operator":"IN","InList":5}',
    b'{"dbId":27001,"exeSQL":"select 1"}',
    b'{"DbId":"27001","JobStartTime":"2024-01-01 00:00:00","JobEndTime":"9999-01-01 00:00:00",'
    b'"TableNames":["employees","employees"],"TrackTypes":["INSERT"]}',
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=12,
).map(lambda v: json.dumps(v).encode())
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.binary(max_size=40),
    st.text(max_size=30).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(-(2**70), 2**70).map(lambda i: str(i).encode()),
    JSON,
)


@st.composite
def wire_params(draw: st.DrawFn, names: list[str]) -> list[tuple[bytes, bytes, bool]]:
    """(name, value, percent-encode?) for a random subset of the action's parameters, plus now
    and then a name of its own."""
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    pairs = [(n.encode(), draw(VALUES), draw(st.booleans() | st.just(True))) for n in chosen]
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(st.binary(min_size=1, max_size=8)), draw(VALUES), True))
    return pairs


def encode(pairs: list[tuple[bytes, bytes, bool]]) -> bytes:
    return b"&".join(
        (quote_from_bytes(k, safe="") if pct else k.decode("latin-1")).encode("latin-1")
        + b"="
        + (quote_from_bytes(v, safe="") if pct else v.decode("latin-1")).encode("latin-1")
        for k, v, pct in pairs
    )


# field-value bytes HTTP allows (VCHAR, SP, HTAB, obs-text): control characters are refused by
# the listener itself, before the gateway, as malformed HTTP
_FIELD_BYTES = [b for b in range(256) if b == 9 or 32 <= b <= 126 or b >= 128]
HEADER_VALUES = st.lists(st.sampled_from(_FIELD_BYTES), min_size=1, max_size=24).map(
    lambda b: bytes(b).strip() or b"x"
)


def signed(
    endpoint: str,
    version: str,
    action: str,
    pairs: list[tuple[bytes, bytes, bool]],
    in_query: bool,
    header: bytes | None = None,
) -> requests.Response:
    """V3-signed by the SDK's own functions. A form body is bound by its hash, whatever its
    bytes; query values are signed as the text they decode to (U+FFFD for invalid bytes, which
    the emulator must refuse rather than verify)."""
    extra = {"x-acs-fuzz": header.decode("latin-1")} if header else {}
    if not in_query:
        body = encode(pairs)
        req = v3_request(
            endpoint,
            action,
            key=DAVE,
            version=version,
            extra_headers={"content-type": FORM, **extra},
            signed_body=body,
        )
        if header:  # the bytes themselves go on the wire, not their latin-1 re-encoding
            headers: dict[str, Any] = {**req.headers, "x-acs-fuzz": header}
            return requests.post(req.url, headers=headers, data=body, timeout=30)
        return dataclasses.replace(req, body=body).send()
    text = {
        k.decode("utf-8", "replace"): v.decode("utf-8", "replace")
        for k, v, _ in pairs
        if b"&" not in k + v and b"=" not in k
    }
    req = v3_request(endpoint, action, query=text, key=DAVE, version=version)
    raw = "&".join(
        quote_from_bytes(k, safe="") + "=" + quote_from_bytes(v, safe="")
        for k, v, _ in pairs
        if b"&" not in k + v and b"=" not in k
    )
    url = req.url.split("?")[0] + (f"?{raw}" if raw else "")
    return requests.post(url, headers=req.headers, data=b"", timeout=30)


@pytest.fixture(scope="module")
def fuzz_target() -> Any:
    with EmulatorProcess("--clock", "manual", "--seed", "3") as proc:
        yield proc


def tables(control: Control) -> Any:
    return control.get("/state")["tables"]


@pytest.mark.parametrize(("version", "action"), ACTIONS, ids=[a for _, a in ACTIONS])
def test_no_input_gives_a_5xx_or_changes_state_when_refused(
    fuzz_target: EmulatorProcess, version: str, action: str
) -> None:
    control = Control(fuzz_target.url)
    control.reset()
    names = sdk_parameters(version, action)
    endpoint = fuzz_target.endpoint

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        pairs=wire_params(names),
        in_query=st.integers(0, 3).map(lambda i: i == 0),
        header=st.none() | st.none() | st.none() | HEADER_VALUES,
    )
    def check(pairs: list[tuple[bytes, bytes, bool]], in_query: bool, header: bytes | None) -> None:
        before = tables(control)
        r = signed(endpoint, version, action, pairs, in_query, header)
        assert r.status_code < 500, (action, pairs, r.status_code, r.text[:300])
        doc = r.json() if "json" in r.headers.get("Content-Type", "") else {}
        refused = r.status_code >= 400 or doc.get("Success") is False
        if refused:
            assert {"Code", "Message", "RequestId"} <= set(doc) or doc.get("ErrorCode"), r.text
            assert tables(control) == before, f"{action} refused ({doc}) but changed state"
        else:
            control.reset()  # a success may start work; the next example starts clean

    check()


def test_the_fuzzer_reaches_handlers(fuzz_target: EmulatorProcess) -> None:
    """The wire and signature are right: a plain request built the same way succeeds, and one
    with an invalid byte in the query is refused, not verified as replacement text."""
    control = Control(fuzz_target.url)
    control.reset()
    ok = signed(fuzz_target.endpoint, DMS_VERSION, "ListOrders", [(b"PageSize", b"5", True)], False)
    assert ok.status_code == 200 and ok.json()["Success"] is True, ok.text
    ok = signed(fuzz_target.endpoint, DMS_VERSION, "ListOrders", [(b"PageSize", b"5", True)], True)
    assert ok.status_code == 200, ok.text
    bad = signed(
        fuzz_target.endpoint, DMS_VERSION, "ListOrders", [(b"SearchContent", b"\xff", True)], True
    )
    assert bad.status_code == 400 and bad.json()["Code"] == "InvalidSearchContent", bad.text
