# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Exchange checksums of a book: the binding of ``src/checksum.c``.

The kinds, the reading of an exchange's expected value and the comparison in the
exchange's own signedness. The methods are :class:`~liqcore.OrderBook`'s (``checksum``,
``verify_checksum``): the book checks it is free and passes its C book here.
"""

from libc.stdint cimport uint32_t
import numpy as np

from liqcore._clib cimport *
from liqcore._status cimport _error

#: Checksum kinds by name: (C kind, levels per side covered, exchange sends it signed,
#: 0 means "no checksum"). OKX set its field to 0 on every frame from June 2026
#: (deprecated in favour of seqId/prevSeqId), so an OKX 0 is not a checksum.
CHECKSUM_KINDS = {
    "okx": (LIQ_CHECKSUM_OKX, 25, True, True),
    "bitget": (LIQ_CHECKSUM_BITGET, 25, True, False),
    "kraken": (LIQ_CHECKSUM_KRAKEN, 10, False, False),
    "kraken_v1": (LIQ_CHECKSUM_KRAKEN, 10, False, False),
    "kraken_v2": (LIQ_CHECKSUM_KRAKEN, 10, False, False),
    "bitfinex": (LIQ_CHECKSUM_BITFINEX, 25, True, False),
}


cdef tuple _kind(object kind):
    """The CHECKSUM_KINDS entry of a kind name (case and - / _ insensitive)."""
    key = kind.lower().replace("-", "_") if isinstance(kind, str) else None
    if key not in CHECKSUM_KINDS:
        raise _error(LIQ_ERR_ARG, "checksum", f"kind {kind!r}; known: {sorted(CHECKSUM_KINDS)}")
    return CHECKSUM_KINDS[key]


cdef object _checksum(const liq_book *b, tuple kind, object name):
    """The book's checksum of a kind (an entry of CHECKSUM_KINDS), in the exchange's signedness."""
    cdef uint32_t crc = 0
    cdef int st = liq_book_checksum(b, kind[0], &crc)
    if st != LIQ_OK:
        raise _error(st, f"checksum({name!r})",
                     f"max_depth {b.max_depth} < {kind[1]} levels" if st == LIQ_ERR_DEPTH else None)
    return crc - (1 << 32) if kind[2] and crc >= (1 << 31) else crc


cdef object _expected(tuple kind, object expected):
    """An exchange's checksum value as an int in [-2**31, 2**32), or None when the message
    carries none (the kind's 0)."""
    if isinstance(expected, (str, bytes)):
        try:
            want = int(expected)
        except ValueError:
            raise _error(LIQ_ERR_PARSE, "verify_checksum", f"expected {expected!r}") from None
    elif isinstance(expected, (int, np.integer)) and not isinstance(expected, bool):
        want = int(expected)
    else:
        raise _error(LIQ_ERR_PARSE, "verify_checksum", f"expected {expected!r}")
    if not -(1 << 31) <= want < (1 << 32):
        raise _error(LIQ_ERR_ARG, "verify_checksum", f"expected {want} is not a 32-bit checksum")
    return None if kind[3] and want == 0 else want


cdef bint _verify(const liq_book *b, tuple kind, object name, object want) except -1:
    """True when the book's checksum equals ``want`` (from _expected) modulo 2**32; else
    ChecksumError naming both in the exchange's signedness."""
    got = _checksum(b, kind, name)
    if (got ^ want) & 0xFFFFFFFF:
        want &= 0xFFFFFFFF
        if kind[2] and want >= (1 << 31):
            want -= 1 << 32
        raise _error(LIQ_ERR_CHECKSUM, "verify_checksum", f"{name}: book {got}, exchange {want}")
    return True
