"""What tf.cond's branches and tf.while_loop's frames share: a context nested in an outer one."""
from __future__ import annotations

from typing import Any


class ControlFlowContext:
    """A branch or loop being built; `outer` is the context it sits in (None at the top level)."""

    outer: Any = None

    def contains(self, op: Any) -> bool:
        """Whether `op` was built in this context or in one nested in it."""
        context = op._control_flow_context
        while context is not None:
            if context is self:
                return True
            context = context.outer
        return False
