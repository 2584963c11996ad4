"""Rebuild Binance BTCUSDT's book from the bundled real recording and check it against the exchange.

Every bookTicker in the recording is a checkpoint: after the depth event with the same update id the
book's best bid/ask must equal it exactly.

Run: python examples/replay_binance.py
"""

from liqcore.replay import replay_binance

book, report = replay_binance()
print(f"{report.applied} depth events applied, {report.skipped} dropped (older than the snapshot), "
      f"{report.gaps} gaps, in {report.seconds * 1e3:.0f} ms")
print(f"checkpoints: {report.checkpoints_ok} ok, {report.checkpoints_failed} failed")
# level_strings: the exact prices and sizes, as strings on the book's grid (bids()/asks() are float arrays)
for side in ("bid", "ask"):
    print(f"top 5 {side}s (price x size):")
    for price, size in book.level_strings(side, 5):
        print(f"  {price:>10} x {size}")
