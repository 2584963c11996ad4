"""The agent tools (:mod:`liqcore.service.tools`) over the Model Context Protocol, with the
``mcp`` package's low-level :class:`mcp.server.lowlevel.Server` (mcp 2.x), on stdio or on
streamable HTTP::

    async with BookHub(sim=True) as hub:
        await serve_stdio(hub)                                # until the client closes stdin

    async with BookHub(sim=True) as hub, HttpEndpoint(hub, port=8765) as endpoint:
        print(endpoint.url)                                   # http://127.0.0.1:8765/mcp
        await endpoint.wait()                                 # until Ctrl-C / SIGTERM

Every tool is listed with its description, its input schema and its output schema (the
pydantic models of :mod:`liqcore.service.models`) and answers with a structured result (the
output schema's object) plus the same JSON as text, for clients that read only text. A bad
argument, an unknown venue or symbol, a book that cannot be had: the call answers a tool error
(``isError``, the one-line reason as text) and the server goes on serving. ``liquidity_alerts`` is
listed only when a store is given.

Ownership: the caller owns the hub and the store (and closes them); the server only reads them.
The HTTP endpoint binds loopback addresses only (the endpoint has no authentication; the ``mcp``
package's DNS-rebinding protection is on) and keeps the package's bounds (request body 4 MiB,
10,000 sessions, idle ones closed after 30 min); it owns its uvicorn server and socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from typing import Any

from mcp import types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from liqcore.errors import LiqError
from liqcore.service.errors import LoopbackOnlyError
from liqcore.service.hub import BookHub
from liqcore.service.net import is_loopback, listen
from liqcore.service.tools import TOOLS, Tool

__all__ = ["SERVER_NAME", "LoopbackOnlyError", "tools_for", "build_server", "serve_stdio", "HttpEndpoint",
           "is_loopback"]

#: the name the server gives itself in the MCP handshake
SERVER_NAME = "liqcore"

_log = logging.getLogger(__name__)

_INSTRUCTIONS = ("Live crypto order books from several exchanges (liqcore). Prices are in quote currency per unit "
                 "of base, sizes in base units, percentages in percent, basis points where a field says bps. One "
                 "instrument spelling for every venue: BTC/USDT, BTC/USD and BTC/USDC are the same spot market; "
                 "BTC/USDT:USDT is the perpetual swap.")


def tools_for(store: Any) -> dict[str, Tool]:
    """The tools a server can serve: every tool, less those that need a store when ``store`` is None."""
    return {name: t for name, t in TOOLS.items() if store is not None or not t.needs_store}


def _listing(tool: Tool, sim: bool) -> types.Tool:
    return types.Tool(name=tool.name, description=tool.description, input_schema=tool.input_schema,
                      output_schema=tool.output_schema,
                      # read-only; open world: the books come from the venues (unless simulated)
                      annotations=types.ToolAnnotations(read_only_hint=True, destructive_hint=False,
                                                        idempotent_hint=True, open_world_hint=not sim))


def _tool_error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500] or type(exc).__name__


def build_server(hub: BookHub, store: Any = None) -> Server[Any]:
    """An MCP server for the tools over ``hub`` (and ``store``: a :class:`liqcore.store.Store`,
    optional). Listing is O(tools); a call costs the tool's own (see :mod:`liqcore.service.tools`)."""
    tools = tools_for(store)
    listed = [_listing(t, hub.sim) for t in tools.values()]

    async def list_tools(ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
                         ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
                        ) -> types.CallToolResult:
        tool = tools.get(params.name)
        if tool is None:
            return _tool_error(f"unknown tool {params.name!r}; one of {', '.join(tools)}")
        try:
            out = await tool.call(params.arguments or {}, hub=hub, store=store)
        except LiqError as exc:          # bad arguments, venue, symbol, book, store input: the caller's to fix
            return _tool_error(_one_line(exc))
        except Exception as exc:         # anything else (a venue's or database's error): one line, and logged
            _log.warning("tool %s failed: %r", tool.name, exc)
            return _tool_error(f"{tool.name} failed: {type(exc).__name__}: {_one_line(exc)}")
        return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(out))],
                                    structured_content=out)

    return Server(SERVER_NAME, instructions=_INSTRUCTIONS, on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio(hub: BookHub, store: Any = None) -> None:
    """Serve the tools on this process's stdin/stdout until the client closes stdin (nothing else
    may write to stdout meanwhile)."""
    server = build_server(hub, store)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


class HttpEndpoint:
    """The tools on streamable HTTP at ``http://host:port/mcp`` (uvicorn), for ``async with``.

    ``port`` 0 picks a free port (see :attr:`url`). :meth:`start` binds (OSError when the port
    is taken, LoopbackOnlyError for a non-loopback ``host``) and returns once the socket listens:
    a client may connect at once. :meth:`wait` returns when uvicorn stops (Ctrl-C, SIGTERM or
    :meth:`close`)."""

    def __init__(self, hub: BookHub, store: Any = None, host: str = "127.0.0.1", port: int = 8765,
                 path: str = "/mcp") -> None:
        if not is_loopback(host):
            raise LoopbackOnlyError(f"the MCP endpoint has no authentication and binds loopback addresses only "
                                    f"(127.0.0.1, ::1, localhost), not {host!r}")
        # localhost may resolve to ::1 first for a client while we listen on IPv4: bind and announce the address
        host = "127.0.0.1" if host == "localhost" else host.strip("[]")
        self.hub, self.store, self.host, self.port, self.path = hub, store, host, port, path
        self._uvicorn: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The endpoint's URL (the bound port once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    async def start(self) -> "HttpEndpoint":
        """Bind and serve (once; a second call does nothing). Returns self."""
        import uvicorn
        if self._task is not None:
            return self
        sock = listen(self.host, self.port, backlog=128)
        self.port = sock.getsockname()[1]
        app = build_server(self.hub, self.store).streamable_http_app(streamable_http_path=self.path, host=self.host)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                timeout_graceful_shutdown=2)
        self._uvicorn = uvicorn.Server(config)
        self._task = asyncio.ensure_future(self._serve(sock))
        return self

    async def _serve(self, sock: socket.socket) -> None:
        try:
            await self._uvicorn.serve(sockets=[sock])
        finally:
            sock.close()

    async def wait(self) -> None:
        """Until the server stops."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def close(self) -> None:
        """Stop serving (open sessions get up to 2 s to finish). Idempotent."""
        if self._task is None:
            return
        self._uvicorn.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def __aenter__(self) -> "HttpEndpoint":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
