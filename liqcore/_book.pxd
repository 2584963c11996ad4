# What liqcore._book exports to the other compiled modules (C level, via Cython's
# __pyx_capi__): the C book inside an OrderBook, checked free, or held for a call that
# releases the GIL (_book_enter/_book_leave). The status -> exception map is liqcore/_status.pxd.
from liqcore._clib cimport liq_book

cdef liq_book *_book_ptr(object book) except NULL
cdef liq_book *_book_enter(object book) except NULL
cdef void _book_leave(object book) noexcept
