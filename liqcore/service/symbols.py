"""One instrument spelling across venues.

Venues spell the same market differently: Binance lists bitcoin against Tether (``BTC/USDT``),
Coinbase, Kraken and Bitfinex against the dollar (``BTC/USD``), and perpetual swaps carry their
settlement currency (``BTC/USDT:USDT``, ccxt's unified form). The service takes one spelling,
the *instrument*, and maps it to each venue's ccxt symbol with :func:`venue_symbol`:

* ``BASE/QUOTE`` is a spot market. Quotes of the **USD family** (``USD``, ``USDT``, ``USDC``,
  ``FDUSD``) are treated as the same instrument, written ``BASE/USD``: each venue serves it in
  the USD-family quote it lists (:data:`USD_QUOTE` of the venue: ``USDT`` on Binance, OKX,
  Bybit, Bitget; ``USD`` on Coinbase, Kraken, Bitfinex). So ``BTC/USDT``, ``BTC/USD`` and
  ``BTC/USDC`` all name ``BTC/USD``, and the default trio ``binance, coinbase, kraken`` compares
  one instrument. The stablecoin basis (USDT vs USD, usually a few basis points) then shows in
  the comparison's spreads and arbitrage: it is a real price difference, not an error.
* ``BASE/QUOTE:SETTLE`` is a **perpetual swap** settled in ``SETTLE`` and is a *different*
  instrument from the spot market (funding, basis). A USD-family linear perpetual is written
  ``BASE/USD:USD`` and served by the venues in :data:`PERP_QUOTE` (``BTC/USDT:USDT`` on
  Binance USDⓈ-M, OKX, Bybit, Bitget). Inverse perpetuals (settled in the base) are passed
  through as spelled.
* A USD-family base keeps its quote as spelled (``USDC/USDT`` is a market of its own).
* Every other quote stays itself: ``ETH/BTC`` is ``ETH/BTC`` everywhere, ``BTC/EUR`` is not
  ``BTC/USD``.

Whether a venue actually lists the resulting symbol is known only from its markets (the hub
checks when it subscribes). Bad input raises :class:`liqcore.errors.FeedConfigError` (also a
ValueError) naming what is wrong. Everything here is O(1) and pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from liqcore.errors import FeedConfigError

__all__ = ["USD_FAMILY", "USD_QUOTE", "PERP_QUOTE", "VENUES", "Instrument", "parse_instrument", "venue_symbol",
           "check_venue"]

#: quote currencies treated as one (the US dollar and its stablecoins), spelled ``USD``
USD_FAMILY = frozenset({"USD", "USDT", "USDC", "FDUSD"})
#: the USD-family quote of each venue's spot markets (ccxt ids; ``binanceusdm`` has no spot)
USD_QUOTE = {"binance": "USDT", "okx": "USDT", "bybit": "USDT", "bitget": "USDT",
             "coinbase": "USD", "kraken": "USD", "bitfinex": "USD"}
#: the USD-family settlement of each venue's linear perpetuals (``BTC/USDT:USDT``)
PERP_QUOTE = {"binanceusdm": "USDT", "okx": "USDT", "bybit": "USDT", "bitget": "USDT"}
#: every venue this module can map (ccxt ids), in a stable order
VENUES = ("binance", "binanceusdm", "okx", "bybit", "bitget", "coinbase", "kraken", "bitfinex")

_CODE = re.compile(r"^[A-Z0-9]{1,20}$")


@dataclass(frozen=True, slots=True)
class Instrument:
    """One instrument: ``base``, ``quote`` (``USD`` for the USD family) and ``settle`` (None for
    spot, the settlement currency of a perpetual; ``USD`` for the USD family)."""

    base: str
    quote: str
    settle: str | None = None

    @property
    def perpetual(self) -> bool:
        return self.settle is not None

    def __str__(self) -> str:
        return f"{self.base}/{self.quote}" + (f":{self.settle}" if self.settle else "")


def _family(code: str) -> str:
    return "USD" if code in USD_FAMILY else code


def parse_instrument(text: str) -> Instrument:
    """``"btc/usdt"`` -> ``Instrument("BTC", "USD")``; ``"BTC/USDT:USDT"`` -> ``Instrument("BTC",
    "USD", "USD")``; ``"ETH/BTC"`` -> itself. Case-insensitive; ``BTC-USDT`` is accepted too.
    FeedConfigError when it is not ``BASE/QUOTE`` or ``BASE/QUOTE:SETTLE`` of currency codes."""
    if not isinstance(text, str):
        raise FeedConfigError(f"a symbol must be a string like BTC/USDT, got {type(text).__name__}")
    s = text.strip().upper()
    pair, _, settle = s.partition(":")
    base, sep, quote = pair.partition("/")
    if not sep:
        base, sep, quote = pair.partition("-")
    if not sep or not _CODE.match(base) or not _CODE.match(quote) or (settle and not _CODE.match(settle)) \
            or (":" in s and not settle):
        raise FeedConfigError(f"{text!r} is not a symbol: expected BASE/QUOTE (spot, e.g. BTC/USDT) or "
                              f"BASE/QUOTE:SETTLE (perpetual, e.g. BTC/USDT:USDT)")
    if base == quote:
        raise FeedConfigError(f"{text!r} is not a symbol: base and quote are the same currency")
    if base in USD_FAMILY:       # USDC/USDT is a market of its own: its quote is not renamed
        return Instrument(base, quote, settle or None)
    return Instrument(base, _family(quote), _family(settle) if settle else None)


def check_venue(venue: str, venues: tuple[str, ...] | frozenset[str] = VENUES) -> str:
    """``venue`` lower-cased if it is one of ``venues``, else FeedConfigError listing them."""
    v = venue.strip().lower() if isinstance(venue, str) else venue
    if v not in venues:
        raise FeedConfigError(f"unknown exchange {venue!r}; one of {', '.join(venues)}")
    return v


def venue_symbol(venue: str, instrument: Instrument | str) -> str:
    """The ccxt unified symbol under which ``venue`` lists ``instrument`` (see the module
    docstring): ``("binance", "BTC/USD")`` -> ``"BTC/USDT"``, ``("kraken", "BTC/USDT")`` ->
    ``"BTC/USD"``, ``("okx", "BTC/USD:USD")`` -> ``"BTC/USDT:USDT"``. FeedConfigError for an
    unknown venue, a spot instrument on a perpetuals-only venue, or a USD-family perpetual on a
    venue without linear USD perpetuals."""
    v = check_venue(venue)
    inst = parse_instrument(instrument) if isinstance(instrument, str) else instrument
    if inst.settle is None:
        if inst.quote != "USD":
            if v not in USD_QUOTE:
                raise FeedConfigError(f"{v} lists perpetuals only; ask for {inst.base}/USD:USD")
            return f"{inst.base}/{inst.quote}"
        quote = USD_QUOTE.get(v)
        if quote is None:
            raise FeedConfigError(f"{v} lists perpetuals only; ask for {inst.base}/USD:USD "
                                  f"(written {inst.base}/USDT:USDT too)")
        return f"{inst.base}/{quote}"
    if inst.quote == "USD" and inst.settle == "USD":
        quote = PERP_QUOTE.get(v)
        if quote is None:
            raise FeedConfigError(f"{v} has no USD-family linear perpetual of {inst.base}; "
                                  f"one of {', '.join(PERP_QUOTE)} has")
        return f"{inst.base}/{quote}:{quote}"
    # inverse or other-currency perpetuals: as spelled (USD family written USD)
    return f"{inst.base}/{inst.quote}:{inst.settle}"
