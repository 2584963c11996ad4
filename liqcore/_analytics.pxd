# What liqcore._analytics exports to liqcore._book (C level): the readers of the analytics
# methods' arguments and the builders of their records (liqcore/_analytics.pyx).
from libc.stdint cimport int64_t
from liqcore._clib cimport liq_book, liq_walk_result, liq_wall, liq_cluster, liq_shape_params, liq_report_params

cdef double _as_double(object v, str where) except? -1.0
cdef size_t _as_size(object v, str where) except? 0
cdef int _ref_of(object reference, str where) except -1
cdef double _band_bps(object band_bps, object pct, str where) except? -1.0
cdef int _weighting(object name, str where) except -1
cdef liq_shape_params _shape_params(double band_bps, size_t window, double ratio, double z, double cluster_ratio,
                                    int64_t gap_ticks, str where) except *
cdef object _walk(const liq_walk_result *r, bint quote)
cdef object _wall(const liq_wall *w)
cdef object _cluster(const liq_cluster *c)
cdef object _report(const liq_book *b, object exchange, object symbol, const liq_report_params *p)
