"""History of a market: an embedded SQLite store by default, behind one interface.

    >>> from liqcore.store import open_store
    >>> store = open_store("sqlite:///history.db")          # doctest: +SKIP
    >>> store.write("liquidity_reports", book.liquidity_report(), ts=now_ns)   # doctest: +SKIP
    >>> store.read("liquidity_reports", "binance", "BTC/USDT", start, end)    # doctest: +SKIP

Writes never block the feed (a bounded buffer and a background writer), reads return numpy
structured arrays (or pandas DataFrames), ranges export to Parquet. Tables, units and choices:
``docs/store.md``; the tables: :data:`TABLES`. Errors are :class:`StoreError` subclasses (also
ValueError / OSError / RuntimeError as fits).
"""

from liqcore.store.errors import StoreClosedError, StoreError, StoreInputError, StoreIOError, StoreSchemaError
from liqcore.store.schema import SCHEMA_VERSION, TABLES, Column, Table
from liqcore.store.store import DEFAULT_FILE, Store, StoreStats, default_data_dir, default_path, open_store

__all__ = [
    "open_store", "Store", "StoreStats", "default_data_dir", "default_path", "DEFAULT_FILE", "TABLES", "Table",
    "Column", "SCHEMA_VERSION", "StoreError", "StoreInputError", "StoreSchemaError", "StoreIOError",
    "StoreClosedError",
]
