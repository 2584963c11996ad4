"""`liqcore replay FILE...`: the replay subcommand, in-process and once as a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from liqcore.cli import main
from liqcore.recorder import convert
from liqcore.replay import BUNDLED_RECORDING

CF = Path(__file__).resolve().parents[1] / "data" / "cryptofeed"


def test_json_over_every_format(tmp_path, capsys):
    lq = tmp_path / "bitget.lqrec"
    convert(CF / "BITGET.ws.1.0", lq)
    files = [str(CF / "OKX.ws.1.0"), str(CF / "KRAKEN.ws.50.0"), str(lq), str(BUNDLED_RECORDING)]
    assert main(["replay", *files, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["problems"] == []
    assert out["formats"] == ["cryptofeed", "cryptofeed", "liqcore", "hftbacktest"]
    t = out["totals"]
    assert (t["checksums_ok"], t["checksums_failed"], t["checkpoints_ok"], t["checkpoints_failed"]) == (5002, 0, 564, 0)
    books = {(b["exchange"], b["symbol"]): b for b in out["books"]}
    assert len(books) == 22
    assert books["okx", "BTC-USDT"]["best_bid"] == ["30236.1", "0.18050747"]
    assert books["binance", "BTCUSDT"]["levels"] == [1209, 2196]


def test_table_and_exit_status_on_damage(tmp_path, capsys):
    assert main(["replay", str(CF / "OKX.ws.1.0")]) == 0
    text = capsys.readouterr().out
    assert "okx      BTC-USDT" in text and "98/0" in text
    assert "checksums 290 verified, 0 failed" in text and text.rstrip().endswith("OK: every checksum and checkpoint verified")

    lq = tmp_path / "okx.lqrec"
    convert(CF / "OKX.ws.1.0", lq, block_bytes=16 * 1024)
    data = bytearray(lq.read_bytes())
    data[len(data) // 3] ^= 0xFF
    lq.write_bytes(data)
    assert main(["replay", str(lq)]) == 1
    text = capsys.readouterr().out
    assert "damaged: " in text and "NOT OK" in text


def test_errors_and_wrong_exchange(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "missing.lqrec")]) == 2
    assert "liqcore replay: error:" in capsys.readouterr().err
    assert main(["replay", str(CF / "OKX.ws.1.0"), "--exchange", "kraken", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["books"] == [] and out["ok"] is False


def test_bare_liqcore_stays_the_main_job(capsys):
    """No subcommand: the main job's options still parse as before (--help exits)."""
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "--tick-size" in text and "liqcore replay FILE" in text


def test_console_script_subprocess():
    exe = shutil.which("liqcore")
    cmd = [exe] if exe and Path(exe).parent == Path(sys.executable).parent else [sys.executable, "-m", "liqcore.cli"]
    res = subprocess.run([*cmd, "replay", str(CF / "KRAKEN.ws.50.0"), str(CF / "KRAKEN.0"), "--speed", "1000000"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "checksums 4,269 verified, 0 failed" in res.stdout
    assert sum(line.startswith("kraken ") for line in res.stdout.splitlines()) == 10
