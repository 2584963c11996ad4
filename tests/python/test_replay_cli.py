"""`liqcore replay FILE...`: the replay subcommand, in-process and once as a subprocess.

Also what a new user tries: a truncated gzip recording is replayed as far as it can be read and
says where it stopped (exit 1); a file that is not a recording (text, binary junk, empty, a
directory, missing, unreadable) gets one line and exit 2, before anything is replayed.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from liqcore.cli import main
from liqcore.recordings import convert
from liqcore.replay import BUNDLED_RECORDING

CF = Path(__file__).resolve().parents[1] / "data" / "cryptofeed"


def liqcore_command() -> list[str]:
    """The installed ``liqcore`` console script of the interpreter running the tests, found where
    pip installs its scripts (the venv's bin, next to sys.executable), on PATH or not; another
    ``liqcore`` earlier on PATH is never taken. (``python -m liqcore.cli`` from the repository
    would import the source tree, which has no compiled modules in a regular install.)"""
    name = "liqcore.exe" if os.name == "nt" else "liqcore"
    for where in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        exe = Path(where) / name
        if exe.is_file():
            return [str(exe)]
    pytest.fail(f"no liqcore console script installed for {sys.executable}")


def truncated_gzip(tmp_path: Path) -> Path:
    """The bundled recording cut in the middle of its gzip stream."""
    data = BUNDLED_RECORDING.read_bytes()
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_json_over_every_format(tmp_path, capsys):
    lq = tmp_path / "bitget.lqrec"
    convert(CF / "BITGET.ws.1.0", lq)
    files = [str(CF / "OKX.ws.1.0"), str(CF / "KRAKEN.ws.50.0"), str(lq), str(BUNDLED_RECORDING)]
    assert main(["replay", *files, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["problems"] == []
    assert out["formats"] == ["cryptofeed", "cryptofeed", "liqcore", "hftbacktest"]
    t = out["totals"]
    assert (t["checksums_ok"], t["checksums_failed"], t["checkpoints_ok"], t["checkpoints_failed"]) == (5002, 0, 564, 0)
    books = {(b["exchange"], b["symbol"]): b for b in out["books"]}
    assert len(books) == 22
    assert books["okx", "BTC-USDT"]["best_bid"] == ["30236.1", "0.18050747"]
    assert books["binance", "BTCUSDT"]["levels"] == [1209, 2196]


def test_table_and_exit_status_on_damage(tmp_path, capsys):
    assert main(["replay", str(CF / "OKX.ws.1.0")]) == 0
    text = capsys.readouterr().out
    assert any(ln.split()[:2] == ["okx", "BTC-USDT"] for ln in text.splitlines()) and "98/0" in text
    assert "checksums 290 verified, 0 failed" in text and text.rstrip().endswith("OK: every checksum and checkpoint verified")

    lq = tmp_path / "okx.lqrec"
    convert(CF / "OKX.ws.1.0", lq, block_bytes=16 * 1024)
    data = bytearray(lq.read_bytes())
    data[len(data) // 3] ^= 0xFF
    lq.write_bytes(data)
    assert main(["replay", str(lq)]) == 1
    text = capsys.readouterr().out
    assert "damaged: " in text and "NOT OK" in text


def test_errors_and_wrong_exchange(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "missing.lqrec")]) == 2
    assert "liqcore replay: error:" in capsys.readouterr().err
    assert main(["replay", str(CF / "OKX.ws.1.0"), "--exchange", "kraken", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["books"] == [] and out["ok"] is False


def test_bare_liqcore_stays_the_main_job(capsys):
    """No subcommand: the main job's options still parse as before (--help exits)."""
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "--tick-size" in text and "liqcore replay FILE" in text


def test_console_script_subprocess(tmp_path):
    # PATH without the venv's bin, run from elsewhere: the installed script is still the one run
    env = dict(os.environ, PATH=os.defpath)
    res = subprocess.run([*liqcore_command(), "replay", str(CF / "KRAKEN.ws.50.0"), str(CF / "KRAKEN.0"),
                          "--speed", "1000000"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "checksums 4,269 verified, 0 failed" in res.stdout
    assert sum(line.startswith("kraken ") for line in res.stdout.splitlines()) == 10


def test_a_truncated_gzip_recording_is_replayed_up_to_where_it_stops(tmp_path, capsys):
    cut = truncated_gzip(tmp_path)
    assert main(["replay", str(cut), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    (damage,) = out["damage"]
    assert damage["file"] == str(cut) and damage["length"] == 0 and damage["line"] > 10_000
    assert "gzip stream ends early" in damage["reason"] and out["problems"] == ["1 damaged region(s) skipped"]
    book = out["books"][0]
    assert book["applied"] > 1000 and book["checkpoints_ok"] > 100 and book["checkpoints_failed"] == 0
    assert out["frames"] == damage["line"] - 1                  # every line before the cut was read

    assert main(["replay", str(cut)]) == 1
    text = capsys.readouterr().out
    assert f"damaged: {cut} line {damage['line']:,}: the gzip stream ends early (truncated file?)" in text
    assert "NOT OK: 1 damaged region(s) skipped" in text

    assert main(["replay", "--strict", str(cut)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and f"line {damage['line']:,}: the gzip stream ends early" in one_line(cap.err)


def test_a_truncated_gzip_through_the_console_script_has_no_traceback(tmp_path):
    res = subprocess.run([*liqcore_command(), "replay", str(truncated_gzip(tmp_path))], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert "damaged: " in res.stdout and "NOT OK" in res.stdout


def _not_recordings(tmp_path: Path) -> dict[str, Path]:
    files = {"text": tmp_path / "README.md", "junk": tmp_path / "junk.bin", "empty": tmp_path / "empty",
             "gzip text": tmp_path / "notes.gz", "bad gzip": tmp_path / "bad.gz", "lqrec junk": tmp_path / "x.lqrec"}
    files["text"].write_text("# liqcore\n\nspread 1e\u22124 of mid; `apply_deltas(sides, prices, sizes)`\n")
    files["junk"].write_bytes(bytes(range(256)) * 40)
    files["empty"].write_bytes(b"")
    files["gzip text"].write_bytes(gzip.compress(b"hello\nworld\n"))
    files["bad gzip"].write_bytes(b"\x1f\x8b" + bytes(range(200)))
    files["lqrec junk"].write_bytes(b"LQBK" + bytes(100))
    return files


@pytest.mark.parametrize("kind", ["text", "junk", "empty", "gzip text", "bad gzip", "lqrec junk"])
def test_a_file_that_is_not_a_recording_is_one_line_and_exit_2(tmp_path, capsys, kind):
    path = _not_recordings(tmp_path)[kind]
    assert main(["replay", str(CF / "OKX.ws.1.0"), str(path)]) == 2
    cap = capsys.readouterr()
    line = one_line(cap.err)
    assert cap.out == ""                                         # nothing replayed before the bad file
    assert line.startswith(f"liqcore replay: error: {path}: ") and "not a recording" in line
    for fmt in ("liqcore", "hftbacktest", "cryptofeed", "gzip"):
        assert fmt in line


@pytest.mark.parametrize("kind", ["directory", "missing", "unreadable"])
def test_a_file_that_cannot_be_opened_is_one_line_and_exit_2(tmp_path, capsys, kind):
    path = tmp_path / kind
    if kind == "directory":
        path.mkdir()
    elif kind == "unreadable":
        path.write_bytes((CF / "OKX.ws.1.0").read_bytes())
        path.chmod(0)
        if os.access(path, os.R_OK):
            pytest.skip("permissions do not stop this user (root)")
    assert main(["replay", str(path)]) == 2
    cap = capsys.readouterr()
    want = {"directory": "Is a directory", "missing": "No such file or directory", "unreadable": "Permission denied"}
    assert cap.out == "" and one_line(cap.err) == f"liqcore replay: error: {path}: {want[kind]}"
