"""Where the service's servers listen: the loopback test of the binding rules (the API's key rule,
the MCP endpoint's loopback-only rule) and the one way both open their listening socket."""

from __future__ import annotations

import ipaddress
import socket

__all__ = ["is_loopback", "listen"]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and the loopback addresses (127.0.0.0/8, ::1): what the service binds
    without an API key."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv6 when ``host`` holds ``:``; port 0 picks a free
    one; SO_REUSEADDR set), owned by the caller, who hands it to uvicorn. Listening before uvicorn
    accepts: a client connecting meanwhile waits in the backlog. OSError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host.strip("[]"), port), family=family, backlog=backlog)
