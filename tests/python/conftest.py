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


#: test modules whose time goes to servers (PostgreSQL, Redis, uvicorn, MCP), subprocesses and
#: waits rather than to liqcore's compiled code, which other modules drive directly. They are
#: marked ``io_bound``; the sanitizer stage (tests/sanitize.sh) deselects them to keep CI short,
#: the README's test command runs them.
IO_BOUND_PREFIXES = ("test_service_", "test_fanout_", "test_commands_", "test_dashboard", "test_store_postgres",
                     "test_store_durability")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1].startswith(IO_BOUND_PREFIXES):
            item.add_marker(pytest.mark.io_bound)
