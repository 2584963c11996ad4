"""Cross-venue comparison (liqcore.venues): a worked example by hand, then real ccxt.pro
clients fetching from the local exchange simulator, with a venue that fails.

Worked example (three venues, tick 0.5, taker fees 0.1% / 0.1% / 0.2%):

    A  bids 100.0 x 2, 99.5 x 4     asks 101.0 x 1, 101.5 x 3
    B  bids 102.0 x 1, 101.5 x 2    asks 103.0 x 2
    C  bids  99.0 x 5               asks 100.5 x 1.5, 101.0 x 1

* best bid B 102.0; best ask C 100.5.
* spreads (bps of mid): A 1/100.5 = 99.502, B 1/102.5 = 97.561, C 1.5/99.75 = 150.376 -> tightest B;
  average (99.502 + 97.561 + 150.376) / 3 = 115.813.
* arbitrage: buy C at 100.5, sell B at 102.0: gross (102 - 100.5)/100.5 = 1.49254%;
  net of C 0.2% and B 0.1%: (102*0.999 - 100.5*1.002)/(100.5*1.002) = (101.898 - 100.701)/100.701
  = 1.18867%.
* walking it (edge = bid*(1 - 0.001) - ask*(1 + 0.002) per unit):
  C 100.5 x 1.5 against B 102 x 1:   edge 101.898 - 100.701 = 1.197 on 1.0;
  C 100.5 x 0.5 against B 101.5 x 2: edge 101.3985 - 100.701 = 0.6975 on 0.5;
  C 101.0 x 1 against B 101.5 x 1.5: edge 101.3985 - 101.202 = 0.1965 on 1.0; C's asks are used up.
  quantity 2.5, profit 1.197 + 0.34875 + 0.1965 = 1.74225.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from liqcore import OrderBook
from liqcore.venues import compare_books
from netguard import no_internet  # noqa: F401  (the autouse no-internet guard)


def book(bids, asks):
    b = OrderBook("0.5", "0.5")
    b.apply_snapshot(bids, asks)
    return b


@pytest.fixture
def three():
    return {
        "A": book([["100.0", "2"], ["99.5", "4"]], [["101.0", "1"], ["101.5", "3"]]),
        "B": book([["102.0", "1"], ["101.5", "2"]], [["103.0", "2"]]),
        "C": book([["99.0", "5"]], [["100.5", "1.5"], ["101.0", "1"]]),
    }


def test_worked_example(three):
    c = compare_books(three, band_bps=100, taker_fees={"A": 0.001, "B": 0.001, "C": 0.002}, symbol="X/Y")
    assert c.best_bid == ("B", 102.0) and c.best_ask == ("C", 100.5)
    assert c.tightest[0] == "B" and c.tightest[1] == pytest.approx(1 / 102.5 * 1e4)
    assert c.average_spread_bps == pytest.approx((1 / 100.5 + 1 / 102.5 + 1.5 / 99.75) * 1e4 / 3)
    a = c.arbitrage
    assert (a.buy_venue, a.sell_venue, a.buy_price, a.sell_price) == ("C", "B", 100.5, 102.0)
    assert a.gross_pct == pytest.approx(1.5 / 100.5 * 100)
    assert a.net_pct == pytest.approx((102 * 0.999 - 100.5 * 1.002) / (100.5 * 1.002) * 100)
    assert a.net_pct == pytest.approx(1.18867, abs=1e-5)
    assert a.quantity == pytest.approx(2.5) and a.profit == pytest.approx(1.74225)
    assert a.profitable and a.fees == (0.002, 0.001)
    # depth within 1% of each venue's mid: A mid 100.5 -> bids >= 99.495 (100, 99.5), asks <= 101.505
    q = {v.venue: v for v in c.quotes}
    assert q["A"].depth_quote == pytest.approx(100 * 2 + 99.5 * 4 + 101 * 1 + 101.5 * 3)
    assert c.deepest == ("A", q["A"].depth_quote)
    assert c.to_dict()["arbitrage"]["buy_venue"] == "C"


def test_fees_can_remove_the_opportunity(three):
    c = compare_books(three, taker_fees={"B": 0.01, "C": 0.01})
    assert c.arbitrage.gross_pct > 0 > c.arbitrage.net_pct
    assert not c.arbitrage.profitable and c.arbitrage.quantity == 0 and c.arbitrage.profit == 0


def test_no_cross_reports_the_least_bad_route():
    books = {"A": book([["100.0", "1"]], [["100.5", "1"]]), "B": book([["99.5", "1"]], [["101.0", "1"]])}
    a = compare_books(books).arbitrage
    # routes: buy A 100.5 / sell B 99.5 (-0.995%), buy B 101 / sell A 100 (-0.990%): the latter
    assert (a.buy_venue, a.sell_venue) == ("B", "A") and a.net_pct == pytest.approx(-1 / 101 * 100)
    assert not a.profitable and a.quantity == 0


def test_one_sided_and_single_venues():
    one = {"A": book([["100.0", "1"]], [])}
    c = compare_books(one, failures={"B": "TimeoutError"})
    assert c.best_bid == ("A", 100.0) and c.best_ask is None and c.tightest is None
    assert c.arbitrage is None and math.isnan(c.average_spread_bps) and c.failures == {"B": "TimeoutError"}


# ---------------------------------------------------------------- through ccxt.pro, on the simulator

def test_compare_venues_on_the_simulator():
    ccxt_pro = pytest.importorskip("ccxt.pro")
    sim_mod = pytest.importorskip("liqcore.sim")
    from liqcore.venues import compare_venues

    async def run():
        async with sim_mod.ExchangeSimulator(seed=7, interval=0.01, max_seconds=30) as sim:
            await sim.wait_updates("binance", "BTCUSDT", 5)
            sim.pause()
            exchanges = {
                "binance": sim.attach(ccxt_pro.binance({"enableRateLimit": False})),
                "okx": sim.attach(ccxt_pro.okx({"enableRateLimit": False})),
                # a venue that cannot be reached (nothing listens on port 9 of loopback);
                # creating the instance inside the loop, as ccxt.pro requires
                "dead": ccxt_pro.binanceusdm({"enableRateLimit": False, "timeout": 2000,
                                              "urls": {"api": sim_mod.loopback_urls(
                                                  ccxt_pro.binanceusdm().urls["api"], "http://127.0.0.1:9")}}),
            }
            try:
                c = await compare_venues(exchanges, "BTC/USDT", band_bps=50, limit=100, timeout=10)
                truth = {"binance": sim.true_book("binance", "BTCUSDT"), "okx": sim.true_book("okx", "BTC-USDT")}
                fees = {v: exchanges[v].markets["BTC/USDT"]["taker"] for v in ("binance", "okx")}
            finally:
                for ex in exchanges.values():
                    await ex.close()
        return c, truth, fees

    c, truth, fees = asyncio.run(run())
    assert set(c.failures) == {"dead"} and {q.venue for q in c.quotes} == {"binance", "okx"}
    for q in c.quotes:
        t = truth[q.venue]
        assert q.bid == float(t["bids"][0][0]) and q.bid_size == float(t["bids"][0][1])
        assert q.ask == float(t["asks"][0][0]) and q.ask_size == float(t["asks"][0][1])
    bid_venue = max(truth, key=lambda v: float(truth[v]["bids"][0][0]))
    ask_venue = min(truth, key=lambda v: float(truth[v]["asks"][0][0]))
    assert c.best_bid[0] == bid_venue and c.best_ask[0] == ask_venue
    assert c.arbitrage.fees == (fees[c.arbitrage.buy_venue], fees[c.arbitrage.sell_venue])
