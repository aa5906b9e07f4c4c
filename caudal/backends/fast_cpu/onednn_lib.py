"""A ctypes binding of oneDNN 3.x's stable C API (`dnnl.h`), as much of it as the convolution and pooling
kernels use.

The library is the `onednn-cpu-gomp` wheel's `libdnnl.so.3` (oneDNN 3.2, GNU
OpenMP), found under the environment's prefix or on the loader's path, and
loaded once per process by `load()`. Nothing imports this module at
`import caudal`.

Enum values and argument numbers are those of oneDNN v3.2's headers
(`dnnl_types.h`, `dnnl_common_types.h`). Plain layouts (NHWC activations, TF's
HWIO filters) are described by explicit strides
(`dnnl_memory_desc_create_with_strides`), so no format-tag number is needed
except `dnnl_format_tag_any`, which lets a primitive choose its own weights
layout.

Every handle is owned by a small Python object that destroys it when
collected. All primitives run on one CPU engine and one stream, in
user-scratchpad mode: the caller passes the scratchpad, so a primitive may run
from any thread (under the caller's lock).
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from caudal.framework import threads as thread_policy

__all__ = ["DnnlError", "Library", "MemoryDesc", "Primitive", "address", "load", "find_library_path", "open_library",
           "check_version", "set_num_threads", "ARG_SRC", "ARG_DST", "ARG_WEIGHTS", "ARG_DIFF_SRC", "ARG_DIFF_DST",
           "ARG_DIFF_WEIGHTS", "ARG_SCRATCHPAD", "ARG_WORKSPACE", "ARG_BIAS", "ARG_FROM", "ARG_TO"]

# ------------------------------------------------------------ v3.2 constants
SUCCESS = 0
STATUS_NAMES = {0: "dnnl_success", 1: "dnnl_out_of_memory", 2: "dnnl_invalid_arguments", 3: "dnnl_unimplemented",
                4: "dnnl_last_impl_reached", 5: "dnnl_runtime_error", 6: "dnnl_not_required"}
F32 = 3  # dnnl_data_type_t
FORMAT_TAG_ANY = 1  # dnnl_format_tag_t
CPU = 1  # dnnl_engine_kind_t
STREAM_DEFAULT_FLAGS = 1  # dnnl_stream_default_flags (= dnnl_stream_in_order)
FORWARD_TRAINING, FORWARD_INFERENCE = 64, 96  # dnnl_prop_kind_t
CONVOLUTION_DIRECT = 1  # dnnl_alg_kind_t
ELTWISE_RELU = 0x20
POOLING_MAX = 0x1FF
POOLING_AVG_EXCLUDE_PADDING = 0x3FF
SCRATCHPAD_MODE_USER = 1  # dnnl_scratchpad_mode_t
QUERY_SRC_MD, QUERY_DIFF_SRC_MD, QUERY_WEIGHTS_MD, QUERY_DIFF_WEIGHTS_MD = 129, 130, 131, 132  # dnnl_query_t
QUERY_DST_MD, QUERY_DIFF_DST_MD, QUERY_WORKSPACE_MD, QUERY_SCRATCHPAD_MD = 133, 134, 135, 136
QUERY_IMPL_INFO_STR = 8
QUERY_BIAS_MD = (QUERY_WEIGHTS_MD, 1)  # a convolution's bias is its second weights argument
ARG_SRC = ARG_FROM = 1  # DNNL_ARG_*
ARG_DST = ARG_TO = 17
ARG_WEIGHTS = 33
ARG_BIAS = 41
ARG_WORKSPACE = 64
ARG_SCRATCHPAD = 80
ARG_DIFF_SRC = 129
ARG_DIFF_DST = 145
ARG_DIFF_WEIGHTS = 161
MAX_NDIMS = 12

_Dims = ctypes.c_int64 * MAX_NDIMS
_handle = ctypes.c_void_p
_out_handle = ctypes.POINTER(ctypes.c_void_p)
_dims = ctypes.POINTER(ctypes.c_int64)


class _Version(ctypes.Structure):
    _fields_ = [("major", ctypes.c_int), ("minor", ctypes.c_int), ("patch", ctypes.c_int),
                ("hash", ctypes.c_char_p), ("cpu_runtime", ctypes.c_uint), ("gpu_runtime", ctypes.c_uint)]


class ExecArg(ctypes.Structure):
    """dnnl_exec_arg_t: an argument number and the memory object bound to it."""

    _fields_ = [("arg", ctypes.c_int), ("memory", ctypes.c_void_p)]


_STATUS = ctypes.c_int
# name: (restype, argtypes), as declared in dnnl.h of v3.x
_DECLARATIONS: dict[str, tuple[Any, list[Any]]] = {
    "dnnl_version": (ctypes.POINTER(_Version), []),
    "dnnl_engine_create": (_STATUS, [_out_handle, ctypes.c_int, ctypes.c_size_t]),
    "dnnl_engine_destroy": (_STATUS, [_handle]),
    "dnnl_stream_create": (_STATUS, [_out_handle, _handle, ctypes.c_uint]),
    "dnnl_stream_wait": (_STATUS, [_handle]),
    "dnnl_stream_destroy": (_STATUS, [_handle]),
    "dnnl_memory_desc_create_with_strides": (_STATUS, [_out_handle, ctypes.c_int, _dims, ctypes.c_int, _dims]),
    "dnnl_memory_desc_create_with_tag": (_STATUS, [_out_handle, ctypes.c_int, _dims, ctypes.c_int, ctypes.c_int]),
    "dnnl_memory_desc_create_with_string_tag": (_STATUS, [_out_handle, ctypes.c_int, _dims, ctypes.c_int,
                                                          ctypes.c_char_p]),
    "dnnl_memory_desc_destroy": (_STATUS, [_handle]),
    "dnnl_memory_desc_equal": (ctypes.c_int, [_handle, _handle]),
    "dnnl_memory_desc_get_size": (ctypes.c_size_t, [_handle]),
    "dnnl_memory_create": (_STATUS, [_out_handle, _handle, _handle, ctypes.c_void_p]),
    "dnnl_memory_set_data_handle": (_STATUS, [_handle, ctypes.c_void_p]),
    "dnnl_memory_destroy": (_STATUS, [_handle]),
    "dnnl_primitive_attr_create": (_STATUS, [_out_handle]),
    "dnnl_primitive_attr_set_scratchpad_mode": (_STATUS, [_handle, ctypes.c_int]),
    "dnnl_primitive_attr_destroy": (_STATUS, [_handle]),
    "dnnl_primitive_attr_set_post_ops": (_STATUS, [_handle, _handle]),
    "dnnl_post_ops_create": (_STATUS, [_out_handle]),
    "dnnl_post_ops_append_eltwise": (_STATUS, [_handle, ctypes.c_int, ctypes.c_float, ctypes.c_float]),
    "dnnl_post_ops_destroy": (_STATUS, [_handle]),
    "dnnl_convolution_forward_primitive_desc_create": (
        _STATUS, [_out_handle, _handle, ctypes.c_int, ctypes.c_int, _handle, _handle, _handle, _handle,
                  _dims, _dims, _dims, _dims, _handle]),
    "dnnl_convolution_backward_data_primitive_desc_create": (
        _STATUS, [_out_handle, _handle, ctypes.c_int, _handle, _handle, _handle, _dims, _dims, _dims, _dims,
                  _handle, _handle]),
    "dnnl_convolution_backward_weights_primitive_desc_create": (
        _STATUS, [_out_handle, _handle, ctypes.c_int, _handle, _handle, _handle, _handle, _dims, _dims, _dims,
                  _dims, _handle, _handle]),
    "dnnl_pooling_forward_primitive_desc_create": (
        _STATUS, [_out_handle, _handle, ctypes.c_int, ctypes.c_int, _handle, _handle, _dims, _dims, _dims, _dims,
                  _dims, _handle]),
    "dnnl_pooling_backward_primitive_desc_create": (
        _STATUS, [_out_handle, _handle, ctypes.c_int, _handle, _handle, _dims, _dims, _dims, _dims, _dims,
                  _handle, _handle]),
    "dnnl_reorder_primitive_desc_create": (_STATUS, [_out_handle, _handle, _handle, _handle, _handle, _handle]),
    "dnnl_matmul_primitive_desc_create": (_STATUS, [_out_handle, _handle, _handle, _handle, _handle, _handle,
                                                    _handle]),
    "dnnl_primitive_desc_query_md": (ctypes.c_void_p, [_handle, ctypes.c_int, ctypes.c_int]),
    "dnnl_primitive_desc_query": (_STATUS, [_handle, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]),
    "dnnl_primitive_desc_next_impl": (_STATUS, [_handle]),
    "dnnl_get_primitive_cache_capacity": (_STATUS, [ctypes.POINTER(ctypes.c_int)]),
    "dnnl_set_primitive_cache_capacity": (_STATUS, [ctypes.c_int]),
    "dnnl_primitive_desc_destroy": (_STATUS, [_handle]),
    "dnnl_primitive_create": (_STATUS, [_out_handle, _handle]),
    "dnnl_primitive_execute": (_STATUS, [_handle, _handle, ctypes.c_int, ctypes.POINTER(ExecArg)]),
    "dnnl_primitive_destroy": (_STATUS, [_handle]),
    "dnnl_sgemm": (_STATUS, [ctypes.c_char, ctypes.c_char, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                             ctypes.c_float, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                             ctypes.c_float, ctypes.c_void_p, ctypes.c_int64]),
}


class NoImplementation(LookupError):
    """oneDNN has no further implementation of a primitive (but its reference one)."""


class DnnlError(RuntimeError):
    """A oneDNN call that returned a status other than dnnl_success."""

    def __init__(self, function: str, status: int):
        self.function = function
        self.status = status
        super().__init__(f"{function} failed with {STATUS_NAMES.get(status, f'status {status}')}")


def dims(values: Sequence[int]) -> Any:
    """A dnnl_dims_t holding `values` (zero-filled past them)."""
    return _Dims(*[int(v) for v in values])


class _Owned:
    """A oneDNN handle destroyed with `destroy` when this object is collected."""

    __slots__ = ("handle", "_destroy")

    def __init__(self, handle: int, destroy: Any):
        self.handle = handle
        self._destroy = destroy

    def __del__(self) -> None:
        handle, self.handle = self.handle, None
        if handle:
            try:
                self._destroy(handle)
            except Exception:  # interpreter shutdown: the library may already be gone
                pass


class MemoryDesc(_Owned):
    """An owned dnnl_memory_desc_t."""

    __slots__ = ()


class Primitive:
    """A primitive, the memory descriptors of its arguments it was created with, and its scratchpad size."""

    def __init__(self, lib: Library, pd: _Owned, hint: _Owned | None = None):
        self.lib = lib
        self._pd = pd
        self._hint = hint  # a backward primitive's forward hint, kept as long as its descriptor
        out = ctypes.c_void_p()
        lib.check("dnnl_primitive_create", lib.dll.dnnl_primitive_create(ctypes.byref(out), pd.handle))
        self._primitive = _Owned(out.value, lib.dll.dnnl_primitive_destroy)
        self.scratchpad_bytes = lib.dll.dnnl_memory_desc_get_size(self.query_md(QUERY_SCRATCHPAD_MD))

    @property
    def handle(self) -> int:
        return self._primitive.handle

    @property
    def implementation(self) -> str:
        """oneDNN's name of the implementation this primitive runs ("brgconv:avx512_core", ...)."""
        return self.lib.implementation_name(self._pd)

    def query_md(self, what: int | tuple[int, int]) -> int:
        """The (borrowed) memory descriptor `what` (a query, or a query and an index) of this primitive's
        descriptor; valid while it lives."""
        query, index = what if isinstance(what, tuple) else (what, 0)
        return self.lib.dll.dnnl_primitive_desc_query_md(self._pd.handle, query, index)


class Memory(_Owned):
    """A dnnl_memory_t with no buffer of its own: `bind` points it at an array before each execution."""

    __slots__ = ("lib", "desc")

    def __init__(self, lib: Library, desc: int, keep: Any = None):
        out = ctypes.c_void_p()
        lib.check("dnnl_memory_create", lib.dll.dnnl_memory_create(ctypes.byref(out), desc, lib.engine, None))
        super().__init__(out.value, lib.dll.dnnl_memory_destroy)
        self.lib = lib
        self.desc = keep  # the owned descriptor, kept alive as long as the memory

    def bind(self, address: int) -> None:
        self.lib.check("dnnl_memory_set_data_handle", self.lib.dll.dnnl_memory_set_data_handle(self.handle, address))


def check_version(version: tuple[int, int, int], path: str) -> None:
    """Refuses a libdnnl whose major version is not 3 (the C API and enum values bound here are 3.x's)."""
    if version[0] != 3:
        raise ImportError(f"{path} is oneDNN {'.'.join(map(str, version))}; caudal's fast_cpu kernels need "
                          f"oneDNN 3.x (pip install onednn-cpu-gomp)")


class Library:
    """The loaded libdnnl: its functions, one CPU engine and one stream."""

    def __init__(self, path: str):
        try:
            dll = ctypes.CDLL(path)
        except OSError as error:
            raise OSError(f"oneDNN could not be loaded from {path}: {error}") from None
        for name, (restype, argtypes) in _DECLARATIONS.items():
            try:
                function = getattr(dll, name)
            except AttributeError:
                raise ImportError(f"{path} is not a oneDNN 3.x library: it has no {name}") from None
            function.restype = restype
            function.argtypes = argtypes
        self.dll = dll
        self.path = path
        version = dll.dnnl_version().contents
        self.version = (version.major, version.minor, version.patch)
        check_version(self.version, path)
        engine = ctypes.c_void_p()
        self.check("dnnl_engine_create", dll.dnnl_engine_create(ctypes.byref(engine), CPU, 0))
        self._engine = _Owned(engine.value, dll.dnnl_engine_destroy)
        stream = ctypes.c_void_p()
        self.check("dnnl_stream_create", dll.dnnl_stream_create(ctypes.byref(stream), engine.value,
                                                                STREAM_DEFAULT_FLAGS))
        self._stream = _Owned(stream.value, dll.dnnl_stream_destroy)
        attr = ctypes.c_void_p()
        self.check("dnnl_primitive_attr_create", dll.dnnl_primitive_attr_create(ctypes.byref(attr)))
        self._attr = _Owned(attr.value, dll.dnnl_primitive_attr_destroy)
        self.check("dnnl_primitive_attr_set_scratchpad_mode",
                   dll.dnnl_primitive_attr_set_scratchpad_mode(attr.value, SCRATCHPAD_MODE_USER))
        self.implementation = 0  # the implementation the next primitive takes (see `_primitive`)

    @property
    def engine(self) -> int:
        return self._engine.handle

    @property
    def stream(self) -> int:
        return self._stream.handle

    @staticmethod
    def check(function: str, status: int) -> None:
        if status != SUCCESS:
            raise DnnlError(function, status)

    # -------------------------------------------------------- descriptors
    def strided_md(self, shape: Sequence[int], strides: Sequence[int]) -> MemoryDesc:
        """A float32 memory descriptor of logical `shape` laid out with `strides` (in elements)."""
        out = ctypes.c_void_p()
        self.check("dnnl_memory_desc_create_with_strides", self.dll.dnnl_memory_desc_create_with_strides(
            ctypes.byref(out), len(shape), dims(shape), F32, dims(strides)))
        return MemoryDesc(out.value, self.dll.dnnl_memory_desc_destroy)

    def any_md(self, shape: Sequence[int]) -> MemoryDesc:
        """A float32 memory descriptor of logical `shape` whose layout the primitive chooses."""
        out = ctypes.c_void_p()
        self.check("dnnl_memory_desc_create_with_tag", self.dll.dnnl_memory_desc_create_with_tag(
            ctypes.byref(out), len(shape), dims(shape), F32, FORMAT_TAG_ANY))
        return MemoryDesc(out.value, self.dll.dnnl_memory_desc_destroy)

    def tagged_md(self, shape: Sequence[int], tag: str) -> MemoryDesc:
        """A float32 memory descriptor of a plain layout named by letters ('acdb' is NHWC of NCHW dims)."""
        out = ctypes.c_void_p()
        self.check("dnnl_memory_desc_create_with_string_tag", self.dll.dnnl_memory_desc_create_with_string_tag(
            ctypes.byref(out), len(shape), dims(shape), F32, tag.encode()))
        return MemoryDesc(out.value, self.dll.dnnl_memory_desc_destroy)

    def md_equal(self, a: int, b: int) -> bool:
        return bool(self.dll.dnnl_memory_desc_equal(a, b))

    def md_size(self, md: int) -> int:
        return int(self.dll.dnnl_memory_desc_get_size(md))

    # --------------------------------------------------------- primitives
    def _primitive(self, function: str, *args: Any, hint: _Owned | None = None) -> Primitive:
        """The primitive of the descriptor `function` creates: oneDNN's first implementation, or once
        after `implementation` was set to k, its k-th next one (NoImplementation past the last but the
        reference implementation, which is never chosen this way)."""
        pd = self._pd(function, *args)
        skip, self.implementation = self.implementation, 0
        for _ in range(skip):
            if self.dll.dnnl_primitive_desc_next_impl(pd.handle) != 0:
                raise NoImplementation(function)
        if skip and self.implementation_name(pd).startswith("ref"):
            raise NoImplementation(function)
        return Primitive(self, pd, hint)

    @contextlib.contextmanager
    def primitive_cache_off(self) -> Iterator[None]:
        """oneDNN's primitive cache off for the block: a descriptor that matches a cached one does not
        move on to its other implementations (`implementation`)."""
        capacity = ctypes.c_int()
        self.check("dnnl_get_primitive_cache_capacity",
                   self.dll.dnnl_get_primitive_cache_capacity(ctypes.byref(capacity)))
        self.check("dnnl_set_primitive_cache_capacity", self.dll.dnnl_set_primitive_cache_capacity(0))
        try:
            yield
        finally:
            self.dll.dnnl_set_primitive_cache_capacity(capacity.value)

    def implementation_name(self, pd: _Owned) -> str:
        name = ctypes.c_char_p()
        self.check("dnnl_primitive_desc_query", self.dll.dnnl_primitive_desc_query(
            pd.handle, QUERY_IMPL_INFO_STR, 0, ctypes.byref(name)))
        return (name.value or b"").decode()

    def _pd(self, function: str, *args: Any) -> _Owned:
        out = ctypes.c_void_p()
        self.check(function, getattr(self.dll, function)(ctypes.byref(out), *args))
        return _Owned(out.value, self.dll.dnnl_primitive_desc_destroy)

    def convolution_forward(self, src: int, weights: int, dst: int, geometry: Sequence[Sequence[int]],
                            bias: int | None = None, relu: bool = False) -> Primitive:
        """A forward-training direct convolution; `geometry` is (strides, dilates, pad_l, pad_r). With
        `bias` (a descriptor) it adds a bias per output channel, with `relu` it then applies ReLU in the
        same pass (a post-op)."""
        attr = self._attr if not relu else self._relu_attr()  # the descriptor keeps a copy
        return self._primitive("dnnl_convolution_forward_primitive_desc_create", self.engine, FORWARD_TRAINING,
                               CONVOLUTION_DIRECT, src, weights, bias, dst, *map(dims, geometry), attr.handle)

    def _relu_attr(self) -> _Owned:
        """Primitive attributes: the user scratchpad, and ReLU after the primitive's arithmetic."""
        attr, post_ops = ctypes.c_void_p(), ctypes.c_void_p()
        self.check("dnnl_primitive_attr_create", self.dll.dnnl_primitive_attr_create(ctypes.byref(attr)))
        owned = _Owned(attr.value, self.dll.dnnl_primitive_attr_destroy)
        self.check("dnnl_primitive_attr_set_scratchpad_mode",
                   self.dll.dnnl_primitive_attr_set_scratchpad_mode(attr.value, SCRATCHPAD_MODE_USER))
        self.check("dnnl_post_ops_create", self.dll.dnnl_post_ops_create(ctypes.byref(post_ops)))
        ops = _Owned(post_ops.value, self.dll.dnnl_post_ops_destroy)
        self.check("dnnl_post_ops_append_eltwise", self.dll.dnnl_post_ops_append_eltwise(ops.handle, ELTWISE_RELU,
                                                                                          0.0, 0.0))
        self.check("dnnl_primitive_attr_set_post_ops", self.dll.dnnl_primitive_attr_set_post_ops(attr.value,
                                                                                                  ops.handle))
        return owned

    def convolution_backward_data(self, diff_src: int, weights: int, diff_dst: int,
                                  geometry: Sequence[Sequence[int]]) -> Primitive:
        hint = self._pd("dnnl_convolution_forward_primitive_desc_create", self.engine, FORWARD_TRAINING,
                        CONVOLUTION_DIRECT, diff_src, weights, None, diff_dst, *map(dims, geometry),
                        self._attr.handle)
        return self._primitive("dnnl_convolution_backward_data_primitive_desc_create", self.engine,
                               CONVOLUTION_DIRECT, diff_src, weights, diff_dst, *map(dims, geometry), hint.handle,
                               self._attr.handle, hint=hint)

    def convolution_backward_weights(self, src: int, diff_weights: int, diff_dst: int,
                                     geometry: Sequence[Sequence[int]]) -> Primitive:
        hint = self._pd("dnnl_convolution_forward_primitive_desc_create", self.engine, FORWARD_TRAINING,
                        CONVOLUTION_DIRECT, src, diff_weights, None, diff_dst, *map(dims, geometry),
                        self._attr.handle)
        return self._primitive("dnnl_convolution_backward_weights_primitive_desc_create", self.engine,
                               CONVOLUTION_DIRECT, src, diff_weights, None, diff_dst, *map(dims, geometry),
                               hint.handle, self._attr.handle, hint=hint)

    def pooling_forward(self, algorithm: int, src: int, dst: int, geometry: Sequence[Sequence[int]],
                        training: bool = False) -> Primitive:
        """A pooling; `geometry` is (strides, kernel, dilation, pad_l, pad_r). A training max pooling also
        writes each window's argmax to its workspace."""
        return self._primitive("dnnl_pooling_forward_primitive_desc_create", self.engine,
                               FORWARD_TRAINING if training else FORWARD_INFERENCE, algorithm, src, dst,
                               *map(dims, geometry), self._attr.handle)

    def pooling_backward(self, algorithm: int, diff_src: int, diff_dst: int,
                         geometry: Sequence[Sequence[int]]) -> Primitive:
        """A backward pooling, hinted with a forward-training one (`hinted_forward` makes that forward
        primitive: a max pooling's backward reads the argmax its forward wrote to the workspace)."""
        hint = self._pd("dnnl_pooling_forward_primitive_desc_create", self.engine, FORWARD_TRAINING, algorithm,
                        diff_src, diff_dst, *map(dims, geometry), self._attr.handle)
        backward = self._primitive("dnnl_pooling_backward_primitive_desc_create", self.engine, algorithm, diff_src,
                                   diff_dst, *map(dims, geometry), hint.handle, self._attr.handle, hint=hint)
        return backward

    def hinted_forward(self, backward: Primitive) -> Primitive:
        """The forward primitive of the descriptor `backward` was hinted with."""
        return Primitive(self, backward._hint)

    def matmul(self, src: int, weights: int, dst: int) -> Primitive:
        """dst = src @ weights, each operand a descriptor of its logical 2-D shape and its strides."""
        return self._primitive("dnnl_matmul_primitive_desc_create", self.engine, src, weights, None, dst,
                               self._attr.handle)

    def reorder(self, src: int, dst: int) -> Primitive:
        return self._primitive("dnnl_reorder_primitive_desc_create", src, self.engine, dst, self.engine,
                               self._attr.handle)

    def memory(self, desc: int, keep: Any = None) -> Memory:
        return Memory(self, desc, keep)

    def execute(self, primitive: Primitive, args: Any) -> None:
        """Runs `primitive` on this library's stream with `args` (an ExecArg array) and waits for it."""
        self.check("dnnl_primitive_execute",
                   self.dll.dnnl_primitive_execute(primitive.handle, self.stream, len(args), args))
        self.check("dnnl_stream_wait", self.dll.dnnl_stream_wait(self.stream))


def exec_args(pairs: Sequence[tuple[int, Memory]]) -> Any:
    """An ExecArg array binding each argument number to its memory object."""
    array = (ExecArg * len(pairs))()
    for slot, (arg, memory) in zip(array, pairs, strict=True):
        slot.arg = arg
        slot.memory = memory.handle
    return array


# ------------------------------------------------------------------ loading
_library: Library | None = None
_load_lock = threading.Lock()


def find_library_path() -> str | None:
    """libdnnl.so.3 under the environment's prefix or its base interpreter's (where the onednn-cpu-gomp
    wheel puts it: `caudal.backends.fast_cpu.onednn_library_path`), else where the system's loader finds
    libdnnl; None when none has it."""
    from caudal.backends import fast_cpu

    return fast_cpu.onednn_library_path() or ctypes.util.find_library("dnnl")


def open_library(path: str) -> Library:
    """Loads the oneDNN library at `path` (uncached). Raises OSError when it cannot be loaded, ImportError when
    it is not oneDNN 3.x."""
    return Library(path)


def load() -> Library:
    """The process's oneDNN library, loaded on first use.

    Raises OSError when libdnnl is not installed or fails to load, and ImportError when it is not oneDNN 3.x.
    """
    global _library
    with _load_lock:
        if _library is None:
            path = find_library_path()
            if path is None:
                raise OSError("oneDNN (libdnnl.so.3) was not found under "
                              f"{os.path.join(sys.prefix, 'lib')} nor on the library path: install caudal's "
                              "'fast' extra (pip install onednn-cpu-gomp)")
            thread_policy.bound_openmp_waits()
            _library = open_library(path)
        return _library


# ------------------------------------------------------------------ threads
_threads: int = 0  # the count set_num_threads asked for; 0 before any call
_default_threads: int = 0  # omp_get_max_threads() when libgomp was first opened here
_thread_state = threading.local()
_gomp: Any = None


def _libgomp() -> Any:
    global _gomp, _default_threads
    if _gomp is None:
        gomp = ctypes.CDLL("libgomp.so.1")  # the one libdnnl was linked with, already loaded with it
        gomp.omp_set_num_threads.argtypes = [ctypes.c_int]
        gomp.omp_set_num_threads.restype = None
        gomp.omp_get_max_threads.argtypes = []
        gomp.omp_get_max_threads.restype = ctypes.c_int
        _default_threads = int(gomp.omp_get_max_threads())
        _gomp = gomp
    return _gomp


def set_num_threads(count: int) -> None:
    """Runs oneDNN's parallel regions on `count` OpenMP threads (0: OpenMP's default, from OMP_NUM_THREADS
    or the cores).

    libgomp keeps the count per calling thread, so `apply_num_threads` applies it in
    each thread that runs a kernel.
    """
    global _threads
    if count < 0:
        raise ValueError(f"the thread count must be 0 or positive, got {count}")
    _libgomp()
    _threads = int(count) or _default_threads
    apply_num_threads()


def apply_num_threads() -> int:
    """Applies the count of `set_num_threads` to the calling thread, if it has not been yet; the count (0 when
    none was set)."""
    if _threads and getattr(_thread_state, "applied", 0) != _threads:
        _gomp.omp_set_num_threads(_threads)
        _thread_state.applied = _threads
    return _threads


def apply_thread_count(count: int) -> int:
    """Sets the calling thread's OpenMP thread count to `count` when it differs; returns `count`."""
    if getattr(_thread_state, "applied", 0) != count:
        _libgomp().omp_set_num_threads(count)
        _thread_state.applied = count
    return count


def forget_thread_count() -> None:
    """Makes the next `apply_thread_count` or `apply_num_threads` in the calling thread set OpenMP's count
    again: another user of the one libgomp changed it (numba's OpenMP layer does when it starts)."""
    _thread_state.applied = 0


_from_buffer = ctypes.c_char.from_buffer
_addressof = ctypes.addressof


def address(array: Any) -> int:
    """The address of a C-contiguous array's first byte: `array.ctypes.data` in a third of its time (a
    ctypes view of a writable buffer; read-only arrays take the slower way)."""
    try:
        return _addressof(_from_buffer(array))
    except (TypeError, ValueError):
        return array.ctypes.data


def max_threads() -> int:
    """libgomp's omp_get_max_threads() in the calling thread (what oneDNN's next parallel region uses)."""
    return int(_libgomp().omp_get_max_threads())
