"""The lean percent-encoding and -decoding (probe F4) give exactly what the standard library gives.

`percent_encode` (str.translate over UTF-8 bytes for long values) and the form decoder (runs of
escapes decoded whole, long values in chunks that must never cut an escape) replaced
`urllib.parse.quote` / `unquote_to_bytes`, which list every byte; the oracle here is those
standard functions, on values around and past the chunk sizes.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.gateway.parse import form_pairs
from emulator.gateway.signing import percent_encode

# characters that matter: unreserved, reserved ASCII, `%`, `+`, control, non-ASCII, astral
ALPHABET = st.sampled_from(list("aZ09-_.~ %+&=*/:\x00\x7f") + ["é", "你", "\U0001f600", "\x80"])


def _long(piece: st.SearchStrategy[str], head: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A piece repeated past the 64 KiB chunk, with a short random head and tail."""
    return st.tuples(head, piece, st.integers(60_000, 200_000)).map(
        lambda t: t[0] + t[1] * (t[2] // max(1, len(t[1])) + 1) + t[0][::-1]
    )


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.text(ALPHABET, max_size=300),
        _long(st.text(ALPHABET, min_size=1, max_size=7), st.text(ALPHABET, max_size=40)),
    )
)
def test_percent_encode_is_quote(value: str) -> None:
    assert percent_encode(value) == quote(value, safe="~")


ESCAPED = st.sampled_from(
    ["%25", "%e4%BD%a0", "%", "%4", "%zz", "a", "+", "%2B", "%C3%A9x", "%%41"]
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(ESCAPED, max_size=30).map("".join),
            _long(
                st.lists(ESCAPED, min_size=1, max_size=5).map("".join),
                st.lists(ESCAPED, max_size=9).map("".join),
            ),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_form_values_decode_as_parse_qsl_does(values: list[str]) -> None:
    raw = "&".join(f"k{i}={v}" for i, v in enumerate(values))
    try:
        expected = parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return  # refused as not UTF-8 (tests/test_bad_input.py covers that answer)
    assert form_pairs(raw.encode("ascii")) == expected
