"""Websocket frames read from a connection's bytes: liqcore's ``_ws.FrameReader`` (``src/ws.c``) against the
readers a Python client would otherwise use, in one run, on the same bytes.

The bytes: 1,000 real Binance ``depthUpdate`` frames (the bundled recording's first depth frames, ~300-900 B
of text each) as a server writes them (unmasked, FIN set), delivered two ways:

* ``burst``: in 64 KiB reads (a busy socket: many frames per ``data_received``);
* ``single``: one frame per read (frames arriving alone).

Each reader turns them into the text messages a handler gets (a ``str`` per frame):

* ``liqcore``   ``FrameReader.feed(chunk)``: the handler is called inside the call (``on_text``);
* ``aiohttp``   aiohttp's websocket parser (ccxt.pro's transport: ``aiohttp.http_websocket.WebSocketReader``,
                compiled) fed each chunk, then every message taken from its queue with ``await queue.read()``,
                what ``ClientWebSocketResponse.receive()`` does under ccxt's read loop;
* ``websockets`` the ``websockets`` library's sans-I/O ``ClientProtocol``: ``receive_data(chunk)``, then
                ``events_received()`` (the frames' text decoded).

Run (not collected by the project's pytest; see benchmarks/README.md):
    python -m pytest benchmarks/bench_ws.py -p no:cacheprovider -s
The last test prints µs per frame and the ratios, and checks that every reader returned the same
1,000 texts. No timing is asserted.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from liqcore._ws import FrameReader
from liqcore.recordings import iter_hftbacktest
from liqcore.replay import BUNDLED_RECORDING

N_FRAMES = 1000
RESULTS: dict[str, float] = {}
TEXTS: dict[str, list[str]] = {}


def server_frame(payload: bytes) -> bytes:
    n = len(payload)
    head = b"\x81" + (bytes([n]) if n < 126 else b"\x7e" + n.to_bytes(2, "big") if n < 65536
                      else b"\x7f" + n.to_bytes(8, "big"))
    return head + payload


@pytest.fixture(scope="module")
def wire() -> dict[str, Any]:
    texts = []
    for rec in iter_hftbacktest(BUNDLED_RECORDING):
        if b'"depthUpdate"' in rec.raw:
            texts.append(bytes(rec.raw).decode())
            if len(texts) == N_FRAMES:
                break
    frames = [server_frame(t.encode()) for t in texts]
    data = b"".join(frames)
    return {"texts": texts, "burst": [data[i:i + 65536] for i in range(0, len(data), 65536)], "single": frames}


def _record(benchmark: Any, name: str) -> None:
    RESULTS[name] = benchmark.stats.stats.min / N_FRAMES * 1e6


def _liqcore(chunks: list[bytes]) -> list[str]:
    out: list[str] = []
    reader = FrameReader(out.append, lambda op, payload: None)
    feed = reader.feed
    for chunk in chunks:
        feed(chunk)
    return out


def _aiohttp(chunks: list[bytes]) -> list[str]:
    from aiohttp._websocket.reader import WebSocketDataQueue      # the queue aiohttp's reader fills
    from aiohttp.http_websocket import WebSocketReader

    class _Protocol:                       # what the queue asks of aiohttp's connection protocol
        _reading_paused = False

        def pause_reading(self) -> None:
            self._reading_paused = True

        def resume_reading(self) -> None:
            self._reading_paused = False

    async def run() -> list[str]:
        queue = WebSocketDataQueue(_Protocol(), 1 << 30, loop=asyncio.get_running_loop())
        reader = WebSocketReader(queue, 1 << 30, compress=False, decode_text=True)
        out: list[str] = []
        read = queue.read
        for chunk in chunks:
            reader.feed_data(chunk)
            while not queue.is_eof() and queue._buffer:      # the messages this read completed
                out.append((await read()).data)
        return out
    return asyncio.run(run())


def _websockets(chunks: list[bytes]) -> list[str]:
    from websockets.client import ClientProtocol
    from websockets.protocol import State
    from websockets.uri import parse_uri

    proto = ClientProtocol(parse_uri("ws://127.0.0.1/ws"), state=State.OPEN, max_size=None)
    out: list[str] = []
    for chunk in chunks:
        proto.receive_data(chunk)
        for frame in proto.events_received():
            out.append(frame.data.decode())
    return out


READERS = {"liqcore": _liqcore, "aiohttp": _aiohttp, "websockets": _websockets}


@pytest.mark.parametrize("arrival", ["burst", "single"])
@pytest.mark.parametrize("reader", list(READERS))
def test_read(benchmark: Any, wire: dict[str, Any], reader: str, arrival: str) -> None:
    benchmark.group = f"ws-{arrival}"
    fn = READERS[reader]
    chunks = wire[arrival]
    texts = benchmark.pedantic(fn, args=(chunks,), rounds=20, iterations=1, warmup_rounds=2)
    TEXTS[f"{reader}-{arrival}"] = texts
    _record(benchmark, f"{reader}-{arrival}")


def test_report(wire: dict[str, Any]) -> None:
    for name, texts in TEXTS.items():
        assert texts == wire["texts"], name
    for arrival in ("burst", "single"):
        base = RESULTS.get(f"liqcore-{arrival}")
        if base is None:
            continue
        line = ", ".join(f"{r} {RESULTS[f'{r}-{arrival}']:.3f} µs ({RESULTS[f'{r}-{arrival}'] / base:.1f}x)"
                         for r in READERS if f"{r}-{arrival}" in RESULTS)
        print(f"\n{arrival}: µs per frame, min of 20 rounds: {line}")
