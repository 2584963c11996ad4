"""One test per defect of issue 10 (hardening of OrderBook): each failed before its fix.

Crashes and silently wrong numbers first (items 1-6), then accepted garbage (7, 8), the
Deribit sequence rule (11), memory given back (14), and the report/serialization mismatches.
The permanent differential fuzz, the thread hammer and the from_bytes mutations live in
test_adversarial.py.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from liqcore import OrderBook
from liqcore.errors import ConcurrentUseError, InvalidDeltaError, LiqError

I64_MAX = 2**63 - 1


def unit_book(**kw):
    """Tick 1, lot 1 at scale 0: a level's size in units is the size itself."""
    return OrderBook(tick_size="1", lot_size="1", **kw)


# ---------------------------------------------------------------- 1. a size of 2^63-1 units


def _in_subprocess(code: str) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter: a segfault must fail the test, not kill the run. From
    this directory: at the repository root ``-c`` would import the source tree's liqcore (no
    compiled modules in a regular install) instead of the installed package."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).parent)


@pytest.mark.parametrize("call", ["walls()", "clusters()", "wall_baseline()", "liquidity_report().walls",
                                  "walls(ratio=0)", "clusters(ratio=0)"])
def test_int64_max_size_does_not_crash_shape_kernels(call):
    res = _in_subprocess(f"""
        from liqcore import OrderBook
        b = OrderBook(tick_size="1", lot_size="1")
        b.apply_snapshot([["100", "{I64_MAX}"], ["99", "1"], ["98", "{I64_MAX}"]],
                         [["101", "1"], ["102", "{I64_MAX}"], ["103", "1"]])
        print(repr(b.{call}))
    """)
    assert res.returncode == 0, res.stderr[-2000:]


def test_int64_max_size_is_a_wall_when_it_stands_out():
    b = unit_book()
    # the other levels are tiny: 2^63-1 is far above 5x their median
    b.apply_snapshot([["100", str(I64_MAX)], ["99", "1"], ["98", "1"], ["97", "1"]],
                     [["101", "1"], ["102", "1"]])
    walls = b.walls(band_bps=500, side="bid")       # the band holds all four bids: median 1
    assert [w.price for w in walls] == [100.0] and walls[0].size == float(I64_MAX)
    clusters = b.clusters(band_bps=500, side="bid")
    assert len(clusters) == 1 and clusters[0].price_best == 100.0 and clusters[0].levels == 1


# ---------------------------------------------------------------- 2. (n, 0) arrays


@pytest.mark.parametrize("method", ["apply_levels", "apply_snapshot"])
@pytest.mark.parametrize("shape", [(3, 0), (3, 1), (2, 0, 2), (3,)])
def test_level_arrays_of_the_wrong_shape_are_rejected(method, shape):
    b = unit_book()
    b.apply_snapshot([["100", "1"], ["99", "2"]], [["101", "1"]])
    b.apply_levels([["98", "7"]], [])       # leaves a 1-level message in the scratch
    b.apply_levels([["98", "0"]], [])       # deleted again
    before = b.to_bytes()
    with pytest.raises(InvalidDeltaError, match="shape"):
        getattr(b, method)(np.zeros(shape, dtype=np.float64), [])
    assert b.to_bytes()[:52] == before[:52] and b.levels(0, raw=True).tolist() == [[100, 1], [99, 2]]
    assert b.stats["rejected"] == 1


def test_empty_level_arrays_are_empty_messages():
    b = unit_book()
    b.apply_snapshot([["100", "1"]], [["101", "1"]])
    b.apply_levels([["98", "7"]], [])
    b.apply_levels([["98", "0"]], [])
    for empty in (np.zeros((0, 2)), np.zeros((0, 0)), np.zeros(0), np.zeros((0, 2), dtype=np.int64)):
        assert b.apply_levels(empty, empty) is True
    assert b.levels(0, raw=True).tolist() == [[100, 1]]


# ---------------------------------------------------------------- 3. integer arrays are exact


@pytest.mark.parametrize("dtype", [np.int64, np.uint64, np.int32, np.uint32, np.int16, np.uint8])
def test_integer_arrays_are_exact_in_apply_deltas(dtype):
    info = np.iinfo(dtype)
    big = min(int(info.max), 2**53 - 1)
    b = OrderBook(price_decimals=3, size_decimals=0)
    b.apply_deltas(np.array([0], dtype=np.uint8), np.array([big], dtype=dtype), np.array([1], dtype=dtype))
    assert b.levels(0, raw=True).tolist() == [[big * 1000, 1]]      # 2^53-1 -> ...991000, not ...990976
    lst = OrderBook(price_decimals=3, size_decimals=0)
    lst.apply_deltas([0], [big], [1])
    assert lst.levels(0, raw=True).tolist() == b.levels(0, raw=True).tolist()


def test_integer_arrays_are_exact_in_apply_levels_and_ids():
    b = unit_book(sequence="contiguous")
    b.apply_snapshot(np.array([[2**60 + 1, 3]], dtype=np.int64), np.array([[2**62 + 1, 5]], dtype=np.int64),
                     update_id=1)
    assert b.levels(0, raw=True).tolist() == [[2**60 + 1, 3]]          # not 2^60 (float64)
    assert b.levels(1, raw=True).tolist() == [[2**62 + 1, 5]]
    b.apply_deltas(np.array([0], dtype=np.uint8), np.array([2**53 + 1], dtype=np.int64),
                   np.array([2**53 + 1], dtype=np.int64), last_id=2)
    assert [2**53 + 1, 2**53 + 1] in b.levels(0, raw=True).tolist()


@pytest.mark.parametrize("value", [2**63, 2**64 - 1])
def test_uint64_beyond_int64_is_rejected_not_wrapped(value):
    b = unit_book()
    with pytest.raises(InvalidDeltaError, match="int64"):
        b.apply_deltas(np.array([0], dtype=np.uint8), np.array([value], dtype=np.uint64), np.array([1.0]))
    with pytest.raises(InvalidDeltaError):
        b.apply_levels(np.array([[value, 1]], dtype=np.uint64), [])
    assert len(b) == 0 and b.stats["rejected"] == 2


def test_integer_overflow_at_scale_is_rejected():
    b = OrderBook(price_decimals=3, size_decimals=0)
    with pytest.raises(InvalidDeltaError, match="range"):
        b.apply_deltas(np.array([0], dtype=np.uint8), np.array([I64_MAX // 10], dtype=np.int64),
                       np.array([1], dtype=np.int64))
    assert len(b) == 0


# ---------------------------------------------------------------- 4. sums in 128 bits


def test_report_volumes_do_not_wrap():
    b = unit_book()
    q = 2**62
    b.apply_snapshot([["100", str(q)], ["99", str(q)], ["98", str(q)]], [["101", str(q)]])
    r = b.liquidity_report()
    assert r.bid_volume == float(3 * q) and r.ask_volume == float(q)
    assert r.total_volume == float(4 * q) and r.imbalance_ratio == pytest.approx(3.0)
    base = b.wall_baseline(band_bps=500)
    assert base["bid"][3] == float(3 * q)


def test_band_quote_sums_do_not_overflow():
    b = unit_book()
    big = I64_MAX
    b.apply_snapshot([[str(big - 2), str(big)], [str(big - 1), str(big)], [str(big - 3), str(big)]],
                     [[str(big), "1"]])
    r = b.liquidity_report()
    # three levels of ~2^63 x 2^63: the exact sum needs 128 bits and more; within 1e-12
    assert r.bid_liquidity_1pct == pytest.approx(3.0 * big * big, rel=1e-12)


# ---------------------------------------------------------------- 5. threads: see test_adversarial.py
# ---------------------------------------------------------------- 6. a sequence that grows while read


class GrowingRows(list):
    """A list whose rows run code that appends to it: the scratch was sized by len()."""

    def __init__(self, n):
        super().__init__(Row(self, p) for p in range(1, n + 1))


class Row:
    def __init__(self, owner, price):
        self.owner, self.price = owner, price

    def __len__(self):
        return 2

    def __getitem__(self, i):
        if len(self.owner) < 10_000:
            self.owner.extend(Row(self.owner, 10_000 + k) for k in range(100))
        return [self.price, 1][i]


def test_rows_appended_during_conversion_are_not_written_past_the_buffer():
    res = _in_subprocess("""
        import sys
        sys.path.insert(0, %r)
        from test_hardening import GrowingRows
        from liqcore import OrderBook
        b = OrderBook(tick_size="1", lot_size="1")
        rows = GrowingRows(3)
        b.apply_levels(rows, [])
        assert b.levels(0, raw=True)[:, 0].tolist() == [3, 2, 1], b.levels(0)
        print("ok", len(rows))
    """ % str(Path(__file__).parent))
    assert res.returncode == 0 and res.stdout.startswith("ok"), res.stderr[-2000:]


# ---------------------------------------------------------------- 7. flat rows, dicts, strings


@pytest.mark.parametrize("bids", [["61700", "15"], [b"61700", b"15"], {"61700": "15"}, "61700",
                                  [{"price": "1", "size": "2"}], [["61700"]], [61700], {("1", "2")}])
def test_rows_that_are_not_levels_are_rejected(bids):
    b = OrderBook(tick_size="0.01", lot_size="0.001")
    with pytest.raises(InvalidDeltaError):
        b.apply_levels(bids, [])
    with pytest.raises(InvalidDeltaError):
        b.apply_snapshot(bids, [])
    assert len(b) == 0 and b.stats["rejected"] == 2


def test_generators_and_custom_sequences_are_levels():
    b = OrderBook(tick_size="0.5", lot_size="0.5")
    b.apply_levels((r for r in [["99.5", "1"], ("99", "2")]), [np.array(["100", "1"], dtype=object)])
    assert b.levels(0).tolist() == [[99.5, 1.0], [99.0, 2.0]] and b.levels(1).tolist() == [[100.0, 1.0]]


# ---------------------------------------------------------------- 8. lone surrogates


@pytest.mark.parametrize("text", ["1\ud800", "\udfff", "１", "1\x00", "٣"])
def test_non_ascii_text_is_a_liqerror_and_counted(text):
    b = unit_book()
    for call in (lambda: b.update(0, text, "1"), lambda: b.apply_levels([[text, "1"]], []),
                 lambda: b.apply_deltas([0], [text], ["1"]), lambda: b.apply_snapshot([["1", text]], [])):
        with pytest.raises(InvalidDeltaError):
            call()
    assert b.stats["rejected"] == 4 and len(b) == 0
    with pytest.raises(InvalidDeltaError):
        b.walk("buy", text)
    with pytest.raises(InvalidDeltaError):
        OrderBook(symbol=text if "\ud800" in text or "\udfff" in text else 5)


# ---------------------------------------------------------------- 11. Deribit: last < L is stale


def test_deribit_message_ending_before_the_book_is_stale():
    b = unit_book(sequence="deribit")
    b.apply_snapshot([["100", "1"]], [["101", "1"]], update_id=10)
    assert b.apply_levels([["99", "1"]], [], last_id=9, prev_id=10) is False
    assert b.apply_levels([["99", "1"]], [], last_id=10, prev_id=10) is False
    assert b.last_update_id == 10 and b.stats["stale"] == 2 and b.levels(0, raw=True).tolist() == [[100, 1]]
    assert b.apply_levels([["99", "1"]], [], last_id=11, prev_id=10) is True
    assert b.last_update_id == 11


# ---------------------------------------------------------------- 14. memory given back


def test_a_huge_message_does_not_pin_its_memory():
    # bytes in use by malloc (glibc's mallinfo2), not RSS: freed memory need not go back to
    # the OS, and every Python object the test needs exists before the first reading
    res = _in_subprocess("""
        import ctypes, gc
        from liqcore import OrderBook

        class MallInfo2(ctypes.Structure):
            _fields_ = [(f, ctypes.c_size_t) for f in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
        import os
        libc = ctypes.CDLL(None)
        # AddressSanitizer's allocator (tests/sanitize.sh preloads it) does not fill mallinfo2
        if not hasattr(libc, "mallinfo2") or "asan" in os.environ.get("LD_PRELOAD", ""):
            print("skip"); raise SystemExit
        libc.mallinfo2.restype = MallInfo2
        def in_use():
            gc.collect()
            m = libc.mallinfo2()
            return m.uordblks + m.hblkhd
        b = OrderBook(tick_size="1", lot_size="1")
        b.apply_snapshot([["1", "1"]], [["2000000000", "1"]])
        n = 1_000_000
        add = [[p, 1] for p in range(2, n + 2)]
        delete = [[p, 0] for p in range(2, n + 2)]
        base = in_use()
        b.apply_levels(add, [])
        peak = in_use() - base
        b.apply_levels(delete, [])
        kept = in_use() - base
        assert len(b) == 2, len(b)
        print(peak // 2**20, kept // 2**20)
    """)
    assert res.returncode == 0, res.stderr[-2000:]
    if res.stdout.strip() == "skip":
        pytest.skip("no mallinfo2 in this C library (or AddressSanitizer's allocator)")
    peak_mib, kept_mib = map(int, res.stdout.split())
    assert peak_mib >= 17                         # 1M levels of 18 bytes (17.2 MiB) are really held
    assert kept_mib <= 1, (peak_mib, kept_mib)    # was 46.6 MiB until the next snapshot


def test_trim_keeps_a_small_book_fast_path_storage():
    b = unit_book()
    b.apply_snapshot([[str(p), "1"] for p in range(1, 101)], [["1000", "1"]])
    b.apply_levels([[str(p), "2"] for p in range(1, 101)], [])
    assert b.levels(0, raw=True)[:, 1].tolist() == [2] * 100


# ---------------------------------------------------------------- the report and the book agree


def test_report_spread_is_the_books_spread():
    b = OrderBook(tick_size="0.01", lot_size="0.001")
    b.apply_snapshot([["61700.01", "1"]], [["61700.03", "1"]])
    r = b.liquidity_report()
    assert r.spread == b.spread == 0.02 and r.to_dict()["spread"] == 0.02
    assert r.mid == b.mid and r.spread_bps == b.spread_bps


# ---------------------------------------------------------------- to_bytes keeps the labels


def test_from_bytes_keeps_labels():
    b = OrderBook(tick_size="0.5", lot_size="0.5", symbol="BTC/USDT", exchange="binance")
    b.apply_snapshot([["99.5", "1"]], [["100", "1"]])
    c = OrderBook.from_bytes(b.to_bytes())
    assert (c.symbol, c.exchange) == ("BTC/USDT", "binance") and c.to_bytes() == b.to_bytes()
    assert OrderBook.from_bytes(b.to_bytes(), symbol="ETH/USDT").symbol == "ETH/USDT"
    p = pickle.loads(pickle.dumps(b))
    assert (p.symbol, p.exchange) == ("BTC/USDT", "binance")
    none = OrderBook.from_bytes(OrderBook(symbol="").to_bytes())
    assert none.symbol == "" and none.exchange is None


def test_labels_must_be_short_text():
    with pytest.raises(InvalidDeltaError):
        OrderBook(symbol=b"BTC")
    with pytest.raises(InvalidDeltaError):
        OrderBook(exchange="x" * 1025)


# ---------------------------------------------------------------- arguments: LiqError, never TypeError


@pytest.mark.parametrize("call", [
    lambda b: b.walls(band_bps="x"), lambda b: b.walls(limit=-1), lambda b: b.clusters(gap_ticks=-1),
    lambda b: b.clusters(window=None), lambda b: b.wall_baseline(window=1.5),
    lambda b: b.liquidity_report(levels=-3), lambda b: b.liquidity_report(notional="1"),
    lambda b: b.track_ofi(levels="2"), lambda b: b.track_ofi(levels=99), lambda b: b.levels(0, n=1.5),
    lambda b: b.level_strings(0, n="3"), lambda b: b.bids(float("nan")), lambda b: b.to_dict(limit=[1]),
    lambda b: OrderBook.from_bytes(5), lambda b: OrderBook.from_bytes("text"),
])
def test_bad_arguments_are_liqerrors(call):
    b = OrderBook(tick_size="0.5", lot_size="0.5")
    b.apply_snapshot([["99.5", "1"]], [["100", "1"]])
    before = b.to_bytes()
    with pytest.raises(LiqError):
        call(b)
    assert b.to_bytes() == before


# ---------------------------------------------------------------- re-entry from a callback


class ReenteringInt(int):
    """An int whose conversion calls back into the book being filled."""

    book: OrderBook | None = None

    def __int__(self):
        self.book.apply_levels([["7", "1"]], [])
        return super().__int__()

    __index__ = __int__


def test_a_callback_reentering_the_book_gets_a_clear_error():
    b = unit_book()
    v = ReenteringInt(5)
    ReenteringInt.book = b
    with pytest.raises(ConcurrentUseError):
        b.apply_levels([[v, 1]], [])
    assert len(b) == 0 and isinstance(ConcurrentUseError("x"), RuntimeError)
    b.apply_levels([["5", "1"]], [])          # the book is free again
    assert len(b) == 1
