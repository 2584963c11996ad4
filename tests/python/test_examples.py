"""Every script in examples/ runs as a user would run it (its own process, from another directory)
and prints what its docstring promises; prices are printed as prices, never in scientific notation."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))
# what each example must print (a new example needs an entry: its output is checked, not only its status)
EXPECTED = {
    "book_basics.py": ["mid 99.75 spread 0.5", "book unchanged after the rejected messages"],
    "replay_binance.py": ["3449 depth events applied", "checkpoints: 564 ok, 0 failed",
                          "  61685.99000000 x 1.00870000", "  61686.00000000 x 2.29327000"],
    "monitor.py": ["watching binance BTC/USDT, okx BTC/USDT", "calm: 0 alerts",
                   "alert SPREAD_WIDENING HIGH on binance BTC/USDT: spread", "alert SPREAD_WIDENING ended",
                   "snapshots, 1 alert (ended)"],
    "risk_monitor.py": ["liquidation price 57236.18", "crossed 50 up", "crossed 50 down", "callbacks: 2"],
}


def test_every_example_is_checked():
    assert [p.name for p in EXAMPLES] == sorted(EXPECTED)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, tmp_path):
    res = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    for text in EXPECTED[path.name]:
        assert text in res.stdout, (text, res.stdout)
    assert not re.search(r"\d\.\d+e[+-]\d\d", res.stdout), res.stdout       # 6.168599e+04
