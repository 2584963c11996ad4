# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The four alert rules compiled: the binding of ``src/alerts.c``.

:class:`liqcore.alerts.AlertEngine` uses it when its rules are the built-in ones; nothing here
decides anything (the rules are in C, the records in ``liqcore.alerts``): this module converts
the rules' parameters and each observation, owns the C state, and turns events into tuples.
"""

cimport cython
from cpython.float cimport PyFloat_AS_DOUBLE
from libc.math cimport NAN, isfinite
from libc.stdint cimport int64_t
from cpython.mem cimport PyMem_Malloc, PyMem_Free

import numpy as np

from liqcore._clib cimport *
from liqcore._status cimport _error
from liqcore.errors import AlertInputError

#: the kinds, in the order of the C enum (= liqcore.alerts.ALERT_TYPES)
KINDS = ("SPREAD_WIDENING", "DEPTH_DROP", "IMBALANCE", "PRICE_ANOMALY")
START = LIQ_ALERT_START
END = LIQ_ALERT_END
HAS_Z = LIQ_ALERT_HAS_Z
HAS_HELD = LIQ_ALERT_HAS_HELD
HAS_SIGMA = LIQ_ALERT_HAS_SIGMA
BY_VENUE = LIQ_ALERT_BY_VENUE
MAX_WINDOW = LIQ_ALERTS_MAX_WINDOW
MAX_RULES = 64
IGLEWICZ_HOAGLIN = LIQ_ALERTS_IGLEWICZ_HOAGLIN
MEAN_AD_TO_SIGMA = LIQ_ALERTS_MEAN_AD_TO_SIGMA

cdef tuple _NUMBERS = (int, float, np.integer, np.floating)
cdef tuple _BOOLS = (bool, np.bool_)


cdef object _fail(int st, str where):
    """The exception for a C status: an argument the kernel refuses is the caller's input
    (AlertInputError); anything else (out of memory) through the one map in _status."""
    if st == LIQ_ERR_ARG:
        return AlertInputError(f"{where}: {liq_status_str(<liq_status>st).decode()}")
    return _error(st, where)


cdef inline double _real(object v, str name) except? -1.0:
    """An observation's number as a double: floats (the usual case, O(1) without a call), ints
    and numpy numbers; NaN and infinities are data the rules define. Bools, strings, None and
    ints beyond a double refused."""
    if type(v) is float:
        return PyFloat_AS_DOUBLE(v)
    if isinstance(v, _BOOLS) or not isinstance(v, _NUMBERS):
        raise AlertInputError(f"{name} must be a number, got {v!r}")
    try:
        return float(v)
    except OverflowError:
        raise AlertInputError(f"{name} is beyond a float: {v!r}") from None


cdef inline int64_t _int64(object v, str name) except? -1:
    if type(v) is not int and (isinstance(v, _BOOLS) or not isinstance(v, (int, np.integer))):
        raise AlertInputError(f"{name} must be an integer, got {v!r}")
    try:
        return <int64_t>v
    except OverflowError:
        raise AlertInputError(f"{name} must fit int64, got {v!r}") from None


cdef double _param(object rule, str attr) except? -1.0:
    v = getattr(rule, attr)
    x = _real(v, attr)
    if not isfinite(x):
        raise AlertInputError(f"{attr} must be finite, got {v!r}")
    return x


cdef int _rule(object kind, object rule, object debounce, liq_alert_rule *r) except -1:
    """Parameters of a rule object (liqcore.alerts.rules) into r; AlertInputError when the kernel
    cannot represent them (an int beyond int64, a debounce window above MAX_WINDOW)."""
    cdef int index = KINDS.index(kind)
    r.kind = <liq_alert_kind>index
    r.fire = _int64(debounce.fire, "fire")
    r.window = _int64(debounce.window, "window")
    r.clear = _int64(debounce.clear, "clear")
    if r.kind == LIQ_ALERT_SPREAD_WIDENING:
        r.spread.z, r.spread.ratio = _param(rule, "z"), _param(rule, "ratio")
        r.spread.clear_z, r.spread.clear_ratio = _param(rule, "clear_z"), _param(rule, "clear_ratio")
        r.spread.lookback_ns = _int64(rule.lookback, "lookback")
        r.spread.sample_ns = _int64(rule.sample, "sample")
        r.spread.refresh_ns = _int64(rule.refresh, "refresh")
        r.spread.min_count = _int64(rule.min_count, "min_count")
    elif r.kind == LIQ_ALERT_DEPTH_DROP:
        r.depth.drop_pct, r.depth.clear_pct = _param(rule, "drop"), _param(rule, "clear")
        r.depth.half_life_s, r.depth.warmup_s = _param(rule, "half_life"), _param(rule, "warmup")
    elif r.kind == LIQ_ALERT_IMBALANCE:
        r.imbalance.level, r.imbalance.clear_level = _param(rule, "level"), _param(rule, "clear_level")
        r.imbalance.hold_ns = _int64(rule.hold, "hold")
        r.imbalance.has_z = rule.z is not None
        r.imbalance.z = _param(rule, "z") if rule.z is not None else 0.0
        r.imbalance.half_life_s = _param(rule, "half_life")
    else:
        r.price.z, r.price.venue_spreads = _param(rule, "z"), _param(rule, "venue_spreads")
        r.price.venue_bps = _param(rule, "venue_bps")
        r.price.interval_ns = _int64(rule.interval, "interval")
        r.price.half_life_s = _param(rule, "half_life")
        r.price.warmup = _int64(rule.warmup, "warmup")
    st = liq_alerts_rule_check(r)
    if st != LIQ_OK:
        raise _fail(st, f"{kind} rule {rule!r}")
    return 0


@cython.final
@cython.auto_pickle(False)
cdef class KernelRules:
    """The parameters of an ordered list of rules, converted once (an engine's rules).

    ``rules``: ``(type, rule, debounce)`` triples, ``type`` one of :data:`KINDS`, ``rule`` the
    :mod:`liqcore.alerts.rules` object of that type (its parameters are read now: later changes
    to it are not seen), ``debounce`` its :class:`~liqcore.alerts.Debounce`. AlertInputError
    when there are none or more than MAX_RULES, or a parameter is beyond the kernel (an int
    beyond int64, a debounce window above MAX_WINDOW, a PriceAnomaly interval below 1 ns).
    """

    cdef liq_alert_rule *_r
    cdef size_t _n

    def __cinit__(self, rules):
        rules = list(rules)
        if not 1 <= len(rules) <= MAX_RULES:
            raise AlertInputError(f"rules: between 1 and {MAX_RULES} rules, got {len(rules)}")
        self._r = <liq_alert_rule *>PyMem_Malloc(len(rules) * sizeof(liq_alert_rule))
        if self._r == NULL:
            raise MemoryError()
        self._n = len(rules)
        for k, (kind, rule, debounce) in enumerate(rules):
            _rule(kind, rule, debounce, &self._r[k])

    def __dealloc__(self):
        PyMem_Free(self._r)

    def __len__(self):
        return self._n


@cython.final
@cython.auto_pickle(False)
cdef class AlertKernel:
    """One market's state for a :class:`KernelRules` (baselines, debounce, episodes).

    :meth:`observe` judges one observation in C: O(rules), plus an O(window) baseline refresh
    every ``refresh`` ns per spread rule. Memory: the spread windows, bounded by
    ``(lookback + refresh) / sample + 1`` values per spread rule (``nbytes``). Not thread-safe.
    """

    cdef liq_alerts *_a
    cdef liq_alert_event *_ev
    cdef size_t _n

    def __cinit__(self, KernelRules rules not None):
        self._ev = <liq_alert_event *>PyMem_Malloc(rules._n * sizeof(liq_alert_event))
        if self._ev == NULL:
            raise MemoryError()
        st = liq_alerts_create(rules._r, rules._n, &self._a)
        if st != LIQ_OK:
            raise _fail(st, "AlertKernel")
        self._n = rules._n

    def __dealloc__(self):
        liq_alerts_destroy(self._a)
        PyMem_Free(self._ev)

    def observe(self, object observation):
        """Judge an observation (a :class:`liqcore.alerts.Observation`: its fields 2..8).

        Returns the events, ``()`` when none (the usual case): per rule that started or ended
        an episode, in rule order, ``(rule, kind, flags, current, baseline, z, measure, v0, v1,
        ivalue)`` (``kind`` START or END; the meaning of the values: src/alerts.h,
        liq_alert_event). AlertInputError (nothing changed) when ``ts`` is not an int64,
        a value not a number, or ``reference_price`` neither None nor finite and > 0.
        """
        cdef size_t n = 0, k
        cdef liq_alert_event *e
        if not isinstance(observation, tuple) or len(<tuple>observation) != 9:
            raise AlertInputError(f"obs: expected an Observation, got {observation!r}")
        cdef tuple obs = <tuple>observation      # a NamedTuple: tuple item access
        cdef int64_t ts = _int64(obs[2], "ts")
        cdef double mid = _real(obs[3], "mid")
        cdef double spread = _real(obs[4], "spread_bps")
        cdef double bid = _real(obs[5], "bid_depth")
        cdef double ask = _real(obs[6], "ask_depth")
        cdef double imb = _real(obs[7], "imbalance")
        ref = obs[8]
        cdef double r = NAN
        if ref is not None:
            r = _real(ref, "reference_price")
            if not (isfinite(r) and r > 0.0):
                raise AlertInputError(f"reference_price must be a finite price > 0 or None, got {ref!r}")
        st = liq_alerts_observe(self._a, ts, mid, spread, bid, ask, imb, r, self._ev, &n)
        if st != LIQ_OK:
            raise _fail(st, "observe")
        if n == 0:
            return ()
        out = []
        for k in range(n):
            e = &self._ev[k]
            out.append((e.rule, e.kind, e.flags, e.current, e.baseline, e.z, e.measure, e.values[0], e.values[1],
                        e.ivalue))
        return tuple(out)

    def active(self, Py_ssize_t rule):
        """Whether rule ``rule`` (an index) has an episode under way."""
        if not 0 <= rule < <Py_ssize_t>self._n:
            raise IndexError(f"rule index {rule} out of range")
        return liq_alerts_active(self._a, <size_t>rule) == 1

    def warm(self, Py_ssize_t rule):
        """Whether rule ``rule`` (an index) has finished its warm-up (the rules' ``warm``)."""
        if not 0 <= rule < <Py_ssize_t>self._n:
            raise IndexError(f"rule index {rule} out of range")
        return liq_alerts_warm(self._a, <size_t>rule) == 1

    def window_len(self, Py_ssize_t rule):
        """Values in rule ``rule``'s spread window (0 for other rules)."""
        if not 0 <= rule < <Py_ssize_t>self._n:
            raise IndexError(f"rule index {rule} out of range")
        return liq_alerts_window_len(self._a, <size_t>rule)

    @property
    def nbytes(self):
        """Bytes owned by the C state (windows included)."""
        return liq_alerts_bytes(self._a)
