"""Rows in, batches out: the one place that turns what callers write (records, dicts, numpy
structured arrays) into a :class:`Batch` every backend can insert, checking every value first.

A batch is all or nothing: any unusable row raises :class:`StoreInputError` naming the row and the
column, and nothing of the call is buffered.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from operator import attrgetter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from liqcore.store.errors import StoreInputError
from liqcore.store.schema import EXCHANGE_BYTES, SYMBOL_BYTES, Column, Table

__all__ = ["Batch", "to_batch", "SIDE_WORDS"]

#: the words a side column accepts, as the records spell them (buy/long/bid = +1)
SIDE_WORDS = {"buy": 1, "long": 1, "bid": 1, "sell": -1, "short": -1, "ask": -1, None: 0}
_MISSING = object()
#: text values travel through backends that join them with these two characters (sqlite.py)
_RESERVED = ("\x1e", "\x1f")


@dataclass
class Batch:
    """Rows of one table, checked and laid out for insertion. Owned by the store once written.

    ``fixed`` holds ``ts`` and the fixed columns (``table.stored_dtype``); ``exchange`` and
    ``symbol`` one str per row; ``variable`` one list per text column (str or None), and per array
    column the items of all rows joined (an array of the item type) with the row offsets (n + 1
    int64: row i owns ``flat[offsets[i]:offsets[i + 1]]``).
    """

    table: Table
    exchange: list[str]
    symbol: list[str]
    fixed: npt.NDArray[Any]
    variable: dict[str, Any]

    def __len__(self) -> int:
        return len(self.fixed)


def _get(row: Any, name: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(name, _MISSING)
    return getattr(row, name, _MISSING)


class _Names:
    """Checked exchange/symbol strings, cached: a batch usually repeats a few of them."""

    def __init__(self) -> None:
        self.ok: set[str] = set()

    def check(self, what: str, value: Any, k: int) -> str:
        if value in self.ok:
            return value
        if isinstance(value, bytes):
            value = value.decode("ascii", "replace")
        if not isinstance(value, str) or not value:
            raise StoreInputError(f"rows[{k}].{what}: expected a non-empty string, got {value!r} "
                                  f"(pass {what}= to write() for rows that carry none)")
        limit = EXCHANGE_BYTES if what == "exchange" else SYMBOL_BYTES
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            raise StoreInputError(f"rows[{k}].{what}: {value!r} is not ASCII") from None
        if b"\x00" in raw:
            raise StoreInputError(f"rows[{k}].{what}: {value!r} holds a NUL character")
        if len(raw) > limit:
            raise StoreInputError(f"rows[{k}].{what}: {value!r} is longer than {limit} bytes")
        self.ok.add(value)
        return value


def _side(value: Any, k: int) -> int:
    if isinstance(value, str) or value is None:
        s = SIDE_WORDS.get(value.lower() if isinstance(value, str) else value, _MISSING)
        if s is _MISSING:
            raise StoreInputError(f"rows[{k}].side: unknown side {value!r} (buy/sell, long/short, bid/ask, +1/-1)")
        return s  # type: ignore[return-value]
    if isinstance(value, (bool, np.bool_)) or value not in (1, -1, 0):
        raise StoreInputError(f"rows[{k}].side: expected +1, -1, 0 or a side word, got {value!r}")
    return int(value)


def _ts(value: Any, k: int, what: str = "ts") -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise StoreInputError(f"rows[{k}].{what}: expected an int (ns since the epoch), got {value!r}")
    return int(value)


def _text(col: Column, value: Any, k: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif isinstance(value, (Mapping, list, tuple)):
        value = json.dumps(value, allow_nan=True, default=str)
    if not isinstance(value, str):
        raise StoreInputError(f"rows[{k}].{col.name}: expected a str, got {type(value).__name__}")
    if _RESERVED[0] in value or _RESERVED[1] in value or "\x00" in value:
        # NUL: PostgreSQL's text cannot hold it, and the batch would be refused at every retry
        raise StoreInputError(f"rows[{k}].{col.name}: control characters \\x00/\\x1e/\\x1f are not stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreInputError(f"rows[{k}].{col.name}: {value!r} is not valid Unicode (a lone surrogate)") from None
    return value


def _items(col: Column, value: Any, k: int) -> npt.NDArray[Any]:
    """The items of an array column as a contiguous array of ``col.dtype``."""
    item: np.dtype[Any] = col.dtype  # type: ignore[assignment]
    try:
        if isinstance(value, np.ndarray) and value.dtype == item and value.ndim == 1:
            return np.ascontiguousarray(value)  # a report's walls_array(): already the items
        if isinstance(value, np.ndarray) and value.dtype.names is not None and item.names is not None:
            out = np.empty(len(value), item)
            for n in item.names:
                out[n] = value[n]
            return out
        if item.names is None:  # levels: (n, 2) floats
            arr = np.asarray(value, dtype=np.float64)
            if arr.size == 0:
                return np.empty((0, *item.shape), np.float64)
            if arr.ndim != 2 or arr.shape[1:] != item.shape:
                raise ValueError(f"expected shape (n, {item.shape[0]}), got {arr.shape}")
            return np.ascontiguousarray(arr)  # (n, 2): its bytes are n items
        out = np.empty(len(value), item)
        for j, it in enumerate(value):
            out[j] = tuple(_item_field(it, n) for n in item.names)
        return out
    except StoreInputError:
        raise
    except (TypeError, ValueError, KeyError) as e:
        raise StoreInputError(f"rows[{k}].{col.name}: unusable items ({e})") from None


def _item_field(item: Any, name: str) -> float:
    v = _get(item, name)
    if v is _MISSING:
        raise KeyError(f"an item lacks {name!r}")
    if name == "side" and (isinstance(v, str) or v is None):
        return float(SIDE_WORDS[v])
    return math.nan if v is None else float(v)


def to_batch(table: Table, rows: Any, *, ts: int | None = None, exchange: str | None = None,
             symbol: str | None = None) -> Batch:
    """Check ``rows`` and lay them out for ``table``. O(rows x columns), column by column (one list
    comprehension and one numpy conversion per column: the per-value work stays in C).

    ``rows``: records (objects with the columns as attributes, e.g. ``liqcore.feed.records``,
    :class:`liqcore.LiquidityReport`, :class:`liqcore.risk.LiquidationLevel`), mappings, a sequence
    of either, or a numpy structured array with the columns as fields. ``ts``/``exchange``/``symbol``
    fill rows that carry none (a report or a liquidation level has no time of its own); a row's
    ``ts_ms`` (ms) stands for its ``ts`` when it has no ``ts``.
    """
    if isinstance(rows, np.ndarray):
        return _from_array(table, rows, ts=ts, exchange=exchange, symbol=symbol)
    if isinstance(rows, (Mapping, str, bytes)) or not isinstance(rows, Iterable):
        rows = [rows]
    rows = rows if isinstance(rows, list) else list(rows)
    n = len(rows)
    n_maps = 0
    for k, row in enumerate(rows):
        if type(row) is dict or isinstance(row, Mapping):
            n_maps += 1
        elif row is None or isinstance(row, (str, bytes, int, float)):
            raise StoreInputError(f"rows[{k}]: expected a record or a mapping, got {type(row).__name__}")

    def column(name: str) -> list[Any]:
        if n_maps == n:
            return [r.get(name, _MISSING) for r in rows]
        if n_maps == 0:
            return [getattr(r, name, _MISSING) for r in rows]
        return [_get(r, name) for r in rows]

    names = _Names()
    exchanges = _strings(names, "exchange", column("exchange"), exchange)
    symbols = _strings(names, "symbol", column("symbol"), symbol)
    fixed = np.zeros(n, table.stored_dtype)
    times = column("ts")
    if times.count(_MISSING) == n and ts is not None and column("ts_ms").count(_MISSING) == n:
        times = [_ts(ts, 0)] * n  # reports and map levels: the time given to write()
    elif set(map(type, times)) - {int}:
        ms = column("ts_ms")
        for k, t in enumerate(times):
            if t is _MISSING or t is None:
                t = ts if ms[k] is _MISSING or ms[k] is None else _ts(ms[k], k, "ts_ms") * 1_000_000
                if t is None:
                    raise StoreInputError(f"rows[{k}]: no ts (ns since the epoch): the row has neither ts nor "
                                          f"ts_ms; pass ts= to write()")
            times[k] = _ts(t, k)
    fixed["ts"] = times
    variable: dict[str, Any] = {}
    lengths: dict[str, npt.NDArray[Any]] = {}
    for col in table.variable:
        values = column(col.name)
        if col.kind == "array" and _has(values, _MISSING):
            # a report gives its items as an array (walls_array(): no Python object per item), or as
            # .walls / to_dict()["walls"] records; the stored count is their length
            arrays = column(f"{col.count}_array")
            values = [a() if v is _MISSING and callable(a) else v for v, a in zip(values, arrays)]
            alt = column(col.count)  # type: ignore[arg-type]
            values = [a if v is _MISSING and isinstance(a, (Sequence, np.ndarray)) else v for v, a in zip(values, alt)]
        if col.required and _has(values, _MISSING):
            k = next(k for k, v in enumerate(values) if v is _MISSING)
            raise StoreInputError(f"rows[{k}]: missing column {col.name!r} of table {table.name!r}")
        values = [col.default if v is _MISSING else v for v in values]
        if col.kind == "text":
            variable[col.name] = [_text(col, v, k) for k, v in enumerate(values)]
        else:
            flat, offsets = _flatten(col, values)
            variable[col.name] = (flat, offsets)
            lengths[col.count] = np.diff(offsets)  # type: ignore[index]
    for col in table.fixed:
        if col.name in lengths:
            fixed[col.name] = lengths[col.name]
            continue
        values = column(col.name)
        # one pass in C over the types: the common case (numbers only) needs no per-value Python work
        kind = col.dtype.kind if col.dtype is not None else "f"
        if set(map(type, values)) - (_INTS if kind == "i" else _NUMBERS):
            for k, v in enumerate(values):
                if v is _MISSING:
                    if col.required:
                        raise StoreInputError(f"rows[{k}]: missing column {col.name!r} of table {table.name!r}")
                    values[k] = col.default
                elif v is None:
                    values[k] = col.default if not col.required else math.nan
                elif col.side:
                    values[k] = _side(v, k)
                elif isinstance(v, (str, bytes)) or (isinstance(v, (bool, np.bool_)) and kind == "f"):
                    # numpy would parse "1.5": a string is not a number here
                    raise StoreInputError(f"rows[{k}].{col.name}: expected a number, got {v!r}")
        try:
            fixed[col.name] = values
        except (TypeError, ValueError, OverflowError):
            for k, v in enumerate(values):
                try:
                    np.array(v, dtype=col.dtype)
                except (TypeError, ValueError, OverflowError):
                    raise StoreInputError(f"rows[{k}].{col.name}: expected a {col.dtype} value, got {v!r}") from None
            raise StoreInputError(f"rows.{col.name}: values do not fit {col.dtype}") from None
        if col.side and not np.isin(fixed[col.name], (-1, 0, 1)).all():
            k = int(np.flatnonzero(~np.isin(fixed[col.name], (-1, 0, 1)))[0])
            raise StoreInputError(f"rows[{k}].side: expected +1, -1, 0 or a side word, got {values[k]!r}")
    return Batch(table, exchanges, symbols, fixed, variable)


_INTS = {int, np.int64, np.int32, np.int16, np.int8, np.uint8, np.uint16, np.uint32}
_NUMBERS = _INTS | {float, np.float64, np.float32}


def _strings(names: _Names, what: str, values: list[Any], given: str | None) -> list[str]:
    """The exchange (or symbol) of every row, each distinct value checked once."""
    try:
        uniq = set(values)
    except TypeError:  # an unhashable value: the row-by-row path names it
        uniq = {None}
    if all(type(u) is str for u in uniq):
        for u in uniq:
            names.check(what, u, values.index(u))
        return values
    return [names.check(what, given if v is _MISSING or v is None else v, k) for k, v in enumerate(values)]


def _has(values: list[Any], obj: Any) -> bool:
    """``obj in values`` by identity (``in`` would compare arrays element-wise)."""
    return any(v is obj for v in values)


def _flatten(col: Column, values: list[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """The items of every row of an array column, joined, and the row offsets (n + 1). The items
    of records (a report's Wall/Cluster objects) are read with one attrgetter call each."""
    item: np.dtype[Any] = col.dtype  # type: ignore[assignment]
    counts = np.zeros(len(values) + 1, np.int64)
    if item.names is not None and all(isinstance(v, tuple) for v in values):
        objs = [it for v in values for it in v]
        if not objs:
            return np.empty(0, item), counts
        if not isinstance(objs[0], Mapping):
            # every item field is a float64 (schema), side first: the numbers in one (m, k - 1)
            # float array, the sides mapped beside it, the whole viewed as items without a copy
            assert item.names[0] == "side" and item.itemsize == 8 * len(item.names)
            get = attrgetter(*item.names[1:])
            try:
                numbers = [get(o) for o in objs]
                sides = [SIDE_WORDS[x] if type(x) is str else x for x in map(attrgetter("side"), objs)]
                floats = np.empty((len(objs), len(item.names)), np.float64)
                floats[:, 1:] = numbers
                floats[:, 0] = sides
            except (AttributeError, KeyError, TypeError, ValueError) as e:
                raise StoreInputError(f"rows.{col.name}: unusable items ({e!r})") from None
            flat = floats.view(item).reshape(len(objs))
            counts[1:] = [len(v) for v in values]
            return flat, np.cumsum(counts)
    parts = [_items(col, [] if v is None else v, k) for k, v in enumerate(values)]
    counts[1:] = [len(p) for p in parts]
    if not parts:
        return _items(col, [], 0), np.cumsum(counts)
    if item.names is not None:
        # joined as raw bytes: numpy's concatenate of structured arrays re-derives the common
        # dtype field by field for every part (a report's walls: 25 us a row)
        flat = np.frombuffer(b"".join([p.tobytes() for p in parts]), item).copy()
    else:
        flat = np.concatenate(parts)
    return flat, np.cumsum(counts)


def _from_array(table: Table, arr: npt.NDArray[Any], *, ts: int | None, exchange: str | None,
                symbol: str | None) -> Batch:
    """A structured array's fields, column by column (no per-row Python work for fixed columns)."""
    names = arr.dtype.names
    if names is None:
        raise StoreInputError(f"rows: a numpy array must be structured (fields named as the columns of "
                              f"{table.name!r}), got dtype {arr.dtype}")
    arr = arr.reshape(-1)
    n = len(arr)
    fixed = np.zeros(n, table.stored_dtype)
    for key in ("ts", "ts_ms"):
        if key in names and arr.dtype[key].kind not in "iu":
            raise StoreInputError(f"rows.{key}: expected integers (ns / ms since the epoch), got dtype {arr.dtype[key]}")
    if "ts" in names:
        fixed["ts"] = arr["ts"]
    elif "ts_ms" in names:
        fixed["ts"] = arr["ts_ms"].astype(np.int64) * 1_000_000
    elif ts is not None:
        fixed["ts"] = _ts(ts, 0)
    else:
        raise StoreInputError("rows: the array has neither a ts nor a ts_ms field; pass ts= to write()")
    checker = _Names()

    def strings(what: str, given: str | None) -> list[str]:
        if what in names:
            col = arr[what]
            uniq = np.unique(col)
            for u in uniq:
                checker.check(what, u.decode("ascii", "replace") if isinstance(u, bytes) else str(u), 0)
            return [v.decode("ascii") if isinstance(v, bytes) else str(v) for v in col.tolist()]
        return [checker.check(what, given, 0)] * n

    exchanges, symbols = strings("exchange", exchange), strings("symbol", symbol)
    variable: dict[str, Any] = {}
    for col in table.variable:
        if col.name not in names:
            if col.required:
                raise StoreInputError(f"rows: missing column {col.name!r} of table {table.name!r}")
            variable[col.name] = [col.default] * n if col.kind == "text" else \
                (_items(col, [], 0), np.zeros(n + 1, np.int64))
            continue
        if col.kind == "text":
            variable[col.name] = [_text(col, v, k) for k, v in enumerate(arr[col.name].tolist())]
        else:
            counts = arr[col.count] if col.count in names else None
            values = []
            for k in range(n):
                row_items = arr[col.name][k]
                m = int(counts[k]) if counts is not None else len(row_items)
                values.append(row_items[:m])
            flat, offsets = _flatten(col, values)
            variable[col.name] = (flat, offsets)
            fixed[col.count] = np.diff(offsets)
    counted = {c.count for c in table.variable if c.kind == "array"}
    for col in table.fixed:
        if col.name in counted:
            continue
        if col.name in names:
            src = arr[col.name]
            if col.side and src.dtype.kind in "SUO":
                src = np.array([_side(v.decode() if isinstance(v, bytes) else v, k) for k, v in enumerate(src.tolist())])
            elif col.side and not np.isin(src, (-1, 0, 1)).all():
                raise StoreInputError(f"rows.side: values other than +1, -1, 0 in {np.unique(src)[:5]}")
            try:
                fixed[col.name] = src
            except (TypeError, ValueError) as e:
                raise StoreInputError(f"rows.{col.name}: {e}") from None
        elif col.required:
            raise StoreInputError(f"rows: missing column {col.name!r} of table {table.name!r}")
        else:
            fixed[col.name] = col.default
    return Batch(table, exchanges, symbols, fixed, variable)
