"""liqcore — a market-microstructure engine for crypto markets.

A compiled C core of L2 order books (int64 fixed point, all-or-nothing updates,
sequence-gap and crossed-book detection, exchange checksums, book analytics) with a
Python API. ``import liqcore`` loads only the core; feeds, analytics layers and the
CLI import their dependencies lazily.
"""

from liqcore._analytics import Cluster, LiquidityReport, WalkResult, Wall, liquidity_score
from liqcore._book import ASK, BID, CROSS_POLICIES, SEQUENCE_RULES, OrderBook
from liqcore.errors import (
    ChecksumError,
    ConcurrentUseError,
    CrossedBookError,
    DepthError,
    FormatError,
    InvalidDeltaError,
    LiqError,
    LiqMemoryError,
    RecordingFormatError,
    SequenceGapError,
)

__version__ = "0.1.0"

__all__ = [
    "ASK",
    "BID",
    "CROSS_POLICIES",
    "SEQUENCE_RULES",
    "OrderBook",
    "WalkResult",
    "Wall",
    "Cluster",
    "LiquidityReport",
    "liquidity_score",
    "LiqError",
    "InvalidDeltaError",
    "FormatError",
    "CrossedBookError",
    "ChecksumError",
    "DepthError",
    "SequenceGapError",
    "LiqMemoryError",
    "ConcurrentUseError",
    "RecordingFormatError",
    "__version__",
]
