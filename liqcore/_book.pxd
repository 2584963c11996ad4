# What liqcore._book exports to the other compiled modules (C level, via Cython's
# __pyx_capi__): the C book inside an OrderBook, and the one status -> exception map.
from liqcore._clib cimport liq_book

cdef liq_book *_book_ptr(object book) except NULL
cdef object _error(int st, str where, object detail=*)
