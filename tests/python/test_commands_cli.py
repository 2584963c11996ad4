"""The ``liqcore`` command's dispatch (issue 13, "Command line"), driven as a subprocess.

What is proved here:

* ``liqcore --help`` still documents the main job and ends with every subcommand whose module is
  present, each with its HELP line; a registered name whose module is absent is not offered
  (``liqcore compare`` is then the main job's one-line usage error, exit 2);
* every subcommand's help states its exit codes, and a usage error is one line, exit 2;
* ``liqcore watch --sim`` serves every venue the simulator speaks: one book per ccxt id (and the
  Bybit and Bitget perpetuals) ends live and equal to the simulator's true book, level for level.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from liqcore import commands
from liqcore.cli import COMMANDS, available_commands

COMMANDS_DIR = Path(commands.__file__).parent


def liqcore(*args: str, cwd: Path, timeout: float = 120.0, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``python -m liqcore.cli ARGS`` in ``cwd`` (never the repository root: the installed package
    is imported, as a user's shell would)."""
    return subprocess.run([sys.executable, "-m", "liqcore.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def one_error_line(p: subprocess.CompletedProcess[str], prefix: str) -> str:
    """The single stderr line of a failed command, checked to start with ``prefix: error:``."""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert lines[0].startswith(f"{prefix}: error: "), lines[0]
    return lines[0]


def test_help_lists_the_present_subcommands_with_their_help_line(tmp_path):
    p = liqcore("--help", cwd=tmp_path)
    assert p.returncode == 0 and "--tick-size" in p.stdout          # the main job's options are still there
    listing = p.stdout.split("subcommands (liqcore <subcommand> --help):\n", 1)[1]
    present = [n for n in COMMANDS if (COMMANDS_DIR / f"{n}.py").is_file()]
    assert available_commands() == present
    assert {"watch", "replay", "record", "history", "alerts", "risk", "bench"} <= set(present)
    names = [line.split()[0] for line in listing.splitlines()]
    assert names == present
    for line in listing.splitlines():
        name, text = line.split(None, 1)
        assert text == __import__(f"liqcore.commands.{name}", fromlist=["HELP"]).HELP


def test_a_registered_name_without_its_module_is_not_offered(tmp_path):
    absent = [n for n in COMMANDS if not (COMMANDS_DIR / f"{n}.py").is_file()]
    if not absent:
        pytest.skip("every registered subcommand is present")
    p = liqcore(absent[0], cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert "unrecognized arguments" in one_error_line(p, "liqcore")


@pytest.mark.parametrize("name", [n for n in COMMANDS if (COMMANDS_DIR / f"{n}.py").is_file()])
def test_every_subcommand_states_its_exit_codes_and_says_usage_errors_in_one_line(tmp_path, name):
    p = liqcore(name, "--help", cwd=tmp_path)
    assert p.returncode == 0 and "Exit status: 0" in " ".join(p.stdout.split()), p.stdout
    p = liqcore(name, "--no-such-option", cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    one_error_line(p, f"liqcore {name}")


#: one book per market the simulator serves: (ccxt id, unified symbol)
SIM_BOOKS = [("binance", "BTC/USDT"), ("binanceusdm", "BTC/USDT:USDT"), ("okx", "BTC/USDT"), ("bybit", "BTC/USDT"),
             ("bybit", "BTC/USDT:USDT"), ("coinbase", "BTC/USD"), ("kraken", "BTC/USD"), ("bitget", "BTC/USDT"),
             ("bitget", "BTC/USDT:USDT"), ("bitfinex", "BTC/USD")]


def test_watch_sim_serves_every_venue_of_the_simulator(tmp_path):
    from liqcore.watch import SIM_VENUES

    assert {ex for ex, _ in SIM_BOOKS} == set(SIM_VENUES)
    p = liqcore("watch", "--sim", "--seed", "5", "--seconds", "1.5", "--json", *(f"{e}:{s}" for e, s in SIM_BOOKS),
                cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert [(b["exchange"], b["symbol"]) for b in out["books"]] == SIM_BOOKS and out["unavailable"] == []
    for b in out["books"]:
        assert b["state"] == "live" and b["matches_simulator"] is True, b
        assert b["applied"] > 10 and b["gaps"] == 0 and b["resyncs"] == 0, b
        assert b["levels"][0] >= 10 and b["levels"][1] >= 10, b
    assert out["ok"] is True


def test_watch_sim_refuses_an_exchange_the_simulator_does_not_speak(tmp_path):
    p = liqcore("watch", "--sim", "--seconds", "0.5", "deribit:BTC/USD", cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert "the simulator serves binance, binanceusdm, okx, bybit" in one_error_line(p, "liqcore watch")


def test_watch_sim_tells_a_book_that_is_not_the_simulators(tmp_path):
    """Negative control of the check: each exchange is pointed at a second simulator with other
    books (seed 7) while the watch compares with its own (seed 5): no book may pass as equal."""
    pytest.importorskip("ccxt.pro")
    import asyncio

    from liqcore.feed import create_exchange
    from liqcore.sim import ExchangeSimulator
    from liqcore.watch import watch

    books = [(e, s) for e, s in SIM_BOOKS if e not in ("binance", "binanceusdm", "okx")]   # the venues added

    async def body():
        async with ExchangeSimulator(seed=7, interval=0.01, max_seconds=60) as other:
            exchanges = {e: other.attach(create_exchange(e, {"enableRateLimit": False})) for e, _ in books}
            return await watch(books, seconds=1.0, quiet=True, simulator=True, seed=5, exchanges=exchanges,
                               live_timeout=2.0)
    res = asyncio.run(body())
    assert [(b["exchange"], b["symbol"]) for b in res["books"]] == books
    for b in res["books"]:
        assert b["state"] == "live" and b["applied"] > 10 and b["matches_simulator"] is False, b
    assert res["ok"] is False
