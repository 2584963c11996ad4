"""f) memory per 1000x2-level book, measured in a fresh process (peers.md f)).

tracemalloc does not see C/Rust allocations, so the figure is the RSS delta
(/proc/self/statm) over K books divided by K. Each book gets fresh float objects, as if
just parsed from the wire, and is built through its natural snapshot path.

    python -m benchmarks.memory "liqcore" 1000     # prints one JSON line
"""

from __future__ import annotations

import gc
import json
import os
import sys


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(name: str, k: int) -> dict:
    from benchmarks import peers, stream
    st = stream.load()
    a = peers.get(name)
    # wire strings; float() per book makes fresh objects the book may keep
    bs = [(repr(p), repr(s)) for p, s in st.snap_bids.tolist()]
    as_ = [(repr(p), repr(s)) for p, s in st.snap_asks.tolist()]
    pre = None
    if a.msg_objects:
        # nautilus: prebuilt messages (not counted), one per book
        pre = [a.snapshot_msg([[float(p), float(s)] for p, s in bs], [[float(p), float(s)] for p, s in as_])
               for _ in range(k)]
    # warm up allocator pools and lazy imports with one throwaway book
    a.snapshot([[float(p), float(s)] for p, s in bs], [[float(p), float(s)] for p, s in as_])
    gc.collect()
    before = rss_bytes()
    books = []
    for i in range(k):
        if pre is not None:
            books.append(a.snapshot_from_msg(pre[i]))
        else:
            books.append(a.snapshot([[float(p), float(s)] for p, s in bs],
                                    [[float(p), float(s)] for p, s in as_]))
    gc.collect()
    after = rss_bytes()
    out = {"peer": name, "books": k, "bytes_per_book": (after - before) / k,
           "levels": len(bs) + len(as_)}
    if name == "liqcore":
        b = books[0]
        out["to_bytes"] = len(b.to_bytes())
        out["sizeof_object"] = sys.getsizeof(b)
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
