"""Peer benchmarks of the L2 book (figures a)-g) and snapshot load of research/peers.md).

Run (see benchmarks/README.md):

    pytest benchmarks/bench_book.py --benchmark-json=bench.json
    python -m benchmarks.report bench.json

Each pytest-benchmark group compares liqcore with every importable peer in the same run.
A round of a loop benchmark covers many operations; ``extra_info["ops"]`` holds how many,
and report.py divides by it (ns/update, ns/level, ns/read, us/call). Nothing here asserts
a timing; the only assertions are correctness (every peer's final top-50 levels equal the
generator's reference book, and every walk gives the same price).

Environment: LIQ_BENCH_N (updates, default 1,000,000), LIQ_BENCH_ROUNDS (default 3),
LIQ_BENCH_MEM_BOOKS (default 1000; 100 for nautilus).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import timeit
from pathlib import Path

import numpy as np
import pytest

from benchmarks import peers as P
from benchmarks import stream as S

N = int(os.environ.get("LIQ_BENCH_N", S.N_UPDATES))
ROUNDS = int(os.environ.get("LIQ_BENCH_ROUNDS", 3))
G_N = min(200_000, N)            # g) uses the first 200k updates (peers.md)
MEM_BOOKS = int(os.environ.get("LIQ_BENCH_MEM_BOOKS", 1000))
MSG = 10
ROOT = Path(__file__).resolve().parent.parent

ADAPTERS = {cls.name: cls for cls in P.ALL}
_instances: dict = {}


def adapter(name):
    if name not in _instances:
        try:
            _instances[name] = ADAPTERS[name]()
        except ImportError as e:
            _instances[name] = e
    a = _instances[name]
    if isinstance(a, ImportError):
        pytest.skip(f"{name} not importable: {a}")
    return a


@pytest.fixture(scope="session")
def data():
    st = S.load(N)
    ups = st.updates()
    bids = st.snap_bids.tolist()
    asks = st.snap_asks.tolist()
    g_ups = ups[:G_N]
    g_msgs = [g_ups[i:i + MSG] for i in range(0, G_N, MSG)]

    def arrays(lo, hi):
        return (np.ascontiguousarray(st.sides[lo:hi]), np.ascontiguousarray(st.prices[lo:hi]),
                np.ascontiguousarray(st.sizes[lo:hi]))
    msgs10 = [arrays(i, min(i + MSG, N)) for i in range(0, N, MSG)]
    d = dict(st=st, ups=ups, bids=bids, asks=asks, g_msgs=g_msgs, msgs10=msgs10,
             g_arr=msgs10[: G_N // MSG], ref_walk=S.walk_levels(st.ref_asks.tolist(), P.NOTIONAL))
    # the big inputs are immortal for this run: keep the GC from rescanning them (peers.md)
    gc.collect()
    gc.freeze()
    return d


_final: dict = {}      # adapter name -> book after the whole stream (c, d, e use it)


def final_book(name, data):
    """The book after applying the whole stream (built once per adapter, not timed)."""
    a = adapter(name)
    if name not in _final:
        book = a.snapshot(data["bids"], data["asks"])
        a.apply_all(book, a.prepare_updates(data["ups"]))
        _final[name] = book
    return _final[name]


def fresh(a, data):
    book = a.snapshot(data["bids"], data["asks"])
    gc.collect()
    return book


def check_top50(a, book, st):
    """The correctness check: top-50 of both sides equal the reference (prices exactly)."""
    bids, asks = a.top(book, 50)
    for got, ref in ((bids, st.ref_bids[:50]), (asks, st.ref_asks[:50])):
        got = np.array([(float(p), float(s)) for p, s in got])
        assert got.shape == ref.shape, (a.name, got.shape, ref.shape)
        assert np.array_equal(got[:, 0], ref[:, 0]), a.name
        assert np.allclose(got[:, 1], ref[:, 1], rtol=0, atol=1e-9), a.name


def micro(benchmark, a, book, kind, data, extra_ns=None):
    """Time a timeit statement (no Python call per op, as peers.md's timeit)."""
    setup, stmt = a.stmts[kind]
    ns = {"book": book, "walk_levels": S.walk_levels, "NOTIONAL": P.NOTIONAL}
    ns.update(extra_ns or {})
    t = timeit.Timer(stmt, setup, globals=ns)
    # calibrate: about 20 ms per round
    loops = 10
    while True:
        el = t.timeit(loops)
        if el > 0.005 or loops >= 10_000_000:
            break
        loops *= 10
    loops = max(1, int(loops * 0.02 / max(el, 1e-9)))
    benchmark.extra_info.update(ops=loops, unit="ns", per="read")
    benchmark.pedantic(t.timeit, args=(loops,), rounds=7, iterations=1, warmup_rounds=1)


NAMES = [cls.name for cls in P.ALL]


# ------------------------------------------------------------------ a) apply one by one

@pytest.mark.parametrize("name", NAMES)
def test_a_apply_1by1(benchmark, data, name):
    """a) one update at a time through the natural per-update API; ns/update."""
    benchmark.group = "a) apply 1-by-1 [ns/update]"
    a = adapter(name)
    ups = a.prepare_updates(data["ups"])
    if ups is not data["ups"]:
        gc.collect()
        gc.freeze()
    books = []

    def setup():
        books.append(fresh(a, data))
        return (books[-1], ups), {}
    benchmark.extra_info.update(ops=N, unit="ns", per="update", version=a.version)
    benchmark.pedantic(a.apply_all, setup=setup, rounds=ROUNDS, iterations=1)
    check_top50(a, books[-1], data["st"])
    benchmark.extra_info["top50_agrees"] = True
    _final.setdefault(name, books[-1])


@pytest.mark.parametrize("name", [P.Nautilus.name, P.NautilusPyo3.name])
def test_a_nautilus_build_delta(benchmark, data, name):
    """a) nautilus only: building the OrderBookDelta objects (natural path), ns/update."""
    benchmark.group = "a') nautilus build OrderBookDelta [ns/update]"
    a = adapter(name)
    ups = data["ups"][:G_N]
    benchmark.extra_info.update(ops=len(ups), unit="ns", per="update", version=a.version)
    benchmark.pedantic(a.build, args=(ups,), rounds=ROUNDS, iterations=1)


# ------------------------------------------------------------------ b) batched

def _liq_msgs(book, msgs):
    ad = book.apply_deltas
    for sa, pa, qa in msgs:
        ad(sa, pa, qa)


def _naut_msgs(book, msgs):
    ad = book.apply_deltas
    for m in msgs:
        ad(m)


@pytest.mark.parametrize("name", [P.LiqCore.name, P.Nautilus.name, P.NautilusPyo3.name])
def test_b_batched_msg10(benchmark, data, name):
    """b) whole-message apply over messages of 10 levels; ns/level."""
    benchmark.group = "b) batched, messages of 10 [ns/level]"
    a = adapter(name)
    if name == P.LiqCore.name:
        msgs, fn = data["msgs10"], _liq_msgs
    else:
        ds = a.prepare_updates(data["ups"])
        msgs, fn = [a.deltas(ds[i:i + MSG]) for i in range(0, len(ds), MSG)], _naut_msgs
        del ds
        gc.collect()
        gc.freeze()
    books = []

    def setup():
        books.append(fresh(a, data))
        return (books[-1], msgs), {}
    benchmark.extra_info.update(ops=N, unit="ns", per="level", version=a.version)
    benchmark.pedantic(fn, setup=setup, rounds=ROUNDS, iterations=1)
    check_top50(a, books[-1], data["st"])
    benchmark.extra_info["top50_agrees"] = True


def test_b_batched_one_message(benchmark, data):
    """b) liqcore: the whole stream as one apply_deltas message (all-or-nothing); ns/level."""
    benchmark.group = "b) batched, one message of N [ns/level]"
    a = adapter(P.LiqCore.name)
    st = data["st"]
    books = []

    def setup():
        books.append(fresh(a, data))
        return (st.sides, st.prices, st.sizes), {}
    benchmark.extra_info.update(ops=N, unit="ns", per="level", version=a.version)
    benchmark.pedantic(lambda s, p, q: books[-1].apply_deltas(s, p, q), setup=setup, rounds=ROUNDS,
                       iterations=1)
    check_top50(a, books[-1], st)
    benchmark.extra_info["top50_agrees"] = True


# ------------------------------------------------------------------ c) d) e) reads on the final book

C_CASES = [(P.LiqCore.name, "bbo"), (P.LiqCore.name, "best_bid+best_ask")] + [
    (n, "bbo") for n in NAMES if n != P.LiqCore.name]


@pytest.mark.parametrize("name,kind", C_CASES, ids=[f"{n}:{k}" for n, k in C_CASES])
def test_c_best_bid_ask(benchmark, data, name, kind):
    """c) best bid + best ask (price and size) on the final book; ns per read of both sides."""
    benchmark.group = "c) best bid+ask read [ns]"
    a = adapter(name)
    micro(benchmark, a, final_book(name, data), kind, data)
    benchmark.extra_info["version"] = a.version


D_CASES = [(n, "walk") for n in NAMES] + [(P.LiqCore.name, "walk_native"), (P.Nautilus.name, "walk_native"),
                                          (P.NautilusPyo3.name, "walk_native")]


@pytest.mark.parametrize("name,kind", D_CASES, ids=[f"{n}:{k}" for n, k in D_CASES])
def test_d_walk_1m_buy(benchmark, data, name, kind):
    """d) VWAP of a $1M market buy on the final book; us per walk. Peers: the shared
    Python walk_levels over what they expose; liqcore also its native walk when present."""
    benchmark.group = "d) walk $1M buy [us]"
    a = adapter(name)
    book = final_book(name, data)
    extra = {}
    ref_vwap = data["ref_walk"][0]
    if kind == "walk_native":
        if name == P.LiqCore.name:
            if not hasattr(type(book), "walk"):
                pytest.skip("liqcore.OrderBook.walk not available on this branch")
            got = book.walk("buy", notional=P.NOTIONAL).vwap
        else:
            extra = {"Q": a.Quantity(round(data["ref_walk"][1], 3), 3), "BUY": a.BUY}
            got = None   # quantity walk: a different (rounded) target, not compared
    else:
        got = a.walk(book)[0]
    if got is not None:
        assert abs(got - ref_vwap) < 1e-6, (name, got, ref_vwap)
    micro(benchmark, a, book, kind, data, extra)
    benchmark.extra_info.update(unit="us", per="walk", version=a.version)


@pytest.mark.parametrize("name", NAMES)
def test_e_top20_both_sides(benchmark, data, name):
    """e) top-20 levels of both sides (liqcore: two (20, 2) numpy copies); us per call."""
    benchmark.group = "e) top-20 both sides [us]"
    a = adapter(name)
    micro(benchmark, a, final_book(name, data), "top20", data)
    benchmark.extra_info.update(unit="us", per="call", version=a.version)


@pytest.mark.parametrize("kind", ["top20_out"], ids=["liqcore:out"])
def test_e_liqcore_top20_into_an_array(benchmark, data, kind):
    """e) liqcore top(20, out=buf): both sides into the caller's (2, 20, 2) array, no allocation;
    us per call."""
    benchmark.group = "e) top-20 both sides [us]"
    a = adapter(P.LiqCore.name)
    micro(benchmark, a, final_book(a.name, data), kind, data)
    benchmark.extra_info.update(unit="us", per="call", version=a.version)


def test_e_liqcore_one_side(benchmark, data):
    """e) liqcore bids(20) alone (one numpy copy); us per call."""
    benchmark.group = "e) top-20 one side [us]"
    a = adapter(P.LiqCore.name)
    book = final_book(a.name, data)
    t = timeit.Timer("book.bids(20)", globals={"book": book})
    loops = 200_000
    benchmark.extra_info.update(ops=loops, unit="us", per="call", version=a.version)
    benchmark.pedantic(t.timeit, args=(loops,), rounds=7, iterations=1, warmup_rounds=1)


# ------------------------------------------------------------------ f) memory

@pytest.mark.parametrize("name", NAMES)
def test_f_memory(benchmark, data, name):
    """f) RSS per 1000x2-level book over many books in a fresh subprocess (KiB).
    The benchmark's time is the subprocess run and is NOT a metric; the figure is
    extra_info["kib_per_book"]."""
    benchmark.group = "f) memory per 1000x2-level book [KiB, RSS]"
    a = adapter(name)
    k = MEM_BOOKS if not a.msg_objects else max(1, MEM_BOOKS // 10)
    res = {}

    def run():
        out = subprocess.run([sys.executable, "-m", "benchmarks.memory", name, str(k)], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        res.update(json.loads(out.stdout.strip().splitlines()[-1]))
    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(metric="kib_per_book", kib_per_book=res["bytes_per_book"] / 1024,
                                books=k, version=a.version, **{k2: v for k2, v in res.items()
                                                               if k2 in ("to_bytes", "sizeof_object")})


# ------------------------------------------------------------------ g) read after write

@pytest.mark.parametrize("name,mode", [(n, "natural") for n in NAMES] + [(P.LiqCore.name, "update x10")],
                         ids=[f"{n}:natural" for n in NAMES] + [f"{P.LiqCore.name}:update x10"])
def test_g_msg10_then_bbo(benchmark, data, name, mode):
    """g) first 200k updates as messages of 10: apply a message, then read best bid/ask;
    ns/update. liqcore natural = apply_deltas per message; 'update x10' = 10 update() calls."""
    benchmark.group = "g) 10-update message + BBO read [ns/update]"
    a = adapter(name)
    if name == P.LiqCore.name:
        if mode == "natural":
            msgs = data["g_arr"]
            fn = a.apply_msgs_read
        else:
            msgs = data["g_msgs"]

            def fn(book, msgs):
                upd = book.update
                for m in msgs:
                    for s, p, q in m:
                        upd(s, p, q)
                    book.bbo
    elif a.msg_objects:
        ds = a.prepare_updates(data["ups"][:G_N])
        msgs = [a.deltas(ds[i:i + MSG]) for i in range(0, len(ds), MSG)]
        fn = a.apply_msgs_read
    else:
        msgs, fn = data["g_msgs"], a.apply_msgs_read

    def setup():
        return (fresh(a, data), msgs), {}
    benchmark.extra_info.update(ops=G_N, unit="ns", per="update", version=a.version)
    benchmark.pedantic(fn, setup=setup, rounds=ROUNDS, iterations=1)


# ------------------------------------------------------------------ snapshot load

@pytest.mark.parametrize("name", NAMES)
def test_snapshot_load_2000(benchmark, data, name):
    """Snapshot load: a 2000-level book through the natural constructor; us per book."""
    benchmark.group = "snapshot load, 2000 levels [us]"
    a = adapter(name)
    bids, asks = data["bids"], data["asks"]
    if a.msg_objects:
        msgs = [a.snapshot_msg(bids, asks) for _ in range(ROUNDS * 5 + 1)]
        it = iter(msgs)
        benchmark.extra_info.update(ops=1, unit="us", per="book", version=a.version)
        benchmark.pedantic(lambda: a.snapshot_from_msg(next(it)), rounds=ROUNDS * 5, iterations=1,
                           warmup_rounds=1)
        return
    benchmark.extra_info.update(ops=1, unit="us", per="book", version=a.version)
    benchmark.pedantic(a.snapshot, args=(bids, asks), rounds=max(20, ROUNDS * 10), iterations=1,
                       warmup_rounds=1)
