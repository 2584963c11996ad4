"""Point a client's exchange URLs at the simulator.

The simulator serves every host under a path named after it
(``https://api.binance.com/api/v3`` -> ``http://127.0.0.1:PORT/api.binance.com/api/v3``,
``wss://stream.binance.com:9443/ws`` -> ``ws://127.0.0.1:PORT/stream.binance.com/ws``), so a
client's whole URL table can be rewritten mechanically and nothing is left pointing at
the internet: an endpoint the simulator does not emulate answers 404 from loopback (and
is listed in ``ExchangeSimulator.unhandled``) instead of reaching the exchange.

This module works on plain dicts; it never imports ccxt. For ccxt.pro::

    ex = ccxt.pro.binance({"enableRateLimit": False})
    ex.urls["api"] = loopback_urls(ex.urls["api"], sim.url)

(see :meth:`ExchangeSimulator.attach`, which does this and also OKX's ``hostname``).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["loopback_urls", "loopback_url"]

_URL = re.compile(r"^(https?|wss?)://([^/:]+)(?::\d+)?(.*)$")


def loopback_url(url: str, base: str) -> str:
    """One URL rewritten onto ``base`` (``http://127.0.0.1:PORT``, or ``https://`` for a simulator
    serving TLS); other strings unchanged.

    The scheme follows the original (ws/wss -> ws, http/https -> http; wss and https when
    ``base`` is https), the host becomes the first path segment and the port is dropped.
    """
    m = _URL.match(url)
    if m is None:
        return url
    scheme, host, rest = m.groups()
    base_scheme, root = base.split("://", 1)
    tls = "s" if base_scheme == "https" else ""
    return f"{'ws' if scheme.startswith('ws') else 'http'}{tls}://{root}/{host}{rest}"


def loopback_urls(urls: Any, base: str) -> Any:
    """A copy of a (nested) URL table with every URL rewritten by :func:`loopback_url`."""
    if isinstance(urls, dict):
        return {k: loopback_urls(v, base) for k, v in urls.items()}
    if isinstance(urls, list):
        return [loopback_urls(v, base) for v in urls]
    if isinstance(urls, str):
        return loopback_url(urls, base)
    return urls
