"""The live page as a user starts it: ``liqcore serve --sim`` (the command, in its own process,
with an API key), the page opened in Debian's chromium at ``/#key=...``: every live view draws
data from the simulator, the history view fills from the reports the service writes to its
store, the console stays clean, and the command stops with exit 0 on SIGTERM.
The views' numbers against the API: ``test_dashboard.py``."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("plotly")

from test_dashboard import chromium, wait_view  # noqa: E402

KEY = "serve-command-key-0123456789"


def test_liqcore_serve_sim_shows_the_page_with_live_data(tmp_path: Path) -> None:
    sync_api, browser_path = chromium()
    with subprocess.Popen([sys.executable, "-m", "liqcore.cli", "serve", "--sim", "--port", "0", "--api-key", KEY,
                           "binance:BTC/USDT", "coinbase:BTC/USD", "kraken:BTC/USD"],
                          cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            _check_the_page(proc, sync_api, browser_path, tmp_path)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(30)
            finally:
                if proc.poll() is None:
                    proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
    assert code == 0, err


def _check_the_page(proc: subprocess.Popen, sync_api: Any, browser_path: str, tmp_path: Path) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    assert m and "the live page at /" in line, line
    url = f"http://127.0.0.1:{m[1]}"
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.set_default_timeout(30_000)
            page.goto(url + "/#key=" + KEY)
            for view in ("heatmap", "depth", "venues"):
                wait_view(page, view, 2, problems)
            page.wait_for_function("window.liqDash.heatmap.stats.columns >= 5")
            assert page.evaluate("location.hash") == ""          # the key left the address bar
            shown = page.locator("#venues-table").inner_text()
            assert all(v in shown for v in ("binance", "coinbase", "kraken")), shown
            # the service writes the held books' reports to its (temporary) store: history fills
            page.wait_for_function("(window.liqDash.last.history || {count: 0}).count >= 2")
            page.screenshot(path=str(tmp_path / "serve-sim.png"))
        finally:
            browser.close()
    assert not problems, problems
