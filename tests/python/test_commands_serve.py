"""``liqcore serve``: bad input and unsafe binds refused in one line (exit 2); as a subprocess
with ``--sim`` it serves live books on an ephemeral loopback port and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")
pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from test_commands_compare import RUN  # noqa: E402

from liqcore.commands import serve  # noqa: E402


def call(capsys, *argv):
    code = serve.run(serve.build_parser("liqcore serve").parse_args(list(argv)))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv,needle", [
    (["--host", "0.0.0.0"], "refusing to bind 0.0.0.0, which is not loopback, without an API key"),
    (["--host", "0.0.0.0", "--api-key", "short"], "at least 16 characters"),
    (["BTC/USDT"], "expected EXCHANGE:BASE/QUOTE"),
    (["ftx:BTC/USDT"], "unknown exchange 'ftx'"),
    (["--port", "70000"], "--port must be 0..65535"),
])
def test_bad_input_is_one_line_exit_2(capsys, monkeypatch, argv, needle):
    monkeypatch.delenv("LIQCORE_API_KEY", raising=False)
    code, out, err = call(capsys, "--sim", *argv)
    assert code == 2 and out == "" and err.startswith("liqcore serve: error: ") and needle in err
    assert err.count("\n") == 1


def test_a_port_in_use_is_exit_2(capsys):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        code, out, err = call(capsys, "--sim", "--port", str(port))
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}: Address already in use" in err


def test_a_store_that_cannot_be_opened_is_exit_2(capsys, tmp_path):
    code, _, err = call(capsys, "--sim", "--db", str(tmp_path))          # a directory, not a database
    assert code == 2 and err.startswith("liqcore serve: error: ") and err.count("\n") == 1


def test_subprocess_serves_and_stops_on_sigterm(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", RUN.format("serve"), "--sim", "--port", "0",
                             "okx:BTC/USDT", "--db", str(tmp_path / "h.db")],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("liqcore serve: http://127.0.0.1:") and "(local simulator)" in line, \
            line + proc.stderr.read() if proc.poll() is not None else line
        url = line.split()[2]
        with httpx.Client(base_url=url, timeout=30) as c:
            r = c.post("/api/v1/market-impact", json={"exchange": "okx", "symbol": "BTC/USDT", "side": "sell",
                                                      "amount": 0.5})
            assert r.status_code == 200 and r.json()["venue_symbol"] == "BTC/USDT", r.text
            assert c.get("/api/v1/health").json()["status"] == "ok"
            assert c.get("/api/v1/alerts", params={"exchange": "okx", "symbol": "BTC/USD"}).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "Traceback" not in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
