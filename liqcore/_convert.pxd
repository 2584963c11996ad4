# What liqcore._convert exports to liqcore._book (C level): the caller's numbers, sides and
# containers converted as the C book takes them (liqcore/_convert.pyx).
from libc.stdint cimport int64_t, uint8_t
cimport numpy as cnp
from liqcore._clib cimport liq_book, liq_delta

# A column of numbers read in place: int64 values are whole units (converted exactly, never
# through a double), float64 values go through the float rule (liq_fixed_from_double).
cdef struct _Col:
    const char *data
    Py_ssize_t stride
    bint is_int

cdef int _to_fixed(object v, int scale, int64_t *out, uint8_t *dec) except -100
cdef int _side_of(object side) except -1
cdef tuple _grid(object step, object decimals, str name)
cdef void _col_of(cnp.ndarray a, int axis0_col, _Col *c)
cdef int _fill_columns(liq_book *b, liq_delta *d, const uint8_t *sides, int one_side, const _Col *pc,
                       const _Col *qc, size_t n, size_t *bad) noexcept nogil
cdef bint _not_rows(object v) except -1
cdef object _rows(object levels, str where, str name)
cdef object _sides_of(object sides)
cdef object _column(object v, str where, str name)
cdef size_t _count_arg(object n, size_t cnt, str where) except? 0
cdef object _label(object v, str name)
cdef object _describe_level(size_t i, object bids, object asks)
cdef object _item(object seq, size_t i)
cdef object _describe_element(size_t i, object sides, object prices, object sizes)
