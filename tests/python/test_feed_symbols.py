"""ccxt.pro's ``watch_order_book_for_symbols`` (one call, several symbols, one subscribe request)
through liqcore's engine adapters, for real against the local exchange simulator — Binance, OKX,
Bybit, Kraken and Coinbase.

What is proved here, for each venue with two symbols in one call:

* one subscribe request names both symbols; the watch loop gets ccxt's shells (no Python levels)
  for both symbols, and both compiled books equal the simulator's true books (wire strings, at the
  same update id; Kraken: the best-10 window, every Kraken checksum verified in C);
* a fault on one symbol's stream (a dropped frame — a gap — for Binance, Bybit and Coinbase; a
  corrupted checksum for OKX and Kraken) resyncs that book, counted, and the book is equal to the
  truth again. The resubscribe names only that symbol (unsubscribe first where the venue needs
  it), so the other book is not touched: one snapshot, no resync, equal to its truth. Coinbase is
  the exception by design: ``sequence_num`` numbers the whole connection, so a lost frame is a gap
  for every book whose next message comes after it (nobody can tell whose frame it was) and both
  books resync.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import FAST, SimBook, assert_equals_truth, drained, run, until  # noqa: E402

from liqcore.feed import create_exchange  # noqa: E402
from liqcore.sim import ExchangeSimulator, FaultPlan  # noqa: E402



@dataclass(frozen=True)
class Venue:
    symbols: tuple[str, str]            # unified symbols
    ids: tuple[str, str]                # the simulator's instrument ids
    wire: tuple[str, str]               # how a subscribe request names each symbol
    depth: int | None                   # the book's window (None: the whole book)
    fault: FaultPlan                    # on the second symbol's stream
    counter: str                        # the counter the fault must raise


VENUES = {
    "binance": Venue(("BTC/USDT", "ETH/USDT"), ("BTCUSDT", "ETHUSDT"), ('"btcusdt@', '"ethusdt@'), None,
                     FaultPlan(drop={20}, stream="ethusdt@depth"), "gaps"),
    "okx": Venue(("BTC/USDT", "ETH/USDT"), ("BTC-USDT", "ETH-USDT"), ('"BTC-USDT"', '"ETH-USDT"'), None,
                 FaultPlan(bad_checksum={20}, stream="ETH-USDT"), "checksum_failed"),
    "bybit": Venue(("BTC/USDT", "ETH/USDT"), ("BTCUSDT", "ETHUSDT"), (".BTCUSDT", ".ETHUSDT"), 50,
                   FaultPlan(drop={15}, stream="ETHUSDT"), "gaps"),
    "kraken": Venue(("BTC/USD", "ETH/USD"), ("XXBTZUSD", "XETHZUSD"), ('"BTC/USD"', '"ETH/USD"'), 10,
                    FaultPlan(bad_checksum={15}, stream="ETH/USD"), "checksum_failed"),
    "coinbase": Venue(("BTC/USD", "ETH/USD"), ("BTC-USD", "ETH-USD"), ('"BTC-USD"', '"ETH-USD"'), None,
                      FaultPlan(drop={15}, stream="ETH-USD"), "gaps"),
}


class SymbolsLoop:
    """The user's loop: ``watch_order_book_for_symbols`` again and again; every shell it returns is
    kept per symbol, every error (a resynced book fails the pending watch) counted, then retried."""

    def __init__(self, ex, symbols):
        self.ex, self.symbols = ex, list(symbols)
        self.shells: dict[str, list] = {s: [] for s in symbols}
        self.errors: list[BaseException] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self):
        while True:
            try:
                shell = await self.ex.watch_order_book_for_symbols(self.symbols)
                self.shells[shell["symbol"]].append(shell)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.errors.append(exc)
                await asyncio.sleep(0.01)

    async def stop(self):
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def book_requests(sim, venue, wire):
    """The subscribe / unsubscribe requests the client sent for books, as (kind, symbols named)."""
    out = []
    for conn in sim.connections_of(venue):
        for r in conn.received:
            low = r.lower()
            if "subscribe" not in low or not any(w in r for w in wire):
                continue
            kind = "unsubscribe" if "unsubscribe" in low else "subscribe"
            out.append((kind, tuple(i for i, w in enumerate(wire) if w in r)))
    return out


@pytest.mark.parametrize("ex_id", list(VENUES))
@pytest.mark.parametrize("faulty", [False, True], ids=["clean", "fault"])
def test_watch_order_book_for_symbols_through_the_engine(ex_id, faulty):
    v = VENUES[ex_id]
    a, b = v.symbols

    async def body():
        faults = {ex_id: v.fault} if faulty else None
        async with ExchangeSimulator(seed=11, interval=FAST, max_seconds=35, faults=faults) as sim:
            ex = sim.attach(create_exchange(ex_id, {"enableRateLimit": False}))
            loop = None
            try:
                await ex.load_markets()
                loop = SymbolsLoop(ex, v.symbols)
                await until(lambda: all(s in ex.liq_books for s in v.symbols), 15)
                la, lb = ex.liq_books[a], ex.liq_books[b]

                def done():
                    ok = la.stats.applied >= 40 and lb.stats.applied >= 40 and la.is_live and lb.is_live
                    return ok and (not faulty or (lb.stats.resyncs >= 1 and lb.stats.applied >= 60))
                await until(done, 25)
                await drained(sim, ex, ex_id, v.symbols)
                for sym, vid in zip(v.symbols, v.ids):
                    assert_equals_truth(ex, sim, SimBook(ex_id, sym, ex_id, vid, v.depth))
                # the loop got ccxt's shells for both symbols, each the compiled book's shell
                for sym in v.symbols:
                    assert len(loop.shells[sym]) >= 10, {k: len(x) for k, x in loop.shells.items()}
                    assert loop.shells[sym][-1] is ex.orderbooks[sym]
                for live in (la, lb):
                    assert live.stats.handler_errors == 0 and ex.liq_handler_errors == 0
                sa, sb = la.stats.as_dict(), lb.stats.as_dict()     # before close() counts a disconnect
            finally:
                if loop is not None:
                    await loop.stop()
                await ex.close()
            reqs = book_requests(sim, ex_id, v.wire)
            assert reqs[0] == ("subscribe", (0, 1)), reqs           # one request, both symbols
            if not faulty:
                assert reqs == [("subscribe", (0, 1))], reqs
                for st in (sa, sb):
                    assert st["resyncs"] == 0 and st["snapshots"] == 1 and st["gaps"] == 0, st
                assert not loop.errors
                return
            log = [f for c in sim.connections_of(ex_id) for f in c.faults_log]
            assert log and all(v.ids[1] in f[1] or v.wire[1].strip('".') in f[1] for f in log), log
            assert sb[v.counter] == 1 and sb["resyncs"] == 1 and sb["snapshots"] == 2, sb
            if ex_id == "coinbase":
                # the lost frame is a gap for BTC-USD too (sequence_num spans the connection)
                assert sa["gaps"] == 1 and sa["resyncs"] == 1, sa
                assert {i for kind, names in reqs[1:] if kind == "subscribe" for i in names} == {0, 1}, reqs
                return
            # the other book went on untouched: no resync, no second snapshot
            assert sa["resyncs"] == 0 and sa["snapshots"] == 1 and sa["gaps"] == 0, sa
            resub = reqs[1:]
            if ex_id == "binance":      # Binance: a fresh SUBSCRIBE (and REST snapshot) of that stream only
                assert resub == [("subscribe", (1,))], reqs
            else:                       # the others: unsubscribe + subscribe of that symbol only
                assert resub == [("unsubscribe", (1,)), ("subscribe", (1,))], reqs
    run(body(), 40)
