"""``liqcore record`` against the local simulator (a subprocess), and with no network (in process,
behind the no-internet guard).

What is proved: the recording holds every frame the feed received (the count the command
reports equals the records read back, per exchange and kind), it replays through ``liqcore
replay`` into books equal to the simulator's, a second run appends; the progress line says
frames and bytes; bad input (a bad pair, an exchange the simulator does not speak, a file that
cannot be written, no network) is one line, exit 2, and leaves no file behind."""

from __future__ import annotations

import json
import sys

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from test_commands_cli import liqcore, one_error_line  # noqa: E402

from liqcore.cli import main  # noqa: E402
from liqcore.recorder import RecordingReader  # noqa: E402
from liqcore.replay import replay  # noqa: E402


def test_record_the_simulator_then_replay_the_file(tmp_path):
    p = liqcore("record", "--sim", "--seed", "3", "--seconds", "1.5", "--refresh", "0.5", "-o", "sim.lqrec",
                "binance:BTC/USDT", "okx:BTC/USDT", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    progress = p.stderr.splitlines()
    assert progress and all(ln.startswith("liqcore record: ") and " frames, " in ln and " bytes written to sim.lqrec"
                            in ln for ln in progress), p.stderr
    f = out["file"]
    path = tmp_path / "sim.lqrec"
    reader = RecordingReader(path)
    kinds: dict[str, int] = {}
    for rec in reader:
        kinds[f"{rec.exchange} {rec.kind}"] = kinds.get(f"{rec.exchange} {rec.kind}", 0) + 1
    assert f["bytes"] == f["bytes_added"] == path.stat().st_size and reader.damage == []
    assert f["records"] == f["frames_added"] == reader.records and f["by_exchange_kind"] == kinds
    assert kinds["binance rest"] == 1                          # Binance's REST snapshot is recorded too
    books = {b["exchange"]: b for b in out["books"]}
    assert all(b["matches_simulator"] and b["state"] == "live" for b in books.values())
    # every frame the feed took is in the file: websocket frames = messages the books counted
    assert kinds["okx recv"] >= books["okx"]["messages"] and kinds["binance recv"] >= books["binance"]["messages"]
    rep = replay([path])
    assert rep.ok, rep.problems()
    final = {(b.exchange, b.symbol): b for b in rep.books}
    assert final[("okx", "BTC-USDT")].best_bid == books["okx"]["best_bid"]
    assert final[("okx", "BTC-USDT")].checksums_failed == 0 and final[("okx", "BTC-USDT")].checksums_ok > 10
    # a second run appends to the same file
    p = liqcore("record", "--sim", "--seconds", "0.5", "-o", "sim.lqrec", "kraken:BTC/USD", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "kraken recv: " in p.stdout and "equals the simulator's true book" in p.stdout
    again = RecordingReader(path)
    assert sum(1 for _ in again) > reader.records and again.damage == []


@pytest.mark.parametrize("args, says", [
    (["--sim", "binance-BTC/USDT"], "EXCHANGE:BASE/QUOTE"),
    (["--sim", "deribit:BTC/USD"], "the simulator serves binance"),
    (["--sim", "--seconds", "0", "binance:BTC/USDT"], "must be a number > 0"),
    (["--sim", "binance:BTC/USDT", "-o", "no/such/dir/x.lqrec"], "no/such/dir/x.lqrec: No such file or directory"),
], ids=lambda v: " ".join(v))
def test_bad_input_is_one_line_exit_2_and_leaves_no_file(tmp_path, args, says):
    argv = ["record", "--seconds", "0.5", *args]
    if "-o" not in args:
        argv += ["-o", "x.lqrec"]
    p = liqcore(*argv, cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert says in one_error_line(p, "liqcore record")
    assert list(tmp_path.iterdir()) == []


def test_no_network_is_one_line_per_exchange_exit_2_and_no_file(tmp_path, capsys, monkeypatch, no_internet):
    # uvloop resolves names in libuv, past the guard's socket.getaddrinfo: run on asyncio's loop
    monkeypatch.setitem(sys.modules, "uvloop", None)
    out = tmp_path / "live.lqrec"
    code = main(["record", "binance:BTC/USDT", "okx:BTC/USDT", "--seconds", "5", "-o", str(out)])
    cap = capsys.readouterr()
    assert code == 2 and cap.out == "" and "Traceback" not in cap.err
    lines = [ln for ln in cap.err.splitlines() if " cannot be reached (" in ln]
    assert [ln.split(" cannot be reached (")[0] for ln in lines] == ["liqcore watch: binance", "liqcore watch: okx"]
    assert all("test guard: no DNS" in ln for ln in lines)
    assert no_internet                                       # the guard, not the internet, answered
    no_internet.clear()
    assert not out.exists()
