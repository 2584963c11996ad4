"""The main job: `liqcore` replays the bundled recording and verifies it."""

import json
import shutil
import subprocess
import sys

from liqcore.cli import main


def test_main_job_json(capsys):
    assert main(["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["symbol"] == "BTCUSDT"
    assert out["checkpoints_ok"] == 564 and out["checkpoints_failed"] == 0
    assert out["applied"] == 3449 and out["gaps"] == 0
    assert out["best_bid"] == ["61685.99000000", "1.00870000"]
    assert out["best_ask"] == ["61686.00000000", "2.29327000"]
    assert out["levels"] == [1209, 2196]
    impact = out["impact"]
    assert impact["buy_vwap"] >= 61686.0 and impact["sell_vwap"] <= 61685.99
    assert impact["buy_slippage_mid_bps"] > 0 and impact["sell_slippage_mid_bps"] > 0


def test_main_job_console_script_prints_progress_and_summary():
    exe = shutil.which("liqcore")
    cmd = [exe] if exe else [sys.executable, "-m", "liqcore.cli"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    progress = [ln for ln in lines if ln.startswith("[")]
    assert len(progress) >= 9                                  # a line per 10% when not a terminal
    assert "100.0%" in progress[-1]
    assert "564 ok, 0 failed" in res.stdout
    assert "$100,000 market buy" in res.stdout
