"""The tests' network guard and raw websocket reads, shared by every module that runs the simulator.

Tests never reach the internet: :func:`no_internet` (autouse where imported) refuses every DNS lookup
and connect that is not loopback, in the socket module and in aiohttp's resolver (uvloop resolves past
the socket module), and fails the test that tried.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket

import pytest

__all__ = ["no_internet", "ws_frames"]


def _is_loopback(host) -> bool:
    """True for localhost and loopback addresses (text or bytes)."""
    if host in (None, "localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host)).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Refuse every DNS lookup and connect that is not loopback; fail the test that tried."""
    attempts: list[object] = []
    real_gai, real_connect, real_connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *args, **kw):
        if not _is_loopback(host):
            attempts.append(host)
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: no DNS for {host!r}")
        return real_gai(host, *args, **kw)

    def guarded(real):
        def connect(self, address):
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
                attempts.append(address)
                raise OSError(errno.ENETUNREACH, f"test guard: no connect to {address!r}")
            return real(self, address)
        return connect

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
    # uvloop (liqcore.feed.run's loop) resolves and connects in libuv, past the socket module:
    # guard aiohttp's own resolution too (ccxt reaches every exchange through aiohttp)
    try:
        import aiohttp
    except ImportError:
        aiohttp = None
    if aiohttp is not None:
        real_resolve = aiohttp.TCPConnector._resolve_host

        async def resolve_host(self, host, port, traces=None):
            if not _is_loopback(host):
                attempts.append(host)
                raise OSError(errno.ENETUNREACH, f"test guard: no DNS for {host!r}")
            return await real_resolve(self, host, port, traces)

        monkeypatch.setattr(aiohttp.TCPConnector, "_resolve_host", resolve_host)
    yield attempts
    assert not attempts, f"the test tried to reach the internet: {attempts}"


async def ws_frames(ws, n, timeout=5.0, ends=None):
    """The next ``n`` text frames (or fewer if the connection ends; then the closing
    message is appended to ``ends``: its data is the close code the server sent)."""
    out = []
    while len(out) < n:
        msg = await asyncio.wait_for(ws.receive(), timeout)
        if msg.type.name != "TEXT":         # aiohttp's WSMsgType (imported by the caller's client)
            if ends is not None:
                ends.append(msg)
            break
        out.append(msg.data)
    return out
