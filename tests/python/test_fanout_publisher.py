"""RedisPublisher and FanoutReader against a real redis-server (tests/python/redis_server.py):
tops, reports and alerts reach the channels, the latest-value keys (with their TTL) and the bounded
alert stream, and a reader resumes the stream from an id; a Redis restart (kill, start on the same
port): the publisher reconnects, alerts queued meanwhile arrive, later messages arrive, nothing
crashes; a stalled Redis (SIGSTOP) fills the bounded buffer, publishing never waits, the drops are
counted; bad input is a FanoutError that changes nothing."""

from __future__ import annotations

import dataclasses
import math
import socket
import threading
import time

import pytest
import redis
from redis_server import redis_server, redis_url  # noqa: F401  (the fixture)
from netguard import no_internet  # noqa: F401  (the autouse no-internet guard)

from liqcore import OrderBook
from liqcore.alerts import LiquidityAlert
from liqcore.fanout import (FanoutConnectionError, FanoutError, FanoutReader, Message, RedisPublisher, market_name,
                            stream_name)

FAST = dict(backoff_s=(0.01, 0.2), timeout_s=1.0)


def make_book(exchange: str = "binance", symbol: str = "BTC/USDT", bid: float = 100.0) -> OrderBook:
    b = OrderBook(tick_size="0.01", lot_size="0.001", symbol=symbol, exchange=exchange)
    b.apply_snapshot([[bid, 1.0], [bid - 0.01, 2.5]], [[bid + 0.02, 1.5]], update_id=7)
    return b


def make_alert(n: int = 0, exchange: str = "binance", ended: bool = False) -> LiquidityAlert:
    ts = 1_700_000_000_000 + n
    return LiquidityAlert(
        id=f"{exchange}:BTC/USDT:SPREAD_WIDENING:{ts}", ts_ms=ts, exchange=exchange, symbol="BTC/USDT",
        type="SPREAD_WIDENING", severity="HIGH", metric="spread_bps", current=12.5, baseline=2.0,
        deviation_pct=525.0, z=None, message=f"spread x{n}", suggested_action="widen quotes", requires_action=True,
        baseline_values={"median": 2.0, "n": n}, ended_ms=ts + 500 if ended else None)


def drain(sub, n: int, limit_s: float = 10.0) -> list[Message]:
    out: list[Message] = []
    deadline = time.monotonic() + limit_s
    while len(out) < n and time.monotonic() < deadline:
        m = sub.get(timeout_s=0.2)
        if m is not None:
            out.append(m)
    return out


def test_tops_reports_and_alerts_reach_channels_keys_and_the_stream(redis_url: str) -> None:
    book = make_book()
    alert = make_alert()
    with FanoutReader(redis_url) as reader, reader.subscribe() as sub, RedisPublisher(redis_url, **FAST) as pub:
        assert pub.publish_top(book) and pub.publish_report(book.liquidity_report()) and pub.publish_alert(alert)
        assert pub.flush()
        got = drain(sub, 3)
        assert [(m.kind, m.exchange, m.symbol) for m in got] == [("top", "binance", "BTC/USDT"),
                                                                 ("report", "binance", "BTC/USDT"),
                                                                 ("alert", "binance", "BTC/USDT")]
        top = reader.latest("top", "binance", "BTC/USDT")
        assert top == got[0].data
        assert (top["bid"], top["bid_size"], top["ask"], top["ask_size"], top["update_id"]) == (100.0, 1.0, 100.02,
                                                                                                 1.5, 7)
        assert top["mid"] == pytest.approx(100.01) and top["spread_bps"] == pytest.approx(book.spread_bps)
        report = reader.latest("report", "binance", "BTC/USDT")
        assert report["liquidity_1pct"] == pytest.approx(book.liquidity_report().liquidity_1pct)
        assert isinstance(report["ts_ms"], int)
        assert reader.latest("alert", "binance", "BTC/USDT")["id"] == alert.id
        assert [a for _, a in reader.alerts()] == [alert]
        assert reader.latest("top", "okx", "BTC/USDT") is None
        s = pub.stats()
        assert (s["offered"], s["published"], s["dropped"], s["failed"], s["queued"], s["errors"]) == (3, 3, 0, 0, 0, 0)
        assert s["connected"] is True


def test_names_are_the_documented_ones(redis_url: str) -> None:
    raw = redis.Redis.from_url(redis_url)
    with RedisPublisher(redis_url, prefix="desk1", **FAST) as pub:
        pub.publish_top(make_book("bybit", "BTC/USDT:USDT"))
        pub.publish_alert(make_alert())
        assert pub.flush()
    assert market_name("desk1", "top", "bybit", "BTC/USDT:USDT") == "desk1:top:bybit:BTC/USDT:USDT"
    assert sorted(raw.keys()) == [b"desk1:alert:binance:BTC/USDT", b"desk1:alerts", b"desk1:top:bybit:BTC/USDT:USDT"]
    assert raw.type(stream_name("desk1")) == b"stream"
    assert 0 < raw.pttl("desk1:top:bybit:BTC/USDT:USDT") <= 60_000
    raw.close()


def test_a_subscription_filters_by_kind_exchange_and_symbol(redis_url: str) -> None:
    with FanoutReader(redis_url) as reader, reader.subscribe("top", exchange="okx") as sub, \
            RedisPublisher(redis_url, **FAST) as pub:
        pub.publish_top(make_book("binance"))
        pub.publish_alert(make_alert(exchange="okx"))
        pub.publish_top(make_book("okx", "ETH/USDT", 2000.0))
        pub.publish_top(make_book("okx", "BTC/USDT", 101.0))
        assert pub.flush()
        got = drain(sub, 2)
        assert [(m.exchange, m.symbol, m.data["bid"]) for m in got] == [("okx", "ETH/USDT", 2000.0),
                                                                        ("okx", "BTC/USDT", 101.0)]
        assert sub.get(timeout_s=0.2) is None


def test_a_subscription_matches_parts_not_text(redis_url: str) -> None:
    # the pattern liqcore:*:okx:* also matches liqcore:top:binance:okx:X (a "*" spans ":")
    with FanoutReader(redis_url) as reader, reader.subscribe(exchange="okx") as sub, \
            RedisPublisher(redis_url, **FAST) as pub:
        pub.publish_top(make_book("binance", "okx:X"))
        pub.publish_top(make_book("okx", "BTC/USDT"))
        assert pub.flush()
        assert [(m.exchange, m.symbol) for m in drain(sub, 1)] == [("okx", "BTC/USDT")]
        assert sub.get(timeout_s=0.2) is None


def test_the_stream_resumes_from_an_id_and_keeps_nan_and_ends(redis_url: str) -> None:
    alerts = [make_alert(n, ended=n % 2 == 1) for n in range(5)]
    nan_alert = dataclasses.replace(make_alert(9), deviation_pct=math.nan, z=3.5)
    with FanoutReader(redis_url) as reader, RedisPublisher(redis_url, **FAST) as pub:
        for a in alerts:
            pub.publish_alert(a)
        assert pub.flush()
        first = reader.alerts(count=2)
        assert [a for _, a in first] == alerts[:2]
        rest = reader.alerts(after=first[-1][0])                    # resume after the last one handled
        assert [a for _, a in rest] == alerts[2:] and [a.active for _, a in rest] == [True, False, True]
        assert reader.alerts(after=rest[-1][0]) == []
        pub.publish_alert(nan_alert)
        waited = reader.alerts(after=rest[-1][0], block_s=5.0)      # blocks until it arrives
        (_, back), = waited
        assert math.isnan(back.deviation_pct) and back.z == 3.5 and back.id == nan_alert.id


def test_the_stream_length_is_bounded(redis_url: str) -> None:
    with FanoutReader(redis_url) as reader, RedisPublisher(redis_url, stream_maxlen=10, **FAST) as pub:
        for n in range(1000):
            assert pub.publish_alert(make_alert(n))
        assert pub.flush()
        raw = redis.Redis.from_url(redis_url)
        length = raw.xlen(stream_name("liqcore"))
        raw.close()
        # MAXLEN ~ trims whole nodes (stream-node-max-entries, 100 by default): at most ~10 + 100 kept
        assert 10 <= length <= 200
        assert reader.alerts(count=1000)[-1][1] == make_alert(999)


def test_keys_expire_after_their_ttl(redis_url: str) -> None:
    with FanoutReader(redis_url) as reader, RedisPublisher(redis_url, ttl_s=0.05, **FAST) as pub:
        pub.publish_top(make_book())
        assert pub.flush()
        deadline = time.monotonic() + 10
        while reader.latest("top", "binance", "BTC/USDT") is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reader.latest("top", "binance", "BTC/USDT") is None


def test_an_empty_side_is_null(redis_url: str) -> None:
    book = OrderBook(tick_size="0.01", lot_size="0.001", symbol="BTC/USDT", exchange="binance")
    book.apply_snapshot([[100.0, 1.0]], [])
    with FanoutReader(redis_url) as reader, RedisPublisher(redis_url, **FAST) as pub:
        pub.publish_top(book)
        assert pub.flush()
        top = reader.latest("top", "binance", "BTC/USDT")
        assert (top["bid"], top["ask"], top["ask_size"], top["mid"], top["spread_bps"]) == (100.0, None, None, None,
                                                                                           None)


def test_a_redis_restart_reconnects_and_later_messages_arrive(redis_url: str) -> None:
    server = redis_server()
    with RedisPublisher(redis_url, **FAST) as pub:
        pub.publish_top(make_book(bid=100.0))
        assert pub.flush()
        server.kill()
        pub.publish_alert(make_alert(1))                         # queued while Redis is down
        pub.publish_top(make_book(bid=101.0))
        deadline = time.monotonic() + 10                         # the thread notices the dead server
        while pub.stats()["errors"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pub.stats()["errors"] > 0 and pub.stats()["connected"] is False
        server.start()                                           # same port, empty
        assert pub.flush(timeout_s=20)
        with FanoutReader(redis_url) as reader, reader.subscribe("top") as sub:
            # the alert survived the restart (put back after the failed send, or sent after it)
            assert [a for _, a in reader.alerts()] == [make_alert(1)]
            pub.publish_top(make_book(bid=102.0))
            assert pub.flush()
            (msg,) = drain(sub, 1)
            assert msg.data["bid"] == 102.0 and reader.latest("top", "binance", "BTC/USDT")["bid"] == 102.0
        s = pub.stats()
        assert s["reconnects"] >= 1 and s["connected"] is True
        assert s["offered"] == 4 == s["published"] + s["failed"] + s["dropped"] and s["queued"] == 0


def test_a_stalled_redis_fills_the_buffer_and_drops_are_counted(redis_url: str) -> None:
    server = redis_server()
    resumed_by_watchdog = threading.Event()

    def watchdog() -> None:                                      # if publishing ever waited on Redis
        resumed_by_watchdog.set()
        server.resume()

    with FanoutReader(redis_url) as reader, \
            RedisPublisher(redis_url, capacity=50, batch=10, backoff_s=(0.01, 0.1), timeout_s=0.5) as pub:
        pub.publish_top(make_book())
        assert pub.flush()
        server.pause()
        timer = threading.Timer(60, watchdog)
        timer.start()
        try:
            accepted = [pub.publish_top(make_book(bid=100.0 + n / 100)) for n in range(1, 501)]
            stalled_throughout = not resumed_by_watchdog.is_set()
            s = pub.stats()
            deadline = time.monotonic() + 30                     # the batch in flight times out
            while pub.stats()["errors"] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert pub.stats()["errors"] > 0 and pub.stats()["connected"] is False
        finally:
            timer.cancel()
            server.resume()
        assert stalled_throughout                                # 500 publishes returned while Redis was stopped
        assert accepted.count(False) == s["dropped"] >= 500 - 50 - 10
        assert s["queued"] <= 50 + 10
        assert pub.flush(timeout_s=30)
        s = pub.stats()
        assert s["offered"] == 501 == s["published"] + s["failed"] + s["dropped"]
        assert s["published"] >= 1 + 50 - 10                     # the buffer was delivered after the stall
        pub.publish_top(make_book(bid=200.0))
        assert pub.flush() and reader.latest("top", "binance", "BTC/USDT")["bid"] == 200.0


def test_a_publisher_starts_without_redis_and_close_counts_what_was_left() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pub = RedisPublisher(f"redis://127.0.0.1:{port}/0", close_timeout_s=0.05, **FAST)
    assert pub.publish_top(make_book()) and pub.publish_alert(make_alert())
    deadline = time.monotonic() + 10
    while pub.stats()["errors"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pub.stats()["errors"] > 0 and pub.stats()["connected"] is False
    assert pub.flush(timeout_s=0.05) is False
    pub.close()
    s = pub.stats()
    assert (s["offered"], s["published"], s["failed"], s["queued"]) == (2, 0, 2, 0)
    with pytest.raises(FanoutError, match="closed"):
        pub.publish_top(make_book())
    pub.close()                                                  # idempotent


@pytest.mark.parametrize("kw, match", [
    (dict(url="http://x"), "url"), (dict(ttl_s=-1), "ttl_s"), (dict(ttl_s=0), "ttl_s"), (dict(capacity=0), "capacity"),
    (dict(batch=1.5), "batch"), (dict(stream_maxlen=0), "stream_maxlen"), (dict(prefix="a:b"), "prefix"),
    (dict(prefix=""), "prefix"), (dict(backoff_s=(1.0, 0.5)), "backoff_s"), (dict(backoff_s=1.0), "backoff_s"),
    (dict(timeout_s=math.nan), "timeout_s"),
])
def test_bad_publisher_settings_are_refused(redis_url: str, kw: dict, match: str) -> None:
    kw = {"url": redis_url, **kw}
    with pytest.raises(FanoutError, match=match):
        RedisPublisher(**kw)


def test_bad_messages_are_refused_and_queue_nothing(redis_url: str) -> None:
    with RedisPublisher(redis_url, **FAST) as pub:
        unlabelled = OrderBook(tick_size="0.01", lot_size="0.001")
        unlabelled.apply_snapshot([[1.0, 1.0]], [[2.0, 1.0]])
        with pytest.raises(FanoutError, match="exchange"):
            pub.publish_top(unlabelled)
        with pytest.raises(FanoutError, match="symbol"):
            pub.publish_top(unlabelled, "binance", "BTC USDT")
        with pytest.raises(FanoutError, match="book"):
            pub.publish_top({"bids": []})  # type: ignore[arg-type]
        with pytest.raises(FanoutError, match="report"):
            pub.publish_report(make_book())  # type: ignore[arg-type]
        with pytest.raises(FanoutError, match="alert"):
            pub.publish_alert(make_alert().to_dict())  # type: ignore[arg-type]
        with pytest.raises(FanoutError, match="exchange"):
            pub.publish_report(unlabelled.liquidity_report())
        assert pub.publish_top(unlabelled, "binance", "X/USDT")   # labels given: fine
        assert pub.flush() and pub.stats()["offered"] == 1


def test_bad_reader_input_is_refused(redis_url: str) -> None:
    with FanoutReader(redis_url) as reader:
        for call, match in [(lambda: reader.latest("book", "binance", "BTC/USDT"), "kind"),
                            (lambda: reader.latest("top", "bin:ance", "BTC/USDT"), "exchange"),
                            (lambda: reader.subscribe("tops"), "kind"),
                            (lambda: reader.subscribe(symbol="BTC*"), "symbol"),
                            (lambda: reader.alerts(after=""), "after"),
                            (lambda: reader.alerts(after="not-an-id"), "after"),
                            (lambda: reader.alerts(count=0), "count"),
                            (lambda: reader.alerts(block_s=-1), "block_s")]:
            with pytest.raises(FanoutError, match=match):
                call()


def test_a_command_redis_refuses_fails_only_its_message(redis_url: str) -> None:
    raw = redis.Redis.from_url(redis_url)
    raw.set(stream_name("liqcore"), b"not a stream")                 # XADD will answer WRONGTYPE
    with FanoutReader(redis_url) as reader, RedisPublisher(redis_url, **FAST) as pub:
        pub.publish_top(make_book(bid=100.0))
        pub.publish_alert(make_alert(1))
        pub.publish_top(make_book(bid=101.0))
        assert pub.flush()
        s = pub.stats()
        assert (s["published"], s["failed"], s["retried"], s["errors"]) == (2, 1, 0, 1)
        assert "WRONGTYPE" in s["last_error"] and s["connected"] is True
        assert reader.latest("top", "binance", "BTC/USDT")["bid"] == 101.0
        raw.delete(stream_name("liqcore"))
        pub.publish_alert(make_alert(2))                              # and the stream works again
        assert pub.flush() and [a for _, a in reader.alerts()] == [make_alert(2)]
    raw.close()


def test_a_reader_of_an_unreachable_redis_gets_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with FanoutReader(f"redis://:pw@127.0.0.1:{port}/0", timeout_s=0.5) as reader:
        for call in (lambda: reader.latest("top", "binance", "BTC/USDT"), lambda: reader.subscribe(),
                     lambda: reader.alerts(), lambda: reader.alerts(block_s=0.1)):
            with pytest.raises(FanoutConnectionError, match=f"127.0.0.1:{port}") as info:
                call()
            assert "pw" not in str(info.value)
