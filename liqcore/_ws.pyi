"""Type stubs of the compiled module ``liqcore._ws`` (src/ws.c: websocket frames, the client's side)."""

from typing import Any, Callable, Union

_Bytes = Union[bytes, bytearray, memoryview]

CONTINUATION: int
TEXT: int
BINARY: int
CLOSE: int
PING: int
PONG: int
DEFAULT_MAX_SIZE: int

class FrameReader:
    on_text: Callable[[str], Any]
    on_other: Callable[[int, bytes], Any]
    messages: int
    def __init__(self, on_text: Callable[[str], Any], on_other: Callable[[int, bytes], Any], *,
                 max_size: int = ...) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def pending(self) -> int: ...
    def close(self) -> None: ...
    def feed(self, data: _Bytes) -> None: ...

def write_frame(opcode: int, payload: _Bytes, mask: bytes) -> bytes: ...
