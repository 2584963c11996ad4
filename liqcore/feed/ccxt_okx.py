"""OKX through ccxt.pro, books in the compiled core, checksums verified in C.

Channels ``books`` (400 levels), ``books-l2-tbt``, ``books50-l2-tbt`` and ``books-rpi`` go to the
engine; ``books5``/``bbo-tbt`` (full top-N replacements) stay with ccxt. A snapshot (sent by OKX
over the websocket after each subscribe) loads the book at its ``seqId``; updates are applied
under the book's ``okx`` rule (``prevSeqId`` continuity, heartbeat ``seqId == prevSeqId``,
reset ``seqId < prevSeqId``) and then OKX's CRC32 of the top 25 levels is recomputed in C from
the book's wire strings and compared — ccxt 4.5 ignores it. A checksum of 0 means "none" (OKX
deprecates it from June 2026) and is counted as absent. A gap or mismatch marks the book stale and
sets ccxt's subscription to ``"resync"``: the next ``watch_order_book`` sends unsubscribe +
subscribe and OKX answers with a fresh snapshot.

Fast path (``liq_fast_path``, the default): ``update`` frames go as text to
:func:`liqcore._frames.apply_okx_books` — no JSON decode, no Python object per level; the
sequence rule and the checksum run in C — with the same counters and reactions as the Python
path (:meth:`OkxEngine.liq_on_books`, used for snapshots, which are rare, and for anything the
fast path declines).
"""

from __future__ import annotations

from typing import Any

import ccxt.pro

from liqcore._frames import apply_okx_books
from liqcore.errors import ChecksumError, FormatError, InvalidDeltaError
from liqcore.feed.ccxt_binance import _text_field
from liqcore.feed.engine import _MALFORMED, EngineMixin, ShellOrderBook, decode_frame
from liqcore.feed.live_book import LiveBook

__all__ = ["OkxEngine", "okx_frame_handler", "ENGINE_CHANNELS"]

#: OKX incremental book channels handled by the engine, and their depth
ENGINE_CHANNELS = {"books": 400, "books-l2-tbt": 400, "books50-l2-tbt": 50, "books-rpi": 400}


def okx_frame_handler(exchange: Any, client: Any, data: str) -> None:
    """Fast dispatch: incremental book frames to the engine — updates as text to the C parser on
    the fast path — the rest (``pong``, events, other channels) to ccxt's ``handle_message``."""
    if exchange.liq_fast_path and '"action":"update"' in data and exchange.liq_on_books_text(client, data):
        return
    msg = decode_frame(exchange, client, data)
    if msg is _MALFORMED:
        return
    if type(msg) is dict and "action" in msg:
        arg = msg.get("arg")
        if type(arg) is dict and arg.get("channel") in ENGINE_CHANNELS:
            exchange.liq_on_books(client, msg)
            return
    exchange.handle_message(client, msg)


def verify_checksum(live: LiveBook, kind: str, expected: Any) -> None:
    """Count one exchange checksum: ok, absent (None or OKX's 0), or raise ChecksumError."""
    st = live.stats
    if expected is None or (kind == "okx" and expected == 0):
        st.checksum_absent += 1
        return
    if live.book.verify_checksum(kind, expected):   # raises ChecksumError on a mismatch
        st.checksum_ok += 1
    else:
        st.checksum_absent += 1


class OkxEngine(EngineMixin, ccxt.pro.okx):
    """ccxt.pro ``okx`` with books in the compiled core and OKX's checksum verified."""

    default_frame_handler = staticmethod(okx_frame_handler)
    checksum_kind = "okx"

    def liq_sequence_rule(self, market: dict) -> str:
        return "okx"

    def handle_order_book(self, client: Any, message: dict) -> Any:
        arg = message.get("arg") or {}
        if arg.get("channel") in ENGINE_CHANNELS:
            return self.liq_on_books(client, message)
        return super().handle_order_book(client, message)

    def liq_on_books(self, client: Any, message: dict) -> None:
        """One ``books`` message (snapshot or update; ``data`` holds one entry per instrument
        message). O(levels in the message) + O(25) for the checksum."""
        arg = message["arg"]
        channel = arg["channel"]
        symbol = self.liq_symbol(client, arg["instId"])
        live = self.liq_book(symbol)
        h = channel + ":" + symbol
        action = message.get("action")
        for d in message.get("data", ()):
            try:
                seq = d.get("seqId")
                shell: ShellOrderBook | None
                if action == "snapshot":
                    live.message_hash = h
                    live.client_url = client.url
                    live.book.sequence = None if seq is None else "okx"
                    live.load_snapshot(d.get("bids", ()), d.get("asks", ()), seq)
                    shell = self.liq_shell(symbol, live, ENGINE_CHANNELS[channel])
                else:
                    shell = self.liq_delta_shell(symbol, live)
                    if shell is None:
                        continue
                    if not live.apply(d.get("bids", ()), d.get("asks", ()), seq, None, d.get("prevSeqId")):
                        continue                          # duplicate / older: nothing changed
                verify_checksum(live, self.checksum_kind, d.get("checksum"))
                shell["nonce"] = seq
                shell["timestamp"] = d.get("ts")
                live.publish(self.liq_recv_ns)
                if h in client.futures:
                    client.resolve(shell, h)
            except Exception as exc:      # gap, checksum, bad levels: resync this book
                self.liq_fail(client, live, exc)
                break

    def liq_on_books_text(self, client: Any, data: str) -> bool:
        """The fast path: one ``update`` frame's text parsed in C straight into the book of its
        ``instId`` (sequence rule, then OKX's checksum, both in C). Returns False when the frame
        must take the Python path (another channel, an unknown book, several ``data`` entries, a
        frame the C parser refuses as malformed, more decimals than the book's scale)."""
        channel = _text_field(data, '"channel":"')
        if channel not in ENGINE_CHANNELS:
            return False
        inst_id = _text_field(data, '"instId":"')
        if inst_id is None:
            return False
        symbol = self.liq_symbol(client, inst_id)
        live = self.liq_books.get(symbol)
        if live is None:
            return False
        st = live.stats
        shell = self.orderbooks.get(symbol)
        if live.state != "live" or shell is None:
            st.messages += 1
            st.stale_skipped += 1                 # in flight before the resync's snapshot
            return True
        try:
            res = apply_okx_books(live.book, data)
        except (FormatError, InvalidDeltaError):
            return False                          # the Python path decides (widens, or fails the book)
        except ChecksumError as exc:              # applied, then the checksum differed: resync
            st.messages += 1
            st.applied += 1
            self.liq_fail(client, live, exc)
            return True
        except Exception as exc:                  # gap, crossed, depth: resync this book
            st.messages += 1
            self.liq_fail(client, live, exc)
            return True
        if res.kind != "update" or res.symbol != inst_id:
            return False
        self.liq_fast_frames += 1
        st.messages += 1
        if not res.applied:
            st.stale_skipped += 1                 # duplicate / older: nothing changed
            return True
        st.applied += 1
        if res.checksum_ok:
            st.checksum_ok += 1
        else:
            st.checksum_absent += 1               # absent or OKX's 0
        shell["nonce"] = res.last_id
        shell["timestamp"] = res.event_ms if res.event_ms is not None else res.txn_ms
        live.publish(self.liq_recv_ns)
        h = channel + ":" + symbol
        if h in client.futures:
            client.resolve(shell, h)
        return True

    def liq_hash_symbol(self, message_hash: str) -> str | None:
        channel, sep, symbol = message_hash.partition(":")
        return symbol if sep and channel in ENGINE_CHANNELS else None

    def liq_narrow_subscribe(self, message: Any, subscription: Any, symbols: set[str]) -> tuple[Any, Any]:
        # OKX answers a repeated subscribe with a new snapshot: only the books being resynced
        if not isinstance(message, dict) or message.get("op") != "subscribe":
            return message, subscription
        ids = {self.market(s)["id"] for s in symbols}
        return dict(message, args=[a for a in message.get("args", ()) if a.get("instId") in ids]), subscription

    def liq_drop_subscription(self, client: Any, live: LiveBook) -> None:
        # ccxt's own OKX resync path: 'resync' makes watch_order_book send unsubscribe + subscribe
        if live.message_hash is not None:
            client.subscriptions[live.message_hash] = "resync"
        self.orderbooks.pop(live.symbol, None)


