"""SyntheticBook.disturb: the simulator plays a spread blow-out, a depth drop and a one-sided book
for a number of events, then the book recovers; a client following the events stays equal to the
engine's book throughout (the anomalies are real book messages, not a side channel)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from liqcore.sim import SyntheticBook, TrueBook, default_instruments


def btc(venue: str = "binance"):
    return next(i for i in default_instruments() if i.venue == venue and i.id.startswith("BTC"))


def follow(src: SyntheticBook, client: TrueBook, n: int) -> list[tuple]:
    """Apply n events to the client; per event (best bid, best ask, bid size total, ask size total)."""
    out = []
    for _ in range(n):
        ev = src.next_event()
        client.apply(ev.bids, ev.asks)
        assert [client.top(0), client.top(1)] == [src.book.top(0), src.book.top(1)]
        assert not client.is_crossed
        out.append((client.price(0), client.price(1), *(sum(Decimal(lv[1]) for lv in client.top(s)) for s in (0, 1))))
    return out


def started(venue: str = "binance", seed: int = 3, warm: int = 50):
    src = SyntheticBook(btc(venue), seed=seed)
    client = TrueBook()
    init = src.initial()
    client.load(init.bids, init.asks)
    calm = follow(src, client, warm)
    return src, client, calm[-1]


@pytest.mark.parametrize("venue", ["binance", "okx"])
def test_spread_blow_out_then_the_quotes_move_back(venue):
    src, client, (bid, ask, *_) = started(venue)
    inst_tick = btc(venue).tick
    src.disturb("spread", 20, ticks=100)
    during = follow(src, client, 20)
    widen = 100 * inst_tick
    assert src.disturbed is None
    assert during[0][:2] == (bid - widen, ask + widen)                    # requoted, the mid kept
    assert all(b <= bid - widen and a >= ask + widen for b, a, *_ in during[:-1])   # nothing inside the gap
    b, a, *_ = during[-1]
    assert a - b < 3 * (ask - bid) + 10 * inst_tick                      # the quotes moved back


def test_depth_drop_cuts_every_size_then_restores_them():
    src, client, (_, _, bid_size, ask_size) = started()
    src.disturb("depth", 20, factor=0.2)
    during = follow(src, client, 20)
    assert all(b < Decimal('0.4') * bid_size and a < Decimal('0.4') * ask_size for *_, b, a in during[:-1])
    after = follow(src, client, 1)
    assert after[0][2] > Decimal('0.6') * bid_size and after[0][3] > Decimal('0.6') * ask_size


@pytest.mark.parametrize("side", ["bid", "ask"])
def test_one_sided_book_then_the_side_comes_back_as_it_was(side):
    src, client, (bid, ask, *_) = started()
    src.disturb("one_sided", 15, side=side)
    during = follow(src, client, 15)
    k = 0 if side == "bid" else 1
    assert all(row[k] is None and row[2 + k] == 0 for row in during[:-1])
    assert all(row[1 - k] is not None for row in during)
    b, a, *_ = during[-1]
    assert (b, a) == (bid, ask)                                  # the side is back as it was, the mid too


def test_the_same_seed_plays_the_same_anomalies():
    runs = []
    for _ in range(2):
        src, client, _ = started(seed=9)
        src.disturb("spread", 5)
        first = follow(src, client, 10)
        src.disturb("one_sided", 5, side="ask")
        runs.append(first + follow(src, client, 10))
    assert runs[0] == runs[1]


def test_a_new_anomaly_ends_the_one_playing():
    src, client, _ = started()
    deep_before = {lv[0]: Decimal(lv[1]) for lv in client.top(0)[-20:]}     # far from any edit
    src.disturb("depth", 50)
    follow(src, client, 3)
    src.disturb("one_sided", 3, side="ask")
    follow(src, client, 1)
    deep_now = {lv[0]: Decimal(lv[1]) for lv in client.top(0)}
    ratios = sorted(deep_now[p] / v for p, v in deep_before.items() if p in deep_now)
    assert src.disturbed == "one_sided" and len(ratios) >= 15
    assert Decimal("0.8") < ratios[len(ratios) // 2] < Decimal("1.2")       # the depth came back first


@pytest.mark.parametrize("kw", [dict(kind="gap", events=3), dict(kind="spread", events=0),
                                dict(kind="spread", events=True), dict(kind="spread", events=3, ticks=0),
                                dict(kind="depth", events=3, factor=1.5), dict(kind="one_sided", events=3, side="up")])
def test_bad_anomalies_are_refused(kw):
    src = SyntheticBook(btc(), seed=1)
    with pytest.raises(ValueError):
        src.disturb(**kw)
    src.next_event()
    assert src.disturbed is None
