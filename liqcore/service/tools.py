"""Agent tools: the service's operations as plain async functions with JSON schemas, usable by
any agent framework (and served over the Model Context Protocol by
:mod:`liqcore.service.mcp_server`).

Five tools, each a plain async function over a :class:`~liqcore.service.hub.BookHub` (live
books) or, for the alerts, a :class:`~liqcore.store.Store`::

    async with BookHub(sim=True) as hub:
        r = await calculate_market_impact(hub, "binance", "BTC/USDT", "buy", 2.5)
        r.average_price, r.slippage_pct                       # quote per base, percent

and a registry, :data:`TOOLS` (name -> :class:`Tool`: the function, a one-paragraph description
an LLM can act on, the JSON schema of its arguments and of its result), whose
:meth:`Tool.call` takes the arguments as a JSON object (what a model sends) and returns the
result as a JSON object (what it reads back)::

    tool = TOOLS["calculate_market_impact"]
    out = await tool.call({"exchange": "binance", "symbol": "BTC/USDT", "side": "buy", "amount": 2.5}, hub=hub)

The schemas come from the pydantic models of :mod:`liqcore.service.models` (the HTTP API's):
one definition, every field's unit in its description. A bad argument raises
:class:`ToolInputError` (a ValueError) naming the field and what is wrong, before anything
runs; an unknown venue or symbol raises :class:`~liqcore.errors.FeedConfigError`, a book that
cannot be had :class:`~liqcore.errors.FeedError`, bad risk or store input
:class:`~liqcore.errors.RiskInputError` / :class:`~liqcore.store.StoreInputError`: all
liqcore errors (:class:`~liqcore.errors.LiqError`) with a one-line message, never a traceback
as the result. Costs: those of :mod:`liqcore.service.queries` (plus the validation of the
arguments, microseconds); the first call for a pair waits until its book is live.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Awaitable, Callable, Literal, Mapping, Sequence, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from liqcore.alerts import ALERT_TYPES
from liqcore.service import queries
from liqcore.service.errors import ToolInputError
from liqcore.service.hub import BookHub
from liqcore.service.models import (AlertsResponse, CompareRequest, CompareResponse, ImpactRequest, ImpactResponse,
                                    LiquidityReportResponse, RiskRequest, RiskResponse)

__all__ = ["ToolInputError", "PairArguments", "AlertsArguments", "Tool", "TOOLS", "compare_exchanges",
           "calculate_market_impact", "liquidity_report", "liquidation_risk", "liquidity_alerts", "call_tool"]

M = TypeVar("M", bound=BaseModel)


# The field descriptions of the venue and the instrument, taken from the HTTP models (one text).
_EXCHANGE_FIELD = ImpactRequest.model_fields["exchange"]
_SYMBOL_FIELD = ImpactRequest.model_fields["symbol"]


class PairArguments(BaseModel):
    """The arguments of ``liquidity_report``: one book, a venue and an instrument."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    exchange: str = Field(min_length=2, max_length=20, description=_EXCHANGE_FIELD.description,
                          examples=["binance"])
    symbol: str = Field(min_length=3, max_length=40, description=_SYMBOL_FIELD.description, examples=["BTC/USDT"])


class AlertsArguments(BaseModel):
    """The arguments of ``liquidity_alerts``: one stored series and a time range."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    exchange: str = Field(min_length=1, max_length=40, description="Venue as stored (ccxt id, e.g. binance)")
    symbol: str = Field(min_length=1, max_length=60, description="Symbol as stored, the venue's own ccxt symbol "
                                                                 "(e.g. BTC/USDT on binance, BTC/USD on kraken)")
    start_ns: int | None = Field(default=None, ge=0, description="Range start, inclusive (Unix ns); null: from the "
                                                                 "first alert")
    end_ns: int | None = Field(default=None, ge=0, description="Range end, exclusive (Unix ns); null: to the last")
    limit: int = Field(default=100, ge=1, le=queries.MAX_ROWS,
                       description=f"Most alerts returned, the newest (count, 1..{queries.MAX_ROWS})")


def _validation_line(exc: ValidationError) -> str:
    """A pydantic validation error as one line: ``field: what is wrong (got value)`` per error."""
    parts = []
    for e in exc.errors(include_url=False):
        where = ".".join(str(x) for x in e["loc"]) or "arguments"
        shown = json.dumps(e.get("input"), default=repr)[:60]
        got = "" if e["type"] in ("missing", "extra_forbidden") else f" (got {shown})"
        parts.append(f"{where}: {e['msg'].rstrip('.')}{got}")
    return "; ".join(parts)


def _validated(model: type[M], arguments: Any) -> M:
    """``arguments`` (a JSON object) checked against ``model``; ToolInputError naming each bad field."""
    if not isinstance(arguments, Mapping):
        raise ToolInputError(f"the arguments must be a JSON object, got {type(arguments).__name__}")
    try:
        return model.model_validate(dict(arguments))
    except ValidationError as exc:
        raise ToolInputError(_validation_line(exc)) from None


def _given(**kw: Any) -> dict[str, Any]:
    """The keyword arguments that were given (None: the model's default applies)."""
    return {k: v for k, v in kw.items() if v is not None}


# ------------------------------------------------------------------ the tools as plain functions
async def compare_exchanges(hub: BookHub, symbol: str, exchanges: Sequence[str] | None = None,
                            levels: int | None = None) -> CompareResponse:
    """Compare one instrument across venues (see ``TOOLS["compare_exchanges"].description``);
    ``exchanges`` default binance, coinbase, kraken; ``levels`` default 20 (count)."""
    request = _validated(CompareRequest, _given(symbol=symbol, exchanges=None if exchanges is None else list(exchanges),
                                                levels=levels))
    return await queries.compare_exchanges(hub, request)


async def calculate_market_impact(hub: BookHub, exchange: str, symbol: str, side: Literal["buy", "sell"],
                                  amount: float, amount_in: Literal["base", "quote"] | None = None) -> ImpactResponse:
    """A market order of ``amount`` (base, or quote with ``amount_in="quote"``) walked through one
    venue's live book (see ``TOOLS["calculate_market_impact"].description``)."""
    request = _validated(ImpactRequest, _given(exchange=exchange, symbol=symbol, side=side, amount=amount,
                                               amount_in=amount_in))
    return await queries.market_impact(hub, request)


async def liquidity_report(hub: BookHub, exchange: str, symbol: str) -> LiquidityReportResponse:
    """The liquidity report of one venue's live book (see ``TOOLS["liquidity_report"].description``)."""
    args = _validated(PairArguments, {"exchange": exchange, "symbol": symbol})
    return await queries.liquidity_report(hub, args.exchange, args.symbol)


async def liquidation_risk(hub: BookHub, exchange: str, side: Literal["long", "short"], size: float,
                           entry_price: float, leverage: float, symbol: str | None = None,
                           margin_mode: Literal["isolated", "cross"] | None = None,
                           wallet_balance: float | None = None, liq_price: float | None = None,
                           sigma: float | None = None, horizon_hours: float | None = None,
                           use_book: bool | None = None) -> RiskResponse:
    """Liquidation price and 0-100 risk score of a leveraged perpetual position (see
    ``TOOLS["liquidation_risk"].description``); an argument left None takes the default of
    :class:`~liqcore.service.models.RiskRequest`."""
    request = _validated(RiskRequest, _given(
        exchange=exchange, side=side, size=size, entry_price=entry_price, leverage=leverage, symbol=symbol,
        margin_mode=margin_mode, wallet_balance=wallet_balance, liq_price=liq_price, sigma=sigma,
        horizon_hours=horizon_hours, use_book=use_book))
    return await queries.position_risk(hub, request)


async def liquidity_alerts(store: Any, exchange: str, symbol: str, start_ns: int | None = None,
                           end_ns: int | None = None, limit: int | None = None) -> AlertsResponse:
    """The liquidity alerts stored for one series (``store``: a :class:`liqcore.store.Store`, read
    in a worker thread), the newest ``limit`` (default 100) with ``start_ns <= ts < end_ns``."""
    args = _validated(AlertsArguments, _given(exchange=exchange, symbol=symbol, start_ns=start_ns, end_ns=end_ns,
                                              limit=limit))
    return await queries.alerts(store, args.exchange, args.symbol, args.start_ns, args.end_ns, args.limit)


# ------------------------------------------------------------------ the registry
@dataclass(frozen=True)
class Tool:
    """One agent tool: ``function`` (a plain async function whose first argument is the hub, or
    the store when ``needs_store``), ``description`` (one paragraph for a model, units
    included), ``arguments`` / ``result`` (the pydantic models whose JSON schemas are the tool's
    input and output schemas)."""

    name: str
    description: str
    function: Callable[..., Awaitable[BaseModel]]
    arguments: type[BaseModel]
    result: type[BaseModel]
    needs_store: bool = False

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        """JSON schema (draft 2020-12) of the arguments object. Built once."""
        return self.arguments.model_json_schema(mode="validation")

    @cached_property
    def output_schema(self) -> dict[str, Any]:
        """JSON schema (draft 2020-12) of the result object. Built once."""
        return self.result.model_json_schema(mode="serialization")

    async def run(self, arguments: Mapping[str, Any], *, hub: BookHub | None = None,
                  store: Any = None) -> BaseModel:
        """Validate ``arguments`` (a JSON object) and run the tool: its result model.
        ToolInputError for bad arguments or a missing hub/store (nothing runs)."""
        args = _validated(self.arguments, arguments)
        target = store if self.needs_store else hub
        if target is None:
            raise ToolInputError(f"{self.name} needs a {'store' if self.needs_store else 'book hub'}, "
                                 f"and none was given")
        return await self.function(target, **args.model_dump(exclude_unset=True))

    async def call(self, arguments: Mapping[str, Any], *, hub: BookHub | None = None,
                   store: Any = None) -> dict[str, Any]:
        """:meth:`run`, with the result as a JSON object (what the output schema describes; a
        number the book cannot give is null)."""
        result = await self.run(arguments, hub=hub, store=store)
        out: dict[str, Any] = json.loads(result.model_dump_json())
        return out


_TOOLS = (
    Tool("compare_exchanges",
         "Compare one crypto instrument across exchanges from their live order books: best bid and ask per "
         "venue (prices in quote currency per unit of base), sizes and top-of-book volumes (base units), "
         "spreads (percent of the mid), which venue has the best bid, the best ask and the tightest spread, "
         "and the best cross-venue arbitrage route (buy on one venue's ask, sell on another's bid) with its "
         "return before and after taker fees (percent), the base quantity that stays profitable and the profit "
         "(quote). Use one spelling for every venue: BTC/USDT, BTC/USD and BTC/USDC name the same spot "
         "instrument; BTC/USDT:USDT is the perpetual swap. Venues that cannot serve the instrument are listed "
         "in `failures` and the others are compared.",
         compare_exchanges, CompareRequest, CompareResponse),
    Tool("calculate_market_impact",
         "Estimate what a market order would cost on one exchange by walking its live order book: the "
         "volume-weighted average execution price, best and worst prices touched and the mid (quote currency "
         "per unit of base), slippage against the best price and against the mid (percent, adverse is "
         "positive), price levels consumed, base filled and quote spent or received, and whether the visible "
         "book has enough liquidity (what it cannot fill is `unfilled`). `amount` is in base units (e.g. 2.5 "
         "BTC), or in quote currency to spend or receive with amount_in='quote' (e.g. 100000 USD). side='buy' "
         "takes the asks, 'sell' the bids. Fees and hidden liquidity are not included.",
         calculate_market_impact, ImpactRequest, ImpactResponse),
    Tool("liquidity_report",
         "Assess the liquidity of one instrument on one exchange from its live order book: best bid, best ask "
         "and mid (quote per base), spread (basis points and percent of the mid), bid and ask volume of the top "
         "levels (base), notional within 1% and 2% of the mid (quote currency), order-book imbalance (-1 all "
         "asks .. +1 all bids), slippage of a reference market order (basis points), a liquidity score from 0 "
         "(illiquid) to 1 (very liquid), and how many liquidity walls and order clusters sit near the mid.",
         liquidity_report, PairArguments, LiquidityReportResponse),
    Tool("liquidation_risk",
         "Assess a leveraged perpetual-futures position: its liquidation price (quote per base; computed from "
         "the bundled Binance BTCUSDT maintenance-margin tiers, so give liq_price for another venue or "
         "instrument), a 0-100 risk score (higher is riskier), the distance to liquidation in standard "
         "deviations over the horizon, the probability of touching the liquidation price within horizon_hours "
         "(0-1, from the annualised volatility sigma, 0.6 = 60% a year), and, from the live order book, the "
         "mark price and the cost of closing the whole position at market (quote, and basis points versus the "
         "mid). size is in base units (e.g. 2 BTC), entry_price in quote per base, leverage a multiple (20 = "
         "20x); symbol defaults to BTC/USDT:USDT.",
         liquidation_risk, RiskRequest, RiskResponse),
    Tool("liquidity_alerts",
         "List the liquidity alerts recorded for one market in liqcore's history store (types "
         f"{', '.join(ALERT_TYPES)}), oldest first, the newest `limit` of them: each with its time "
         "(ts and ended_ts, Unix nanoseconds), type, severity, the metric's current and baseline values (in the "
         "metric's unit) and the deviation (percent). The exchange and symbol are as stored: the venue's ccxt id "
         "and its own symbol (BTC/USDT on binance, BTC/USD on kraken). Restrict the time range with start_ns "
         "and end_ns (Unix nanoseconds).",
         liquidity_alerts, AlertsArguments, AlertsResponse, needs_store=True),
)

#: the agent tools by name
TOOLS: dict[str, Tool] = {t.name: t for t in _TOOLS}


async def call_tool(name: str, arguments: Mapping[str, Any], *, hub: BookHub | None = None,
                    store: Any = None) -> dict[str, Any]:
    """Run the tool ``name`` (:meth:`Tool.call`): its result as a JSON object. ToolInputError for
    an unknown name or bad arguments."""
    tool = TOOLS.get(name) if isinstance(name, str) else None
    if tool is None:
        raise ToolInputError(f"unknown tool {name!r}; one of {', '.join(TOOLS)}")
    return await tool.call(arguments, hub=hub, store=store)
