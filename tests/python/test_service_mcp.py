"""The agent tools over the Model Context Protocol, with a real ``mcp.ClientSession``: over stdio
against ``liqcore mcp --sim`` run as a subprocess, and over streamable HTTP (in process, and the
command's ``--transport http``). Listed tools carry the registry's schemas; each call's structured
result (validated by the client against the output schema) equals the numbers computed directly
from the books; a bad argument is a tool error (``isError``) and the server goes on answering;
the command's bad input is one line and exit 2."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")
mcp = pytest.importorskip("mcp")
pytest.importorskip("uvicorn")

from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from simtest import run  # noqa: E402
from test_service_hub import TICK  # noqa: E402
from test_service_tools import CALLS, check_hub_tools, subscribe_and_freeze, write_alerts  # noqa: E402

from liqcore.service.hub import BookHub  # noqa: E402
from liqcore.service.mcp_server import HttpEndpoint, LoopbackOnlyError  # noqa: E402
from liqcore.service.tools import TOOLS  # noqa: E402

#: the simulator of the stdio server and of the test's own hub: same seed, never ticks (frozen)
SEED, FROZEN = ["--seed", "11"], ["--sim-interval", "3600"]
BAD_IMPACT = {"exchange": "binance", "symbol": "BTC/USDT", "side": "buy", "amount": -1}


def command(*args: str) -> list[str]:
    """``liqcore mcp ARGS`` as a subprocess command line."""
    return [sys.executable, "-m", "liqcore.commands.mcp", *args]


def environment(tmp_path: Path) -> dict[str, str]:
    """The subprocess's environment: the default store lives in ``tmp_path`` (none there)."""
    return {**os.environ, "LIQCORE_DATA_DIR": str(tmp_path)}


def structured(result: Any) -> dict[str, Any]:
    """A successful call's structured result (and its text content says the same)."""
    assert result.is_error is False, result.content
    assert json.loads(result.content[0].text) == result.structured_content
    return dict(result.structured_content)


def tool_error(result: Any) -> str:
    """A failed call's one-line reason."""
    assert result.is_error is True and result.structured_content is None
    text = result.content[0].text
    assert "\n" not in text and "Traceback" not in text
    return str(text)


async def check_listing(session: ClientSession, names: list[str]) -> None:
    listed = (await session.list_tools()).tools
    assert [t.name for t in listed] == names
    for t in listed:
        tool = TOOLS[t.name]
        assert (t.description, t.input_schema, t.output_schema) == (tool.description, tool.input_schema,
                                                                    tool.output_schema)
        assert t.annotations is not None and t.annotations.read_only_hint is True


async def check_errors_then_answers(session: ClientSession) -> None:
    """Bad arguments, venue, symbol and tool name are tool errors; the session then still answers."""
    assert tool_error(await session.call_tool("calculate_market_impact", BAD_IMPACT)) == \
        "amount: Input should be greater than 0 (got -1)"
    assert tool_error(await session.call_tool("liquidity_report", {"exchange": "ftx", "symbol": "BTC/USDT"})) \
        .startswith("unknown exchange 'ftx'; one of binance")
    assert "lists no 'DOGE/USDT'" in tool_error(
        await session.call_tool("liquidity_report", {"exchange": "binance", "symbol": "DOGE/USDT"}))
    assert tool_error(await session.call_tool("liquidity_report", {"exchange": "kraken"})) == \
        "symbol: Field required"
    assert tool_error(await session.call_tool("nope", {})).startswith("unknown tool 'nope'")
    out = structured(await session.call_tool("calculate_market_impact", CALLS["calculate_market_impact"]))
    assert out["sufficient_liquidity"] is True and out["total_base_amount"] == 3.5


def test_stdio_session_against_liqcore_mcp_sim(tmp_path):
    """The command as the client starts it; its simulator and the test's own run the same seed,
    frozen, so the test's books are the server's."""
    write_alerts(str(tmp_path / "h.db"))
    params = StdioServerParameters(command=sys.executable, cwd=tmp_path, env={"LIQCORE_DATA_DIR": str(tmp_path)},
                                   args=command("--sim", *SEED, *FROZEN, "--store", str(tmp_path / "h.db"))[1:])

    async def body():
        async with BookHub(sim=True, seed=11, sim_interval=3600) as truth:
            await subscribe_and_freeze(truth)
            with open(tmp_path / "stderr.txt", "w") as errlog:
                async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                    init = await session.initialize()
                    assert init.server_info.name == "liqcore" and "quote currency" in (init.instructions or "")
                    await check_listing(session, list(TOOLS))

                    async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
                        return structured(await session.call_tool(name, arguments))
                    await check_hub_tools(call, truth)
                    alerts = await call("liquidity_alerts", {"exchange": "binance", "symbol": "BTC/USDT"})
                    assert [(a["id"], a["deviation_pct"]) for a in alerts["alerts"]] == [("a1", 800.0), ("a2", 300.0)]
                    assert tool_error(await session.call_tool("liquidity_alerts", {
                        "exchange": "binance", "symbol": "BTC/USDT", "limit": 0})).startswith("limit: ")
                    await check_errors_then_answers(session)
        err = (tmp_path / "stderr.txt").read_text()
        assert "Traceback" not in err and "serving compare_exchanges" in err
    run(body(), 120)


def test_streamable_http_session_against_the_hubs_books():
    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub, HttpEndpoint(hub, port=0) as endpoint:
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+/mcp", endpoint.url) and endpoint.port > 0
            await subscribe_and_freeze(hub)
            async with streamable_http_client(endpoint.url) as (read, write, *_), \
                    ClientSession(read, write) as session:
                await session.initialize()
                await check_listing(session, [n for n in TOOLS if n != "liquidity_alerts"])   # no store

                async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
                    return structured(await session.call_tool(name, arguments))
                await check_hub_tools(call, hub)
                await check_errors_then_answers(session)
                assert tool_error(await session.call_tool("liquidity_alerts", {
                    "exchange": "binance", "symbol": "BTC/USDT"})).startswith("unknown tool 'liquidity_alerts'")
            # a second session on the same endpoint
            async with streamable_http_client(endpoint.url) as (read, write, *_), \
                    ClientSession(read, write) as session:
                await session.initialize()
                out = structured(await session.call_tool("liquidity_report", CALLS["liquidity_report"]))
                assert out["best_bid"] == hub.book("kraken", "BTC/USD").best_bid[0]
    run(body(), 90)


def test_the_endpoint_binds_loopback_only():
    async def body():
        async with BookHub(sim=True, sim_interval=TICK) as hub:
            for host in ("0.0.0.0", "192.168.1.10", "example.com", "::"):
                with pytest.raises(LoopbackOnlyError, match="loopback addresses only"):
                    HttpEndpoint(hub, host=host, port=0)
            assert HttpEndpoint(hub, host="localhost", port=9).url == "http://127.0.0.1:9/mcp"
            assert HttpEndpoint(hub, host="[::1]", port=9).url == "http://[::1]:9/mcp"
            with socket.socket() as taken:
                taken.bind(("127.0.0.1", 0))
                taken.listen(1)
                with pytest.raises(OSError):
                    await HttpEndpoint(hub, port=taken.getsockname()[1]).start()
    run(body(), 30)


@asynccontextmanager
async def served(tmp_path: Path, *args: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """``liqcore mcp ARGS --transport http --port 0`` as a subprocess, and the URL it announces."""
    proc = await asyncio.create_subprocess_exec(*command(*args, "--transport", "http", "--port", "0"),
                                                cwd=tmp_path, env=environment(tmp_path),
                                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
        found = re.search(r" on (http://\S+)$", line.strip())
        assert found, line
        yield proc, found.group(1)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_the_command_serves_http_and_stops_on_sigterm(tmp_path):
    async def body():
        async with served(tmp_path, "--sim", "kraken:BTC/USD") as (proc, url):
            async with streamable_http_client(url) as (read, write, *_), ClientSession(read, write) as session:
                await session.initialize()
                out = structured(await session.call_tool("liquidity_report", CALLS["liquidity_report"]))
                assert out["state"] == "live" and out["best_bid"] < out["best_ask"]
                assert tool_error(await session.call_tool("calculate_market_impact", BAD_IMPACT)).startswith("amount")
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
            stdout, stderr = await proc.stdout.read(), await proc.stderr.read()
            assert stdout == b"" and b"Traceback" not in stderr
    run(body(), 90)


def test_the_command_exits_0_when_the_client_closes_stdin(tmp_path):
    proc = subprocess.run(command("--sim"), cwd=tmp_path, env=environment(tmp_path), input=b"",
                          capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == b""
    assert proc.stderr.decode().strip() == "liqcore mcp: serving compare_exchanges, calculate_market_impact, " \
                                           "liquidity_report, liquidation_risk on stdio"


def test_help_states_the_exit_codes(tmp_path):
    proc = subprocess.run(command("--help"), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "Exit status: 0 when stopped" in text and "2 on an error (bad arguments" in text
    assert "--transport {stdio,http}" in proc.stdout


@pytest.mark.parametrize("args, reason", [
    (["--transport", "http", "--host", "0.0.0.0"], "argument --host: '0.0.0.0' is not a loopback address"),
    (["ftx:BTC/USDT"], "argument EXCHANGE:SYMBOL: unknown exchange 'ftx'"),
    (["binance"], "argument EXCHANGE:SYMBOL: 'binance' is not EXCHANGE:SYMBOL"),
    (["binance:BTCUSDT"], "argument EXCHANGE:SYMBOL: 'BTCUSDT' is not a symbol"),
    (["--port", "70000"], "argument --port: must be an integer in 0..65535"),
    (["--transport", "sse"], "argument --transport: invalid choice: 'sse'"),
    (["--sim-interval", "0"], "argument --sim-interval: must be a number > 0"),
    (["--sim", "binance:DOGE/USDT"], "binance lists no 'DOGE/USDT'"),
    (["--sim", "--store", "{tmp}"], "{tmp}"),                   # a directory is not a store
    (["--sim", "--transport", "http", "--port", "{taken}"], "cannot serve on 127.0.0.1:{taken}: "),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, reason):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        fill = {"tmp": str(tmp_path), "taken": str(taken.getsockname()[1])}
        args = [a.format(**fill) for a in args]
        proc = subprocess.run(command(*args), cwd=tmp_path, env=environment(tmp_path), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(lines) == 1 and lines[0].startswith("liqcore mcp: error: "), proc.stderr
    assert reason.format(**fill) in lines[0]
