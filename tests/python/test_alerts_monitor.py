"""LiveLiquidityMonitor end to end: the simulator plays a spread blow-out, a depth drop, a one-sided
book and a price jump into a book, and the monitor raises exactly one alert of the right type and
severity for each, within a bounded delay, each ended before the next; a calm book over the same
time raises none (false-positive test). First replayed through the C book (deterministic,
offline), then live: simulator -> websocket -> stock ccxt.pro -> LiveFeed -> monitor."""

from __future__ import annotations

import asyncio

import pytest
from netguard import no_internet  # noqa: F401  (the autouse no-internet guard)
from simtest import until

from liqcore import OrderBook
from liqcore.alerts import (AlertEngine, Debounce, DepthDrop, Imbalance, LiveLiquidityMonitor, LiquidityAlert,
                            PriceAnomaly, SpreadWidening)
from liqcore.errors import AlertInputError
from liqcore.sim import SyntheticBook, default_instruments

NS = 1_000_000_000
T0 = 1_700_000_000 * NS
STEP = NS // 50                                   # the simulated book changes 50 times a second


def fast_rules() -> list:
    """The default rules with warm-ups and memories a test can wait for (seconds, not minutes).
    The depth threshold is 65%, not 50%: the synthetic book holds some twenty lumpy levels per side
    (lognormal sizes), so one level coming or going moves its 1% depth by up to 64% on a calm book
    (measured over 1,200 s of ten seeds); a real BTC book has hundreds of levels in that band."""
    return [SpreadWidening(lookback_s=60, refresh_s=0.5, min_count=100),
            DepthDrop(half_life_s=30, warmup_s=10, drop_pct=65, clear_pct=30),
            Imbalance(hold_s=2), PriceAnomaly(interval_s=0.2, warmup=10, half_life_s=30)]


def inst():
    return next(i for i in default_instruments() if i.venue == "binance" and i.id.startswith("BTC"))


class Replay:
    """A SyntheticBook's events applied to a C book, each evaluated by the monitor at its time."""

    def __init__(self, monitor: LiveLiquidityMonitor, seed: int = 5) -> None:
        self.src = SyntheticBook(inst(), seed=seed)
        self.book = OrderBook(tick_size=str(inst().tick), lot_size=str(inst().lot))
        init = self.src.initial()
        self.book.apply_snapshot([lv[:2] for lv in init.bids], [lv[:2] for lv in init.asks])
        self.monitor = monitor
        self.ts = T0

    def run(self, seconds: float) -> list[LiquidityAlert]:
        out = []
        for _ in range(int(seconds * NS / STEP)):
            ev = self.src.next_event()
            self.book.apply_levels([lv[:2] for lv in ev.bids], [lv[:2] for lv in ev.asks])
            self.ts += STEP
            out += self.monitor.on_book("binance", "BTC/USDT", self.book, ts=self.ts)
        return out


SCENARIOS = [
    ("spread blow-out", lambda src: src.disturb("spread", 150, ticks=3000), "SPREAD_WIDENING", "HIGH"),
    ("depth drop", lambda src: src.disturb("depth", 150, factor=0.2), "DEPTH_DROP", "MEDIUM"),
    ("one-sided book", lambda src: src.disturb("one_sided", 150, side="bid"), "DEPTH_DROP", "HIGH"),
    ("price jump", lambda src: src.move(60_000), "PRICE_ANOMALY", "HIGH"),          # +600 USDT, 1%
]


def test_replay_each_anomaly_is_one_alert_and_a_calm_book_none() -> None:
    monitor = LiveLiquidityMonitor(rules=fast_rules())
    replay = Replay(monitor)
    assert replay.run(30) == []                                    # warm-up and calm: nothing
    for name, inject, kind, severity in SCENARIOS:
        start = replay.ts
        inject(replay.src)
        alerts = replay.run(12)                                    # 3 s of anomaly, then recovery
        assert [(a.type, a.severity, a.active) for a in alerts] == [(kind, severity, True), (kind, severity, False)], \
            (name, [(a.type, a.severity, a.message) for a in alerts])
        assert alerts[0].ts - start < 1 * NS, name                 # raised within a second of the injection
        assert replay.run(20) == [], name                          # and calm again
    assert monitor.active() == [] and monitor.stats()["alerts"] == monitor.stats()["ended"] == 4


def test_replay_a_calm_book_over_the_same_time_raises_nothing() -> None:
    monitor = LiveLiquidityMonitor(rules=fast_rules())
    assert Replay(monitor, seed=6).run(30 + 4 * 32) == [] and monitor.stats()["evaluated"] == 158 * 50


def test_interval_limits_how_often_a_market_is_evaluated() -> None:
    monitor = LiveLiquidityMonitor(rules=fast_rules(), interval_ms=100)
    Replay(monitor).run(10)
    assert monitor.stats()["updates"] == 500 and monitor.stats()["evaluated"] == 100


def test_callbacks_errors_store_and_history() -> None:
    seen, written = [], []

    class Store:
        def write(self, table: str, rows: list) -> None:
            written.append((table, rows))

    def boom(alert: LiquidityAlert) -> None:
        raise RuntimeError("a broken callback")

    monitor = LiveLiquidityMonitor(rules=fast_rules(), on_alert=seen.append, store=Store(), history=1)
    monitor.subscribe(boom)
    unsubscribe = monitor.subscribe(seen.append)
    unsubscribe()
    replay = Replay(monitor)
    replay.run(30)
    replay.src.disturb("spread", 150, ticks=3000)
    replay.run(12)
    assert [a.active for a in seen] == [True, False] and [t for t, _ in written] == ["alerts", "alerts"]
    assert written[0][1] == [seen[0]] and monitor.alerts() == [seen[1]]
    s = monitor.stats()
    assert (s["callback_errors"], s["history_dropped"], s["store_errors"]) == (2, 1, 0)


def test_cross_venue_reference_is_the_median_of_the_other_venues() -> None:
    monitor = LiveLiquidityMonitor(rules=[PriceAnomaly()])
    books = {}
    for ex, mid in (("a", 100.0), ("b", 102.0), ("c", 110.0)):
        b = OrderBook(tick_size="0.5", lot_size="1")
        b.apply_snapshot([[mid - 0.5, 1]], [[mid + 0.5, 1]])
        books[ex] = b
        monitor.on_book(ex, "X/USDT", b, ts=T0)
    assert monitor.observation("a", "X/USDT", books["a"], T0).reference_price == 106.0
    assert monitor.observation("c", "X/USDT", books["c"], T0).reference_price == 101.0


@pytest.mark.parametrize("kw, match", [
    (dict(spread_threshold_pct=0), "spread_threshold_pct"), (dict(depth_threshold_pct=120), "depth_threshold_pct"),
    (dict(interval_ms=-1), "interval_ms"), (dict(imbalance_levels=0), "imbalance_levels"),
    (dict(history=0), "history"), (dict(store=object()), "store"), (dict(rules=[object()]), "rules"),
    (dict(debounce=(3, 5)), "debounce"),
])
def test_bad_settings_are_refused(kw, match) -> None:
    with pytest.raises(AlertInputError, match=match):
        LiveLiquidityMonitor(**kw)


def test_thresholds_reach_the_rules() -> None:
    m = LiveLiquidityMonitor(spread_threshold_pct=300, depth_threshold_pct=40)
    spread, depth = m.engine.rules[0], m.engine.rules[1]
    assert (spread.ratio, depth.drop) == (4.0, 40.0)
    assert isinstance(AlertEngine([spread]), AlertEngine) and Debounce().fire == 3


async def _live(sim_seconds: float):
    import ccxt.pro as ccxt_pro

    from liqcore.feed import LiveFeed
    from liqcore.sim import ExchangeSimulator

    alerts: list[LiquidityAlert] = []
    seen: list[tuple[str, list[LiquidityAlert], list[LiquidityAlert]]] = []
    async with ExchangeSimulator(seed=3, interval=0.02, max_seconds=sim_seconds) as sim:
        ex = sim.attach(ccxt_pro.binance({"enableRateLimit": False}))
        async with LiveFeed([("binance", "BTC/USDT")], exchanges={"binance": ex}) as feed:
            await feed.wait_live(timeout=20)
            async with LiveLiquidityMonitor(feed, rules=fast_rules(), on_alert=alerts.append) as monitor:
                src = sim.market("binance", "BTC/USDT").source
                # every rule warmed up (about 10 s), then 5 s more of a calm book judged
                await until(lambda: monitor.warming("binance", "BTC/USDT") == [], 60)
                await asyncio.sleep(5)
                calm = list(alerts)
                for name, inject, *_ in SCENARIOS:
                    before = len(alerts)
                    inject(src)                                      # 150 events: 3 s at 50 events/s
                    for _ in range(240):
                        await asyncio.sleep(0.05)
                        if len(alerts) >= before + 2:                # its start and its end
                            break
                    await asyncio.sleep(4)                           # calm again: nothing more
                    seen.append((name, alerts[before:before + 2], alerts[before + 2:]))
                return calm, seen, monitor.stats()


def test_live_each_anomaly_through_ccxt_pro_is_one_alert() -> None:
    """The same four anomalies played by the simulator into a live book (websocket, stock ccxt.pro,
    the LiveFeed): one alert each, of the right type and severity, started and ended."""
    calm, seen, stats = asyncio.run(_live(120))
    assert calm == []
    for (name, pair, extra), (_, _, kind, severity) in zip(seen, SCENARIOS):
        assert [(a.type, a.severity, a.active) for a in pair] == [(kind, severity, True), (kind, severity, False)], \
            (name, [(a.type, a.severity, a.message) for a in pair + extra])
        assert extra == [], name
    assert stats["evaluated"] > 1_000 and stats["callback_errors"] == 0
