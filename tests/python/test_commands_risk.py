"""``liqcore risk`` as a subprocess: the liquidation prices of the worked examples in
docs/risk.md (the bundled Binance BTCUSDT table and the note's one-tier 0.4%), the score and
its parts as ``liqcore.risk`` computes them, exit 1 for a liquidated position, and bad input
as one line with exit 2."""

from __future__ import annotations

import json

import pytest

from test_commands_cli import liqcore, one_error_line

from liqcore.risk import DAYS_PER_YEAR, Position, liquidation_risk


def risk_json(tmp_path, *args):
    p = liqcore("risk", *args, "--json", cwd=tmp_path)
    assert p.stderr == "", p.stderr
    return p.returncode, json.loads(p.stdout)


def test_the_worked_liquidation_prices(tmp_path):
    # docs/risk.md: 1 BTC at 60,000, 10x: 54,221.11 on the 2021 BTCUSDT table (tier 2 at 60k)
    code, r = risk_json(tmp_path, "binanceusdm", "BTC/USDT:USDT", "long", "1", "--entry", "60000", "--leverage", "10")
    assert code == 0 and round(r["liquidation"]["price"], 2) == 54_221.11
    assert r["liquidation"]["tier"]["index"] == 1 and r["liquidated"] is False
    # ... and 54,216.87 / 65,737.05 with 0.4% and cum 0 (a one-tier table)
    _, r = risk_json(tmp_path, "binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10", "--mmr", "0.004")
    assert round(r["liquidation"]["price"], 2) == 54_216.87
    _, r = risk_json(tmp_path, "binance", "BTCUSDT", "short", "1", "--entry", "60000", "--leverage", "10", "--mmr", "0.004")
    assert round(r["liquidation"]["price"], 2) == 65_737.05


def test_the_score_is_the_library_score_with_its_parts(tmp_path):
    code, r = risk_json(tmp_path, "bybit", "BTC/USDT:USDT", "short", "2", "--entry", "60000", "--leverage", "20",
                        "--mmr", "0.005", "--price", "61000", "--volatility", "0.8", "--horizon-days", "2",
                        "--funding-rate", "-0.0003")
    assert code == 0
    want = liquidation_risk(Position("bybit", "BTC/USDT:USDT", "short", 2.0, 60_000.0, 20.0), sigma=0.8,
                            liq_price=r["liquidation"]["price"], mark=61_000.0, horizon=2 / DAYS_PER_YEAR,
                            funding_rate=-0.0003, funding_intervals=6.0)
    assert r["risk"]["score"] == pytest.approx(want.score, rel=1e-12)
    assert r["risk"]["components"] == pytest.approx(want.components, rel=1e-12)
    w, c = r["risk"]["weights"], r["risk"]["components"]
    assert "exit" not in c and 0 < r["risk"]["score"] < 100          # no book: the exit part is left out
    assert r["risk"]["score"] == pytest.approx(100 * sum(w[k] * c[k] for k in c) / sum(w.values()))
    assert r["risk"]["funding_cost"] > 0        # a short pays when the rate is < 0 (a cost > 0 is paid)


def test_text_output_and_a_liquidated_position_exits_1(tmp_path):
    p = liqcore("risk", "binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10", cwd=tmp_path)
    assert p.returncode == 0 and "liquidation price: 54,221.11" in p.stdout and "risk score:" in p.stdout
    p = liqcore("risk", "binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10", "--price", "50000",
                cwd=tmp_path)
    assert p.returncode == 1 and "LIQUIDATED" in p.stdout
    code, r = risk_json(tmp_path, "binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10",
                        "--price", "54221")
    assert code == 1 and r["liquidated"] is True and r["risk"]["probability"] == 1.0


@pytest.mark.parametrize("args, says", [
    (["kraken", "BTC/USD", "long", "1", "--entry", "60000", "--leverage", "10", "--mmr", "0.005"],
     "no liquidation formula for 'kraken'"),
    (["binance", "ETHUSDT", "long", "1", "--entry", "3000", "--leverage", "10"], "no bundled tier table for 'ETHUSDT'"),
    (["binance", "BTCUSDT", "long", "abc", "--entry", "60000", "--leverage", "10"], "'abc' is not a number"),
    (["binance", "BTCUSDT", "long", "-1", "--entry", "60000", "--leverage", "10"], "must be a number > 0"),
    (["binance", "BTCUSDT", "sideways", "1", "--entry", "60000", "--leverage", "10"], "invalid choice"),
    (["binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "200"], "above the tier's maximum"),
    (["binance", "BTCUSDT", "long", "1", "--entry", "60000"], "--leverage"),
    (["binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10", "--mmr", "1.5"], "in [0, 1)"),
    (["binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10", "--margin-mode", "cross"],
     "wallet_balance: required in cross margin mode"),
    (["bybit", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10", "--mmr", "0.005", "--margin-mode",
      "cross", "--wallet", "9000"], "Bybit cross margin is not modelled"),
    (["binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10", "--tiers", "missing.json"],
     "missing.json: No such file or directory"),
    (["binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10", "--tiers", "bad.json"], "Expecting"),
    (["binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10", "--tiers", "gap.json"],
     "leaves a gap"),
    (["binance", "BTCUSDT", "long", "1", "--entry", "60000", "--leverage", "10", "--tiers", "gap.json", "--mmr",
      "0.01"], "not both"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, says):
    (tmp_path / "bad.json").write_text("[{")
    (tmp_path / "gap.json").write_text(json.dumps([{"floor": 0, "cap": 50000, "max_leverage": 125, "mmr": 0.004},
                                                   {"floor": 60000, "cap": 1e6, "max_leverage": 100, "mmr": 0.005}]))
    p = liqcore("risk", *args, cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert says in one_error_line(p, "liqcore risk")


def test_a_tier_file_is_used(tmp_path):
    (tmp_path / "tiers.json").write_text(json.dumps([{"floor": 0, "cap": 1e7, "max_leverage": 50, "mmr": 0.004}]))
    code, r = risk_json(tmp_path, "binance", "ETHUSDT", "long", "10", "--entry", "3000", "--leverage", "10",
                        "--tiers", "tiers.json")
    assert code == 0 and r["tiers"] == {"source": "tiers.json", "as_of": "", "count": 1}
    # Binance isolated, one tier, cum 0: LP = (WB - Q*EP) / (Q*MMR - Q) with WB = Q*EP/L
    assert r["liquidation"]["price"] == pytest.approx((3000.0 - 30_000.0) / (10 * 0.004 - 10))
