"""RandomUniform of float32 on the fast_cpu backend: NumPy's PCG64 numbers drawn by one numba loop.

The numpy backend's streams are NumPy Generators on PCG64, and its RandomUniform of float32 is
`Generator.random(dtype=float32)`, one C call per value. The loop
(`_loop_kernels.pcg64_uniform_f32`) draws the same numbers and leaves the generator in the same
state, split between threads by jumping ahead in the stream, and in each thread stepping four runs
of it together (100,000 values on one thread: 61 us, 90 us as one run, 150 us in NumPy's draw). It
reads and writes the state where NumPy keeps it: `PcgStream`, the fast_cpu backend's stream, holds
arrays over that memory, checked once per process against what NumPy's `state` reports
(`_pcg_memory`); where the layout is not the one checked, the ops run NumPy's draw.
"""
from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from caudal.backends.fast_cpu import loops
from caudal.backends.numpy_backend import NumpyRandomStream

__all__ = ["VARIANTS", "PcgStream", "MIN_RANDOM_SIZE"]

# RandomUniform of fewer values runs NumPy's draw, as fast below this.
MIN_RANDOM_SIZE = 1 << 11
_VALUE_FLOPS = 128  # a float32 value takes about a nanosecond on one thread: sized as that much arithmetic
_LOW_64 = (1 << 64) - 1
_NUMPY_RANDOM_UNIFORM = loops._fallback("RandomUniform")
_layout_checked: bool | None = None  # whether the probe generator's memory read as NumPy's state


def _arrays_over(bit_generator: Any) -> tuple[Any, Any]:
    """(words, kept): uint64[4] over the 128-bit state and increment of a PCG64 bit generator and
    uint32[2] over its kept half (has_uint32, uinteger), at the addresses NumPy's C struct puts them
    (`pcg64_state`: a pointer to the state and increment, then the two 32-bit fields)."""
    address = bit_generator.ctypes.state_address
    pointer = ctypes.c_void_p.from_address(address).value
    words = np.ctypeslib.as_array((ctypes.c_uint64 * 4).from_address(pointer))
    kept = np.ctypeslib.as_array((ctypes.c_uint32 * 2).from_address(address + ctypes.sizeof(ctypes.c_void_p)))
    return words, kept


def _word_order(bit_generator: Any, words: Any, kept: Any) -> bool | None:
    """Whether `words` hold each 128-bit number low word first (True) or high word first (False), as
    the generator's `state` reports them with `kept`'s half; None when they do not read as it."""
    state = bit_generator.state
    numbers = [state["state"]["state"], state["state"]["inc"]]
    if [int(kept[0]), int(kept[1])] != [state["has_uint32"], state["uinteger"]]:
        return None
    w = [int(x) for x in words]
    if [(w[1] << 64) | w[0], (w[3] << 64) | w[2]] == numbers:
        return True
    if [(w[0] << 64) | w[1], (w[2] << 64) | w[3]] == numbers:
        return False
    return None


def _pcg_memory(bit_generator: Any) -> tuple[Any, Any, bool] | None:
    """(words, kept, low_first) over the generator's state (see `_arrays_over`), or None where it
    is not a PCG64 laid out as checked: once per process on a probe whose kept half is set, which
    must read as its `state` and take a state written through the arrays; then for each generator."""
    global _layout_checked
    if type(bit_generator) is not np.random.PCG64:
        return None
    try:
        if _layout_checked is None:
            probe = np.random.PCG64(12345)
            np.random.Generator(probe).random(1, dtype=np.float32)  # keeps a half: has_uint32 = 1
            words, kept = _arrays_over(probe)
            low_first = _word_order(probe, words, kept)
            _layout_checked = low_first is not None and int(kept[0]) == 1
            if _layout_checked:  # a write through the arrays is what `state` then reports
                before = probe.state["state"]["state"]
                words[0] ^= np.uint64(1)
                kept[0] = 0
                state = probe.state
                _layout_checked = state["has_uint32"] == 0 and (
                    state["state"]["state"] == before ^ (1 if low_first else 1 << 64))
        if not _layout_checked:
            return None
        words, kept = _arrays_over(bit_generator)
        low_first = _word_order(bit_generator, words, kept)
    except (AttributeError, TypeError, ValueError, KeyError):
        _layout_checked = False
        return None
    return None if low_first is None else (words, kept, low_first)


class PcgStream(NumpyRandomStream):
    """The numpy backend's random stream, with the arrays over its PCG64 generator's state that the
    RandomUniform loop draws from (`memory`)."""

    __slots__ = ("_memory",)

    def __init__(self, seed: int, seed2: int):
        super().__init__(seed, seed2)
        self._memory: tuple | None = None

    def memory(self) -> tuple[Any, Any, bool] | None:
        """(words, kept, low_first) of `_pcg_memory` for the generator the stream holds now."""
        bit_generator = self.generator.bit_generator
        found = self._memory
        if found is None or found[0] is not bit_generator:
            found = self._memory = (bit_generator, _pcg_memory(bit_generator))
        return found[1]


def random_uniform(ctx: Any, shape: Any, *, dtype: Any, op: Any) -> Any:
    """RandomUniform: float32 values of a PcgStream of `MIN_RANDOM_SIZE` or more by the loop, the
    rest by the NumPy variant (which raises TF's errors for bad shapes)."""
    stream = ctx.random_stream(op)
    memory = None
    size = 0
    if getattr(dtype, "as_numpy_dtype", None) is np.float32 and type(stream) is PcgStream:
        dims = (shape if type(shape) is np.ndarray and shape.ndim == 1 else np.asarray(shape).reshape(-1)).tolist()
        size = 1
        for d in dims:
            size *= d if d >= 0 else 0
        if size >= MIN_RANDOM_SIZE and loops._loaded_or_worth(size):
            memory = stream.memory()
    if memory is None:
        return loops._numpy_pass_over(size, _NUMPY_RANDOM_UNIFORM, ctx, shape, dtype=dtype, op=op)
    words, kept, low_first = memory
    loop = loops._kernels().pcg64_uniform_f32
    out = np.empty(dims, np.float32)
    count = loops._threads_for_flops(size * _VALUE_FLOPS)
    chunks = count if count is not None else loops._numba.get_num_threads()
    loops._run_on(count, loop, out.reshape(-1), words, kept, low_first, chunks)
    return out


VARIANTS = {"RandomUniform": loops._guarded(random_uniform, _NUMPY_RANDOM_UNIFORM)}
