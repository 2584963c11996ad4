# What liqcore._status exports to the other compiled modules (C level): the one status ->
# exception map (liqcore/_status.pyx).

cdef object _error(int st, str where, object detail=*)
cdef int check_status(int st, str where) except -1
