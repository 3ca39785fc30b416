"""The emulator's signature functions against vectors computed by the official SDK code."""

from __future__ import annotations

import hashlib
import re
from types import SimpleNamespace
from urllib.parse import parse_qsl

import pytest
from alibabacloud_tea_openapi.utils import Utils
from aliyunsdkcore.auth.composer.rpc_signature_composer import get_signed_url
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.gateway import signing

SECRET = "DemoAliceSecret0000000000000001"
values = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=0,
    max_size=30,
)
# any names, not only ASCII: the SDKs sort raw names before encoding them
names = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00&="),
    min_size=1,
    max_size=12,
)


def sdk_v3(query: dict[str, str], headers: dict[str, str], body: bytes) -> tuple[str, str]:
    payload = hashlib.sha256(body).hexdigest()
    req = SimpleNamespace(pathname="/", query=query, headers=headers, method="POST")
    auth = Utils.get_authorization(req, "ACS3-HMAC-SHA256", payload, "AK", SECRET)
    m = re.match(
        r"ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=([^,]+),Signature=([0-9a-f]+)$", auth
    )
    assert m, auth
    return m.group(1), m.group(2)


def ours_v3(query: dict[str, str], headers: dict[str, str], body: bytes, signed: list[str]) -> str:
    """The tea-openapi variant (names not encoded), which the gateway accepts beside the documented one."""
    canonical = signing.v3_canonical_request(
        "POST",
        "/",
        list(query.items()),
        headers,
        signed,
        signing.sha256_hex(body),
        encode_keys=False,
    )
    return signing.v3_signature(SECRET, signing.v3_string_to_sign(canonical))


def test_v3_matches_sdk_on_a_captured_shape() -> None:
    query = {"Comment": "export please", "PluginType": "DATA_EXPORT", "Tid": "3"}
    body = b"PluginParam=%7B%22DbId%22%3A1860%7D"
    headers = {
        "host": "127.0.0.1:44103",
        "x-acs-version": "2018-11-01",
        "x-acs-action": "CreateOrder",
        "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
        "x-acs-date": "2026-11-22T17:13:47Z",
        "x-acs-signature-nonce": "9273bfab5ab83de7cad883629d6c3953",
        "accept": "application/json",
        "content-type": "application/x-www-form-urlencoded",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "x-acs-credentials-provider": "static_ak",
    }
    signed, expected = sdk_v3(query, headers, body)
    assert ours_v3(query, headers, body, signed.split(";")) == expected


@settings(max_examples=150, deadline=None)
@given(query=st.dictionaries(names, values, max_size=6), body=st.binary(max_size=64), date=values)
def test_v3_matches_sdk_for_any_query(query: dict[str, str], body: bytes, date: str) -> None:
    headers = {
        "host": "h:1",
        "x-acs-action": "A",
        "x-acs-date": date.strip() or "d",
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    signed, expected = sdk_v3(query, headers, body)
    assert ours_v3(query, headers, body, signed.split(";")) == expected


@settings(max_examples=150, deadline=None)
@given(
    params=st.dictionaries(names, values, min_size=1, max_size=8),
    method=st.sampled_from(["GET", "POST"]),
)
def test_v1_matches_tea_openapi(params: dict[str, str], method: str) -> None:
    params.pop("Signature", None)  # the one name that is never signed
    expected = Utils.get_rpcsignature(params, method, SECRET)
    ours = signing.v1_signature(SECRET, signing.v1_string_to_sign(method, list(params.items())))
    assert ours == expected


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_v1_matches_legacy_core_including_body_params(method: str) -> None:
    query = {
        "Action": "GetDataExportOrderDetail",
        "Version": "2018-11-01",
        "Tid": "3000",
        "RegionId": "cn-hangzhou",
    }
    body = {"OrderId": "4000001", "Comment": "a b*c~d'é"}
    url, string_to_sign = get_signed_url(dict(query), "AK", SECRET, "JSON", method, body)
    sent = dict(parse_qsl(url[2:], keep_blank_values=True))
    ours_sts = signing.v1_string_to_sign(method, list(sent.items()) + list(body.items()))
    assert ours_sts == string_to_sign
    assert signing.v1_signature(SECRET, ours_sts) == sent["Signature"]


def test_authorization_header_parsing() -> None:
    parts = signing.parse_v3_authorization(
        "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=ff"
    )
    assert parts == {
        "Algorithm": "ACS3-HMAC-SHA256",
        "Credential": "AK",
        "SignedHeaders": "a;b",
        "Signature": "ff",
    }
    assert signing.parse_v3_authorization("ACS3-HMAC-SHA256") is None
    assert signing.parse_v3_authorization("ACS3-HMAC-SHA256 Credential") is None


def test_documented_and_sdk_v3_variants_agree_for_plain_names() -> None:
    pairs = [("PluginType", "DATA_EXPORT"), ("Tid", "3"), ("Comment", "a b*~")]
    assert signing.v3_canonical_query(pairs) == signing.v3_canonical_query(pairs, encode_keys=False)
    odd = [("na me", "v")]
    assert signing.v3_canonical_query(odd) == "na%20me=v"
    assert signing.v3_canonical_query(odd, encode_keys=False) == "na me=v"
