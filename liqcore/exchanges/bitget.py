"""Bitget ``books`` (websocket v2: spot and USDT-M perpetuals; v1 in older recordings), sans I/O.

OKX's message layout (``{"action", "arg": {"instType", "channel", "instId"}, "data": [{"asks":
[[px, sz]], "bids", "checksum", "seq", "ts"}]}``) and checksum algorithm (signed CRC32 of the best 25
bids and asks interleaved, over the wire strings); Bitget's 0 is a real checksum value.

Sequence rule. Bitget promises only that ``seq`` increases when the book is updated, not that it
is contiguous (it counts internal updates). The core's ``bitget`` rule, against the ``seq`` of the
last snapshot or applied update: ``seq > last`` applied; ``seq == last`` the same message again,
skipped; ``seq < last`` the stream went backwards (a packet out of order or a maintenance reset):
a gap, resynced. No ``seq`` (v1): checksums only. A lost message is caught by the checksum of
the next one.

Spot and perpetual markets share ids (``BTCUSDT``): ``instType`` tells them apart, and is passed
to the driver as the market type.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from liqcore.exchanges.okx import OkxProtocol

__all__ = ["BitgetProtocol", "CHANNELS"]

#: Bitget's incremental book channel (``books1/5/15`` are whole top-N replacements)
CHANNELS: Mapping[str, int | None] = {"books": None}


class BitgetProtocol(OkxProtocol):
    """Bitget's ``books`` channel; books keyed by ``(instType, instId)`` through the driver."""

    exchange: ClassVar[str] = "bitget"
    channels: ClassVar[Mapping[str, int | None]] = CHANNELS
    checksum_kind: ClassVar[str | None] = "bitget"
    sequence_rule: ClassVar[str] = "bitget"
    seq_field: ClassVar[str] = "seq"

    #: no native frame path for Bitget (its ``seq`` and checksum are not OKX's): every frame is decoded
    native_frames: ClassVar[bool] = False

    def market_type(self, arg: Mapping[str, Any]) -> str | None:
        return str(arg.get("instType", "")).upper() or None

    @staticmethod
    def unsubscribe_ack(msg: Any) -> tuple[str, str] | None:
        """``(instType, instId)`` when ``msg`` acknowledges an unsubscribe of a book channel."""
        if type(msg) is not dict or msg.get("event") != "unsubscribe":
            return None
        arg = msg.get("arg")
        if type(arg) is not dict or arg.get("channel") not in CHANNELS:
            return None
        return (str(arg.get("instType", "")).upper(), str(arg.get("instId")))
