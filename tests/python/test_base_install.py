"""What ``pip install liqcore`` (no extra) promises a bot that only embeds the book: the book, its
analytics, recordings and replays import nothing of the feed (ccxt, aiohttp) or the statistics
(numba, llvmlite); a statistic without numba says which extra to install."""

from __future__ import annotations

import subprocess
import sys

EXTRAS_ONLY = ("ccxt", "aiohttp", "numba", "llvmlite", "pandas", "pyarrow", "psycopg", "fastapi", "redis")


def _run(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


def test_the_book_recordings_and_replays_import_no_extra(tmp_path):
    code = ("import sys\n"
            "from liqcore import OrderBook\n"
            "import liqcore.recorder, liqcore.recordings, liqcore.replay, liqcore.liquidity\n"
            "b = OrderBook(tick_size='0.01', lot_size='0.001')\n"
            "b.apply_snapshot([['100', '1'], ['99.99', '2']], [['100.01', '2']])\n"
            "assert b.walk('buy', 1).vwap == 100.01 and b.liquidity_report().levels == 10\n"
            f"bad = [m for m in {EXTRAS_ONLY!r} if m in sys.modules]\n"
            "assert not bad, bad\n")
    res = _run(code, tmp_path)
    assert res.returncode == 0, res.stderr


def test_a_statistic_without_numba_names_the_extra(tmp_path):
    code = ("import sys\n"
            "sys.modules['numba'] = None            # as if numba were not installed\n"
            "from liqcore import flowstats\n"
            "try:\n"
            "    flowstats.vpin([1], [1.0], 1.0, 1, side=[1])\n"
            "except ImportError as e:\n"
            "    assert \"pip install 'liqcore[stats]'\" in str(e), e\n"
            "else:\n"
            "    raise AssertionError('no ImportError')\n")
    res = _run(code, tmp_path)
    assert res.returncode == 0, res.stderr
