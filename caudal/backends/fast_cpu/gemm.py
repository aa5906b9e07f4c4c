"""MatMul on oneDNN's sgemm, for the `fast_cpu` backend.

TF's CPU MatMul runs on oneDNN (or Eigen); NumPy's runs on OpenBLAS. For the
products training steps are made of (a batch of 100-128 against a few hundred
units), oneDNN's JIT sgemm measured faster than OpenBLAS on one thread on an
AVX-512 machine (128x156 by 156x512: 96-125 us against 185-200 us with
OpenBLAS's Haswell kernels, 102-138 us with its SkylakeX ones), and with its
OpenMP threads spinning briefly between regions (see onednn_lib) as fast or
faster on two. So `VARIANTS` maps MatMul to a kernel that runs float32
products on oneDNN with the threads `caudal.framework.threads` gives them.
The first product or convolution given more than one thread holds NumPy's
BLAS to one thread for the rest of the process (`threads.blas_single_thread`):
OpenBLAS's threads spin too, and beside OpenMP's they took the second core
from them (a LeNet step: 63-74 ms with both pools, 36-52 ms with one).

Only float32 matrices of at least `MIN_FLOPS` arithmetic go to oneDNN (below
that the ctypes call costs more than it saves); everything else, and every
input the NumPy variant would reject, runs that variant. Once numba's loops
have loaded (`loops`), sgemm is called from a numba function instead
(`_loop_kernels.sgemm_product`, which reads the operands' layouts and passes
their addresses as C does): ctypes' conversion of thirteen arguments took a
microsecond a call, and the checks around it two more, a third of a
1.2-MFLOP product (9.1 us against 12.1; benchmarks/mlp.py's step 7% faster
over alternating blocks). Products from `MIN_NUMBA_FLOPS` then run there
(a 60-KFLOP one: 1.2 us against NumPy's 1.9). Products of
`PRIMITIVE_FLOPS` or more run oneDNN's matmul primitive instead of its sgemm
(the primitive TF's oneDNN build runs), built once per shape and layout: the
product of a dense layer's gradient with its transposed weights,
128x512 by (2048x512)^T, took 0.69-0.77 ms against sgemm's 1.09-1.26 ms, and
128x2048 transposed by 128x512 0.67-0.74 against 0.79-0.92 ms (the forward
product the same); smaller products gained nothing for the primitive's
longer call. Each operand is
handed over where it lies when it is C-contiguous or the transpose of a
C-contiguous array (a transposed view costs no copy); others are copied.
The result is a fresh array the caller owns. oneDNN's sgemm computes
in float32 throughout, as TF's MatMul (no reduced-precision modes).
"""
from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from caudal.backends.fast_cpu import loops, onednn
from caudal.backends.fast_cpu import onednn_lib as lib_module
from caudal.framework import threads as thread_policy

__all__ = ["VARIANTS", "prepare", "MIN_FLOPS", "PRIMITIVE_FLOPS", "matmul"]

MIN_FLOPS = 1 << 20
MIN_NUMBA_FLOPS = 1 << 12
PRIMITIVE_FLOPS = 1 << 27
_F32 = np.dtype(np.float32)
_sgemm: Any = None
_sgemm_address = 0
_numpy_matmul: Any = None


def prepare() -> None:
    """Loads oneDNN (the backend calls this once); raises OSError or ImportError when it cannot."""
    global _sgemm, _sgemm_address, _numpy_matmul
    from caudal.framework.registry import get_op_def

    _sgemm = lib_module.load().dll.dnnl_sgemm
    _sgemm_address = ctypes.cast(_sgemm, ctypes.c_void_p).value
    _numpy_matmul = get_op_def("MatMul").variants["numpy"]


def _operand(x: np.ndarray, transposed: bool) -> tuple[bytes, int, np.ndarray]:
    """(oneDNN's transpose flag, leading dimension, the row-major array handed over) for `x`."""
    if x.flags.c_contiguous:
        return (b"T" if transposed else b"N"), x.shape[1], x
    if x.flags.f_contiguous:  # the transpose of a C-contiguous array: flip the flag instead of copying
        return (b"N" if transposed else b"T"), x.shape[0], x.T
    x = np.ascontiguousarray(x)
    return (b"T" if transposed else b"N"), x.shape[1], x


def matmul(xp: Any, a: Any, b: Any, *, transpose_a: bool, transpose_b: bool) -> Any:
    """MatMul with the NumPy variant's parameters and results (see the module docstring)."""
    if (type(a) is not np.ndarray or type(b) is not np.ndarray or a.dtype != _F32 or b.dtype != _F32
            or a.ndim != 2 or b.ndim != 2):
        return _numpy_matmul(xp, a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    m, k = (a.shape[1], a.shape[0]) if transpose_a else a.shape
    k_b, n = (b.shape[1], b.shape[0]) if transpose_b else b.shape
    flops = 2.0 * m * n * k
    kernels = loops._kernel_module
    if (k != k_b or flops < (MIN_FLOPS if kernels is None else MIN_NUMBA_FLOPS)
            or not thread_policy.enabled() or not thread_policy.openmp_usable()):
        return _numpy_matmul(xp, a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    result = np.empty((m, n), _F32)
    if flops >= PRIMITIVE_FLOPS and _primitive_product(a, transpose_a, b, transpose_b, result, flops):
        return result
    threads = thread_policy.threads_for(flops)
    if threads > 1:
        thread_policy.blas_single_thread()
    lib_module.apply_thread_count(threads)
    if kernels is not None and kernels.sgemm_product(_sgemm_address, a, b, transpose_a, transpose_b, result) == 0:
        return result
    flag_a, lda, a = _operand(a, transpose_a)
    flag_b, ldb, b = _operand(b, transpose_b)
    address = lib_module.address
    status = _sgemm(flag_a, flag_b, m, n, k, 1.0, address(a), lda, address(b), ldb, 0.0, address(result), n)
    if status != 0:
        return _numpy_matmul(xp, a, b, transpose_a=flag_a == b"T", transpose_b=flag_b == b"T")
    return result


def _layout(held: np.ndarray, transposed: bool) -> tuple[list[int], list[int]]:
    """The logical shape and element strides of `held` (C-contiguous), or of its transpose."""
    view = held.T if transposed else held
    return list(view.shape), [stride // _F32.itemsize for stride in view.strides]


def _primitive_product(a: np.ndarray, transpose_a: bool, b: np.ndarray, transpose_b: bool, result: np.ndarray,
                       flops: float) -> bool:
    """result = op(a) @ op(b) on oneDNN's matmul primitive, each operand read where it lies (`_operand`);
    False where it cannot run."""
    flag_a, _, a = _operand(a, transpose_a)
    flag_b, _, b = _operand(b, transpose_b)
    layout_a, layout_b = _layout(a, flag_a == b"T"), _layout(b, flag_b == b"T")

    def build(lib: Any) -> onednn.Plan:
        a_md, b_md = lib.strided_md(*layout_a), lib.strided_md(*layout_b)
        c_md = lib.strided_md(list(result.shape), [result.shape[1], 1])
        return onednn.Plan(lib, lib.matmul(a_md.handle, b_md.handle, c_md.handle),
                           [(lib_module.ARG_SRC, lib_module.QUERY_SRC_MD, a_md, False),
                            (lib_module.ARG_WEIGHTS, lib_module.QUERY_WEIGHTS_MD, b_md, False),
                            (lib_module.ARG_DST, lib_module.QUERY_DST_MD, c_md, True)])

    key = ("MatMul", tuple(map(tuple, layout_a)), tuple(map(tuple, layout_b)))
    return onednn.run_plan(key, build, [a, b, result], flops)


VARIANTS = {"MatMul": matmul}
