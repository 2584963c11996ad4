"""Books of exchanges without a liqcore adapter: mirror ccxt's own book, or poll REST.

* :func:`mirror` copies a ccxt order book (``watch_order_book`` or ``fetch_order_book`` output:
  float levels, best first) into a compiled book as a snapshot, O(levels). ccxt keeps its Python
  book here (and its own checksum checks: bitget, bitfinex), so this path costs ccxt's ~80 µs per
  message plus the copy; it exists so any of ccxt.pro's ~75 websocket exchanges, or any REST-only
  exchange polled with ``fetch_order_book``, feed the same API.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping, Sequence

from liqcore.feed.live_book import LiveBook

__all__ = ["mirror"]


def _as_text(levels: Sequence[Sequence[Any]]) -> list[list[str]]:
    # floats -> plain decimal text (repr is the shortest round trip; 'f' avoids 1e-05)
    return [[format(Decimal(repr(float(p))), "f"), format(Decimal(repr(float(q))), "f")] for p, q, *_ in levels]


def mirror(live: LiveBook, ob: Mapping[str, Any], recv_ns: int) -> None:
    """Load a ccxt book dict into ``live`` as a snapshot (counted as a message applied) and
    publish it. A float off the book's grid is loaded as its exact decimal text (the book widens
    to its decimals)."""
    live.load_snapshot(ob.get("bids") or [], ob.get("asks") or [], None, mirrored=True, exact=_as_text)
    live.publish(recv_ns)
