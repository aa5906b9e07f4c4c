"""In-place variants of elementwise kernels, for `register_op(..., inplace=...)`.

The NumPy executor calls such a variant only where its first argument is a
fresh array that no one else can see and that dies at this op (see
`caudal.runtime.plan`), so writing the result into it changes nothing a
program can observe. The variant still checks what only the run knows: the
first argument must be an array of the result's shape and dtype; otherwise
it computes into a new array, exactly as the plain kernel does.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def binary_into_first(ufunc: np.ufunc, kinds: str = "iufc") -> Callable[..., Any]:
    """`ufunc(x, y)` written into x's buffer when y has x's dtype (of one of the dtype `kinds`)
    and broadcasts into x's shape."""

    def kernel(xp: Any, x: Any, y: Any) -> Any:
        if type(x) is np.ndarray and x.ndim and x.dtype == getattr(y, "dtype", None) and x.dtype.kind in kinds:
            try:
                return ufunc(x, y, out=x)
            except ValueError:  # y broadcasts x to a larger shape: x's buffer is too small
                pass
        return ufunc(x, y)

    return kernel


def unary_into_first(ufunc: np.ufunc) -> Callable[..., Any]:
    """`ufunc(x)` written into x's buffer, for floating and complex x."""

    def kernel(xp: Any, x: Any) -> Any:
        if type(x) is np.ndarray and x.ndim and x.dtype.kind in "fc":
            return ufunc(x, out=x)
        return ufunc(x)

    return kernel
