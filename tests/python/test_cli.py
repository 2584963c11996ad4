"""The main job (`liqcore`): the local simulator replays the bundled recording, ccxt.pro watches it
through liqcore's feed, every bookTicker checkpoint is verified against the live book; and
`liqcore watch` (the online command) run against the simulator.

What is proved: 564/564 checkpoints and the recording's final book (levels and wire strings)
through the whole live stack, in-process and as the installed console script; the C frame path
and the Python path end on identical books; --speed paces the simulator; without ccxt/aiohttp
the command says so and falls back to the direct replay; `liqcore watch` parses its pairs,
ends books equal to the simulator's true books, and exits cleanly on Ctrl-C.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from test_sim import no_internet  # noqa: E402,F401  (the autouse no-internet guard)

from liqcore.cli import main  # noqa: E402
from liqcore.watch import main_job, parse_pair  # noqa: E402

FINAL_BID = ["61685.99000000", "1.00870000"]
FINAL_ASK = ["61686.00000000", "2.29327000"]


def _cmd(*args):
    # the console script of the interpreter running the tests (another one may come first on PATH)
    exe = Path(sys.executable).with_name("liqcore")
    return ([str(exe)] if exe.exists() else [sys.executable, "-m", "liqcore.cli"]) + list(args)


def test_main_job_json(capsys):
    assert main(["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["simulator"] is True and out["fast_path"] is True and out["ok"] is True
    assert out["exchange"] == "binance" and out["symbol"] == "BTC/USDT" and out["market_id"] == "BTCUSDT"
    assert out["checkpoints_expected"] == 564
    assert out["checkpoints_ok"] == 564 and out["checkpoints_failed"] == 0 and out["checkpoints_missed"] == 0
    assert out["applied"] == out["events"] == 3449
    assert out["gaps"] == 0 and out["resyncs"] == 0 and out["snapshots"] == 1 and out["state"] == "live"
    assert out["best_bid"] == FINAL_BID and out["best_ask"] == FINAL_ASK
    assert out["levels"] == [1209, 2196]
    assert out["last_update_id"] == 50093421584
    impact = out["impact"]
    assert impact["buy_vwap"] >= 61686.0 and impact["sell_vwap"] <= 61685.99
    assert impact["buy_slippage_mid_bps"] > 0 and impact["sell_slippage_mid_bps"] > 0


def test_main_job_fast_and_python_paths_end_on_identical_books():
    fast = asyncio.run(main_job(quiet=True, fast_path=True))
    slow = asyncio.run(main_job(quiet=True, fast_path=False))
    assert fast["ok"] and slow["ok"]
    assert fast["checkpoints_ok"] == slow["checkpoints_ok"] == 564
    a, b = fast["book"], slow["book"]
    for side in ("bid", "ask"):
        assert a.level_strings(side) == b.level_strings(side)
    assert a.last_update_id == b.last_update_id == 50093421584


def test_main_job_speed_paces_the_simulator():
    # 3449 events over 346 s recorded: at 500x the replay cannot take less than ~0.69 s
    s = asyncio.run(main_job(quiet=True, speed=500))
    assert s["ok"] and s["checkpoints_ok"] == 564
    assert s["seconds"] >= 0.6


def test_main_job_console_script_prints_progress_and_summary():
    res = subprocess.run(_cmd(), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert "local exchange simulator" in lines[0] and "ccxt.pro" in lines[0]
    progress = [ln for ln in lines if ln.startswith("[")]
    assert len(progress) == 10                                  # a line per 10% when not a terminal
    assert "100.0%" in progress[-1] and "bid 61,685.99 x 1.00870" in progress[-1]
    assert "564 ok, 0 failed, 0 missed, of 564" in res.stdout
    assert "0 resyncs, 0 gaps" in res.stdout
    assert "best bid 61685.99000000 x 1.00870000, best ask 61686.00000000 x 2.29327000" in res.stdout
    assert "$100,000 market buy" in res.stdout


def test_main_job_without_ccxt_says_so_and_falls_back(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "aiohttp", None)           # as if aiohttp were not installed
    assert main(["--json"]) == 0
    cap = capsys.readouterr()
    assert "needs ccxt and aiohttp" in cap.err and "falling back" in cap.err
    out = json.loads(cap.out)
    assert out["mode"] == "direct replay"
    assert out["checkpoints_ok"] == 564 and out["checkpoints_failed"] == 0 and out["applied"] == 3449
    assert out["best_bid"] == FINAL_BID and out["best_ask"] == FINAL_ASK and out["levels"] == [1209, 2196]


def test_direct_replay_option(capsys):
    assert main(["--direct", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "direct replay" and out["checkpoints_ok"] == 564


# ----------------------------------------------------------------------------- watch
def test_watch_pair_parsing(capsys):
    assert parse_pair("binance:BTC/USDT") == ("binance", "BTC/USDT")
    assert parse_pair("BinanceUSDM:BTC/USDT:USDT") == ("binanceusdm", "BTC/USDT:USDT")
    for bad in ("BTC/USDT", "binance:", ":BTC/USDT", "binance:BTCUSDT"):
        with pytest.raises(ValueError):
            parse_pair(bad)
    with pytest.raises(SystemExit) as exc:
        main(["watch", "binance-BTC/USDT"])
    assert exc.value.code == 2
    assert "EXCHANGE:BASE/QUOTE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["watch"])                                          # at least one pair


def test_watch_rejects_exchanges_the_simulator_does_not_serve(capsys):
    assert main(["watch", "--sim", "kraken:BTC/USD", "--seconds", "0.1"]) == 2
    assert "simulator serves" in capsys.readouterr().err


def test_watch_against_the_simulator(capsys):
    pairs = ["binance:BTC/USDT", "okx:BTC/USDT", "binanceusdm:BTC/USDT:USDT"]
    assert main(["watch", "--sim", "--seed", "4", "--seconds", "1.5", "--json", *pairs]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["simulator"] is True and out["interrupted"] is False and out["ok"] is True
    assert [(b["exchange"], b["symbol"]) for b in out["books"]] == [tuple(p.split(":", 1)) for p in pairs]
    for b in out["books"]:
        assert b["state"] == "live" and b["matches_simulator"] is True, b
        assert b["applied"] > 20 and b["resyncs"] == 0 and b["gaps"] == 0
        assert b["best_bid"] is not None and b["impact"]["buy_vwap"] > 0
    okx = out["books"][1]
    assert okx["checksum_ok"] == okx["applied"] + okx["snapshots"] and okx["checksum_failed"] == 0


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery")
def test_watch_console_script_exits_cleanly_on_ctrl_c():
    proc = subprocess.Popen(_cmd("watch", "--sim", "binance:BTC/USDT", "okx:BTC/USDT", "--refresh", "0.2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        seen = []
        while time.monotonic() - t0 < 60:                       # wait for the live lines of both books
            ln = proc.stdout.readline()
            if not ln:
                break
            seen.append(ln)
            if sum(" msgs | bid " in s for s in seen) >= 4:
                break
        assert sum(" msgs | bid " in s for s in seen) >= 4, "".join(seen)
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "liqcore watch: interrupted" in rest
    assert rest.count("equals the simulator's true book") == 2
