"""OrderBookDelta (liqcore/feed/records.py) and book_deltas (liqcore/feed/deltas.py)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore import OrderBook
from liqcore.errors import InvalidDeltaError, LiqError
from liqcore.feed.deltas import book_deltas
from liqcore.feed.records import RECORD_TYPES, OrderBookDelta, from_array, to_array

# BOOK-A of shared/research/analytics.md (tick 0.5, lot 0.5)
BIDS_A = [["99.5", "1.5"], ["99", "2.5"], ["98", "4"], ["97", "10"]]
ASKS_A = [["100", "1"], ["100.5", "2"], ["101", "3"], ["102", "5"]]


def book_a() -> OrderBook:
    book = OrderBook(tick_size="0.5", lot_size="0.5")
    book.apply_snapshot(BIDS_A, ASKS_A)
    return book


def apply(book: OrderBook, deltas: list[OrderBookDelta]) -> OrderBook:
    """A copy of ``book`` with the deltas' new sizes applied (size 0 deletes)."""
    out = book.copy()
    if deltas:
        out.apply_deltas([d.side for d in deltas], [d.price for d in deltas], [d.size_after for d in deltas])
    return out


def test_known_diff_by_hand():
    before = book_a()
    after = OrderBook(tick_size="0.5", lot_size="0.5")
    # bid 99 shrinks 2.5 -> 1, bid 97 vanishes, bid 96 appears; ask 100 is taken, ask 101 grows 3 -> 4.5
    after.apply_snapshot([["99.5", "1.5"], ["99", "1"], ["98", "4"], ["96", "3"]],
                         [["100.5", "2"], ["101", "4.5"], ["102", "5"]])
    got = book_deltas(before, after, exchange="binance", symbol="BTC/USDT", ts_ms=1_700_000_000_123)
    assert [(d.side, d.price, d.size_before, d.size_after) for d in got] == [
        ("bid", 99.0, 2.5, 1.0), ("bid", 97.0, 10.0, 0.0), ("bid", 96.0, 0.0, 3.0),
        ("ask", 100.0, 1.0, 0.0), ("ask", 101.0, 3.0, 4.5)]
    assert [d.change for d in got] == [-1.5, -10.0, 3.0, -1.0, 1.5]
    assert [d.notional_change for d in got] == [-148.5, -970.0, 288.0, -100.0, 151.5]
    d = got[0]
    assert (d.exchange, d.symbol, d.ts_ms, d.ts, d.recv_ns) == ("binance", "BTC/USDT", 1_700_000_000_123,
                                                                1_700_000_000_123_000_000, 0)
    assert apply(before, got).to_dict() == after.to_dict()


def test_same_book_has_no_deltas_and_empty_books_diff():
    assert book_deltas(book_a(), book_a(), exchange="x", symbol="y", ts_ms=0) == []
    empty = OrderBook(tick_size="0.5", lot_size="0.5")
    gone = book_deltas(book_a(), empty, exchange="x", symbol="y", ts_ms=0)
    assert len(gone) == 8 and all(d.size_after == 0.0 for d in gone)
    came = book_deltas(empty, book_a(), exchange="x", symbol="y", ts_ms=0)
    assert [(d.price, d.size_after) for d in came] == [(float(p), float(s)) for p, s in BIDS_A + ASKS_A]


def test_depth_compares_the_top_levels():
    before, after = book_a(), book_a()
    after.update("bid", "99.5", "0")          # the best bid goes, so the 4th bid (97) enters the top 3
    got = book_deltas(before, after, exchange="x", symbol="y", ts_ms=0, depth=3)
    # top-3 bids before: 99.5, 99, 98; after: 99, 98, 97 -> 99.5 removed, 97 appears in the view
    assert [(d.side, d.price, d.size_before, d.size_after) for d in got] == [
        ("bid", 99.5, 1.5, 0.0), ("bid", 97.0, 0.0, 10.0)]


def test_ts_defaults_to_now():
    import time
    t0 = time.time_ns() // 1_000_000
    after = book_a()
    after.update("ask", "103", "1")
    (d,) = book_deltas(book_a(), after, exchange="x", symbol="y")
    assert t0 <= d.ts_ms <= time.time_ns() // 1_000_000


def test_array_round_trip_and_json():
    before, after = book_a(), OrderBook(tick_size="0.5", lot_size="0.5")
    after.apply_snapshot([["99", "1"]], [["100.5", "2"], ["103", "1"]])
    deltas = book_deltas(before, after, exchange="okx", symbol="BTC-USDT", ts_ms=1_700_000_000_000, recv_ns=5)
    arr = to_array(deltas)
    assert arr.dtype == OrderBookDelta.DTYPE and OrderBookDelta in RECORD_TYPES
    assert arr["side"].tolist() == [1 if d.side == "bid" else -1 for d in deltas]
    assert arr["ts"].tolist() == [d.ts for d in deltas]
    assert from_array(arr) == deltas                    # dtype picks the class
    assert from_array(arr, OrderBookDelta) == deltas
    assert to_array([], OrderBookDelta).dtype == OrderBookDelta.DTYPE
    d = orjson.loads(orjson.dumps(deltas[0].to_dict()))
    assert d == {"exchange": "okx", "symbol": "BTC-USDT", "ts_ms": 1_700_000_000_000, "ts": 1_700_000_000_000_000_000,
                 "side": "bid", "price": 99.5, "size_before": 1.5, "size_after": 0.0, "recv_ns": 5}


def test_market_data_kinds_unchanged():
    from liqcore.feed.records import KINDS
    assert OrderBookDelta not in KINDS.values()          # derived from books, not a market-data stream


def test_record_refuses_a_bad_side():
    with pytest.raises(ValueError, match="side"):
        OrderBookDelta("x", "y", 0, "buy", 1.0, 0.0, 1.0)


@pytest.mark.parametrize("tick, lot", [("0.05", "0.5"), ("0.5", "0.05"), ("1", "1")])
def test_books_on_different_grids_are_refused(tick, lot):
    other = OrderBook(tick_size=tick, lot_size=lot)
    with pytest.raises(InvalidDeltaError, match="different grids") as e:
        book_deltas(book_a(), other, exchange="x", symbol="y", ts_ms=0)
    assert isinstance(e.value, LiqError) and isinstance(e.value, ValueError)
    # a different tick on the same number of decimals is comparable
    assert book_deltas(book_a(), OrderBook(tick_size="0.1", lot_size="0.1"), exchange="x", symbol="y", ts_ms=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"depth": 0}, "depth"), ({"depth": 2.0}, "depth"), ({"depth": True}, "depth"),
    ({"exchange": None}, "exchange"), ({"symbol": 3}, "symbol"), ({"ts_ms": 1.5}, "ts_ms"),
    ({"recv_ns": "1"}, "recv_ns")])
def test_bad_arguments(kwargs, match):
    args = {"exchange": "x", "symbol": "y", "ts_ms": 0, **kwargs}
    with pytest.raises(InvalidDeltaError, match=match):
        book_deltas(book_a(), book_a(), **args)


def test_not_books():
    with pytest.raises(TypeError, match="before"):
        book_deltas({"bids": []}, book_a(), exchange="x", symbol="y")


# random books on one grid (tick 0.5, lot 0.1): bids at or below 100, asks above, never crossed
_bid_levels = st.dictionaries(st.integers(160, 200), st.integers(1, 50), max_size=15)
_ask_levels = st.dictionaries(st.integers(201, 240), st.integers(1, 50), max_size=15)


def _book(bids: dict[int, int], asks: dict[int, int]) -> OrderBook:
    book = OrderBook(tick_size="0.5", lot_size="0.1")
    book.apply_snapshot([[str(p / 2), str(q / 10)] for p, q in bids.items()],
                        [[str(p / 2), str(q / 10)] for p, q in asks.items()])
    return book


@settings(max_examples=150, deadline=None)
@given(_bid_levels, _ask_levels, _bid_levels, _ask_levels, st.one_of(st.none(), st.integers(1, 8)))
def test_applying_the_deltas_gives_after(b0, a0, b1, a1, depth):
    before, after = _book(b0, a0), _book(b1, a1)
    deltas = book_deltas(before, after, exchange="x", symbol="y", ts_ms=0, depth=depth)
    assert all(d.size_before != d.size_after for d in deltas)
    if depth is None:
        rebuilt = apply(before, deltas)
        assert np.array_equal(rebuilt.bids(), after.bids()) and np.array_equal(rebuilt.asks(), after.asks())
    else:
        top = OrderBook(tick_size="0.5", lot_size="0.1")
        top.apply_snapshot(before.bids(depth), before.asks(depth))
        rebuilt = apply(top, deltas)
        assert np.array_equal(rebuilt.bids(), after.bids(depth)) and np.array_equal(rebuilt.asks(), after.asks(depth))
    # sorted as documented: bids best (highest) first, then asks lowest first
    bid_prices = [d.price for d in deltas if d.side == "bid"]
    ask_prices = [d.price for d in deltas if d.side == "ask"]
    assert bid_prices == sorted(bid_prices, reverse=True) and ask_prices == sorted(ask_prices)
    assert [d.side for d in deltas] == sorted((d.side for d in deltas), key=lambda s: s != "bid")
