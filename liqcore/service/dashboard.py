"""The live dashboard: a browser page served by the service's FastAPI app.

:func:`mount_dashboard` adds to an existing app (``liqcore.service.api.create_app``)::

    GET /                            the page (liqcore/service/static/index.html)
    GET /dashboard/config.json       the page's settings (defaults, API paths, heatmap size)
    GET /dashboard/plotly.min.js     plotly.js from the installed ``plotly`` wheel (no CDN)
    GET /dashboard/static/{file}     the page's JavaScript and CSS

The page reads everything else from the service's own HTTP routes under ``api_prefix``
(book, liquidity, walls, compare-exchanges, market-impact, risk, history, alerts), so it works
offline (``liqcore serve --sim``) and sees exactly what the API serves. What it draws and how
(the heatmap's ring of columns, units, refresh rates) is in ``docs/dashboard.md``.

Ownership: the page's files are read once at mount (a few tens of KB, kept by the route
closures); plotly.js (about 4.5 MB) is streamed from the wheel by each request, with a day of
browser caching. Every route is O(file size).
"""

from __future__ import annotations

import importlib.util
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from liqcore.errors import FeedConfigError
from liqcore.service.symbols import check_venue, parse_instrument

__all__ = ["mount_dashboard", "DashboardConfig", "plotly_js_path", "STATIC_DIR"]

#: the page's own files (HTML, JS, CSS), shipped in the package
STATIC_DIR = Path(__file__).with_name("static")

_CACHE_DAY = "public, max-age=86400"
_PREFIX_RE = re.compile(r"^(/[A-Za-z0-9._~-]+)*$")


@dataclass(frozen=True)
class DashboardConfig:
    """What the page starts with, served as ``/dashboard/config.json``.

    ``exchange`` / ``symbol``: the book of the heatmap, depth chart, history and alerts (ccxt id,
    canonical instrument spelling); ``venues``: the venues compared and priced by the impact
    form; ``heatmap_rows``: price rows of the heatmap (count); ``heatmap_columns``: columns
    kept in its ring (count; at ``refresh_hz`` columns a second, 3000 columns = 10 minutes);
    ``refresh_hz``: book reads per second for the heatmap (Hz); ``api`` / ``ws``: the service's
    route prefix and websocket path."""

    exchange: str = "binance"
    symbol: str = "BTC/USD"
    venues: tuple[str, ...] = ("binance", "coinbase", "kraken")
    heatmap_rows: int = 240
    heatmap_columns: int = 3000
    refresh_hz: float = 5.0
    api: str = "/api/v1"
    ws: str = "/ws"
    risk_exchanges: tuple[str, ...] = field(default=("binance", "binanceusdm", "bybit"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plotly_js_path() -> Path:
    """The plotly.js bundle of the installed ``plotly`` wheel. FeedConfigError (a ValueError)
    naming the package when plotly is not installed."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise FeedConfigError("the dashboard needs the plotly package (pip install plotly): "
                              "its plotly.min.js draws the charts")
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise FeedConfigError(f"the installed plotly has no {path}: reinstall plotly")
    return path


def _check(exchange: str, symbol: str, venues: Sequence[str], heatmap_rows: int, heatmap_columns: int,
           refresh_hz: float, api_prefix: str, ws_path: str) -> DashboardConfig:
    ex = check_venue(exchange)
    inst = str(parse_instrument(symbol))
    if isinstance(venues, str) or not venues:
        raise FeedConfigError("venues: expected a non-empty list of exchange ids")
    vs = tuple(dict.fromkeys(check_venue(v) for v in venues))
    if not (isinstance(heatmap_rows, int) and 50 <= heatmap_rows <= 2000):
        raise FeedConfigError(f"heatmap_rows must be 50..2000 price rows, got {heatmap_rows!r}")
    if not (isinstance(heatmap_columns, int) and 60 <= heatmap_columns <= 20_000):
        raise FeedConfigError(f"heatmap_columns must be 60..20000 columns, got {heatmap_columns!r}")
    if not (isinstance(refresh_hz, (int, float)) and math.isfinite(refresh_hz) and 0.2 <= refresh_hz <= 30):
        raise FeedConfigError(f"refresh_hz must be 0.2..30 reads per second, got {refresh_hz!r}")
    for name, p in (("api_prefix", api_prefix), ("ws_path", ws_path)):
        if not (isinstance(p, str) and p and _PREFIX_RE.match(p)):
            raise FeedConfigError(f"{name} must be a URL path such as /api/v1, got {p!r}")
    return DashboardConfig(exchange=ex, symbol=inst, venues=vs, heatmap_rows=heatmap_rows,
                           heatmap_columns=heatmap_columns, refresh_hz=float(refresh_hz), api=api_prefix,
                           ws=ws_path)


def mount_dashboard(app: Any, *, exchange: str = "binance", symbol: str = "BTC/USD",
                    venues: Sequence[str] = ("binance", "coinbase", "kraken"), heatmap_rows: int = 240,
                    heatmap_columns: int = 3000, refresh_hz: float = 5.0, api_prefix: str = "/api/v1",
                    ws_path: str = "/ws") -> DashboardConfig:
    """Serve the dashboard on ``app`` (a FastAPI app): the page at ``/`` and its files under
    ``/dashboard/``. Arguments are the page's defaults (:class:`DashboardConfig`; the page
    lets its user change exchange, symbol and venues). Returns the config served.

    FeedConfigError (a ValueError) for an unknown venue, a malformed symbol, sizes out of
    range or plotly missing; ``app`` is unchanged then. O(size of the page's files)."""
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles

    cfg = _check(exchange, symbol, venues, heatmap_rows, heatmap_columns, refresh_hz, api_prefix, ws_path)
    plotly = plotly_js_path()
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    settings = cfg.to_dict()

    # include_in_schema=False: the page is not part of the API the OpenAPI schema describes
    @app.get("/", include_in_schema=False)
    async def dashboard_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    @app.get("/dashboard/config.json", include_in_schema=False)
    async def dashboard_config() -> JSONResponse:
        return JSONResponse(settings, headers={"Cache-Control": "no-cache"})

    @app.get("/dashboard/plotly.min.js", include_in_schema=False)
    async def dashboard_plotly() -> FileResponse:
        return FileResponse(plotly, media_type="text/javascript", headers={"Cache-Control": _CACHE_DAY})

    app.mount("/dashboard/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    return cfg
