"""``liqcore history`` and ``liqcore alerts`` as subprocesses against a real SQLite store written
here with ``liqcore.store`` (and the default data directory through ``$LIQCORE_DATA_DIR``).

What is proved: the rows of a range come back as stored (table, JSON, CSV, Parquet), the range is
half-open and ``--limit`` keeps the latest; alerts are filtered by exchange, symbol, type,
severity (and above) and activity; bad input (unknown table or column, a range that ends before
it starts, a market the store does not hold, a missing store, an unreachable PostgreSQL URL) is
one line and exit 2, and reading never creates a store."""

from __future__ import annotations

import csv
import io
import json
import os
import socket

import pytest

from test_commands_cli import liqcore, one_error_line

from liqcore import OrderBook
from liqcore.alerts import LiquidityAlert
from liqcore.feed.records import Liquidation
from liqcore.store import open_store

T0 = 1_723_100_000_000_000_000            # 2024-08-08T06:53:20Z, ns
SEC = 1_000_000_000


def _alert(ex, sym, typ, sev, k, ended=None):
    ms = T0 // 1_000_000 + k * 1000
    return LiquidityAlert(id=f"{ex}:{sym}:{typ}:{ms}", ts_ms=ms, exchange=ex, symbol=sym, type=typ, severity=sev,
                          metric="spread_bps", current=5.0 + k, baseline=1.0, deviation_pct=100.0 * (4.0 + k),
                          z=6.0, message=f"alert {k}", suggested_action="wait", requires_action=sev == "HIGH",
                          baseline_values={"median": 1.0}, ended_ms=None if ended is None else ms + ended)


@pytest.fixture
def store_dir(tmp_path):
    """A store at tmp_path/data/liqcore.db: 5 liquidity reports and book snapshots 1 s apart, one
    liquidation, four alerts on two venues."""
    book = OrderBook(tick_size="0.1", lot_size="0.001", exchange="binance", symbol="BTC/USDT")
    book.apply_snapshot([["60000.0", "1.5"], ["59999.9", "3"]], [["60000.1", "2"], ["60000.2", "4"]])
    with open_store(tmp_path / "data" / "liqcore.db") as store:
        for i in range(5):
            store.write("liquidity_reports", book.liquidity_report(), ts=T0 + i * SEC)
            store.write("book_snapshots", {"bids": book.bids(20), "asks": book.asks(20 - i), "update_id": 100 + i},
                        ts=T0 + i * SEC, exchange="binance", symbol="BTC/USDT")
        store.write("liquidations", Liquidation("binance", "BTC/USDT", T0 // 1_000_000, "long", 59_990.0, 0.5))
        store.write("alerts", [_alert("binance", "BTC/USDT", "SPREAD_WIDENING", "HIGH", 0, ended=500),
                               _alert("binance", "BTC/USDT", "DEPTH_DROP", "LOW", 1),
                               _alert("okx", "BTC/USDT", "IMBALANCE", "MEDIUM", 2),
                               _alert("okx", "ETH/USDT", "SPREAD_WIDENING", "MEDIUM", 3)])
        store.flush()
    return tmp_path


def history(cwd, *args):
    return liqcore("history", *args, cwd=cwd)


def test_history_json_is_the_stored_range(store_dir):
    p = history(store_dir, "book_snapshots", "binance", "BTC/USDT", "--db", "data/liqcore.db", "--json",
                "--from", str(T0 + SEC), "--to", "2024-08-08T06:53:23Z")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["count"] == 2                                  # [T0+1s, T0+3s): the end is excluded
    assert [r["update_id"] for r in out["rows"]] == [101, 102]
    assert [r["time"] for r in out["rows"]] == ["2024-08-08T06:53:21.000Z", "2024-08-08T06:53:22.000Z"]
    first = out["rows"][0]
    assert first["bids"] == [[60000.0, 1.5], [59999.9, 3.0]] and first["n_asks"] == 2  # no NaN padding


def test_history_default_store_table_columns_and_limit(store_dir):
    env = dict(os.environ, LIQCORE_DATA_DIR=str(store_dir / "data"))
    p = liqcore("history", "liquidity_reports", "binance", "BTC/USDT", "--columns", "mid,spread_bps", "--limit", "2",
                cwd=store_dir, env=env)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "liquidity_reports of binance BTC/USDT: 2 row(s)"
    assert lines[1].split() == ["time", "mid", "spread_bps"]
    assert [ln.split()[0] for ln in lines[2:]] == ["2024-08-08T06:53:23.000Z", "2024-08-08T06:53:24.000Z"]
    assert lines[2].split()[1] == "60000.1"


def test_history_csv_and_parquet(store_dir):
    p = history(store_dir, "liquidations", "binance", "BTC/USDT", "--db", "sqlite:///data/liqcore.db", "--csv", "-")
    assert p.returncode == 0
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(rows) == 1 and float(rows[0]["price"]) == 59_990.0 and rows[0]["side"] == "1"
    pq = pytest.importorskip("pyarrow.parquet")
    p = history(store_dir, "liquidity_reports", "binance", "BTC/USDT", "--db", "data/liqcore.db", "--parquet", "r.pq")
    assert p.returncode == 0 and p.stdout.strip() == "5 row(s) written to r.pq"
    assert pq.read_table(store_dir / "r.pq").num_rows == 5


def test_history_empty_range_exits_1(store_dir):
    p = history(store_dir, "liquidations", "binance", "BTC/USDT", "--db", "data/liqcore.db", "--from", "2030-01-01")
    assert p.returncode == 1 and p.stdout.startswith("liquidations of binance BTC/USDT: 0 row(s)")


@pytest.mark.parametrize("args, says", [
    (["nope", "binance", "BTC/USDT"], "unknown table 'nope': expected one of book_snapshots"),
    (["liquidations", "binance", "BTC/USDT", "--columns", "spread"], "['spread'] are not columns of 'liquidations'"),
    (["liquidations", "binance", "BTC/USDT", "--from", "2024-08-09", "--to", "2024-08-08"],
     "the range ends (2024-08-08T00:00:00.000Z) before it starts (2024-08-09T00:00:00.000Z)"),
    (["liquidations", "binance", "BTC/USDT", "--from", "yesterday"], "'yesterday' is not a time"),
    (["liquidations", "kraken", "BTC/USD"], "the store holds no liquidations of kraken BTC/USD (it holds: binance"),
    (["liquidations", "binance", "DOGE/USDT"], "the store holds no liquidations of binance DOGE/USDT"),
    (["liquidations", "binance", "BTC/USDT", "--limit", "0"], "must be an integer >= 1"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_history_bad_input_is_one_line_and_exit_2(store_dir, args, says):
    p = history(store_dir, *args, "--db", "data/liqcore.db")
    assert p.returncode == 2 and p.stdout == ""
    assert says in one_error_line(p, "liqcore history")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", ["history", "alerts"])
def test_a_missing_or_unreachable_store_is_one_line_and_creates_nothing(tmp_path, command):
    table = ["liquidations", "binance", "BTC/USDT"] if command == "history" else []
    p = liqcore(command, *table, "--db", "nothing/here.db", cwd=tmp_path)
    assert p.returncode == 2 and "no store at nothing/here.db" in one_error_line(p, f"liqcore {command}")
    env = dict(os.environ, LIQCORE_DATA_DIR=str(tmp_path / "empty"))
    p = liqcore(command, *table, cwd=tmp_path, env=env)
    assert p.returncode == 2 and "no store at" in one_error_line(p, f"liqcore {command}")
    assert list(tmp_path.iterdir()) == []                   # reading created no file, no directory
    url = f"postgresql://liqcore@127.0.0.1:{_closed_port()}/liqcore"
    p = liqcore(command, *table, "--db", url, cwd=tmp_path)
    assert p.returncode == 2 and "cannot connect" in one_error_line(p, f"liqcore {command}")


def alerts(cwd, *args):
    p = liqcore("alerts", "--db", "data/liqcore.db", "--json", *args, cwd=cwd)
    assert p.stderr == ""
    return p.returncode, [a["id"].split(":")[2] + ":" + a["exchange"] + ":" + a["symbol"]
                          for a in json.loads(p.stdout)["alerts"]]


def test_alerts_filters(store_dir):
    assert alerts(store_dir) == (0, ["SPREAD_WIDENING:binance:BTC/USDT", "DEPTH_DROP:binance:BTC/USDT",
                                     "IMBALANCE:okx:BTC/USDT", "SPREAD_WIDENING:okx:ETH/USDT"])
    assert alerts(store_dir, "--exchange", "okx") == (0, ["IMBALANCE:okx:BTC/USDT", "SPREAD_WIDENING:okx:ETH/USDT"])
    assert alerts(store_dir, "--symbol", "BTC/USDT", "--severity", "medium") == (
        0, ["SPREAD_WIDENING:binance:BTC/USDT", "IMBALANCE:okx:BTC/USDT"])
    assert alerts(store_dir, "--type", "SPREAD_WIDENING", "--type", "DEPTH_DROP", "--active") == (
        0, ["DEPTH_DROP:binance:BTC/USDT", "SPREAD_WIDENING:okx:ETH/USDT"])
    assert alerts(store_dir, "--from", str(T0 + SEC), "--to", str(T0 + 3 * SEC)) == (
        0, ["DEPTH_DROP:binance:BTC/USDT", "IMBALANCE:okx:BTC/USDT"])
    assert alerts(store_dir, "--exchange", "kraken") == (1, [])


def test_alerts_text_and_record_fields(store_dir):
    p = liqcore("alerts", "--db", "data/liqcore.db", "--severity", "HIGH", cwd=store_dir)
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0] == "1 alert(s)"
    assert lines[1].startswith("2024-08-08T06:53:20.000Z  HIGH   SPREAD_WIDENING  binance BTC/USDT: spread_bps 5 vs "
                               "baseline 1 (+400.0%, z +6.00); ended 2024-08-08T06:53:20.500Z; alert 0")
    p = liqcore("alerts", "--db", "data/liqcore.db", "--severity", "HIGH", "--json", cwd=store_dir)
    (a,) = json.loads(p.stdout)["alerts"]
    assert a["baseline_values"] == {"median": 1.0} and a["requires_action"] is True and a["ended_ms"] is not None


@pytest.mark.parametrize("args, says", [
    (["--type", "NOPE"], "invalid choice: 'NOPE'"), (["--severity", "urgent"], "invalid choice: 'URGENT'"),
    (["--from", "2024-08-09", "--to", "2024-08-08"], "before it starts"), (["--to", "soon"], "'soon' is not a time"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_alerts_bad_input_is_one_line_and_exit_2(store_dir, args, says):
    p = liqcore("alerts", "--db", "data/liqcore.db", *args, cwd=store_dir)
    assert p.returncode == 2 and p.stdout == ""
    assert says in one_error_line(p, "liqcore alerts")
