"""How each venue's REST API refuses a request, and the query-parameter readers that refuse
malformed values the venue's way.

A reader that meets a value the venue would refuse raises :class:`RestError` carrying the
venue's own answer; the simulator's middleware returns it (so a handler needs no ``try`` and no
malformed request ends in an unhandled exception, which aiohttp would answer 500). The answers,
as the exchanges send them and ccxt parses them:

========  ======  ===============================================================
venue     HTTP    body
========  ======  ===============================================================
Binance   400     ``{"code": -1100, "msg": "Illegal characters found in parameter 'limit'; legal
                  range is '^[0-9]{1,20}$'."}`` (-1102 missing, -1121 unknown symbol)
OKX       400     ``{"code": "51000", "msg": "Parameter sz error", "data": []}``
Bybit     200     ``{"retCode": 10001, "retMsg": "params error: limit", "result": {}, ...}``
Kraken    200     ``{"error": ["EGeneral:Invalid arguments"]}``
Coinbase  400     ``{"error": "INVALID_ARGUMENT", "message": "limit"}``
Bitget    400     ``{"code": "40034", "msg": "Parameter limit does not exist", ...}``
Bitfinex  500     ``["error", 10020, "len: invalid"]`` (Bitfinex's own status for parameter
                  errors: ccxt reads the error code only from a 500)
========  ======  ===============================================================

Integers are ASCII digits only (Binance's ``^[0-9]{1,20}$``, which every venue here is held to):
Python's ``int()`` would also take ``" 5"``, ``"1_0"``, ``"-5"`` and other scripts' digits.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable

import orjson
from aiohttp import web

__all__ = ["RestError", "query_uint", "binance_json", "binance_error", "binance_symbol", "binance_symbols",
           "binance_uint", "okx_ok", "okx_error", "okx_uint", "bybit_error", "bybit_uint", "kraken_error",
           "kraken_uint", "coinbase_json", "coinbase_uint", "bitget_error", "bitget_uint", "bitfinex_error",
           "bitfinex_uint"]

_UINT = re.compile(r"[0-9]{1,20}")
# Binance's symbol rule, and its symbols list: ["BTCUSDT","ETHUSDT"] without spaces
_BN_SYMBOL = re.compile(r"[A-Z0-9_.\-]{1,20}")
_BN_SYMBOLS = re.compile(r'\[("[A-Z0-9_.\-]{1,20}"(,"[A-Z0-9_.\-]{1,20}")*)?\]')
_BN_UINT_RANGE = "^[0-9]{1,20}$"
_BN_SYMBOL_RANGE = "^[A-Z0-9-_.]{1,20}$"
_BN_SYMBOLS_RANGE = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'


class RestError(Exception):
    """A request the venue refuses; ``response`` is the venue's answer (returned by the
    simulator's middleware)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _body(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(obj), status=status, content_type="application/json", headers=headers)


def query_uint(request: web.Request, name: str, default: int, refuse: Callable[[], web.Response]) -> int:
    """Query parameter ``name`` as a non-negative integer (ASCII digits, at most 20), ``default``
    when absent or empty; anything else raises :class:`RestError` with ``refuse()``. O(len)."""
    text = request.query.get(name)
    if text is None or text == "":
        return default
    if _UINT.fullmatch(text) is None:
        raise RestError(refuse())
    return int(text)


# ------------------------------------------------------------------------------------ Binance
def binance_json(obj: Any, status: int = 200) -> web.Response:
    """A Binance reply: JSON with the request weight used (clients, ccxt too, may read it)."""
    return _body(obj, status, {"x-mbx-used-weight": "1", "x-mbx-used-weight-1m": "1"})


def binance_error(code: int, msg: str) -> web.Response:
    """Binance's refusal: HTTP 400 ``{"code", "msg"}``."""
    return binance_json({"code": code, "msg": msg}, 400)


def _bn_illegal(name: str, legal: str) -> RestError:
    return RestError(binance_error(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."))


def binance_symbol(request: web.Request) -> str:
    """The ``symbol`` parameter: -1102 if missing or empty, -1100 unless it is an exchange id
    (``BTCUSDT``: upper case, no ``/``)."""
    symbol = request.query.get("symbol")
    if not symbol:
        raise RestError(binance_error(-1102,
                                      "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."))
    if _BN_SYMBOL.fullmatch(symbol) is None:
        raise _bn_illegal("symbol", _BN_SYMBOL_RANGE)
    return symbol


def binance_symbols(request: web.Request) -> list[str] | None:
    """The ``symbols`` parameter (``["BTCUSDT","ETHUSDT"]``) as a list, None when absent;
    -1100 unless it is a JSON list of exchange ids without spaces (``[1`` included)."""
    text = request.query.get("symbols")
    if text is None:
        return None
    if _BN_SYMBOLS.fullmatch(text) is None:
        raise _bn_illegal("symbols", _BN_SYMBOLS_RANGE)
    symbols: list[str] = orjson.loads(text)
    return symbols


def binance_uint(request: web.Request, name: str, default: int) -> int:
    """An integer parameter (``limit``, ``fromId``, ``startTime``...): -1100 unless digits."""
    return query_uint(request, name, default, lambda: _bn_illegal(name, _BN_UINT_RANGE).response)


# ---------------------------------------------------------------------------------------- OKX
def okx_ok(data: list[Any]) -> web.Response:
    """OKX's answer: ``{"code": "0", "msg": "", "data": [...]}``."""
    return _body({"code": "0", "msg": "", "data": data})


def okx_error(code: str, msg: str) -> web.Response:
    """OKX's refusal: HTTP 400 with its own code in the body."""
    return _body({"code": code, "msg": msg, "data": []}, 400)


def okx_uint(request: web.Request, name: str, default: int) -> int:
    """An integer parameter (``sz``, ``limit``): 51000 ``Parameter {name} error`` unless digits."""
    return query_uint(request, name, default, lambda: okx_error("51000", f"Parameter {name} error"))


# -------------------------------------------------------------------------------------- Bybit
def bybit_error(code: int, msg: str) -> web.Response:
    """Bybit's refusal: HTTP 200 with ``retCode`` (10001: parameter error)."""
    return _body({"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": int(time.time() * 1000)})


def bybit_uint(request: web.Request, name: str, default: int) -> int:
    """An integer parameter: 10001 ``params error: {name}`` unless digits."""
    return query_uint(request, name, default, lambda: bybit_error(10001, f"params error: {name}"))


# ------------------------------------------------------------------------------------- Kraken
def kraken_error(msg: str) -> web.Response:
    """Kraken's refusal: HTTP 200 ``{"error": [msg]}``."""
    return _body({"error": [msg]})


def kraken_uint(request: web.Request, name: str, default: int) -> int:
    """An integer parameter (``count``): ``EGeneral:Invalid arguments`` unless digits."""
    return query_uint(request, name, default, lambda: kraken_error("EGeneral:Invalid arguments"))


# ----------------------------------------------------------------------------------- Coinbase
def coinbase_json(obj: Any, status: int = 200) -> web.Response:
    """A Coinbase reply (errors: ``{"error": "NOT_FOUND"|"INVALID_ARGUMENT", "message"}``)."""
    return _body(obj, status)


def coinbase_uint(request: web.Request, name: str, default: int) -> int:
    """An integer parameter: 400 ``INVALID_ARGUMENT`` unless digits."""
    return query_uint(request, name, default,
                      lambda: coinbase_json({"error": "INVALID_ARGUMENT", "message": name}, 400))


# ------------------------------------------------------------------------------------- Bitget
def bitget_error(code: str, msg: str) -> web.Response:
    """Bitget's refusal: HTTP 400 with its own code in the body."""
    return _body({"code": code, "msg": msg, "requestTime": int(time.time() * 1000), "data": None}, 400)


def bitget_uint(request: web.Request, name: str, default: int) -> int:
    """An integer parameter: 40034 unless digits."""
    return query_uint(request, name, default, lambda: bitget_error("40034", f"Parameter {name} does not exist"))


# ----------------------------------------------------------------------------------- Bitfinex
def bitfinex_error(msg: str, code: int = 10020) -> web.Response:
    """Bitfinex's refusal: HTTP 500 ``["error", code, msg]`` (10020: parameter error)."""
    return _body(["error", code, msg], 500)


def bitfinex_uint(request: web.Request, name: str, default: int) -> int:
    """An integer parameter (``len``): 10020 ``{name}: invalid`` unless digits."""
    return query_uint(request, name, default, lambda: bitfinex_error(f"{name}: invalid"))
