"""The package's pure-Python layers type-check (mypy, against the compiled modules' .pyi stubs)."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("mypy")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_package_type_checks(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "mypy", os.path.join(ROOT, "liqcore"), "--config-file",
         os.path.join(ROOT, "pyproject.toml"), "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
