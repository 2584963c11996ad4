# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The caller's numbers, sides and containers as the C book takes them: conversion to int64
fixed point (exact for decimal strings, Decimals and integers; floats through the grid rule of
``src/fixed.c``), the level/column containers a message may come in, labels, counts and the
descriptions of a refused element. Reads only a book's scales, never holds a book; every
refusal is a status through the one map (``_status``).
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_AsUTF8AndSize
from libc.stdint cimport int64_t, uint8_t

cimport numpy as cnp
import numpy as np
from decimal import Decimal

from liqcore._clib cimport *
from liqcore._status cimport _error

cnp.import_array()

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)   # a compact ASCII str (its UTF-8 form is its data)


cdef int _to_fixed(object v, int scale, int64_t *out, uint8_t *dec) except -100:
    """Convert one price or size to units at ``scale``; returns a liq_status.

    str/bytes/Decimal are parsed exactly (and keep their wire decimals); floats are
    rounded to the grid and rejected if they carry digits beyond it.
    """
    cdef const char *s
    cdef Py_ssize_t n
    cdef object t = type(v)
    if t is float:
        dec[0] = LIQ_DEC_NONE
        return liq_fixed_from_double(<double>v, scale, out)
    if t is str:
        # a decimal is ASCII; anything else (a lone surrogate among it) is not one, and an
        # ASCII str is UTF-8 already (no encoding step that could fail)
        if not PyUnicode_IS_ASCII(v):
            return LIQ_ERR_PARSE
        s = PyUnicode_AsUTF8AndSize(v, &n)
        return liq_decimal_parse(s, <size_t>n, scale, out, dec)
    if t is bytes:
        return liq_decimal_parse(PyBytes_AS_STRING(v), <size_t>PyBytes_GET_SIZE(v), scale, out, dec)
    if t is bool:
        return LIQ_ERR_PARSE
    if isinstance(v, str):             # str subclasses, e.g. numpy.str_ from a "<U" array
        return _to_fixed(str(v), scale, out, dec)
    if isinstance(v, bytes):           # bytes subclasses, e.g. numpy.bytes_ from a "S" array
        return _to_fixed(bytes(v), scale, out, dec)
    if t is int or isinstance(v, (int, np.integer)):
        dec[0] = LIQ_DEC_NONE
        iv = int(v)
        if iv < -(1 << 63) or iv >= (1 << 63):
            return LIQ_ERR_OVERFLOW
        iv = iv * liq_pow10[scale]
        if iv < -(1 << 63) or iv >= (1 << 63):
            return LIQ_ERR_OVERFLOW
        out[0] = iv
        return LIQ_OK
    if isinstance(v, (float, np.floating)):
        dec[0] = LIQ_DEC_NONE
        return liq_fixed_from_double(<double>float(v), scale, out)
    if isinstance(v, Decimal):
        if v.is_nan():
            return LIQ_ERR_NAN
        if v.is_infinite():
            return LIQ_ERR_INF
        sv = str(v).encode()
        return liq_decimal_parse(PyBytes_AS_STRING(sv), <size_t>PyBytes_GET_SIZE(sv), scale, out, dec)
    return LIQ_ERR_PARSE


cdef int _side_of(object side) except -1:
    if type(side) is int:
        if side == 0 or side == 1:
            return side
    elif isinstance(side, str):
        s = side.lower()
        if s in ("bid", "bids", "b", "buy"):
            return LIQ_BID
        if s in ("ask", "asks", "a", "sell"):
            return LIQ_ASK
    elif isinstance(side, np.integer) and (side == 0 or side == 1):
        return int(side)
    raise _error(LIQ_ERR_SIDE, "side", repr(side))


cdef tuple _grid(object step, object decimals, str name):
    """(scale, step in units) from a tick/lot size and/or a number of decimals."""
    if decimals is not None:
        if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
            raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} decimals must be an int, got {decimals!r}")
        decimals = int(decimals)
        if not 0 <= decimals <= LIQ_MAX_SCALE:
            raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} decimals must be in 0..{LIQ_MAX_SCALE}, got {decimals}")
    if step is None:
        return (8 if decimals is None else decimals), 1
    if isinstance(step, bool) or not isinstance(step, (str, bytes, int, float, Decimal, np.integer, np.floating)):
        raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} size must be a decimal string or number, got {step!r}")
    try:
        d = Decimal(repr(float(step))) if isinstance(step, (float, np.floating)) else \
            Decimal(step.decode() if isinstance(step, bytes) else str(step))
    except ArithmeticError:
        raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} size must be a decimal number, got {step!r}") from None
    if not d.is_finite() or d <= 0:
        raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} size must be a positive finite number, got {step!r}")
    exp = d.normalize().as_tuple().exponent
    need = max(0, -exp)
    scale = need if decimals is None else decimals
    if scale < need:
        raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} size {step} needs {need} decimals, more than {decimals}")
    if scale > LIQ_MAX_SCALE:
        raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} size {step} needs more than {LIQ_MAX_SCALE} decimals")
    units = int(d.scaleb(scale))
    if units >= (1 << 63):
        raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} size {step} out of range")
    return scale, units


cdef object _as_1d(object a, object dtype, str name):
    arr = np.ascontiguousarray(a, dtype=dtype)
    if arr.ndim != 1:
        raise _error(LIQ_ERR_ARG, "apply_deltas", f"{name} must be 1-D, got shape {arr.shape}")
    return arr


cdef object _sides_u8(object sides):
    """A contiguous uint8 array of 0/1 from any integer/bool array; others are rejected."""
    cdef cnp.ndarray arr = sides if isinstance(sides, np.ndarray) else np.asarray(sides)
    if arr.dtype == np.uint8 or arr.dtype == np.bool_:
        return _as_1d(arr, np.uint8, "sides")
    if arr.dtype == np.int8:
        # negative values wrap to >= 128 and are rejected as bad sides by the core
        return _as_1d(arr.view(np.uint8), np.uint8, "sides")
    if arr.dtype.kind in "iu":
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            raise _error(LIQ_ERR_SIDE, "apply_deltas", "sides must be 0 (bid) or 1 (ask)")
        return _as_1d(arr, np.uint8, "sides")
    return None


cdef inline liq_status _col_fixed(const _Col *c, size_t i, int scale, int64_t *out) noexcept nogil:
    cdef const char *p = c.data + <Py_ssize_t>i * c.stride
    if c.is_int:
        return liq_fixed_from_i64((<const int64_t *>p)[0], scale, out)
    return liq_fixed_from_double((<const double *>p)[0], scale, out)


cdef object _numeric(object a, str where, str name):
    """A numeric ndarray as int64 (integer dtypes: exact) or float64, any shape; None for a
    non-numeric one (object, str: converted element by element). Bool and complex dtypes are
    rejected; uint64 values beyond int64 are InvalidDeltaError naming the first one."""
    cdef str kind = a.dtype.kind
    if kind in "iu":
        if kind == "u" and a.dtype.itemsize == 8 and a.size and a.max() > 0x7FFFFFFFFFFFFFFF:
            i = int(np.argmax(a.reshape(-1) > 0x7FFFFFFFFFFFFFFF))
            raise _error(LIQ_ERR_OVERFLOW, where, f"{name} element {i} = {a.reshape(-1)[i]} exceeds int64")
        return a.astype(np.int64, copy=False)
    if kind == "f":
        return a.astype(np.float64, copy=False)
    if kind in "bc":
        raise _error(LIQ_ERR_PARSE, where, f"{name}: dtype {a.dtype} is not a real number")
    return None


cdef void _col_of(cnp.ndarray a, int axis0_col, _Col *c):
    """Column axis0_col of a 2-D array (-1: a 1-D array) of int64/float64."""
    c.is_int = cnp.PyArray_TYPE(a) == cnp.NPY_INT64
    if axis0_col < 0:
        c.data = <const char *>cnp.PyArray_DATA(a)
        c.stride = cnp.PyArray_STRIDE(a, 0)
    else:
        c.data = <const char *>cnp.PyArray_DATA(a) + axis0_col * cnp.PyArray_STRIDE(a, 1)
        c.stride = cnp.PyArray_STRIDE(a, 0)


cdef int _fill_columns(liq_book *b, liq_delta *d, const uint8_t *sides, int one_side, const _Col *pc,
                       const _Col *qc, size_t n, size_t *bad) noexcept nogil:
    """Convert n levels from columns (sides per level, or one_side for all) into d; returns a
    status, *bad = the first bad index. Signs, sides and grids are checked by the apply (after
    the sequence check, as for every message)."""
    cdef size_t i
    cdef int st
    for i in range(n):
        d[i].side = sides[i] if sides != NULL else <uint8_t>one_side
        d[i].px_dec = d[i].qty_dec = LIQ_DEC_NONE
        st = _col_fixed(pc, i, b.px_scale, &d[i].px)
        if st == LIQ_OK:
            st = _col_fixed(qc, i, b.qty_scale, &d[i].qty)
        if st != LIQ_OK:
            bad[0] = i
            return st
    return LIQ_OK


cdef tuple _NOT_ROWS = (str, bytes, bytearray, memoryview, dict, set, frozenset)


cdef bint _not_rows(object v) except -1:
    """Not a sequence of levels, nor a level: a str, bytes, a dict (anything with keys), a set."""
    return isinstance(v, _NOT_ROWS) or hasattr(v, "keys")


cdef object _rows(object levels, str where, str name):
    """One message side as an immutable sequence of rows (a tuple: Python code run while the
    rows are converted cannot change their number), or a 2-D int64/float64 array; raises
    InvalidDeltaError for what is not a sequence of levels (a str, bytes, a dict, a set)."""
    cdef object t = type(levels)
    if t is tuple:
        return levels
    if t is list:
        return tuple(<list>levels)
    if isinstance(levels, np.ndarray):
        if levels.ndim == 1 and levels.shape[0] == 0:
            return ()
        arr = _numeric(levels, where, name)
        if arr is None:             # object/str arrays: (n, 2), or (n,) of row objects
            if levels.ndim not in (1, 2):
                raise _error(LIQ_ERR_ARG, where, f"{name} array must have shape (n, 2), got {levels.shape}")
            return tuple(levels)
        if arr.ndim != 2 or (arr.shape[0] and arr.shape[1] < 2):
            raise _error(LIQ_ERR_ARG, where, f"{name} array must have shape (n, 2), got {levels.shape}")
        return arr
    if _not_rows(levels):
        raise _error(
            LIQ_ERR_ARG, where, f"{name} must be a sequence of [price, size] levels, got {type(levels).__name__}")
    try:
        return tuple(levels)
    except TypeError:
        raise _error(
            LIQ_ERR_ARG, where, f"{name} must be a sequence of [price, size] levels, got {type(levels).__name__}") from None


cdef object _sides_of(object sides):
    """apply_deltas' per-level sides: a uint8 array of 0/1 (from an integer or bool array) or
    a tuple of sides (str/object arrays, sequences); a float or other array is rejected."""
    if isinstance(sides, np.ndarray):
        arr = _sides_u8(sides)
        if arr is not None:
            return arr
        if sides.dtype.kind in "OUS" and sides.ndim == 1:
            return tuple(sides)
        raise _error(LIQ_ERR_SIDE, "apply_deltas", f"sides of dtype {sides.dtype}, shape {sides.shape}")
    return _rows(sides, "apply_deltas", "sides")


cdef object _column(object v, str where, str name):
    """apply_deltas' prices/sizes/sides argument: a numeric 1-D array (int64 or float64), or a
    tuple of elements (converted one by one); InvalidDeltaError for a str, a dict or a set."""
    if isinstance(v, np.ndarray):
        arr = _numeric(v, where, name)
        if arr is None:
            if v.ndim != 1:
                raise _error(LIQ_ERR_ARG, where, f"{name} must be 1-D, got shape {v.shape}")
            return tuple(v)
        if arr.ndim != 1:
            raise _error(LIQ_ERR_ARG, where, f"{name} must be 1-D, got shape {v.shape}")
        return arr
    return _rows(v, where, name)


cdef size_t _count_arg(object n, size_t cnt, str where) except? 0:
    """A level count argument clamped to 0..cnt (None: cnt); InvalidDeltaError for a bool,
    a float or anything that is not an integer."""
    if n is None:
        return cnt
    if type(n) is int or (isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))):
        return <size_t>min(max(int(n), 0), cnt)
    raise _error(LIQ_ERR_ARG, where, f"a level count must be an int or None, got {n!r}")


cdef object _label(object v, str name):
    """A book label (symbol, exchange): None or a str of at most LIQ_LABEL_MAX UTF-8 bytes."""
    if v is None:
        return None
    if not isinstance(v, str):
        raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} must be a str or None, got {type(v).__name__}")
    try:
        n = len((<str>v).encode())
    except UnicodeEncodeError:
        raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} {v!r} is not valid text (a lone surrogate)") from None
    if n > LIQ_LABEL_MAX:
        raise _error(LIQ_ERR_ARG, "OrderBook", f"{name} is {n} bytes long, more than {LIQ_LABEL_MAX}")
    return str(v)


cdef object _describe_level(size_t i, object bids, object asks):
    """Level i of a message (bids first, then asks), for an error message."""
    cdef size_t nb = len(bids)
    return f"bids[{i}] = {_item(bids, i)!r}" if i < nb else f"asks[{i - nb}] = {_item(asks, i - nb)!r}"


@cython.boundscheck(True)
@cython.wraparound(True)
cdef object _item(object seq, size_t i):
    try:
        return seq[i]
    except Exception:
        return "?"


cdef object _describe_element(size_t i, object sides, object prices, object sizes):
    side = sides if isinstance(sides, (int, str)) else _item(sides, i)
    return f"element {i}: side={side!r} price={_item(prices, i)!r} size={_item(sizes, i)!r}"
