"""The numba loops of the fast_cpu backend against the NumPy kernels they replace: ms per op.

LeNet shapes at batch 128: activations 28x28x32, 14x14x64 and 7x7x128 (NHWC),
pooled 2x2 stride 2 SAME; optimizer updates over 1.2M float32 values. Each op
is called directly with NumPy arrays. NumPy's figure is its variant (the
kernel a `numpy` Session runs); for ReluGrad and BiasAdd, whose NumPy
plans write into a dead input instead when they can, the in-place form is
timed too ("in place", on the same buffer each call). A figure is the median (and the best) of `--runs`
timed calls after `--warmup` untimed ones; on a machine shared with other work
the best is the steadier figure. The first lines report how long compiling
(or loading from numba's cache) every kernel took and the threading layer.

The "mixed step" row times a convolution (oneDNN's, on GNU OpenMP, where it
loads), then BiasAdd, MaxPool and its gradient, then a BLAS product, in a loop:
the pattern of a training step, where numba's threads follow OpenMP's and
OpenBLAS's. Run the script with
NUMBA_THREADING_LAYER=omp and =workqueue to compare the layers.

    python benchmarks/loop_kernels.py [--runs 20] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from caudal.backends.fast_cpu import loops  # noqa: E402
from caudal.backends.numpy_backend import tune_malloc  # noqa: E402
from caudal.framework.registry import get_op_def  # noqa: E402

BATCH = 128
ACTIVATIONS = [(BATCH, 28, 28, 32), (BATCH, 14, 14, 64), (BATCH, 7, 7, 128)]
POOL = dict(ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME", data_format="NHWC")
MAX_POOL = dict(POOL, explicit_paddings=[])
UPDATE_SIZE = 1_200_000


def _times_ms(call, runs: int, warmup: int) -> tuple[float, float]:
    """(median, best) milliseconds of `runs` calls."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), min(times)


def _numpy(op_type: str):
    op_def = get_op_def(op_type)
    return op_def.variants.get("numpy", op_def.kernel)


class _Context:
    """The part of a run context the Apply kernels use."""

    xp = np

    def __init__(self, values: dict):
        self.variables = dict(values)

    def read(self, name: str):
        return self.variables[name]

    def write(self, name: str, value) -> None:
        self.variables[name] = value


def _cases(rng: np.random.Generator) -> list[tuple[str, str, object, object, object]]:
    """(op, shape text, numpy call, numpy in-place call or None, numba call)."""
    cases = []
    for shape in ACTIVATIONS:
        x = rng.standard_normal(shape).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        bias = rng.standard_normal(shape[-1]).astype(np.float32)
        text = "x".join(map(str, shape[1:]))
        y = _numpy("MaxPool")(np, x, explicit_paddings=[], **POOL)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        sizes = np.array(shape, np.int32)

        def in_place(fn, *arrays, **attrs):
            """fn writing into a copy of its first input, again and again (its cost does not change)."""
            scratch = arrays[0].copy()
            return lambda: fn(np, scratch, *arrays[1:], **attrs)

        cases += [
            ("MaxPool", text, lambda x=x: _numpy("MaxPool")(np, x, **MAX_POOL), None,
             lambda x=x: loops.VARIANTS["MaxPool"](np, x, **MAX_POOL)),
            ("MaxPoolGrad", text, lambda x=x, y=y, dy=dy: _numpy("MaxPoolGrad")(np, x, y, dy, **MAX_POOL), None,
             lambda x=x, y=y, dy=dy: loops.VARIANTS["MaxPoolGrad"](np, x, y, dy, **MAX_POOL)),
            ("AvgPool", text, lambda x=x: _numpy("AvgPool")(np, x, **POOL), None,
             lambda x=x: loops.VARIANTS["AvgPool"](np, x, **POOL)),
            ("AvgPoolGrad", text, lambda s=sizes, dy=dy: _numpy("AvgPoolGrad")(np, s, dy, **POOL), None,
             lambda s=sizes, dy=dy: loops.VARIANTS["AvgPoolGrad"](np, s, dy, **POOL)),
            ("ReluGrad", text, lambda g=g, x=x: _numpy("ReluGrad")(np, g, x),
             in_place(get_op_def("ReluGrad").inplace, g, x), lambda g=g, x=x: loops.VARIANTS["ReluGrad"](np, g, x)),
            ("BiasAdd", text, lambda x=x, b=bias: _numpy("BiasAdd")(np, x, b, data_format="NHWC"),
             in_place(get_op_def("BiasAdd").inplace, x, bias, data_format="NHWC"),
             lambda x=x, b=bias: loops.VARIANTS["BiasAdd"](np, x, b, data_format="NHWC")),
        ]
    f32 = np.float32
    updates = {
        "ApplyGradientDescent": ((), (f32(0.1),), {}),
        "ApplyMomentum": (("accum",), (f32(0.01), None, f32(0.9)), {"use_nesterov": False}),
        "ApplyAdam": (("m", "v"), (f32(0.5), f32(0.9), f32(0.001), f32(0.9), f32(0.999), f32(1e-8), None),
                      {"use_nesterov": False}),
        "ApplyRMSProp": (("ms", "mom"), (f32(0.001), f32(0.9), f32(0.9), f32(1e-10), None), {}),
    }
    grad = rng.standard_normal(UPDATE_SIZE).astype(np.float32)
    for op_type, (slots, scalars, attrs) in updates.items():
        values = {name: rng.uniform(0, 1, UPDATE_SIZE).astype(np.float32) for name in ("var", *slots)}
        inputs = [np.asarray(s) if s is not None else grad for s in scalars]
        if op_type == "ApplyGradientDescent":
            inputs.append(grad)
        kwargs = dict(attrs, var="var", op=SimpleNamespace(type=op_type))
        if slots:
            kwargs["slots"] = slots
        cases.append((op_type, "1.2M", lambda o=op_type, v=values, i=inputs, k=kwargs: _numpy(o)(_Context(v), *i, **k),
                      None, lambda o=op_type, v=values, i=inputs, k=kwargs: loops.VARIANTS[o](_Context(v), *i, **k)))
    return cases


def _mixed_step(rng: np.random.Generator):
    """A convolution (oneDNN's where it loads, else NumPy's), BiasAdd, MaxPool, MaxPoolGrad, then a BLAS
    product of the pooled features (28x28x32 at batch 128), with NumPy's loops or numba's."""
    x = rng.standard_normal((BATCH, 28, 28, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 32)).astype(np.float32)
    bias = rng.standard_normal(32).astype(np.float32)
    dense = rng.standard_normal((14 * 14 * 32, 256)).astype(np.float32)
    conv_attrs = dict(strides=[1, 1, 1, 1], padding="SAME", explicit_paddings=[], data_format="NHWC",
                      dilations=[1, 1, 1, 1])
    conv = _numpy("Conv2D")
    try:
        from caudal.backends.fast_cpu import onednn

        onednn.prepare()
        conv = onednn.VARIANTS.get("Conv2D", conv)
    except (ImportError, OSError):
        pass

    def step(kernel):
        h = kernel("BiasAdd")(np, conv(np, x, w, **conv_attrs), bias, data_format="NHWC")
        y = kernel("MaxPool")(np, h, **MAX_POOL)
        kernel("MaxPoolGrad")(np, h, y, y, **MAX_POOL)
        return y.reshape(BATCH, -1) @ dense

    return (lambda: step(_numpy)), (lambda: step(lambda op_type: loops.VARIANTS[op_type]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="numba threads (0: numba's default)")
    args = parser.parse_args()
    tune_malloc()  # as the first Session does: big buffers are reused, not page-faulted in again
    loops.prepare()
    seconds = loops.compile_all()
    import numba

    if args.threads:
        loops.set_num_threads(args.threads)
    ones = np.ones(loops.MIN_ELEMENTWISE_SIZE, np.float32)
    loops.VARIANTS["ReluGrad"](np, ones, ones)
    print(f"compile_all: {seconds:.2f} s (cache {numba.config.CACHE_DIR or 'next to the package'}); "
          f"threading layer {numba.threading_layer()}, {numba.get_num_threads()} threads")
    rng = np.random.default_rng(0)
    header = (f"{'op':<22}{'shape':>10}{'numpy ms':>16}{'in place ms':>16}{'numba ms':>16}"
              f"{'speed-up':>10}")
    print(header)
    print("-" * len(header))
    cases = _cases(rng)
    mixed_numpy, mixed_numba = _mixed_step(rng)
    cases.append(("mixed step", "28x28x32", mixed_numpy, None, mixed_numba))
    for op_type, text, numpy_call, in_place, numba_call in cases:
        numpy_ms, numpy_best = _times_ms(numpy_call, args.runs, args.warmup)
        numba_ms, numba_best = _times_ms(numba_call, args.runs, args.warmup)
        place = "-"
        if in_place is not None:
            place_ms, place_best = _times_ms(in_place, args.runs, args.warmup)
            place = f"{place_ms:.2f} ({place_best:.2f})"
        print(f"{op_type:<22}{text:>10}{f'{numpy_ms:.2f} ({numpy_best:.2f})':>16}{place:>16}"
              f"{f'{numba_ms:.2f} ({numba_best:.2f})':>16}{numpy_ms / numba_ms:>9.1f}x")


if __name__ == "__main__":
    main()
