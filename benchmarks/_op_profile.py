"""Milliseconds per op type in caudal's timed steps (`--op-profile` of the benchmark scripts).

Every kernel a plan binds (portable, variant, in-place or group) is wrapped in a timer keyed by its op
type before the benchmark builds its Session, so plans call the timers; ops that call no kernel
(control flow run by the executor, expressions inlined in loops) are not counted. The timers add
about a microsecond per call, so the figures of fast elementwise ops are upper bounds.
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

_TOTALS: dict[str, float] = defaultdict(float)
_CALLS: dict[str, int] = defaultdict(int)
_ENABLED = [False]


def _timed(op_type: str, kernel: Any) -> Any:
    if getattr(kernel, "_op_profile_of", None) is not None:
        return kernel

    def timed(*args: Any, **kwargs: Any) -> Any:
        if not _ENABLED[0]:
            return kernel(*args, **kwargs)
        start = time.perf_counter()
        try:
            return kernel(*args, **kwargs)
        finally:
            _TOTALS[op_type] += time.perf_counter() - start
            _CALLS[op_type] += 1

    timed._op_profile_of = kernel
    return timed


def install() -> None:
    """Times every kernel (and in-place kernel) bound from now on."""
    from caudal.framework import registry

    original = registry.OpDef.kernel_for
    original_inplace = registry.OpDef.inplace_for

    def kernel_for(self: Any, *backends: str) -> Any:
        return _timed(self.type, original(self, *backends))

    def inplace_for(self: Any, *backends: str) -> Any:
        kernel = original_inplace(self, *backends)
        return None if kernel is None else _timed(self.type, kernel)

    original_group = registry.OpDef.group_for

    def group_for(self: Any, *backends: str) -> Any:
        kernel = original_group(self, *backends)
        return None if kernel is None else _timed(self.type, kernel)

    registry.OpDef.kernel_for = kernel_for
    registry.OpDef.inplace_for = inplace_for
    registry.OpDef.group_for = group_for


def start() -> None:
    """Counts from now on (call it after the warm-up steps)."""
    _TOTALS.clear()
    _CALLS.clear()
    _ENABLED[0] = True


def report(steps: int, step_ms: float) -> str:
    """A table of ms per step by op type, largest first, with the share of the step."""
    _ENABLED[0] = False
    rows = sorted(_TOTALS.items(), key=lambda item: -item[1])
    counted = sum(_TOTALS.values()) * 1000 / max(steps, 1)
    lines = [f"{'op type':32s} {'ms/step':>8s} {'calls/step':>10s} {'share':>6s}"]
    for op_type, total in rows:
        ms = total * 1000 / max(steps, 1)
        lines.append(f"{op_type:32s} {ms:8.2f} {_CALLS[op_type] / max(steps, 1):10.1f} {ms / step_ms:6.1%}")
    lines.append(f"{'(kernels, total)':32s} {counted:8.2f} {'':10s} {counted / step_ms:6.1%}")
    lines.append(f"{'(step, mean)':32s} {step_ms:8.2f}")
    return "\n".join(lines)
