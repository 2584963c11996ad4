"""What a connection's read loop does with one received websocket message, for the feed benchmarks.

liqcore's adapters read their sockets themselves (liqcore's websocket, ``liqcore.feed.websocket``: its
frame reader hands each text frame's str to ``EngineMixin.liq_on_frame``); stock ccxt.pro's ``Client.receive_loop`` calls ``Client.handle_message``
with aiohttp's message (decode, dispatch, store). A benchmark feeds each library's messages through
:func:`receive_step`, so both sides pay what their own loop pays per message and nothing else.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from aiohttp import WSMsgType

__all__ = ["TextMessage", "receive_step"]


class TextMessage:
    """A text websocket message as aiohttp's ``receive()`` returns it (``type``, ``data``)."""

    __slots__ = ("type", "data")

    def __init__(self, data: str) -> None:
        self.type = WSMsgType.TEXT
        self.data = data


def receive_step(ex: Any, client: Any) -> Callable[[Any], None]:
    """The per-message call of ``ex``'s read loop on ``client`` (a ccxt ``Client``, never connected)."""
    if getattr(ex, "liq_reader", "ccxt") != "ccxt":
        on_frame = functools.partial(ex.liq_on_frame, client)
        return lambda msg: on_frame(msg.data)
    return client.handle_message
