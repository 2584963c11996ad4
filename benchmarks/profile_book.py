"""Drive one liqcore hot path over the cached stream, for a profiler (callgrind/perf).

    valgrind --tool=callgrind --callgrind-out-file=cg.out python -m benchmarks.profile_book batch
    callgrind_annotate cg.out | head -40

Modes: update (1-by-1), msg10 (apply_deltas per 10-level message), batch (one message),
bbo, bids20. N updates (default 200k) keep callgrind runs around a minute.
"""

import sys

import numpy as np

from benchmarks import stream as S


def main(mode, n):
    import liqcore
    st = S.load()
    b = liqcore.OrderBook(tick_size="0.1", lot_size="0.001")
    b.apply_snapshot(st.snap_bids, st.snap_asks)
    if mode == "update":
        upd = b.update
        for s, p, q in st.updates(n):
            upd(s, p, q)
    elif mode == "msg10":
        msgs = [(np.ascontiguousarray(st.sides[i:i + 10]), np.ascontiguousarray(st.prices[i:i + 10]),
                 np.ascontiguousarray(st.sizes[i:i + 10])) for i in range(0, n, 10)]
        ad = b.apply_deltas
        for s, p, q in msgs:
            ad(s, p, q)
    elif mode == "batch":
        b.apply_deltas(st.sides[:n], st.prices[:n], st.sizes[:n])
    elif mode == "bbo":
        for _ in range(n):
            b.bbo
    elif mode == "bids20":
        for _ in range(n):
            b.bids(20)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200_000)
