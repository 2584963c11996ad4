"""Instruments the simulator lists, and how their numbers look on the wire.

An :class:`Instrument` is one tradable book of one venue. Venues are named after the ccxt
ids of the APIs they emulate: ``"binance"`` (spot), ``"binanceusdm"`` (USDⓈ-M futures),
``"okx"``, ``"bybit"`` (spot), ``"bybitlinear"`` (Bybit USDT perpetuals, category ``linear``;
ccxt's ``bybit`` reaches it through the ``linear`` URLs and ``category=linear``), ``"kraken"``
(spot), ``"coinbase"`` (Advanced Trade spot), ``"bitget"`` (spot) and ``"bitgetswap"`` (Bitget USDT-M
perpetuals, productType ``USDT-FUTURES``; ccxt's ``bitget``, on the same websocket as spot) and
``"bitfinex"`` (spot, ids ``tBTCUSD``).
Price and size strings are formatted as each venue does: Binance spot pads to 8 decimals
(``"61737.63000000"``), Binance USDⓈ-M pads to the contract's price/quantity precision
(``"61737.60"``, ``"0.012"``), OKX and Coinbase send the shortest form (``"61737.6"``),
Bybit and Bitget pad to the tick and base precision (``"61737.60"``, ``"0.001200"``), Kraken sends
JSON numbers with the pair's price and quantity precision (``61737.6``, ``0.00120000``), Bitfinex
JSON numbers as JavaScript writes them (``61737``, ``0.0012``, ``1e-7``: the protocol renders the
shortest form).

Kraken lists pairs under its own asset codes (``extra``: ``altname`` ``XBTUSD``, ``wsname``
``XBT/USD``, ``base_id`` ``XXBT``, ``quote_id`` ``ZUSD``); its websocket v2 and ccxt use
``BTC/USD``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["Instrument", "VENUES", "default_instruments", "okx_recording_instruments"]

VENUES = ("binance", "binanceusdm", "okx", "bybit", "bybitlinear", "kraken", "coinbase", "bitget", "bitgetswap",
          "bitfinex")


@dataclass(frozen=True)
class Instrument:
    """One book of one venue.

    Attributes
    ----------
    venue : str
        One of :data:`VENUES` (``"binance"``, ``"binanceusdm"``, ``"okx"``, ``"bybit"``...).
    id : str
        The exchange's own id (``BTCUSDT``, ``BTC-USDT``, ``UNI-USD-SWAP``).
    base, quote : str
        Currency codes.
    tick_size, lot_size : str
        Price and size grids as the exchange lists them.
    start_price : str
        Mid price the synthetic process starts from.
    kind : str
        ``"spot"``, ``"swap"`` (perpetual) or ``"future"`` (dated).
    settle : str | None
        Settlement currency of a contract (its quote for linear, its base for inverse).
    contract_size : str
        Contract value (OKX ``ctVal``; 1 for Binance linear contracts).
    expiry_ms : int | None
        Delivery time of a dated future (ms since epoch).
    wire_decimals : tuple[int, int] | None
        Fixed (price, size) decimals on the wire; None = shortest form (OKX).
    """

    venue: str
    id: str
    base: str
    quote: str
    tick_size: str
    lot_size: str
    start_price: str = "60000"
    kind: str = "spot"
    settle: str | None = None
    contract_size: str = "1"
    expiry_ms: int | None = None
    wire_decimals: tuple[int, int] | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def tick(self) -> Decimal:
        return Decimal(self.tick_size)

    @property
    def lot(self) -> Decimal:
        return Decimal(self.lot_size)

    @property
    def price_decimals(self) -> int:
        return _decimals(self.tick_size)

    @property
    def size_decimals(self) -> int:
        return _decimals(self.lot_size)

    def price_text(self, price: Decimal) -> str:
        """``price`` as this venue writes it."""
        return _text(price, None if self.wire_decimals is None else self.wire_decimals[0])

    def size_text(self, size: Decimal) -> str:
        """``size`` as this venue writes it (zero included: ``"0.00000000"`` / ``"0"``)."""
        return _text(size, None if self.wire_decimals is None else self.wire_decimals[1])


def _decimals(text: str) -> int:
    d = Decimal(text).normalize()
    return max(0, -d.as_tuple().exponent)  # type: ignore[operator]


def _text(value: Decimal, decimals: int | None) -> str:
    if decimals is not None:
        return f"{value:.{decimals}f}"
    if value == 0:
        return "0"
    s = f"{value.normalize():f}"
    return s


def default_instruments() -> list[Instrument]:
    """The instruments a synthetic simulator lists unless told otherwise."""
    return [
        Instrument("binance", "BTCUSDT", "BTC", "USDT", "0.01", "0.00001", "60000", wire_decimals=(8, 8)),
        Instrument("binance", "ETHUSDT", "ETH", "USDT", "0.01", "0.0001", "3000", wire_decimals=(8, 8)),
        Instrument("binanceusdm", "BTCUSDT", "BTC", "USDT", "0.10", "0.001", "60000", kind="swap",
                   settle="USDT", wire_decimals=(2, 3)),
        Instrument("binanceusdm", "ETHUSDT", "ETH", "USDT", "0.01", "0.001", "3000", kind="swap",
                   settle="USDT", wire_decimals=(2, 3)),
        Instrument("okx", "BTC-USDT", "BTC", "USDT", "0.1", "0.00000001", "60000"),
        Instrument("okx", "ETH-USDT", "ETH", "USDT", "0.01", "0.000001", "3000"),
        Instrument("okx", "BTC-USDT-SWAP", "BTC", "USDT", "0.1", "0.01", "60000", kind="swap", settle="USDT",
                   contract_size="0.01"),
        Instrument("bybit", "BTCUSDT", "BTC", "USDT", "0.01", "0.000001", "60000", wire_decimals=(2, 6)),
        Instrument("bybit", "ETHUSDT", "ETH", "USDT", "0.01", "0.00001", "3000", wire_decimals=(2, 5)),
        Instrument("bybitlinear", "BTCUSDT", "BTC", "USDT", "0.10", "0.001", "60000", kind="swap", settle="USDT",
                   wire_decimals=(2, 3)),
        Instrument("kraken", "XXBTZUSD", "BTC", "USD", "0.1", "0.00000001", "60000", wire_decimals=(1, 8),
                   extra={"altname": "XBTUSD", "wsname": "XBT/USD", "base_id": "XXBT", "quote_id": "ZUSD"}),
        Instrument("kraken", "XETHZUSD", "ETH", "USD", "0.01", "0.00000001", "3000", wire_decimals=(2, 8),
                   extra={"altname": "ETHUSD", "wsname": "ETH/USD", "base_id": "XETH", "quote_id": "ZUSD"}),
        Instrument("coinbase", "BTC-USD", "BTC", "USD", "0.01", "0.00000001", "60000"),
        Instrument("coinbase", "ETH-USD", "ETH", "USD", "0.01", "0.00000001", "3000"),
        Instrument("bitget", "BTCUSDT", "BTC", "USDT", "0.01", "0.000001", "60000", wire_decimals=(2, 6)),
        Instrument("bitget", "ETHUSDT", "ETH", "USDT", "0.01", "0.0001", "3000", wire_decimals=(2, 4)),
        Instrument("bitgetswap", "BTCUSDT", "BTC", "USDT", "0.1", "0.001", "60000", kind="swap", settle="USDT",
                   wire_decimals=(1, 3)),
        # Bitfinex prices have 5 significant digits (tick 1 at 60000), amounts 8 decimals
        Instrument("bitfinex", "tBTCUSD", "BTC", "USD", "1", "0.00000001", "60000"),
        Instrument("bitfinex", "tETHUSD", "ETH", "USD", "0.1", "0.00000001", "3000"),
    ]


def okx_recording_instruments() -> list[Instrument]:
    """The three OKX instruments of ``tests/data/cryptofeed/OKX.ws.1.0`` (May 2022)."""
    return [
        Instrument("okx", "BTC-USDT", "BTC", "USDT", "0.1", "0.00000001", "30000"),
        Instrument("okx", "UNI-USD-SWAP", "UNI", "USD", "0.001", "1", "5", kind="swap", settle="UNI",
                   contract_size="10"),
        Instrument("okx", "BTC-USD-220527", "BTC", "USD", "0.1", "1", "30000", kind="future", settle="BTC",
                   contract_size="100", expiry_ms=1653638400000),
    ]
