"""OrderBook.checksum / verify_checksum: the worked examples of
research/exchange_protocols.md §3 through the Python API, signedness, aliases, errors."""

from __future__ import annotations

import zlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore import ChecksumError, DepthError, InvalidDeltaError, OrderBook

KRAKEN_V1_ASKS = ["0.05005", "0.05010", "0.05015", "0.05020", "0.05025",
                  "0.05030", "0.05035", "0.05040", "0.05045", "0.05050"]
KRAKEN_V1_BIDS = ["0.05000", "0.04995", "0.04990", "0.04980", "0.04975",
                  "0.04970", "0.04965", "0.04960", "0.04955", "0.04950"]

KRAKEN_V2_BIDS = [(45283.5, 0.1), (45283.4, 1.54582015), (45282.1, 0.1), (45281.0, 0.1), (45280.3, 1.54592586),
                  (45279.0, 0.0799), (45277.6, 0.03310103), (45277.5, 0.3), (45277.3, 1.54602737),
                  (45276.6, 0.15445238)]
KRAKEN_V2_ASKS = [(45285.2, 0.001), (45286.4, 1.54571953), (45286.6, 1.54571109), (45289.6, 1.54560911),
                  (45290.2, 0.1589066), (45291.8, 1.54553491), (45294.7, 0.04454749), (45296.1, 0.3538),
                  (45297.5, 0.09945542), (45299.5, 0.18772827)]


def _book(bids, asks, price_decimals, size_decimals, **kw):
    b = OrderBook(price_decimals=price_decimals, size_decimals=size_decimals, **kw)
    b.apply_snapshot(bids, asks)
    return b


OKX_DOC_BIDS = [["3366.1", "7"], ["3366", "6"]]
OKX_DOC_ASKS = [["3366.8", "9"], ["3368", "8"]]


@pytest.fixture
def okx_doc():
    return _book(OKX_DOC_BIDS, OKX_DOC_ASKS, 1, 0)


def _kraken_string(bids, asks):
    """Kraken's checksum input by its documented recipe (research/exchange_protocols.md §3.3),
    written here independently of liqcore: the best 10 asks low to high, then the best 10 bids
    high to low, each as its wire price and then its wire quantity with the "." removed and the
    leading zeros stripped."""
    def field(text):
        return text.replace(".", "").lstrip("0")
    asks = sorted(asks, key=lambda lv: Decimal(lv[0]))[:10]
    bids = sorted(bids, key=lambda lv: Decimal(lv[0]), reverse=True)[:10]
    return "".join(field(p) + field(q) for p, q in asks + bids)


def test_okx_worked_examples(okx_doc):
    assert okx_doc.checksum("okx") == -1881014294
    fewer_bids = _book([["3366.1", "7"]], [["3366.8", "9"], ["3368", "8"], ["3372", "8"]], 1, 0)
    assert fewer_bids.checksum("okx") == 831078360


def test_bitget_worked_example_and_wire_strings():
    b = _book([["43231.1", "4"], ["43231", "6"]], [["43232.8", "9"], ["43232.9", "8"]], 1, 0)
    assert b.checksum("bitget") == -1504501796
    # "0.5000" is hashed as sent, not as "0.5" (Bitget's rule 3)
    z = _book([["0.5000", "1.20"]], [["0.5100", "3"]], 4, 2)
    assert z.checksum("bitget") == z.checksum("okx") == _signed(zlib.crc32(b"0.5000:1.20:0.5100:3"))


def test_kraken_v1_worked_example():
    bids, asks = [[p, "0.00000500"] for p in KRAKEN_V1_BIDS], [[p, "0.00000500"] for p in KRAKEN_V1_ASKS]
    b = _book(bids, asks, 5, 8, max_depth=10)
    assert b.checksum("kraken") == b.checksum("kraken_v1") == 974947235
    assert zlib.crc32(_kraken_string(bids, asks).encode()) == 974947235      # the test's own recipe too


def test_kraken_v2_worked_example_from_json_numbers():
    # v2 sends numbers: the book's scales are the instrument's price/qty precision
    b = _book([list(lv) for lv in KRAKEN_V2_BIDS], [list(lv) for lv in KRAKEN_V2_ASKS], 1, 8)
    assert b.checksum("kraken_v2") == 3310070434
    assert b.verify_checksum("kraken_v2", "3310070434") is True


def test_bitfinex_js_number_formatting():
    b = _book([[1000000000, 5], [64000, 1e-8]], [[64100, 2e-8]], 0, 8, cross_policy="allow")
    want = zlib.crc32(b"1000000000:5:64100:-2e-8:64000:1e-8")
    assert b.checksum("bitfinex") == _signed(want)
    assert b.verify_checksum("bitfinex", want) is True


def _signed(c):
    return c - (1 << 32) if c >= 1 << 31 else c


def test_signedness_and_normalisation(okx_doc):
    assert okx_doc.checksum("okx") < 0
    # Kraken's is the unsigned CRC-32 (zlib's) of its own layout of the same levels
    assert _kraken_string(OKX_DOC_BIDS, OKX_DOC_ASKS) == "336689" "33688" "336617" "33666"
    assert okx_doc.checksum("kraken") == zlib.crc32(_kraken_string(OKX_DOC_BIDS, OKX_DOC_ASKS).encode())
    # either form of the same 32 bits verifies, as int or decimal string
    for v in (-1881014294, 2413953002, "-1881014294", "2413953002", b"2413953002"):
        assert okx_doc.verify_checksum("okx", v) is True
    assert okx_doc.verify_checksum("OKX", -1881014294) is True      # kind names are case-insensitive


def test_aliases():
    b = _book([[p, "0.00000500"] for p in KRAKEN_V1_BIDS], [[p, "0.00000500"] for p in KRAKEN_V1_ASKS], 5, 8)
    assert b.checksum("kraken") == b.checksum("kraken_v1") == b.checksum("kraken-v2")
    assert b.checksum("okx") == b.checksum("bitget")


def test_mismatch_raises_checksum_error_naming_both(okx_doc):
    with pytest.raises(ChecksumError) as ei:
        okx_doc.verify_checksum("okx", 2413953003)
    assert isinstance(ei.value, ValueError)
    assert "-1881014294" in str(ei.value) and "-1881014293" in str(ei.value)
    with pytest.raises(ValueError, match="exchange 1"):
        okx_doc.verify_checksum("kraken", "1")


def test_okx_zero_means_no_checksum(okx_doc):
    # OKX sends 0 on every frame since the June 2026 deprecation: not checked
    assert okx_doc.verify_checksum("okx", 0) is False
    assert okx_doc.verify_checksum("okx", "0") is False
    with pytest.raises(ChecksumError):
        okx_doc.verify_checksum("bitget", 0)      # Bitget's 0 is a real value


def test_depth_error_when_max_depth_too_small():
    b = _book([["1.0", "1"]], [["2.0", "1"]], 1, 0, max_depth=10)
    for kind in ("okx", "bitget", "bitfinex"):
        with pytest.raises(DepthError, match="max_depth 10 < 25"):
            b.checksum(kind)
        with pytest.raises(DepthError):
            b.verify_checksum(kind, 1)
    assert b.checksum("kraken") == zlib.crc32(b"20" + b"1" + b"10" + b"1")   # "2.0" -> "20", "1" -> "1"
    with pytest.raises(DepthError):
        _book([], [], 1, 0, max_depth=9).checksum("kraken")


def test_bad_arguments(okx_doc):
    with pytest.raises(InvalidDeltaError, match="unknown|invalid"):
        okx_doc.checksum("coinbase")
    for bad in ("abc", 1.5, None, True, 1 << 32, -(1 << 31) - 1):
        with pytest.raises(InvalidDeltaError):
            okx_doc.verify_checksum("okx", bad)


def test_empty_book_checksum():
    b = OrderBook()
    assert b.checksum("okx") == 0 and b.checksum("kraken") == 0     # CRC-32 of ""


def _js_number(x: float) -> str:
    """JavaScript Number#toString (ECMAScript Number::toString, radix 10), from Python's
    shortest round-trip repr: an independent oracle for the C formatter."""
    if x == 0:
        return "0"
    sign, digits, exp = Decimal(repr(abs(x))).normalize().as_tuple()
    s = "".join(map(str, digits))
    k, n = len(s), exp + len(digits)
    if k <= n <= 21:
        out = s + "0" * (n - k)
    elif 0 < n <= 21:
        out = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + s
    else:
        e = n - 1
        out = s[0] + ("." + s[1:] if k > 1 else "") + "e" + ("-" if e < 0 else "+") + str(abs(e))
    return ("-" if x < 0 else "") + out


@settings(max_examples=300, deadline=None)
@given(units=st.one_of(st.integers(1, 10**6), st.integers(1, (1 << 63) - 1)), scale=st.integers(0, 18))
def test_bitfinex_numbers_match_javascript(units, scale):
    """Any fixed-point size renders like JS renders the nearest double (incl. > 15 digits)."""
    b = OrderBook(price_decimals=0, size_decimals=scale)
    b.apply_snapshot([], [["7", str(Decimal(units).scaleb(-scale))]])
    x = float(Decimal(units).scaleb(-scale))
    assert b.checksum("bitfinex") == _signed(zlib.crc32(f"7:{_js_number(-x)}".encode()))
