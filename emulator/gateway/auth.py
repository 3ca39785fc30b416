"""Authentication: who signed this call, checked the way the Alibaba Cloud gateway checks it.

Order: scheme and completeness -> timestamp format -> access key -> timestamp skew ->
signature (constant time) -> nonce (recorded only for a verified request, so nobody can burn
another caller's nonces with garbage). Freshness uses wall time, never the emulated clock.
"""

from __future__ import annotations

import calendar

from emulator.gateway import errors, signing
from emulator.gateway.call import Call
from emulator.gateway.nonces import Nonces
from emulator.platform.accounts import Accounts, User

SKEW_SECONDS = 15 * 60
# headers a V3 request must sign when it sends them: unsigned, they could be altered in flight
MUST_SIGN = (
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "x-acs-security-token",
    "x-acs-accesskey-id",
)


def parse_timestamp(value: str) -> float:
    """`YYYY-MM-DDThh:mm:ssZ`, with or without milliseconds; raises InvalidTimeStamp.Format."""
    v = value
    try:
        if (
            len(v) >= 20
            and v[4] == "-"
            and v[7] == "-"
            and v[10] == "T"
            and v[13] == ":"
            and v[16] == ":"
            and v[-1] == "Z"
            and (len(v) == 20 or (v[19] == "." and v[20:-1].isdigit()))
        ):
            whole = calendar.timegm(
                (
                    int(v[0:4]),
                    int(v[5:7]),
                    int(v[8:10]),
                    int(v[11:13]),
                    int(v[14:16]),
                    int(v[17:19]),
                    0,
                    0,
                    0,
                )
            )
            frac = float("0." + v[20:-1]) if len(v) > 20 else 0.0
            if (
                1 <= int(v[5:7]) <= 12
                and 1 <= int(v[8:10]) <= 31
                and int(v[11:13]) < 24
                and int(v[14:16]) < 60
                and int(v[17:19]) < 61
            ):
                return whole + frac
    except ValueError:
        pass
    raise errors.timestamp_format(value)


def _check_skew(ts: float, now: float) -> None:
    if abs(now - ts) > SKEW_SECONDS:
        raise errors.timestamp_expired()


def _lookup(accounts: Accounts, access_key_id: str) -> User:
    user = accounts.by_access_key.get(access_key_id)
    if user is None:
        raise errors.access_key_not_found()
    return user


def authenticate(call: Call, accounts: Accounts, nonces: Nonces, now: float) -> User:
    authorization = call.header("authorization") or ""
    if authorization.startswith("ACS3-"):
        return _authenticate_v3(call, authorization, accounts, nonces, now)
    if any(k == "Signature" for k, _ in call.query_pairs + call.form_pairs):
        return _authenticate_v1(call, accounts, nonces, now)
    if call.header("x-acs-bearer-token") or call.params.get("BearerToken"):
        raise errors.signature_method(
            "BEARERTOKEN (bearer tokens are not supported by the emulator)"
        )
    if authorization:
        raise errors.signature_method(authorization.split(" ", 1)[0])
    raise errors.incomplete_signature(
        "The request carries neither an Authorization header (V3) nor a Signature parameter (V1). "
        "(The emulator's web console is at /_emulator/ui.)"
    )


def _authenticate_v3(
    call: Call,
    authorization: str,
    accounts: Accounts,
    nonces: Nonces,
    now: float,
) -> User:
    call.scheme = "v3"
    parts = signing.parse_v3_authorization(authorization)
    if parts is None:
        raise errors.incomplete_signature("The Authorization header is malformed.")
    if parts["Algorithm"] != signing.V3_ALGORITHM:
        raise errors.signature_method(parts["Algorithm"])
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not parts.get(name):
            raise errors.incomplete_signature(f"The Authorization header has no {name}.")
    call.access_key_id = parts["Credential"]
    signed = [h.strip().lower() for h in parts["SignedHeaders"].split(";") if h.strip()]
    headers = call.headers  # lower-cased names (gateway.parse)
    for name in ("x-acs-date", "x-acs-signature-nonce"):
        if not headers.get(name):
            raise errors.incomplete_signature(f"The header {name} is required.")
    unsigned = [name for name in MUST_SIGN if name in headers and name not in signed]
    if unsigned:
        raise errors.incomplete_signature(
            f"The header {unsigned[0]} must be listed in SignedHeaders."
        )
    ts = parse_timestamp(headers.get("x-acs-date") or "")
    user = _lookup(accounts, parts["Credential"])
    sts_ak = headers.get("x-acs-accesskey-id")
    if sts_ak is not None and sts_ak != parts["Credential"]:
        raise errors.invalid("AccessKeyId", "x-acs-accesskey-id differs from the Credential.")
    if headers.get("x-acs-security-token") == "":
        raise errors.invalid("SecurityToken", "The security token is empty.")
    _check_skew(ts, now)

    body_hash = signing.sha256_hex(call.body)
    claimed_hash = call.header("x-acs-content-sha256")
    hash_ok = claimed_hash is None or signing.constant_time_equal(claimed_hash.lower(), body_hash)
    # the documented recipe first; tea-openapi's (names not encoded) when a name needs encoding
    variants = [True] + (
        [False] if any(signing.needs_encoding(k) for k, _ in call.query_pairs) else []
    )
    matched = False
    for encode_keys in variants:
        canonical = signing.v3_canonical_request(
            call.method,
            call.path,
            call.query_pairs,
            headers,
            signed,
            body_hash,
            encode_keys,
            lowered=True,
        )
        string_to_sign = signing.v3_string_to_sign(canonical)
        if encode_keys:
            call.canonical_request, call.string_to_sign = canonical, string_to_sign
        expected = signing.v3_signature(user.access_key_secret, string_to_sign)
        matched = signing.constant_time_equal(expected, parts["Signature"].lower()) or matched
    if not (matched and hash_ok):
        raise errors.signature_mismatch(call.string_to_sign or "")
    if not nonces.check_and_record(
        user.access_key_id, call.header("x-acs-signature-nonce") or "", now
    ):
        raise errors.nonce_used()
    return user


def _authenticate_v1(call: Call, accounts: Accounts, nonces: Nonces, now: float) -> User:
    call.scheme = "v1"
    params = call.query_pairs + call.form_pairs
    p = dict(params)
    for name in ("AccessKeyId", "Timestamp", "SignatureNonce"):
        if not p.get(name):
            raise errors.missing(name)
    method = p.get("SignatureMethod", "HMAC-SHA1")
    if method != "HMAC-SHA1":
        raise errors.signature_method(method)
    if p.get("SignatureVersion", "1.0") != "1.0":
        raise errors.invalid("SignatureVersion", "Only 1.0 is supported.")
    if "SecurityToken" in p and not p["SecurityToken"]:
        raise errors.invalid("SecurityToken", "The security token is empty.")
    call.access_key_id = p["AccessKeyId"]
    ts = parse_timestamp(p["Timestamp"])
    user = _lookup(accounts, p["AccessKeyId"])
    _check_skew(ts, now)

    string_to_sign = signing.v1_string_to_sign(call.method, params)
    call.string_to_sign = string_to_sign
    expected = signing.v1_signature(user.access_key_secret, string_to_sign)
    if not signing.constant_time_equal(expected, p["Signature"]):
        raise errors.signature_mismatch(string_to_sign)
    if not nonces.check_and_record(user.access_key_id, p["SignatureNonce"], now):
        raise errors.nonce_used()
    return user
