# cython: language_level=3
"""The one status -> exception map of the compiled modules.

Every liqcore error a binding raises is built here from a C status (``src/status.h``):
one table decides which exception class a status gets, so a new kind of error is a new
status (status.h, its string in status.c) and one line of this table.
"""

from liqcore._clib cimport *
from liqcore import errors

_STATUS_EXC = {
    LIQ_ERR_NAN: errors.InvalidDeltaError,
    LIQ_ERR_INF: errors.InvalidDeltaError,
    LIQ_ERR_NEGATIVE: errors.InvalidDeltaError,
    LIQ_ERR_PARSE: errors.InvalidDeltaError,
    LIQ_ERR_PRECISION: errors.InvalidDeltaError,
    LIQ_ERR_OFF_GRID: errors.InvalidDeltaError,
    LIQ_ERR_OVERFLOW: errors.InvalidDeltaError,
    LIQ_ERR_SIDE: errors.InvalidDeltaError,
    LIQ_ERR_LENGTH: errors.InvalidDeltaError,
    LIQ_ERR_ARG: errors.InvalidDeltaError,
    LIQ_ERR_FORMAT: errors.FormatError,
    LIQ_ERR_SEQ_GAP: errors.SequenceGapError,
    LIQ_ERR_CROSSED: errors.CrossedBookError,
    LIQ_ERR_CHECKSUM: errors.ChecksumError,
    LIQ_ERR_EMPTY: errors.DepthError,
    LIQ_ERR_DEPTH: errors.DepthError,
    LIQ_ERR_BUSY: errors.ConcurrentUseError,
    LIQ_ERR_NOMEM: errors.LiqMemoryError,
}


cdef object _error(int st, str where, object detail=None):
    """The liqcore exception of a C status: ``"<where>: <status text> (<detail>)"``, of the
    class the table above gives it (LiqError for a status it does not list)."""
    cls = _STATUS_EXC.get(st, errors.LiqError)
    msg = f"{where}: {liq_status_str(<liq_status>st).decode()}"
    if detail is not None:
        msg = f"{msg} ({detail})"
    return cls(msg)


cdef int check_status(int st, str where) except -1:
    """Raise the exception of an error status; LIQ_OK and LIQ_STALE pass."""
    if st == LIQ_OK or st == LIQ_STALE:
        return 0
    raise _error(st, where)
