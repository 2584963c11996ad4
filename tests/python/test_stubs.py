"""The .pyi stub of every compiled module matches the runtime (mypy's stubtest)."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("mypy")

ALLOWLIST = os.path.join(os.path.dirname(__file__), "stubtest_allowlist.txt")


#: every compiled module (one stub each); checked in one run so the shared allowlist has no
#: entry unused by the run
MODULES = ["liqcore._status", "liqcore._convert", "liqcore._book", "liqcore._analytics", "liqcore._checksum", "liqcore._frames",
           "liqcore._alerts"]


def test_stubs_match_runtime(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", *MODULES, "--allowlist", ALLOWLIST,
         "--mypy-config-file", os.devnull],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
