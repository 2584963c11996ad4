"""Exchange book checksums, computed independently of liqcore's C implementation so the
simulator can serve as an oracle for it.

OKX v5 (``books``, ``books-l2-tbt``, ``books50-l2-tbt``): CRC32 (zlib) over
``bid0px:bid0sz:ask0px:ask0sz:bid1px:...`` for the best 25 levels of each side, the
missing levels of the shorter side skipped, using the wire strings verbatim; reported as
a signed 32-bit integer.

Kraken spot (WS v1 and v2 ``book``): CRC32 (zlib) over the best 10 asks (low to high) then
the best 10 bids (high to low), each level as price then quantity with the wire decimals,
``.`` removed and leading zeros stripped, no separators; reported unsigned.

Bitfinex v2 (``book``, precisions P0..P4, with ``conf`` flag 131072): CRC32 (zlib) over
``bid0px:bid0amt:ask0px:-ask0amt:bid1px:...`` for the best 25 levels of each side (the
missing levels of the shorter side skipped), numbers written as JavaScript's
``Number#toString`` writes them (``1e-7``, ``0.000001``, ``64100``); reported as a signed
32-bit integer.
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Sequence

__all__ = ["okx_checksum", "kraken_checksum", "bitfinex_checksum", "js_number"]


def okx_checksum(bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]], depth: int = 25) -> int:
    """OKX's signed CRC32 of the best ``depth`` bids and asks (best first, wire strings).

    O(depth). Example from OKX's docs: bids ``[["3366.1", "7"], ["3366", "6"]]``, asks
    ``[["3366.8", "9"], ["3368", "8"]]`` -> ``-1881014294``.
    """
    parts: list[str] = []
    for i in range(depth):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    return _signed(zlib.crc32(":".join(parts).encode()))


def _signed(crc: int) -> int:
    return crc - (1 << 32) if crc >= (1 << 31) else crc


def _kraken_digits(text: str) -> str:
    return text.replace(".", "").lstrip("0")


def kraken_checksum(bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]], depth: int = 10) -> int:
    """Kraken's unsigned CRC32 of the best ``depth`` asks then bids (best first, wire strings
    with the pair's decimals: ``"45285.2"``, ``"0.00100000"``). O(depth).

    Example from Kraken's v1 docs (asks 0.05005..0.05050, bids 0.05000..0.04950, all
    ``"0.00000500"``) -> ``974947235``."""
    parts = [_kraken_digits(lv[0]) + _kraken_digits(lv[1]) for lv in asks[:depth]]
    parts += [_kraken_digits(lv[0]) + _kraken_digits(lv[1]) for lv in bids[:depth]]
    return zlib.crc32("".join(parts).encode())


def js_number(value: str | Decimal) -> str:
    """A decimal written as JavaScript's ``Number#toString`` writes the double nearest to it
    (ECMA-262 Number::toString), which is how Bitfinex puts numbers on the wire and into its
    checksum: ``"0.00000010"`` -> ``"1e-7"``, ``"-0.0000025"`` -> ``"-0.0000025"``,
    ``"64100.0"`` -> ``"64100"``, ``"2.5E-8"`` -> ``"2.5e-8"``. Exact for up to 15 significant
    digits (the shortest round-trip digits of the double are then the decimal's own). O(digits).
    """
    d = Decimal(value)
    if d == 0:
        return "0"
    sign = "-" if d < 0 else ""
    t = abs(d).normalize().as_tuple()
    digits = "".join(map(str, t.digits))
    k = len(digits)
    n = k + int(t.exponent)        # 10**(n-1) <= |d| < 10**n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"


def bitfinex_checksum(bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]], depth: int = 25) -> int:
    """Bitfinex's signed CRC32 of the best ``depth`` bids and asks (best first; prices and
    positive amounts as decimal strings; ask amounts are negated, as Bitfinex's book holds them).
    O(depth).

    Example (price ``64100``/``64000``, bid amount ``1e-8``, ask amount ``2e-8``): the string
    ``64000:1e-8:64100:-2e-8`` -> CRC32 as signed int32."""
    # OKX's interleaved layout over Bitfinex's number text
    return okx_checksum([(js_number(p), js_number(a)) for p, a in bids[:depth]],
                        [(js_number(p), js_number("-" + a.lstrip("-"))) for p, a in asks[:depth]], depth)
