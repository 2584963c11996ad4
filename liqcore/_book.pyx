# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled L2 order book: the binding of ``src/book.c``.

:class:`OrderBook` owns its C book: snapshots, deltas, reads, copies and the guard against
other threads and re-entry; its analytics and checksum methods check the book is free and
pass it to ``_analytics`` / ``_checksum``, which build their records. The caller's numbers
and containers are converted by ``_convert``; errors come from the one status -> exception
map in ``_status``; the rules live in C.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize
from cpython.pythread cimport PyThread_get_thread_ident
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint64_t
from libc.math cimport NAN

cimport numpy as cnp
import numpy as np
from decimal import Decimal
import time

from liqcore._clib cimport *
from liqcore._status cimport _error, check_status
from liqcore._convert cimport (_Col, _to_fixed, _side_of, _grid, _col_of, _fill_columns, _not_rows, _rows, _sides_of,
                               _column, _count_arg, _label, _describe_level, _item, _describe_element)
from liqcore._analytics cimport (_as_double, _as_size, _ref_of, _band_bps, _weighting, _shape_params, _walk,
                                 _wall, _cluster, _report)
from liqcore._checksum cimport _kind, _checksum, _expected, _verify
from liqcore._checksum import CHECKSUM_KINDS as _CHECKSUM_KINDS
from liqcore._analytics import _walk_result   # WalkResult pickles made before the split name it here
from liqcore import errors

cnp.import_array()

BID = LIQ_BID
ASK = LIQ_ASK
#: the most decimals a book's price or size scale may have (src/fixed.h)
MAX_SCALE = LIQ_MAX_SCALE

#: Cross policies by name.
CROSS_POLICIES = {"raise": LIQ_CROSS_RAISE, "repair": LIQ_CROSS_REPAIR, "allow": LIQ_CROSS_ALLOW}

#: Sequence rules by exchange (data, not code paths: the rule semantics are in src/book.c).
#: Ids passed to the ``apply_*`` methods: ``last_id`` (Binance ``u``, OKX ``seqId``, Bybit ``u``,
#: Coinbase ``sequence_num``), ``first_id`` (Binance ``U``), ``prev_id`` (Binance futures ``pu``,
#: OKX ``prevSeqId``, Deribit ``prev_change_id``).
SEQUENCE_RULES = {
    "binance": LIQ_SEQ_BINANCE_SPOT,
    "binance_spot": LIQ_SEQ_BINANCE_SPOT,
    "binance_futures": LIQ_SEQ_BINANCE_FUTURES,
    "binanceusdm": LIQ_SEQ_BINANCE_FUTURES,
    "binancecoinm": LIQ_SEQ_BINANCE_FUTURES,
    "okx": LIQ_SEQ_OKX,
    "bybit": LIQ_SEQ_CONTIGUOUS,
    "coinbase": LIQ_SEQ_CONTIGUOUS,
    "gate": LIQ_SEQ_CONTIGUOUS,
    "krakenfutures": LIQ_SEQ_CONTIGUOUS,
    "contiguous": LIQ_SEQ_CONTIGUOUS,
    "deribit": LIQ_SEQ_PREV,
    "prev": LIQ_SEQ_PREV,
    "bitget": LIQ_SEQ_INCREASING,
    "increasing": LIQ_SEQ_INCREASING,
}
_RULE_NAMES = {
    LIQ_SEQ_BINANCE_SPOT: "binance_spot",
    LIQ_SEQ_BINANCE_FUTURES: "binance_futures",
    LIQ_SEQ_OKX: "okx",
    LIQ_SEQ_CONTIGUOUS: "contiguous",
    LIQ_SEQ_PREV: "prev",
    LIQ_SEQ_INCREASING: "increasing",
}

# Messages at least this long are applied with the GIL released; below it the
# release/reacquire (~50 ns) costs more than it frees.
cdef enum:
    NOGIL_MIN = 64

cdef object _UNSET = object()  # a cached read not built yet (None is a valid best_bid)
cdef object _SIDE_BID = 0      # the interpreter's cached small ints (see update)
cdef object _SIDE_ASK = 1


# ---------------------------------------------------------------- the book

cdef class OrderBook:
    """L2 (price-level) order book with int64 fixed-point prices and sizes.

    Parameters
    ----------
    tick_size, lot_size : str | Decimal | float | int, optional
        Price and size grid steps. Their decimals set the scales unless
        ``price_decimals``/``size_decimals`` are given (which may be larger, e.g. the
        number of decimals the exchange sends). Values off the grid are rejected.
        With neither a step nor decimals, 8 decimals and a step of 1e-8.
    price_decimals, size_decimals : int, optional
        Fixed-point scales (0..18).
    max_depth : int, optional
        Levels kept per side; worse levels are dropped after every message (Kraken's
        rule). ``None``/0 keeps all.
    cross_policy : {"raise", "repair", "allow"}
        What a message that leaves best bid > best ask does: raise
        :class:`~liqcore.errors.CrossedBookError` (book unchanged), drop the stale
        side's crossed levels, or apply anyway. Always counted in ``stats["crossed"]``.
    sequence : str, optional
        Sequence rule (a key of ``SEQUENCE_RULES``: ``"binance_spot"``,
        ``"binance_futures"``, ``"okx"``, ``"bybit"``, ``"coinbase"``, ``"deribit"`` ...)
        applied when ``apply_*`` get update ids.
    symbol, exchange : str, optional
        Labels (str, at most 1024 UTF-8 bytes), carried by copies, pickles and to_bytes.

    Notes
    -----
    Memory: 18 bytes per level, plus the holes of the dense region near the touch (at
    most a quarter more when rebuilt) and the growth slack of the side arrays: about
    23 bytes per level for a 1000-level-a-side book. Threads: every call sees the book
    between two whole messages. A call that releases the GIL or runs the caller's code
    while it holds the book's internals makes callers from other threads wait; a callback
    re-entering the book raises ConcurrentUseError. The order of two threads' messages is
    the caller's business.
    """

    cdef liq_book _b
    cdef readonly object symbol
    cdef readonly object exchange
    cdef double _pdiv
    cdef double _qdiv
    # best_bid / best_ask / bbo results, valid while generation == _cache_gen (_UNSET: not built)
    cdef object _bb, _ba, _bbo
    cdef uint64_t _cache_gen
    # the guard (see _enter): 1 while a call holds the book; the holder's thread ident
    cdef int _busy
    cdef unsigned long _owner

    def __cinit__(self):
        self._bb = self._ba = self._bbo = _UNSET
        liq_book_init(&self._b, 8, 8, 1, 1, 0)
        self._pdiv = 1e8
        self._qdiv = 1e8

    def __init__(self, tick_size=None, lot_size=None, *, price_decimals=None, size_decimals=None,
                 max_depth=None, cross_policy="raise", sequence=None, symbol=None, exchange=None):
        ps, tick = _grid(tick_size, price_decimals, "tick")
        qs, lot = _grid(lot_size, size_decimals, "lot")
        if max_depth is not None and (isinstance(max_depth, bool) or not isinstance(max_depth, (int, np.integer))):
            raise _error(LIQ_ERR_ARG, "OrderBook", f"max_depth must be an int or None, got {max_depth!r}")
        depth = 0 if max_depth is None else int(max_depth)
        if depth < 0 or depth >= (1 << 63):
            raise _error(LIQ_ERR_ARG, "OrderBook", f"max_depth must be in 0..2**63-1, got {max_depth}")
        sym, exch = _label(symbol, "symbol"), _label(exchange, "exchange")
        self._ready()
        liq_book_free(&self._b)
        self._bb = self._ba = self._bbo = _UNSET
        check_status(liq_book_init(&self._b, ps, qs, tick, lot, <size_t>depth), "OrderBook")
        self._pdiv = <double>liq_pow10[ps]
        self._qdiv = <double>liq_pow10[qs]
        self.cross_policy = cross_policy
        self.sequence = sequence
        self.symbol = sym
        self.exchange = exch

    def __dealloc__(self):
        liq_book_free(&self._b)

    # ------------------------------------------------------------ configuration

    @property
    def price_decimals(self):
        """Fixed-point scale of prices (price units = price * 10**price_decimals)."""
        return self._b.px_scale

    @property
    def size_decimals(self):
        """Fixed-point scale of sizes."""
        return self._b.qty_scale

    @property
    def tick_size(self):
        """Price grid step as a Decimal."""
        return Decimal(self._b.tick).scaleb(-self._b.px_scale)

    @property
    def lot_size(self):
        """Size grid step as a Decimal."""
        return Decimal(self._b.lot).scaleb(-self._b.qty_scale)

    @property
    def max_depth(self):
        """Levels kept per side, or None when unbounded."""
        return self._b.max_depth or None

    @property
    def cross_policy(self):
        """"raise", "repair" or "allow" (settable)."""
        for k, v in CROSS_POLICIES.items():
            if v == self._b.cross_policy:
                return k

    @cross_policy.setter
    def cross_policy(self, value):
        if value not in CROSS_POLICIES:
            raise _error(LIQ_ERR_ARG, "cross_policy", f"must be one of {sorted(CROSS_POLICIES)}, got {value!r}")
        self._ready()
        self._b.cross_policy = CROSS_POLICIES[value]

    @property
    def sequence(self):
        """Name of the sequence rule, or None (settable with any key of SEQUENCE_RULES)."""
        return _RULE_NAMES.get(self._b.seq_rule)

    @sequence.setter
    def sequence(self, value):
        if value is None:
            self._ready()
            self._b.seq_rule = LIQ_SEQ_NONE
            return
        key = value.lower().replace("-", "_") if isinstance(value, str) else None
        if key not in SEQUENCE_RULES:
            raise _error(LIQ_ERR_ARG, "sequence", f"unknown sequence rule {value!r}; known: {sorted(SEQUENCE_RULES)}")
        self._ready()
        self._b.seq_rule = SEQUENCE_RULES[key]

    # ------------------------------------------------------------ reads (O(1))

    cdef inline void _fresh_cache(self):
        """Forget the cached top-of-book reads if the book changed since they were built."""
        if self._cache_gen != self._b.generation:
            self._bb = self._ba = self._bbo = _UNSET
            self._cache_gen = self._b.generation

    cdef object _best(self, int side):
        cdef int64_t px, qty
        if not liq_book_best(&self._b, side, &px, &qty):
            return None
        return (px / self._pdiv, qty / self._qdiv)

    @property
    def best_bid(self):
        """(price, size) of the best bid as floats, or None if there are no bids.
        Built once per book change, like :attr:`bbo`."""
        self._ready()
        self._fresh_cache()
        if self._bb is _UNSET:
            self._bb = self._best(LIQ_BID)
        return self._bb

    @property
    def best_ask(self):
        """(price, size) of the best ask as floats, or None if there are no asks.
        Built once per book change, like :attr:`bbo`."""
        self._ready()
        self._fresh_cache()
        if self._ba is _UNSET:
            self._ba = self._best(LIQ_ASK)
        return self._ba

    @property
    def bbo(self):
        """(bid price, bid size, ask price, ask size) in one read; NaN for an empty side.

        The tuple is built once per book change (``generation``) and returned again
        while the book is unchanged: strategies read it many times between updates,
        and building four floats and a tuple costs more than the read itself.
        """
        cdef int64_t bp, bq, ap, aq
        cdef double r0 = NAN, r1 = NAN, r2 = NAN, r3 = NAN
        self._ready()
        self._fresh_cache()
        if self._bbo is not _UNSET:
            return self._bbo
        if liq_book_best(&self._b, LIQ_BID, &bp, &bq):
            r0 = bp / self._pdiv
            r1 = bq / self._qdiv
        if liq_book_best(&self._b, LIQ_ASK, &ap, &aq):
            r2 = ap / self._pdiv
            r3 = aq / self._qdiv
        self._bbo = (r0, r1, r2, r3)
        return self._bbo

    @property
    def mid(self):
        """(best bid + best ask) / 2, or NaN if a side is empty."""
        cdef int64_t bp, bq, ap, aq
        self._ready()
        if not (liq_book_best(&self._b, LIQ_BID, &bp, &bq) and liq_book_best(&self._b, LIQ_ASK, &ap, &aq)):
            return NAN
        return (<double>bp + <double>ap) / (2.0 * self._pdiv)

    @property
    def spread(self):
        """best ask - best bid (price units of the quote), or NaN if a side is empty."""
        cdef int64_t bp, bq, ap, aq
        self._ready()
        if not (liq_book_best(&self._b, LIQ_BID, &bp, &bq) and liq_book_best(&self._b, LIQ_ASK, &ap, &aq)):
            return NAN
        return (ap - bp) / self._pdiv

    @property
    def spread_bps(self):
        """Spread in basis points of the mid, or NaN if a side is empty."""
        cdef int64_t bp, bq, ap, aq
        self._ready()
        if not (liq_book_best(&self._b, LIQ_BID, &bp, &bq) and liq_book_best(&self._b, LIQ_ASK, &ap, &aq)):
            return NAN
        return (<double>(ap - bp)) / ((<double>bp + <double>ap) / 2.0) * 1e4

    @property
    def is_crossed(self):
        """True when best bid > best ask (only possible with cross_policy="allow")."""
        self._ready()
        return bool(liq_book_is_crossed(&self._b))

    @property
    def bid_count(self):
        """Number of bid levels."""
        self._ready()
        return self._b.side[0].live

    @property
    def ask_count(self):
        """Number of ask levels."""
        self._ready()
        return self._b.side[1].live

    def __len__(self):
        self._ready()
        return self._b.side[0].live + self._b.side[1].live

    @property
    def last_update_id(self):
        """Exchange update id of the last snapshot/sequenced message, or None."""
        self._ready()
        return None if self._b.last_id == LIQ_ID_NONE else self._b.last_id

    @property
    def generation(self):
        """Counter bumped by every change (cheap staleness check for caches)."""
        self._ready()
        return self._b.generation

    @property
    def stats(self):
        """Counters: messages, levels, snapshots, rejected, stale, gaps, crossed,
        repaired_levels, truncated_levels (a fresh dict)."""
        self._ready()
        s = self._b.stats
        return {
            "messages": s.messages, "levels": s.levels, "snapshots": s.snapshots,
            "rejected": s.rejected, "stale": s.stale, "gaps": s.gaps, "crossed": s.crossed,
            "repaired_levels": s.repaired_levels, "truncated_levels": s.truncated_levels,
        }

    # ------------------------------------------------------------ level export (copies)

    def levels(self, side, n=None, *, raw=False):
        """Best ``n`` levels of a side (all if None), best first, as an ``(k, 2)`` array.

        float64 (price, size) by default; ``raw=True`` gives int64 units (price *
        10**price_decimals, size * 10**size_decimals). A copy: O(k).
        """
        return self._levels(_side_of(side), n, raw)

    cdef object _levels(self, int sd, object n, bint raw):
        cdef size_t cnt, k, got
        cdef long ni
        cdef cnp.npy_intp dims[2]
        cdef cnp.ndarray out
        self._ready()
        cnt = k = self._b.side[sd].live
        if n is not None:
            if type(n) is int and -(1 << 30) < n < (1 << 30):   # the usual case, without builtins
                ni = n
                k = 0 if ni < 0 else <size_t>ni if <size_t>ni < cnt else cnt
            else:
                k = _count_arg(n, cnt, "levels")
        dims[0] = <cnp.npy_intp>k
        dims[1] = 2
        out = cnp.PyArray_EMPTY(2, dims, cnp.NPY_INT64 if raw else cnp.NPY_FLOAT64, 0)
        # the allocation may run other threads (a collection's finalizers): check again; the
        # side may have fewer levels by now
        self._ready()
        if raw:
            got = liq_book_levels_i64(&self._b, sd, k, <int64_t *>cnp.PyArray_DATA(out))
        else:
            got = liq_book_levels_f64(&self._b, sd, k, <double *>cnp.PyArray_DATA(out))
        return out if got == k else out[:got].copy()

    def bids(self, n=None):
        """Best ``n`` bids (all if None), highest first: ``(k, 2)`` float64 (price, size) copy."""
        return self._levels(LIQ_BID, n, False)

    def asks(self, n=None):
        """Best ``n`` asks (all if None), lowest first: ``(k, 2)`` float64 (price, size) copy."""
        return self._levels(LIQ_ASK, n, False)

    def top(self, n, out=None):
        """The best ``n`` levels of both sides in one fixed-shape array: ``(2, n, 2)`` float64,
        ``[0]`` the bids (highest first) and ``[1]`` the asks (lowest first) as (price, size) rows;
        the rows beyond a side's depth are NaN. One call and one allocation (a feature vector of a
        fixed shape for a model, or a snapshot to keep): O(n). ``n``: an int in 0..2**20.

        ``out``: a writeable, aligned, C-contiguous native float64 array of shape ``(2, n, 2)``
        filled and returned instead of a new one (the caller's: a loop that reads every book
        change saves the allocation, a third of the call's cost at ``n`` = 20). Anything else raises
        InvalidDeltaError (a ValueError) and writes nothing."""
        cdef long ni
        cdef size_t k, got, j
        cdef int sd
        cdef cnp.npy_intp dims[3]
        cdef cnp.ndarray arr
        cdef double *p
        if type(n) is int and 0 <= n <= (1 << 20):     # the usual case, without builtins
            ni = n
        elif isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) and 0 <= n <= (1 << 20):
            ni = int(n)
        else:
            raise _error(LIQ_ERR_ARG, "top", f"n must be an int in 0..{1 << 20}, got {n!r}")
        if out is None:
            dims[0] = 2
            dims[1] = <cnp.npy_intp>ni
            dims[2] = 2
            arr = cnp.PyArray_EMPTY(3, dims, cnp.NPY_FLOAT64, 0)
        elif _is_top_array(out, ni):
            arr = <cnp.ndarray>out
        else:
            raise _error(LIQ_ERR_ARG, "top", f"out must be a writeable C-contiguous float64 array of shape "
                         f"(2, {ni}, 2), got {_array_desc(out)}")
        p = <double *>cnp.PyArray_DATA(arr)
        self._ready()       # after the allocation, which may run other threads
        for sd in range(2):
            k = self._b.side[sd].live
            if k > <size_t>ni:
                k = <size_t>ni
            got = liq_book_levels_f64(&self._b, sd, k, p)
            for j in range(2 * got, 2 * <size_t>ni):
                p[j] = NAN
            p += 2 * ni
        return arr

    def level_strings(self, side, n=None):
        """Best ``n`` levels as ``[price, size]`` decimal strings in the exchange's own
        formatting when they arrived as strings (shortest form otherwise)."""
        cdef int sd = _side_of(side)
        cdef size_t k
        cdef char buf[LIQ_DECIMAL_BUF]
        cdef size_t i, ln, j, c
        cdef uint16_t dec
        cdef const liq_side *s = &self._b.side[sd]
        # held: the strings are built while the cursor walks the side
        self._enter()
        try:
            k = _count_arg(n, self._b.side[sd].live, "level_strings")
            c = liq_side_best(s)
            out = []
            for i in range(k):
                j = c - 1
                dec = s.dec[j]
                ln = liq_decimal_format(s.key[j] if sd == LIQ_BID else -s.key[j], self._b.px_scale, dec >> 8, buf)
                p = buf[:ln].decode()
                ln = liq_decimal_format(s.qty[j], self._b.qty_scale, dec & 0xff, buf)
                out.append([p, buf[:ln].decode()])
                c = liq_side_next(s, c)
            return out
        finally:
            self._leave()

    def to_dict(self, limit=None):
        """ccxt-style dict: ``{'bids': [[price, size], ...], 'asks': [...], 'nonce': last id,
        'symbol': ..., 'timestamp': None, 'datetime': None}`` (floats, best first)."""
        return {
            "bids": self.levels(LIQ_BID, limit).tolist(),
            "asks": self.levels(LIQ_ASK, limit).tolist(),
            "nonce": self.last_update_id,
            "symbol": self.symbol,
            "timestamp": None,
            "datetime": None,
        }

    # ------------------------------------------------------------ the guard (threads, re-entry)
    #
    # Calls that release the GIL, or run Python code (a caller's __index__, __float__,
    # __getitem__...) while they hold the book's internals (its scratch, a cursor into its
    # arrays), take the book: _enter/_leave. Every other call runs in C with the GIL held
    # from start to end and only checks that nobody holds the book (_ready). A caller from
    # another thread waits (the GIL is released meanwhile); a call from the thread that
    # holds the book (a callback re-entering it) raises ConcurrentUseError. The flag is
    # read and written only with the GIL held, so it needs no atomics: one load and a
    # predictable branch on the calls that only check it.

    cdef inline int _ready(self) except -1:
        if self._busy:
            self._wait()
        return 0

    cdef inline int _enter(self) except -1:
        if self._busy:
            self._wait()
        self._busy = 1
        self._owner = PyThread_get_thread_ident()
        return 0

    cdef inline void _leave(self) noexcept:
        self._busy = 0

    cdef inline void _gave_up(self) noexcept:
        """A message was refused after its conversion began: the core counts it and gives back
        a scratch that a huge message grew (liq_book_reject)."""
        liq_book_reject(&self._b)

    cdef int _wait(self) except -1:
        """Wait (GIL released) until no call holds the book; ConcurrentUseError when the
        holder is this very thread (a callback re-entering the book would wait forever)."""
        if self._owner == PyThread_get_thread_ident():
            raise _error(LIQ_ERR_BUSY, "OrderBook", "a callback re-entered the book")
        while self._busy:
            time.sleep(0)       # releases the GIL: the holder finishes its call
        return 0

    # ------------------------------------------------------------ writes

    def update(self, side, price, size):
        """Set one level: ``size`` 0 deletes (deleting an absent level is a no-op).

        ``side`` is 0/1 or "bid"/"ask"; price and size are floats, ints, Decimals or
        decimal strings. Raises InvalidDeltaError / CrossedBookError; the book is
        unchanged on error. O(1) near the touch (the book's dense region), else an
        O(log d) search d levels down; a deletion leaves a hole (no move).
        """
        cdef liq_delta d
        cdef int st
        cdef int sd
        # The hot path (what JSON feeds produce): side 0/1, float price and size. One
        # C call converts, validates and applies (counting a rejection itself). The
        # sides are matched by identity with CPython's cached small ints (any other
        # int equal to 0/1 takes the general path below, with the same result).
        if type(price) is float and type(size) is float and (side is _SIDE_BID or side is _SIDE_ASK):
            if self._busy:
                self._wait()
            st = liq_book_set_f64(&self._b, side is _SIDE_ASK, <double>price, <double>size)
            if st != LIQ_OK:
                raise _error(st, "update", f"side={side!r} price={price!r} size={size!r}")
            return
        # the conversion may run the caller's code (int subclasses, Decimal, str subclasses):
        # it reads only the book's scales; the book is checked free just before the set
        try:
            sd = _side_of(side)
        except errors.LiqError:
            self._ready()
            liq_book_reject(&self._b)
            raise
        d.side = <uint8_t>sd
        st = _to_fixed(price, self._b.px_scale, &d.px, &d.px_dec)
        if st == LIQ_OK:
            st = _to_fixed(size, self._b.qty_scale, &d.qty, &d.qty_dec)
        self._ready()
        if st == LIQ_OK:
            st = liq_delta_check(&self._b, &d)
        if st != LIQ_OK:
            liq_book_reject(&self._b)
            raise _error(st, "update", f"side={side!r} price={price!r} size={size!r}")
        st = liq_book_set(&self._b, &d)
        if st != LIQ_OK:
            raise _error(st, "update", f"side={side!r} price={price!r} size={size!r}")

    cdef object _apply_f64(self, cnp.ndarray sa, cnp.ndarray pa, cnp.ndarray qa, object sides,
                           object prices, object sizes):
        """Apply 1-D C-contiguous uint8/float64/float64 arrays of equal length: converted
        and applied in C without a scratch copy (GIL released for long messages)."""
        cdef size_t n = <size_t>cnp.PyArray_DIM(pa, 0), bad = n
        cdef const uint8_t *sp = <const uint8_t *>cnp.PyArray_DATA(sa)
        cdef const double *pp = <const double *>cnp.PyArray_DATA(pa)
        cdef const double *qp = <const double *>cnp.PyArray_DATA(qa)
        cdef int st
        if n >= NOGIL_MIN:
            self._enter()
            with nogil:
                st = liq_book_apply_f64(&self._b, sp, pp, qp, n, &bad)
            self._leave()
        else:
            if self._busy:
                self._wait()
            st = liq_book_apply_f64(&self._b, sp, pp, qp, n, &bad)
        if st != LIQ_OK:   # counted as rejected by the C core
            raise _error(st, "apply_deltas", _describe_element(bad, sides, prices, sizes) if bad < n else None)
        return True

    @cython.boundscheck(True)   # user rows: never index a tuple unchecked
    @cython.wraparound(True)
    cdef int _fill_rows(self, liq_delta *d, tuple rows, int side, size_t *bad) except -100:
        """Convert ``[[price, size, ...], ...]`` rows into d (as many as rows); a row is a
        sequence of at least two elements (a str, bytes or dict row is not); returns a status."""
        cdef size_t i = 0
        cdef int st
        for row in rows:
            d[i].side = <uint8_t>side
            rt = type(row)
            if rt is list or rt is tuple:
                if len(row) < 2:
                    bad[0] = i
                    return LIQ_ERR_PARSE
                pv = row[0]
                qv = row[1]
            elif _not_rows(row):
                bad[0] = i
                return LIQ_ERR_PARSE
            else:
                try:
                    if len(row) < 2:
                        bad[0] = i
                        return LIQ_ERR_PARSE
                    pv = row[0]
                    qv = row[1]
                except (TypeError, IndexError, KeyError, ValueError):
                    bad[0] = i
                    return LIQ_ERR_PARSE
            st = _to_fixed(pv, self._b.px_scale, &d[i].px, &d[i].px_dec)
            if st == LIQ_OK:
                st = _to_fixed(qv, self._b.qty_scale, &d[i].qty, &d[i].qty_dec)
            if st != LIQ_OK:
                bad[0] = i
                return st
            i += 1
        return LIQ_OK

    cdef int _fill_side(self, liq_delta *d, object rows, int side, size_t *bad) except -100:
        """One side of a message (the output of _rows) into d."""
        cdef _Col pc, qc
        cdef size_t n
        cdef int st
        if type(rows) is tuple:
            return self._fill_rows(d, <tuple>rows, side, bad)
        n = <size_t>rows.shape[0]
        _col_of(rows, 0, &pc)
        _col_of(rows, 1, &qc)
        if n >= NOGIL_MIN:
            with nogil:
                st = _fill_columns(&self._b, d, NULL, side, &pc, &qc, n, bad)
        else:
            st = _fill_columns(&self._b, d, NULL, side, &pc, &qc, n, bad)
        return st

    cdef tuple _fill_message(self, object bids, object asks, str where):
        """Convert a bids + asks message into scratch (bids first); returns the two sides as
        converted (tuples of rows or arrays). The caller holds the book (_enter). Raises
        InvalidDeltaError naming the offending level; counts the rejection."""
        cdef size_t nb, na, bad = 0
        cdef int st
        cdef liq_delta *d
        try:
            bids = _rows(bids, where, "bids")
            asks = _rows(asks, where, "asks")
            nb, na = len(bids), len(asks)
            d = liq_book_scratch(&self._b, nb + na)
            if d == NULL:
                raise _error(LIQ_ERR_NOMEM, where, f"{nb + na} levels")
            st = self._fill_side(d, bids, LIQ_BID, &bad)
            name, levels = "bids", bids
            if st == LIQ_OK:
                st = self._fill_side(d + nb, asks, LIQ_ASK, &bad)
                name, levels = "asks", asks
        except BaseException:
            self._gave_up()
            raise
        if st != LIQ_OK:
            self._gave_up()
            raise _error(st, where, f"{name}[{bad}] = {_item(levels, bad)!r}")
        return bids, asks

    cdef object _commit(self, size_t n, object last_id, object first_id, object prev_id, str where,
                        object describe):
        """Apply the n deltas in scratch, with the sequence check when ids are given. The
        caller holds the book (_enter)."""
        cdef liq_seq_ids ids
        cdef size_t bad = n
        cdef int st
        cdef liq_delta *d = liq_book_scratch(&self._b, n)
        if last_id is None and first_id is None and prev_id is None:
            if n >= NOGIL_MIN:
                with nogil:
                    st = liq_book_apply(&self._b, d, n, &bad)
            else:
                st = liq_book_apply(&self._b, d, n, &bad)
            if st != LIQ_OK:
                raise _error(st, where, describe(bad) if bad < n else None)
            return True
        if self._b.seq_rule == LIQ_SEQ_NONE:
            self._gave_up()
            raise _error(LIQ_ERR_ARG, where, "update ids given but the book has no sequence rule")
        if last_id is None:
            self._gave_up()
            raise _error(LIQ_ERR_ARG, where, "last_id is required with a sequence rule")
        ids.last = _seq_id(self, last_id, "last_id", where)     # a bad id: refused (liq_book_reject)
        ids.first = LIQ_ID_NONE if first_id is None else _seq_id(self, first_id, "first_id", where)
        ids.prev = LIQ_ID_NONE if prev_id is None else _seq_id(self, prev_id, "prev_id", where)
        if n >= NOGIL_MIN:
            with nogil:
                st = liq_book_apply_seq(&self._b, d, n, ids, &bad)
        else:
            st = liq_book_apply_seq(&self._b, d, n, ids, &bad)
        if st == LIQ_STALE:
            return False
        if st == LIQ_ERR_SEQ_GAP:
            # fields, not the properties: the book is held here
            raise _error(st, where, f"book at {None if self._b.last_id == LIQ_ID_NONE else self._b.last_id}, "
                                    f"message first={first_id} last={last_id} prev={prev_id}, "
                                    f"rule {_RULE_NAMES.get(self._b.seq_rule)}")
        if st != LIQ_OK:
            raise _error(st, where, describe(bad) if bad < n else None)
        return True

    def apply_deltas(self, sides, prices, sizes, *, last_id=None, first_id=None, prev_id=None):
        """Apply one message of level changes, all or nothing.

        Parameters
        ----------
        sides : array of 0 (bid) / 1 (ask), a sequence of sides, or one side for all
        prices, sizes : float64 or integer numpy arrays, or sequences of floats, ints,
            Decimals or decimal strings (parsed exactly). Integers are whole units of the
            quote (prices) or base (sizes), converted exactly whatever their container;
            floats are rounded to the grid and rejected if they carry digits beyond it.
            Size 0 deletes.
        last_id, first_id, prev_id : int, optional
            Exchange update ids, checked with the book's ``sequence`` rule.

        Returns
        -------
        bool
            False if the message was older than the book (skipped), else True.

        Raises InvalidDeltaError (any bad element, mismatched lengths, wrong dtype or
        shape, a str/dict/set where a sequence is expected), SequenceGapError,
        CrossedBookError; the book is unchanged on any error. Numeric arrays are converted
        and applied in C (GIL released for long messages). O(n log levels).
        """
        cdef size_t n, bad = 0
        cdef int st
        cdef liq_delta *d
        cdef cnp.ndarray sa, pa, qa
        cdef int stype
        cdef _Col pc, qc
        cdef const uint8_t *sp
        cdef int side = 0
        # Fast path for what feed adapters pass: exact ndarrays that are already 1-D,
        # C-contiguous float64/float64/uint8 (or bool). Profiling (callgrind, 10-level
        # messages) showed the generic path's np.ascontiguousarray/dtype comparisons and
        # the describe closure cost ~400 ns per message, more than applying it. The same
        # C call as the generic path below, so identical semantics.
        if (type(prices) is np.ndarray and type(sizes) is np.ndarray and type(sides) is np.ndarray
                and last_id is None and first_id is None and prev_id is None):
            pa = <cnp.ndarray>prices
            qa = <cnp.ndarray>sizes
            sa = <cnp.ndarray>sides
            stype = cnp.PyArray_TYPE(sa)
            if (cnp.PyArray_NDIM(pa) == 1 and cnp.PyArray_NDIM(qa) == 1 and cnp.PyArray_NDIM(sa) == 1
                    and cnp.PyArray_TYPE(pa) == cnp.NPY_DOUBLE and cnp.PyArray_TYPE(qa) == cnp.NPY_DOUBLE
                    and (stype == cnp.NPY_UINT8 or stype == cnp.NPY_BOOL)
                    and cnp.PyArray_ISCARRAY_RO(pa) and cnp.PyArray_ISCARRAY_RO(qa)
                    and cnp.PyArray_ISCARRAY_RO(sa)
                    and cnp.PyArray_ISNOTSWAPPED(pa) and cnp.PyArray_ISNOTSWAPPED(qa)
                    and cnp.PyArray_DIM(pa, 0) == cnp.PyArray_DIM(qa, 0) == cnp.PyArray_DIM(sa, 0)):
                return self._apply_f64(sa, pa, qa, sides, prices, sizes)
        # Conversions first: they may run the caller's code but touch nothing of the book.
        try:
            pv = _column(prices, "apply_deltas", "prices")
            qv = _column(sizes, "apply_deltas", "sizes")
            one = isinstance(sides, (int, str, np.integer)) and not isinstance(sides, bool)
            sv = None if one else _sides_of(sides)
            n = len(pv)
            if len(qv) != n or (sv is not None and len(sv) != n):
                raise _error(LIQ_ERR_LENGTH, "apply_deltas",
                             f"prices {len(pv)}, sizes {len(qv)}, sides {'scalar' if sv is None else len(sv)}")
            columns = type(pv) is not tuple and type(qv) is not tuple and (sv is None or type(sv) is not tuple)
            if columns:
                side = 0 if sv is not None else _side_of(sides)
        except errors.LiqError:
            self._ready()
            liq_book_reject(&self._b)
            raise
        if (columns and sv is not None and last_id is None and first_id is None and prev_id is None
                and cnp.PyArray_TYPE(pv) == cnp.NPY_DOUBLE and cnp.PyArray_TYPE(qv) == cnp.NPY_DOUBLE):
            return self._apply_f64(sv, np.ascontiguousarray(pv), np.ascontiguousarray(qv), sides, prices, sizes)
        self._enter()
        try:
            d = liq_book_scratch(&self._b, n)
            if d == NULL:
                liq_book_reject(&self._b)
                raise _error(LIQ_ERR_NOMEM, "apply_deltas", f"{n} levels")
            if columns:
                _col_of(pv, -1, &pc)
                _col_of(qv, -1, &qc)
                sp = <const uint8_t *>cnp.PyArray_DATA(sv) if sv is not None else NULL
                if n >= NOGIL_MIN:
                    with nogil:
                        st = _fill_columns(&self._b, d, sp, side, &pc, &qc, n, &bad)
                else:
                    st = _fill_columns(&self._b, d, sp, side, &pc, &qc, n, &bad)
            else:
                try:
                    st = self._fill_elements(d, sides if sv is None else sv, pv, qv, n, &bad)
                except BaseException:
                    self._gave_up()
                    raise
            if st != LIQ_OK:
                self._gave_up()
                raise _error(st, "apply_deltas", _describe_element(bad, sides, prices, sizes))
            return self._commit(n, last_id, first_id, prev_id, "apply_deltas",
                                lambda i: _describe_element(i, sides, prices, sizes))
        finally:
            self._leave()

    @cython.boundscheck(True)   # user sequences: never index unchecked
    @cython.wraparound(True)
    cdef int _fill_elements(self, liq_delta *d, object sides, object prices, object sizes, size_t n,
                            size_t *bad) except -100:
        """apply_deltas element by element: sides (one side, a tuple or a uint8 array), prices
        and sizes (tuples or int64/float64 arrays) of n elements into d; returns a status."""
        cdef size_t i
        cdef int st
        cdef int one_side = -1
        if isinstance(sides, (int, str, np.integer)):
            one_side = _side_of(sides)
        for i in range(n):
            d[i].side = <uint8_t>(one_side if one_side >= 0 else _side_of(sides[i]))
            st = _to_fixed(prices[i], self._b.px_scale, &d[i].px, &d[i].px_dec)
            if st == LIQ_OK:
                st = _to_fixed(sizes[i], self._b.qty_scale, &d[i].qty, &d[i].qty_dec)
            if st != LIQ_OK:
                bad[0] = i
                return st
        return LIQ_OK

    def apply_levels(self, bids=(), asks=(), *, last_id=None, first_id=None, prev_id=None):
        """Apply one exchange message given as level lists, all or nothing.

        ``bids``/``asks`` are ``[[price, size, ...], ...]`` (extra fields such as
        timestamps or order counts are ignored) or ``(n, 2)`` numeric arrays (integer
        arrays are whole units, exact); prices and sizes as decimal strings keep their wire
        formatting for checksums. A level is a sequence of at least two elements; a str,
        bytes or dict where levels or a level are expected is InvalidDeltaError.
        Bids are applied before asks. Ids and return value as in :meth:`apply_deltas`.
        """
        self._enter()
        try:
            rb, ra = self._fill_message(bids, asks, "apply_levels")
            return self._commit(len(rb) + len(ra), last_id, first_id, prev_id, "apply_levels",
                                lambda i: _describe_level(i, rb, ra))
        finally:
            self._leave()

    def apply_snapshot(self, bids, asks, update_id=None):
        """Replace the whole book with a snapshot, all or nothing.

        ``bids``/``asks`` as in :meth:`apply_levels`, in any order (zero sizes are
        skipped; a repeated price keeps its last size). ``update_id`` becomes
        ``last_update_id`` (Binance ``lastUpdateId``, OKX ``seqId``, Bybit ``u``).
        A crossed snapshot raises CrossedBookError unless cross_policy is "allow".
        max_depth keeps the best levels. O(n) for sorted input.
        """
        cdef int64_t uid
        cdef size_t n, bad
        cdef int st
        cdef liq_delta *d
        self._enter()
        try:
            uid = LIQ_ID_NONE if update_id is None else _seq_id(self, update_id, "update_id", "apply_snapshot")
            rb, ra = self._fill_message(bids, asks, "apply_snapshot")
            n = len(rb) + len(ra)
            d = liq_book_scratch(&self._b, n)
            bad = n
            if n >= NOGIL_MIN:
                with nogil:
                    st = liq_book_snapshot(&self._b, d, n, uid, &bad)
            else:
                st = liq_book_snapshot(&self._b, d, n, uid, &bad)
            if st != LIQ_OK:
                raise _error(st, "apply_snapshot", None if bad >= n else _describe_level(bad, rb, ra))
        finally:
            self._leave()

    def clear(self):
        """Remove every level and the update id (scales, policy and stats are kept). O(1)."""
        self._ready()
        liq_book_clear(&self._b)

    # ------------------------------------------------------------ analytics (src/analytics.c)

    def walk(self, side, quantity=None, *, notional=None):
        """Simulate a market order against the visible book (no fees, no hidden liquidity).

        Parameters
        ----------
        side : {"buy", "sell"}
            A buy takes the asks from the best upwards, a sell the bids downwards.
        quantity : float | int | Decimal | str, optional
            Size to fill, in base. Must be representable at ``size_decimals`` (it need
            not be a multiple of the lot).
        notional : float, optional
            Amount to spend (buy) or receive (sell), in quote. Exactly one of
            ``quantity`` and ``notional``.

        Returns
        -------
        WalkResult
            ``vwap`` and ``worst_price`` (quote per base), ``filled`` (base),
            ``notional`` (quote), ``levels`` consumed (the last one possibly partially),
            ``slippage_bps`` / ``slippage_mid_bps`` (of the VWAP against the touch /
            the mid, signed so that an adverse fill is positive), ``unfilled`` (in the
            unit of the request) and ``complete``. Prices and slippage are NaN when
            nothing was filled (empty side); the mid slippage is NaN when the other side
            is empty. A request larger than the side fills what there is and returns
            ``complete=False`` (it never extrapolates).

        Raises
        ------
        InvalidDeltaError
            Bad side, neither or both of quantity/notional, a size that is not > 0,
            not finite or has more decimals than the book.

        Notes
        -----
        Sums are exact (128-bit integer px*qty) and converted to floats once. O(levels
        consumed), no allocation besides the result.
        """
        cdef int dr, st
        cdef int64_t units
        cdef uint8_t dec
        cdef double x
        cdef liq_walk_result r
        if side == "buy":
            dr = LIQ_WALK_BUY
        elif side == "sell":
            dr = LIQ_WALK_SELL
        else:
            raise _error(LIQ_ERR_ARG, "walk", f"side must be 'buy' or 'sell', got {side!r}")
        if notional is None:
            if quantity is None:
                raise _error(LIQ_ERR_ARG, "walk", "give quantity (base) or notional (quote)")
            if type(quantity) is float:
                st = liq_fixed_from_double(<double>quantity, self._b.qty_scale, &units)
            else:
                st = _to_fixed(quantity, self._b.qty_scale, &units, &dec)
            if st == LIQ_OK:
                self._ready()    # after the conversion, which may run the caller's code
                st = liq_book_walk_qty(&self._b, dr, units, &r)
            if st != LIQ_OK:
                raise _error(st, "walk", f"quantity={quantity!r}")
            return _walk(&r, False)
        if quantity is not None:
            raise _error(LIQ_ERR_ARG, "walk", "give quantity or notional, not both")
        x = notional if type(notional) is float else _as_double(notional, "walk")
        self._ready()
        st = liq_book_walk_notional(&self._b, dr, x, &r)
        if st != LIQ_OK:
            raise _error(st, "walk", f"notional={notional!r}")
        return _walk(&r, True)

    def depth(self, band_bps=None, *, pct=None, reference="mid"):
        """Liquidity within a band around a reference price, per side.

        Parameters
        ----------
        band_bps : float, optional
            Half-width of the band in basis points (100 = 1%), >= 0.
        pct : float, optional
            The same in percent (1.0 = 1%). Exactly one of ``band_bps`` and ``pct``.
        reference : {"mid", "touch"}
            Band around the mid for both sides, or around each side's best price.

        Returns
        -------
        dict
            ``bid_base``, ``bid_quote``, ``ask_base``, ``ask_quote``: sizes (base) and
            notionals (quote, sum of price*size) of the bids with price >= ref*(1 - x)
            and the asks with price <= ref*(1 + x). The boundary is inclusive: a level
            exactly on it counts. An empty side gives 0; a side whose reference is
            undefined (the mid when the other side is empty) gives NaN.

        Raises InvalidDeltaError for a negative/NaN band, both or neither of
        ``band_bps``/``pct``, or an unknown reference. O(levels in the band).
        """
        cdef liq_depth d
        cdef double bps = _band_bps(band_bps, pct, "depth")
        cdef int ref = _ref_of(reference, "depth"), st
        self._ready()
        st = liq_book_depth(&self._b, bps, ref, &d)
        if st != LIQ_OK:
            raise _error(st, "depth", f"band_bps={bps!r}")
        return {"bid_base": d.bid_base, "bid_quote": d.bid_quote,
                "ask_base": d.ask_base, "ask_quote": d.ask_quote}

    def cost_to_move(self, pct, *, reference="mid"):
        """Size and notional that a market order must take to move the price by ``pct`` percent.

        Parameters
        ----------
        pct : float
            Signed move in percent (1.0 = +1%). Up: target P* = ref*(1 + pct/100), every
            ask with price < P* is consumed. Down: P* = ref*(1 - |pct|/100), every bid
            with price > P*. The rule is strict: a level exactly on P* is not consumed
            (it becomes the new touch). 0 consumes nothing.
        reference : {"mid", "touch"}
            ref is the mid, or the best price of the consumed side.

        Returns
        -------
        tuple of float
            ``(base, quote)``: size in base and notional in quote. (0.0, 0.0) when the
            consumed side is empty; NaN when the reference is undefined.

        Raises InvalidDeltaError for a NaN move or an unknown reference. O(levels consumed).
        """
        cdef double base, quote
        cdef double bps = _as_double(pct, "cost_to_move") * 100.0
        cdef int ref = _ref_of(reference, "cost_to_move"), st
        self._ready()
        st = liq_book_cost_to_move(&self._b, bps, ref, &base, &quote)
        if st != LIQ_OK:
            raise _error(st, "cost_to_move", f"pct={pct!r}")
        return (base, quote)

    def imbalance(self, levels=1, *, weighting="plain", half_width_bps=50.0, bint notional=False):
        """Weighted order-book imbalance over the best ``levels`` of each side, in [-1, 1].

        ``(B - A) / (B + A)`` with ``B = sum w_i v_i`` over the bids and ``A`` over the
        asks; ``v`` is the size (base), or price*size (quote) with ``notional=True``.
        Positive means more resting bids.

        Parameters
        ----------
        levels : int
            N >= 1; a side with fewer levels uses what it has.
        weighting : {"plain", "linear", "inverse", "exp"}
            ``w_i`` for the i-th best level (i = 1 at the touch): 1; ``1 - (i-1)/N``;
            ``1/i``; or ``exp(-d_i/h)`` with ``d_i`` the level's distance from the mid
            in bps and ``h = half_width_bps``.
        half_width_bps : float
            ``h`` of the "exp" weighting (> 0), in basis points.
        notional : bool
            Weigh quote notional instead of base size.

        Returns
        -------
        float
            NaN when both weighted sums are 0 (empty book); +1/-1 when only one side has
            levels.

        Raises InvalidDeltaError for levels < 1, an unknown weighting or h <= 0.
        O(levels).
        """
        cdef double out
        cdef int st
        cdef double h = _as_double(half_width_bps, "imbalance")
        cdef int w = _weighting(weighting, "imbalance")
        if type(levels) is not int and not isinstance(levels, (int, np.integer)) or isinstance(levels, bool) \
                or levels < 1:
            raise _error(LIQ_ERR_ARG, "imbalance", f"levels must be an integer >= 1, got {levels!r}")
        # more levels than any book keeps: clamp before the C size_t conversion
        cdef size_t lv = <size_t>min(levels, 1 << 62)
        cdef bint nt = bool(notional)
        self._ready()
        st = liq_book_imbalance(&self._b, lv, w, h, nt, &out)
        if st != LIQ_OK:
            raise _error(st, "imbalance", f"weighting={weighting!r} half_width_bps={half_width_bps!r}")
        return out

    @property
    def weighted_mid(self):
        """Size-weighted mid ``rho*ask + (1 - rho)*bid`` with ``rho = q_bid/(q_bid + q_ask)``
        at the touch (leans toward the thinner side), in quote; NaN if a side is empty.
        Not Stoikov's micro-price, which needs a fitted model."""
        self._ready()
        return liq_book_weighted_mid(&self._b)

    # ------------------------------------------------------------ order flow (src/flow.c)

    def track_ofi(self, levels=1):
        """Maintain order-flow imbalance (Cont, Kukanov & Stoikov 2014) over the top
        ``levels`` (1..10; several levels = multi-level OFI) as the book changes; 0 stops.

        Every applied call (one update, or one whole message: states inside a message are
        not observed) adds ``e_n`` per level; snapshots and ``clear()`` restart the
        reference without adding (a resync is not order flow); rejected calls add nothing.
        Restarting zeroes the sums. Not part of ``to_bytes``/pickles (copies keep it).
        Cost: O(levels) per applied call while tracking, nothing otherwise.
        """
        cdef size_t lv = _as_size(levels, "track_ofi")
        self._ready()
        check_status(liq_book_ofi_enable(&self._b, <int>lv if lv <= LIQ_OFI_MAX_LEVELS else -1), "track_ofi")

    @property
    def ofi_levels(self):
        """Levels over which order-flow imbalance is tracked (0: not tracked)."""
        cdef int64_t acc[LIQ_OFI_MAX_LEVELS]
        self._ready()
        return liq_book_ofi_read(&self._b, acc, NULL, 0)

    @property
    def ofi_events(self):
        """Applied calls counted into :meth:`ofi` since tracking started or the last take."""
        cdef int64_t acc[LIQ_OFI_MAX_LEVELS]
        cdef uint64_t events = 0
        self._ready()
        liq_book_ofi_read(&self._b, acc, &events, 0)
        return events

    def ofi(self, *, bint take=False):
        """Order-flow imbalance per level, level 1 first, in base units: a ``(levels,)``
        float64 array (empty when not tracked). Positive = net buying pressure (bids
        growing / asks shrinking). ``take=True`` ends the window: the sums restart from 0.
        O(levels)."""
        cdef int64_t acc[LIQ_OFI_MAX_LEVELS]
        cdef uint64_t events
        cdef int k
        cdef cnp.npy_intp dims[1]
        self._ready()
        k = liq_book_ofi_read(&self._b, acc, &events, take)
        dims[0] = k
        cdef cnp.ndarray out = cnp.PyArray_EMPTY(1, dims, cnp.NPY_FLOAT64, 0)
        cdef double *o = <double *>cnp.PyArray_DATA(out)
        for i in range(k):
            o[i] = acc[i] / self._qdiv
        return out

    # ------------------------------------------------------------ book shape (src/liquidity.c)

    def walls(self, band_bps=200.0, *, side=None, window=50, ratio=5.0, z=3.5, limit=32):
        """Liquidity walls within ``band_bps`` of the mid: levels whose size stands out against
        the median of the ``window`` levels nearest the touch on their side (in the band).

        A level is a wall when ``size/median >= ratio`` or its robust z
        ``0.6745 (size - median)/MAD >= z`` (either test off with 0). Returns up to ``limit``
        :class:`Wall` records, bids then asks, best first. Medians, not means: walls inflate a
        mean and hide themselves. O(levels in the band). Track them over time with
        :class:`liqcore.liquidity.WallTracker` (persistence, flashes).
        """
        cdef liq_shape_params p = _shape_params(_as_double(band_bps, "walls"), _as_size(window, "walls"),
                                              _as_double(ratio, "walls"), _as_double(z, "walls"), 3.0, 1, "walls")
        cdef int sd = -1 if side is None else _side_of(side)
        cdef liq_wall buf[64]
        cdef size_t found = 0, cap = _as_size(limit, "walls"), i
        cap = cap if cap < 64 else 64
        self._ready()
        check_status(liq_book_walls(&self._b, &p, sd, buf, cap, &found, NULL), "walls")
        return [_wall(&buf[i]) for i in range(found if found < cap else cap)]

    def wall_baseline(self, band_bps=200.0, *, window=50):
        """The baseline :meth:`walls` compares with, per side: ``{"bid": (median, mad, levels,
        band_size), "ask": ...}`` (sizes in base; NaN medians for a side with no level in the band)."""
        cdef liq_shape_params p = _shape_params(_as_double(band_bps, "wall_baseline"), _as_size(window, "wall_baseline"),
                                              5.0, 3.5, 3.0, 1, "wall_baseline")
        cdef liq_baseline base[2]
        cdef size_t found = 0
        self._ready()
        check_status(liq_book_walls(&self._b, &p, -1, NULL, 0, &found, base), "wall_baseline")
        return {"bid": (base[0].median, base[0].mad, base[0].n, base[0].band_size),
                "ask": (base[1].median, base[1].mad, base[1].n, base[1].band_size)}

    def clusters(self, band_bps=200.0, *, side=None, window=50, ratio=3.0, gap_ticks=1, gap_bps=0.0, limit=32):
        """Order clusters within ``band_bps`` of the mid: runs of levels of size >= ``ratio`` x
        the side's median (as :meth:`walls`) whose successive prices are at most ``gap_ticks``
        ticks apart (or, with ``gap_bps`` > 0, at most ``gap_bps`` of the mid apart). Returns up to ``limit`` :class:`Cluster` records (total size and
        notional, size-weighted price, span, share of the side's size in the band), bids then
        asks, best first. O(levels in the band)."""
        cdef size_t gt = _as_size(gap_ticks, "clusters")
        cdef liq_shape_params p = _shape_params(_as_double(band_bps, "clusters"), _as_size(window, "clusters"),
                                              5.0, 3.5, _as_double(ratio, "clusters"),
                                              <int64_t>gt if gt < (1 << 62) else (1 << 62), "clusters")
        cdef double gb = _as_double(gap_bps, "clusters")
        if not (gb >= 0):
            raise _error(LIQ_ERR_ARG, "clusters", f"gap_bps={gap_bps!r}")
        p.gap_bps = gb
        cdef int sd = -1 if side is None else _side_of(side)
        cdef liq_cluster buf[64]
        cdef size_t found = 0, cap = _as_size(limit, "clusters"), i
        cap = cap if cap < 64 else 64
        self._ready()
        check_status(liq_book_clusters(&self._b, &p, sd, buf, cap, &found), "clusters")
        return [_cluster(&buf[i]) for i in range(found if found < cap else cap)]

    def depth_profile(self, bands_bps, *, reference="mid"):
        """Cumulative depth at several bands (bps, ascending), one pass per side: a dict of
        four float64 arrays ``bid_base``, ``bid_quote``, ``ask_base``, ``ask_quote`` (entry k =
        :meth:`depth` at ``bands_bps[k]``), plus ``bands_bps``. O(levels in the widest band)."""
        cdef cnp.ndarray bands
        try:
            if isinstance(bands_bps, (str, bytes)):
                raise TypeError("text")
            bands = np.ascontiguousarray(bands_bps, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise _error(LIQ_ERR_ARG, "depth_profile", f"bands_bps must be numbers, got {bands_bps!r}") from None
        if bands.ndim != 1:
            raise _error(LIQ_ERR_ARG, "depth_profile", "bands_bps must be 1-D")
        cdef size_t n = <size_t>bands.shape[0], k
        cdef liq_depth *d = <liq_depth *>PyMem_Malloc((n if n else 1) * sizeof(liq_depth))
        if d == NULL:
            raise _error(LIQ_ERR_NOMEM, "depth_profile", f"{n} bands")
        try:
            ref = _ref_of(reference, "depth_profile")
            self._ready()
            st = liq_book_depth_profile(&self._b, <const double *>cnp.PyArray_DATA(bands), n, ref, d)
            if st != LIQ_OK:
                raise _error(st, "depth_profile", "bands must be >= 0 and ascending")
            out = {name: np.empty(n) for name in ("bid_base", "bid_quote", "ask_base", "ask_quote")}
            for k in range(n):
                out["bid_base"][k] = d[k].bid_base
                out["bid_quote"][k] = d[k].bid_quote
                out["ask_base"][k] = d[k].ask_base
                out["ask_quote"][k] = d[k].ask_quote
        finally:
            PyMem_Free(d)
        out["bands_bps"] = bands.copy()
        return out

    def pressure(self, bands_bps=(10.0, 50.0, 100.0, 200.0), *, reference="mid"):
        """Depth pressure per band: ``{"bands_bps", "bid_quote", "ask_quote", "ratio",
        "pressure"}`` with ratio = bid/ask notional and pressure = (bid - ask)/(bid + ask) in
        -1..+1 (positive: more bids). Arrays over the bands; NaN where undefined."""
        prof = self.depth_profile(bands_bps, reference=reference)
        b, a = prof["bid_quote"], prof["ask_quote"]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(a > 0, b / a, np.nan)
            tot = b + a
            pres = np.where(tot > 0, (b - a) / tot, np.nan)
        return {"bands_bps": prof["bands_bps"], "bid_quote": b, "ask_quote": a, "ratio": ratio, "pressure": pres}

    def liquidity_report(self, *, levels=10, notional=100_000.0, half_life_s=None, depth_half=500_000.0,
                         band_bps=200.0):
        """The liquidity snapshot record of this book (:class:`LiquidityReport`): top of book,
        spread (abs, bps, %), volumes of the top ``levels`` per side, quote liquidity within 1%
        and 2% of the mid, imbalance ratio, plain and linearly weighted imbalance, the mean
        mid-slippage of a ``notional`` buy and sell, walls, clusters (within ``band_bps``) and
        the 0-1 score (:func:`liquidity_score` with D1 = the 1% liquidity and that slippage;
        ``half_life_s`` None = resilience unknown). A few microseconds for a 1000-level book."""
        cdef liq_report_params p
        p.levels = _as_size(levels, "liquidity_report")
        p.notional = _as_double(notional, "liquidity_report")
        p.depth_half = _as_double(depth_half, "liquidity_report")
        p.band_bps = _as_double(band_bps, "liquidity_report")
        p.half_life_s = NAN if half_life_s is None else _as_double(half_life_s, "liquidity_report")
        # held: the record is allocated before the one C call that fills it
        self._enter()
        try:
            return _report(&self._b, self.exchange, self.symbol, &p)
        finally:
            self._leave()

    # ------------------------------------------------------------ checksums (src/checksum.c)

    #: Checksum kinds by name (``liqcore._checksum.CHECKSUM_KINDS``): (C kind, levels per side
    #: covered, exchange sends it signed, 0 means "no checksum").
    CHECKSUM_KINDS = _CHECKSUM_KINDS

    def checksum(self, kind):
        """The exchange's checksum of the book's current top levels, computed in C.

        Parameters
        ----------
        kind : {"okx", "bitget", "kraken", "kraken_v1", "kraken_v2", "bitfinex"}
            The exchange's algorithm (``kraken_v1``/``kraken_v2`` are aliases of
            ``kraken``: v1 levels keep their wire decimals, v2 levels from JSON numbers
            are rendered at the book's scales, which must then be the instrument's
            ``price_precision``/``qty_precision``).

        Returns
        -------
        int
            CRC-32 in the exchange's own signedness: signed int32 for OKX, Bitget and
            Bitfinex, unsigned for Kraken.

        Raises
        ------
        InvalidDeltaError
            Unknown ``kind``.
        DepthError
            ``max_depth`` keeps fewer levels per side than the checksum covers (25 for
            OKX/Bitget/Bitfinex, 10 for Kraken).

        Notes
        -----
        OKX/Bitget hash the wire strings ("0.5000" stays "0.5000"), so feed levels as
        strings; levels that came from floats are rendered in their shortest form.
        O(levels covered), no allocation.
        """
        cdef tuple k = _kind(kind)
        self._ready()
        return _checksum(&self._b, k, kind)

    def verify_checksum(self, kind, expected):
        """Compare the book's checksum with the one an exchange message carries.

        Parameters
        ----------
        kind : str
            As in :meth:`checksum`.
        expected : int | str
            The exchange's value, as an int or a decimal string (Kraken v1 sends a
            string), signed or unsigned: both are reduced to 32 bits before comparing.

        Returns
        -------
        bool
            True when the checksum matches; False when it was not checked because the
            message carries none: OKX's ``0`` (OKX deprecated the field in June 2026 and
            sends 0 on every frame; rely on seqId/prevSeqId there).

        Raises
        ------
        ChecksumError
            The checksums differ (the message names both, in the exchange's signedness).
            The book is out of sync: resubscribe or fetch a snapshot.
        InvalidDeltaError
            ``expected`` is not an integer in [-2**31, 2**32), or ``kind`` is unknown.
        DepthError
            As in :meth:`checksum`.
        """
        cdef tuple k = _kind(kind)
        want = _expected(k, expected)
        if want is None:
            return False
        self._ready()
        return _verify(&self._b, k, kind, want)

    # ------------------------------------------------------------ copies and serialization

    def copy(self):
        """Deep copy (levels, ids, policy, stats, labels). O(levels)."""
        cdef OrderBook other = OrderBook.__new__(OrderBook)
        self._ready()
        liq_book_free(&other._b)
        check_status(liq_book_copy(&other._b, &self._b), "copy")
        other._pdiv = self._pdiv
        other._qdiv = self._qdiv
        other.symbol = self.symbol
        other.exchange = self.exchange
        return other

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def to_bytes(self):
        """Compact binary form: header, 18 bytes per level, then the labels (symbol,
        exchange); little-endian, versioned. :meth:`from_bytes` rebuilds the same book with
        its labels. O(levels)."""
        cdef liq_labels lab
        cdef bytes sym = None if self.symbol is None else (<str>self.symbol).encode()
        cdef bytes exch = None if self.exchange is None else (<str>self.exchange).encode()
        lab.symbol = NULL if sym is None else PyBytes_AS_STRING(sym)
        lab.symbol_len = 0 if sym is None else <size_t>PyBytes_GET_SIZE(sym)
        lab.exchange = NULL if exch is None else PyBytes_AS_STRING(exch)
        lab.exchange_len = 0 if exch is None else <size_t>PyBytes_GET_SIZE(exch)
        cdef size_t n
        # held: the output is allocated between sizing and writing it
        self._enter()
        try:
            n = liq_book_serialized_size_labeled(&self._b, &lab)
            out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>n)
            liq_book_serialize_labeled(&self._b, &lab, <uint8_t *>PyBytes_AS_STRING(out))
            return out
        finally:
            self._leave()

    @classmethod
    def from_bytes(cls, data, *, symbol=None, exchange=None):
        """Rebuild a book from :meth:`to_bytes` output (also the label-less form of earlier
        versions). ``symbol``/``exchange``, when given, replace the stored labels. Raises
        FormatError on malformed input (any bytes-like object; anything else too). O(levels)."""
        cdef const uint8_t[::1] view
        cdef liq_labels lab
        try:
            view = memoryview(data).cast("B")
        except (TypeError, ValueError) as e:
            raise _error(LIQ_ERR_FORMAT, "from_bytes", f"expected bytes, got {type(data).__name__} ({e})") from None
        cdef OrderBook book = cls.__new__(cls)
        check_status(liq_book_deserialize_labeled(&book._b, &view[0] if view.shape[0] else NULL,
                                                  <size_t>view.shape[0], &lab), "from_bytes")
        book._pdiv = <double>liq_pow10[book._b.px_scale]
        book._qdiv = <double>liq_pow10[book._b.qty_scale]
        try:
            stored_sym = None if lab.symbol == NULL else lab.symbol[:lab.symbol_len].decode()
            stored_exch = None if lab.exchange == NULL else lab.exchange[:lab.exchange_len].decode()
        except UnicodeDecodeError:
            raise _error(LIQ_ERR_FORMAT, "from_bytes", "a label is not UTF-8") from None
        book.symbol = _label(stored_sym if symbol is None else symbol, "symbol")
        book.exchange = _label(stored_exch if exchange is None else exchange, "exchange")
        return book

    def __reduce__(self):
        return (_unpickle, (self.to_bytes(),))

    def __repr__(self):
        label = " ".join(str(x) for x in (self.exchange, self.symbol) if x)
        return (f"<OrderBook {label + ' ' if label else ''}bids={self.bid_count} asks={self.ask_count} "
                f"best_bid={self.best_bid} best_ask={self.best_ask}>")


cdef int64_t _seq_id(OrderBook book, object v, str name, str where) except? -1:
    """An update id as int64 (ints only: no bool, float or str); otherwise the message is
    refused (counted by the core, its scratch trimmed) with InvalidDeltaError."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        iv = int(v)
        if -(1 << 63) < iv < (1 << 63):
            return iv
    liq_book_reject(&book._b)
    raise _error(LIQ_ERR_ARG, where, f"{name} must be an int64 update id, got {v!r}")


cdef bint _is_top_array(object out, long n):
    """True when ``out`` can take :meth:`OrderBook.top`'s ``n`` levels in place: an ndarray (or a
    subclass) of native float64, shape (2, n, 2), C-contiguous, aligned and writeable."""
    cdef cnp.ndarray a
    if not cnp.PyArray_Check(out):
        return False
    a = <cnp.ndarray>out
    return (cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT64 and cnp.PyArray_ISNOTSWAPPED(a) and cnp.PyArray_NDIM(a) == 3
            and cnp.PyArray_DIMS(a)[0] == 2 and cnp.PyArray_DIMS(a)[1] == n and cnp.PyArray_DIMS(a)[2] == 2
            and cnp.PyArray_ISCARRAY(a))


cdef str _array_desc(object x):
    """What an argument that is not the expected array is, for an error message."""
    if isinstance(x, np.ndarray):
        return (f"{x.dtype} array of shape {x.shape} (C-contiguous: {x.flags.c_contiguous}, "
                f"writeable: {x.flags.writeable}, aligned: {x.flags.aligned})")
    return type(x).__name__


def _unpickle(data, symbol=None, exchange=None):
    """Pickles carry the labels inside the bytes (older ones as two extra arguments)."""
    return OrderBook.from_bytes(data, symbol=symbol, exchange=exchange)


# ---------------------------------------------------------------- C API (liqcore/_book.pxd)

cdef liq_book *_book_ptr(object book) except NULL:
    """The C book inside an OrderBook, for the other compiled modules (``_frames``), checked
    free (no other thread's call holds it). For a call with the GIL held from start to end;
    the caller holds a reference to ``book`` for as long as it uses the pointer."""
    if type(book) is not OrderBook and not isinstance(book, OrderBook):
        raise TypeError(f"expected an OrderBook, got {type(book).__name__}")
    (<OrderBook>book)._ready()
    return &(<OrderBook>book)._b


cdef liq_book *_book_enter(object book) except NULL:
    """As _book_ptr, and hold the book (another thread's call waits) until _book_leave: for
    a call that releases the GIL while it uses the book."""
    if type(book) is not OrderBook and not isinstance(book, OrderBook):
        raise TypeError(f"expected an OrderBook, got {type(book).__name__}")
    (<OrderBook>book)._enter()
    return &(<OrderBook>book)._b


cdef void _book_leave(object book) noexcept:
    (<OrderBook>book)._leave()
