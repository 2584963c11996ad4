"""Shared fixtures: BOOK-A, the reference book of shared/research/analytics.md."""

import pytest

from liqcore import OrderBook

BOOK_A_BIDS = [["99.5", "1.5"], ["99.0", "2.5"], ["98.0", "4.0"], ["97.0", "10.0"]]
BOOK_A_ASKS = [["100.0", "1.0"], ["100.5", "2.0"], ["101.0", "3.0"], ["102.0", "5.0"]]


@pytest.fixture
def book_a():
    """BOOK-A (tick 0.5, lot 0.5) at update id 10; a fresh book per test."""
    b = OrderBook(tick_size="0.5", lot_size="0.5")
    b.apply_snapshot(BOOK_A_BIDS, BOOK_A_ASKS, update_id=10)
    return b
