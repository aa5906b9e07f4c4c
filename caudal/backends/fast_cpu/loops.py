"""numba kernels of the fast CPU backend for the memory-bound passes of a training step.

`VARIANTS` maps op types to kernels with exactly the parameters and results
of each op's NumPy variant (its portable kernel where it has none): pooling
and its gradients (TF's rules: a MaxPoolGrad sends each gradient to the first
maximum of its window, row-major, padding never wins; AvgPool divides by the
count of real elements), ReluGrad, BiasAdd, SelectV2 against +0.0 (dropout),
`_Dropout` (the mask and the select of dropout's forward pass in one) and
`_DropoutReluGrad` (its gradient at a ReLU's output), SoftmaxCrossEntropyWithLogits
(two loops around NumPy's exp, its sums in float64), and the adding of rows at
indices (`scatters`); the optimizer updates are in `updates`, which launches its
loops with this module's machinery. Each does in one parallel pass what NumPy
does in several. It handles float32 arrays in C
order, of 64K elements or more for the elementwise ops and updates (below
that, starting threads costs more than the pass); anything else (other
dtypes, zero sizes, other layouts, bad shapes) goes to the NumPy variant,
which also raises TF's errors. Pooling runs here only where oneDNN is
missing (`onednn_pool` comes first). `INPLACE_VARIANTS` holds ReluGrad's
in-place kernel, which a plan runs where it may overwrite the gradient: one
pass instead of NumPy's comparison and product (L1 of LeNet: 0.7 against 2.2
ms).

Relu and BiasAddGrad have no loop here: NumPy's in-place Relu (which a plan
uses on a dead input) and BiasAddGrad's BLAS product with a vector of ones
were as fast or faster (benchmarks/loop_kernels.py).

Results are fresh arrays (but for the in-place ReluGrad).

numba compiles a kernel on its first call and caches the machine code on disk;
`prepare()` (the backend calls it before first use) picks the cache directory
and the threading layer, `compile_all()` compiles every kernel ahead of use,
and `set_num_threads(n)` sets how many threads the kernels use.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from caudal.backends.fast_cpu import onednn_lib, scatters
from caudal.framework import threads as thread_policy
from caudal.framework.registry import get_op_def
from caudal.ops._conv_kernels import spatial_geometry
from caudal.ops.conv_ops import explicit_nhwc, spatial
from caudal.ops.nn_ops import dropout_of_kernels, dropout_relu_grad_of_kernels, dropout_relu_grad_sum_of_kernels

__all__ = ["VARIANTS", "prepare", "compile_all", "loaded", "max_pool_grad_from_workspace", "add_rows_at",
           "numpy_scatter",
           "set_num_threads", "cache_dir", "MIN_ELEMENTWISE_SIZE",
           "MIN_UPDATE_SIZE", "LOAD_SECONDS", "THREADING_LAYERS"]

MIN_ELEMENTWISE_SIZE = 1 << 16  # elementwise ops on fewer elements run NumPy's variant
# Loading numba and its cached loops takes about 0.7 s the first time in a process (0.3 s to import
# it, 0.4 s for the first parallel kernel), which a short program never earns back: a Keras MLP fit
# of three epochs ran 0.5 s slower for it. So a pass of MIN_ELEMENTWISE_SIZE values or more runs
# its loop once numba is loaded; before that, an optimizer update of MIN_UPDATE_SIZE values or
# more (whose one pass instead of NumPy's five to eight saves about 2 ms on 2^20 float32s) loads
# it, and so does a program once NumPy's variants of the passes a loop would replace have taken
# LOAD_SECONDS in all (rent or buy: such a program spends at most about twice what it would had
# it known its length; Adam on a 784x200 layer, 0.25 ms a step in NumPy, loads it after about
# 2,800 steps and then runs its update in a fifth of the time).
MIN_UPDATE_SIZE = 1 << 20
LOAD_SECONDS = 0.7
_numpy_seconds = 0.0  # NumPy's time in passes a loop would have run, before numba was loaded
# numba's threading layers in order of preference. The omp layer runs the loops on GNU OpenMP's
# threads, the ones oneDNN runs on (both load the one libgomp): one pool, whose threads still spin
# from the convolution before when a pass starts. numba's own workqueue threads instead waited for
# the core that spinning thread held: in a LeNet step a ReluGrad over 802K values took 0.76 ms on
# the workqueue and 0.21 on omp (RMSProp of 2048x512: 1.47 against 0.78 ms), and the whole step ran
# 23.8-29.2 ms (median 26.7) against 24.9-34.8 (28.8), alternating fresh processes; beside a
# CPU-bound process (where `threads_for_pass` gives most passes one thread) 48.6 against 48.2 ms, an
# LSTM step 13.2-17.0 against 13.2-15.2 ms. Where numba's omp layer is built on another OpenMP
# runtime (Intel's or LLVM's, which conda builds may use), it would be a second pool beside oneDNN's,
# so the workqueue comes first there. The workqueue runs one kernel at a time: `_launch_lock`.
THREADING_LAYERS = ("omp", "workqueue", "tbb")

_F32 = np.dtype(np.float32)
_kernel_module: Any = None
_numba: Any = None  # the numba module, once `_kernels` has loaded it
_prepare_lock = threading.Lock()
_prepared = False
_num_threads: int | None = None
_launch_lock = threading.Lock()  # numba's workqueue aborts the process when two threads launch at once
_unavailable = ""  # why numba failed to load, once it has
_called: set[Any] = set()  # kernels called once already (compiled or loaded from the cache)
_set_counts = threading.local()  # `count`: numba's thread count `_use_threads` last set in this thread
_reported_compile = False
_logger = logging.getLogger("caudal")


# ------------------------------------------------------------------ set-up
def cache_dir() -> str:
    """<XDG_CACHE_HOME or ~/.cache>/caudal/numba: where compiled kernels are kept by default."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "caudal", "numba")


def prepare() -> None:
    """Checks that numba is installed (without importing it: that waits for the first kernel
    call, so a Session that runs none of these ops never pays for it) and sets NUMBA_CACHE_DIR
    to `cache_dir()` unless the user set it or the directory cannot be made (numba then caches
    next to this package). Idempotent."""
    global _prepared
    with _prepare_lock:
        if _prepared:
            return
        if importlib.util.find_spec("numba") is None:
            raise ImportError("numba is not installed (pip install 'caudal[fast]')")
        if not os.environ.get("NUMBA_CACHE_DIR"):
            path = cache_dir()
            try:
                os.makedirs(path, exist_ok=True)
            except OSError:
                path = ""
            if path and os.access(path, os.W_OK):
                os.environ["NUMBA_CACHE_DIR"] = path
        _prepared = True


def _configure_numba() -> None:
    """numba's cache directory, the threading layers in `THREADING_LAYERS` unless
    NUMBA_THREADING_LAYER is set (numba fixes both when a kernel is defined and first launched),
    and OpenMP's wait policy (`threads.bound_openmp_waits`)."""
    from numba.core import config

    thread_policy.bound_openmp_waits()  # before numba's omp layer loads libgomp, which reads it once
    config.CACHE_DIR = os.environ.get("NUMBA_CACHE_DIR", "")
    if not os.environ.get("NUMBA_THREADING_LAYER"):
        layers = list(THREADING_LAYERS)
        if _openmp_vendor() != "GNU":  # not oneDNN's libgomp: a second pool, so the one that sleeps
            layers.remove("workqueue")
            layers.insert(0, "workqueue")
        config.THREADING_LAYER_PRIORITY = layers
        config.THREADING_LAYER = "default"


def _openmp_vendor() -> str:
    """The OpenMP runtime numba's omp layer was built with ("GNU", "Intel", ...), or "" without one."""
    try:
        from numba.np.ufunc import omppool
    except ImportError:
        return ""
    return str(getattr(omppool, "openmp_vendor", ""))


class KernelsUnavailable(RuntimeError):
    """numba failed to load at a kernel's first call; the ops run their NumPy kernels."""


def _kernels() -> Any:
    """The numba kernel module, imported at the first kernel call. A failure there is reported
    once with a warning, and every kernel of this module then runs its NumPy variant."""
    global _kernel_module, _unavailable, _numba
    if _kernel_module is None:
        if _unavailable:
            raise KernelsUnavailable(_unavailable)
        try:
            prepare()
            _configure_numba()
            import numba

            from caudal.backends.fast_cpu import _loop_kernels

            numba.get_num_threads()  # starts numba's threading layer, which sets this thread's OpenMP count
            onednn_lib.forget_thread_count()
            _numba = numba
        except Exception as error:  # a broken numba must never stop a program
            _unavailable = f"{type(error).__name__}: {error}"
            warnings.warn(f"caudal: the fast_cpu kernels of 'loops' could not be loaded ({_unavailable}); "
                          "their ops run on NumPy", RuntimeWarning, stacklevel=3)
            raise KernelsUnavailable(_unavailable) from error
        _kernel_module = _loop_kernels
    return _kernel_module


def loaded() -> bool:
    """Whether numba and the loops are loaded in this process (see `LOAD_SECONDS`)."""
    return _kernel_module is not None


def set_num_threads(n: int) -> None:
    """The threads the kernels use when caudal's thread sizing is off (CAUDAL_THREAD_POLICY=library),
    capped at numba's pool (NUMBA_NUM_THREADS, the cores by default) and applied in each thread
    that runs a kernel; `n` must be a positive integer."""
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"The number of threads must be a positive integer, got {n!r}")
    _num_threads = int(n)


def _threads_for(args: tuple) -> int | None:
    """The threads a kernel over `args` runs on: sized to the values it reads, its array arguments
    together (see caudal.framework.threads: an Adam update reads four arrays, ReluGrad two)."""
    elements = 0
    for a in args:
        if type(a) is np.ndarray:
            elements += a.size
    return _threads_for_flops(elements * thread_policy.ELEMENT_FLOPS)


def _threads_for_flops(flops: float) -> int | None:
    """The threads a kernel of `flops` arithmetic runs on, within numba's pool; with the sizing off,
    `set_num_threads`'s count (None: numba's own)."""
    if not thread_policy.enabled():
        return None if _num_threads is None else min(_num_threads, _numba.config.NUMBA_NUM_THREADS)
    return min(thread_policy.threads_for(flops), _numba.config.NUMBA_NUM_THREADS)


def _use_threads(count: int | None) -> None:
    """numba's thread count for this thread's next kernel (None: leave it). The count last set is
    remembered per thread, as numba keeps it: asking numba takes 0.6 us, a tenth of a small pass."""
    if count is not None and getattr(_set_counts, "count", None) != count:
        _numba.set_num_threads(count)
        _set_counts.count = count


def _run(kernel: Callable, *args: Any) -> Any:
    """kernel(*args), one at a time in the process, on the threads `_threads_for` gives. A kernel's
    first call compiles it, or loads it from the cache; a compilation of over a second is
    reported once, on the `caudal` logger."""
    return _run_on(_threads_for(args), kernel, *args)


def _run_on(count: int | None, kernel: Callable, *args: Any) -> Any:
    """`_run` on `count` threads (None: numba's own count); on one, the kernel's twin without threads
    where it has one (`_loop_kernels.ONE_THREAD_TWINS`), which launches no threads: once compiled, it
    runs without the launch lock."""
    if count == 1:
        twin = _kernel_module.ONE_THREAD_TWINS.get(kernel)
        if twin is not None:
            if twin in _called:
                return twin(*args)
            kernel = twin
    _use_threads(count)
    with _launch_lock:
        if kernel in _called:
            return kernel(*args)
        start = time.perf_counter()
        result = kernel(*args)
        _called.add(kernel)
        elapsed = time.perf_counter() - start
        if elapsed > 1.0 and not _reported_compile:
            _report_compile(elapsed)
        return result


def _report_compile(seconds: float) -> None:
    global _reported_compile
    _reported_compile = True
    _logger.warning("caudal: compiling the fast_cpu loop kernels on their first use (%.1f s for the first); "
                    "later runs load them from the cache in %s", seconds,
                    os.environ.get("NUMBA_CACHE_DIR") or "numba's default cache directory")


def compile_all() -> float:
    """Compiles (or loads from the cache) every kernel on tiny inputs; returns the seconds it took."""
    k = _kernels()
    start = time.perf_counter()
    with _launch_lock:
        x4 = np.ones((1, 3, 3, 2), np.float32)
        for pool in (k.max_pool_nhwc, k.max_pool_nchw, k.avg_pool_nhwc, k.avg_pool_nchw):
            pool(x4, 2, 2, 1, 1, 0, 0, 2, 2)
        dy = np.ones((1, 2, 2, 2), np.float32)
        k.max_pool_grad_nhwc(x4, dy, 2, 2, 1, 1, 0, 0, 2, False)
        k.max_pool_grad_nchw(x4, dy, 2, 2, 1, 1, 0, 0)
        k.max_pool_workspace_grad_nhwc(dy, np.zeros(dy.shape, np.uint8), np.empty((1, 4, 4, 2), np.float32), 2, 2, 0, 0)
        k.relu_max_pool_workspace_grad_nhwc(dy, dy, np.zeros(dy.shape, np.uint8), np.empty((1, 4, 4, 2), np.float32),
                                            np.zeros((_numba.config.NUMBA_NUM_THREADS, 2)),
                                            np.empty((_numba.config.NUMBA_NUM_THREADS, 2), np.float32), 2, 2, 0, 0)
        k.avg_pool_grad_nhwc(dy, 3, 3, 2, 2, 1, 1, 0, 0, 2, False)
        k.avg_pool_grad_nchw(dy, 3, 3, 2, 2, 1, 1, 0, 0)
        flat, matrix, cube, bias = x4.ravel(), x4.reshape(9, 2), x4.reshape(1, 2, 9), np.ones(2, np.float32)
        k.relu_grad(flat, flat)
        k.select_or_zero(flat > 0, flat, True)
        k.relu_grad_into(flat.copy(), flat)
        words, kept = np.ones(4, np.uint64), np.zeros(2, np.uint32)
        for kernel, args in ((k.dropout_relu_grad, (flat, flat > 0, np.float32(1), True, flat, flat.copy())),
                             (k.dropout_select, (flat, np.float32(0.5), flat, np.float32(1), True, flat > 0,
                                                 flat.copy())),
                             (k.pcg64_uniform_f32, (flat.copy(), words, kept, True, 1)),
                             (k.softmax_xent_shift, (matrix, matrix.copy(), np.empty(9, np.float32))),
                             (k.softmax_xent_finish, (matrix, matrix, matrix.copy(), np.zeros(9, np.float32),
                                                      np.empty(9, np.float32)))):
            kernel(*args)
            k.ONE_THREAD_TWINS[kernel](*args)
        k.dropout_relu_grad_sums(matrix, matrix > 0, np.float32(1), True, matrix, matrix.copy(), bias.copy())
        k.bias_add_last(matrix, bias)
        k.bias_add_middle(cube, bias)
        one = np.float32(1)
        out = flat.copy()
        k.gradient_descent_update(flat, one, flat, out)
        k.momentum_update(flat, flat, one, flat, one, one, False, out, out)
        k.adam_update(flat, flat, flat, one, one, one, one, one, one, flat, False, out, out, out)
        k.rms_prop_update(flat, flat, flat, one, one, one, one, flat, out, out, out)
        k.add_rows_at(matrix.copy(), np.zeros(1, np.int32), matrix, one)
        k.add_rows_at(matrix.copy(), np.zeros(1, np.int64), matrix, one)
    return time.perf_counter() - start


def _fallback(op_type: str) -> Callable:
    """The kernel the numpy backend runs for `op_type`: its numpy variant, else its portable kernel."""
    op_def = get_op_def(op_type)
    return op_def.variants.get("numpy", op_def.kernel)


def _is_f32(*arrays: Any) -> bool:
    """Whether every array is a C-ordered float32 NumPy array with elements."""
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != _F32 or not a.flags.c_contiguous or a.size == 0:
            return False
    return True


def _scalars_f32(scalars: tuple) -> bool:
    """Whether every one of `scalars` is a float32 NumPy scalar or 0-d array."""
    for s in scalars:
        if getattr(s, "dtype", None) != _F32 or getattr(s, "ndim", 1):
            return False
    return True


# ----------------------------------------------------------------- pooling
def _geometry(x_shape: tuple, ksize: list, strides: list, padding: str, explicit_paddings: list,
              data_format: str) -> tuple:
    """(kh, kw, sh, sw, top, left, ho, wo, in_h, in_w) as the NumPy kernels compute them."""
    k_hw, s_hw = spatial(ksize, data_format), spatial(strides, data_format)
    in_hw = (x_shape[1], x_shape[2]) if data_format == "NHWC" else (x_shape[2], x_shape[3])
    explicit = explicit_nhwc(explicit_paddings, data_format)
    (ho, wo), ((top, _), (left, _)) = spatial_geometry(in_hw, k_hw, s_hw, (1, 1), padding, explicit)
    return (*k_hw, *s_hw, top, left, ho, wo, *in_hw)


def _out_shape(n: int, c: int, ho: int, wo: int, data_format: str) -> tuple:
    return (n, ho, wo, c) if data_format == "NHWC" else (n, c, ho, wo)


def _rows_per_task(kh: int, sh: int, ho: int) -> int:
    """Output rows per task of a scattering gradient: one when successive windows never share a row."""
    return 1 if kh <= sh else ho


def _partition(kh: int, kw: int, sh: int, sw: int, top: int, left: int, ho: int, wo: int, h: int, w: int) -> bool:
    """Whether every input element lies in exactly one window (windows as long as their stride,
    reaching the end of the input): a gradient then writes each element once, with no zeroing."""
    return kh == sh and kw == sw and ho * sh - top >= h and wo * sw - left >= w


def _pool(x: Any, ksize: list, strides: list, padding: str, explicit_paddings: list, data_format: str,
          loops: tuple[str, str]) -> Any:
    """The pooled x by the loop named for its layout (`loops`: NHWC, NCHW); None when not handled here."""
    if not _is_f32(x) or x.ndim != 4 or data_format not in ("NHWC", "NCHW"):
        return None
    kh, kw, sh, sw, top, left, ho, wo, _, _ = _geometry(x.shape, ksize, strides, padding, explicit_paddings,
                                                        data_format)
    loop = getattr(_kernels(), loops[0] if data_format == "NHWC" else loops[1])
    return _run(loop, x, kh, kw, sh, sw, top, left, ho, wo)


def _max_pool(xp: Any, x: Any, *, ksize: list, strides: list, padding: str, explicit_paddings: list,
              data_format: str) -> Any:
    """MaxPool: the maximum of the real elements of each window (NaN wins, as np.maximum)."""
    pooled = _pool(x, ksize, strides, padding, explicit_paddings, data_format, ("max_pool_nhwc", "max_pool_nchw"))
    if pooled is None:
        return _NUMPY_MAX_POOL(xp, x, ksize=ksize, strides=strides, padding=padding,
                               explicit_paddings=explicit_paddings, data_format=data_format)
    return pooled


def _avg_pool(xp: Any, x: Any, *, ksize: list, strides: list, padding: str, data_format: str) -> Any:
    """AvgPool: the sum of the real elements of each window divided by their count, as TF."""
    pooled = None
    if padding in ("SAME", "VALID"):
        pooled = _pool(x, ksize, strides, padding, [], data_format, ("avg_pool_nhwc", "avg_pool_nchw"))
    if pooled is None:
        return _NUMPY_AVG_POOL(xp, x, ksize=ksize, strides=strides, padding=padding, data_format=data_format)
    return pooled


def _max_pool_grad(xp: Any, x: Any, y: Any, dy: Any, *, ksize: list, strides: list, padding: str,
                   explicit_paddings: list, data_format: str) -> Any:
    """MaxPoolGrad: the argmax of each window is found again from x, in the same parallel pass."""
    if _is_f32(x, y, dy) and x.ndim == 4 and data_format in ("NHWC", "NCHW"):
        kh, kw, sh, sw, top, left, ho, wo, h, w = _geometry(x.shape, ksize, strides, padding,
                                                            explicit_paddings, data_format)
        n, c = x.shape[0], x.shape[3 if data_format == "NHWC" else 1]
        expected = _out_shape(n, c, ho, wo, data_format)
        if dy.shape == expected and y.shape == expected:
            k = _kernels()
            if data_format == "NHWC":
                return _run(k.max_pool_grad_nhwc, x, dy, kh, kw, sh, sw, top, left, _rows_per_task(kh, sh, ho),
                            _partition(kh, kw, sh, sw, top, left, ho, wo, h, w))
            return _run(k.max_pool_grad_nchw, x, dy, kh, kw, sh, sw, top, left)
    return _NUMPY_MAX_POOL_GRAD(xp, x, y, dy, ksize=ksize, strides=strides, padding=padding,
                                explicit_paddings=explicit_paddings, data_format=data_format)


def max_pool_grad_from_workspace(dy: Any, workspace: Any, x_shape: tuple, kernel: tuple[int, int],
                                 strides: tuple[int, int], pads: tuple[int, int], relu_of: Any = None) -> Any:
    """_MaxPoolGradWithWorkspace (NHWC) from oneDNN's workspace (`onednn_pool`), where the windows tile
    the input (as long as their strides, covering it): one pass that writes each element of dx once,
    where oneDNN's backward pooling zeroes dx and then adds into it (LeNet step 2.5-5% faster in
    paired in-process blocks). With `relu_of` (the pooled values of a ReLU's result), the same of
    ReluGrad(dy, relu_of), and that gradient's float32 sums per channel: (dx, sums). None where that
    does not apply or numba is not loaded (it is not loaded for this)."""
    if (_kernel_module is None or _unavailable or not thread_policy.openmp_usable() or tuple(kernel) != tuple(strides)
            or not _is_f32(dy) or dy.ndim != 4 or len(x_shape) != 4 or type(workspace) is not np.ndarray
            or workspace.dtype != np.uint8 or workspace.size != dy.size or kernel[0] * kernel[1] >= 256
            or (relu_of is not None and (not _is_f32(relu_of) or relu_of.shape != dy.shape))):
        return None
    (kh, kw), (top, left) = kernel, pads
    n, h, w, c = x_shape
    ho, wo = dy.shape[1], dy.shape[2]
    if (dy.shape[0], dy.shape[3]) != (n, c) or not _partition(kh, kw, kh, kw, top, left, ho, wo, h, w):
        return None
    dx = np.empty(x_shape, np.float32)
    if relu_of is None:
        _run(_kernel_module.max_pool_workspace_grad_nhwc, dy, workspace.reshape(dy.shape), dx, kh, kw, top, left)
        return dx
    threads = _numba.config.NUMBA_NUM_THREADS
    sums = np.zeros((threads, c), np.float64)
    row_sums = np.empty((threads, max(c, 1024)), np.float32)  # the threads' rows a page apart
    _run(_kernel_module.relu_max_pool_workspace_grad_nhwc, dy, np.ascontiguousarray(relu_of),
         workspace.reshape(dy.shape), dx, sums, row_sums, kh, kw, top, left)
    return dx, sums.sum(axis=0).astype(np.float32)


def _avg_pool_grad(xp: Any, orig_input_shape: Any, dy: Any, *, ksize: list, strides: list, padding: str,
                   data_format: str) -> Any:
    """AvgPoolGrad: each gradient, divided by its window's count of real elements, spread over them."""
    sizes = [int(d) for d in np.asarray(orig_input_shape).ravel()]
    if (_is_f32(dy) and dy.ndim == 4 and len(sizes) == 4 and padding in ("SAME", "VALID")
            and data_format in ("NHWC", "NCHW") and min(sizes) > 0):
        kh, kw, sh, sw, top, left, ho, wo, h, w = _geometry(tuple(sizes), ksize, strides, padding, [],
                                                            data_format)
        n, c = sizes[0], sizes[3 if data_format == "NHWC" else 1]
        if dy.shape == _out_shape(n, c, ho, wo, data_format):
            k = _kernels()
            if data_format == "NHWC":
                return _run(k.avg_pool_grad_nhwc, dy, h, w, kh, kw, sh, sw, top, left, _rows_per_task(kh, sh, ho),
                            _partition(kh, kw, sh, sw, top, left, ho, wo, h, w))
            return _run(k.avg_pool_grad_nchw, dy, h, w, kh, kw, sh, sw, top, left)
    return _NUMPY_AVG_POOL_GRAD(xp, orig_input_shape, dy, ksize=ksize, strides=strides, padding=padding,
                                data_format=data_format)


# ------------------------------------------------------------ elementwise
def _large(*arrays: Any) -> bool:
    return _is_f32(*arrays) and arrays[0].size >= MIN_ELEMENTWISE_SIZE


def _relu_grad(xp: Any, gradients: Any, features: Any) -> Any:
    """gradients where features > 0, else 0 (times 0: a NaN gradient stays NaN, as in NumPy)."""
    if not _large(gradients, features) or gradients.shape != features.shape:
        return _NUMPY_RELU_GRAD(xp, gradients, features)
    return _run(_kernels().relu_grad, gradients.reshape(-1), features.reshape(-1)).reshape(gradients.shape)


def _loaded_or_worth(size: int) -> bool:
    """Whether a pass over `size` values runs its loop: once numba is loaded, when the pass is large
    enough to pay for loading it (`MIN_UPDATE_SIZE`), or once NumPy's passes have taken as long as
    loading it would (`LOAD_SECONDS`)."""
    return _kernel_module is not None or size >= MIN_UPDATE_SIZE or _numpy_seconds >= LOAD_SECONDS


def _numpy_pass(kernel: Callable, values: Any, *args: Any, **kwargs: Any) -> Any:
    """`kernel(*args, **kwargs)`, NumPy's variant of a pass over `values`; while numba is not loaded,
    the time of a pass its loop would run counts towards `LOAD_SECONDS`."""
    return _numpy_pass_over(values.size if _is_f32(values) else 0, kernel, *args, **kwargs)


def _numpy_pass_over(size: int, kernel: Callable, *args: Any, **kwargs: Any) -> Any:
    """`_numpy_pass` of a pass over `size` float32 values (0: one a loop would not run)."""
    if _kernel_module is not None or size < MIN_ELEMENTWISE_SIZE:
        return kernel(*args, **kwargs)
    return _counted(kernel, *args, **kwargs)


def _counted(kernel: Callable, *args: Any, **kwargs: Any) -> Any:
    """`kernel(*args, **kwargs)`, its time added to NumPy's time towards `LOAD_SECONDS`."""
    global _numpy_seconds
    start = time.perf_counter()
    try:
        return kernel(*args, **kwargs)
    finally:
        _numpy_seconds += time.perf_counter() - start


def add_rows_at(target: np.ndarray, ids: np.ndarray, rows: np.ndarray, scale: float) -> bool:
    """target[ids[i]] += scale * rows[i] in turn (`_loop_kernels.add_rows_at`; float32 2-D arrays in C
    order) when numba is loaded or NumPy's scatters have taken as long as loading it; False (nothing
    done) otherwise, or where numba is unavailable."""
    if _unavailable or not thread_policy.openmp_usable() or not _loaded_or_worth(0):
        return False
    try:
        _run_on(1, _kernels().add_rows_at, target, ids, rows, np.float32(scale))
    except KernelsUnavailable:
        return False
    return True


def numpy_scatter(kernel: Callable, *args: Any, **kwargs: Any) -> Any:
    """`kernel(*args, **kwargs)`, a NumPy scatter (`np.add.at`) that `add_rows_at` replaces once numba is
    loaded; its time counts towards `LOAD_SECONDS` whatever its size (`.at` costs ~5 ns a value)."""
    if _kernel_module is not None:
        return kernel(*args, **kwargs)
    return _counted(kernel, *args, **kwargs)


def _relu_grad_inplace(xp: Any, gradients: Any, features: Any) -> Any:
    """ReluGrad written into `gradients` where a plan may overwrite it: one parallel pass, where
    NumPy's in-place kernel makes a boolean temporary and a second pass."""
    if not _large(gradients, features) or gradients.shape != features.shape or not _loaded_or_worth(gradients.size):
        return _numpy_pass(_NUMPY_RELU_GRAD_INPLACE, gradients, xp, gradients, features)
    _run(_kernels().relu_grad_into, gradients.reshape(-1), features.reshape(-1))
    return gradients


# SelectV2 of fewer values runs NumPy's variant while numba is loaded (a call costs about 2.5 us)
MIN_SELECT_SIZE = 1 << 13


def _positive_zero(value: Any) -> bool:
    """Whether `value` is a 0-d float32 +0.0 (all bits zero)."""
    return getattr(value, "dtype", None) == _F32 and getattr(value, "ndim", 1) == 0 and not value.view(np.int32)


def _select_v2(xp: Any, condition: Any, x: Any, y: Any) -> Any:
    """SelectV2 of a float32 array against a scalar +0.0 (dropout and the gradients of selects): one
    parallel pass, where NumPy's variant makes a mask and ANDs the bits (a 128x2048 dropout: 14-28
    against 55-61 us); everything else runs NumPy's variant."""
    if type(condition) is np.ndarray and condition.dtype == np.bool_ and condition.flags.c_contiguous:
        keep_where, values = (True, x) if _positive_zero(y) else (False, y) if _positive_zero(x) else (None, None)
        if keep_where is not None and _is_f32(values) and values.shape == condition.shape:
            loaded = _kernel_module is not None and values.size >= MIN_SELECT_SIZE
            if loaded or (values.size >= MIN_ELEMENTWISE_SIZE and _loaded_or_worth(values.size)):
                return _run(_kernels().select_or_zero, condition.reshape(-1), values.reshape(-1),
                            keep_where).reshape(values.shape)
            return _numpy_pass(_NUMPY_SELECT_V2, values, xp, condition, x, y)
    return _NUMPY_SELECT_V2(xp, condition, x, y)



# A dropout of fewer values runs its three ops' variants in turn (NumPy's below MIN_SELECT_SIZE).
MIN_DROPOUT_SIZE = 1 << 11


def _dropout(xp: Any, x: Any, scale: Any, uniform: Any, rate: Any, zero: Any, *, scale_op: str) -> tuple[Any, Any]:
    """_Dropout (the forward pass of `tf.nn.dropout`): the mask `uniform >= rate` and the scaled x where
    it holds, +0.0 elsewhere, in one pass once numba is loaded, bit for bit the three ops' values."""
    if (_kernel_module is not None and _is_f32(x, uniform) and x.shape == uniform.shape
            and x.size >= MIN_DROPOUT_SIZE and _scalars_f32((scale, rate)) and _positive_zero(zero)):
        keep, out = np.empty(x.shape, np.bool_), np.empty(x.shape, np.float32)
        _run(_kernel_module.dropout_select, uniform.reshape(-1), rate[()], x.reshape(-1), scale[()],
             scale_op == "RealDiv", keep.reshape(-1), out.reshape(-1))
        return out, keep
    return _THREE_OPS_DROPOUT(xp, x, scale, uniform, rate, zero, scale_op=scale_op)


def _dropout_grad_loop_takes(grad: Any, keep: Any, scale: Any, zero: Any, features: Any) -> bool:
    """Whether numba is loaded and the dropout gradient's loops take these inputs: float32 C-ordered
    grad and features of one shape, a bool C-ordered mask of it, a float32 scalar scale, +0.0."""
    return (_kernel_module is not None and _is_f32(grad, features) and grad.shape == features.shape
            and type(keep) is np.ndarray and keep.dtype == np.bool_ and keep.flags.c_contiguous
            and keep.shape == grad.shape and _scalars_f32((scale,)) and _positive_zero(zero))


def _dropout_relu_grad(xp: Any, grad: Any, keep: Any, scale: Any, zero: Any, features: Any, *,
                       scale_op: str) -> Any:
    """_DropoutReluGrad (dropout's gradient at a ReLU's output): `ReluGrad(SelectV2(keep, grad, 0) / scale,
    features)` (or `* scale`) in one pass once numba is loaded, bit for bit the three ops' values."""
    if _dropout_grad_loop_takes(grad, keep, scale, zero, features) and grad.size >= MIN_DROPOUT_SIZE:
        out = np.empty(grad.shape, np.float32)
        _run(_kernel_module.dropout_relu_grad, grad.reshape(-1), keep.reshape(-1), scale[()], scale_op == "RealDiv",
             features.reshape(-1), out.reshape(-1))
        return out
    return _THREE_OPS_DROPOUT_RELU_GRAD(xp, grad, keep, scale, zero, features, scale_op=scale_op)


def _dropout_relu_grad_sum(xp: Any, grad: Any, keep: Any, scale: Any, zero: Any, features: Any, *,
                           scale_op: str) -> tuple[Any, Any]:
    """_DropoutReluGradSum: `_dropout_relu_grad` of matrices and the sums of its rows (a dense layer's
    bias gradient) in the same pass, the sums in float64 (NumPy's BLAS product with ones adds them in
    float32, in its own order: they may differ in the last bits). Saves the Sum's call and pass: 5% of
    benchmarks/mlp.py's step (alternating blocks)."""
    if _dropout_grad_loop_takes(grad, keep, scale, zero, features) and grad.ndim == 2:
        out = np.empty(grad.shape, np.float32)
        sums = np.empty(grad.shape[1], np.float32)
        _run_on(1, _kernel_module.dropout_relu_grad_sums, grad, keep, scale[()], scale_op == "RealDiv", features, out,
                sums)
        return out, sums
    return _THREE_OPS_DROPOUT_RELU_GRAD_SUM(xp, grad, keep, scale, zero, features, scale_op=scale_op)


def _channel_axis(data_format: Any, rank: int) -> int | None:
    fmt = data_format.decode() if isinstance(data_format, bytes) else data_format
    if fmt not in ("NHWC", "NCHW") or rank < 2:
        return None
    return 1 if fmt == "NCHW" else rank - 1


def _bias_add(xp: Any, value: Any, bias: Any, *, data_format: Any) -> Any:
    """value + bias along the channel axis (the last one, or axis 1 for NCHW)."""
    axis = _channel_axis(data_format, getattr(value, "ndim", 0))
    if axis is None or not _large(value) or not _is_f32(bias) or bias.shape != (value.shape[axis],):
        return _NUMPY_BIAS_ADD(xp, value, bias, data_format=data_format)
    k = _kernels()
    if axis == value.ndim - 1:
        return _run(k.bias_add_last, value.reshape(-1, bias.size), bias).reshape(value.shape)
    cube = value.reshape(value.shape[0], bias.size, -1)
    return _run(k.bias_add_middle, cube, bias).reshape(value.shape)


# ------------------------------------------------------------- softmax cross-entropy
def _softmax_xent(xp: Any, features: Any, labels: Any) -> tuple[Any, Any]:
    """SoftmaxCrossEntropyWithLogits of float32 matrices of one shape: two loops around NumPy's exp,
    where the NumPy kernel makes a dozen passes (the 100x10 logits of benchmarks/mlp.py: 17 us
    there, 6 us here)."""
    if _kernel_module is None or not _is_f32(features, labels) or features.ndim != 2 or labels.shape != features.shape:
        return _numpy_pass(_NUMPY_SOFTMAX_XENT, features, xp, features, labels)
    tops, loss = np.empty(features.shape[0], np.float32), np.empty(features.shape[0], np.float32)
    backprop = np.empty(features.shape, np.float32)
    count = _threads_for((features, backprop))
    _run_on(count, _kernel_module.softmax_xent_shift, features, backprop, tops)
    np.exp(backprop, out=backprop)
    _run_on(count, _kernel_module.softmax_xent_finish, features, labels, backprop, tops, loss)
    return loss, backprop


_NUMPY_MAX_POOL = _fallback("MaxPool")
_NUMPY_MAX_POOL_GRAD = _fallback("MaxPoolGrad")
_NUMPY_AVG_POOL = _fallback("AvgPool")
_NUMPY_AVG_POOL_GRAD = _fallback("AvgPoolGrad")
_NUMPY_RELU_GRAD = _fallback("ReluGrad")
_NUMPY_RELU_GRAD_INPLACE = get_op_def("ReluGrad").inplace
_NUMPY_BIAS_ADD = _fallback("BiasAdd")
_NUMPY_SELECT_V2 = _fallback("SelectV2")
_NUMPY_SOFTMAX_XENT = _fallback("SoftmaxCrossEntropyWithLogits")
_THREE_OPS_DROPOUT = dropout_of_kernels("fast_cpu", "numpy")
_THREE_OPS_DROPOUT_RELU_GRAD = dropout_relu_grad_of_kernels("fast_cpu", "numpy")
_THREE_OPS_DROPOUT_RELU_GRAD_SUM = dropout_relu_grad_sum_of_kernels("fast_cpu", "numpy")


def _guarded(kernel: Callable, fallback: Callable) -> Callable:
    """`kernel`, or `fallback` (the NumPy variant) from the moment numba fails to load, and in a process
    forked after OpenMP's threads started (`threads.openmp_usable`)."""
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not _unavailable and thread_policy.openmp_usable():
            try:
                return kernel(*args, **kwargs)
            except KernelsUnavailable:
                pass
        return fallback(*args, **kwargs)

    guarded.__doc__ = kernel.__doc__
    return guarded


def _one_by_one(kernel: Callable) -> Callable:
    """A group kernel that calls `kernel` on each `(args, kwargs)` in turn."""
    def group(ctx: Any, calls: tuple[tuple[tuple, dict], ...]) -> tuple:
        return tuple([kernel(ctx, *args, **kwargs) for args, kwargs in calls])

    return group


VARIANTS: dict[str, Callable] = {op_type: _guarded(kernel, fallback) for op_type, kernel, fallback in (
    ("MaxPool", _max_pool, _NUMPY_MAX_POOL),
    ("MaxPoolGrad", _max_pool_grad, _NUMPY_MAX_POOL_GRAD),
    ("AvgPool", _avg_pool, _NUMPY_AVG_POOL),
    ("AvgPoolGrad", _avg_pool_grad, _NUMPY_AVG_POOL_GRAD),
    ("ReluGrad", _relu_grad, _NUMPY_RELU_GRAD),
    ("BiasAdd", _bias_add, _NUMPY_BIAS_ADD),
    ("SelectV2", _select_v2, _NUMPY_SELECT_V2),
    ("SoftmaxCrossEntropyWithLogits", _softmax_xent, _NUMPY_SOFTMAX_XENT),
    ("_Dropout", _dropout, _THREE_OPS_DROPOUT),
    ("_DropoutReluGrad", _dropout_relu_grad, _THREE_OPS_DROPOUT_RELU_GRAD),
    ("_DropoutReluGradSum", _dropout_relu_grad_sum, _THREE_OPS_DROPOUT_RELU_GRAD_SUM),
)}
VARIANTS.update(scatters.variants(add_rows_at, numpy_scatter))
# Kernels a plan runs where it may overwrite the first input (OpDef.inplace_variants).
INPLACE_VARIANTS: dict[str, Callable] = {"ReluGrad": _guarded(_relu_grad_inplace, _NUMPY_RELU_GRAD_INPLACE)}
