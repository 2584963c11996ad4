"""The HTTP API of the service: FastAPI over a :class:`~liqcore.service.hub.BookHub`, served by
uvicorn on uvloop; response models serialized to JSON by pydantic-core, errors by orjson.

::

    hub = BookHub(sim=True)                               # or BookHub() for the real venues
    app = create_app(hub)                                 # the app starts and closes the hub
    serve(app, host="127.0.0.1", port=8000)               # blocks until Ctrl-C / SIGTERM

Routes (request and response models in :mod:`liqcore.service.models`, every field's unit in
the OpenAPI schema at ``/openapi.json``; interactive docs at ``/docs``):

====================================  =============================================
``POST /api/v1/compare-exchanges``    one instrument across venues, arbitrage route
``POST /api/v1/market-impact``        a market order walked through one book
``POST /api/v1/risk``                 liquidation price and risk score of a position
``GET /api/v1/book``                  top N levels of a book
``GET /api/v1/liquidity``             the liquidity report of a book
``GET /api/v1/walls``                 walls and clusters near the mid
``GET /api/v1/venues``                venues served, books held
``GET /api/v1/history``               a stored series (needs a store)
``GET /api/v1/alerts``                stored liquidity alerts (needs a store)
``GET /api/v1/health``                ok / degraded / empty
``GET /api/v1/metrics``               counters (requests, refusals, websocket pushes, drops)
``WS /ws``                            pushes of book tops, liquidity reports, alerts
====================================  =============================================

Errors are JSON ``{"error", "detail"}``: 400 bad input (unknown exchange or symbol, an amount
the book cannot represent, bad risk or history input), 401 missing or wrong API key, 413 body
too large, 422 a request that does not match its model, 429 rate limited, 503 a book that is not
live, a venue or store that cannot be reached, or no store configured.

Binding: 127.0.0.1 by default; :func:`check_bind` refuses a non-loopback address without an API
key, and with a key every route (websocket included) requires the ``X-API-Key`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator, Iterable

import orjson

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from liqcore.errors import FeedError, LiqError
from liqcore.service import queries
from liqcore.service.guard import Counters, Guard
from liqcore.service.errors import ServiceConfigError
from liqcore.service.hub import BookHub
from liqcore.service.net import is_loopback
from liqcore.service.models import (AlertsResponse, BookSnapshot, CompareRequest, CompareResponse, ErrorResponse,
                                    HealthResponse, HistoryResponse, ImpactRequest, ImpactResponse,
                                    LiquidityReportResponse, MetricsResponse, RiskRequest, RiskResponse,
                                    VenuesResponse, WallsResponse)

__all__ = ["create_app", "serve", "check_bind", "is_loopback", "ServiceConfigError", "DEFAULT_PORT",
           "MAX_BODY_BYTES", "RATE", "BURST", "server_of"]

log = logging.getLogger("liqcore.service")

#: the port ``liqcore serve`` listens on unless told otherwise
DEFAULT_PORT = 8000
#: request bodies above this many bytes are refused (413)
MAX_BODY_BYTES = 64 * 1024
#: requests per second per client address on average, and the burst allowed above it (429 beyond)
RATE = 200.0
BURST = 400

_EXCHANGE_Q = Query(min_length=2, max_length=20, description="Venue, a ccxt id (binance, coinbase, kraken...)")
_SYMBOL_Q = Query(min_length=3, max_length=40, description="Instrument: BTC/USDT (USD-family quotes are one "
                                                           "instrument), BTC/USDT:USDT for a perpetual")
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text} for code, text in (
        (400, "Bad input: unknown exchange or symbol, a value the book or store cannot take"),
        (401, "Missing or wrong X-API-Key header"), (413, "Request body too large"),
        (422, "The request does not match its model"), (429, "Rate limited (Retry-After header, s)"),
        (503, "A book that is not live, a venue or store that cannot be reached, no store configured"))}


def _live_books(hub: BookHub) -> dict[tuple[str, str], Any]:
    """The live books a hub holds, keyed by (venue, venue's symbol): what the tracker captures."""
    return {(p.venue, p.symbol): hub.book(p.venue, p.instrument) for p in hub.pairs() if p.state == "live"}


def _dashboard_path(path: str) -> bool:
    """The dashboard's page and static files (no data in them: served without the API key)."""
    return path == "/" or path.startswith("/dashboard/")


def check_bind(host: str, api_key: str | None) -> None:
    """ServiceConfigError when ``host`` is not loopback and there is no API key (anyone on the
    network could read the books and spend the venues' rate limits), or the key is too short."""
    if api_key is not None and len(api_key) < 16:
        raise ServiceConfigError("the API key must be at least 16 characters")
    if not is_loopback(host) and not api_key:
        raise ServiceConfigError(f"refusing to bind {host}, which is not loopback, without an API key "
                                 f"(--api-key or LIQCORE_API_KEY); every route then requires the X-API-Key header")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500] or type(exc).__name__


def _error(status: int, error: str, exc: BaseException | str) -> Response:
    detail = exc if isinstance(exc, str) else _one_line(exc)
    return Response(orjson.dumps({"error": error, "detail": detail}), status_code=status,
                    media_type="application/json")


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:5]:
        where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def create_app(hub: BookHub, store: Any = None, *, api_key: str | None = None,
               max_body_bytes: int = MAX_BODY_BYTES, rate: float | None = RATE, burst: int = BURST,
               ws_options: dict[str, Any] | None = None, pairs: Iterable[tuple[str, str]] = (),
               dashboard: dict[str, Any] | None = None, history_interval_s: float | None = None) -> FastAPI:
    """The FastAPI app over ``hub`` (and ``store``, a :class:`liqcore.store.Store`, for history
    and alerts; None: those routes answer 503).

    The app owns the hub's lifecycle: its lifespan starts the hub and closes it (and the
    websocket's tasks) at shutdown; the store stays the caller's. ``api_key``: required in the
    ``X-API-Key`` header of every route when set. ``max_body_bytes``: larger request bodies get
    413. ``rate``/``burst``: the per-client-address token bucket (requests/s, burst count; None:
    no limit). ``ws_options``: keyword arguments of :class:`liqcore.service.ws.Pusher`.
    ``pairs``: (venue, instrument) pairs subscribed in the background at startup (the service
    comes up even when a venue is down: a failure is logged in one line and counted in the hub's
    ``failed_subscriptions``; a later request retries it). ``dashboard``: keyword arguments of
    :func:`liqcore.service.dashboard.mount_dashboard` (the live page at ``/``; None: no page).
    Its page and static files need no API key (code, no data); its calls carry the key.
    ``history_interval_s``: with a store, a liquidity report of every live book held is written
    every this many seconds (:class:`liqcore.alerts.LiquidityTracker`, under the venue's symbol),
    so the history routes and the page's history fill as the service runs (None: not written).
    """
    from liqcore.service.ws import Pusher, add_ws_route

    if max_body_bytes < 1 or burst < 1 or (rate is not None and not rate > 0):
        raise ServiceConfigError("max_body_bytes >= 1, burst >= 1 and rate > 0 requests/s (or None)")
    initial = [hub.key(v, s) for v, s in pairs]          # bad pairs: FeedConfigError now, not at startup
    counters = Counters()
    pusher = Pusher(hub, counters, store=store, **(ws_options or {}))
    tracker = None
    if store is not None and history_interval_s is not None:
        from liqcore.alerts import LiquidityTracker

        tracker = LiquidityTracker(store, books=lambda: _live_books(hub), interval_s=history_interval_s,
                                   snapshot_interval_s=None)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        await pusher.start()
        if tracker is not None:
            await tracker.start_continuous_tracking()
        preload = [asyncio.create_task(_preload(hub, v, s)) for v, s in initial]
        try:
            yield
        finally:
            for t in preload:
                t.cancel()
            await asyncio.gather(*preload, return_exceptions=True)
            if tracker is not None:
                await tracker.close()
            await pusher.close()
            await hub.close()

    # responses: the route's model serialized straight to JSON bytes by pydantic-core (FastAPI's
    # fastest path, which deprecates ORJSONResponse); error bodies and websocket pushes: orjson
    app = FastAPI(title="liqcore", version="1", lifespan=lifespan,
                  description="Live order books across crypto venues: comparison, market impact, liquidity, "
                              "walls, risk, history and alerts. Units are in every field's description.")
    app.state.hub, app.state.store, app.state.counters, app.state.pusher = hub, store, counters, pusher
    app.add_middleware(Guard, api_key=api_key, max_body_bytes=max_body_bytes, rate=rate, burst=burst,
                       counters=counters, public=_dashboard_path if dashboard is not None else lambda path: False)
    if dashboard is not None:
        from liqcore.service.dashboard import mount_dashboard

        mount_dashboard(app, **dashboard)

    # ------------------------------------------------------------ errors as JSON, one line
    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> Response:
        counters.add("errors_validation")
        return _error(422, "validation", _validation_detail(exc))

    async def _refused(_r: Request, exc: Exception) -> Response:
        # a liqcore input error (FeedConfigError, InvalidDeltaError, RiskInputError,
        # StoreInputError) is also a ValueError: 400; a book not live, a venue, store or core
        # that cannot serve (FeedError, StoreIOError, a closed store): 503
        if isinstance(exc, ValueError) and not isinstance(exc, FeedError):
            counters.add("errors_bad_request")
            return _error(400, "bad_request", exc)
        counters.add("errors_unavailable")
        return _error(503, "unavailable", exc)

    for kind in (LiqError, ValueError):
        app.add_exception_handler(kind, _refused)

    def _store() -> Any:
        if store is None:
            raise FeedError("no store configured (liqcore serve --db PATH_OR_URL)")
        return store

    # ------------------------------------------------------------ routes
    @app.post("/api/v1/compare-exchanges", response_model=CompareResponse, responses=_ERRORS,
              summary="Compare one instrument across venues")
    async def compare_exchanges(body: CompareRequest) -> CompareResponse:
        return await queries.compare_exchanges(hub, body)

    @app.post("/api/v1/market-impact", response_model=ImpactResponse, responses=_ERRORS,
              summary="Walk a market order through one venue's live book")
    async def market_impact(body: ImpactRequest) -> ImpactResponse:
        return await queries.market_impact(hub, body)

    @app.post("/api/v1/risk", response_model=RiskResponse, responses=_ERRORS,
              summary="Liquidation price and risk score (0-100) of a leveraged position")
    async def risk(body: RiskRequest) -> RiskResponse:
        return await queries.position_risk(hub, body)

    @app.get("/api/v1/book", response_model=BookSnapshot, responses=_ERRORS, summary="Top N levels of a live book")
    async def book(exchange: str = _EXCHANGE_Q, symbol: str = _SYMBOL_Q,
                   depth: int = Query(20, ge=1, le=5000, description="Levels per side (count)")) -> BookSnapshot:
        return await queries.book_snapshot(hub, exchange, symbol, depth)

    @app.get("/api/v1/liquidity", response_model=LiquidityReportResponse, responses=_ERRORS,
             summary="Liquidity report of a live book")
    async def liquidity(exchange: str = _EXCHANGE_Q, symbol: str = _SYMBOL_Q) -> LiquidityReportResponse:
        return await queries.liquidity_report(hub, exchange, symbol)

    @app.get("/api/v1/walls", response_model=WallsResponse, responses=_ERRORS,
             summary="Liquidity walls and order clusters near the mid")
    async def walls(exchange: str = _EXCHANGE_Q, symbol: str = _SYMBOL_Q,
                    band_bps: float = Query(200.0, gt=0, le=10_000, allow_inf_nan=False,
                                            description="Half-width of the band around the mid (basis points)"),
                    limit: int = Query(10, ge=1, le=100, description="Most walls and clusters (count each)"),
                    ) -> WallsResponse:
        return await queries.walls(hub, exchange, symbol, band_bps, limit)

    @app.get("/api/v1/venues", response_model=VenuesResponse, responses=_ERRORS,
             summary="Venues served and books held")
    async def venues() -> VenuesResponse:
        return await queries.venues(hub)

    @app.get("/api/v1/history", response_model=HistoryResponse, responses=_ERRORS,
             summary="Rows of a stored series (liqcore.store)")
    async def history(table: str = Query(min_length=1, max_length=40, description="Store table, e.g. "
                                                                                  "liquidity_reports"),
                      exchange: str = Query(min_length=1, max_length=16, description="Venue as stored"),
                      symbol: str = Query(min_length=1, max_length=40, description="Symbol as stored"),
                      start_ns: int | None = Query(None, description="Range start, inclusive (Unix ns)"),
                      end_ns: int | None = Query(None, description="Range end, exclusive (Unix ns)"),
                      limit: int = Query(1000, ge=1, le=queries.MAX_ROWS, description="Most rows (the newest)"),
                      ) -> HistoryResponse:
        return await queries.history(_store(), table, exchange, symbol, start_ns, end_ns, limit)

    @app.get("/api/v1/alerts", response_model=AlertsResponse, responses=_ERRORS, summary="Stored liquidity alerts")
    async def alerts(exchange: str = Query(min_length=1, max_length=16, description="Venue as stored"),
                     symbol: str = Query(min_length=1, max_length=40, description="Symbol as stored"),
                     start_ns: int | None = Query(None, description="Range start, inclusive (Unix ns)"),
                     end_ns: int | None = Query(None, description="Range end, exclusive (Unix ns)"),
                     limit: int = Query(100, ge=1, le=queries.MAX_ROWS, description="Most alerts (the newest)"),
                     ) -> AlertsResponse:
        return await queries.alerts(_store(), exchange, symbol, start_ns, end_ns, limit)

    @app.get("/api/v1/health", response_model=HealthResponse, responses=_ERRORS, summary="Service health")
    async def health() -> HealthResponse:
        return await queries.health(hub)

    @app.get("/api/v1/metrics", response_model=MetricsResponse, responses=_ERRORS, summary="Service counters")
    async def metrics() -> MetricsResponse:
        return await queries.metrics(hub, {**counters, **pusher.counters()})

    add_ws_route(app, pusher)
    return app


async def _preload(hub: BookHub, venue: str, instrument: str) -> None:
    try:
        await hub.ensure(venue, instrument)
    except LiqError as exc:
        log.warning("liqcore serve: %s %s not subscribed: %s", venue, instrument, _one_line(exc))


def serve(app: FastAPI, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, api_key: str | None = None,
          sockets: list[Any] | None = None, log_level: str = "warning") -> None:
    """Run ``app`` under uvicorn until Ctrl-C or SIGTERM, on uvloop (the ``service`` extra) and
    uvicorn's fastest HTTP parser installed (httptools when present, else h11). Checks the binding
    rule first (:func:`check_bind`: pass the same ``api_key`` the app was created with).
    ``sockets``: already bound sockets to serve on instead of ``host``/``port``."""
    check_bind(host, api_key)
    server_of(app, host=host, port=port, log_level=log_level).run(sockets=sockets)


def server_of(app: FastAPI, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, log_level: str = "warning") -> Any:
    """The ``uvicorn.Server`` :func:`serve` runs (not started; no binding check: the caller's)."""
    import importlib.util

    import uvicorn

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    config = uvicorn.Config(app, host=host, port=port, loop=loop, http="auto", ws="websockets-sansio", lifespan="on",
                            log_level=log_level, access_log=False, server_header=False, ws_max_size=64 * 1024)
    return uvicorn.Server(config)
