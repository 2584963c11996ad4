# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Websocket frames read and written in C: the binding of ``src/ws.c`` (RFC 6455, the client's side).

:class:`FrameReader` turns the bytes a connection receives into messages, synchronously: every
complete text message is handed to ``on_text`` as a ``str`` (decoded once, strict UTF-8) in the
same call that received its bytes, with no queue, future or task between the socket and the
handler. :func:`write_frame` builds a client's masked frame. The connection itself (handshake,
socket, closing) is ``liqcore.feed.websocket``.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport uint8_t, uint64_t

from liqcore._clib cimport liq_status, LIQ_ERR_FORMAT
from liqcore import errors

cdef extern from "ws.h" nogil:
    enum:
        LIQ_WS_CONTINUATION
        LIQ_WS_TEXT
        LIQ_WS_BINARY
        LIQ_WS_CLOSE
        LIQ_WS_PING
        LIQ_WS_PONG
        LIQ_WS_MAX_CONTROL
        LIQ_WS_MAX_HEADER
    ctypedef struct liq_ws_frame:
        uint64_t length
        uint8_t opcode
        uint8_t fin
        uint8_t header
    int liq_ws_read_header(const uint8_t *p, size_t n, liq_ws_frame *f)
    size_t liq_ws_write_frame(uint8_t *out, size_t cap, unsigned opcode, const uint8_t *payload, size_t len,
                              const uint8_t *mask)
    size_t liq_ws_frame_size(size_t len)

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = (LIQ_WS_CONTINUATION, LIQ_WS_TEXT, LIQ_WS_BINARY, LIQ_WS_CLOSE,
                                                 LIQ_WS_PING, LIQ_WS_PONG)
#: a message's default bound (ccxt.pro's aiohttp connections allow the same: 10 MiB)
DEFAULT_MAX_SIZE = 10 * 1024 * 1024

# close codes (RFC 6455 §7.4.1) the reader fails a connection with
cdef enum:
    _PROTOCOL_ERROR = 1002
    _INVALID_DATA = 1007
    _TOO_BIG = 1009


cdef bytes _as_bytes(object data, str what):
    """``data`` (bytes, bytearray or memoryview) as bytes; TypeError for anything else (an int would
    otherwise become that many zero bytes)."""
    if type(data) is bytes:
        return <bytes>data
    if not isinstance(data, (bytearray, memoryview)):
        raise TypeError(f"{what} bytes, bytearray or memoryview, not {type(data).__name__}")
    return bytes(data)


cdef class FrameReader:
    """The messages of one connection, from the bytes it receives (:meth:`feed`).

    ``on_text(str)`` gets each complete text message; ``on_other(opcode, bytes)`` every binary
    message and control frame (``PING``, ``PONG``, ``CLOSE``: the raw payload, a close's code
    and reason undecoded). Both are called from inside :meth:`feed`, in order; an exception they
    raise propagates out of ``feed`` after the reader has moved past that message (a later
    ``feed`` continues with the next one). After a ``CLOSE`` frame the reader is closed: what
    follows is not read (RFC 6455 §5.5.1).

    A protocol violation (see ``src/ws.h``; a continuation without a message, a new message
    inside a fragmented one, text that is not UTF-8, a message over ``max_size`` bytes) raises
    :class:`liqcore.errors.WebSocketError` whose ``code`` is the close code to fail the
    connection with, and closes the reader. Memory: a partial frame and a fragmented message's
    parts are held (:attr:`pending`), bounded by ``max_size`` plus one header. O(bytes) per feed.

    One feed at a time: a feed from inside a handler, or from another thread while a handler runs,
    raises :class:`liqcore.errors.ConcurrentUseError` and reads nothing (a connection's bytes have
    one order).
    """

    cdef public object on_text, on_other   # the handlers (replaceable, e.g. to stop at a close)
    cdef bytearray _partial          # bytes of a frame not complete yet
    cdef bytearray _fragments        # payload of a fragmented message so far
    cdef int _fragment_opcode        # its opcode (0: none)
    cdef uint64_t _max_size
    cdef bint _closed
    cdef bint _busy                  # inside feed(): a second feed (a handler's, another thread's) is refused
    cdef public object messages      # messages handed out (text, binary and control)

    def __init__(self, on_text, on_other, *, max_size=DEFAULT_MAX_SIZE):
        if not callable(on_text) or not callable(on_other):
            raise TypeError("on_text and on_other must be callable")
        if type(max_size) is not int or not 0 < max_size <= (1 << 62):
            raise errors.FeedConfigError(f"max_size must be an int in [1, 2**62], not {max_size!r}")
        self.on_text = on_text
        self.on_other = on_other
        self._partial = None
        self._fragments = None
        self._fragment_opcode = 0
        self._max_size = max_size
        self._closed = False
        self._busy = False
        self.messages = 0

    @property
    def closed(self) -> bool:
        """True after a close frame, a protocol violation or :meth:`close`."""
        return self._closed

    @property
    def pending(self) -> int:
        """Bytes held between feeds: a partial frame plus a fragmented message's parts."""
        return ((0 if self._partial is None else len(self._partial))
                + (0 if self._fragments is None else len(self._fragments)))

    def close(self) -> None:
        """Stop reading: later feeds are ignored and what is held is dropped."""
        self._closed = True
        self._fragment_opcode = 0
        self._partial = None
        self._fragments = None

    cdef _fail(self, int code, str reason):
        self.close()
        raise errors.WebSocketError(code, reason)

    def feed(self, data) -> None:
        """Read the bytes received next (``bytes``, ``bytearray`` or ``memoryview``); hands every
        message they complete to the handlers before returning."""
        if self._closed:
            return
        data = _as_bytes(data, "feed takes")
        if self._busy:
            raise errors.ConcurrentUseError("FrameReader.feed called again while it reads (from a handler "
                                            "or another thread)")
        self._busy = True
        try:
            self._read(data)
        finally:
            self._busy = False

    cdef _read(self, object data):
        cdef object buf
        cdef const uint8_t *p
        cdef Py_ssize_t n
        if self._partial is not None:
            self._partial += <bytes>data
            buf = self._partial          # held here: the handlers cannot free it under us
            self._partial = None
            p = <const uint8_t *>PyByteArray_AS_STRING(buf)
            n = PyByteArray_GET_SIZE(buf)
        else:
            buf = data
            p = <const uint8_t *>PyBytes_AS_STRING(buf)
            n = PyBytes_GET_SIZE(buf)
        cdef Py_ssize_t pos = 0
        cdef liq_ws_frame f
        cdef int hlen
        cdef const uint8_t *payload
        cdef Py_ssize_t length
        try:
            while not self._closed:
                hlen = liq_ws_read_header(p + pos, <size_t>(n - pos), &f)
                if hlen == 0:
                    break
                if hlen < 0:
                    self._fail(_PROTOCOL_ERROR, "invalid frame header")
                if f.length > self._max_size:
                    self._fail(_TOO_BIG, f"a frame of {f.length} bytes is over the {self._max_size}-byte bound")
                if <uint64_t>(n - pos - hlen) < f.length:
                    break
                payload = p + pos + hlen
                length = <Py_ssize_t>f.length
                pos += hlen + length         # first: a handler that raises leaves the reader past it
                self._frame(f.opcode, f.fin, payload, length)
        finally:
            # what is not read yet waits for the next feed (also when a handler raised)
            if not self._closed and pos < n:
                if buf is data:
                    self._partial = bytearray(p[pos:n])
                else:
                    del buf[:pos]
                    self._partial = buf

    cdef _frame(self, int opcode, bint fin, const uint8_t *payload, Py_ssize_t length):
        if opcode >= LIQ_WS_CLOSE:               # control frames may come between fragments
            if opcode == LIQ_WS_CLOSE:
                self.close()
            self.messages += 1
            self.on_other(opcode, PyBytes_FromStringAndSize(<const char *>payload, length))
            return
        if opcode == LIQ_WS_CONTINUATION:
            if self._fragment_opcode == 0:
                self._fail(_PROTOCOL_ERROR, "a continuation frame outside a message")
            if <uint64_t>(len(self._fragments) + length) > self._max_size:
                self._fail(_TOO_BIG, f"a message over the {self._max_size}-byte bound")
            self._fragments += PyBytes_FromStringAndSize(<const char *>payload, length)
            if not fin:
                return
            opcode = self._fragment_opcode
            whole = bytes(self._fragments)
            self._fragments = None
            self._fragment_opcode = 0
            self._message(opcode, <const uint8_t *>PyBytes_AS_STRING(whole), len(whole))
            return
        if self._fragment_opcode != 0:
            self._fail(_PROTOCOL_ERROR, "a new message inside a fragmented one")
        if not fin:
            self._fragment_opcode = opcode
            self._fragments = bytearray(PyBytes_FromStringAndSize(<const char *>payload, length))
            return
        self._message(opcode, payload, length)

    cdef _message(self, int opcode, const uint8_t *payload, Py_ssize_t length):
        if opcode == LIQ_WS_TEXT:
            try:
                text = PyUnicode_DecodeUTF8(<const char *>payload, length, NULL)
            except UnicodeDecodeError:
                self._fail(_INVALID_DATA, "a text message that is not UTF-8")
            self.messages += 1
            self.on_text(text)
        else:
            self.messages += 1
            self.on_other(opcode, PyBytes_FromStringAndSize(<const char *>payload, length))


def write_frame(int opcode, payload, mask) -> bytes:
    """One client frame (FIN set) of ``opcode`` carrying ``payload`` (bytes-like), masked with the
    4 bytes ``mask`` (the caller draws them from a strong source: RFC 6455 §5.3). Raises
    :class:`liqcore.errors.WebSocketError` (code 1002) for an unknown opcode or a control frame
    over 125 bytes. O(len(payload))."""
    payload = _as_bytes(payload, "a frame's payload is")
    if type(mask) is not bytes or len(mask) != 4:
        raise TypeError("mask must be 4 bytes")
    if not 0 <= opcode <= 0xF:
        opcode = 0xF                     # not a known opcode: refused below
    cdef Py_ssize_t n = PyBytes_GET_SIZE(payload)
    cdef size_t size = liq_ws_frame_size(<size_t>n)     # a bytes object of <= PY_SSIZE_T_MAX: never 0
    out = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>size)
    cdef size_t wrote = liq_ws_write_frame(<uint8_t *>PyBytes_AS_STRING(out), size, <unsigned>opcode,
                                           <const uint8_t *>PyBytes_AS_STRING(payload), <size_t>n,
                                           <const uint8_t *>PyBytes_AS_STRING(mask))
    if wrote != size:
        raise errors.WebSocketError(_PROTOCOL_ERROR, f"cannot write a frame of opcode {opcode} with {n} bytes")
    return out
