"""The items of a recording, shared by the writer (:mod:`liqcore.recorder`) and the readers
(:mod:`liqcore.recordings`): :class:`Record` (one frame or REST body) and :class:`Damage` (a
region that could not be read and was skipped)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Record", "Damage", "damage_line"]


@dataclass(frozen=True, slots=True)
class Record:
    """One recorded frame.

    Attributes
    ----------
    ts_ns : int
        Local receive time, ns since the Unix epoch.
    url : str | None
        Connection (websocket or REST URL) or stream name the frame belongs to, when the format says.
    kind : str
        ``"recv"`` (websocket frame from the exchange), ``"rest"`` (REST response) or ``"sent"``
        (sent by the client; liqcore recordings only).
    raw : bytes
        The frame's JSON text, as received.
    exchange, symbol : str | None
        The source's labels (liqcore recordings; None when the format does not say).
    mono_ns : int | None
        Monotonic receive time, ns (liqcore recordings; comparable within one recording session only).
    """

    ts_ns: int
    url: str | None
    kind: str
    raw: bytes
    exchange: str | None = None
    symbol: str | None = None
    mono_ns: int | None = None


@dataclass(frozen=True, slots=True)
class Damage:
    """A region of a recording that could not be read and was skipped.

    ``offset`` and ``length`` are in bytes: of the file for a liqcore recording, of the text
    (decompressed, for a gzip capture) for the text formats, whose ``line`` (1-based) says where
    the region starts. ``length`` 0 means the rest of the file (a gzip stream that cannot be read
    on). ``reason`` says why.
    """

    offset: int
    length: int
    reason: str
    line: int | None = None

    def describe(self) -> str:
        """Where and why, in one line: ``"byte 1,234 (56 bytes skipped): <reason>"`` or
        ``"line 12: <reason>"``."""
        if self.line is None:
            return f"byte {self.offset:,} ({self.length:,} bytes skipped): {self.reason}"
        return f"line {self.line:,}: {self.reason}"

    def to_dict(self, file: str | Path) -> dict[str, Any]:
        """The damage as a report lists it: its fields and the ``file`` it is in."""
        return {"file": str(file), **asdict(self)}


def damage_line(entry: dict[str, Any]) -> str:
    """``damaged: <file> <where>: <why>`` for one entry of a report's damage list (:meth:`Damage.to_dict`)."""
    d = Damage(entry["offset"], entry["length"], entry["reason"], entry.get("line"))
    return f"damaged: {entry['file']} {d.describe()}"
