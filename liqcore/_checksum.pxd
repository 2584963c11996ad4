# What liqcore._checksum exports to liqcore._book (C level): exchange checksums of a C book
# (liqcore/_checksum.pyx).
from liqcore._clib cimport liq_book

cdef tuple _kind(object kind)
cdef object _checksum(const liq_book *b, tuple kind, object name)
cdef object _expected(tuple kind, object expected)
cdef bint _verify(const liq_book *b, tuple kind, object name, object want) except -1
