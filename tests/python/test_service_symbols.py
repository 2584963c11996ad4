"""One instrument spelling across venues (liqcore.service.symbols): the documented mapping,
what is one instrument and what is not, and clear errors for bad input."""

from __future__ import annotations

import pytest

from liqcore.errors import FeedConfigError, LiqError
from liqcore.service.symbols import Instrument, parse_instrument, venue_symbol


@pytest.mark.parametrize("text", ["BTC/USDT", "btc/usd", "BTC/USDC", "BTC-USD", " BTC/FDUSD "])
def test_usd_family_quotes_are_one_instrument(text):
    assert parse_instrument(text) == Instrument("BTC", "USD")
    assert str(parse_instrument(text)) == "BTC/USD"


def test_the_default_trio_compares_one_instrument_in_each_venues_spelling():
    assert [venue_symbol(v, "BTC/USDT") for v in ("binance", "coinbase", "kraken")] == \
        ["BTC/USDT", "BTC/USD", "BTC/USD"]
    assert [venue_symbol(v, "BTC/USD") for v in ("okx", "bybit", "bitget", "bitfinex")] == \
        ["BTC/USDT", "BTC/USDT", "BTC/USDT", "BTC/USD"]


def test_a_perpetual_is_another_instrument():
    perp = parse_instrument("BTC/USDT:USDT")
    assert perp == Instrument("BTC", "USD", "USD") and perp.perpetual and perp != parse_instrument("BTC/USDT")
    assert str(perp) == "BTC/USD:USD"
    assert [venue_symbol(v, perp) for v in ("binanceusdm", "okx", "bybit", "bitget")] == ["BTC/USDT:USDT"] * 4
    with pytest.raises(FeedConfigError, match="coinbase has no USD-family linear perpetual"):
        venue_symbol("coinbase", perp)
    with pytest.raises(FeedConfigError, match="binanceusdm lists perpetuals only"):
        venue_symbol("binanceusdm", "BTC/USDT")


def test_other_quotes_stay_themselves():
    assert venue_symbol("kraken", "ETH/BTC") == "ETH/BTC"
    assert venue_symbol("binance", "BTC/EUR") == "BTC/EUR" and parse_instrument("BTC/EUR").quote == "EUR"
    assert venue_symbol("okx", "BTC/USD:BTC") == "BTC/USD:BTC"        # inverse: as spelled


@pytest.mark.parametrize("bad", ["BTC", "BTCUSDT", "BTC/", "/USD", "BTC/USD:", "BTC/US D", "BTC/BTC", "",
                                 "B$C/USD", "A" * 30 + "/USD", 42, None])
def test_a_malformed_symbol_is_a_clear_error(bad):
    with pytest.raises(FeedConfigError) as e:
        parse_instrument(bad)
    assert isinstance(e.value, (LiqError, ValueError))
    assert "symbol" in str(e.value)


def test_an_unknown_venue_is_a_clear_error():
    with pytest.raises(FeedConfigError, match=r"unknown exchange 'ftx'; one of binance, .*bitfinex"):
        venue_symbol("ftx", "BTC/USD")
    assert venue_symbol("Binance", "BTC/USD") == "BTC/USDT"


def test_a_stablecoin_pair_keeps_its_quote():
    assert parse_instrument("USDC/USDT") == Instrument("USDC", "USDT")
    assert venue_symbol("binance", "USDC/USDT") == "USDC/USDT"
