# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Exchange frames parsed in C straight into a compiled book: the binding of ``src/frames.c``.

The raw websocket/REST bytes go in; no Python object is built per level. Each call applies
one frame all or nothing (see ``docs/frames.md``): on any error the book is unchanged except
``stats["rejected"]`` (and ``gaps``/``crossed`` as the book counts them); the one exception
is an OKX checksum mismatch, found after the update was applied (as OKX defines it).
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport int64_t
from libc.string cimport memcpy

from liqcore._clib cimport *
from liqcore._book cimport _book_ptr, _book_enter, _book_leave
from liqcore._status cimport _error
from liqcore import errors
import orjson


cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object s, Py_ssize_t *size) except NULL

ctypedef liq_book *(*liq_frame_router)(void *ctx, const char *sym, size_t len, int esc) noexcept

ctypedef liq_status (*_routed_fn)(liq_frame_router route, void *ctx, const char *buf, size_t n,
                                  liq_frame_result *r) noexcept

cdef extern from "frames.h":
    liq_status liq_frame_binance_depth_routed(liq_frame_router route, void *ctx, const char *buf, size_t n,
                                              liq_frame_result *r)
    liq_status liq_frame_okx_books_routed(liq_frame_router route, void *ctx, const char *buf, size_t n,
                                          liq_frame_result *r)

# Frames at least this long are parsed with the GIL released (snapshots); a 20+20-level
# update (~1.6 KB) parses in about a microsecond, less than the release would free.
cdef enum:
    NOGIL_MIN_BYTES = 65536

_KINDS = ("other", "depth", "snapshot", "update")
_CHECKS = (None, True, None, False)


cdef inline object _frame_bytes(object frame):
    if type(frame) is bytes:
        return frame
    if isinstance(frame, str):
        # a lone surrogate stays in the bytes (as invalid UTF-8): the parser refuses the frame
        return (<str>frame).encode("utf-8", "surrogatepass")
    if isinstance(frame, (bytearray, memoryview)):
        return bytes(frame)
    raise TypeError(f"a frame is bytes (or str, bytearray, memoryview), not {type(frame).__name__}")


cdef inline object _frame_ptr(object frame, const char **p, size_t *n):
    """The UTF-8 bytes of ``frame`` for the parser: a str's own UTF-8 (no copy for the ASCII
    text venues send: CPython keeps it in the object), else :func:`_frame_bytes`. Returns the
    object that owns them (keep it alive while ``*p`` is used)."""
    cdef Py_ssize_t size
    if type(frame) is str:
        try:
            p[0] = PyUnicode_AsUTF8AndSize(frame, &size)
            n[0] = <size_t>size
            return frame
        except UnicodeEncodeError:
            pass                     # a lone surrogate: bytes that the parser refuses
    cdef object fb = _frame_bytes(frame)
    p[0] = PyBytes_AS_STRING(fb)
    n[0] = <size_t>PyBytes_GET_SIZE(fb)
    return fb


cdef inline bytes _as_bytes(object frame):
    """The bytes the parser read of a kept frame (a str's UTF-8, as _frame_ptr gave it)."""
    if type(frame) is str:
        return (<str>frame).encode("utf-8", "surrogatepass")
    return <bytes>frame


cdef inline object _id(const liq_frame_result *r, unsigned bit, int64_t v):
    """An integer field of the frame, None when absent (by its presence bit: a time may be
    INT64_MIN, the value LIQ_ID_NONE stands for)."""
    return v if r.present & bit else None


cdef object _text(object frame, size_t off, size_t n):
    """The text of a JSON string the C parser validated (frame[off:off + n], the bytes inside
    its quotes): well-formed UTF-8 with valid escapes, decoded as orjson decodes it. O(n).
    Raises only FormatError (for bytes that did not come from the parser)."""
    cdef bytes raw = _as_bytes(frame)[off:off + n]
    try:
        if b"\\" in raw:
            return orjson.loads(b'"' + raw + b'"')
        return raw.decode()
    except ValueError as exc:   # UnicodeDecodeError and orjson.JSONDecodeError are ValueErrors
        raise errors.FormatError(f"not a valid JSON string: {raw[:40]!r}") from exc


@cython.auto_pickle(False)
cdef class FrameResult:
    """What one frame was and what applying it did (built by the ``apply_*``/``scan_*`` functions).

    Attributes
    ----------
    kind : {"depth", "snapshot", "update", "other"}
        Binance depthUpdate, a snapshot (Binance REST, OKX ``snapshot``), an OKX ``update``, or
        a valid frame of another kind (trade, ticker, event...) that was ignored.
    applied : bool
        The book changed (False for ``other``, stale frames and scans).
    stale : bool
        The frame was older than the book and skipped (nothing applied).
    first_id, last_id, prev_id : int | None
        Binance ``U``, ``u`` (``lastUpdateId``), ``pu``; OKX ``seqId`` (last) and ``prevSeqId``.
        None when the frame has none.
    event_ms, txn_ms : int | None
        Binance ``E`` and ``T``, OKX ``ts``; None when absent.
    symbol, stream : str | None
        Binance ``s`` / OKX ``instId``; Binance combined ``stream`` / OKX ``channel``: the
        string's text (escapes decoded, as ``orjson.loads`` gives it), None when absent or empty.
    bids, asks : int
        Levels in the frame.
    checksum : int | None
        OKX's checksum as sent (signed int32), None when absent.
    checksum_ok : bool | None
        True verified, False mismatch, None not verified (absent, 0, stale, scan).
    price_decimals, size_decimals : int
        Most fraction digits among the frame's prices and sizes (the scales a book needs).
    route : FrameRoute | None
        :func:`route_binance_depth`: the table's route of the frame's symbol (None: not in
        the table, or no symbol); None for the other functions.
    error : LiqError | None
        :func:`route_binance_depth`: the error of a refused frame (which that function
        returns rather than raises, so the caller still learns the route); None otherwise.
    """

    cdef liq_frame_result _r
    cdef object _frame
    cdef int _st
    cdef bint _scan
    cdef readonly object route
    cdef str _where

    def __init__(self):
        raise TypeError("FrameResult is built by liqcore._frames functions")

    @property
    def kind(self):
        return _KINDS[self._r.kind]

    @property
    def applied(self):
        return not self._scan and self._r.kind != LIQ_FRAME_OTHER and (self._st == LIQ_OK or self._st == LIQ_ERR_CHECKSUM)

    @property
    def stale(self):
        return self._st == LIQ_STALE

    @property
    def first_id(self):
        return _id(&self._r, LIQ_FRAME_HAS_FIRST, self._r.first_id)

    @property
    def last_id(self):
        return _id(&self._r, LIQ_FRAME_HAS_LAST, self._r.last_id)

    @property
    def prev_id(self):
        return _id(&self._r, LIQ_FRAME_HAS_PREV, self._r.prev_id)

    @property
    def event_ms(self):
        return _id(&self._r, LIQ_FRAME_HAS_EVENT, self._r.event_ms)

    @property
    def txn_ms(self):
        return _id(&self._r, LIQ_FRAME_HAS_TXN, self._r.txn_ms)

    @property
    def symbol(self):
        if self._r.sym_len == 0:
            return None
        return _text(self._frame, self._r.sym_off, self._r.sym_len)

    @property
    def stream(self):
        if self._r.stream_len == 0:
            return None
        return _text(self._frame, self._r.stream_off, self._r.stream_len)

    @property
    def bids(self):
        return self._r.bids

    @property
    def asks(self):
        return self._r.asks

    @property
    def checksum(self):
        return self._r.checksum if self._r.has_checksum else None

    @property
    def checksum_ok(self):
        return _CHECKS[self._r.check]

    @property
    def price_decimals(self):
        return self._r.max_px_dec

    @property
    def error(self):
        if self._st >= 0 or self._where is None:
            return None
        return _fail(self._st, self._where, &self._r, self._frame)

    @property
    def size_decimals(self):
        return self._r.max_qty_dec

    def __repr__(self):
        return (f"FrameResult(kind={self.kind!r}, applied={self.applied}, stale={self.stale}, "
                f"symbol={self.symbol!r}, first_id={self.first_id}, last_id={self.last_id}, "
                f"prev_id={self.prev_id}, bids={self.bids}, asks={self.asks}, checksum_ok={self.checksum_ok})")


cdef object _fail(int st, str where, liq_frame_result *r, object frame):
    """The exception of a rejected frame, naming where it went wrong."""
    cdef bytes fb = _as_bytes(frame)
    cdef Py_ssize_t at
    if st == LIQ_ERR_FORMAT:
        at = <Py_ssize_t>r.error_at
        return _error(st, where, f"at byte {at}: {fb[max(at - 20, 0):at]!r} >>> {fb[at:at + 20]!r}")
    if st == LIQ_ERR_SEQ_GAP:
        return _error(st, where, f"frame first={_id(r, LIQ_FRAME_HAS_FIRST, r.first_id)} "
                                 f"last={_id(r, LIQ_FRAME_HAS_LAST, r.last_id)} prev={_id(r, LIQ_FRAME_HAS_PREV, r.prev_id)}")
    if st == LIQ_ERR_CHECKSUM:
        return _error(st, where, f"{_text(fb, r.sym_off, r.sym_len)}: book {<int>(<int32_t>r.computed)} "
                                 f"!= exchange {r.checksum}; the update was applied: resubscribe")
    if st == LIQ_ERR_CROSSED or st == LIQ_ERR_DEPTH or st == LIQ_ERR_NOMEM or st == LIQ_ERR_ARG:
        return _error(st, where)
    # a bad price or size: name the level (bids are counted first)
    if r.error_at < r.bids:
        return _error(st, where, f"bids[{r.error_at}]")
    return _error(st, where, f"asks[{r.error_at - r.bids}]")


ctypedef liq_status (*frame_fn)(liq_book *b, const char *buf, size_t n, unsigned flags,
                                 liq_frame_result *r) noexcept nogil


cdef FrameResult _run(frame_fn fn, object book, object frame, unsigned flags, str where):
    cdef liq_book *b = NULL
    cdef FrameResult res = FrameResult.__new__(FrameResult)
    cdef const char *p
    cdef size_t n
    cdef object fb = _frame_ptr(frame, &p, &n)
    cdef int st
    if book is not None and n >= NOGIL_MIN_BYTES:
        # held while the GIL is released: another thread's call on this book waits
        b = _book_enter(book)
        try:
            with nogil:
                st = fn(b, p, n, flags, &res._r)
        finally:
            _book_leave(book)
    elif book is not None:
        b = _book_ptr(book)         # checked free; the GIL is held throughout
        st = fn(b, p, n, flags, &res._r)
    elif n >= NOGIL_MIN_BYTES:
        with nogil:
            st = fn(b, p, n, flags, &res._r)
    else:
        st = fn(b, p, n, flags, &res._r)
    res._frame = fb
    res._st = st
    res._scan = b == NULL or (flags & LIQ_FRAME_SCAN) != 0
    if st < 0:
        raise _fail(st, where, &res._r, fb)
    return res


def apply_binance_depth(book, frame):
    """Apply one Binance ``depthUpdate`` frame (raw or combined stream, spot or USDⓈ-M) to ``book``.

    Parameters
    ----------
    book : OrderBook
        Its ``sequence`` rule (``binance_spot``/``binance_futures``) checks ``U``/``u``/``pu``;
        with no rule the ids are only recorded.
    frame : bytes
        The frame's JSON text as received (str, bytearray and memoryview are copied first).

    Returns
    -------
    FrameResult
        ``kind == "other"`` (nothing done) for any other valid frame (trade, bookTicker...);
        ``stale`` when the frame is older than the book.

    Raises
    ------
    FormatError
        Not JSON, or a depthUpdate lacking ``U``/``u``/``b``/``a`` or with a wrong type.
    InvalidDeltaError
        A price or size that is not a decimal or does not fit the book (named).
    SequenceGapError, CrossedBookError
        As :meth:`OrderBook.apply_levels`. On every error the book is unchanged.
    """
    return _run(liq_frame_binance_depth, book, frame, 0, "apply_binance_depth")


def load_binance_snapshot(book, body):
    """Replace ``book`` with a Binance REST depth snapshot (``{"lastUpdateId", "bids", "asks"}``,
    also wrapped as ``"data"``); ``lastUpdateId`` becomes ``book.last_update_id``.

    Returns a FrameResult (kind ``snapshot``, or ``other`` without ``lastUpdateId``); raises as
    :func:`apply_binance_depth` (a crossed snapshot: CrossedBookError), the book unchanged.
    """
    return _run(liq_frame_binance_snapshot, book, body, 0, "load_binance_snapshot")


def apply_okx_books(book, frame):
    """Apply one OKX ``books``/``books-l2-tbt``/``books50-l2-tbt`` frame to ``book``.

    A ``snapshot`` replaces the book (``seqId`` becomes its update id); an ``update`` is checked
    with the book's sequence rule (``okx``: ``prevSeqId`` continues the book). A non-zero
    ``checksum`` is then verified against the book (OKX's CRC32 over the wire strings); 0 means
    absent (``checksum_ok`` None). The caller routes frames to the book of their ``instId``
    (:func:`scan_okx_books` tells it without applying).

    Raises
    ------
    ChecksumError
        The book's checksum differs: the frame HAS been applied (the exchange's book moved
        on); resubscribe.
    DepthError
        The frame carries a checksum and the book's max_depth is below 25 (nothing applied).
    FormatError, InvalidDeltaError, SequenceGapError, CrossedBookError
        As :func:`apply_binance_depth`, the book unchanged.
    """
    return _run(liq_frame_okx_books, book, frame, 0, "apply_okx_books")


def scan_binance_depth(frame):
    """Parse and validate a Binance depth frame without a book (ids, symbol, level counts,
    decimals); raises FormatError/InvalidDeltaError like :func:`apply_binance_depth`."""
    return _run(liq_frame_binance_depth, None, frame, LIQ_FRAME_SCAN, "scan_binance_depth")


def scan_binance_snapshot(body):
    """Parse and validate a Binance REST depth snapshot without a book."""
    return _run(liq_frame_binance_snapshot, None, body, LIQ_FRAME_SCAN, "scan_binance_snapshot")


def scan_okx_books(frame):
    """Parse and validate an OKX books frame without a book: instId, action, ids, and the
    price/size decimals a book for it needs (``price_decimals``/``size_decimals``)."""
    return _run(liq_frame_okx_books, None, frame, LIQ_FRAME_SCAN, "scan_okx_books")


@cython.auto_pickle(False)
@cython.final
cdef class FrameRoute:
    """One market of a routing table for :func:`route_binance_depth` and :func:`route_okx_books`.

    Attributes
    ----------
    book : OrderBook | None
        The book the market's frames are applied to; None: they are only parsed and validated
        (a book waiting for its snapshot buffers them). Owned by the caller, who replaces it
        when the book is rebuilt.
    target : object
        The caller's object for the market (what it needs back with the result).
    """

    cdef public object book
    cdef public object target

    def __init__(self, book=None, target=None):
        self.book = book
        self.target = target

    def __repr__(self):
        return f"FrameRoute(book={self.book!r}, target={self.target!r})"


cdef struct _route_ctx:
    PyObject *table        # dict: market id (str) -> FrameRoute, borrowed for the call
    PyObject *found        # the route asked for, borrowed from the table (NULL: none)
    int error              # the route's book could not be used (not an OrderBook, in use)


cdef liq_book *_route_table(void *ctx, const char *sym, size_t n, int esc) noexcept:
    """frames.c's router: the market id's route in the table; its book, or NULL (scan)."""
    cdef _route_ctx *rc = <_route_ctx *>ctx
    cdef object route
    rc.found = NULL
    try:
        if esc:
            key = orjson.loads(b'"' + sym[:n] + b'"')
        else:
            key = PyUnicode_DecodeUTF8(sym, <Py_ssize_t>n, NULL)
        route = (<dict>rc.table).get(key)
        if type(route) is not FrameRoute:
            return NULL
        rc.found = <PyObject *>route
        if (<FrameRoute>route).book is None:
            return NULL
        return _book_ptr((<FrameRoute>route).book)
    except Exception:
        rc.error = 1
        return NULL


def route_binance_depth(dict table, frame):
    """Apply one Binance ``depthUpdate`` frame to the book its ``"s"`` routes to, in one parse.

    Parameters
    ----------
    table : dict[str, FrameRoute]
        Market id (``"BTCUSDT"``) -> its route, for one connection. Read during the call, not
        kept. The route's book (if any) is applied to as by :func:`apply_binance_depth`; a route
        without a book, or a market not in the table, gets the frame scanned (validated: ids,
        decimals) and nothing applied.
    frame : str | bytes
        The frame as received (a str's own UTF-8 is read: no copy).

    Returns
    -------
    FrameResult
        ``route`` the table's route of the frame's symbol (None: not in the table, no symbol,
        not a depthUpdate); ``error`` the exception of a refused frame (not raised: a
        FormatError for a malformed frame, SequenceGapError, CrossedBookError,
        InvalidDeltaError as :func:`apply_binance_depth`, the book unchanged); ``applied`` /
        ``stale`` for the route's book. The GIL is held throughout (the router reads the table).
        O(frame bytes + levels * log levels).
    """
    return _routed(liq_frame_binance_depth_routed, LIQ_FRAME_DEPTH, table, frame, "route_binance_depth")


def route_okx_books(dict table, frame):
    """Apply one OKX books ``update`` frame to the book its ``instId`` routes to, in one parse.

    As :func:`route_binance_depth` with :func:`apply_okx_books`'s rules: ``table`` maps an
    ``instId`` (``"BTC-USDT"``) to its route; an update of a book channel (``books``,
    ``books-l2-tbt``, ``books50-l2-tbt``, ``books-rpi``) whose route has a book is applied to it
    (sequence rule, then OKX's checksum: a mismatch is reported after applying, ``applied`` True
    with a ChecksumError in ``error``); snapshots, other channels and events are only scanned
    (``route`` None: their ``kind`` tells them). O(frame bytes + levels * log levels).
    """
    return _routed(liq_frame_okx_books_routed, LIQ_FRAME_UPDATE, table, frame, "route_okx_books")


cdef FrameResult _routed(_routed_fn fn, int kind, dict table, object frame, str where):
    """One routed frame call: ``fn`` with the table's router; ``route`` set when a frame of
    ``kind`` was routed to an entry of the table."""
    cdef FrameResult res = FrameResult.__new__(FrameResult)
    cdef const char *p
    cdef size_t n
    cdef object fb = _frame_ptr(frame, &p, &n)
    cdef _route_ctx ctx
    ctx.table = <PyObject *>table
    ctx.found = NULL
    ctx.error = 0
    cdef int st = fn(_route_table, &ctx, p, n, &res._r)
    res._frame = fb
    res._st = st
    res._where = where
    if ctx.found != NULL and res._r.sym_len != 0 and res._r.kind == kind:
        res.route = <object>ctx.found
        res._scan = (<FrameRoute>res.route).book is None
    else:
        res._scan = True
    if ctx.error:
        if ctx.found != NULL:               # raise what the book's check raised in the router
            _book_ptr((<FrameRoute>ctx.found).book)
        raise errors.FormatError(f"{where}: the frame's market id is not a valid string")
    return res
