"""The main job (`liqcore`): the local simulator replays the bundled recording, ccxt.pro watches it
through liqcore's feed, every bookTicker checkpoint is verified against the live book; and
`liqcore watch` (the online command) run against the simulator.

What is proved: 564/564 checkpoints and the recording's final book (levels and wire strings)
through the whole live stack, in-process and as the installed console script; the C frame path
and the Python path end on identical books; --speed paces the simulator; without ccxt/aiohttp
the command says so and falls back to the direct replay; `liqcore watch` parses its pairs,
ends books equal to the simulator's true books, and exits cleanly on Ctrl-C; an exchange it cannot
reach is one line and the other books go on. A truncated recording is replayed as far as it can
be read, and every user error (bad options, values, pairs, files) is one line and exit 2.
"""

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)

from test_replay_cli import CF, liqcore_command, one_line, truncated_gzip  # noqa: E402

from liqcore.cli import main  # noqa: E402
from liqcore.feed import create_exchange  # noqa: E402
from liqcore.sim import ExchangeSimulator  # noqa: E402
from liqcore.sim.urls import loopback_urls  # noqa: E402
from liqcore.watch import main_job, parse_pair, watch  # noqa: E402

FINAL_BID = ["61685.99000000", "1.00870000"]
FINAL_ASK = ["61686.00000000", "2.29327000"]


def _cmd(*args):
    return liqcore_command() + list(args)


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
    assert main(["watch", "--sim", "deribit:BTC/USD", "--seconds", "0.1"]) == 2
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


def run_main(argv, capsys):
    """``main(argv)``'s exit status (argparse's too), stdout and stderr."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err


# ----------------------------------------------------------------------------- user errors
@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "x"])
def test_main_job_refuses_a_speed_that_is_not_positive(capsys, value):
    code, out, err = run_main(["--speed", value, "--json"], capsys)
    assert code == 2 and out == ""
    assert one_line(err).startswith("liqcore: error: argument --speed: ")


def test_main_job_replays_a_truncated_gzip_recording_as_far_as_it_reads(tmp_path, capsys):
    cut = truncated_gzip(tmp_path)
    code, out, err = run_main(["--file", str(cut), "--json"], capsys)
    assert code == 1 and err == ""
    s = json.loads(out)
    (damage,) = s["damage"]
    assert damage["file"] == str(cut) and "gzip stream ends early" in damage["reason"]
    assert s["ok"] is False and s["applied"] == s["events"] > 1000
    assert s["checkpoints_ok"] == s["checkpoints_expected"] > 100 and s["checkpoints_failed"] == 0
    # the direct replay (the fallback) too, with the summary line saying where it stopped
    code, out, err = run_main(["--direct", "--file", str(cut)], capsys)
    assert code == 1 and err == ""
    assert f"damaged: {cut} line {damage['line']:,}: the gzip stream ends early (truncated file?)" in out


_MAIN_ERRORS = [
    ["--levels", "0"], ["--levels", "1.5"], ["--timeout", "0"], ["--notional", "-5"], ["--tick-size", "abc"],
    ["--tick-size", "0"], ["--lot-size", "-1"], ["--bogus"], ["--file"], ["--file", "{missing}"], ["--file", "{dir}"],
    ["--file", "{text}"], ["--file", "{junk}"], ["--file", "{okx}"], ["--direct", "--file", "{text}"],
    ["--direct", "--file", "{dir}"], ["--direct", "--tick-size", "0.5e-30"],
]
_REPLAY_ERRORS = [
    ["replay"], ["replay", "--speed", "0", "{okx}"], ["replay", "--speed", "-1", "{okx}"], ["replay", "{okx}", "--x"],
    ["replay", "--exchange", "foo", "{okx}"], ["replay", "{text}"], ["replay", "{junk}"], ["replay", ""],
    ["replay", "{dir}"], ["replay", "{missing}"],
]
_WATCH_ERRORS = [
    ["watch"], ["watch", "binance:"], ["watch", ":BTC"], ["watch", ":BTC/USDT"], ["watch", "binance"],
    ["watch", "binance:BTCUSDT"], ["watch", "foo:BTC/USDT"], ["watch", "binance:BTC/USDT", "foo:BTC/USDT"],
    ["watch", "--seconds", "-1", "binance:BTC/USDT"], ["watch", "--seconds", "0", "binance:BTC/USDT"],
    ["watch", "--depth", "0", "binance:BTC/USDT"], ["watch", "--refresh", "nan", "binance:BTC/USDT"],
    ["watch", "--levels", "x", "binance:BTC/USDT"], ["watch", "--sim", "deribit:BTC/USD"],
    ["watch", "binance:BTC/USDT", "--bogus"],
]


@pytest.mark.parametrize("argv", _MAIN_ERRORS + _REPLAY_ERRORS + _WATCH_ERRORS, ids=" ".join)
def test_user_errors_are_one_line_and_exit_2(tmp_path, capsys, argv):
    (tmp_path / "dir").mkdir()
    (tmp_path / "text").write_text("# notes\n\n1e\u22124 of mid\n")
    (tmp_path / "junk").write_bytes(bytes(range(256)) * 8)
    paths = {"missing": tmp_path / "missing", "dir": tmp_path / "dir", "text": tmp_path / "text",
             "junk": tmp_path / "junk", "okx": CF / "OKX.ws.1.0"}
    code, out, err = run_main([a.format(**paths) for a in argv], capsys)
    assert code == 2, (out, err)
    line = one_line(err)
    assert line.startswith(("liqcore: error: ", "liqcore replay: error: ", "liqcore watch: error: ")), line
    assert out == ""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sub=st.sampled_from(["replay", "watch"]),
       tokens=st.lists(st.sampled_from(
           ["--speed", "--exchange", "--strict", "--json", "--seconds", "--depth", "--levels", "--notional",
            "--refresh", "--seed", "--python-path", "-1", "0", "1e999", "nan", "abc", "okx", "foo", "-", "--", "",
            "binance:", ":BTC", ":BTC/USDT", "binance:BTC", "foo:BTC/USDT", "okx:", str(CF / "OKX.ws.1.0"),
            str(CF / "missing"), str(CF)]), max_size=6))
def test_fuzzed_command_lines_end_in_one_line_never_a_traceback(capsys, sub, tokens):
    """Random command lines (no pair an exchange could be asked about): whatever they are, the
    command ends with a status it documents; an error is one line."""
    code, out, err = run_main([sub, *tokens], capsys)
    assert code in (0, 1, 2)
    if code == 2:
        one_line(err)
    else:                                                   # a valid replay of the OKX capture
        assert sub == "replay" and "Traceback" not in err


# ----------------------------------------------------------------------------- unreachable exchanges
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_watch_goes_on_without_an_exchange_it_cannot_reach():
    """binance points at a closed local port, okx at the simulator: one line says binance cannot be
    reached, okx is watched to the end; the result is not ok (a book is missing)."""
    async def body():
        async with ExchangeSimulator(seed=2, interval=0.01, max_seconds=30) as sim:
            dead = create_exchange("binance", {"enableRateLimit": False})
            dead.urls["api"] = loopback_urls(dead.urls["api"], f"http://127.0.0.1:{_closed_port()}")
            okx = sim.attach(create_exchange("okx", {"enableRateLimit": False}))
            err = io.StringIO()
            res = await watch([("binance", "BTC/USDT"), ("okx", "BTC/USDT"), ("okx", "NOPE/USDT")], seconds=1.0,
                              quiet=True, exchanges={"binance": dead, "okx": okx}, err=err)
            return res, err.getvalue()
    res, err = asyncio.run(body())
    lines = err.splitlines()
    assert len(lines) == 2 and "Traceback" not in err
    assert lines[0].startswith("liqcore watch: binance cannot be reached (") and "127.0.0.1" in lines[0]
    assert lines[1] == "liqcore watch: okx lists no 'NOPE/USDT'; not watched"
    assert [(b["exchange"], b["symbol"], b["state"]) for b in res["books"]] == [("okx", "BTC/USDT", "live")]
    assert res["books"][0]["applied"] > 10
    assert [(u["exchange"], u["symbol"]) for u in res["unavailable"]] == [("binance", "BTC/USDT"),
                                                                          ("okx", "NOPE/USDT")]
    assert res["ok"] is False


def test_watch_without_network_is_one_line_per_exchange_and_exit_2(capsys, monkeypatch, no_internet):
    """`liqcore watch binance:BTC/USDT okx:BTC/USDT` with no network (the test guard refuses every
    DNS lookup that is not loopback): one line per exchange, no traceback, exit 2."""
    # uvloop resolves names in libuv, past the guard's socket.getaddrinfo: run on asyncio's loop
    monkeypatch.setitem(sys.modules, "uvloop", None)
    code, out, err = run_main(["watch", "binance:BTC/USDT", "okx:BTC/USDT", "--seconds", "5"], capsys)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert [ln.split(" cannot be reached (")[0] for ln in lines] == ["liqcore watch: binance", "liqcore watch: okx"]
    assert all("test guard: no DNS" in ln and ln.endswith("; its books are not watched") for ln in lines)
    assert no_internet                                       # the guard, not the internet, answered
    no_internet.clear()
