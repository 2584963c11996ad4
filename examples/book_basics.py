"""Build a book from exchange strings, update it, read it, and see the all-or-nothing rule at work.

Run: python examples/book_basics.py
"""

import numpy as np

from liqcore import BID, ASK, CrossedBookError, InvalidDeltaError, OrderBook

book = OrderBook(tick_size="0.5", lot_size="0.5", symbol="DEMO")
book.apply_snapshot(
    bids=[["99.5", "1.5"], ["99.0", "2.5"], ["98.0", "4.0"], ["97.0", "10.0"]],
    asks=[["100.0", "1.0"], ["100.5", "2.0"], ["101.0", "3.0"], ["102.0", "5.0"]],
)
print(book)
print("mid", book.mid, "spread", book.spread, f"({book.spread_bps:.2f} bps)")

# one message of three level changes as numpy arrays (sizes of 0 delete)
book.apply_deltas(np.array([BID, ASK, ASK], np.uint8), np.array([99.0, 100.0, 100.5]), np.array([3.0, 0.0, 2.5]))
print("after message:", book.best_bid, book.best_ask)

before = book.to_bytes()
for bad in ([[["99.5", "NaN"]], []], [[["99.7", "1"]], []], [[["101.0", "1"]], []]):
    try:
        book.apply_levels(*bad)
    except (InvalidDeltaError, CrossedBookError) as e:
        print(f"rejected: {e}")
assert book.levels(BID, raw=True).tolist() == OrderBook.from_bytes(before).levels(BID, raw=True).tolist()
print("book unchanged after the rejected messages; stats:", book.stats)
