"""The support module's book-equals-truth check (simtest.assert_equals_truth) can fail: for every
venue's default test book, a synced and drained book passes it, and the same book with one size
changed behind the feed's back (inside every venue's checksummed and windowed levels) does not.
The feed tests of every venue rely on this check, so a check that could not fail would hide
every book they prove."""

from __future__ import annotations

from decimal import Decimal

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import BOOKS, FAST, assert_equals_truth, drained, live_feed, run, settle  # noqa: E402

from liqcore.sim import ExchangeSimulator  # noqa: E402


@pytest.mark.parametrize("ex_id", list(BOOKS))
def test_assert_equals_truth_catches_one_changed_size(ex_id):
    book = BOOKS[ex_id]

    async def body():
        async with ExchangeSimulator(seed=3, interval=FAST, max_seconds=20) as sim:
            async with live_feed(sim, ex_id, [book.symbol], applied=10) as feed:
                await drained(sim, feed, ex_id, [book.symbol])
                await settle(sim, feed, [book])
                assert_equals_truth(feed, sim, book)
                live = feed.live_book(ex_id, book.symbol)
                px, sz = live.book.level_strings("bid", 3)[2]
                live.book.update("bid", px, str(Decimal(sz) * 2))          # still on the lot grid
                with pytest.raises(AssertionError):
                    assert_equals_truth(feed, sim, book)
    run(body())
