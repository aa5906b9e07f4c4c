"""oneDNN kernels of the convolutions and their gradients, for the `fast_cpu` backend.

`VARIANTS` maps Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter and the three
DepthwiseConv2dNative ops to kernels with exactly the parameters and results
of their NumPy variants (`caudal.ops.conv_ops`): NHWC or NCHW, SAME, VALID or
EXPLICIT padding with TF's sizes and asymmetric SAME split
(`spatial_geometry`), strides and dilations. Depthwise convolutions are
grouped convolutions with one group per input channel.

- Activations are described in the layout they have (NHWC, or NCHW), so they
  are never reordered; filters are described as TF's HWIO and handed to the
  primitive in the layout it prefers (`dnnl_format_tag_any`), reordered on
  every call (filters change every step), and a filter gradient is reordered
  back to HWIO.
- Primitives are created once per (op, shapes, attributes, thread count) and
  kept in a bounded LRU cache; a shape whose primitive cannot be created is
  remembered and runs on NumPy.
- Everything else runs the op's NumPy variant: dtypes other than float32,
  empty tensors, inconsistent shapes (so errors are the NumPy variant's).
  Non-contiguous inputs are copied first; pointers are handed to oneDNN only
  for C-contiguous native float32 arrays.
- Executions hold one lock (one engine, one stream, one scratchpad per
  process); every result is a fresh array the caller owns.
- The first convolution on more than one thread keeps NumPy's BLAS on one
  thread for the rest of the process (see `gemm`): OpenBLAS's spinning
  threads and OpenMP's fought over the cores.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from caudal.backends.fast_cpu import onednn_lib as lib_module
from caudal.backends.fast_cpu.onednn_lib import (
    ARG_BIAS,
    ARG_DIFF_DST,
    ARG_DIFF_SRC,
    ARG_DIFF_WEIGHTS,
    ARG_DST,
    ARG_FROM,
    ARG_SCRATCHPAD,
    ARG_SRC,
    ARG_TO,
    ARG_WEIGHTS,
    QUERY_BIAS_MD,
    QUERY_DIFF_DST_MD,
    QUERY_DIFF_SRC_MD,
    QUERY_DIFF_WEIGHTS_MD,
    QUERY_DST_MD,
    QUERY_SRC_MD,
    QUERY_WEIGHTS_MD,
    DnnlError,
    Library,
    address,
    exec_args,
    load,
)
from caudal.framework import threads as thread_policy
from caudal.ops._conv_kernels import spatial_geometry
from caudal.ops.conv_ops import FUSED_OPS, explicit_nhwc, shape_nhwc, spatial

__all__ = ["VARIANTS", "Plan", "run_plan", "contiguous", "usable", "numpy_variant", "activation_layout", "load",
           "prepare", "set_num_threads", "cache_info", "clear_cache", "CACHE_SIZE"]

CACHE_SIZE = 64
# A plan of at least this much arithmetic (about a millisecond) runs the fastest of oneDNN's
# implementations on its first inputs: oneDNN's first choice is not always its fastest on a given CPU
# (on an AVX-512 AMD EPYC, LeNet's 14x14x32 -> 64 3x3 convolution took 3.8 ms in brgconv and 3.3 in
# jit forward, its filter gradient 4.3 ms in jit and 3.7 in gemm).
TUNE_FLOPS = 1 << 28
TUNE_SCRATCHPAD_BYTES = 1 << 22  # implementations that need more scratch memory than this (and than
# oneDNN's first choice) are not tried

set_num_threads = lib_module.set_num_threads


def prepare() -> Library:
    """Loads oneDNN (the backend calls this once); raises OSError or ImportError when it cannot."""
    return load()


# ------------------------------------------------------------------ layouts
def activation_layout(shape: Sequence[int], data_format: str) -> tuple[list[int], list[int]]:
    """oneDNN's (N, C, H, W) dims of an activation of `shape`, and the strides of its layout."""
    if data_format == "NHWC":
        n, h, w, c = shape
        return [n, c, h, w], [h * w * c, 1, w * c, c]
    n, c, h, w = shape
    return [n, c, h, w], [c * h * w, h * w, w, 1]


def _filter(shape: Sequence[int], depthwise: bool) -> tuple[list[int], list[int]]:
    """oneDNN's weights dims of a TF filter of `shape` and the strides of TF's layout.

    Conv2D's HWIO filter is (O, I, KH, KW); a depthwise [KH, KW, C, M] filter is the
    grouped (G=C, O=M, I=1, KH, KW), output channel c*M + m as in TF.
    """
    kh, kw, i, o = shape
    if depthwise:
        return [i, o, 1, kh, kw], [o, 1, i * o, kw * i * o, i * o]
    return [o, i, kh, kw], [1, o, kw * i * o, i * o]


# -------------------------------------------------------------------- plans
class _Port:
    """One argument of a primitive: the user's memory (bound to an array on each call) and, when the
    primitive wants another layout, its own buffer with the reorder between the two."""

    def __init__(self, lib: Library, primitive: Any, arg: int, query: int, user_md: Any, output: bool):
        self.arg = arg
        self.user = lib.memory(user_md.handle, keep=user_md)
        wanted = primitive.query_md(query)
        self.reorder = None
        self.memory = self.user
        if not lib.md_equal(wanted, user_md.handle):
            self.buffer = np.empty(lib.md_size(wanted), np.uint8)
            self.memory = lib.memory(wanted)
            self.memory.bind(self.buffer.ctypes.data)
            if output:
                self.reorder = lib.reorder(wanted, user_md.handle)
                self.reorder_args = [(ARG_FROM, self.memory), (ARG_TO, self.user)]
            else:
                self.reorder = lib.reorder(user_md.handle, wanted)
                self.reorder_args = [(ARG_FROM, self.user), (ARG_TO, self.memory)]


class Plan:
    """Primitives with their ports and the reorders around them, ready to run on arrays.

    `add` appends a primitive: its ports are bound to the caller's arrays on each run (in the
    order of all ports added), its `private` arguments to buffers the plan keeps (a workspace),
    and `shared` arguments to memories an earlier primitive of the plan returned from `add`.
    """

    def __init__(self, lib: Library, primitive: Any = None, ports: Sequence[tuple[int, int, Any, bool]] = ()):
        self.lib = lib
        self.ports: list[_Port] = []
        self.steps: list[tuple[Any, Any, Any]] = []  # (primitive, exec args, scratchpad memory)
        self.buffers: list[np.ndarray] = []  # the private arguments' buffers and memories, kept while the plan lives
        self.private: list[Any] = []
        self.scratchpad_bytes = 0
        if primitive is not None:
            self.add(primitive, ports)

    def add(self, primitive: Any, ports: Sequence[tuple[int, int, Any, bool]],
            private: Sequence[tuple[int, int]] = (), shared: dict[int, Any] | None = None) -> dict[int, Any]:
        lib = self.lib
        added = [_Port(lib, primitive, arg, query, md, output) for arg, query, md, output in ports]
        self.ports += added
        pairs = [(p.arg, p.memory) for p in added] + list((shared or {}).items())
        kept = {}
        for arg, query in private:
            wanted = primitive.query_md(query)
            self.buffers.append(np.empty(max(lib.md_size(wanted), 1), np.uint8))
            kept[arg] = lib.memory(wanted)
            kept[arg].bind(self.buffers[-1].ctypes.data)
            self.private.append(kept[arg])
            pairs.append((arg, kept[arg]))
        for port in added:
            if port.reorder is not None and port.arg not in _OUTPUT_ARGS:
                self._add_step(port.reorder, port.reorder_args)
        self._add_step(primitive, pairs)
        for port in added:
            if port.reorder is not None and port.arg in _OUTPUT_ARGS:
                self._add_step(port.reorder, port.reorder_args)
        self.scratchpad_bytes = max(step[0].scratchpad_bytes for step in self.steps)
        return kept

    def _add_step(self, primitive: Any, pairs: list) -> None:
        scratch = None
        if primitive.scratchpad_bytes:
            scratch = self.lib.memory(primitive.query_md(lib_module.QUERY_SCRATCHPAD_MD))
            pairs = pairs + [(ARG_SCRATCHPAD, scratch)]
        self.steps.append((primitive, exec_args(pairs), scratch))

    def run(self, arrays: Sequence[np.ndarray]) -> None:
        """Runs on `arrays` (one per port, in port order); the caller holds `_lock`."""
        scratch = _scratchpad(self.scratchpad_bytes)
        for port, array in zip(self.ports, arrays, strict=True):
            port.user.bind(address(array))
        for primitive, args, scratch_memory in self.steps:
            if scratch_memory is not None:
                scratch_memory.bind(address(scratch))
            self.lib.execute(primitive, args)


_OUTPUT_ARGS = frozenset([ARG_DST, ARG_DIFF_SRC, ARG_DIFF_WEIGHTS])

_lock = threading.Lock()
_cache: OrderedDict[tuple, Plan | None] = OrderedDict()
_scratch = np.empty(0, np.uint8)


def _scratchpad(nbytes: int) -> np.ndarray:
    """The process's scratchpad, grown to at least `nbytes` (the caller holds `_lock`)."""
    global _scratch
    if _scratch.nbytes < nbytes:
        _scratch = np.empty(nbytes, np.uint8)
    return _scratch


def cache_info() -> dict[str, int]:
    """How many plans the cache holds, how many of them are remembered failures, and its bound."""
    with _lock:
        return {"entries": len(_cache), "failures": sum(plan is None for plan in _cache.values()),
                "capacity": CACHE_SIZE}


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def run_plan(key: tuple, build: Callable[[Library], Plan], arrays: Sequence[np.ndarray], flops: float) -> bool:
    """Runs the plan of `key` (built by `build` the first time) on `arrays`, on the OpenMP threads
    its `flops` deserve (caudal.framework.threads); False when oneDNN cannot (the failure is
    remembered, so the caller's NumPy path runs from then on without retrying)."""
    with _lock:
        if thread_policy.enabled():
            threads = lib_module.apply_thread_count(thread_policy.threads_for(flops))
            if threads > 1:
                thread_policy.blas_single_thread()  # one pool of threads from now on (see gemm)
        else:
            threads = lib_module.apply_num_threads()
        key = key + (threads,)
        if key in _cache:
            plan = _cache[key]
            _cache.move_to_end(key)
        else:
            try:
                plan = build(load())
                if flops >= TUNE_FLOPS:
                    plan = _fastest(plan, build, arrays)
            except DnnlError:
                plan = None
            _cache[key] = plan
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        if plan is None:
            return False
        try:
            plan.run(arrays)
        except DnnlError:
            _cache[key] = None
            return False
        return True


def _fastest(plan: Plan, build: Callable[[Library], Plan], arrays: Sequence[np.ndarray]) -> Plan:
    """Of `plan` (oneDNN's first choice of implementation) and the plans `build` makes with each of
    oneDNN's other implementations (but its reference one and those that need much more scratch
    memory), the one that runs fastest on `arrays`: the shortest of three runs each, taken in turns
    so that the machine's drift affects all alike (after one run, those over twice the best drop out)."""
    lib = plan.lib
    candidates = [plan]
    with lib.primitive_cache_off():
        for k in range(1, 16):
            lib.implementation = k
            try:
                candidate = build(lib)
            except lib_module.NoImplementation:
                break
            except DnnlError:
                continue
            finally:
                lib.implementation = 0
            if candidate.scratchpad_bytes <= max(plan.scratchpad_bytes, TUNE_SCRATCHPAD_BYTES):
                candidates.append(candidate)  # (not an im2col copy of the input, which the process would keep)
    count = len(candidates)
    times = [float("inf")] * count
    for turn in range(3):
        for j in range(count):
            i = (j + turn) % count
            if turn and times[i] > 2 * min(times):
                continue
            start = time.perf_counter()
            candidates[i].run(arrays)
            times[i] = min(times[i], time.perf_counter() - start)
    return candidates[times.index(min(times))]


# ------------------------------------------------------------------ inputs
def usable(*arrays: Any) -> bool:
    """Whether every array is a non-empty native float32 ndarray of rank 4, in a process where oneDNN's
    OpenMP threads can run (`threads.openmp_usable`)."""
    return thread_policy.openmp_usable() and all(
        isinstance(a, np.ndarray) and a.dtype == np.float32 and a.ndim == 4 and a.size for a in arrays)


def contiguous(array: np.ndarray) -> np.ndarray:
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


def _geometry(in_shape: Sequence[int], k_hw: Sequence[int], strides: Sequence[int], dilations: Sequence[int],
              padding: str, explicit: Sequence[int], data_format: str) -> tuple[tuple[int, int], tuple] | None:
    """(output (Ho, Wo), (strides, dilates, pad_l, pad_r) in oneDNN's terms); None when TF's geometry
    rejects the shapes (the NumPy variant then raises TF's error)."""
    s = spatial(strides, data_format)
    d = spatial(dilations, data_format)
    in_hw = shape_nhwc(in_shape, data_format)[1:3]
    try:
        out_hw, ((top, bottom), (left, right)) = spatial_geometry(
            in_hw, k_hw, s, d, padding, explicit_nhwc(explicit, data_format))
    except ValueError:
        return None
    if min(out_hw) <= 0:
        return None
    return out_hw, (tuple(s), (d[0] - 1, d[1] - 1), (top, left), (bottom, right))


def _output_shape(in_shape: Sequence[int], out_hw: tuple[int, int], channels: int, data_format: str) -> tuple:
    n = in_shape[0]
    return (n, out_hw[0], out_hw[1], channels) if data_format == "NHWC" else (n, channels, out_hw[0], out_hw[1])


# ------------------------------------------------------------------ kernels
def numpy_variant(op_type: str) -> Callable:
    from caudal.framework.registry import get_op_def

    return get_op_def(op_type).variants["numpy"]


class _Family:
    """The three kernels of Conv2D (depthwise=False) or DepthwiseConv2dNative (depthwise=True)."""

    def __init__(self, forward: str, backprop_input: str, backprop_filter: str, depthwise: bool):
        self.names = (forward, backprop_input, backprop_filter)
        self.depthwise = depthwise

    def out_channels(self, in_channels: int, filter_shape: Sequence[int]) -> int | None:
        """The output channels, or None when the filter does not fit the input's channels."""
        if filter_shape[2] != in_channels:
            return None
        return in_channels * filter_shape[3] if self.depthwise else filter_shape[3]

    def flops(self, outputs: int, filter_shape: Sequence[int]) -> float:
        """The arithmetic of one of the three kernels, from the forward output's size."""
        return 2.0 * outputs * filter_shape[0] * filter_shape[1] * (1 if self.depthwise else filter_shape[2])

    def _mds(self, lib: Library, x_shape: Sequence[int], w_shape: Sequence[int], y_shape: Sequence[int],
             data_format: str) -> tuple:
        x_md = lib.strided_md(*activation_layout(x_shape, data_format))
        w_dims, w_strides = _filter(w_shape, self.depthwise)
        y_md = lib.strided_md(*activation_layout(y_shape, data_format))
        return x_md, lib.strided_md(w_dims, w_strides), lib.any_md(w_dims), y_md

    def forward(self, xp: Any, x: Any, w: Any, *, strides: list, padding: str, explicit_paddings: list,
                data_format: str, dilations: list) -> Any:
        attrs = dict(strides=strides, padding=padding, explicit_paddings=explicit_paddings, data_format=data_format,
                     dilations=dilations)
        channels = shape_nhwc(x.shape, data_format)[3] if usable(x, w) else None
        out_channels = self.out_channels(channels, w.shape) if channels is not None else None
        found = _geometry(x.shape, w.shape[:2], strides, dilations, padding, explicit_paddings,
                          data_format) if out_channels else None
        if found is None:
            return numpy_variant(self.names[0])(xp, x, w, **attrs)
        out_hw, geometry = found
        y = np.empty(_output_shape(x.shape, out_hw, out_channels, data_format), np.float32)
        x, w = contiguous(x), contiguous(w)

        def build(lib: Library) -> Plan:
            x_md, w_md, w_any, y_md = self._mds(lib, x.shape, w.shape, y.shape, data_format)
            primitive = lib.convolution_forward(x_md.handle, w_any.handle, y_md.handle, geometry)
            return Plan(lib, primitive, [(ARG_SRC, QUERY_SRC_MD, x_md, False),
                                          (ARG_WEIGHTS, QUERY_WEIGHTS_MD, w_md, False),
                                          (ARG_DST, QUERY_DST_MD, y_md, True)])

        key = (self.names[0], x.shape, w.shape, data_format, geometry)
        if not run_plan(key, build, [x, w, y], self.flops(y.size, w.shape)):
            return numpy_variant(self.names[0])(xp, x, w, **attrs)
        return y

    def fused_forward(self, xp: Any, x: Any, w: Any, bias: Any, *, strides: list, padding: str,
                      explicit_paddings: list, data_format: str, dilations: list, fused_ops: list) -> Any:
        """_FusedConv2D: the convolution, its bias added per output channel and (fused_ops BiasAdd,
        Relu) ReLU applied, in one pass over the output (oneDNN's bias and post-op)."""
        attrs = dict(strides=strides, padding=padding, explicit_paddings=explicit_paddings, data_format=data_format,
                     dilations=dilations, fused_ops=fused_ops)
        ops = tuple(op.decode() if isinstance(op, bytes) else op for op in fused_ops)
        found = None
        if ops in FUSED_OPS and usable(x, w) and type(bias) is np.ndarray \
                and bias.dtype == np.float32 and bias.shape == (w.shape[3],):
            channels = shape_nhwc(x.shape, data_format)[3]
            if self.out_channels(channels, w.shape):
                found = _geometry(x.shape, w.shape[:2], strides, dilations, padding, explicit_paddings, data_format)
        if found is None:
            return numpy_variant("_FusedConv2D")(xp, x, w, bias, **attrs)
        out_hw, geometry = found
        y = np.empty(_output_shape(x.shape, out_hw, w.shape[3], data_format), np.float32)
        x, w, bias = contiguous(x), contiguous(w), contiguous(bias)
        relu = ops[-1] == "Relu"

        def build(lib: Library) -> Plan:
            x_md, w_md, w_any, y_md = self._mds(lib, x.shape, w.shape, y.shape, data_format)
            b_md = lib.strided_md([w.shape[3]], [1])
            primitive = lib.convolution_forward(x_md.handle, w_any.handle, y_md.handle, geometry, bias=b_md.handle,
                                                relu=relu)
            return Plan(lib, primitive, [(ARG_SRC, QUERY_SRC_MD, x_md, False),
                                         (ARG_WEIGHTS, QUERY_WEIGHTS_MD, w_md, False),
                                         (ARG_BIAS, QUERY_BIAS_MD, b_md, False),
                                         (ARG_DST, QUERY_DST_MD, y_md, True)])

        key = ("_FusedConv2D", x.shape, w.shape, data_format, geometry, relu)
        if not run_plan(key, build, [x, w, bias, y], self.flops(y.size, w.shape)):
            return numpy_variant("_FusedConv2D")(xp, x, w, bias, **attrs)
        return y

    def backprop_input(self, xp: Any, input_sizes: Any, w: Any, dy: Any, *, strides: list, padding: str,
                       explicit_paddings: list, data_format: str, dilations: list) -> Any:
        attrs = dict(strides=strides, padding=padding, explicit_paddings=explicit_paddings, data_format=data_format,
                     dilations=dilations)
        x_shape = tuple(int(d) for d in np.asarray(input_sizes).reshape(-1))
        found = None
        if usable(w, dy) and len(x_shape) == 4 and min(x_shape) > 0:
            channels = shape_nhwc(x_shape, data_format)[3]
            out_channels = self.out_channels(channels, w.shape)
            found = _geometry(x_shape, w.shape[:2], strides, dilations, padding, explicit_paddings,
                              data_format) if out_channels else None
            if found is not None and dy.shape != _output_shape(x_shape, found[0], out_channels, data_format):
                found = None
        if found is None:
            return numpy_variant(self.names[1])(xp, input_sizes, w, dy, **attrs)
        geometry = found[1]
        dx = np.empty(x_shape, np.float32)
        w, dy = contiguous(w), contiguous(dy)

        def build(lib: Library) -> Plan:
            x_md, w_md, w_any, y_md = self._mds(lib, x_shape, w.shape, dy.shape, data_format)
            primitive = lib.convolution_backward_data(x_md.handle, w_any.handle, y_md.handle, geometry)
            return Plan(lib, primitive, [(ARG_DIFF_DST, QUERY_DIFF_DST_MD, y_md, False),
                                          (ARG_WEIGHTS, QUERY_WEIGHTS_MD, w_md, False),
                                          (ARG_DIFF_SRC, QUERY_DIFF_SRC_MD, x_md, True)])

        key = (self.names[1], x_shape, w.shape, data_format, geometry)
        if not run_plan(key, build, [dy, w, dx], self.flops(dy.size, w.shape)):
            return numpy_variant(self.names[1])(xp, input_sizes, w, dy, **attrs)
        return dx

    def backprop_filter(self, xp: Any, x: Any, filter_sizes: Any, dy: Any, *, strides: list, padding: str,
                        explicit_paddings: list, data_format: str, dilations: list) -> Any:
        attrs = dict(strides=strides, padding=padding, explicit_paddings=explicit_paddings, data_format=data_format,
                     dilations=dilations)
        w_shape = tuple(int(d) for d in np.asarray(filter_sizes).reshape(-1))
        found = None
        if usable(x, dy) and len(w_shape) == 4 and min(w_shape) > 0:
            channels = shape_nhwc(x.shape, data_format)[3]
            out_channels = self.out_channels(channels, w_shape)
            found = _geometry(x.shape, w_shape[:2], strides, dilations, padding, explicit_paddings,
                              data_format) if out_channels else None
            if found is not None and dy.shape != _output_shape(x.shape, found[0], out_channels, data_format):
                found = None
        if found is None:
            return numpy_variant(self.names[2])(xp, x, filter_sizes, dy, **attrs)
        geometry = found[1]
        dw = np.empty(w_shape, np.float32)
        x, dy = contiguous(x), contiguous(dy)

        def build(lib: Library) -> Plan:
            x_md, w_md, w_any, y_md = self._mds(lib, x.shape, w_shape, dy.shape, data_format)
            primitive = lib.convolution_backward_weights(x_md.handle, w_any.handle, y_md.handle, geometry)
            return Plan(lib, primitive, [(ARG_SRC, QUERY_SRC_MD, x_md, False),
                                          (ARG_DIFF_DST, QUERY_DIFF_DST_MD, y_md, False),
                                          (ARG_DIFF_WEIGHTS, QUERY_DIFF_WEIGHTS_MD, w_md, True)])

        key = (self.names[2], x.shape, w_shape, data_format, geometry)
        if not run_plan(key, build, [x, dy, dw], self.flops(dy.size, w_shape)):
            return numpy_variant(self.names[2])(xp, x, filter_sizes, dy, **attrs)
        return dw


_CONV2D = _Family("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", depthwise=False)
_DEPTHWISE = _Family("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
                     "DepthwiseConv2dNativeBackpropFilter", depthwise=True)

VARIANTS: dict[str, Callable] = {"_FusedConv2D": _CONV2D.fused_forward}
for _family in (_CONV2D, _DEPTHWISE):
    VARIANTS.update(zip(_family.names, (_family.forward, _family.backprop_input, _family.backprop_filter),
                        strict=True))
