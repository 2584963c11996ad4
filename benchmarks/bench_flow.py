"""Cost of maintaining order-flow imbalance in the book (src/flow.c), on the benchmark stream.

The same 1M updates as bench_book.py a) and the one-message batch of b), with OFI tracking
off, over 1 level, and over 10 levels (multi-level OFI). The figure that matters is the
difference to "off" (the issue's budget: <= 20 ns per update on top of the apply):

    python -m pytest benchmarks/bench_flow.py -p no:cacheprovider --benchmark-json=flow.json
    python -m benchmarks.report flow.json
"""

from __future__ import annotations

import gc
import os

import pytest

from benchmarks import peers as P
from benchmarks import stream as S

N = int(os.environ.get("LIQ_BENCH_N", S.N_UPDATES))
ROUNDS = int(os.environ.get("LIQ_BENCH_ROUNDS", 3))
LEVELS = [0, 1, 10]


@pytest.fixture(scope="module")
def data():
    st = S.load(N)
    d = dict(st=st, ups=st.updates(), bids=st.snap_bids.tolist(), asks=st.snap_asks.tolist())
    gc.collect()
    gc.freeze()
    return d


def _book(data, levels):
    book = P.LiqCore().snapshot(data["bids"], data["asks"])
    if levels:
        book.track_ofi(levels)
    gc.collect()
    return book


def _label(levels):
    return "liqcore" if levels == 0 else f"liqcore + OFI over {levels} level{'s' if levels > 1 else ''}"


@pytest.mark.parametrize("levels", LEVELS, ids=_label)
def test_flow_update_1by1(benchmark, data, levels):
    benchmark.group = "OFI tracking: apply 1-by-1 [ns/update]"
    ups = data["ups"]

    def run(book):
        upd = book.update
        for s, p, q in ups:
            upd(s, p, q)
    books = []

    def setup():
        books.append(_book(data, levels))
        return (books[-1],), {}
    benchmark.extra_info.update(ops=N, unit="ns", per="update")
    benchmark.pedantic(run, setup=setup, rounds=ROUNDS, iterations=1)
    if levels:
        assert books[-1].ofi_events == N


@pytest.mark.parametrize("levels", LEVELS, ids=_label)
def test_flow_one_message(benchmark, data, levels):
    benchmark.group = "OFI tracking: one message of N [ns/level]"
    st = data["st"]
    books = []

    def setup():
        books.append(_book(data, levels))
        return (st.sides, st.prices, st.sizes), {}
    benchmark.extra_info.update(ops=N, unit="ns", per="level")
    benchmark.pedantic(lambda s, p, q: books[-1].apply_deltas(s, p, q), setup=setup, rounds=ROUNDS, iterations=1)
