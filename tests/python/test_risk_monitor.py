"""RiskMonitor (liqcore/risk/monitor.py): scores kept current from books and mark/funding records,
threshold callbacks with hysteresis; driven synchronously (a replay) and live against the simulator
with stock ccxt.pro."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqcore import OrderBook
from liqcore.errors import RiskInputError
from liqcore.feed.live_book import LiveBook
from liqcore.feed.records import FundingRate, MarkPrice, Trade
from liqcore.risk import LeverageTiers, Position, ScoreWeights, liquidation_price, liquidation_risk
from liqcore.risk.monitor import DEFAULT_THRESHOLDS, RiskEvent, RiskMonitor, RiskSnapshot

EX, SWAP = "binanceusdm", "BTC/USDT:USDT"
DAY = 1 / 365
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "risk_monitor.py"


def long20(**kw):
    """Isolated long 1 BTC at 60,000, 20x (3,000 USDT margin): liquidation 57,236.18 on the bundled tiers."""
    return Position(EX, SWAP, "long", size=kw.pop("size", 1), entry_price=60_000, leverage=20, **kw)


def book_at(mid, levels=40, size="0.2"):
    """A book of ``levels`` levels of ``size`` BTC per side, 0.1 apart around ``mid``."""
    b = OrderBook(tick_size="0.1", lot_size="0.001")
    b.apply_snapshot([[f"{mid - 0.1 * i:.1f}", size] for i in range(1, levels + 1)],
                     [[f"{mid + 0.1 * i:.1f}", size] for i in range(1, levels + 1)])
    return b


def mark(m, ts=1):
    return MarkPrice(EX, SWAP, ts, float(m))


def monitor(positions=(), **kw):
    kw.setdefault("sigma", 0.6)
    return RiskMonitor(positions, **kw)


def mark_for_score(target, position=None, sigma=0.6):
    """The mark at which the position's score (no book, no funding) is ``target`` (bisection:
    the score of a long falls as the mark rises)."""
    position = position or long20()
    tiers = LeverageTiers.default()
    lo, hi = 57_237.0, 70_000.0
    for _ in range(80):
        mid = (lo + hi) / 2
        s = liquidation_risk(position, sigma=sigma, tiers=tiers, mark=mid, funding_intervals=3).score
        lo, hi = (mid, hi) if s > target else (lo, mid)
    return (lo + hi) / 2


# ------------------------------------------------------------------ what drives the score
def test_score_is_liquidation_risk_of_the_mark_book_and_funding():
    pos = long20()
    mon = monitor([pos])
    book = book_at(60_000)
    mon.on_book(EX, SWAP, book)
    mon.on_record(mark(59_000))
    mon.on_record(FundingRate(EX, SWAP, 2, 0.0003, interval_ms=4 * 3_600_000))
    assert mon.update() == []
    snap = mon.latest(pos)
    # 4-hour funding over one day: 6 intervals; the mark, not the book's mid, is the price
    want = liquidation_risk(pos, sigma=0.6, tiers=LeverageTiers.default(), book=book, mark=59_000,
                            horizon=DAY, funding_rate=0.0003, funding_intervals=6)
    assert snap.risk == want
    assert snap.risk.funding_cost == pytest.approx(0.0003 * 6 * 59_000)
    assert (snap.mark_source, snap.mark_ts_ms, snap.funding_rate, snap.funding_ts_ms, snap.book_live, snap.level) \
        == ("mark", 1, 0.0003, 2, True, 0)
    assert isinstance(snap, RiskSnapshot) and snap.score == want.score and mon.scores() == {pos: want.score}
    assert mon.snapshots() == {pos: snap}
    d = snap.to_dict()
    assert d["risk"] == want.to_dict() and d["position"] == pos.to_dict() and d["score"] == want.score


def test_the_score_policy_is_passed_through():
    pos = long20()
    weights = ScoreWeights(probability=1, distance=0, funding=0, exit=0)
    mon = monitor([pos], sigma=0.9, horizon=7 / 365, monitoring=5 / 525_600, weights=weights)
    mon.on_record(mark(59_000))
    mon.update()
    want = liquidation_risk(pos, sigma=0.9, tiers=LeverageTiers.default(), mark=59_000, horizon=7 / 365,
                            monitoring=5 / 525_600, funding_intervals=21, weights=weights)
    assert mon.latest(pos).risk == want and want.score == 100 * want.probability


def test_the_mid_drives_until_a_mark_arrives_and_a_funding_record_can_carry_the_mark():
    pos = long20()
    mon = monitor([pos])
    mon.on_book(EX, SWAP, book_at(59_500))
    mon.update()
    s = mon.latest(pos)
    assert (s.mark_source, s.mark_ts_ms, s.risk.mark, s.funding_rate, s.funding_ts_ms) == \
        ("mid", None, 59_500.0, 0.0, None)
    # default 8-hour interval: 3 per day
    assert s.risk == liquidation_risk(pos, sigma=0.6, tiers=LeverageTiers.default(), book=book_at(59_500),
                                      mark=59_500.0, funding_intervals=3)
    # Binance's funding rides on the mark-price stream: the record's mark is a mark
    mon.on_record(FundingRate(EX, SWAP, 5, 0.0001, mark_price=58_800.0))
    mon.update()
    s = mon.latest(pos)
    assert (s.mark_source, s.risk.mark, s.mark_ts_ms, s.funding_rate) == ("mark", 58_800.0, 5, 0.0001)
    assert s.risk.funding_cost == pytest.approx(0.0001 * 3 * 58_800)


def test_not_scored_before_a_price_is_known():
    pos = long20()
    ev: list = []
    mon = monitor([pos], callback=ev.append)
    mon.on_record(FundingRate(EX, SWAP, 1, 0.0001))          # a rate but no price
    assert mon.update() == [] and mon.latest(pos) is None and mon.scores() == {} and ev == []
    mon.on_book(EX, SWAP, OrderBook(tick_size="0.1", lot_size="0.001"))    # empty book: no mid
    assert mon.update() == [] and mon.latest(pos) is None
    assert mon.stats()["recomputes"] == 0


def test_a_book_that_is_not_live_is_left_out():
    pos = long20()
    mon = monitor([pos])
    live = LiveBook(EX, SWAP, book_at(60_000))           # syncing: not trusted yet
    mon.on_book(EX, SWAP, live)
    mon.update()
    assert mon.latest(pos) is None                       # no mark and no trusted mid
    mon.on_record(mark(59_000))
    mon.update()
    s = mon.latest(pos)
    assert s.book_live is False and s.risk.exit_cost is None and "exit" not in s.risk.components
    assert s.risk == liquidation_risk(pos, sigma=0.6, tiers=LeverageTiers.default(), mark=59_000.0, funding_intervals=3)
    live.state = "live"
    mon.on_book(EX, SWAP, live)
    mon.update()
    s = mon.latest(pos)
    assert s.book_live is True and "exit" in s.risk.components


def test_an_older_record_does_not_take_the_mark_or_the_rate_back():
    pos = long20()
    mon = monitor([pos])
    mon.on_record(MarkPrice(EX, SWAP, 2_000, 59_000.0))
    mon.on_record(FundingRate(EX, SWAP, 2_000, 0.0002))
    mon.on_record(MarkPrice(EX, SWAP, 1_000, 61_000.0))                       # a late REST answer
    mon.on_record(FundingRate(EX, SWAP, 1_500, 0.0009, mark_price=62_000.0))
    mon.update()
    s = mon.latest(pos)
    assert (s.risk.mark, s.mark_ts_ms, s.funding_rate, s.funding_ts_ms) == (59_000.0, 2_000, 0.0002, 2_000)


def test_a_mark_whose_stream_is_down_yields_to_the_live_mid():
    from liqcore.feed import MarketData
    md = MarketData([(EX, SWAP, "mark"), (EX, SWAP, "funding")])     # not started: its streams' states set here
    mark_stream, funding_stream = md.stream(EX, SWAP, "mark"), md.stream(EX, SWAP, "funding")
    pos = long20()
    mon = RiskMonitor([pos], market_data=md, sigma=0.6)
    mark_stream.state = funding_stream.state = "live"
    mon.on_record(mark(59_000))
    mon.update()
    assert (mon.latest(pos).mark_source, mon.latest(pos).risk.mark) == ("mark", 59_000.0)   # no book: the mark
    mon.on_book(EX, SWAP, book_at(59_500))
    for states, want in ((("retrying", "live"), ("mark", 59_000.0)),     # the funding stream carries marks too
                         (("retrying", "failed"), ("mid", 59_500.0)),
                         (("live", "failed"), ("mark", 59_000.0))):
        mark_stream.state, funding_stream.state = states
        mon.update(force=True)
        assert (mon.latest(pos).mark_source, mon.latest(pos).risk.mark) == want, states
    mark_stream.state = funding_stream.state = "failed"
    mon.on_book(EX, SWAP, OrderBook(tick_size="0.1", lot_size="0.001"))   # no mid either: the last mark
    mon.update()
    assert (mon.latest(pos).mark_source, mon.latest(pos).mark_ts_ms) == ("mark", 1)


def test_records_of_other_kinds_and_bad_values_are_ignored_and_counted():
    pos = long20()
    mon = monitor([pos])
    for rec in (Trade(EX, SWAP, 1, "1", 60_000.0, 0.1, "buy"), mark(float("nan")), mark(0.0), mark(-1.0),
                FundingRate(EX, SWAP, 1, float("inf")), object()):
        mon.on_record(rec)
    assert mon.stats()["ignored_records"] == 6 and mon.stats()["records"] == 0
    mon.update()
    assert mon.latest(pos) is None
    # a record of a market nobody holds is kept (a position added later starts from it)
    mon.on_record(MarkPrice("binanceusdm", "ETH/USDT:USDT", 1, 3_000.0))
    assert mon.update() == []


# ---------------------------------------------------------------- thresholds and hysteresis
def test_the_readme_replay():
    """The README's example (sent with the report): a replay of marks, one crossing each way."""
    pos = Position("binanceusdm", "BTC/USDT:USDT", "long", size=1, entry_price=60_000, leverage=20)
    alerts: list[RiskEvent] = []
    mon = RiskMonitor([pos], sigma=0.60, thresholds=(50, 80), hysteresis=2, callback=alerts.append)
    for ts, m in enumerate([60_000, 58_600, 58_750, 58_650, 59_000]):
        mon.on_record(MarkPrice("binanceusdm", "BTC/USDT:USDT", ts, m))
        mon.update()
    assert [(e.direction, e.threshold, round(e.new_score, 1)) for e in alerts] == [("up", 50.0, 52.1),
                                                                                  ("down", 50.0, 44.1)]
    assert round(mon.latest(pos).risk.liq_price, 2) == 57_236.18 and mon.latest(pos).mark_source == "mark"



def test_crossings_with_hysteresis_fire_once_per_crossing():
    pos = long20()
    ev: list[RiskEvent] = []
    mon = monitor([pos], thresholds=(50,), hysteresis=2.0, callback=ev.append)
    # jitter around 50: up once at 50.5, nothing while above 48, down at 47.9, up again at 50.0
    for target in (30, 49.9, 50.5, 49.0, 48.1, 50.3, 47.9, 49.5, 50.0, 10):
        mon.on_record(mark(mark_for_score(target)))
        mon.update()
    got = [(e.direction, e.threshold, round(e.old_score, 1), round(e.new_score, 1)) for e in ev]
    assert got == [("up", 50.0, 49.9, 50.5), ("down", 50.0, 50.3, 47.9), ("up", 50.0, 49.5, 50.0),
                   ("down", 50.0, 50.0, 10.0)]
    assert [e.snapshot.level for e in ev] == [1, 0, 1, 0]
    e = ev[0]
    assert e.key == pos and e.position == pos and e.risk is e.snapshot.risk and e.time_ns == e.snapshot.time_ns
    assert e.to_dict()["snapshot"]["risk"] == e.risk.to_dict() and e.to_dict()["direction"] == "up"


def test_several_thresholds_crossed_in_one_update_come_in_crossing_order():
    pos = long20()
    mon = monitor([pos])
    assert mon.thresholds == DEFAULT_THRESHOLDS == (50.0, 80.0)
    mon.on_record(mark(mark_for_score(20)))
    assert mon.update() == []
    mon.on_record(mark(mark_for_score(85)))          # at most 87.5 without a book or funding: (0.4 + 0.3) / 0.8
    assert [(e.direction, e.threshold) for e in mon.update()] == [("up", 50.0), ("up", 80.0)]
    assert mon.latest(pos).level == 2
    mon.on_record(mark(mark_for_score(60)))
    assert [(e.direction, e.threshold) for e in mon.update()] == [("down", 80.0)]
    mon.on_record(mark(mark_for_score(10)))
    assert [(e.direction, e.threshold) for e in mon.update()] == [("down", 50.0)]


def test_hysteresis_zero_crosses_back_below_the_threshold():
    pos = long20()
    mon = monitor([pos], thresholds=[50], hysteresis=0)
    for target, want in ((49.9, []), (50.1, ["up"]), (49.95, ["down"])):
        mon.on_record(mark(mark_for_score(target)))
        assert [e.direction for e in mon.update()] == want


def test_first_score_above_a_threshold_is_notified_unless_told_otherwise():
    pos = long20()
    mon = monitor([pos])
    mon.on_record(mark(mark_for_score(85)))
    ev = mon.update()
    assert [(e.direction, e.threshold, e.old_score) for e in ev] == [("up", 50.0, None), ("up", 80.0, None)]
    quiet = monitor([pos], notify_initial=False)
    quiet.on_record(mark(mark_for_score(85)))
    assert quiet.update() == [] and quiet.latest(pos).level == 2
    quiet.on_record(mark(mark_for_score(40)))                # a later crossing is a real one
    assert [(e.direction, e.threshold) for e in quiet.update()] == [("down", 80.0), ("down", 50.0)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(57_300, 64_000), min_size=1, max_size=25),
       st.sampled_from([(50.0,), (30.0, 60.0), (20.0, 50.0, 80.0)]), st.sampled_from([0.0, 2.0, 7.5]))
def test_threshold_state_machine(marks, thresholds, h):
    """Whatever the marks: the score is liquidation_risk's; per threshold the events alternate up,
    down, up...; an up has score >= t, a down score < t - h; after every update a threshold is
    active exactly when it was reached and not left (the Schmitt trigger)."""
    pos = long20()
    tiers = LeverageTiers.default()
    ev: list[RiskEvent] = []
    mon = monitor([pos], thresholds=thresholds, hysteresis=h, callback=ev.append)
    active = [False] * len(thresholds)
    for m in marks:
        mon.on_record(mark(m))
        out = mon.update()
        score = mon.latest(pos).score
        assert score == liquidation_risk(pos, sigma=0.6, tiers=tiers, mark=m, funding_intervals=3).score
        for e in out:
            i = thresholds.index(e.threshold)
            assert e.direction == ("down" if active[i] else "up")
            active[i] = not active[i]
            assert e.new_score == score
            assert (score >= e.threshold) if e.direction == "up" else (score < e.threshold - h)
        for i, t in enumerate(thresholds):
            assert (not active[i] and score < t) or (active[i] and score >= t - h)
        assert mon.latest(pos).level == sum(active)
    assert len(ev) == mon.stats()["events"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["mark", "funding", "book"]), st.floats(57_300, 64_000),
                          st.floats(-0.003, 0.003)), min_size=1, max_size=20))
def test_coalesced_updates_end_where_eager_updates_end(steps):
    """However records and books are batched between update() calls, the final score is the one of
    the final state; each monitor's crossings add up to its threshold level, which may differ only
    within the hysteresis band (the level depends on the path, the score does not)."""
    pos = long20()
    eager, lazy = monitor([pos]), monitor([pos])
    eager_events, lazy_events = [], []
    for ts, (kind, price, rate) in enumerate(steps, start=1):
        for mon in (eager, lazy):
            if kind == "mark":
                mon.on_record(mark(price, ts))
            elif kind == "funding":
                mon.on_record(FundingRate(EX, SWAP, ts, rate))
            else:
                mon.on_book(EX, SWAP, book_at(round(price, 1)))
        eager_events += eager.update()
    lazy_events += lazy.update()
    a, b = eager.latest(pos), lazy.latest(pos)
    assert (a is None) == (b is None)
    if a is not None:
        assert a.risk == b.risk
        assert sum(1 if e.direction == "up" else -1 for e in eager_events) == a.level
        assert sum(1 if e.direction == "up" else -1 for e in lazy_events) == b.level
        assert b.level == sum(a.score >= t for t in DEFAULT_THRESHOLDS)      # one step from None
        assert sum(a.score >= t - 2.0 for t in DEFAULT_THRESHOLDS) >= a.level >= b.level


# ------------------------------------------------------------------------ callbacks
def test_a_failing_callback_is_counted_and_the_others_still_run(caplog):
    pos = long20()
    seen: list = []

    def boom(e):
        raise RuntimeError("user bug")
    mon = monitor([pos], callback=boom)
    unsub = mon.subscribe(seen.append)
    mon.on_record(mark(mark_for_score(60)))
    ev = mon.update()
    assert len(ev) == 1 and seen == ev and mon.stats()["callback_errors"] == 1
    assert "callback failed" in caplog.text
    unsub()
    mon.on_record(mark(mark_for_score(10)))
    assert len(mon.update()) == 1 and len(seen) == 1 and mon.stats()["callback_errors"] == 2


def test_an_async_callback_runs_as_a_task_and_its_failure_is_counted():
    async def main():
        pos = long20()
        done: list = []

        async def good(e):
            await asyncio.sleep(0)
            done.append(e.direction)

        async def bad(e):
            raise RuntimeError("async user bug")
        mon = monitor([pos], callback=good)
        mon.subscribe(bad)
        mon.on_record(mark(mark_for_score(60)))
        assert len(mon.update()) == 1
        for _ in range(5):
            await asyncio.sleep(0)
        await mon.close()
        return done, mon.stats()["callback_errors"]
    assert asyncio.run(main()) == (["up"], 1)


def test_an_async_callback_without_a_loop_is_an_error_not_a_leak():
    mon = monitor([long20()])

    async def cb(e):
        pass
    mon.subscribe(cb)
    mon.on_record(mark(mark_for_score(60)))
    assert len(mon.update()) == 1 and mon.stats()["callback_errors"] == 1


# ----------------------------------------------------------------- adding and removing
def test_add_remove_and_replace_under_a_key():
    mon = monitor()
    assert mon.positions == {} and mon.update() == []
    small, big = long20(size=0.5), long20(size=1)
    k = mon.add(small, key="btc")
    assert k == "btc" and mon.positions == {"btc": small}
    mon.on_record(mark(mark_for_score(60)))
    assert [e.direction for e in mon.update()] == ["up"]
    # replaced (resized): the threshold state and last score carry over, no second "up"
    mon.add(big, key="btc")
    assert mon.update() == [] and mon.latest("btc").position == big and mon.latest("btc").level == 1
    # looked up by the Position too
    assert mon.latest(big) is mon.latest("btc")
    short = Position(EX, SWAP, "short", size=1, entry_price=60_000, leverage=20)
    assert mon.add(short) == short
    mon.update()
    assert set(mon.scores()) == {"btc", short}
    assert mon.remove(big) == big
    assert set(mon.scores()) == {short}
    # a key re-added on another market leaves the old one: its records no longer touch it
    eth = Position(EX, "ETH/USDT:USDT", "long", size=1, entry_price=3_000, leverage=10)
    mon.add(eth, key="x", tiers=LeverageTiers.default())
    mon.add(short, key="x")
    mon.on_record(MarkPrice(EX, "ETH/USDT:USDT", 9, 2_000.0))
    mon.update()
    assert mon.latest("x").position == short and mon.latest("x").risk.mark != 2_000.0
    with pytest.raises(RiskInputError, match="key"):
        mon.latest("btc")
    with pytest.raises(RiskInputError, match="key"):
        mon.remove("btc")
    with pytest.raises(RiskInputError, match="key"):
        mon.latest(["unhashable"])


def test_tiers_given_per_market_or_per_position():
    bybit = Position("bybit", "BTC/USDT:USDT", "long", size=1, entry_price=20_000, leverage=50)
    tiers = LeverageTiers.build([{"floor": 0, "cap": 2_000_000, "max_leverage": 100, "mmr": 0.005}],
                                exchange="bybit", symbol="BTC/USDT:USDT")
    mon = monitor([bybit], tiers={("bybit", "BTC/USDT:USDT"): tiers})
    mon.on_record(MarkPrice("bybit", "BTC/USDT:USDT", 1, 20_000.0))
    mon.update()
    assert round(mon.latest(bybit).risk.liq_price, 2) == 19_700.00          # Bybit's example, analytics.md §6.2
    other = monitor()
    other.add(bybit, tiers=tiers, sigma=0.8)
    other.on_record(MarkPrice("bybit", "BTC/USDT:USDT", 1, 20_000.0))
    other.update()
    lp = liquidation_price(bybit, tiers).price
    assert other.latest(bybit).risk == liquidation_risk(bybit, sigma=0.8, liq_price=lp, mark=20_000.0,
                                                        funding_intervals=3)


# ------------------------------------------------------------------------- bad input
BAD = [
    (dict(sigma=0), "sigma"), (dict(sigma=-0.5), "sigma"), (dict(sigma=float("nan")), "sigma"),
    (dict(sigma="0.6"), "sigma"), (dict(horizon=0), "horizon"), (dict(horizon=float("inf")), "horizon"),
    (dict(monitoring=0), "monitoring"), (dict(thresholds=(-1,)), r"thresholds\[0\]"),
    (dict(thresholds=(50, 100.5)), r"thresholds\[1\]"), (dict(thresholds=()), "thresholds"),
    (dict(thresholds=(50, 50)), "thresholds"), (dict(thresholds="50"), "thresholds"),
    (dict(thresholds=[float("nan")]), "thresholds"), (dict(thresholds=50), "thresholds"),
    (dict(hysteresis=-1), "hysteresis"), (dict(hysteresis=101), "hysteresis"),
    (dict(min_interval=-0.1), "min_interval"),
    (dict(funding_interval_hours=0), "funding_interval_hours"), (dict(weights={"exit": 1}), "weights"),
    (dict(notify_initial=1), "notify_initial"), (dict(callback=3), "callback"), (dict(tiers=[1]), "tiers"),
    (dict(tiers={(EX, SWAP): "table"}), "tiers"), (dict(tiers={SWAP: LeverageTiers.default()}), "tiers"),
    (dict(feed="binanceusdm"), "feed"), (dict(market_data=[("binanceusdm", SWAP, "mark")]), "market_data"),
]


@pytest.mark.parametrize("kw,name", BAD, ids=[f"{n}-{i}" for i, (_, n) in enumerate(BAD)])
def test_bad_settings_are_refused(kw, name):
    with pytest.raises(RiskInputError, match=name):
        monitor([long20()], **kw)


BAD_POSITIONS = [
    (lambda: [Position("okx", SWAP, "long", size=1, entry_price=60_000, leverage=10)], "exchange"),
    (lambda: [{"exchange": EX}], "position"),
    (lambda: long20(), "positions"),
    (lambda: [Position(EX, SWAP, "long", size=1, entry_price=60_000, leverage=120)], "leverage"),   # tier max 100x
    (lambda: [Position("bybit", SWAP, "long", size=1, entry_price=60_000, leverage=10)], "tiers"),   # none bundled
    (lambda: [long20(), long20()], "positions"),
]


def test_a_position_liquidated_at_any_price_is_watched_as_the_worst():
    """A cross short whose other positions lost more than the wallet has no liquidation price: it is
    scored (touch probability 1, distance 0), not refused."""
    gone = Position(EX, SWAP, "short", size=1, entry_price=60_000, leverage=20, margin_mode="cross",
                    wallet_balance=1_000, other_upnl=-70_000)
    mon = monitor([gone])
    mon.on_record(MarkPrice(EX, SWAP, 1, 60_000.0))
    mon.update()
    risk = mon.latest(gone).risk
    assert (risk.liq_price, risk.probability, risk.distance_sigma) == (None, 1.0, 0.0) and risk.score > 80


@pytest.mark.parametrize("make,name", BAD_POSITIONS, ids=[n.split()[0] for _, n in BAD_POSITIONS])
def test_bad_positions_are_refused(make, name):
    with pytest.raises(RiskInputError, match=name):
        monitor(make())


def test_a_refused_add_changes_nothing():
    mon = monitor([long20()])
    before = mon.positions
    bad = [dict(position="x"), dict(position=long20(size=2), key=["list"]), dict(position=long20(size=2), market="BTC"),
           dict(position=long20(size=2), market=(EX, "")), dict(position=long20(size=2), sigma=0),
           dict(position=long20(size=2), tiers={"a": 1})]
    for kw in bad:
        position = kw.pop("position")
        with pytest.raises(RiskInputError):
            mon.add(position, **kw)
    assert mon.positions == before


def test_a_market_the_sources_do_not_serve_is_refused():
    from liqcore.feed import LiveFeed, MarketData
    feed = LiveFeed([(EX, SWAP)])                      # not started: nothing connects
    md = MarketData([(EX, "ETH/USDT:USDT", "mark")])
    eth = Position(EX, "ETH/USDT:USDT", "long", size=1, entry_price=3_000, leverage=10)
    mon = RiskMonitor([long20()], feed=feed, market_data=md, sigma=0.6,
                      tiers={(EX, "ETH/USDT:USDT"): LeverageTiers.default()})
    mon.add(eth)                                       # its mark comes from the market data
    btc_elsewhere = Position(EX, "BTC/USDT", "long", size=1, entry_price=60_000, leverage=10)
    with pytest.raises(RiskInputError, match="market"):
        mon.add(btc_elsewhere, tiers=LeverageTiers.default())
    assert mon.add(btc_elsewhere, tiers=LeverageTiers.default(), market=(EX, SWAP)) == btc_elsewhere


# ----------------------------------------------------------------- the simulator's price move
@pytest.mark.parametrize("venue,ticks", [("binanceusdm", -23_000), ("okx", 150), ("binanceusdm", 3)])
def test_synthetic_book_move_reprices_every_level_and_the_process_goes_on(venue, ticks):
    """SyntheticBook.move: the next event shifts every level by ``ticks`` ticks with its size (and
    OKX's other fields); the random process then continues exactly as it would have, shifted."""
    from decimal import Decimal

    from liqcore.sim import SyntheticBook, TrueBook, default_instruments
    inst = next(i for i in default_instruments() if i.venue == venue and i.id.startswith("BTC"))
    moved, plain = SyntheticBook(inst, seed=4), SyntheticBook(inst, seed=4)
    client = TrueBook()
    init = moved.initial()
    client.load(init.bids, init.asks)
    for _ in range(20):
        ev = moved.next_event()
        client.apply(ev.bids, ev.asks)
        plain.next_event()
    before = [moved.book.top(0), moved.book.top(1)]
    moved.move(ticks)
    ev = moved.next_event()
    client.apply(ev.bids, ev.asks)
    step = inst.tick * ticks

    def shifted(levels):
        return [(inst.price_text(Decimal(lv[0]) + step), *lv[1:]) for lv in levels]
    assert [client.top(0), client.top(1)] == [moved.book.top(0), moved.book.top(1)] == \
        [shifted(before[0]), shifted(before[1])]
    for _ in range(30):
        ev = moved.next_event()
        client.apply(ev.bids, ev.asks)
        plain.next_event()
        assert not client.is_crossed
    assert [client.top(0), client.top(1)] == [shifted(plain.book.top(0)), shifted(plain.book.top(1))]


def test_synthetic_book_move_refuses_non_positive_prices_and_non_integers():
    from liqcore.sim import SyntheticBook, default_instruments
    inst = next(i for i in default_instruments() if i.venue == "binanceusdm" and i.id == "BTCUSDT")
    src = SyntheticBook(inst, seed=1)
    with pytest.raises(ValueError, match="<= 0"):
        src.move(-600_000)                           # 60,000 on the 0.10 tick
    for bad in (1.5, True, "3"):
        with pytest.raises(TypeError):
            src.move(bad)
    src.move(-10)
    src.move(10)                                     # they add up: nothing moves
    assert src._pending_move == 0


# ----------------------------------------------------------------- live, against the simulator
ccxt_pro = pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import exchanges, run, until  # noqa: E402


def test_live_crossing_up_then_back_down_through_stock_ccxt_pro():
    """The simulated market falls ~2,300 USDT and recovers: the long's score crosses 50 upwards
    once, then back below 50 - 2 once; a callback that raises is counted and changes nothing; a
    position added while running is scored; closing the monitor leaves the feed running."""
    from liqcore.feed import LiveFeed, MarketData
    from liqcore.sim import ExchangeSimulator, SyntheticBook, default_instruments

    async def main():
        inst = next(i for i in default_instruments() if i.venue == EX and i.id == "BTCUSDT")
        source = SyntheticBook(inst, seed=3)
        pos = long20()
        events: list[RiskEvent] = []

        def boom(e):
            raise RuntimeError("user bug")
        async with ExchangeSimulator([(inst, source)], seed=3, interval=0.005, max_seconds=40) as sim:
            md_ex = sim.attach(ccxt_pro.binanceusdm({"enableRateLimit": False}))
            async with LiveFeed([(EX, SWAP)], exchanges=exchanges(sim, EX), backoff=(0.02, 0.5)) as feed, \
                    MarketData([(EX, SWAP, "mark"), (EX, SWAP, "funding")], exchanges={EX: md_ex}) as md:
                mon = RiskMonitor([pos], feed=feed, market_data=md, sigma=0.6, min_interval=0.01,
                                  callback=events.append)
                mon.subscribe(boom)
                async with mon:
                    await mon.wait_scored(15)
                    await until(lambda: mon.latest(pos).mark_source == "mark" and mon.latest(pos).funding_ts_ms, 15.0)
                    before = mon.latest(pos)
                    assert before.book_live is True and before.score < 45 and events == []
                    assert before.risk.mark == pytest.approx(60_000, rel=0.005)

                    source.move(-23_000)                          # the mark goes to ~57,700
                    await until(lambda: len(events) >= 1, 15.0)
                    n_marks = md.stats(EX, SWAP, "mark")["records"]
                    await until(lambda: md.stats(EX, SWAP, "mark")["records"] >= n_marks + 5, 15.0)
                    assert len(events) == 1                       # later marks around 57,700: no repeat
                    up = events[0]
                    assert (up.direction, up.threshold, up.key) == ("up", 50.0, pos)
                    assert up.old_score < 50 <= up.new_score < 80
                    assert up.risk.mark == pytest.approx(57_700, rel=0.005)
                    assert mon.latest(pos).level == 1 and mon.stats()["callback_errors"] == 1

                    short = Position(EX, SWAP, "short", size=1, entry_price=60_000, leverage=20)
                    mon.add(short, key="short")                   # while running
                    await until(lambda: mon.latest("short") is not None, 15.0)
                    assert mon.latest("short").score < mon.latest(pos).score

                    source.move(23_000)                           # back to ~60,000
                    await until(lambda: len(events) >= 2, 15.0)
                    n_marks = md.stats(EX, SWAP, "mark")["records"]
                    await until(lambda: md.stats(EX, SWAP, "mark")["records"] >= n_marks + 5, 15.0)
                    down = events[1]
                    assert [e.key for e in events] == [pos, pos]
                    assert (down.direction, down.threshold) == ("down", 50.0)
                    assert down.new_score < 48 <= down.old_score
                    assert down.risk.mark == pytest.approx(60_000, rel=0.005)
                    stats = mon.stats()
                    assert stats["callback_errors"] == 2 and stats["events"] == 2
                    # coalesced: far fewer recomputes than book messages
                    assert stats["book_updates"] > 0 and stats["recomputes"] < stats["book_updates"] + stats["records"]
                    assert stats["mean_recompute_us"] > 0
                    # removing the market's last position ends the book subscription; adding it back resumes
                    mon.remove("short")
                    mon.remove(pos)
                    assert mon._feed_unsubs == {} and mon.scores() == {}
                    mon.add(pos)
                    await mon.wait_scored(10)
                    assert mon.latest(pos).score < 48 and list(mon._feed_unsubs) == [(EX, SWAP)]
                    assert len(events) == 2
                # the monitor is closed; the feed goes on and no longer calls it
                assert mon._feed_unsubs == {} and all(
                    cb.__self__ is not mon for cb in feed.live_book(EX, SWAP).subscribers if hasattr(cb, "__self__"))
                applied = feed.live_book(EX, SWAP).stats.applied
                await until(lambda: feed.live_book(EX, SWAP).stats.applied > applied, 15.0)
                assert feed.fatal == [] and md.failed == []
        return mon.stats()
    stats = run(main(), timeout=60)
    assert stats["score_errors"] == 0


def test_live_bybit_with_tiers_fetched_through_ccxt():
    """Bybit USDT perpetual: tiers from the simulator's risk-limit endpoint through stock ccxt
    (none bundled: the monitor refuses the position without them), mark and funding from Bybit's
    tickers stream; a fall of ~2,300 USDT crosses 50 upwards once."""
    from liqcore.feed import LiveFeed, MarketData
    from liqcore.sim import ExchangeSimulator, SyntheticBook, default_instruments

    async def main():
        insts = [i for i in default_instruments() if i.venue in ("bybit", "bybitlinear") and i.id == "BTCUSDT"]
        linear = next(i for i in insts if i.venue == "bybitlinear")
        source = SyntheticBook(linear, seed=5)
        markets = [(linear, source) if i is linear else i for i in insts]
        pos = Position("bybit", SWAP, "long", size=1, entry_price=60_000, leverage=20)
        events: list[RiskEvent] = []
        async with ExchangeSimulator(markets, seed=5, interval=0.005, max_seconds=40) as sim:
            md_ex = sim.attach(ccxt_pro.bybit({"enableRateLimit": False}))
            async with LiveFeed([("bybit", SWAP)], exchanges=exchanges(sim, "bybit"), backoff=(0.02, 0.5)) as feed, \
                    MarketData([("bybit", SWAP, "mark"), ("bybit", SWAP, "funding")], exchanges={"bybit": md_ex}) as md:
                with pytest.raises(RiskInputError, match="tiers"):
                    RiskMonitor([pos], feed=feed, market_data=md, sigma=0.6)
                tiers = LeverageTiers.from_ccxt(await md_ex.fetch_market_leverage_tiers(SWAP), exchange="bybit")
                async with RiskMonitor([pos], feed=feed, market_data=md, sigma=0.6, tiers={("bybit", SWAP): tiers},
                                       min_interval=0.01, callback=events.append) as mon:
                    await mon.wait_scored(15)
                    await until(lambda: mon.latest(pos).mark_source == "mark" and mon.latest(pos).funding_ts_ms is not None)
                    before = mon.latest(pos)
                    source.move(-23_000)
                    await until(lambda: events)
                    n = md.stats("bybit", SWAP, "mark")["records"]
                    await until(lambda: md.stats("bybit", SWAP, "mark")["records"] >= n + 5)
        return tiers, before, events
    tiers, before, events = run(main(), timeout=60)
    # Bybit's formula at the entry tier: LP = EP - (IM - MM)/Q
    tier = tiers.tier_for(60_000)
    assert before.risk.liq_price == pytest.approx(60_000 - (3_000 - (60_000 * tier.mmr - tier.cum)), abs=1e-6)
    assert before.score < 45 and before.book_live is True and before.funding_rate != 0.0
    assert [(e.direction, e.threshold) for e in events] == [("up", 50.0)]
    assert events[0].risk.mark == pytest.approx(57_700, rel=0.005)


def test_the_example_runs():
    res = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120,
                         cwd=EXAMPLE.parent.parent / "tests")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "liquidation price 57236.18" in out
    assert re.search(r"crossed 50 up: score \d+\.\d -> \d+\.\d at mark 57\d{3}\.\d", out), out
    assert re.search(r"crossed 50 down: score \d+\.\d -> \d+\.\d at mark (59|60)\d{3}\.\d", out), out
    assert out.rstrip().endswith("callbacks: 2") and "Traceback" not in res.stderr
