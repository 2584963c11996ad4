"""``liqcore bench`` as a subprocess.

What is proved (no timing is asserted: the figures are whatever this machine measures): ``--check``
measures the three targets on the three components, its exit status is 0 exactly when every
measure meets its target (1 otherwise) and every replay behind it verified; the margin is the
ratio the table says; without ``--check`` the suite runs from a source checkout and prints the
peer table, and says in one line (exit 2) when there is no suite or no such benchmark file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_commands_cli import liqcore, one_error_line

from liqcore.commands.bench import TARGETS, Measure, benchmarks_dir

COMPONENTS = ["engine", "alert monitor", "live feed (simulator)"]


#: this checkout's benchmark suite (tests/python/../../benchmarks)
SUITE = Path(__file__).resolve().parents[2] / "benchmarks"

def test_check_measures_every_target_on_every_component(tmp_path):
    pytest.importorskip("ccxt.pro")
    p = liqcore("bench", "--check", "--json", cwd=tmp_path, timeout=300)
    assert p.stderr == "", p.stderr
    out = json.loads(p.stdout)
    ms = out["measures"]
    assert [(m["component"], m["metric"]) for m in ms] == [(c, k) for c in COMPONENTS for k in TARGETS]
    for m in ms:
        unit, target, kind = TARGETS[m["metric"]]
        assert (m["unit"], m["target"], m["kind"]) == (unit, target, kind)
        assert m["value"] >= 0 and m["ok"] == (m["value"] < target if kind == "max" else m["value"] > target)
        assert m["margin"] == pytest.approx(target / m["value"] if kind == "max" else m["value"] / target)
        assert not m["note"].startswith("NOT"), m          # every replay behind the figures verified
    assert out["ok"] == all(m["ok"] for m in ms)
    assert p.returncode == (0 if out["ok"] else 1)
    by = {(m["component"], m["metric"]): m for m in ms}
    assert by[("engine", "updates_per_s")]["note"] == "564 bookTicker checkpoints verified"
    assert by[("live feed (simulator)", "updates_per_s")]["note"] == "all checkpoints verified"


def test_check_table(tmp_path):
    pytest.importorskip("ccxt.pro")
    p = liqcore("bench", "--check", cwd=tmp_path, timeout=300)
    lines = p.stdout.splitlines()
    assert lines[0].startswith("liqcore bench --check: the seed targets, measured in ")
    assert lines[1].split()[:4] == ["component", "metric", "measured", "target"]
    assert len(lines) == 2 + 9 + 1
    assert lines[-1] == "OK: every target met" if p.returncode == 0 else lines[-1].startswith("NOT OK: ")


def test_measure_margin_and_verdict():
    fast = Measure("x", "message_ms", 0.5, "ms", 10.0, "max")
    slow = Measure("x", "message_ms", 12.0, "ms", 10.0, "max")
    few = Measure("x", "updates_per_s", 900.0, "updates/s", 1000.0, "min")
    assert (fast.ok, fast.margin) == (True, 20.0)
    assert slow.ok is False and slow.margin == pytest.approx(10 / 12)
    assert few.ok is False and few.margin == 0.9


def test_suite_runs_and_prints_the_peer_table(tmp_path):
    pytest.importorskip("pytest_benchmark")
    if benchmarks_dir(str(SUITE)) is None:
        pytest.skip("not a source checkout")
    # the suite given: an installed (not editable) liqcore run elsewhere has none beside it
    p = liqcore("bench", "--quick", "--json", "--benchmarks", str(SUITE), cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["files"] == ["bench_book.py"] and out["quick"] is True
    assert out["report"].startswith("# liqcore peer benchmarks") and "### a) apply 1-by-1" in out["report"]
    groups = {b["group"] for b in out["benchmarks"]}
    assert any(g.startswith("a) apply 1-by-1") for g in groups)


@pytest.mark.parametrize("args, says", [
    (["--benchmarks", "{empty}"], "no benchmark suite at"),
    (["--files", "bench_nope.py"], "no bench_nope.py in"),
    (["--quick", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_no_suite_or_file_is_one_line_and_exit_2(tmp_path, args, says):
    if "--files" in args:
        if benchmarks_dir(str(SUITE)) is None:
            pytest.skip("not a source checkout")
        args = [*args, "--benchmarks", str(SUITE)]
    (tmp_path / "empty").mkdir()
    p = liqcore("bench", *[a.format(empty=tmp_path / "empty") for a in args], cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert says in one_error_line(p, "liqcore bench")
