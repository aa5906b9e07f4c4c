"""The point of a plan after which nothing can fail, where a run's last writes may change arrays in place.

A run that raises changes nothing (see `resources.RunContext`): kernels write new arrays and the
run's variable dict replaces the Session's when the run succeeds. A dense optimizer update written
to new arrays costs more than the update itself (an RMSProp update of a 2048x512 matrix: 0.37 ms,
0.14 ms in place, since three more streams of memory no longer fit the cache). TF's kernels update
in place. So a plan finds its last line that can fail; when every line after it cannot, that line
runs with `ctx.rest_cannot_fail` set, and its kernel may change the arrays `ctx.writable` gives in
place without logging their old values (it checks its inputs first, so if it raises it has changed
nothing). In a training step that line is the optimizer's update: what follows it (Adam's `beta1_power`
assignments, the global step's increment, the NoOp that groups them) cannot fail.

Lines that cannot fail, at the plan's top level:
- freeing values (`del`), NoOp, passing a value on (Identity), reading a variable that holds a
  value (checked when the flag is set: `ctx.rest_cannot_fail = ctx.holds(...)`);
- operator expressions on scalars (the emitter writes `+`, `-`, `*` and comparisons of rank-0
  values as Python operators);
- Assign of a value whose static shape is fully defined and the variable's, to a variable that holds
  no value or one of that shape, and AssignAdd/AssignSub of such a value to a variable that holds one
  of that shape (checked as above).
"""
from __future__ import annotations

from typing import Any

from caudal.runtime import frames

__all__ = ["mark_last_fallible_line"]

_ASSIGNS = frozenset(["Assign", "AssignAdd", "AssignSub"])
_ALIASES = frozenset(["Identity", "StopGradient", "Snapshot"])  # lines that pass a value on or read a variable
_FLAG = "ctx.rest_cannot_fail = "


def _cannot_fail(op: Any, must_hold: list[tuple]) -> bool:
    """Whether `op`'s line cannot raise, given the checks (`RunContext.holds`) it adds to `must_hold`."""
    if op is None:
        return True
    if op._type in frames.REF_PRODUCERS:
        must_hold.append((op._name, None, True))
        return True
    if op._type == "NoOp":
        return True
    if op._type in _ALIASES:
        source = op._inputs[0]._op
        if source._type in frames.REF_PRODUCERS:
            must_hold.append((source._name, None, True))
        return True
    outputs = op._outputs
    if op._op_def.expression is not None:
        return bool(outputs) and outputs[0].shape.rank == 0
    if op._type in _ASSIGNS:
        target, value = op._inputs[0], op._inputs[1]
        if target._op._type not in frames.REF_PRODUCERS or not value.shape.is_fully_defined():
            return False
        if op._type == "Assign" and not op._attrs.get("validate_shape", True):
            return True
        if value.shape != target.shape or not target.shape.is_fully_defined():
            return False
        must_hold.append((target._op._name, tuple(target.shape.as_list()), op._type != "Assign"))
        return True
    return False


def mark_last_fallible_line(lines: list[str], step_ops: list[Any]) -> None:
    """Sets `ctx.rest_cannot_fail` at the start of the last line of `lines` (each the line of op
    `step_ops[i]`, or of None) that can fail, when every later line cannot (see the module docstring).
    Only straight lines at the function's top level take part."""
    must_hold: list[tuple] = []
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if not line.startswith("    ") or line[4] == " " or line.rstrip().endswith(":"):
            return  # inside or opening a block
        if _cannot_fail(step_ops[i], must_hold):
            continue
        if must_hold:
            lines[i] = f"    {_FLAG}ctx.holds({tuple(dict.fromkeys(must_hold))!r}); {line[4:]}"
        else:
            lines[i] = f"    {_FLAG}True; {line[4:]}"
        return
