"""Request and response models of the service (pydantic v2): what the HTTP API, the websocket
and the agent tools take and return. Every field's description states its unit, so the OpenAPI
schema (and an agent's JSON schema: ``Model.model_json_schema()``) shows it.

Conventions: prices in the quote currency per unit of base; sizes and amounts in base units
unless named ``*_quote``; percentages are percent (0.01 = one basis point); times are Unix
milliseconds (``*_ms``), or nanoseconds where the store keeps them (``*_ns``). A number the book
cannot give (an empty side) is null, never NaN. Requests reject unknown fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_EXCHANGES", "CompareRequest", "VenueRow", "ArbitrageRoute", "CompareResponse", "ImpactRequest",
           "ImpactResponse", "Level", "BookSnapshot", "LiquidityReportResponse", "WallModel", "ClusterModel",
           "WallsResponse", "PairStateModel", "VenuesResponse", "RiskRequest", "RiskResponse", "HistoryResponse",
           "AlertsResponse", "HealthResponse", "MetricsResponse", "ErrorResponse"]

#: the venues compared when a request names none
DEFAULT_EXCHANGES = ("binance", "coinbase", "kraken")

_EXCHANGE = "Venue, a ccxt id: binance, binanceusdm, okx, bybit, bitget, coinbase, kraken, bitfinex"
_SYMBOL = ("Instrument, one spelling for every venue: BASE/QUOTE for spot (USD, USDT, USDC, FDUSD quotes are one "
           "instrument, BTC/USD), BASE/QUOTE:SETTLE for a perpetual (BTC/USDT:USDT)")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorResponse(_Response):
    """The body of every 4xx/5xx answer."""

    error: str = Field(description="Error class: bad_request, not_found, unavailable, unauthorized, too_large, "
                                   "rate_limited, validation")
    detail: str = Field(description="What is wrong, one line")


# ------------------------------------------------------------------ compare-exchanges
class CompareRequest(_Request):
    """Compare one instrument across venues (``POST /api/v1/compare-exchanges``)."""

    symbol: str = Field(min_length=3, max_length=40, description=_SYMBOL, examples=["BTC/USDT"])
    exchanges: list[str] = Field(default=list(DEFAULT_EXCHANGES), min_length=1, max_length=8,
                                 description="Venues to compare (ccxt ids), at most 8")
    levels: int = Field(default=20, ge=1, le=1000, description="Book levels per side summed into bid/ask volume "
                                                              "(count)")


class VenueRow(_Response):
    """One venue's book in a comparison."""

    exchange: str = Field(description=_EXCHANGE)
    symbol: str = Field(description="The venue's own ccxt symbol of the instrument (e.g. BTC/USDT on binance)")
    state: str = Field(description="Book state: live, stale, syncing or failed")
    best_bid: float | None = Field(description="Best bid price (quote per base)")
    best_bid_size: float | None = Field(description="Size at the best bid (base)")
    best_ask: float | None = Field(description="Best ask price (quote per base)")
    best_ask_size: float | None = Field(description="Size at the best ask (base)")
    mid_price: float | None = Field(description="(best bid + best ask) / 2 (quote per base)")
    spread: float | None = Field(description="best ask - best bid (quote per base)")
    spread_pct: float | None = Field(description="Spread in percent of the mid (%)")
    bid_volume: float = Field(description="Sum of the sizes of the top `levels` bids (base)")
    ask_volume: float = Field(description="Sum of the sizes of the top `levels` asks (base)")
    taker_fee: float | None = Field(description="The venue's taker fee from its markets metadata (fraction, "
                                                "0.001 = 0.1%), null when unknown")


class ArbitrageRoute(_Response):
    """The best cross-venue route: buy at one venue's ask, sell at another's bid."""

    route: str = Field(description="'buy <venue> @ <price> -> sell <venue> @ <price>'")
    buy_exchange: str = Field(description="Venue to buy on (its best ask)")
    sell_exchange: str = Field(description="Venue to sell on (its best bid)")
    buy_price: float = Field(description="Best ask of the buy venue (quote per base)")
    sell_price: float = Field(description="Best bid of the sell venue (quote per base)")
    profit_pct: float = Field(description="Top-of-book return before fees, percent of the buy cost (%)")
    net_profit_pct: float = Field(description="Top-of-book return after both taker fees, percent of the cost (%)")
    quantity: float = Field(description="Base amount that stays profitable after fees walking both books (base)")
    profit: float = Field(description="Quote earned on that quantity after fees (quote)")
    profitable: bool = Field(description="True when net_profit_pct > 0")


class CompareResponse(_Response):
    """The comparison of one instrument across venues."""

    symbol: str = Field(description="The instrument, canonical spelling (e.g. BTC/USD)")
    exchanges_compared: int = Field(description="Venues asked for (count)")
    successful_fetches: int = Field(description="Venues with a live book that were compared (count)")
    venues: list[VenueRow] = Field(description="One row per compared venue, sorted by venue")
    failures: dict[str, str] = Field(description="Venue -> why it was not compared (one line)")
    best_bid_exchange: str | None = Field(description="Venue with the highest bid")
    best_bid: float | None = Field(description="Highest bid across venues (quote per base)")
    best_ask_exchange: str | None = Field(description="Venue with the lowest ask")
    best_ask: float | None = Field(description="Lowest ask across venues (quote per base)")
    tightest_spread_exchange: str | None = Field(description="Venue with the smallest spread in %")
    average_spread_pct: float | None = Field(description="Mean of the venues' spreads (%)")
    arbitrage: ArbitrageRoute | None = Field(description="Best route over every ordered pair of venues (also when "
                                                         "not profitable); null with fewer than two venues")
    timestamp_ms: int = Field(description="When the comparison was made (Unix ms)")


# ------------------------------------------------------------------ market-impact
class ImpactRequest(_Request):
    """A market order walked through one venue's book (``POST /api/v1/market-impact``)."""

    exchange: str = Field(min_length=2, max_length=20, description=_EXCHANGE, examples=["binance"])
    symbol: str = Field(min_length=3, max_length=40, description=_SYMBOL, examples=["BTC/USDT"])
    side: Literal["buy", "sell"] = Field(description="buy takes the asks, sell the bids")
    amount: float = Field(gt=0, le=1e15, allow_inf_nan=False,
                          description="Order size, in base or in quote as amount_in says")
    amount_in: Literal["base", "quote"] = Field(default="base", description="Unit of amount: base currency, or quote "
                                                                          "currency to spend (buy) / receive (sell)")


class ImpactResponse(_Response):
    """What a market order would cost on the visible book (no fees, no hidden liquidity)."""

    exchange: str = Field(description=_EXCHANGE)
    symbol: str = Field(description="The instrument, canonical spelling")
    venue_symbol: str = Field(description="The venue's own ccxt symbol")
    state: str = Field(description="Book state: live, stale, syncing or failed")
    side: Literal["buy", "sell"] = Field(description="buy takes the asks, sell the bids")
    amount: float = Field(description="The requested size (unit: amount_in)")
    amount_in: Literal["base", "quote"] = Field(description="Unit of amount")
    best_price: float | None = Field(description="Best price on the side taken (quote per base)")
    average_price: float | None = Field(description="Volume-weighted execution price (quote per base)")
    worst_price: float | None = Field(description="Price of the last level touched (quote per base)")
    mid_price: float | None = Field(description="Mid before the order (quote per base)")
    slippage_pct: float | None = Field(description="Average price vs best price, adverse positive (%)")
    slippage_mid_pct: float | None = Field(description="Average price vs mid, adverse positive (%)")
    levels_consumed: int = Field(description="Price levels touched, the last possibly partially (count)")
    total_base_amount: float = Field(description="Base filled (base)")
    total_quote_amount: float = Field(description="Quote spent (buy) or received (sell) (quote)")
    unfilled: float = Field(description="What the book could not fill (unit: amount_in)")
    sufficient_liquidity: bool = Field(description="True when the visible book fills the whole amount")
    timestamp_ms: int = Field(description="When the book was read (Unix ms)")


# ------------------------------------------------------------------ book, liquidity, walls
class Level(_Response):
    price: float = Field(description="Price (quote per base)")
    size: float = Field(description="Size at the price (base)")


class BookSnapshot(_Response):
    """The top of one book (``GET /api/v1/book``)."""

    exchange: str = Field(description=_EXCHANGE)
    symbol: str = Field(description="The instrument, canonical spelling")
    venue_symbol: str = Field(description="The venue's own ccxt symbol")
    state: str = Field(description="Book state: live, stale, syncing or failed")
    update_id: int | None = Field(description="The book's last update id (the venue's sequence), null if none")
    bids: list[Level] = Field(description="Best bids, best first")
    asks: list[Level] = Field(description="Best asks, best first")
    timestamp_ms: int = Field(description="When the book was read (Unix ms)")


class WallModel(_Response):
    side: str = Field(description="bid or ask")
    price: float = Field(description="Price (quote per base)")
    size: float = Field(description="Size (base)")
    notional: float = Field(description="price x size (quote)")
    strength: float = Field(description="Size over the local baseline (ratio)")
    z: float | None = Field(description="Robust z-score of the size (dimensionless)")
    confidence: float = Field(description="Confidence that it is a wall, 0-1")
    distance_bps: float = Field(description="Distance from the mid (basis points)")


class ClusterModel(_Response):
    side: str = Field(description="bid or ask")
    price_best: float = Field(description="Cluster price nearest the touch (quote per base)")
    price_worst: float = Field(description="Cluster price farthest from the touch (quote per base)")
    size: float = Field(description="Total size (base)")
    notional: float = Field(description="Total notional (quote)")
    vwap: float = Field(description="Size-weighted price (quote per base)")
    span_bps: float = Field(description="Width of the cluster (basis points)")
    share: float = Field(description="Share of the side's size within the band (fraction 0-1)")
    levels: int = Field(description="Levels in the cluster (count)")


class WallsResponse(_Response):
    """Liquidity walls and order clusters within a band of the mid (``GET /api/v1/walls``)."""

    exchange: str = Field(description=_EXCHANGE)
    symbol: str = Field(description="The instrument, canonical spelling")
    state: str = Field(description="Book state")
    band_bps: float = Field(description="Half-width of the band searched around the mid (basis points)")
    walls: list[WallModel] = Field(description="Walls, strongest first")
    clusters: list[ClusterModel] = Field(description="Clusters, largest first")
    timestamp_ms: int = Field(description="When the book was read (Unix ms)")


class LiquidityReportResponse(_Response):
    """The liquidity report of one book (``GET /api/v1/liquidity``; OrderBook.liquidity_report)."""

    exchange: str = Field(description=_EXCHANGE)
    symbol: str = Field(description="The instrument, canonical spelling")
    state: str = Field(description="Book state")
    levels: int = Field(description="Levels per side the volumes and imbalance use (count)")
    best_bid: float | None = Field(description="Best bid (quote per base)")
    best_ask: float | None = Field(description="Best ask (quote per base)")
    mid: float | None = Field(description="Mid price (quote per base)")
    spread_bps: float | None = Field(description="Spread (basis points of the mid)")
    spread_pct: float | None = Field(description="Spread (% of the mid)")
    bid_volume: float | None = Field(description="Size of the top `levels` bids (base)")
    ask_volume: float | None = Field(description="Size of the top `levels` asks (base)")
    liquidity_1pct: float | None = Field(description="Bid + ask notional within 1% of the mid (quote)")
    liquidity_2pct: float | None = Field(description="Bid + ask notional within 2% of the mid (quote)")
    imbalance: float | None = Field(description="(bid - ask) / (bid + ask) volume of the top levels, -1..1")
    slippage_bps: float | None = Field(description="Slippage of the report's notional market order (basis points)")
    score: float | None = Field(description="Liquidity score 0-1 (higher is more liquid)")
    walls: int = Field(description="Walls found (count)")
    clusters: int = Field(description="Clusters found (count)")
    timestamp_ms: int = Field(description="When the book was read (Unix ms)")


# ------------------------------------------------------------------ venues, health, metrics
class PairStateModel(_Response):
    exchange: str = Field(description=_EXCHANGE)
    symbol: str = Field(description="The instrument, canonical spelling")
    venue_symbol: str = Field(description="The venue's own ccxt symbol")
    state: str = Field(description="live, stale, syncing or failed")
    messages: int = Field(description="Book messages received since subscription (count)")
    applied: int = Field(description="Deltas applied (count)")
    resyncs: int = Field(description="Resynchronisations (count)")
    gaps: int = Field(description="Sequence gaps detected (count)")
    age_s: float | None = Field(description="Seconds since the last applied message (s)")


class VenuesResponse(_Response):
    venues: list[str] = Field(description="Venues the service can serve (ccxt ids)")
    simulator: bool = Field(description="True when the books come from the local simulator (offline)")
    usd_family: list[str] = Field(description="Quote currencies treated as one instrument (spelled USD)")
    pairs: list[PairStateModel] = Field(description="Books held now")


class HealthResponse(_Response):
    status: Literal["ok", "degraded", "empty"] = Field(description="ok: every book live; degraded: some not live; "
                                                                    "empty: no book held yet")
    uptime_s: float = Field(description="Seconds since the service started (s)")
    books: int = Field(description="Books held (count)")
    live: int = Field(description="Books live (count)")
    simulator: bool = Field(description="Books from the local simulator")


class MetricsResponse(_Response):
    uptime_s: float = Field(description="Seconds since start (s)")
    books: int = Field(description="Books held (count)")
    books_live: int = Field(description="Books live (count)")
    failed_subscriptions: int = Field(description="Subscriptions refused or failed (count)")
    book_messages: int = Field(description="Book messages received over all books (count)")
    counters: dict[str, int] = Field(description="Service counters: requests, errors by class, rate-limited, "
                                                 "websocket clients, pushes, pushes dropped by coalescing (count)")


# ------------------------------------------------------------------ risk
class RiskRequest(_Request):
    """A leveraged perpetual position (``POST /api/v1/risk``): its liquidation price and risk score."""

    exchange: Literal["binance", "binanceusdm", "bybit"] = Field(
        description="Venue whose liquidation formula applies (ccxt id)")
    symbol: str = Field(default="BTC/USDT:USDT", min_length=3, max_length=40,
                        description=_SYMBOL + "; its live book prices the exit and gives the mark")
    side: Literal["long", "short"] = Field(description="Position side")
    size: float = Field(gt=0, le=1e12, allow_inf_nan=False, description="Position size (base)")
    entry_price: float = Field(gt=0, le=1e12, allow_inf_nan=False, description="Entry price (quote per base)")
    leverage: float = Field(gt=0, le=1000, allow_inf_nan=False, description="Leverage (multiple, 10 = 10x)")
    margin_mode: Literal["isolated", "cross"] = Field(default="isolated", description="Margin mode")
    wallet_balance: float | None = Field(default=None, gt=0, le=1e15, allow_inf_nan=False,
                                         description="Isolated margin or cross wallet balance (quote); default "
                                                     "size x entry / leverage (isolated)")
    liq_price: float | None = Field(default=None, gt=0, le=1e12, allow_inf_nan=False,
                                    description="Known liquidation price (quote per base); default: computed from "
                                                "the bundled Binance BTCUSDT tier table")
    sigma: float = Field(default=0.6, gt=0, le=20, allow_inf_nan=False,
                         description="Volatility of the price (per year, 0.6 = 60%)")
    horizon_hours: float = Field(default=24.0, gt=0, le=24 * 366, allow_inf_nan=False,
                                 description="Horizon of the probability and funding (hours)")
    use_book: bool = Field(default=True, description="Read the live book of the instrument on the venue for the "
                                                     "mark and the exit cost")


class RiskResponse(_Response):
    exchange: str = Field(description="Venue of the formula")
    symbol: str = Field(description="The instrument, canonical spelling")
    score: float = Field(description="Liquidation-risk score 0-100 (higher is riskier)")
    liquidation_price: float | None = Field(description="Liquidation price (quote per base); null when none")
    mark: float = Field(description="Price the distance is measured from (quote per base)")
    distance_sigma: float | None = Field(description="Distance to liquidation in sigmas over the horizon (null: "
                                                     "infinite)")
    probability: float = Field(description="Probability of touching the liquidation price within the horizon 0-1")
    exit_cost: float | None = Field(description="Cost of closing at market on the book vs mid (quote), null "
                                                "without a book")
    exit_slippage_bps: float | None = Field(description="Exit VWAP vs mid (basis points)")
    exit_complete: bool | None = Field(description="The book absorbs the whole size")
    components: dict[str, float] = Field(description="Score components, each 0-1")


# ------------------------------------------------------------------ history, alerts
class HistoryResponse(_Response):
    """Rows of one stored series (``GET /api/v1/history``)."""

    table: str = Field(description="Store table (liqcore.store.TABLES)")
    exchange: str = Field(description="Venue as stored")
    symbol: str = Field(description="Symbol as stored")
    start_ns: int | None = Field(description="Range start, inclusive (Unix ns)")
    end_ns: int | None = Field(description="Range end, exclusive (Unix ns)")
    count: int = Field(description="Rows returned (count)")
    truncated: bool = Field(description="True when more rows matched than `limit` (the newest are returned)")
    rows: list[dict[str, Any]] = Field(description="Rows, oldest first; `ts` in Unix ns, units per table as in "
                                                   "docs/store.md")


class AlertsResponse(_Response):
    """Stored liquidity alerts (``GET /api/v1/alerts``)."""

    exchange: str = Field(description="Venue as stored")
    symbol: str = Field(description="Symbol as stored")
    count: int = Field(description="Alerts returned (count)")
    truncated: bool = Field(description="True when more alerts matched than `limit` (the newest are returned)")
    alerts: list[dict[str, Any]] = Field(description="Alerts, oldest first: ts/ended_ts Unix ns, deviation_pct %, "
                                                     "current/baseline in the metric's unit")
