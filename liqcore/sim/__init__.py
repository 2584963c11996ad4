"""A local exchange simulator for tests and demos of feed handlers.

An aiohttp server bound to 127.0.0.1 that speaks the REST and websocket protocols ccxt.pro
uses for order books — Binance spot, Binance USDⓈ-M, OKX, Bybit, Kraken, Coinbase, Bitget and
Bitfinex — driven by a deterministic
synthetic book process or by replaying a real recording, with per-connection fault
injection (gaps, duplicates, reordering, bad checksums, malformed frames, disconnects,
slow consumers). The simulator always knows the exchange's true book
(:meth:`ExchangeSimulator.true_book`). See ``docs/simulator.md``.

Needs the ``sim`` extra (``aiohttp``).
"""

from liqcore.sim.checksum import bitfinex_checksum, js_number, kraken_checksum, okx_checksum
from liqcore.sim.faults import FaultPlan
from liqcore.sim.instruments import Instrument, default_instruments, okx_recording_instruments
from liqcore.sim.market import Market, Update
from liqcore.sim.server import ExchangeSimulator
from liqcore.sim.sources import (BUNDLED_BINANCE_RECORDING, BinanceRecording, BitgetRecording, BookEvent,
                                 KrakenRecording, OkxRecording, SyntheticBook, bitget_recording_markets,
                                 kraken_recording_markets)
from liqcore.sim.true_book import TrueBook
from liqcore.sim.urls import loopback_url, loopback_urls

__all__ = [
    "ExchangeSimulator", "FaultPlan", "Instrument", "default_instruments", "okx_recording_instruments",
    "Market", "Update", "BookEvent", "SyntheticBook", "BinanceRecording", "OkxRecording",
    "KrakenRecording", "kraken_recording_markets", "BitgetRecording", "bitget_recording_markets",
    "BUNDLED_BINANCE_RECORDING", "TrueBook", "okx_checksum", "kraken_checksum",
    "bitfinex_checksum", "js_number", "loopback_url", "loopback_urls",
]
