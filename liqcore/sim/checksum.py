"""Exchange book checksums, computed independently of liqcore's C implementation so the
simulator can serve as an oracle for it.

OKX v5 (``books``, ``books-l2-tbt``, ``books50-l2-tbt``): CRC32 (zlib) over
``bid0px:bid0sz:ask0px:ask0sz:bid1px:...`` for the best 25 levels of each side, the
missing levels of the shorter side skipped, using the wire strings verbatim; reported as
a signed 32-bit integer.

Kraken spot (WS v1 and v2 ``book``): CRC32 (zlib) over the best 10 asks (low to high) then
the best 10 bids (high to low), each level as price then quantity with the wire decimals,
``.`` removed and leading zeros stripped, no separators; reported unsigned.
"""

from __future__ import annotations

import zlib
from typing import Sequence

__all__ = ["okx_checksum", "kraken_checksum"]


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
    crc = zlib.crc32(":".join(parts).encode())
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
