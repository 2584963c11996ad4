"""Reading venues' JSON text: exact decoding and single-field scans.

* :func:`loads_exact` decodes with every number kept as its text (Kraken v2 and Bitfinex send
  prices as JSON numbers whose trailing zeros their checksums hash: ``0.00100000`` must stay
  ``"0.00100000"``, which a float cannot).
* :func:`text_field` / :func:`int_field` read one value out of a compact frame's text (venues
  write no spaces) without decoding it, for routing a frame before the C parser applies it.
"""

from __future__ import annotations

import json
from typing import Any

from liqcore.errors import FormatError

__all__ = ["loads_exact", "text_field", "int_field"]

_exact = json.JSONDecoder(parse_float=str, parse_int=str)


def loads_exact(data: str) -> Any:
    """``data`` decoded with every JSON number as its exact text; FormatError if not JSON.
    O(len(data))."""
    try:
        return _exact.decode(data)
    except ValueError as exc:
        raise FormatError(f"frame is not JSON: {exc}") from None


def text_field(data: str, key: str) -> str | None:
    """The string value after ``key`` (e.g. ``'"instId":"'``) in a frame's text, or None.
    O(position of the key)."""
    i = data.find(key)
    if i < 0:
        return None
    i += len(key)
    j = data.find('"', i)
    return data[i:j] if j > i else None


def int_field(data: str, key: str) -> int | None:
    """The unsigned integer after ``key`` (e.g. ``'"E":'``) in a frame's text, or None."""
    i = data.find(key)
    if i < 0:
        return None
    i += len(key)
    j = i
    n = len(data)
    while j < n and data[j].isdigit():
        j += 1
    return int(data[i:j]) if j > i else None
