"""The input checks of ``liqcore.risk``: each returns the checked value or raises
:class:`~liqcore.errors.RiskInputError` naming the argument, before anything is computed. One
spelling for every module of the package. O(1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from liqcore.errors import LiqError, RiskInputError

__all__ = ["NUMBER_TYPES", "number", "numbers", "choice", "all_numbers"]

#: what a number is here: Python and numpy integers and floats; bools and strings are not
NUMBER_TYPES = (int, float, np.integer, np.floating)


def number(name: str, value: object, *, low: float | None = None, low_open: bool = True,
           high: float | None = None, high_open: bool = False, text: bool = False,
           error: type[LiqError] = RiskInputError) -> float:
    """``value`` as a finite float within the bounds (``low < x``, or ``low <= x`` when not
    ``low_open``; ``x <= high``, or ``x < high`` when ``high_open``). Python and numpy numbers;
    with ``text`` also decimal strings (what exchange payloads and records carry: "0.005").
    Bools and containers are refused (without numpy conversions, which cost tens of
    microseconds per call). ``error``: the class raised (the calling layer's input error:
    RiskInputError here, AlertInputError in liqcore.alerts). O(1): about 0.15 us for a Python
    float or int."""
    tp = type(value)
    # exact float/int first (bool is a subclass of int, not the same type): what nearly every
    # caller passes, and this function runs several times per liquidation_risk call
    if tp is not float and tp is not int:
        if text and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise error(f"{name} must be a number, got {value!r}") from None
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, NUMBER_TYPES):
            raise error(f"{name} must be a number, got {value!r}")
    try:
        x = float(value)  # type: ignore[arg-type]  # a number by now (checked above)
    except OverflowError:  # an int beyond the float range
        raise error(f"{name} must be finite (no NaN or inf), got {value!r}") from None
    if x - x != 0.0:  # NaN or +-inf (x - x is NaN for them): cheaper than a math.isfinite call
        raise error(f"{name} must be finite (no NaN or inf), got {x!r}")
    if low is not None and (x <= low if low_open else x < low):
        raise error(f"{name} must be {'>' if low_open else '>='} {low:g}, got {x!r}")
    if high is not None and (x >= high if high_open else x > high):
        raise error(f"{name} must be {'<' if high_open else '<='} {high:g}, got {x!r}")
    return x


def numbers(name: str, value: object, *, positive: bool = False, ndim: int | None = None,
            error: type[LiqError] = RiskInputError) -> npt.NDArray[np.float64]:
    """``value`` as a non-empty float64 array of integers/floats (strings and bools refused: numpy
    would turn "60000" or True into numbers), finite, > 0 when ``positive``, of ``ndim``
    dimensions when given; ``error`` as :func:`number`. O(n)."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        raw = np.asarray(None)
    # an empty list comes out as float64: it is refused below as empty, not as non-numeric
    if raw.dtype.kind not in "iuf" or (ndim is not None and raw.ndim != ndim):
        shape = "a number or an array of numbers" if ndim is None else f"a {ndim}-D sequence of numbers"
        raise error(f"{name} must be {shape}, got {value!r}")
    arr = raw.astype(np.float64, copy=False)
    if arr.size == 0:
        raise error(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise error(f"{name} must be finite (no NaN or inf)")
    if positive:
        bad = arr <= 0.0
        if np.any(bad):
            raise error(f"{name} must be > 0, got {arr[bad].flat[0]!r}")
    return arr


def all_numbers(*values: object) -> bool:
    """True when every value is a number in the sense of :func:`number` (not yet range-checked).
    O(len(values)): about 0.05 us a Python float or int (a plain loop, exact types first: the
    generator with two isinstance calls per value cost 0.18 us each)."""
    for v in values:
        tp = type(v)
        if tp is not float and tp is not int and (
                isinstance(v, (bool, np.bool_)) or not isinstance(v, NUMBER_TYPES)):
            return False
    return True


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """``value`` lower-cased if it is one of ``allowed``, else RiskInputError naming ``name``."""
    v = value.lower() if isinstance(value, str) else value
    if v not in allowed:
        raise RiskInputError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return str(v)
