"""Peer benchmarks of liqcore (see README.md)."""

import os as _os
import sys as _sys


def _import_installed_liqcore():
    # Run from the repository root, the source tree's liqcore/ (no compiled _book) would
    # shadow the installed package; import the installed one first so it is cached.
    root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
    if "liqcore" in _sys.modules and getattr(_sys.modules["liqcore"], "OrderBook", None) is not None:
        return
    _sys.modules.pop("liqcore", None)
    saved = _sys.path[:]
    _sys.path[:] = [p for p in _sys.path if _os.path.abspath(p or _os.getcwd()) != root]
    try:
        import liqcore  # noqa: F401
    except ImportError:
        _sys.modules.pop("liqcore", None)
    finally:
        _sys.path[:] = saved


_import_installed_liqcore()
