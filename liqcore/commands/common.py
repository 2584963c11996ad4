"""What every ``liqcore`` subcommand shares: the argument parser that says a usage error in one
line (exit 2), argument types with clear bounds, errors on one line, JSON output."""

from __future__ import annotations

import argparse
import json
import math
import sys
from decimal import Decimal
from typing import Any, NoReturn, TextIO

__all__ = ["Parser", "checked", "positive", "count", "step", "why", "fail", "print_json"]


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line (what is wrong, where the help is), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def checked(convert: Any, kind: str, bound: str, valid: Any, keep_text: bool = False) -> Any:
    """An argparse type: ``convert(text)`` (``kind``, e.g. "a number") that ``valid`` accepts
    (``bound``, e.g. "> 0"); the text itself if ``keep_text``."""
    def parse(text: str) -> Any:
        try:
            x = convert(text)
        except (ValueError, ArithmeticError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not valid(x):
            raise argparse.ArgumentTypeError(f"must be {kind} {bound}, got {text}")
        return text if keep_text else x
    return parse


#: a finite number > 0
positive = checked(float, "a number", "> 0", lambda x: x > 0 and math.isfinite(x))
#: an integer >= 1
count = checked(int, "an integer", ">= 1", lambda n: n >= 1)
#: a grid step (tick or lot size) > 0, kept as written for the book
step = checked(Decimal, "a decimal number", "> 0", lambda x: x.is_finite() and x > 0, keep_text=True)


def why(exc: BaseException) -> str:
    """An error in one line: ``<file>: <reason>`` for an OSError about a file, else its message
    (a chained cause's message when the exception's own is empty)."""
    if isinstance(exc, OSError) and exc.strerror:
        if exc.filename is None:
            return exc.strerror
        return f"{exc.filename or repr(exc.filename)}: {exc.strerror}"
    text = " ".join(str(exc).split())
    if not text and exc.__cause__ is not None:
        text = " ".join(str(exc.__cause__).split())
    return text or type(exc).__name__


def fail(prog: str, message: str | BaseException, code: int = 2, err: TextIO | None = None) -> int:
    """Say ``<prog>: error: <message>`` on one line on stderr; returns ``code`` (2 by default)."""
    text = why(message) if isinstance(message, BaseException) else " ".join(str(message).split())
    print(f"{prog}: error: {text}", file=err or sys.stderr)
    return code


def print_json(obj: Any, out: TextIO | None = None) -> None:
    """``obj`` as one JSON document on stdout (NaN and inf as null, which JSON lacks)."""
    print(json.dumps(_finite(obj), separators=(",", ":"), default=str), file=out or sys.stdout)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
