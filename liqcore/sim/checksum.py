"""Exchange book checksums, computed independently of liqcore's C implementation so the
simulator can serve as an oracle for it.

OKX v5 (``books``, ``books-l2-tbt``, ``books50-l2-tbt``): CRC32 (zlib) over
``bid0px:bid0sz:ask0px:ask0sz:bid1px:...`` for the best 25 levels of each side, the
missing levels of the shorter side skipped, using the wire strings verbatim; reported as
a signed 32-bit integer.
"""

from __future__ import annotations

import zlib
from typing import Sequence

__all__ = ["okx_checksum"]


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
