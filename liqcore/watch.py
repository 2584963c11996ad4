"""The ``liqcore`` main job: live books through ccxt.pro and liqcore's feed, shown as they move.

* :func:`main_job` (``liqcore``, offline): the local exchange simulator replays a Binance
  recording (by default the bundled ``spot_btcusdt_20240808.gz``, with its recorded ``U``/``u``
  and event times) on 127.0.0.1; ccxt.pro connects to it through :class:`~liqcore.feed.LiveFeed`
  exactly as it would to Binance (REST snapshot, websocket SUBSCRIBE, depth stream); the live
  compiled book is shown (progress, top of book, spread, imbalance, impact of a $100k market
  order) and, after every update, compared with the recording's bookTicker at the same update
  id (:class:`Checkpoints`, an independent ground truth recorded from Binance).
* :func:`watch` (``liqcore watch binance:BTC/USDT okx:BTC/USDT``, online): the same display for
  real exchanges until Ctrl-C (or ``seconds``); with ``simulator`` it runs against the local
  simulator's synthetic books instead and checks the final books against its true books.

Both need ccxt and aiohttp (base dependencies of liqcore). Time per update: the adapters'
fast path (raw frame bytes parsed in C into the book) plus the display callback, which only
formats a line at most 10 times a second on a terminal (at 10% steps otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping, TextIO

import orjson

from liqcore.errors import RecordingFormatError
from liqcore.recordings import CaptureReader, Record, damage_line, detect_format, iter_hftbacktest

__all__ = ["Checkpoints", "BookLine", "main_job", "watch", "parse_pair", "SIM_VENUES"]

#: exchanges the local simulator serves (ccxt ids; Bybit and Bitget with their USDT perpetuals)
SIM_VENUES = ("binance", "binanceusdm", "okx", "bybit", "coinbase", "kraken", "bitget", "bitfinex")
#: levels per side the feed keeps of a venue's book by default (its channel's window; others: the
#: whole book), compared with the simulator's true book of that window
_SIM_WINDOWS = {"bybit": 50, "kraken": 10, "bitfinex": 25}
#: venues whose book carries the simulator market's update id (Coinbase numbers the messages of
#: a connection, Kraken and Bitfinex have no ids: their levels alone are compared)
_SIM_SAME_IDS = ("binance", "binanceusdm", "okx", "bybit", "bitget")

_QUOTES = ("USDT", "USDC", "FDUSD", "TUSD", "BUSD", "DAI", "EUR", "TRY", "BRL", "BTC", "ETH", "BNB")


def _fmt_px(x: float) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:,.2f}"


def parse_pair(text: str) -> tuple[str, str]:
    """``"binance:BTC/USDT"`` -> ``("binance", "BTC/USDT")``; ``"binanceusdm:BTC/USDT:USDT"`` keeps
    the settle part. ValueError without an exchange or a symbol."""
    ex, sep, sym = text.partition(":")
    if not sep or not ex or not sym or "/" not in sym:
        raise ValueError(f"{text!r}: expected EXCHANGE:BASE/QUOTE, e.g. binance:BTC/USDT")
    return ex.lower(), sym


# ----------------------------------------------------------------------------- display
class BookLine:
    """One book's status line: optional progress bar, clock, top of book, spread, imbalance of the
    top ``levels`` levels and the slippage of a ``notional`` market buy and sell (vs mid)."""

    def __init__(self, notional: float = 100_000.0, levels: int = 10) -> None:
        self.notional = notional
        self.levels = levels

    def __call__(self, book: Any, *, label: str = "", progress: float | None = None,
                 clock_ms: int | None = None, state: str | None = None) -> str:
        parts = []
        if progress is not None:
            pct = 100.0 * min(max(progress, 0.0), 1.0)
            parts.append(f"[{'#' * int(pct / 5)}{'.' * (20 - int(pct / 5))}] {pct:5.1f}%")
        if label:
            parts.append(label)
        if state is not None and state != "live":
            parts.append(state.upper())
        if clock_ms is not None:
            parts.append(time.strftime("%H:%M:%S", time.gmtime(clock_ms / 1000)))
        head = " ".join(parts)
        if not book.bid_count or not book.ask_count:
            return f"{head} | (empty book)"
        bp, bq, ap, aq = book.bbo
        buy = book.walk("buy", notional=self.notional)
        sell = book.walk("sell", notional=self.notional)
        return (f"{head} | bid {_fmt_px(bp)} x {bq:.5f} | ask {_fmt_px(ap)} x {aq:.5f} "
                f"| spread {book.spread_bps:.3f} bps | imb{self.levels} {book.imbalance(self.levels):+.3f} "
                f"| ${self.notional:,.0f} buy {buy.slippage_mid_bps:+.2f} bps sell {sell.slippage_mid_bps:+.2f} bps")


class _Screen:
    """Lines redrawn in place on a terminal (at most every ``min_interval`` s), printed otherwise."""

    def __init__(self, out: TextIO, rows: int, min_interval: float = 0.1) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.rows = rows
        self.min_interval = min_interval
        self.next_draw = 0.0
        self.drawn = False

    def due(self) -> bool:
        return time.perf_counter() >= self.next_draw

    def draw(self, lines: list[str], force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now < self.next_draw:
            return
        self.next_draw = now + self.min_interval
        if self.tty:
            up = f"\x1b[{self.rows - 1}A" if self.drawn and self.rows > 1 else ""
            self.out.write(("\r" + up if self.drawn else "") + "\n".join("\x1b[2K" + ln for ln in lines))
            self.drawn = True
        else:
            self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    def end(self) -> None:
        if self.tty and self.drawn:
            self.out.write("\n")
            self.out.flush()


# --------------------------------------------------------------------------- checkpoints
def _dec(s: str) -> Decimal:
    return Decimal(s)


@dataclass
class Checkpoints:
    """The bookTickers of a Binance recording, checked against a live book at the same update id.

    Binance's bookTicker carries the id ``u`` of the book it describes; when the live book's
    ``last_update_id`` equals it (right after the depth event ending at ``u``), best bid/ask price
    and size must equal the ticker's (compared as decimals: the wire strings' zeros may differ).
    ``expected`` is the number of tickers whose ``u`` ends a depth event that will be replayed.
    """

    symbol: str
    tickers: dict[int, tuple[Decimal, Decimal, Decimal, Decimal]] = field(default_factory=dict)
    expected: int = 0
    ok: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)

    @classmethod
    def from_recording(cls, path: str | Path, symbol: str, event_ids: Iterable[int] = ()) -> "Checkpoints":
        """The checkpoints of an hftbacktest capture (see :meth:`from_records`)."""
        return cls.from_records(iter_hftbacktest(path), symbol, event_ids)

    @classmethod
    def from_records(cls, records: Iterable[Record], symbol: str, event_ids: Iterable[int] = ()) -> "Checkpoints":
        """The bookTickers of ``symbol`` among ``records`` (Binance frames); ``event_ids``: the
        final ids ``u`` of the depth events that will be replayed. O(records)."""
        cp = cls(symbol)
        stream = symbol.lower() + "@bookticker"
        for rec in records:
            if b"bookTicker" not in rec.raw:
                continue
            msg = orjson.loads(rec.raw)
            if str(msg.get("stream", "")).lower() != stream:
                continue
            d = msg["data"]
            cp.tickers[int(d["u"])] = (_dec(d["b"]), _dec(d["B"]), _dec(d["a"]), _dec(d["A"]))
        ids = set(event_ids)
        cp.expected = sum(1 for u in cp.tickers if u in ids)
        return cp

    @property
    def missed(self) -> int:
        return self.expected - self.ok - self.failed

    def check(self, book: Any) -> None:
        """Compare ``book`` with the ticker at its update id, if there is one (each once)."""
        want = self.tickers.pop(book.last_update_id, None)
        if want is None:
            return
        b, a = book.level_strings("bid", 1), book.level_strings("ask", 1)
        got = (_dec(b[0][0]), _dec(b[0][1]), _dec(a[0][0]), _dec(a[0][1])) if b and a else None
        if got == want:
            self.ok += 1
        else:
            self.failed += 1
            if len(self.failures) < 20:
                self.failures.append(f"u={book.last_update_id}: bookTicker {want} != book {got}")


# ----------------------------------------------------------------------------- helpers
def _detect_symbol(path: Path) -> str:
    for rec in iter_hftbacktest(path):
        if b'"depthUpdate"' in rec.raw:
            msg = orjson.loads(rec.raw)
            return str(msg.get("data", msg)["s"])
    raise ValueError(f"{path}: no Binance depthUpdate in the recording")


def _split_symbol(market_id: str) -> tuple[str, str]:
    for q in _QUOTES:
        if market_id.endswith(q) and len(market_id) > len(q):
            return market_id[: -len(q)], q
    raise ValueError(f"cannot tell base and quote of {market_id!r}")


def _top(book: Any, side: str) -> list[str] | None:
    n = book.bid_count if side == "bid" else book.ask_count
    return book.level_strings(side, 1)[0] if n else None


def _impact(book: Any, notional: float) -> dict[str, Any]:
    buy = book.walk("buy", notional=notional)
    sell = book.walk("sell", notional=notional)
    return {"notional": notional,
            "buy_vwap": buy.vwap, "buy_slippage_mid_bps": buy.slippage_mid_bps, "buy_levels": buy.levels,
            "buy_complete": buy.complete,
            "sell_vwap": sell.vwap, "sell_slippage_mid_bps": sell.slippage_mid_bps, "sell_levels": sell.levels,
            "sell_complete": sell.complete}


def _book_summary(feed: Any, ex_id: str, symbol: str, notional: float, levels: int) -> dict[str, Any]:
    book = feed.book(ex_id, symbol)
    st = feed.stats(ex_id, symbol)
    return {
        "exchange": ex_id, "symbol": symbol, "state": st["state"],
        "messages": st["messages"], "applied": st["applied"], "stale_skipped": st["stale_skipped"],
        "snapshots": st["snapshots"], "resyncs": st["resyncs"], "gaps": st["gaps"],
        "checksum_ok": st["checksum_ok"], "checksum_failed": st["checksum_failed"],
        "disconnects": st["disconnects"], "last_update_id": book.last_update_id,
        "last_latency_us": round(st["last_latency_ns"] / 1e3, 1),
        "best_bid": _top(book, "bid"), "best_ask": _top(book, "ask"),
        "levels": [book.bid_count, book.ask_count],
        "spread_bps": book.spread_bps if book.bid_count and book.ask_count else None,
        f"imbalance_{levels}": book.imbalance(levels) if book.bid_count and book.ask_count else None,
        "impact": _impact(book, notional) if book.bid_count and book.ask_count else None,
    }


@contextlib.contextmanager
def _on_interrupt(stop: asyncio.Event):
    """Ctrl-C (SIGINT) and SIGTERM set ``stop`` while inside (the run then ends cleanly)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):   # not the main thread, Windows
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _wait_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``stop``; True if stopped."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
        return True
    except asyncio.TimeoutError:
        return False


# ----------------------------------------------------------------------------- main job
async def main_job(recording: str | Path | None = None, *, speed: float | None = None, out: TextIO | None = None,
                   quiet: bool = False, notional: float = 100_000.0, levels: int = 10,
                   tick_size: str = "0.01", lot_size: str = "0.00001", timeout: float = 120.0,
                   fast_path: bool = True, recorder: Any = None) -> dict[str, Any]:
    """Watch a recording replayed by the local simulator through ccxt.pro and liqcore's feed.

    Parameters
    ----------
    recording : an hftbacktest-format Binance spot capture (default: the bundled one)
    speed : None for as fast as possible; else the simulator sends the events at ``speed`` x the
        recording's average event rate
    out, quiet : where the live lines go (stdout), or no display
    notional, levels : the impact estimate's quote notional, the imbalance's levels
    tick_size, lot_size : the simulated market's grid (exchangeInfo; BTCUSDT's by default)
    timeout : the whole run's bound, seconds (the simulator shuts itself down after it too)
    fast_path : the adapters' C frame path (False: the Python path, ccxt-decoded frames)
    recorder : a :class:`~liqcore.recorder.Recorder` for the raw frames, optional

    Returns the summary dict (see ``liqcore --json``); ``ok`` is True when every checkpoint was
    verified, none failed or was missed, the book never gapped or resynced and the whole recording
    was read (``damage`` lists what was not: the readable part is replayed). Raises
    RecordingFormatError if the file is not an hftbacktest capture, OSError if it cannot be read.
    """
    from liqcore.feed import LiveFeed, create_exchange
    from liqcore.sim import BUNDLED_BINANCE_RECORDING, BinanceRecording, ExchangeSimulator, Instrument

    out = sys.stdout if out is None else out
    path = Path(recording) if recording is not None else BUNDLED_BINANCE_RECORDING
    fmt = detect_format(path)
    if fmt != "hftbacktest":
        raise RecordingFormatError(f"{path}: a {fmt} recording; the main job replays an hftbacktest capture of "
                                   f"Binance (liqcore replay reads the others)")
    market_id = _detect_symbol(path)
    base, quote = _split_symbol(market_id)
    symbol = f"{base}/{quote}"
    source = BinanceRecording(path, market_id)
    events = source.events
    total = len(events)
    # what of the file cannot be read (a truncated gzip tail) is replayed up to there, and said
    reader = CaptureReader(path, "hftbacktest")
    checkpoints = Checkpoints.from_records(reader, market_id, (int(e["u"]) for e in events))
    span_s = (int(events[-1]["E"]) - int(events[0]["E"])) / 1000 if total > 1 else 0.0
    interval = 1e-5 if not speed else max(span_s / max(total - 1, 1) / speed, 1e-5)
    inst = Instrument("binance", market_id, base, quote, tick_size, lot_size, wire_decimals=(8, 8))
    line = BookLine(notional, levels)
    screen = _Screen(out, 1)
    next_pct = [10]
    live_ref: list[Any] = []

    def on_update(live: Any) -> None:
        checkpoints.check(live.book)
        if quiet:
            return
        applied = live.stats.applied
        if screen.tty:
            if not screen.due():
                return
        elif applied * 100 < next_pct[0] * total:
            return
        else:
            next_pct[0] = applied * 100 // total + 10
        shell = ex.orderbooks.get(symbol)
        clock = shell.get("timestamp") if shell is not None else None
        screen.draw([line(live.book, progress=applied / total, clock_ms=clock, state=live.state)], force=True)

    t_start = time.perf_counter()
    async with ExchangeSimulator([(inst, source)], interval=interval, max_seconds=timeout + 5) as sim:
        sim.pause()               # nothing moves until the client holds the recording's snapshot
        ex = sim.attach(create_exchange("binance", {"enableRateLimit": False}))
        ex.liq_fast_path = fast_path
        if not quiet:
            print(f"liqcore: {path.name} ({total:,} depth events, {span_s:,.0f} s of Binance {market_id}) replayed by "
                  f"the local exchange simulator at {sim.url}; ccxt.pro {'as fast as possible' if not speed else f'at {speed:g}x'}"
                  f", books through liqcore's feed ({'C frame path' if fast_path else 'Python path'})", file=out,
                  flush=True)
        async with LiveFeed([("binance", symbol)], exchanges={"binance": ex}, recorder=recorder,
                            sync_timeout=timeout, backoff=(0.05, 1.0)) as feed:
            await feed.wait_live(timeout)
            live = feed.live_book("binance", symbol)
            live_ref.append(live)
            checkpoints.check(live.book)
            feed.subscribe(on_update, "binance", symbol)
            t0 = time.perf_counter()
            sim.resume()
            deadline = t_start + timeout
            while not (source.exhausted and live.book.last_update_id == sim.last_update_id("binance", market_id)
                       and live.is_live):
                if time.perf_counter() > deadline or sim.closed.is_set():
                    raise TimeoutError(f"the replay did not finish within {timeout:g} s "
                                       f"({live.stats.applied} of {total} events applied)")
                await asyncio.sleep(0.005)
            seconds = time.perf_counter() - t0
            if not quiet and (screen.tty or next_pct[0] <= 100):
                shell = ex.orderbooks.get(symbol)
                screen.draw([line(live.book, progress=1.0, clock_ms=shell.get("timestamp") if shell else None)],
                            force=True)
            if not quiet:
                screen.end()
            summary = _book_summary(feed, "binance", symbol, notional, levels)
            book = live.book
    summary.update({
        "recording": str(path), "market_id": market_id, "events": total, "simulator": True,
        "fast_path": fast_path, "speed": speed, "seconds": round(seconds, 4),
        "messages_per_s": round(summary["applied"] / max(seconds, 1e-9)),
        "checkpoints_expected": checkpoints.expected, "checkpoints_ok": checkpoints.ok,
        "checkpoints_failed": checkpoints.failed, "checkpoints_missed": checkpoints.missed,
        "checkpoint_failures": checkpoints.failures, "damage": [d.to_dict(path) for d in reader.damage],
    })
    summary["ok"] = (checkpoints.failed == 0 and checkpoints.missed == 0 and summary["gaps"] == 0
                     and summary["resyncs"] == 0 and summary["applied"] == total and not reader.damage)
    summary["book"] = book
    return summary


def print_main_summary(s: dict[str, Any], out: TextIO) -> None:
    """The human summary of :func:`main_job`."""
    print(f"\n{s['exchange']} {s['symbol']}: {s['messages']:,} messages ({s['applied']:,} of {s['events']:,} depth "
          f"events applied, {s['snapshots']} snapshot), {s['resyncs']} resyncs, {s['gaps']} gaps, in "
          f"{s['seconds']:.2f} s ({s['messages_per_s']:,} updates/s through ccxt.pro, websocket and simulator)",
          file=out)
    ok = "all match" if s["checkpoints_failed"] == 0 and s["checkpoints_missed"] == 0 else "NOT all match"
    print(f"best bid/ask checkpoints: {s['checkpoints_ok']} ok, {s['checkpoints_failed']} failed, "
          f"{s['checkpoints_missed']} missed, of {s['checkpoints_expected']} ({ok} the exchange's bookTicker at "
          f"the same update id)", file=out)
    bb, ba = s["best_bid"] or ["-", "-"], s["best_ask"] or ["-", "-"]
    lv = s["levels"]
    spread = "-" if s["spread_bps"] is None else f"{s['spread_bps']:.4f}"
    imb = next((v for k, v in s.items() if k.startswith("imbalance_")), None)
    print(f"final book (update id {s['last_update_id']}): {lv[0]} bids, {lv[1]} asks; best bid {bb[0]} x {bb[1]}, "
          f"best ask {ba[0]} x {ba[1]}; spread {spread} bps; imbalance {'-' if imb is None else f'{imb:+.4f}'}",
          file=out)
    imp = s["impact"]
    if imp is not None:
        for side in ("buy", "sell"):
            print(f"${imp['notional']:,.0f} market {side}:{' ' if side == 'buy' else ''} VWAP "
                  f"{_fmt_px(imp[side + '_vwap'])}, levels consumed {imp[side + '_levels']}, "
                  f"{imp[side + '_slippage_mid_bps']:+.3f} bps vs mid"
                  f"{'' if imp[side + '_complete'] else ' (NOT fully filled)'}", file=out)
    for f in s["checkpoint_failures"]:
        print(f"  checkpoint failure: {f}", file=out)
    for d in s["damage"]:
        print(f"{damage_line(d)} (the {s['events']:,} depth events before it were replayed)", file=out)


# ----------------------------------------------------------------------------- watch
async def watch(pairs: list[tuple[str, str]], *, seconds: float | None = None, out: TextIO | None = None,
                quiet: bool = False, notional: float = 100_000.0, levels: int = 10, depth: int | None = None,
                refresh: float | None = None, simulator: bool = False, seed: int = 0,
                fast_path: bool = True, stop: asyncio.Event | None = None, recorder: Any = None,
                live_timeout: float = 30.0, exchanges: Mapping[str, Any] | None = None,
                err: TextIO | None = None) -> dict[str, Any]:
    """Watch live books until ``stop`` is set, Ctrl-C, or ``seconds`` pass.

    ``simulator``: the books come from the local simulator (synthetic, seeded by ``seed``) instead
    of the exchanges; at the end the simulator is frozen and every book is compared with its true
    book at the same update id (``matches_simulator`` per book). ``refresh``: seconds between
    printed lines when ``out`` is not a terminal (default 1; a terminal is redrawn 10x a second).
    ``exchanges``: instances to use per exchange id (e.g. pointed elsewhere), owned by the watch
    from then on (closed at its end); the others are created.

    Every exchange's markets are loaded first: an exchange that cannot be reached (or fails to
    list its markets), and a symbol its exchange does not list, are said in one line each on
    ``err`` (stderr) and left out, the other books go on; they are listed in ``unavailable``
    and make ``ok`` False. Returns ``{"books": [...], "unavailable": [...], "seconds",
    "interrupted", "ok", ...}``; ``books`` is empty when nothing could be watched. Raises
    FeedConfigError for an exchange id ccxt does not know (before connecting anywhere).
    """
    from liqcore.feed import LiveFeed, create_exchange
    from liqcore.feed.tasks import close_exchanges

    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    stop = stop if stop is not None else asyncio.Event()
    line = BookLine(notional, levels)
    sim = None
    exchanges = dict(exchanges or {})
    result: dict[str, Any] = {"simulator": simulator, "fast_path": fast_path, "books": [], "unavailable": []}
    ids = list(dict.fromkeys(ex for ex, _ in pairs))
    async with contextlib.AsyncExitStack() as stack:
        try:
            if simulator:
                from liqcore.sim import ExchangeSimulator
                bad = sorted({ex for ex in ids if ex not in SIM_VENUES})
                if bad:
                    raise ValueError(f"the simulator serves {', '.join(SIM_VENUES)}, not {', '.join(bad)}")
                max_s = (seconds or 3600.0) + live_timeout + 30
                sim = await stack.enter_async_context(ExchangeSimulator(seed=seed, interval=0.01, max_seconds=max_s))
                for ex_id in ids:
                    if ex_id not in exchanges:
                        exchanges[ex_id] = sim.attach(create_exchange(ex_id, {"enableRateLimit": False}))
            for ex_id in ids:
                if ex_id not in exchanges:
                    exchanges[ex_id] = create_exchange(ex_id, {"enableRateLimit": True})
        except BaseException:
            await close_exchanges(exchanges.values())
            raise
        for ex in exchanges.values():
            if hasattr(ex, "liq_fast_path"):
                ex.liq_fast_path = fast_path
        stack.enter_context(_on_interrupt(stop))
        pairs, result["unavailable"] = await _available(exchanges, pairs, stop, err)
        if not pairs or stop.is_set():
            await close_exchanges(exchanges.values())
            result.update(seconds=0.0, interrupted=stop.is_set(), ok=False)
            return result
        feed = await stack.enter_async_context(LiveFeed(pairs, exchanges=exchanges, depth=depth, recorder=recorder))
        screen = _Screen(out, len(pairs), 0.1)
        every = 0.1 if screen.tty else (refresh or 1.0)
        if not quiet:
            where = f"the local simulator at {sim.url}" if sim is not None else "the exchanges"
            print(f"liqcore watch: {len(pairs)} book(s) from {where} through ccxt.pro and liqcore's feed; "
                  f"{'Ctrl-C to stop' if seconds is None else f'{seconds:g} s (Ctrl-C stops earlier)'}", file=out,
                  flush=True)
        width = max(len(f"{e} {s}") for e, s in pairs)
        t0 = time.perf_counter()
        interrupted = False
        while True:
            left = None if seconds is None else seconds - (time.perf_counter() - t0)
            if left is not None and left <= 0:
                break
            if await _wait_stop(stop, every if left is None else min(every, left)):
                interrupted = True
                break
            if feed.fatal and all(feed.live_book(e, s).state == "failed" for e, s in pairs):
                break
            if not quiet:
                lines = []
                for ex_id, sym in pairs:
                    live = feed.live_book(ex_id, sym)
                    label = f"{ex_id} {sym}".ljust(width) + f" {live.stats.messages:>7,} msgs"
                    lines.append(line(live.book, label=label, state=live.state))
                screen.draw(lines, force=True)
        if not quiet:
            screen.end()
        result["seconds"] = round(time.perf_counter() - t0, 3)
        result["interrupted"] = interrupted
        if sim is not None:
            sim.pause()
            await _caught_up(feed, sim, pairs, depth, live_timeout)
        books = []
        for ex_id, sym in pairs:
            b = _book_summary(feed, ex_id, sym, notional, levels)
            live = feed.live_book(ex_id, sym)
            b["last_error"] = None if live.last_error is None else repr(live.last_error)
            if sim is not None:
                b["matches_simulator"] = _matches_simulator(feed, sim, ex_id, sym, depth)
            books.append(b)
        result["books"] = books
    result["ok"] = not result["unavailable"] and all(b["state"] == "live" and b.get("matches_simulator", True)
                                                     for b in result["books"])
    return result


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (a ccxt network error's cause says the most)."""
    cause = exc.__cause__ if exc.__cause__ is not None and str(exc.__cause__) else exc
    text = " ".join(str(cause).split()) or type(cause).__name__
    return text if len(text) <= 200 else text[:197] + "..."


async def _available(exchanges: dict[str, Any], pairs: list[tuple[str, str]], stop: asyncio.Event,
                     err: TextIO) -> tuple[list[tuple[str, str]], list[dict[str, str]]]:
    """Load every exchange's markets (concurrently, or until ``stop``); returns the pairs that can
    be watched and one ``{"exchange", "symbol", "reason"}`` per pair left out. An exchange that
    cannot be reached is closed and removed from ``exchanges``; each exchange and symbol left out
    is said in one line on ``err``."""
    import ccxt

    ids = list(exchanges)
    loads = asyncio.gather(*(exchanges[i].load_markets() for i in ids), return_exceptions=True)
    stopped = asyncio.ensure_future(stop.wait())
    waiters: list[asyncio.Future[Any]] = [loads, stopped]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not loads.done():                                 # Ctrl-C while connecting
        loads.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loads
        return [], []
    why: dict[str, str] = {}
    for ex_id, res in zip(ids, loads.result()):
        if isinstance(res, BaseException):
            what = "cannot be reached" if isinstance(res, ccxt.NetworkError) else "cannot list its markets"
            why[ex_id] = f"{what} ({_one_line(res)})"
            print(f"liqcore watch: {ex_id} {why[ex_id]}; its books are not watched", file=err, flush=True)
            with contextlib.suppress(Exception):
                await exchanges.pop(ex_id).close()
    keep, left_out = [], []
    for ex_id, sym in pairs:
        if ex_id in why:
            left_out.append({"exchange": ex_id, "symbol": sym, "reason": why[ex_id]})
        elif sym not in exchanges[ex_id].markets:
            reason = f"{ex_id} lists no {sym!r}"
            print(f"liqcore watch: {reason}; not watched", file=err, flush=True)
            left_out.append({"exchange": ex_id, "symbol": sym, "reason": reason})
        else:
            keep.append((ex_id, sym))
    return keep, left_out


def _sim_venue(ex_id: str, symbol: str) -> str:
    """The simulator venue of a ccxt exchange's symbol: Bybit's and Bitget's perpetuals
    (``BTC/USDT:USDT``) are venues of their own there (``bybitlinear``, ``bitgetswap``)."""
    if ":" in symbol and ex_id in ("bybit", "bitget"):
        return {"bybit": "bybitlinear", "bitget": "bitgetswap"}[ex_id]
    return ex_id


def _matches_simulator(feed: Any, sim: Any, ex_id: str, symbol: str, depth: int | None) -> bool:
    """Whether the live book equals the simulator's true book: every level (wire strings) of the
    window the feed keeps and, where the venue's ids are the market's, the same update id."""
    venue = _sim_venue(ex_id, symbol)
    window = (depth or _SIM_WINDOWS[ex_id]) if ex_id in _SIM_WINDOWS else None
    truth = sim.true_book(venue, symbol, window)
    book = feed.book(ex_id, symbol)
    if ex_id in _SIM_SAME_IDS:
        want = sim.last_update_id(venue, symbol, window) if window is not None else truth["update_id"]
        if book.last_update_id != want:
            return False
    return bool(book.level_strings("bid") == [lv[:2] for lv in truth["bids"]]
                and book.level_strings("ask") == [lv[:2] for lv in truth["asks"]])


async def _caught_up(feed: Any, sim: Any, pairs: list[tuple[str, str]], depth: int | None, timeout: float) -> None:
    """Wait until every book is live and equal to its simulated market's true book (sim paused)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if all(feed.live_book(e, s).is_live and _matches_simulator(feed, sim, e, s, depth) for e, s in pairs):
            return
        await asyncio.sleep(0.01)


def print_watch_summary(res: dict[str, Any], out: TextIO) -> None:
    """The human summary of :func:`watch`."""
    why = "interrupted" if res["interrupted"] else "done"
    print(f"\nliqcore watch: {why} after {res['seconds']:.1f} s", file=out)
    for b in res["books"]:
        bb, ba = b["best_bid"] or ["-", "-"], b["best_ask"] or ["-", "-"]
        check = ""
        if "matches_simulator" in b:
            check = "; equals the simulator's true book" if b["matches_simulator"] else "; DIFFERS from the simulator"
        print(f"{b['exchange']} {b['symbol']}: {b['state']}, {b['messages']:,} messages, {b['applied']:,} applied, "
              f"{b['resyncs']} resyncs, {b['gaps']} gaps, checksums {b['checksum_ok']:,} ok/{b['checksum_failed']} "
              f"failed; best bid {bb[0]} x {bb[1]}, best ask {ba[0]} x {ba[1]}, {b['levels'][0]}/{b['levels'][1]} "
              f"levels{check}" + (f"; last error {b['last_error']}" if b.get("last_error") else ""), file=out)
    for u in res.get("unavailable", ()):
        print(f"{u['exchange']} {u['symbol']}: not watched: {u['reason']}", file=out)
