"""One adapter per book (liqcore and its peers), each driven through its natural API
exactly as ``research/peers.md`` ("How each figure was measured") describes.

An adapter is importable only when its library is; ``available()`` lists those. Every
timed loop is a plain ``for`` over the same prebuilt Python tuples, with the side
objects and bound methods hoisted out of the loop for every peer alike.
"""

from __future__ import annotations

import importlib

from benchmarks.stream import walk_levels

NOTIONAL = 1_000_000.0


class Adapter:
    name = "?"
    version = ""
    stmts: dict = {}       # timeit (setup, stmt) per micro figure; names: book, walk_levels, NOTIONAL
    batch = False          # has a whole-message apply
    msg_objects = False    # messages must be prebuilt as peer objects (nautilus)

    def snapshot(self, bids, asks):
        """Fresh book from snapshot lists [[p, s], ...] (best first)."""
        raise NotImplementedError

    def apply_all(self, book, ups):
        raise NotImplementedError

    def prepare_updates(self, ups):
        """What apply_all iterates (tuples for all but nautilus)."""
        return ups

    def best(self, book):
        """(bid price, bid size, ask price, ask size) through the natural top-of-book read."""
        raise NotImplementedError

    def bbo_reader(self, book):
        """A zero-argument callable doing c): the natural best bid + best ask read."""
        raise NotImplementedError

    def top20(self, book):
        raise NotImplementedError

    def walk(self, book):
        """d): (vwap, qty) of a $1M market buy via the shared Python walk_levels."""
        raise NotImplementedError

    def top(self, book, n):
        """(bids, asks) as lists of (price, size), best first, for the correctness check."""
        raise NotImplementedError

    def apply_msgs_read(self, book, msgs):
        """g): apply each message of updates one by one, then read best bid/ask."""
        raise NotImplementedError


class LiqCore(Adapter):
    name = "liqcore"
    batch = True
    stmts = {
        "bbo": ("", "book.bbo"),
        "best_bid+best_ask": ("", "book.best_bid, book.best_ask"),
        "top20": ("", "book.top(20)"),             # both sides, one call, one (2, 20, 2) array
        # the same into the caller's array (a loop reading every change keeps one)
        "top20_out": ("import numpy; buf = numpy.empty((2, 20, 2))", "book.top(20, out=buf)"),
        "walk": ("", "walk_levels(book.asks().tolist(), NOTIONAL)"),
        # the native walk (another branch): benchmarked only when OrderBook has it
        "walk_native": ("", "book.walk('buy', notional=NOTIONAL).vwap"),
    }

    def __init__(self):
        import liqcore
        self.mod = liqcore
        self.version = liqcore.__version__

    def snapshot(self, bids, asks):
        b = self.mod.OrderBook(tick_size="0.1", lot_size="0.001")
        b.apply_snapshot(bids, asks)
        return b

    def apply_all(self, book, ups):
        upd = book.update
        for s, p, q in ups:
            upd(s, p, q)

    def best(self, book):
        return book.bbo

    def bbo_reader(self, book):
        return lambda: book.bbo

    def top20(self, book):
        return book.bids(20), book.asks(20)

    def walk(self, book):
        return walk_levels(book.asks().tolist(), NOTIONAL)

    def top(self, book, n):
        return [tuple(r) for r in book.bids(n).tolist()], [tuple(r) for r in book.asks(n).tolist()]

    def apply_msgs_read(self, book, msgs):
        # the natural liqcore path: one apply_deltas per message (see the batched group)
        ad = book.apply_deltas
        for sa, pa, qa in msgs:
            ad(sa, pa, qa)
            book.bbo


class Ccxt(Adapter):
    name = "ccxt"
    _h = "bids, asks = book['bids'], book['asks']"
    stmts = {"bbo": (_h, "bids[0], asks[0]"), "top20": (_h, "bids[:20], asks[:20]"),
             "walk": (_h, "walk_levels(asks, NOTIONAL)")}

    def __init__(self):
        m = importlib.import_module("ccxt.async_support.base.ws.order_book")
        self.OrderBook = m.OrderBook
        import ccxt
        self.version = ccxt.__version__

    def snapshot(self, bids, asks):
        return self.OrderBook({"bids": [list(x) for x in bids], "asks": [list(x) for x in asks]})

    def apply_all(self, book, ups):
        # what binance.handle_delta does after parsing: side.store(price, size)
        sides = (book["bids"].store, book["asks"].store)
        for s, p, q in ups:
            sides[s](p, q)

    def best(self, book):
        b, a = book["bids"][0], book["asks"][0]
        return (b[0], b[1], a[0], a[1])

    def bbo_reader(self, book):
        bids, asks = book["bids"], book["asks"]
        return lambda: (bids[0], asks[0])

    def top20(self, book):
        return book["bids"][:20], book["asks"][:20]

    def walk(self, book):
        return walk_levels(book["asks"], NOTIONAL)

    def top(self, book, n):
        return [tuple(x) for x in book["bids"][:n]], [tuple(x) for x in book["asks"][:n]]

    def apply_msgs_read(self, book, msgs):
        sides = (book["bids"].store, book["asks"].store)
        bids, asks = book["bids"], book["asks"]
        for m in msgs:
            for s, p, q in m:
                sides[s](p, q)
            bids[0], asks[0]


class Bmoscon(Adapter):
    name = "order_book (bmoscon)"
    _h = "bids, asks = book.bids, book.asks"
    stmts = {"bbo": (_h, "bids.index(0), asks.index(0)"),
             "top20": (_h, "[bids.index(i) for i in range(20)], [asks.index(i) for i in range(20)]"),
             "walk": (_h, "walk_levels(((p, asks[p]) for p in asks.keys()), NOTIONAL)")}

    def __init__(self):
        import order_book
        from importlib.metadata import version
        self.OrderBook = order_book.OrderBook
        self.version = version("order-book")

    def snapshot(self, bids, asks):
        ob = self.OrderBook()
        b, a = ob.bids, ob.asks
        for p, s in bids:
            b[p] = s
        for p, s in asks:
            a[p] = s
        return ob

    def apply_all(self, book, ups):
        sides = (book.bids, book.asks)
        for s, p, q in ups:
            if q:
                sides[s][p] = q
            else:
                del sides[s][p]

    def best(self, book):
        b, a = book.bids.index(0), book.asks.index(0)
        return (b[0], b[1], a[0], a[1])

    def bbo_reader(self, book):
        bids, asks = book.bids, book.asks
        return lambda: (bids.index(0), asks.index(0))

    def top20(self, book):
        bids, asks = book.bids, book.asks
        return [bids.index(i) for i in range(20)], [asks.index(i) for i in range(20)]

    def walk(self, book):
        asks = book.asks
        return walk_levels(((p, asks[p]) for p in asks.keys()), NOTIONAL)

    def top(self, book, n):
        bids, asks = book.bids, book.asks
        return ([tuple(bids.index(i)) for i in range(min(n, len(bids)))],
                [tuple(asks.index(i)) for i in range(min(n, len(asks)))])

    def apply_msgs_read(self, book, msgs):
        sides = (book.bids, book.asks)
        bids, asks = book.bids, book.asks
        for m in msgs:
            for s, p, q in m:
                if q:
                    sides[s][p] = q
                else:
                    del sides[s][p]
            bids.index(0), asks.index(0)


class _MappingPair(Adapter):
    """A book as a (bids, asks) pair of price -> size mappings: setitem, or delitem for 0."""

    def apply_all(self, book, ups):
        for s, p, q in ups:
            if q:
                book[s][p] = q
            else:
                del book[s][p]


class SortedDictBook(_MappingPair):
    name = "sortedcontainers.SortedDict x2"
    _h = "bids, asks = book"
    stmts = {"bbo": (_h, "bids.peekitem(-1), asks.peekitem(0)"),
             "top20": (_h, "bids.items()[-20:][::-1], asks.items()[:20]"),
             "walk": (_h, "walk_levels(asks.items(), NOTIONAL)")}

    def __init__(self):
        import sortedcontainers
        self.SortedDict = sortedcontainers.SortedDict
        self.version = sortedcontainers.__version__

    def snapshot(self, bids, asks):
        return (self.SortedDict((p, s) for p, s in bids), self.SortedDict((p, s) for p, s in asks))

    def best(self, book):
        b, a = book[0].peekitem(-1), book[1].peekitem(0)
        return (b[0], b[1], a[0], a[1])

    def bbo_reader(self, book):
        bids, asks = book
        return lambda: (bids.peekitem(-1), asks.peekitem(0))

    def top20(self, book):
        return book[0].items()[-20:][::-1], book[1].items()[:20]

    def walk(self, book):
        return walk_levels(book[1].items(), NOTIONAL)

    def top(self, book, n):
        return list(book[0].items()[-n:][::-1]), list(book[1].items()[:n])

    def apply_msgs_read(self, book, msgs):
        bids, asks = book
        for m in msgs:
            for s, p, q in m:
                if q:
                    book[s][p] = q
                else:
                    del book[s][p]
            bids.peekitem(-1), asks.peekitem(0)


class PlainDict(_MappingPair):
    name = "plain dict x2 (sort on query)"
    _h = "bids, asks = book"
    stmts = {"bbo": (_h, "b = max(bids); a = min(asks); bids[b], asks[a]"),
             "top20": (_h, "sorted(bids.items(), reverse=True)[:20], sorted(asks.items())[:20]"),
             "walk": (_h, "walk_levels(sorted(asks.items()), NOTIONAL)")}

    def __init__(self):
        import platform
        self.version = "CPython " + platform.python_version()

    def snapshot(self, bids, asks):
        return ({p: s for p, s in bids}, {p: s for p, s in asks})

    def best(self, book):
        b, a = max(book[0]), min(book[1])
        return (b, book[0][b], a, book[1][a])

    def bbo_reader(self, book):
        bids, asks = book

        def read():
            b, a = max(bids), min(asks)
            return (b, bids[b]), (a, asks[a])
        return read

    def top20(self, book):
        return sorted(book[0].items(), reverse=True)[:20], sorted(book[1].items())[:20]

    def walk(self, book):
        return walk_levels(sorted(book[1].items()), NOTIONAL)

    def top(self, book, n):
        return sorted(book[0].items(), reverse=True)[:n], sorted(book[1].items())[:n]

    def apply_msgs_read(self, book, msgs):
        bids, asks = book
        for m in msgs:
            for s, p, q in m:
                if q:
                    book[s][p] = q
                else:
                    del book[s][p]
            b, a = max(bids), min(asks)
            bids[b], asks[a]


class Nautilus(Adapter):
    """nautilus_trader's Cython OrderBook (L2_MBP), fed prebuilt OrderBookDelta objects
    (building them is timed separately: peers.md a))."""

    name = "nautilus_trader OrderBook (Cython)"
    batch = True
    msg_objects = True
    stmts = {
        "bbo": ("", "book.best_bid_price(), book.best_bid_size(), book.best_ask_price(), book.best_ask_size()"),
        "top20": ("", "book.bids()[:20], book.asks()[:20]"),
        "walk": ("", "walk_levels(((lv.price.as_double(), lv.size()) for lv in book.asks()), NOTIONAL)"),
        # built-in quantity walk for the same fill (Q/BUY are put in the namespace)
        "walk_native": ("", "book.get_avg_px_for_quantity(Q, BUY)"),
    }

    def __init__(self):
        from nautilus_trader.model.book import OrderBook
        from nautilus_trader.model.data import BookOrder, OrderBookDelta, OrderBookDeltas
        from nautilus_trader.model.enums import BookAction, BookType, OrderSide
        from nautilus_trader.model.identifiers import InstrumentId
        from nautilus_trader.model.objects import Price, Quantity
        import nautilus_trader
        self.version = nautilus_trader.__version__
        self.OrderBook, self.BookType = OrderBook, BookType
        self.BookOrder, self.Delta, self.Deltas = BookOrder, OrderBookDelta, OrderBookDeltas
        self.UPDATE, self.DELETE = BookAction.UPDATE, BookAction.DELETE
        self.SIDES = (OrderSide.BUY, OrderSide.SELL)
        self.Price, self.Quantity = Price, Quantity
        self.BUY = OrderSide.BUY
        self.iid = InstrumentId.from_str("BTCUSDT.BINANCE")

    def build(self, ups, seq0=1):
        """The natural path (as the Binance adapter builds deltas)."""
        D, BO, P, Q, iid = self.Delta, self.BookOrder, self.Price, self.Quantity, self.iid
        U, X, S = self.UPDATE, self.DELETE, self.SIDES
        out = []
        app = out.append
        seq = seq0
        for s, p, q in ups:
            app(D(iid, U if q else X, BO(S[s], P(p, 1), Q(q, 3), 0), 0, seq, 0, 0))
            seq += 1
        return out

    def deltas(self, ds):
        return self.Deltas(self.iid, ds)

    def snapshot(self, bids, asks):
        book = self.OrderBook(self.iid, self.BookType.L2_MBP)
        ups = [(0, p, s) for p, s in bids] + [(1, p, s) for p, s in asks]
        book.apply_deltas(self.Deltas(self.iid, self.build(ups)))
        return book

    def snapshot_msg(self, bids, asks):
        ups = [(0, p, s) for p, s in bids] + [(1, p, s) for p, s in asks]
        return self.Deltas(self.iid, self.build(ups))

    def snapshot_from_msg(self, msg):
        book = self.OrderBook(self.iid, self.BookType.L2_MBP)
        book.apply_deltas(msg)
        return book

    def prepare_updates(self, ups):
        return self.build(ups, 10_000)

    def apply_all(self, book, ups):
        ad = book.apply_delta
        for d in ups:
            ad(d)

    def best(self, book):
        return (book.best_bid_price().as_double(), book.best_bid_size().as_double(),
                book.best_ask_price().as_double(), book.best_ask_size().as_double())

    def bbo_reader(self, book):
        bp, bs, ap, as_ = book.best_bid_price, book.best_bid_size, book.best_ask_price, book.best_ask_size
        return lambda: (bp(), bs(), ap(), as_())

    def top20(self, book):
        return book.bids()[:20], book.asks()[:20]

    def walk(self, book):
        return walk_levels(((lv.price.as_double(), lv.size()) for lv in book.asks()), NOTIONAL)

    def top(self, book, n):
        # str -> float: as_double() multiplies the raw by 1e-16 and can be an ulp off the
        # decimal; the check compares prices exactly
        return ([(float(str(lv.price)), lv.size()) for lv in book.bids()[:n]],
                [(float(str(lv.price)), lv.size()) for lv in book.asks()[:n]])

    def apply_msgs_read(self, book, msgs):
        # msgs: prebuilt OrderBookDeltas of 10 (the batched path, as peers.md g))
        ad = book.apply_deltas
        bp, bs, ap, as_ = book.best_bid_price, book.best_bid_size, book.best_ask_price, book.best_ask_size
        for m in msgs:
            ad(m)
            bp(), bs(), ap(), as_()


class NautilusPyo3(Nautilus):
    """The same book through nautilus_trader's Rust bindings (``nautilus_pyo3``): the
    pyo3 OrderBook, OrderBookDelta, Price and Quantity; everything else as the Cython
    adapter (peers.md measures both)."""

    name = "nautilus_trader OrderBook (pyo3)"

    def __init__(self):
        import nautilus_trader
        from nautilus_trader.core import nautilus_pyo3 as p
        self.version = nautilus_trader.__version__
        self.OrderBook, self.BookType = p.OrderBook, p.BookType
        self.BookOrder, self.Delta, self.Deltas = p.BookOrder, p.OrderBookDelta, p.OrderBookDeltas
        self.UPDATE, self.DELETE = p.BookAction.UPDATE, p.BookAction.DELETE
        self.SIDES = (p.OrderSide.BUY, p.OrderSide.SELL)
        self.Price, self.Quantity = p.Price, p.Quantity
        self.BUY = p.OrderSide.BUY
        self.iid = p.InstrumentId.from_str("BTCUSDT.BINANCE")


ALL = (LiqCore, Ccxt, Bmoscon, SortedDictBook, PlainDict, Nautilus, NautilusPyo3)


def available():
    """{name: adapter instance} for every book importable in this interpreter."""
    out = {}
    for cls in ALL:
        try:
            a = cls()
        except ImportError:
            continue
        out[a.name] = a
    return out


def get(name):
    for cls in ALL:
        if cls.name == name:
            return cls()
    raise KeyError(name)
