"""Errors of the service (as ``liqcore.store.errors`` for the store, ``liqcore.fanout.errors`` for
the fan-out): each a :class:`~liqcore.errors.LiqError` and the matching builtin. A bad venue or
symbol is the feed's :class:`~liqcore.errors.FeedConfigError`, as everywhere else."""

from __future__ import annotations

from liqcore.errors import LiqError

__all__ = ["ServiceConfigError", "ToolInputError", "LoopbackOnlyError"]


class ServiceConfigError(LiqError, ValueError):
    """The service was configured unsafely or inconsistently (a non-loopback bind without an API
    key, a bad limit)."""


class ToolInputError(LiqError, ValueError):
    """A tool was called with a bad argument (a missing, unknown, mistyped or out-of-range field),
    arguments that are not a JSON object, or an unknown tool name. Nothing ran."""


class LoopbackOnlyError(LiqError, PermissionError):
    """The MCP HTTP endpoint was asked to bind an address that is not loopback: it has no
    authentication, so it serves this machine only. Nothing was bound."""
