"""Reading venues' JSON text exactly.

:func:`loads_exact` decodes with every number kept as its text (Kraken v2 and Bitfinex send prices as
JSON numbers whose trailing zeros their checksums hash: ``0.00100000`` must stay ``"0.00100000"``,
which a float cannot). Frames the C parser reads (Binance, OKX) are routed inside it: no Python scan
of their text remains.
"""

from __future__ import annotations

import json
from typing import Any

from liqcore.errors import FormatError

__all__ = ["loads_exact"]

_exact = json.JSONDecoder(parse_float=str, parse_int=str)


def loads_exact(data: str) -> Any:
    """``data`` decoded with every JSON number as its exact text; FormatError if not JSON.
    O(len(data))."""
    try:
        return _exact.decode(data)
    except ValueError as exc:
        raise FormatError(f"frame is not JSON: {exc}") from None
