"""Type stubs of the compiled module ``liqcore._alerts`` (src/alerts.c: the four alert rules per market)."""

from typing import Any, Iterable, final

KINDS: tuple[str, str, str, str]
START: int
END: int
HAS_Z: int
HAS_HELD: int
HAS_SIGMA: int
BY_VENUE: int
MAX_WINDOW: int
MAX_RULES: int
IGLEWICZ_HOAGLIN: float
MEAN_AD_TO_SIGMA: float

#: (rule, kind, flags, current, baseline, z, measure, v0, v1, ivalue)
_Event = tuple[int, int, int, float, float, float, float, float, float, int]

@final
class KernelRules:
    def __init__(self, rules: Iterable[tuple[str, Any, Any]]) -> None: ...
    def __len__(self) -> int: ...

@final
class AlertKernel:
    def __init__(self, rules: KernelRules) -> None: ...
    def observe(self, observation: tuple[Any, ...]) -> tuple[_Event, ...]: ...
    def active(self, rule: int) -> bool: ...
    def warm(self, rule: int) -> bool: ...
    def window_len(self, rule: int) -> int: ...
    @property
    def nbytes(self) -> int: ...
