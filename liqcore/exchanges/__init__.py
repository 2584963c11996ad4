"""One sans-I/O protocol per venue: what its order-book messages mean.

A protocol (:class:`~liqcore.exchanges.protocol.BookProtocol`) holds a venue's book channels,
routing, sequence rule, checksum and snapshot procedure, with no I/O and no ccxt import. The
live ccxt.pro adapters (:mod:`liqcore.feed`) and the replays (:mod:`liqcore.replay`) drive the
same protocol objects through a :class:`~liqcore.exchanges.protocol.BookDriver`, so a replay of a
real recording runs the live code path. ``docs/architecture.md`` lists the steps of adding a
venue.

Venues with a protocol here: Binance spot, USDⓈ-M and COIN-M (:mod:`~liqcore.exchanges.binance`), OKX
(:mod:`~liqcore.exchanges.okx`), Bitget
(:mod:`~liqcore.exchanges.bitget`), Kraken v2 and v1 (:mod:`~liqcore.exchanges.kraken`), Bybit
(:mod:`~liqcore.exchanges.bybit`), Coinbase (:mod:`~liqcore.exchanges.coinbase`), Bitfinex
(:mod:`~liqcore.exchanges.bitfinex`).
"""

from __future__ import annotations

import importlib

__all__ = ["PROTOCOLS", "protocol_class"]

#: ccxt id -> "module:Class" of the protocol its live feed speaks (imported on first use)
PROTOCOLS = {
    "binance": "liqcore.exchanges.binance:BinanceProtocol",
    "binanceusdm": "liqcore.exchanges.binance:BinanceUsdmProtocol",
    "binancecoinm": "liqcore.exchanges.binance:BinanceCoinmProtocol",
    "okx": "liqcore.exchanges.okx:OkxProtocol",
    "bitget": "liqcore.exchanges.bitget:BitgetProtocol",
    "kraken": "liqcore.exchanges.kraken:KrakenProtocol",
    "bybit": "liqcore.exchanges.bybit:BybitProtocol",
    "coinbase": "liqcore.exchanges.coinbase:CoinbaseProtocol",
    "bitfinex": "liqcore.exchanges.bitfinex:BitfinexProtocol",
}


def protocol_class(exchange_id: str) -> type:
    """The protocol class of ``exchange_id`` (KeyError when liqcore has none for it)."""
    module, name = PROTOCOLS[exchange_id].split(":")
    return getattr(importlib.import_module(module), name)
