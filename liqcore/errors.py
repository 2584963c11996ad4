"""liqcore exceptions.

Every error raised by the compiled core is a :class:`LiqError` that also subclasses the
matching builtin, so ``except ValueError`` keeps working for callers that do not know
liqcore. C status codes map to these classes in one place
(``liqcore/_status.pyx``).
"""

from __future__ import annotations

__all__ = [
    "LiqError",
    "InvalidDeltaError",
    "FormatError",
    "CrossedBookError",
    "ChecksumError",
    "DepthError",
    "SequenceGapError",
    "SnapshotTooOld",
    "LiqMemoryError",
    "ConcurrentUseError",
    "RecordingFormatError",
    "FeedError",
    "FeedConfigError",
    "WebSocketError",
    "MarketDataError",
    "InvalidSeriesError",
    "RiskInputError",
]


class LiqError(Exception):
    """Base class of every liqcore error."""


class InvalidDeltaError(LiqError, ValueError):
    """A price, size or side is invalid (NaN, inf, negative, non-numeric, off-grid,
    too many decimals, out of range, wrong dtype, mismatched lengths). The book is unchanged."""


class FormatError(LiqError, ValueError):
    """Malformed serialized book or frame bytes."""


class CrossedBookError(LiqError, ValueError):
    """The message would leave best bid above best ask (cross policy ``"raise"``). The book is unchanged."""


class ChecksumError(LiqError, ValueError):
    """The book's checksum does not match the exchange's."""


class DepthError(LiqError, ValueError):
    """The book keeps fewer levels per side than the operation needs (e.g. a checksum over 25 levels)."""


class SequenceGapError(LiqError, RuntimeError):
    """A sequenced message does not continue the book's last update id. The book is unchanged;
    resynchronise from a fresh snapshot."""


class SnapshotTooOld(LiqError, RuntimeError):
    """A REST snapshot older than the first buffered delta (its last update id is below the first
    event's): the Binance procedure fetches another. Raised by the binding's and the feed's Binance
    sync alike, so it lives here, below both."""


class LiqMemoryError(LiqError, MemoryError):
    """The core could not allocate memory. The book is unchanged."""


class ConcurrentUseError(LiqError, RuntimeError):
    """A book was called again from inside one of its own calls on the same thread (a
    callback, such as a ``__float__`` or ``__getitem__`` of the caller's objects, re-entered
    it). Calls from other threads never raise this: they wait for the book. Nothing changed.
    A websocket ``FrameReader`` fed again while it reads (from a handler, or from another
    thread while a handler runs) raises it too, and reads nothing of that call."""


class RecordingFormatError(LiqError, ValueError):
    """A file is not a liqcore recording, has an unsupported version, or (in strict reading)
    holds a damaged block. Non-strict readers skip damaged blocks and report them instead."""


class FeedError(LiqError, RuntimeError):
    """A live feed cannot continue: a fatal exchange error (authentication, unknown symbol,
    unsupported channel) or a feed used after it was closed. Transient problems (gaps,
    checksum mismatches, disconnects) never raise this: they resync and are counted."""


class FeedConfigError(LiqError, ValueError):
    """A live feed was configured with an unknown exchange, symbol or option (or a feed-layer call,
    such as a websocket's close, was given a value it cannot take)."""


class WebSocketError(LiqError, ConnectionError):
    """A websocket connection failed: its handshake was refused, or the peer broke the protocol
    (RFC 6455). ``code`` is the close code the connection is failed with (1002 protocol error,
    1007 invalid text, 1009 message too big; 1006 when no close frame could be sent, as in a
    refused handshake); ``status`` and ``headers`` are the HTTP response's of a refused handshake
    (else None)."""

    def __init__(self, code: int, reason: str, *, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"websocket {code}: {reason}")
        self.code = code
        self.reason = reason
        self.status = status
        self.headers = headers


class MarketDataError(FeedError):
    """A market-data stream (trades, funding, mark price, liquidations, open interest) stopped on
    a fatal error (unknown symbol, channel the exchange does not offer, bad arguments); the
    exchange's own exception is its ``__cause__``. Other streams keep running."""


class InvalidSeriesError(LiqError, ValueError):
    """An array given to a statistics function (``liqcore.flowstats``) is unusable: not 1-D or
    not numeric, empty, of a length that does not match its companions, holding NaN or inf, out of
    range (a non-positive price, a side other than +1/-1), or times that go backwards; or a
    parameter is out of range. The message names the argument and the first offending index."""


class RiskInputError(LiqError, ValueError):
    """An input of a risk computation (``liqcore.risk``) is unusable: a size, price or balance
    that is not a positive finite number, a leverage at or below 0 or above its tier's maximum,
    an unknown margin mode, side or exchange, tiers that do not increase or that overlap, a
    volatility at or below 0, a confidence outside (0, 1), a history that is empty, ragged or
    too short for the confidence. The message names the argument; nothing is computed."""


class AlertInputError(LiqError, ValueError):
    """An input of a baseline or an alert rule (``liqcore.alerts``) is unusable: a baseline that
    is empty or holds NaN/inf, a smoothing factor outside (0, 1), a half-life <= 0, a threshold or
    debounce setting out of range, an unknown alert type, metric or severity. The message names
    the argument; nothing is computed or changed."""
