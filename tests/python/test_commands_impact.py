"""``liqcore impact`` in-process and as a subprocess against the local simulator."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")
pytest.importorskip("pydantic")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from test_commands_compare import RUN  # noqa: E402

from liqcore.commands import impact  # noqa: E402


def call(capsys, *argv):
    code = impact.run(impact.build_parser("liqcore impact").parse_args(list(argv)))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_per_venue(capsys):
    code, out, err = call(capsys, "BTC/USDT", "30000", "--quote", "--side", "sell", "--sim", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert (r["symbol"], r["side"], r["amount_in"]) == ("BTC/USD", "sell", "quote") and r["failures"] == {}
    venues = {v["exchange"]: v for v in r["venues"]}
    assert sorted(venues) == ["binance", "coinbase", "kraken"]
    for v in venues.values():
        assert v["total_quote_amount"] == pytest.approx(30000) and v["sufficient_liquidity"]
        assert v["average_price"] <= v["best_price"]                 # a sell walks down the bids


def test_an_order_too_big_and_a_venue_that_cannot_list_it_are_exit_1(capsys):
    code, out, err = call(capsys, "BTC/USD", "10000", "--sim", "--exchanges", "okx,binanceusdm")
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == "buy 10000 (base) of BTC/USD (local simulator)"
    assert lines[2].startswith("okx ") and lines[2].endswith("NO")
    assert lines[3].startswith("binanceusdm: not priced: ")


@pytest.mark.parametrize("argv,needle", [
    (["BTC/USDT", "1", "--sim", "--exchanges", "ftx"], "unknown exchange 'ftx'"),
    (["BTC-USDT-SWAP", "1", "--sim"], "is not a symbol"),
    (["BTC/USDT", "0", "--sim"], "must be a number > 0"),
    (["BTC/USDT", "nan", "--sim"], "must be a number > 0"),
    (["BTC/USDT", "1", "--side", "hold", "--sim"], "invalid choice"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    try:
        code, out, err = call(capsys, *argv)
    except SystemExit as e:                          # argparse: usage errors exit 2 themselves
        code, (out, err) = e.code, capsys.readouterr()
    assert code == 2 and out == "" and needle in err and err.count("\n") == 1


def test_subprocess(tmp_path):
    p = subprocess.run([sys.executable, "-c", RUN.format("impact"), "BTC/USDT:USDT", "3", "--sim",
                        "--exchanges", "binanceusdm,okx,bybit,bitget"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode in (0, 1), p.stderr
    out = p.stdout.splitlines()
    assert out[0] == "buy 3 (base) of BTC/USD:USD (local simulator)"
    assert sorted(ln.split()[0] for ln in out[2:]) == ["binanceusdm", "bitget", "bybit", "okx"]
    assert all(ln.split()[1] == "BTC/USDT:USDT" for ln in out[2:])
