"""``liqcore compare`` in-process and as a subprocess against the local simulator: the table and
JSON agree with the books, exit codes as the help says, bad input is one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")
pytest.importorskip("pydantic")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)

from liqcore.commands import compare  # noqa: E402

RUN = ("import sys; from liqcore.commands import {0} as m; "
       "sys.exit(m.run(m.build_parser('liqcore {0}').parse_args(sys.argv[1:])))")


def call(capsys, *argv):
    code = compare.run(compare.build_parser("liqcore compare").parse_args(list(argv)))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_compares_the_default_trio(capsys):
    code, out, err = call(capsys, "BTC/USDT", "--sim", "--json", "--levels", "5")
    assert code == 0 and err == ""
    r = json.loads(out)
    assert r["symbol"] == "BTC/USD" and r["successful_fetches"] == r["exchanges_compared"] == 3
    rows = {v["exchange"]: v for v in r["venues"]}
    assert {e: v["symbol"] for e, v in rows.items()} == {"binance": "BTC/USDT", "coinbase": "BTC/USD",
                                                         "kraken": "BTC/USD"}
    assert r["best_bid"] == max(v["best_bid"] for v in rows.values())
    assert r["arbitrage"]["route"].startswith("buy ")


def test_table_and_a_venue_left_out(capsys):
    code, out, err = call(capsys, "BTC/USD", "--sim", "--exchanges", "okx,bitfinex,binanceusdm")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "BTC/USD: 2 of 3 venues (local simulator)"
    assert lines[2].startswith("bitfinex ") and lines[3].startswith("okx ")
    assert any(ln.startswith("arbitrage: buy ") for ln in lines)
    assert lines[-1].startswith("binanceusdm: not compared: binanceusdm lists perpetuals only")


def test_one_venue_is_exit_1(capsys):
    code, out, _ = call(capsys, "BTC/USD", "--sim", "--exchanges", "kraken")
    assert code == 1 and "1 of 1 venues" in out


@pytest.mark.parametrize("argv,needle", [
    (["BTC/USDT", "--sim", "--exchanges", "binance,ftx"], "unknown exchange 'ftx'"),
    (["BTCUSDT", "--sim"], "'BTCUSDT' is not a symbol"),
    (["DOGE/USDT", "--sim"], "no venue could be compared: binance: binance lists no 'DOGE/USDT'"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    code, out, err = call(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("liqcore compare: error: ") and needle in err and err.count("\n") == 1


def test_subprocess(tmp_path):
    p = subprocess.run([sys.executable, "-c", RUN.format("compare"), "ETH/USDC", "--sim", "--json",
                        "--exchanges", "binance,kraken"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["symbol"] == "ETH/USD" and [v["symbol"] for v in r["venues"]] == ["ETH/USDT", "ETH/USD"]
    bad = subprocess.run([sys.executable, "-c", RUN.format("compare"), "BTC/USDT", "--levels", "0"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1
