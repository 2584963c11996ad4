"""Replay recorded feed traffic through the feed layer's handlers and verify the books.

* :func:`replay` (``liqcore replay``): any supported exchange (Binance, OKX, Bitget, Kraken v1)
  from liqcore, hftbacktest or cryptofeed recordings, exchange and format detected, one
  :class:`BookReport` per book (messages applied, gaps, resyncs, checksums and best-bid/ask
  checkpoints verified or failed, final top of book) — :mod:`liqcore.replay.run`, adapters in
  :mod:`liqcore.replay.books`;
* :func:`replay_binance` (the ``liqcore`` main job): one Binance hftbacktest file with the live
  callback — :mod:`liqcore.replay.binance`.
"""

from liqcore.replay.binance import BUNDLED_RECORDING, BinanceReplayer, BinanceReplayReport, replay_binance
from liqcore.replay.books import BookReport
from liqcore.replay.run import ReplayReport, replay, replay_records

__all__ = ["BUNDLED_RECORDING", "BinanceReplayer", "BinanceReplayReport", "BookReport", "ReplayReport", "replay",
           "replay_binance", "replay_records"]
